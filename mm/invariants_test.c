/* Tests of the invariant checker (mm/invariants.c): a clean address space
 * passes, and each kind of damage planted in a scratch mm (a wrong
 * reference count, a free frame still mapped, a writable COW page...) is
 * reported under its own rule and no other. Every plant is undone before
 * the case ends, so the leak check of ktest_run_in_mm() still holds. */
#include <pagoda/invariants.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/pt_share.h>
#include <pagoda/slab.h>
#include <pagoda/vma.h>

#define BASE 0x0000100000000000UL /* 16 TiB */
#define HOLE 0x0000300000000000UL /* no VMA here */
#define P PAGE_SIZE

/* Run the checker over mm (and child, if any) into a fresh report. */
static struct inv_report *check(struct mm_struct *mm, struct mm_struct *child,
				unsigned int flags)
{
	struct inv_report *r = kzalloc(sizeof(*r), GFP_KERNEL);
	struct inv_space sp[2] = { { mm, 1, 0 }, { child, 2, 0 } };

	if (r)
		inv_check(sp, mm ? (child ? 2 : 1) : 0, flags, r);
	return r;
}

static uint64_t total_except(const struct inv_report *r, enum inv_kind k)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < NR_INV; i++)
		if (i != k)
			n += r->violations[i];
	return n;
}

/* The planted damage is reported under rule k alone, exactly once. */
static void expect_only(struct ktest *t, struct mm_struct *mm, struct mm_struct *child,
			unsigned int flags, enum inv_kind k)
{
	struct inv_report *r = check(mm, child, flags);

	KASSERT_NOT_NULL(t, r);
	if (r->violations[k] != 1 || total_except(r, k))
		ktest_log(t, "rule %s: %llu; first messages: %s / %s", inv_name(k),
			  (unsigned long long)r->violations[k], r->lines[k][0],
			  r->lines[INV_REFCOUNTS][0]);
	KEXPECT_EQ(t, r->violations[k], 1);
	KEXPECT_EQ(t, total_except(r, k), 0);
	kfree(r);
}

static void expect_clean(struct ktest *t, struct mm_struct *mm, struct mm_struct *child,
			 unsigned int flags)
{
	struct inv_report *r = check(mm, child, flags);

	KASSERT_NOT_NULL(t, r);
	for (unsigned int k = 0; k < NR_INV; k++) {
		if (r->violations[k])
			ktest_log(t, "%s: %s", inv_name(k), r->lines[k][0]);
		KEXPECT_EQ(t, r->violations[k], 0);
		KEXPECT_NULL(t, r->skip[k]);
	}
	kfree(r);
}

static struct page *page_at(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result res;

	return pt_lookup(mm->pgd, va, &res) == 0 ? pfn_to_page(phys_to_pfn(res.phys)) : NULL;
}

/* Four private pages at BASE: two written, one read, one untouched. */
static bool setup(struct ktest *t, struct mm_struct *mm)
{
	bool ok = do_mmap(mm, BASE, 4 * P, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) == (long)BASE &&
		  handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE) == VM_FAULT_OK &&
		  handle_mm_fault(mm, BASE + P, FAULT_FLAG_WRITE) == VM_FAULT_OK &&
		  handle_mm_fault(mm, BASE + 2 * P, 0) == VM_FAULT_OK;

	if (!ok)
		ktest_fail(t, __FILE__, __LINE__, "could not set up the scratch mm");
	return ok;
}

MM_CASE(invariants_hold_for_a_forked_mm_and_every_frame)
{
	struct mm_struct *child;

	if (!setup(t, mm))
		return;
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	expect_clean(t, mm, child, INV_ALL_FRAMES);
	mm_destroy(child);
}

/* Page tables fork shares (mm/pt_share.c): each is reached from both
 * address spaces and counted by both, its entries' frames once. */
MM_CASE(invariants_hold_for_page_tables_shared_at_fork)
{
	const uintptr_t span = 2UL << 20;
	struct mm_struct *child;
	struct pt_lookup_result r;

	KASSERT_EQ(t, do_mmap(mm, BASE, 2 * span, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)BASE);
	KASSERT_EQ(t, do_madvise(mm, BASE, 2 * span, MADV_NOHUGEPAGE), 0);
	for (uintptr_t va = BASE; va < BASE + 2 * span; va += 64 * P)
		KASSERT_EQ(t, handle_mm_fault(mm, va, FAULT_FLAG_WRITE), VM_FAULT_OK);
	pt_share_set_enabled(true);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	if (!pt_share_nr_tables()) {
		ktest_skip(t, "fork shared no page table");
	} else {
		expect_clean(t, mm, child, INV_ALL_FRAMES);
		/* One side writes: its table is unshared, the other keeps it. */
		KEXPECT_EQ(t, handle_mm_fault(child, BASE, FAULT_FLAG_WRITE), VM_FAULT_OK);
		KEXPECT_EQ(t, pt_lookup(child->pgd, BASE, &r), 0);
		expect_clean(t, mm, child, INV_ALL_FRAMES);
	}
	mm_destroy(child);
}

