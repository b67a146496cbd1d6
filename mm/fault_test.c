/* Tests of the page-fault path on user addresses (mm/fault.c).
 *
 * Each case runs in a fresh address space made active with mm_switch(), so
 * that copy_to_user()/copy_from_user() fault through the real #PF path;
 * other cases call handle_mm_fault() directly and inspect the PTEs with
 * pt_lookup(). Every case ends by destroying the mm and checking that
 * pmm_free_pages() is back where it started (no frame or table leaked). */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/signal.h>
#include <pagoda/slab.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <pagoda/vma.h>

#define BASE 0x0000100000000000UL /* 16 TiB: a PML4 slot of its own */
#define P PAGE_SIZE

static long map_anon(struct mm_struct *mm, uintptr_t addr, size_t len, int prot, int flags)
{
	return do_mmap(mm, addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | flags,
		       NULL, 0);
}

static bool mapped(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0;
}


MM_CASE(fault_fresh_anon_mapping_has_no_pte)
{
	struct pt_lookup_result r;

	KASSERT_EQ(t, map_anon(mm, BASE, 4 * P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	for (uintptr_t va = BASE; va < BASE + 4 * P; va += P)
		KEXPECT_EQ(t, pt_lookup(mm->pgd, va, &r), -ENOENT);
}

MM_CASE(fault_read_of_untouched_page_returns_zeroes_and_maps_it)
{
	uint8_t *buf = kmalloc(P, GFP_KERNEL);
	struct pt_lookup_result r;
	size_t nonzero = 0;

	KASSERT_NOT_NULL(t, buf);
	memset(buf, 0xa5, P);
	KEXPECT_EQ(t, map_anon(mm, BASE, 2 * P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	KEXPECT_EQ(t, copy_from_user(buf, (const void *)(BASE + P), P), 0);
	for (size_t i = 0; i < P; i++)
		nonzero += buf[i] != 0;
	KEXPECT_EQ(t, nonzero, 0);
	KEXPECT_EQ(t, pt_lookup(mm->pgd, BASE + P, &r), 0);
	KEXPECT_TRUE(t, r.pte & PTE_USER);
	KEXPECT_FALSE(t, mapped(mm, BASE)); /* only the page touched */
	kfree(buf);
}

MM_CASE(fault_write_via_copy_to_user_reads_back)
{
	uint64_t in[4] = { 0x1122334455667788ULL, 2, 3, ~0ULL }, out[4] = { 0 };
	struct pt_lookup_result r;

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	KEXPECT_EQ(t, copy_to_user((void *)(BASE + 64), in, sizeof(in)), 0);
	KEXPECT_EQ(t, copy_from_user(out, (const void *)(BASE + 64), sizeof(out)), 0);
	KEXPECT_EQ(t, memcmp(in, out, sizeof(in)), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, BASE, &r), 0);
	KEXPECT_TRUE(t, r.pte & PTE_WRITE);
	KEXPECT_EQ(t, pfn_to_page(phys_to_pfn(r.phys))->refcount, 1);
}

/* A write fault's frame reads as zeroes although the allocator hands out
 * frames as they were left: dirty some frames, free them (this CPU's list
 * gives them back first) and fault. */
MM_CASE(fault_write_fault_gets_a_zeroed_frame_not_what_was_freed)
{
	enum { DIRTY = 8 };
	struct page *dirty[DIRTY];
	struct pt_lookup_result r;
	const uint8_t *data;
	size_t nonzero = 0;
	bool reused = false;

	for (int i = 0; i < DIRTY; i++) {
		KASSERT_NOT_NULL(t, dirty[i] = alloc_page(GFP_KERNEL));
		memset(page_address(dirty[i]), 0xa5, P);
	}
	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	for (int i = 0; i < DIRTY; i++)
		free_pages(dirty[i], 0);
	KASSERT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KASSERT_EQ(t, pt_lookup(mm->pgd, BASE, &r), 0);
	for (int i = 0; i < DIRTY; i++)
		reused |= page_to_phys(dirty[i]) == r.phys;
	data = page_address(pfn_to_page(phys_to_pfn(r.phys)));
	for (size_t i = 0; i < P; i++)
		nonzero += data[i] != 0;
	KEXPECT_EQ(t, nonzero, 0);
	if (!reused)
		ktest_log(t, "the fault's frame was not one of those just freed");
}

MM_CASE(fault_outside_any_vma_is_sigsegv)
{
	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	KASSERT_EQ(t, map_anon(mm, BASE + 4 * P, P, PROT_READ | PROT_WRITE, 0),
		   (long)(BASE + 4 * P));
	/* In the hole between two VMAs (vma_find() returns the upper one). */
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + 2 * P, 0), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + 2 * P, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
	/* Above every VMA, below every VMA, and past the user half. */
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + 5 * P, 0), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, handle_mm_fault(mm, USER_SPACE_START, 0), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, handle_mm_fault(mm, 0, 0), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, handle_mm_fault(mm, USER_SPACE_END, 0), VM_FAULT_SIGSEGV);
	KEXPECT_FALSE(t, mapped(mm, BASE + 2 * P));
	KEXPECT_FALSE(t, mapped(mm, BASE + 5 * P));
	/* The VMAs themselves do fault in. */
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + 4 * P + 8, 0), VM_FAULT_OK);
	KEXPECT_TRUE(t, mapped(mm, BASE + 4 * P));
}

