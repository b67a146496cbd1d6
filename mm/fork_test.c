/* Tests of fork's copy of an address space (mm/fork.c) and of the
 * copy-on-write faults that follow it (mm/fault.c).
 *
 * A case builds a parent mm, forks it, and writes in one or the other by
 * making it active (mm_switch) and using copy_to_user(), so the writes go
 * through the real #PF path. A write that the fault path might fail to
 * make progress on (it would fault forever) is driven with
 * handle_mm_fault() first and only repeated through copy_to_user() once
 * the PTE is writable. Every case checks at the end that destroying both
 * mms gives pmm_free_pages() back exactly. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/uaccess.h>
#include <pagoda/vma.h>

#define BASE 0x0000100000000000UL  /* 16 TiB */
#define FAR 0x0000200000000000UL   /* another PML4 slot: its own tables */
#define P PAGE_SIZE

static long map_anon(struct mm_struct *mm, uintptr_t addr, size_t len, int prot, int type)
{
	return do_mmap(mm, addr, len, prot, type | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
}

/* The leaf PTE for va (0 if none) and its frame's reference count. */
static pte_t pte_of(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0 ? r.pte : 0;
}

static phys_addr_t frame_of(struct mm_struct *mm, uintptr_t va)
{
	return pte_of(mm, va) & PTE_ADDR_MASK;
}

static uint32_t refcount_of(struct mm_struct *mm, uintptr_t va)
{
	struct page *p = pfn_to_page(phys_to_pfn(frame_of(mm, va)));

	return pte_of(mm, va) && p ? p->refcount : 0;
}


/* A parent with two written private pages at BASE and BASE + P. */
static bool setup_private(struct ktest *t, struct mm_struct *mm)
{
	if (map_anon(mm, BASE, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE) != (long)BASE ||
	    ktest_put_word(mm, BASE, 0x1111) < 0 || ktest_put_word(mm, BASE + P, 0x2222) < 0) {
		ktest_fail(t, __FILE__, __LINE__, "could not set up the parent");
		return false;
	}
	return true;
}

MM_CASE(fork_child_reads_parent_data)
{
	struct mm_struct *child;

	if (!setup_private(t, mm))
		return;
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	KEXPECT_EQ(t, ktest_get_word(child, BASE), 0x1111);
	KEXPECT_EQ(t, ktest_get_word(child, BASE + P), 0x2222);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE), 0x1111);
	/* Untouched pages stay untouched in both: no PTE was invented. */
	KEXPECT_EQ(t, pte_of(child, BASE + 2 * P), 0);
	KEXPECT_EQ(t, pte_of(mm, BASE + 2 * P), 0);
	mm_switch(mm);
	mm_destroy(child);
}

MM_CASE(fork_child_vmas_match_parent_and_belong_to_child)
{
	struct mm_struct *child;
	struct vm_area_struct *pv, *cv;

	if (!setup_private(t, mm))
		return;
	KASSERT_EQ(t, map_anon(mm, FAR, P, PROT_READ, MAP_PRIVATE), (long)FAR);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	KEXPECT_EQ(t, child->map_count, mm->map_count);
	KEXPECT_EQ(t, child->total_vm, mm->total_vm);
	pv = vma_lookup(mm, FAR);
	cv = vma_lookup(child, FAR);
	KEXPECT_NOT_NULL(t, cv);
	if (cv && pv) {
		KEXPECT_NE(t, cv, pv);
		KEXPECT_EQ(t, cv->vm_start, pv->vm_start);
		KEXPECT_EQ(t, cv->vm_end, pv->vm_end);
		KEXPECT_EQ(t, cv->vm_flags, pv->vm_flags);
		KEXPECT_EQ(t, cv->vm_mm, child);
	}
	mm_switch(mm);
	mm_destroy(child);
}