MM_CASE(invariants_catch_a_refcount_one_too_high)
{
	struct page *p;

	if (!setup(t, mm))
		return;
	KASSERT_EQ(t, do_mprotect(mm, BASE, 4 * P, PROT_READ), 0);
	KASSERT_NOT_NULL(t, p = page_at(mm, BASE));
	p->refcount++;
	expect_only(t, mm, NULL, 0, INV_REFCOUNTS);
	p->refcount--;
	expect_clean(t, mm, NULL, 0);
}

/* The frame comes from ZONE_DMA, so that the checker's own allocation
 * (GFP_KERNEL: Normal, then DMA32 first) does not take it back. */
MM_CASE(invariants_catch_a_free_frame_still_mapped)
{
	struct page *p = alloc_page(GFP_DMA);
	struct inv_report *r;

	KASSERT_NOT_NULL(t, p);
	KASSERT_EQ(t, do_mmap(mm, BASE, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			      NULL, 0), (long)BASE);
	KASSERT_EQ(t, pt_map(mm->pgd, BASE, page_to_phys(p), P, vm_get_page_prot(VM_READ), 0), 0);
	free_pages(p, 0); /* the PTE now maps a free frame */
	r = check(mm, NULL, 0);
	if (r) {
		KEXPECT_EQ(t, r->violations[INV_NO_FREE_MAPPED], 1);
		KEXPECT_EQ(t, r->violations[INV_REFCOUNTS], 1); /* count 0, one PTE */
	}
	kfree(r);
	pt_unmap(mm->pgd, BASE, P, NULL, NULL);
}

MM_CASE(invariants_catch_a_writable_cow_page)
{
	struct mm_struct *child;
	struct pt_lookup_result res;

	if (!setup(t, mm))
		return;
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	KASSERT_EQ(t, pt_lookup(mm->pgd, BASE, &res), 0);
	/* A fork that kept the parent's PTE writable: both rules break. */
	pt_set_leaf(mm->pgd, BASE, res.pte | PTE_WRITE);
	{
		struct inv_report *r = check(mm, child, 0);
		KASSERT_NOT_NULL(t, r);
		KEXPECT_EQ(t, r->violations[INV_PRIVATE_EXCLUSIVE], 2); /* COW+W, refcount 2 */
		KEXPECT_EQ(t, total_except(r, INV_PRIVATE_EXCLUSIVE), 0);
		kfree(r);
	}
	pt_set_leaf(mm->pgd, BASE, res.pte);
	expect_clean(t, mm, child, 0);
	mm_destroy(child);
}

MM_CASE(invariants_catch_a_pte_outside_any_vma)
{
	struct page *p = alloc_page(GFP_KERNEL);

	KASSERT_NOT_NULL(t, p);
	KASSERT_EQ(t, pt_map(mm->pgd, HOLE, page_to_phys(p), P, vm_get_page_prot(VM_READ), 0), 0);
	expect_only(t, mm, NULL, 0, INV_PTES_IN_VMAS);
	pt_unmap(mm->pgd, HOLE, P, NULL, NULL);
	free_pages(p, 0);
}

MM_CASE(invariants_catch_a_pte_granting_write_in_a_read_only_vma)
{
	struct pt_lookup_result res;

	if (!setup(t, mm))
		return;
	/* A written page: page 2 maps the shared zero page, whose entry is
	 * wrong in more ways than one once writable. */
	KASSERT_EQ(t, do_mprotect(mm, BASE, 4 * P, PROT_READ), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, BASE + P, &res), 0);
	pt_set_leaf(mm->pgd, BASE + P, res.pte | PTE_WRITE);
	expect_only(t, mm, NULL, 0, INV_PTES_IN_VMAS);
	pt_set_leaf(mm->pgd, BASE + P, res.pte);
}

MM_CASE(invariants_catch_a_special_pte_on_an_allocated_frame)
{
	struct page *p = alloc_page(GFP_KERNEL);
	pgprot_t prot = __pgprot(vm_get_page_prot(VM_READ).bits | PTE_SPECIAL);

	KASSERT_NOT_NULL(t, p);
	KASSERT_EQ(t, do_mmap(mm, BASE, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			      NULL, 0), (long)BASE);
	KASSERT_EQ(t, pt_map(mm->pgd, BASE, page_to_phys(p), P, prot, 0), 0);
	expect_only(t, mm, NULL, 0, INV_DEVICE_UNCOUNTED);
	pt_unmap(mm->pgd, BASE, P, NULL, NULL);
	free_pages(p, 0);
}