MM_CASE(fault_write_to_read_only_vma_is_sigsegv)
{
	struct pt_lookup_result r;

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ, 0), (long)BASE);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
	KEXPECT_FALSE(t, mapped(mm, BASE));
	/* Read faults it in read-only; a write to the present page is still refused. */
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, 0), VM_FAULT_OK);
	KASSERT_EQ(t, pt_lookup(mm->pgd, BASE, &r), 0);
	KEXPECT_FALSE(t, r.pte & PTE_WRITE);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE | FAULT_FLAG_USER),
		   VM_FAULT_SIGSEGV);
}

MM_CASE(fault_exec_on_non_exec_vma_is_sigsegv)
{
	struct pt_lookup_result r;

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	KASSERT_EQ(t, map_anon(mm, BASE + 2 * P, P, PROT_READ | PROT_EXEC, 0),
		   (long)(BASE + 2 * P));
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_INSTR | FAULT_FLAG_USER),
		   VM_FAULT_SIGSEGV);
	KEXPECT_FALSE(t, mapped(mm, BASE));
	/* An exec VMA allows it, and its page is executable. */
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + 2 * P, FAULT_FLAG_INSTR | FAULT_FLAG_USER),
		   VM_FAULT_OK);
	KASSERT_EQ(t, pt_lookup(mm->pgd, BASE + 2 * P, &r), 0);
	KEXPECT_FALSE(t, r.pte & PTE_NX);
}

MM_CASE(fault_on_prot_none_vma_is_sigsegv)
{
	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_NONE, 0), (long)BASE);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, 0), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_USER), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_INSTR), VM_FAULT_SIGSEGV);
	KEXPECT_FALSE(t, mapped(mm, BASE));
}