MM_CASE(fork_private_ptes_become_read_only_cow_with_refcount_2)
{
	struct mm_struct *child;

	if (!setup_private(t, mm))
		return;
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	for (uintptr_t va = BASE; va < BASE + 2 * P; va += P) {
		pte_t pp = pte_of(mm, va), cp = pte_of(child, va);
		KEXPECT_TRUE(t, pp & PTE_PRESENT);
		KEXPECT_TRUE(t, cp & PTE_PRESENT);
		KEXPECT_FALSE(t, pp & PTE_WRITE);
		KEXPECT_FALSE(t, cp & PTE_WRITE);
		KEXPECT_TRUE(t, pp & PTE_COW);
		KEXPECT_TRUE(t, cp & PTE_COW);
		KEXPECT_EQ(t, pp & PTE_ADDR_MASK, cp & PTE_ADDR_MASK);
		KEXPECT_EQ(t, refcount_of(mm, va), 2);
	}
	mm_switch(mm);
	mm_destroy(child);
}

MM_CASE(fork_child_write_copies_page_and_leaves_parent_unchanged)
{
	struct mm_struct *child;
	phys_addr_t shared;
	pte_t cp;

	if (!setup_private(t, mm))
		return;
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	shared = frame_of(mm, BASE);
	KEXPECT_EQ(t, ktest_put_word(child, BASE + 8, 0xc41d), 0);
	cp = pte_of(child, BASE);
	KEXPECT_NE(t, cp & PTE_ADDR_MASK, shared);
	KEXPECT_TRUE(t, cp & PTE_WRITE);
	KEXPECT_FALSE(t, cp & PTE_COW);
	KEXPECT_EQ(t, refcount_of(child, BASE), 1);
	/* The copy carries the page's old contents along with the new word. */
	KEXPECT_EQ(t, ktest_get_word(child, BASE), 0x1111);
	KEXPECT_EQ(t, ktest_get_word(child, BASE + 8), 0xc41d);
	/* The parent keeps its frame, its data, and is now its only holder. */
	KEXPECT_EQ(t, frame_of(mm, BASE), shared);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE + 8), 0);
	KEXPECT_EQ(t, refcount_of(mm, BASE), 1);
	/* The other page is still shared. */
	KEXPECT_EQ(t, refcount_of(mm, BASE + P), 2);
	mm_switch(mm);
	mm_destroy(child);
}

/* Write once in mm with handle_mm_fault(); if that left the PTE writable
 * on the same frame, write through copy_to_user() too and read it back. */
static void expect_write_in_place(struct ktest *t, struct mm_struct *mm, uintptr_t va,
				  uint64_t v)
{
	phys_addr_t frame = frame_of(mm, va);
	pte_t pte;

	KEXPECT_EQ(t, handle_mm_fault(mm, va, FAULT_FLAG_WRITE), VM_FAULT_OK);
	pte = pte_of(mm, va);
	KEXPECT_EQ(t, pte & PTE_ADDR_MASK, frame);
	KEXPECT_FALSE(t, pte & PTE_COW);
	KASSERT_TRUE(t, pte & PTE_WRITE); /* else copy_to_user would fault forever */
	KEXPECT_EQ(t, ktest_put_word(mm, va, v), 0);
	KEXPECT_EQ(t, ktest_get_word(mm, va), v);
	KEXPECT_EQ(t, refcount_of(mm, va), 1);
}

MM_CASE(fork_parent_write_after_child_copy_reuses_frame)
{
	struct mm_struct *child;

	if (!setup_private(t, mm))
		return;
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	KEXPECT_EQ(t, ktest_put_word(child, BASE, 0xc41d), 0);
	expect_write_in_place(t, mm, BASE, 0x9a7e);
	KEXPECT_EQ(t, ktest_get_word(child, BASE), 0xc41d);
	mm_switch(mm);
	mm_destroy(child);
}

/* fork then exit in the child (fork + exec does this): the parent is the
 * last holder of every page and writes without copying. */
MM_CASE(fork_parent_write_after_child_exit_reuses_frame)
{
	struct mm_struct *child;

	if (!setup_private(t, mm))
		return;
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	mm_destroy(child);
	KEXPECT_EQ(t, refcount_of(mm, BASE), 1);
	expect_write_in_place(t, mm, BASE + P, 0x9a7e);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE), 0x1111);
}