MM_CASE(invariants_catch_a_wrong_map_count)
{
	if (!setup(t, mm))
		return;
	mm->map_count++;
	expect_only(t, mm, NULL, 0, INV_VMA_LISTS);
	mm->map_count--;
}

/* mm is the active address space: the planted difference is bit 9 of the
 * last PML4 entry, which the CPU ignores (Intel SDM Vol. 3A, 4.5, Table
 * 4-15: bits 11:8 of a PML4E are ignored). */
MM_CASE(invariants_catch_a_changed_kernel_half)
{
	pte_t *pml4 = phys_to_virt(mm->pgd);

	pml4[PT_ENTRIES - 1] ^= 1ULL << 9;
	expect_only(t, mm, NULL, 0, INV_KERNEL_HALF);
	pml4[PT_ENTRIES - 1] ^= 1ULL << 9;
}

MM_CASE(invariants_catch_a_table_reached_twice)
{
	pte_t *pml4 = phys_to_virt(mm->pgd);
	unsigned int i = BASE >> 39, j = HOLE >> 39;
	struct inv_report *r;

	if (!setup(t, mm))
		return;
	pml4[j] = pml4[i]; /* a second path to the same PDPT */
	r = check(mm, NULL, 0);
	if (r)
		KEXPECT_GE(t, r->violations[INV_TABLES], 1);
	kfree(r);
	pml4[j] = 0;
}

/* The frame scan: damage planted in the allocator's own state. */
static void invariants_catch_a_used_frame_inside_a_block(struct ktest *t)
{
	struct page *p = alloc_pages(GFP_KERNEL, 1);

	KASSERT_NOT_NULL(t, p);
	p[1].refcount = 1;
	expect_only(t, NULL, NULL, INV_ALL_FRAMES, INV_FRAME_STATES);
	p[1].refcount = 0;
	free_pages(p, 1);
}

/* A frame on its way in or out of the allocator is in no state for a
 * moment, and the scan looks again; one left so for good is reported. */
static void invariants_catch_a_frame_in_no_state(struct ktest *t)
{
	struct page *p = alloc_page(GFP_KERNEL);

	KASSERT_NOT_NULL(t, p);
	p->refcount = 0; /* neither free, allocated nor reserved */
	expect_only(t, NULL, NULL, INV_ALL_FRAMES, INV_FRAME_STATES);
	p->refcount = 1;
	free_pages(p, 0);
}

static void invariants_catch_a_wrong_free_count(struct ktest *t)
{
	zones[ZONE_DMA32].free_pages++;
	expect_only(t, NULL, NULL, INV_ALL_FRAMES, INV_FREE_LISTS);
	zones[ZONE_DMA32].free_pages--;
}

static void invariants_catch_a_slab_count_off_by_one(struct ktest *t)
{
	void *obj = kmalloc(64, GFP_KERNEL);
	struct page *p;

	KASSERT_NOT_NULL(t, obj);
	p = virt_to_page(obj);
	p->refcount++;
	expect_only(t, NULL, NULL, INV_ALL_FRAMES, INV_SLABS);
	p->refcount--;
	kfree(obj);
}

static const struct ktest_case invariants_cases[] = {
	KTEST_CASE(invariants_hold_for_a_forked_mm_and_every_frame),
	KTEST_CASE(invariants_hold_for_page_tables_shared_at_fork),
	KTEST_CASE(invariants_catch_a_refcount_one_too_high),
	KTEST_CASE(invariants_catch_a_free_frame_still_mapped),
	KTEST_CASE(invariants_catch_a_writable_cow_page),
	KTEST_CASE(invariants_catch_a_pte_outside_any_vma),
	KTEST_CASE(invariants_catch_a_pte_granting_write_in_a_read_only_vma),
	KTEST_CASE(invariants_catch_a_special_pte_on_an_allocated_frame),
	KTEST_CASE(invariants_catch_a_wrong_map_count),
	KTEST_CASE(invariants_catch_a_changed_kernel_half),
	KTEST_CASE(invariants_catch_a_table_reached_twice),
	KTEST_CASE(invariants_catch_a_used_frame_inside_a_block),
	KTEST_CASE(invariants_catch_a_frame_in_no_state),
	KTEST_CASE(invariants_catch_a_wrong_free_count),
	KTEST_CASE(invariants_catch_a_slab_count_off_by_one),
};
KTEST_SUITE(invariants, invariants_cases);