MM_CASE(fault_below_growsdown_vma_extends_it)
{
	uintptr_t top = BASE + 64 * P;
	struct vm_area_struct *v;
	uint64_t total = 0;

	KASSERT_EQ(t, map_anon(mm, top - P, P, PROT_READ | PROT_WRITE, MAP_GROWSDOWN),
		   (long)(top - P));
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, top - P));
	KEXPECT_TRUE(t, v->vm_flags & VM_GROWSDOWN);
	total = mm->total_vm;
	KEXPECT_EQ(t, handle_mm_fault(mm, top - P - 8, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KEXPECT_EQ(t, v->vm_start, top - 2 * P);
	KEXPECT_TRUE(t, mapped(mm, top - 2 * P));
	/* Several pages below at once: the VMA covers the whole run. */
	KEXPECT_EQ(t, handle_mm_fault(mm, top - 10 * P, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KEXPECT_EQ(t, v->vm_start, top - 10 * P);
	KEXPECT_EQ(t, vma_lookup(mm, top - 5 * P), v);
	KEXPECT_EQ(t, mm->total_vm, total + 9);
	/* Through copy_to_user, as a kernel writing a signal frame would. */
	KEXPECT_EQ(t, clear_user((void *)(top - 12 * P), 16), 0);
	KEXPECT_EQ(t, v->vm_start, top - 12 * P);
}

MM_CASE(fault_growsdown_stops_at_guard_gap)
{
	uintptr_t below_end = BASE + P, start = below_end + STACK_GUARD_GAP + 2 * P;
	struct vm_area_struct *v;

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	KASSERT_EQ(t, map_anon(mm, start, P, PROT_READ | PROT_WRITE, MAP_GROWSDOWN), (long)start);
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, start));
	KEXPECT_EQ(t, handle_mm_fault(mm, start - P, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KEXPECT_EQ(t, v->vm_start, start - P);
	/* One page into the gap: refused, nothing changes. */
	KEXPECT_EQ(t, handle_mm_fault(mm, below_end + STACK_GUARD_GAP - P, FAULT_FLAG_WRITE),
		   VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, v->vm_start, start - P);
	KEXPECT_FALSE(t, mapped(mm, below_end + STACK_GUARD_GAP - P));
	/* Right at the edge of the gap: allowed (Linux: address - prev->vm_end
	 * < stack_guard_gap is the refusal). */
	KEXPECT_EQ(t, handle_mm_fault(mm, below_end + STACK_GUARD_GAP, FAULT_FLAG_WRITE),
		   VM_FAULT_OK);
	KEXPECT_EQ(t, v->vm_start, below_end + STACK_GUARD_GAP);
}

MM_CASE(fault_growsdown_stops_at_8mib)
{
	uintptr_t top = BASE + 2 * STACK_LIMIT_DEFAULT;
	struct vm_area_struct *v;

	KASSERT_EQ(t, map_anon(mm, top - P, P, PROT_READ | PROT_WRITE, MAP_GROWSDOWN),
		   (long)(top - P));
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, top - P));
	KEXPECT_EQ(t, handle_mm_fault(mm, top - STACK_LIMIT_DEFAULT, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KEXPECT_EQ(t, v->vm_start, top - STACK_LIMIT_DEFAULT);
	KEXPECT_EQ(t, handle_mm_fault(mm, top - STACK_LIMIT_DEFAULT - 1, FAULT_FLAG_WRITE),
		   VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, v->vm_start, top - STACK_LIMIT_DEFAULT);
	KEXPECT_FALSE(t, mapped(mm, top - STACK_LIMIT_DEFAULT - P));
}

MM_CASE(fault_oom_on_demand_page_returns_oom_and_maps_nothing)
{
	uint64_t tables = pt_table_pages();

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	/* The frame itself cannot be had. */
	pmm_fail_next(1);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_OOM);
	pmm_fail_next(0);
	KEXPECT_FALSE(t, mapped(mm, BASE));
	/* The frame is had but a page-table page is not. */
	pmm_fail_after(1);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_OOM);
	pmm_fail_after(PMM_NO_FAIL);
	KEXPECT_FALSE(t, mapped(mm, BASE));
	KEXPECT_EQ(t, pt_table_pages(), tables);
	/* With memory back, the same fault succeeds. */
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KEXPECT_TRUE(t, mapped(mm, BASE));
}

/* A VM_PFNMAP VMA is filled up front by remap_pfn_range(): a hole in it has
 * no page to supply, and demand-zero would put RAM in a device mapping. */
MM_CASE(fault_pfnmap_vma_without_pte_is_sigbus)
{
	struct vm_area_struct *v;

	KASSERT_EQ(t, map_anon(mm, BASE, 2 * P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, BASE));
	v->vm_flags |= VM_PFNMAP | VM_IO;
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + P, 0), VM_FAULT_SIGBUS);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_SIGBUS);
	KEXPECT_FALSE(t, mapped(mm, BASE));
	KEXPECT_FALSE(t, mapped(mm, BASE + P));
	v->vm_flags &= ~(VM_PFNMAP | VM_IO);
}