MM_CASE(fork_shared_anon_write_in_child_is_seen_by_parent)
{
	struct mm_struct *child;

	KASSERT_EQ(t, map_anon(mm, BASE, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED), (long)BASE);
	KASSERT_EQ(t, ktest_put_word(mm, BASE + P, 0x5a5a), 0);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	KEXPECT_EQ(t, frame_of(child, BASE + P), frame_of(mm, BASE + P));
	KEXPECT_TRUE(t, pte_of(child, BASE + P) & PTE_WRITE);
	KEXPECT_FALSE(t, pte_of(child, BASE + P) & PTE_COW);
	KEXPECT_TRUE(t, pte_of(mm, BASE + P) & PTE_WRITE);
	KEXPECT_EQ(t, refcount_of(mm, BASE + P), 3); /* the shmem cache and two entries */
	KEXPECT_EQ(t, ktest_put_word(child, BASE + P, 0xc41d), 0);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE + P), 0xc41d);
	KEXPECT_EQ(t, ktest_put_word(mm, BASE, 0x9a7e), 0);
	KEXPECT_EQ(t, ktest_get_word(child, BASE), 0x9a7e);
	KEXPECT_EQ(t, frame_of(child, BASE + P), frame_of(mm, BASE + P));
	mm_switch(mm);
	mm_destroy(child);
	KEXPECT_EQ(t, refcount_of(mm, BASE + P), 2);
}

MM_CASE(fork_dontcopy_vma_is_absent_in_child)
{
	struct mm_struct *child;
	struct vm_area_struct *v;
	uint64_t w;

	if (!setup_private(t, mm))
		return;
	KASSERT_EQ(t, map_anon(mm, FAR, P, PROT_READ | PROT_WRITE, MAP_PRIVATE), (long)FAR);
	KASSERT_EQ(t, ktest_put_word(mm, FAR, 0xd0d0), 0);
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, FAR));
	v->vm_flags |= VM_DONTCOPY; /* madvise(MADV_DONTFORK) */
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	KEXPECT_NULL(t, vma_lookup(child, FAR));
	KEXPECT_EQ(t, pte_of(child, FAR), 0);
	KEXPECT_EQ(t, child->map_count, mm->map_count - 1);
	mm_switch(child);
	KEXPECT_EQ(t, copy_from_user(&w, (const void *)FAR, sizeof(w)), -EFAULT);
	KEXPECT_EQ(t, pte_of(child, FAR), 0);
	/* The other VMA was copied; the parent's DONTCOPY page is untouched. */
	KEXPECT_EQ(t, ktest_get_word(child, BASE), 0x1111);
	KEXPECT_TRUE(t, pte_of(mm, FAR) & PTE_WRITE);
	KEXPECT_FALSE(t, pte_of(mm, FAR) & PTE_COW);
	KEXPECT_EQ(t, refcount_of(mm, FAR), 1);
	KEXPECT_EQ(t, ktest_get_word(mm, FAR), 0xd0d0);
	mm_switch(mm);
	mm_destroy(child);
}

/* A private page that is read-only at fork must still be copied on the
 * first write once mprotect() makes it writable again: the two processes
 * hold the same frame. Linux keeps such a page write-protected (it is not
 * "exclusive" to either mm) until do_wp_page() copies it. */
MM_CASE(fork_read_only_private_page_stays_private_after_mprotect)
{
	struct mm_struct *child;

	if (!setup_private(t, mm))
		return;
	KASSERT_EQ(t, do_mprotect(mm, BASE, 4 * P, PROT_READ), 0);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	KEXPECT_EQ(t, do_mprotect(mm, BASE, 4 * P, PROT_READ | PROT_WRITE), 0);
	KEXPECT_FALSE(t, pte_of(mm, BASE) & PTE_WRITE);
	if (!(pte_of(mm, BASE) & PTE_WRITE))
		KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_OK);
	if (pte_of(mm, BASE) & PTE_WRITE) {
		KEXPECT_EQ(t, ktest_put_word(mm, BASE, 0x9a7e), 0);
		KEXPECT_EQ(t, ktest_get_word(mm, BASE), 0x9a7e);
	}
	KEXPECT_EQ(t, ktest_get_word(child, BASE), 0x1111);
	KEXPECT_NE(t, frame_of(child, BASE), frame_of(mm, BASE));
	mm_switch(mm);
	mm_destroy(child);
}

/* A copy-on-write fault that runs out of memory must leave the shared page
 * mapped: the process can retry (or be killed) without losing its data. */