/* A driver whose fault operation refuses the page (a device gone, a
 * range past what it holds). */
static vm_fault_t refusing_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}
static const struct vm_operations_struct refusing_ops = { .fault = refusing_fault };

MM_CASE(fault_driver_refusal_is_sigbus_adrerr_not_sigsegv)
{
	struct vm_area_struct *v;
	int code = -1;

	KASSERT_EQ(t, map_anon(mm, BASE, 2 * P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, BASE));
	v->vm_ops = &refusing_ops;
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + P + 5, FAULT_FLAG_USER), VM_FAULT_SIGBUS);
	KEXPECT_EQ(t, mm_fault_signal(mm, BASE + P + 5, VM_FAULT_SIGBUS, &code), SIGBUS);
	KEXPECT_EQ(t, code, BUS_ADRERR);
	v->vm_ops = NULL;
}

/* The si_code tells "nothing mapped there" from "mapped, but not for
 * this access", as Linux's bad_area() and bad_area_access_error() do. */
MM_CASE(fault_signal_code_tells_no_mapping_from_protection)
{
	int code = -1;

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ, 0), (long)BASE);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, mm_fault_signal(mm, BASE, VM_FAULT_SIGSEGV, &code), SIGSEGV);
	KEXPECT_EQ(t, code, SEGV_ACCERR);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + P, 0), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, mm_fault_signal(mm, BASE + P, VM_FAULT_SIGSEGV, &code), SIGSEGV);
	KEXPECT_EQ(t, code, SEGV_MAPERR);
	KEXPECT_EQ(t, mm_fault_signal(mm, USER_SPACE_END + P, VM_FAULT_SIGSEGV, &code), SIGSEGV);
	KEXPECT_EQ(t, code, SEGV_MAPERR);
	KEXPECT_EQ(t, mm_fault_signal(NULL, BASE, VM_FAULT_SIGSEGV, &code), SIGSEGV);
	KEXPECT_EQ(t, code, SEGV_MAPERR);
}

/* Out of memory is no signal at all: the OOM killer decides who dies. */
MM_CASE(fault_oom_and_success_are_no_signal)
{
	int code = -1;

	KEXPECT_EQ(t, mm_fault_signal(mm, BASE, VM_FAULT_OOM, &code), 0);
	KEXPECT_EQ(t, mm_fault_signal(mm, BASE, VM_FAULT_OK, &code), 0);
	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE, 0), (long)BASE);
	pmm_fail_next(1);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE | FAULT_FLAG_USER), VM_FAULT_OOM);
	pmm_fail_next(0);
}

static const struct ktest_case fault_cases[] = {
	KTEST_CASE(fault_fresh_anon_mapping_has_no_pte),
	KTEST_CASE(fault_read_of_untouched_page_returns_zeroes_and_maps_it),
	KTEST_CASE(fault_write_fault_gets_a_zeroed_frame_not_what_was_freed),
	KTEST_CASE(fault_write_via_copy_to_user_reads_back),
	KTEST_CASE(fault_outside_any_vma_is_sigsegv),
	KTEST_CASE(fault_write_to_read_only_vma_is_sigsegv),
	KTEST_CASE(fault_exec_on_non_exec_vma_is_sigsegv),
	KTEST_CASE(fault_on_prot_none_vma_is_sigsegv),
	KTEST_CASE(fault_below_growsdown_vma_extends_it),
	KTEST_CASE(fault_growsdown_stops_at_guard_gap),
	KTEST_CASE(fault_growsdown_stops_at_8mib),
	KTEST_CASE(fault_oom_on_demand_page_returns_oom_and_maps_nothing),
	KTEST_CASE(fault_pfnmap_vma_without_pte_is_sigbus),
	KTEST_CASE(fault_driver_refusal_is_sigbus_adrerr_not_sigsegv),
	KTEST_CASE(fault_signal_code_tells_no_mapping_from_protection),
	KTEST_CASE(fault_oom_and_success_are_no_signal),
};
KTEST_SUITE(fault, fault_cases);