MM_CASE(fork_cow_fault_oom_on_copy_keeps_shared_page)
{
	struct mm_struct *child;
	phys_addr_t shared;

	if (!setup_private(t, mm))
		return;
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	shared = frame_of(mm, BASE);
	pmm_fail_next(1);
	KEXPECT_EQ(t, handle_mm_fault(child, BASE, FAULT_FLAG_WRITE), VM_FAULT_OOM);
	pmm_fail_next(0);
	KEXPECT_EQ(t, frame_of(child, BASE), shared);
	KEXPECT_TRUE(t, pte_of(child, BASE) & PTE_COW);
	KEXPECT_EQ(t, refcount_of(mm, BASE), 2);
	KEXPECT_EQ(t, ktest_get_word(child, BASE), 0x1111);
	mm_switch(mm);
	mm_destroy(child);
}

/* A copy-on-write fault allowed only k allocations, in a child whose
 * tables hold nothing but the page being copied: it either succeeds (the
 * child has its own copy) or fails with the shared page still mapped.
 * Either way the child reads its data and nothing leaks. */
static void cow_fault_with_k_allocations(struct ktest *t, struct mm_struct *mm, unsigned int k)
{
	struct mm_struct *child = mm_fork(mm);
	phys_addr_t shared = frame_of(mm, FAR);
	vm_fault_t r;

	if (!child) {
		ktest_fail(t, __FILE__, __LINE__, "mm_fork() returned NULL");
		return;
	}
	pmm_fail_after(k);
	r = handle_mm_fault(child, FAR, FAULT_FLAG_WRITE);
	pmm_fail_after(PMM_NO_FAIL);
	ktest_log(t, "%u allocations allowed: fault returned %d", k, r);
	KEXPECT_TRUE(t, r == VM_FAULT_OK || r == VM_FAULT_OOM);
	if (r == VM_FAULT_OOM) {
		KEXPECT_EQ(t, frame_of(child, FAR), shared);
		KEXPECT_TRUE(t, pte_of(child, FAR) & PTE_COW);
		KEXPECT_EQ(t, refcount_of(mm, FAR), 2);
	} else {
		KEXPECT_NE(t, frame_of(child, FAR), shared);
		KEXPECT_TRUE(t, pte_of(child, FAR) & PTE_WRITE);
		KEXPECT_EQ(t, refcount_of(mm, FAR), 1);
	}
	KEXPECT_EQ(t, ktest_get_word(child, FAR), 0x7777);
	mm_switch(mm);
	mm_destroy(child);
	KEXPECT_EQ(t, refcount_of(mm, FAR), 1);
}

MM_CASE(fork_cow_fault_under_oom_keeps_child_data_and_leaks_nothing)
{
	uint64_t before;

	KASSERT_EQ(t, map_anon(mm, FAR, P, PROT_READ | PROT_WRITE, MAP_PRIVATE), (long)FAR);
	KASSERT_EQ(t, ktest_put_word(mm, FAR, 0x7777), 0);
	for (unsigned int k = 0; k < 4; k++) {
		kmalloc_shrink();
		before = pmm_free_pages();
		cow_fault_with_k_allocations(t, mm, k);
		kmalloc_shrink();
		KEXPECT_EQ(t, pmm_free_pages(), before);
	}
}

/* Destroying parent and child, in either order, after copies were made in
 * both: every frame and table page comes back. */
static void fork_and_destroy(struct ktest *t, bool parent_first)
{
	struct mm_struct *parent, *child;
	uint64_t before;

	kmalloc_shrink();
	before = pmm_free_pages();
	parent = mm_create();
	if (!parent || !setup_private(t, parent) ||
	    map_anon(parent, FAR, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED) != (long)FAR ||
	    !(child = mm_fork(parent))) {
		ktest_fail(t, __FILE__, __LINE__, "could not set up parent and child");
		mm_switch(NULL);
		mm_destroy(parent);
		return;
	}
	KEXPECT_EQ(t, ktest_put_word(child, BASE, 1), 0);     /* child copies */
	KEXPECT_EQ(t, ktest_put_word(child, BASE + 3 * P, 3), 0); /* child's own page */
	KEXPECT_EQ(t, ktest_put_word(parent, BASE + 2 * P, 2), 0); /* parent's own page */
	KEXPECT_EQ(t, ktest_put_word(child, FAR, 4), 0);      /* shared */
	mm_switch(NULL);
	mm_destroy(parent_first ? parent : child);
	mm_destroy(parent_first ? child : parent);
	kmalloc_shrink();
	KEXPECT_EQ(t, pmm_free_pages(), before);
}

static void fork_destroy_parent_then_child_frees_everything(struct ktest *t)
{
	fork_and_destroy(t, true);
}

static void fork_destroy_child_then_parent_frees_everything(struct ktest *t)
{
	fork_and_destroy(t, false);
}

/* Fork with only k allocations allowed. Returns false once k is enough
 * for the fork to succeed; otherwise checks that it returned NULL with no
 * leak and left the parent reading its data, each page held once. */
static bool fork_fails_cleanly(struct ktest *t, struct mm_struct *mm, unsigned int k)
{
	struct mm_struct *child;
	uint64_t before, after;

	kmalloc_shrink();
	before = pmm_free_pages();
	pmm_fail_after(k);
	child = mm_fork(mm);
	pmm_fail_after(PMM_NO_FAIL);
	if (child) {
		mm_destroy(child);
		return false;
	}
	kmalloc_shrink();
	after = pmm_free_pages();
	if (after != before || ktest_get_word(mm, BASE) != 0x1111 || ktest_get_word(mm, FAR) != 0x3333 ||
	    refcount_of(mm, BASE) != 1 || refcount_of(mm, FAR) != 1)
		ktest_fail(t, __FILE__, __LINE__,
			   "fork failing after %u allocations: free %llu -> %llu, "
			   "parent reads %#llx %#llx, refcounts %u %u", k,
			   (unsigned long long)before, (unsigned long long)after,
			   (unsigned long long)ktest_get_word(mm, BASE),
			   (unsigned long long)ktest_get_word(mm, FAR), refcount_of(mm, BASE),
			   refcount_of(mm, FAR));
	return true;
}

MM_CASE(fork_oom_at_each_allocation_returns_null_and_leaks_nothing)
{
	unsigned int k;

	if (!setup_private(t, mm))
		return;
	KASSERT_EQ(t, map_anon(mm, FAR, P, PROT_READ | PROT_WRITE, MAP_PRIVATE), (long)FAR);
	KASSERT_EQ(t, ktest_put_word(mm, FAR, 0x3333), 0);
	for (k = 0; k < 64 && fork_fails_cleanly(t, mm, k); k++)
		;
	ktest_log(t, "mm_fork failed cleanly at %u allocation points", k);
	KEXPECT_GT(t, k, 3); /* mm, PML4, VMAs and tables each had a turn */
	KEXPECT_LT(t, k, 64);
	/* The failed forks write-protected the parent's pages; each is its
	 * own again, and a write must go straight to it. */
	expect_write_in_place(t, mm, BASE, 0x9a7e);
	expect_write_in_place(t, mm, FAR, 0x9a7f);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE + P), 0x2222);
}

static const struct ktest_case fork_cases[] = {
	KTEST_CASE(fork_child_reads_parent_data),
	KTEST_CASE(fork_child_vmas_match_parent_and_belong_to_child),
	KTEST_CASE(fork_private_ptes_become_read_only_cow_with_refcount_2),
	KTEST_CASE(fork_child_write_copies_page_and_leaves_parent_unchanged),
	KTEST_CASE(fork_parent_write_after_child_copy_reuses_frame),
	KTEST_CASE(fork_parent_write_after_child_exit_reuses_frame),
	KTEST_CASE(fork_shared_anon_write_in_child_is_seen_by_parent),
	KTEST_CASE(fork_dontcopy_vma_is_absent_in_child),
	KTEST_CASE(fork_read_only_private_page_stays_private_after_mprotect),
	KTEST_CASE(fork_cow_fault_oom_on_copy_keeps_shared_page),
	KTEST_CASE(fork_cow_fault_under_oom_keeps_child_data_and_leaks_nothing),
	KTEST_CASE(fork_destroy_parent_then_child_frees_everything),
	KTEST_CASE(fork_destroy_child_then_parent_frees_everything),
	KTEST_CASE(fork_oom_at_each_allocation_returns_null_and_leaks_nothing),
};
KTEST_SUITE(fork, fork_cases);
