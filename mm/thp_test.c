/* Tests of transparent huge pages (mm/thp.c): every transition of a huge
 * page, each checked in the page tables (pt_lookup), in the data a
 * process sees, in the frames' reference counts, in AnonHugePages, and
 * (by ktest_run_in_mm) in the free-frame count after the mm is gone.
 *
 * Each case runs with the policy "always" and puts back what was set.
 * A case needs one free order-9 block; on a machine that has none (a
 * small or fragmented one) it skips, naming that. Writes go through
 * copy_to_user() on the active mm, so they take the real #PF path. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/procfs.h>
#include <pagoda/rss.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/thp.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define BASE 0x0000100000000000UL /* 16 TiB: 1 GiB-aligned */
#define FAR 0x0000200000000000UL  /* where mremap moves to */
#define HP HPAGE_PMD_SIZE
#define P PAGE_SIZE
#define RW (PROT_READ | PROT_WRITE)

static long map_anon(struct mm_struct *mm, uintptr_t addr, size_t len, int prot)
{
	return do_mmap(mm, addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
}

/* The level of the leaf that maps va in mm (0, 1), or -1 if none. */
static int level_of(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0 ? (int)r.level : -1;
}

static pte_t leaf_of(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0 ? r.pte : 0;
}

/* The physical address va translates to in mm, or 0. */
static phys_addr_t phys_of(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0 ? r.phys : 0;
}

/* The reference count of the page mapped at va (its own: a tail of a
 * huge page has none), or -1 if nothing is mapped there. */
static long refcount_at(struct mm_struct *mm, uintptr_t va)
{
	struct page *p = pfn_to_page(phys_to_pfn(phys_of(mm, va)));

	return level_of(mm, va) >= 0 && p ? (long)p->refcount : -1;
}

/* The byte page i of a 2 MiB pattern holds (never 0, never the poison). */
static uint8_t pattern(unsigned int i, uint8_t tag)
{
	return (uint8_t)(i * 7 + tag) | 1;
}

/* Write one byte through the #PF path of mm (made active). */
static int poke(struct mm_struct *mm, uintptr_t va, uint8_t b)
{
	mm_switch(mm);
	return copy_to_user((void *)va, &b, 1);
}

static int peek(struct mm_struct *mm, uintptr_t va)
{
	uint8_t b;

	mm_switch(mm);
	return copy_from_user(&b, (const void *)va, 1) < 0 ? -1 : b;
}

/* Fill [va, va + len) page by page with pattern(page, tag). */
static int fill(struct mm_struct *mm, uintptr_t va, size_t len, uint8_t tag)
{
	mm_switch(mm);
	for (size_t off = 0; off < len; off += P) {
		int ret = ktest_user_fill(va + off, P, pattern(off / P, tag));
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Does [va, va + len) still hold what fill(va0, ..., tag) wrote, where
 * va0 is where the pattern started? Returns the first bad page's address
 * or 0 if all is well. */
static uintptr_t first_bad(struct mm_struct *mm, uintptr_t va0, uintptr_t va, size_t len,
			   uint8_t tag)
{
	mm_switch(mm);
	for (size_t off = 0; off < len; off += P)
		if (ktest_user_all(va + off, P, pattern((va + off - va0) / P, tag)) != 1)
			return va + off;
	return 0;
}

/* Is there a free block of 2 MiB or more? Else skip the case. */
static bool have_free_2mib(struct ktest *t)
{
	for (unsigned int z = 0; z < NR_ZONES; z++)
		for (unsigned int o = HPAGE_PMD_ORDER; o <= MAX_ORDER; o++)
			if (pmm_zone_free_blocks((enum zone_type)z, o))
				return true;
	ktest_skip(t, "no free 2 MiB block: memory is too small or fragmented");
	return false;
}

/* Map [BASE, BASE + 4 MiB) and write one byte in its first 2 MiB, which
 * must then be one huge page. False (the case skipped or failed) if the
 * machine has no order-9 block or the fault did not map one. */
static bool huge_at_base(struct ktest *t, struct mm_struct *mm)
{
	if (map_anon(mm, BASE, 2 * HP, RW) != (long)BASE) {
		ktest_fail(t, __FILE__, __LINE__, "mmap of 4 MiB at BASE failed");
		return false;
	}
	if (!have_free_2mib(t))
		return false;
	if (poke(mm, BASE + 123, 0x5a) < 0 || level_of(mm, BASE) != 1) {
		ktest_fail(t, __FILE__, __LINE__, "the write fault at BASE mapped no huge page");
		return false;
	}
	return true;
}

static enum thp_policy saved_policy;

/* THP_CASE(name) { ... }: an MM_CASE run with the policy "always". */
#define THP_CASE(name)                                                         \
	static void name##_body(struct ktest *t, struct mm_struct *mm);        \
	static void name(struct ktest *t)                                      \
	{                                                                      \
		saved_policy = thp_policy_get();                               \
		thp_policy_set(THP_ALWAYS);                                    \
		ktest_run_in_mm(t, name##_body, true);                         \
		thp_policy_set(saved_policy);                                  \
	}                                                                      \
	static void name##_body(struct ktest *t, struct mm_struct *mm)

/* ---- the fault ---- */

THP_CASE(thp_write_fault_maps_one_zeroed_2mib_leaf)
{
	uint64_t anon = thp_nr_anon(), free0, tables0;
	struct pt_lookup_result r;
	struct mm_rss rss;

	KASSERT_EQ(t, map_anon(mm, BASE, 2 * HP, RW), (long)BASE);
	if (!have_free_2mib(t))
		return;
	/* Dirty a free 2 MiB block (the one the fault is likely to get: the
	 * free lists are LIFO), so that a missing zeroing shows even when
	 * freed memory is not poisoned. */
	struct page *dirty = alloc_pages(GFP_KERNEL, HPAGE_PMD_ORDER);
	if (dirty) {
		memset(page_address(dirty), 0xa5, HP);
		free_pages(dirty, HPAGE_PMD_ORDER);
	}
	free0 = ktest_free_frames();
	tables0 = pt_table_pages();
	KASSERT_EQ(t, poke(mm, BASE + HP / 2 + 5, 0x5a), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, BASE + HP / 2, &r), 0);
	KEXPECT_EQ(t, r.level, 1);
	KEXPECT_TRUE(t, r.pte & PTE_PS);
	KEXPECT_TRUE(t, r.pte & PTE_WRITE);
	KEXPECT_TRUE(t, r.pte & PTE_USER);
	KEXPECT_FALSE(t, r.pte & (PTE_COW | PTE_SPECIAL));
	KEXPECT_TRUE(t, IS_ALIGNED(pte_leaf_phys(r.pte, 1), HP));
	/* One huge page for the whole range: the last page is the same frame. */
	KEXPECT_EQ(t, phys_of(mm, BASE + HP - P), pte_leaf_phys(r.pte, 1) + HP - P);
	/* 512 frames, and no page table below the leaf. */
	KEXPECT_EQ(t, free0 - ktest_free_frames(), HPAGE_PMD_NR + (pt_table_pages() - tables0));
	KEXPECT_EQ(t, thp_nr_anon(), anon + 1);
	/* Zeroed: every byte but the one written reads 0. */
	KEXPECT_EQ(t, peek(mm, BASE + HP / 2 + 5), 0x5a);
	KEXPECT_EQ(t, ktest_user_all(BASE, HP / 2 + 5, 0), 1);
	KEXPECT_EQ(t, ktest_user_all(BASE + HP / 2 + 6, HP / 2 - 6, 0), 1);
	/* The other 2 MiB is untouched. */
	KEXPECT_EQ(t, level_of(mm, BASE + HP), -1);
	mm_rss_count(mm, &rss);
	KEXPECT_EQ(t, rss.anon, HPAGE_PMD_NR);
}

THP_CASE(thp_policy_never_maps_4k_pages)
{
	uint64_t anon = thp_nr_anon();

	KASSERT_EQ(t, map_anon(mm, BASE, 2 * HP, RW), (long)BASE);
	thp_policy_set(THP_NEVER);
	KASSERT_EQ(t, poke(mm, BASE, 1), 0);
	KEXPECT_EQ(t, level_of(mm, BASE), 0);
	KEXPECT_EQ(t, level_of(mm, BASE + P), -1);
	KEXPECT_EQ(t, thp_nr_anon(), anon);
}

THP_CASE(thp_policy_madvise_needs_madv_hugepage)
{
	KASSERT_EQ(t, map_anon(mm, BASE, 2 * HP, RW), (long)BASE);
	KASSERT_EQ(t, map_anon(mm, FAR, 2 * HP, RW), (long)FAR);
	thp_policy_set(THP_MADVISE);
	KASSERT_EQ(t, do_madvise(mm, FAR, 2 * HP, MADV_HUGEPAGE), 0);
	KEXPECT_TRUE(t, vma_lookup(mm, FAR)->vm_flags & VM_HUGEPAGE);
	KEXPECT_FALSE(t, vma_lookup(mm, BASE)->vm_flags & VM_HUGEPAGE);
	KASSERT_EQ(t, poke(mm, BASE, 1), 0);
	KEXPECT_EQ(t, level_of(mm, BASE), 0);
	if (!have_free_2mib(t))
		return;
	KASSERT_EQ(t, poke(mm, FAR, 1), 0);
	KEXPECT_EQ(t, level_of(mm, FAR), 1);
}

THP_CASE(thp_madv_nohugepage_keeps_4k_pages_and_splits_the_vma)
{
	KASSERT_EQ(t, map_anon(mm, BASE, 4 * HP, RW), (long)BASE);
	/* Advice on a part splits the VMA, as Linux's madvise_update_vma(). */
	KASSERT_EQ(t, do_madvise(mm, BASE + HP, HP, MADV_NOHUGEPAGE), 0);
	ktest_expect_vma(t, mm, BASE, BASE, BASE + HP);
	ktest_expect_vma(t, mm, BASE + HP, BASE + HP, BASE + 2 * HP);
	ktest_expect_vma(t, mm, BASE + 2 * HP, BASE + 2 * HP, BASE + 4 * HP);
	KEXPECT_TRUE(t, vma_lookup(mm, BASE + HP)->vm_flags & VM_NOHUGEPAGE);
	KASSERT_EQ(t, poke(mm, BASE + HP + 8 * P, 1), 0);
	KEXPECT_EQ(t, level_of(mm, BASE + HP), -1);
	KEXPECT_EQ(t, level_of(mm, BASE + HP + 8 * P), 0);
	/* MADV_HUGEPAGE clears it again, and the VMAs merge back into one. */
	KASSERT_EQ(t, do_madvise(mm, BASE + HP, HP, MADV_HUGEPAGE), 0);
	KEXPECT_FALSE(t, vma_lookup(mm, BASE + HP)->vm_flags & VM_NOHUGEPAGE);
	KASSERT_EQ(t, do_madvise(mm, BASE, 4 * HP, MADV_HUGEPAGE), 0);
	ktest_expect_vma(t, mm, BASE, BASE, BASE + 4 * HP);
	/* A hole in the range: the mapped part is advised, then ENOMEM. */
	KEXPECT_EQ(t, do_madvise(mm, BASE + 3 * HP, 2 * HP, MADV_NOHUGEPAGE), -ENOMEM);
	KEXPECT_TRUE(t, vma_lookup(mm, BASE + 3 * HP)->vm_flags & VM_NOHUGEPAGE);
}

THP_CASE(thp_misaligned_small_or_read_faulted_ranges_fall_back)
{
	/* [BASE + 4K, BASE + 4K + 2M) holds no aligned 2 MiB range. */
	KASSERT_EQ(t, map_anon(mm, BASE + P, HP, RW), (long)(BASE + P));
	KASSERT_EQ(t, poke(mm, BASE + HP - P, 1), 0);
	KEXPECT_EQ(t, level_of(mm, BASE + HP - P), 0);
	KASSERT_EQ(t, poke(mm, BASE + HP, 1), 0);
	KEXPECT_EQ(t, level_of(mm, BASE + HP), 0);
	/* 1 MiB: too small. */
	KASSERT_EQ(t, map_anon(mm, FAR, HP / 2, RW), (long)FAR);
	KASSERT_EQ(t, poke(mm, FAR, 1), 0);
	KEXPECT_EQ(t, level_of(mm, FAR), 0);
	/* A read first maps the 4 KiB zero page, so a page table is there:
	 * the write after it stays 4 KiB (Linux's huge zero page ends the
	 * same way: its write fault splits it). */
	KASSERT_EQ(t, map_anon(mm, FAR + HP, HP, RW), (long)(FAR + HP));
	KEXPECT_EQ(t, peek(mm, FAR + HP + 3 * P), 0);
	KASSERT_EQ(t, poke(mm, FAR + HP, 1), 0);
	KEXPECT_EQ(t, level_of(mm, FAR + HP), 0);
	/* Shared anonymous memory is a shmem file: 4 KiB pages of its page
	 * cache, faulted in one at a time. */
	KASSERT_EQ(t, do_mmap(mm, FAR + 4 * HP, HP, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
			      NULL, 0), (long)(FAR + 4 * HP));
	KASSERT_EQ(t, poke(mm, FAR + 4 * HP, 1), 0);
	KEXPECT_EQ(t, level_of(mm, FAR + 4 * HP), 0);
}

THP_CASE(thp_order9_failure_falls_back_to_4k_silently)
{
	uint64_t anon = thp_nr_anon();

	KASSERT_EQ(t, map_anon(mm, BASE, 2 * HP, RW), (long)BASE);
	pmm_fail_next(1); /* the huge page's allocation is the fault's first */
	KASSERT_EQ(t, poke(mm, BASE + 5, 0x77), 0);
	KEXPECT_EQ(t, level_of(mm, BASE), 0);
	KEXPECT_EQ(t, peek(mm, BASE + 5), 0x77);
	KEXPECT_EQ(t, thp_nr_anon(), anon);
	/* And without the failure, the next 2 MiB is huge. */
	KASSERT_EQ(t, poke(mm, BASE + HP, 1), 0);
	if (level_of(mm, BASE + HP) != 1)
		ktest_skip(t, "no free 2 MiB block: memory is too small or fragmented");
}

/* ---- splits ---- */

THP_CASE(thp_partial_munmap_splits_and_frees_exactly_that_part)
{
	uint64_t anon, before;

	if (!huge_at_base(t, mm))
		return;
	KASSERT_EQ(t, fill(mm, BASE, HP, 0x10), 0);
	anon = thp_nr_anon();
	before = ktest_free_frames();
	KASSERT_EQ(t, do_munmap(mm, BASE + 100 * P, 3 * P), 0);
	KEXPECT_EQ(t, level_of(mm, BASE), 0);
	KEXPECT_EQ(t, level_of(mm, BASE + 100 * P), -1);
	KEXPECT_EQ(t, level_of(mm, BASE + 102 * P), -1);
	KEXPECT_EQ(t, level_of(mm, BASE + 103 * P), 0);
	KEXPECT_EQ(t, thp_nr_anon(), anon - 1);
	KEXPECT_EQ(t, first_bad(mm, BASE, BASE, 100 * P, 0x10), 0);
	KEXPECT_EQ(t, first_bad(mm, BASE, BASE + 103 * P, HP - 103 * P, 0x10), 0);
	/* Three frames back, one page table spent on the split. */
	KEXPECT_EQ(t, ktest_free_frames(), before + 3 - 1);
	/* The rest are ordinary 4 KiB pages now: one reference each. */
	KEXPECT_EQ(t, refcount_at(mm, BASE), 1);
	KEXPECT_EQ(t, refcount_at(mm, BASE + 200 * P), 1);
}

THP_CASE(thp_partial_mprotect_splits_keeping_data)
{
	pte_t e;

	if (!huge_at_base(t, mm))
		return;
	KASSERT_EQ(t, fill(mm, BASE, HP, 0x20), 0);
	KASSERT_EQ(t, do_mprotect(mm, BASE + 10 * P, P, PROT_READ), 0);
	KEXPECT_EQ(t, level_of(mm, BASE), 0);
	e = leaf_of(mm, BASE + 10 * P);
	KEXPECT_TRUE(t, e & PTE_PRESENT);
	KEXPECT_FALSE(t, e & PTE_WRITE);
	KEXPECT_TRUE(t, leaf_of(mm, BASE + 11 * P) & PTE_WRITE);
	KEXPECT_EQ(t, first_bad(mm, BASE, BASE, HP, 0x20), 0);
	/* The read-only page refuses writes; its neighbours take them. */
	mm_switch(mm);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + 10 * P, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, poke(mm, BASE + 11 * P, 0xee), 0);
	/* mprotect of the whole huge page keeps it whole. */
	KASSERT_EQ(t, poke(mm, BASE + HP, 1), 0);
	KASSERT_EQ(t, level_of(mm, BASE + HP), 1);
	KASSERT_EQ(t, do_mprotect(mm, BASE + HP, HP, PROT_READ), 0);
	KEXPECT_EQ(t, level_of(mm, BASE + HP), 1);
	KEXPECT_FALSE(t, leaf_of(mm, BASE + HP) & PTE_WRITE);
}

THP_CASE(thp_mremap_to_an_unaligned_place_splits_keeping_data)
{
	long to;

	if (!huge_at_base(t, mm))
		return;
	KASSERT_EQ(t, fill(mm, BASE, HP, 0x30), 0);
	to = do_mremap(mm, BASE, HP, HP, MREMAP_MAYMOVE | MREMAP_FIXED, FAR + P);
	KASSERT_EQ(t, to, (long)(FAR + P));
	KEXPECT_EQ(t, level_of(mm, BASE), -1);
	KEXPECT_EQ(t, level_of(mm, FAR + P), 0);
	KEXPECT_EQ(t, first_bad(mm, FAR + P, FAR + P, HP, 0x30), 0);
	/* Split before it moved: 512 pages of their own, one reference each. */
	KEXPECT_EQ(t, refcount_at(mm, FAR + P), 1);
	KEXPECT_EQ(t, refcount_at(mm, FAR + HP), 1);
}

THP_CASE(thp_mremap_to_an_aligned_place_moves_the_leaf_whole)
{
	phys_addr_t pa;
	uint64_t anon;

	if (!huge_at_base(t, mm))
		return;
	KASSERT_EQ(t, fill(mm, BASE, HP, 0x38), 0);
	pa = phys_of(mm, BASE);
	anon = thp_nr_anon();
	KASSERT_EQ(t, do_mremap(mm, BASE, HP, HP, MREMAP_MAYMOVE | MREMAP_FIXED, FAR), (long)FAR);
	KEXPECT_EQ(t, level_of(mm, FAR), 1);
	KEXPECT_EQ(t, phys_of(mm, FAR), pa);
	KEXPECT_EQ(t, thp_nr_anon(), anon);
	KEXPECT_EQ(t, first_bad(mm, FAR, FAR, HP, 0x38), 0);
	/* A partial move (the first half) splits it. */
	KASSERT_EQ(t, do_mremap(mm, FAR, HP / 2, HP / 2, MREMAP_MAYMOVE | MREMAP_FIXED, BASE),
		   (long)BASE);
	KEXPECT_EQ(t, level_of(mm, FAR + HP / 2), 0);
	KEXPECT_EQ(t, first_bad(mm, FAR, BASE, HP / 2, 0x38), 0);
	KEXPECT_EQ(t, first_bad(mm, FAR, FAR + HP / 2, HP / 2, 0x38), 0);
}

THP_CASE(thp_madv_dontneed_of_part_splits_and_zeroes_that_part)
{
	uint64_t before;

	if (!huge_at_base(t, mm))
		return;
	KASSERT_EQ(t, fill(mm, BASE, HP, 0x40), 0);
	before = ktest_free_frames();
	KASSERT_EQ(t, do_madvise(mm, BASE + HP - 2 * P, 2 * P, MADV_DONTNEED), 0);
	KEXPECT_EQ(t, level_of(mm, BASE), 0);
	KEXPECT_EQ(t, ktest_free_frames(), before + 2 - 1);
	KEXPECT_EQ(t, first_bad(mm, BASE, BASE, HP - 2 * P, 0x40), 0);
	mm_switch(mm);
	KEXPECT_EQ(t, ktest_user_all(BASE + HP - 2 * P, 2 * P, 0), 1);
}

THP_CASE(thp_vma_split_inside_a_huge_page_splits_it)
{
	if (!huge_at_base(t, mm))
		return;
	KASSERT_EQ(t, fill(mm, BASE, 2 * HP, 0x48), 0);
	if (level_of(mm, BASE + HP) != 1) {
		ktest_skip(t, "no second free 2 MiB block: memory is too small or fragmented");
		return;
	}
	/* Advice that changes flags on a part splits the VMA at both ends,
	 * each inside a huge page: a huge page lies within one VMA. */
	KASSERT_EQ(t, do_madvise(mm, BASE + 64 * P, HP, MADV_NOHUGEPAGE), 0);
	KEXPECT_EQ(t, level_of(mm, BASE), 0);
	KEXPECT_EQ(t, level_of(mm, BASE + HP), 0);
	KEXPECT_EQ(t, first_bad(mm, BASE, BASE, 2 * HP, 0x48), 0);
}

/* ---- fork ---- */

THP_CASE(thp_fork_shares_the_leaf_and_cow_copies_4k)
{
	struct mm_struct *child;
	struct page *head;
	phys_addr_t pa;
	uint64_t anon;

	if (!huge_at_base(t, mm))
		return;
	KASSERT_EQ(t, fill(mm, BASE, HP, 0x50), 0);
	pa = phys_of(mm, BASE);
	head = pfn_to_page(phys_to_pfn(pa));
	anon = thp_nr_anon();
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	/* Both map the same huge page, read-only and copy-on-write. */
	KEXPECT_EQ(t, level_of(child, BASE), 1);
	KEXPECT_EQ(t, phys_of(child, BASE), pa);
	KEXPECT_FALSE(t, leaf_of(mm, BASE) & PTE_WRITE);
	KEXPECT_FALSE(t, leaf_of(child, BASE) & PTE_WRITE);
	KEXPECT_TRUE(t, leaf_of(child, BASE) & PTE_COW);
	KEXPECT_EQ(t, head->refcount, 2);
	KEXPECT_EQ(t, thp_nr_anon(), anon); /* one page, mapped twice */
	/* The child writes: its leaf is split, one 4 KiB page copied
	 * (Linux 6.1's do_huge_pmd_wp_page() falls back to that). */
	KASSERT_EQ(t, poke(child, BASE + 7 * P + 1, 0xc1), 0);
	KEXPECT_EQ(t, level_of(child, BASE), 0);
	KEXPECT_NE(t, phys_of(child, BASE + 7 * P), pa + 7 * P);
	KEXPECT_EQ(t, phys_of(child, BASE + 8 * P), pa + 8 * P);
	KEXPECT_TRUE(t, leaf_of(child, BASE + 8 * P) & PTE_COW);
	KEXPECT_EQ(t, level_of(mm, BASE), 1);
	KEXPECT_EQ(t, head->refcount, 1 + 511); /* the parent's leaf, the child's other 511 */
	KEXPECT_EQ(t, thp_nr_anon(), anon);      /* still mapped by a leaf: the parent's */
	/* Each sees its own data. */
	KEXPECT_EQ(t, peek(child, BASE + 7 * P + 1), 0xc1);
	KEXPECT_EQ(t, peek(mm, BASE + 7 * P + 1), pattern(7, 0x50));
	/* The parent writes: its leaf is split and the page copied as well. */
	KASSERT_EQ(t, poke(mm, BASE + 9 * P, 0x9a), 0);
	KEXPECT_EQ(t, level_of(mm, BASE), 0);
	KEXPECT_EQ(t, thp_nr_anon(), anon - 1);
	KEXPECT_EQ(t, peek(child, BASE + 9 * P), pattern(9, 0x50));
	KEXPECT_EQ(t, peek(mm, BASE + 9 * P), 0x9a);
	KEXPECT_EQ(t, first_bad(mm, BASE, BASE + 10 * P, HP - 10 * P, 0x50), 0);
	KEXPECT_EQ(t, first_bad(child, BASE, BASE + 10 * P, HP - 10 * P, 0x50), 0);
	mm_switch(mm);
	mm_destroy(child); /* ktest_run_in_mm counts the frames after both */
}

THP_CASE(thp_cow_write_reuses_the_leaf_once_the_child_is_gone)
{
	struct mm_struct *child;
	phys_addr_t pa;
	pte_t e;

	if (!huge_at_base(t, mm))
		return;
	KASSERT_EQ(t, fill(mm, BASE, HP, 0x60), 0);
	pa = phys_of(mm, BASE);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	mm_switch(mm);
	mm_destroy(child);
	KASSERT_EQ(t, handle_mm_fault(mm, BASE + 3 * P, FAULT_FLAG_WRITE), VM_FAULT_OK);
	e = leaf_of(mm, BASE);
	KEXPECT_EQ(t, level_of(mm, BASE), 1);
	KEXPECT_EQ(t, phys_of(mm, BASE), pa);
	KEXPECT_TRUE(t, e & PTE_WRITE);
	KEXPECT_FALSE(t, e & PTE_COW);
	KASSERT_TRUE(t, e & PTE_WRITE); /* else the write below faults forever */
	KEXPECT_EQ(t, poke(mm, BASE + 3 * P, 0x33), 0);
	KEXPECT_EQ(t, peek(mm, BASE + 3 * P), 0x33);
}

THP_CASE(thp_fork_child_munmap_of_part_keeps_the_parent_whole)
{
	struct mm_struct *child;
	uint64_t before;

	if (!huge_at_base(t, mm))
		return;
	KASSERT_EQ(t, fill(mm, BASE, HP, 0x70), 0);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	before = ktest_free_frames();
	KASSERT_EQ(t, do_munmap(child, BASE, HP / 2), 0);
	/* The page is shared: the child's part stays allocated with it. */
	KEXPECT_EQ(t, ktest_free_frames(), before - 1); /* the child's new page table */
	KEXPECT_EQ(t, level_of(mm, BASE), 1);
	KEXPECT_EQ(t, first_bad(child, BASE, BASE + HP / 2, HP / 2, 0x70), 0);
	KEXPECT_EQ(t, first_bad(mm, BASE, BASE, HP, 0x70), 0);
	mm_switch(mm);
	mm_destroy(child);
	/* The parent's write now reuses the page: it is the only holder. */
	KASSERT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KEXPECT_TRUE(t, leaf_of(mm, BASE) & PTE_WRITE);
	KEXPECT_EQ(t, level_of(mm, BASE), 1);
}

/* ---- accounting and controls ---- */

/* AnonHugePages in kB as /proc/meminfo shows it, or -1. */
static long meminfo_anon_huge_kb(void)
{
	static char buf[4096];
	const char *at;
	long v = 0;

	procfs_format_meminfo(buf, sizeof(buf));
	for (at = buf; *at && strncmp(at, "\nAnonHugePages:", 15); at++)
		;
	if (!*at)
		return -1;
	for (at += 15; *at == ' '; at++)
		;
	while (*at >= '0' && *at <= '9')
		v = v * 10 + (*at++ - '0');
	return strncmp(at, " kB\n", 4) ? -1 : v;
}

THP_CASE(thp_anon_huge_pages_counts_pages_mapped_by_a_leaf)
{
	long kb = meminfo_anon_huge_kb();

	KASSERT_GE(t, kb, 0);
	if (!huge_at_base(t, mm))
		return;
	KEXPECT_EQ(t, meminfo_anon_huge_kb(), kb + 2048);
	KASSERT_EQ(t, poke(mm, BASE + HP, 1), 0);
	if (level_of(mm, BASE + HP) == 1)
		KEXPECT_EQ(t, meminfo_anon_huge_kb(), kb + 4096);
	KASSERT_EQ(t, do_munmap(mm, BASE + HP, HP), 0);
	KEXPECT_EQ(t, meminfo_anon_huge_kb(), kb + 2048);
	KASSERT_EQ(t, do_munmap(mm, BASE, P), 0); /* split */
	KEXPECT_EQ(t, meminfo_anon_huge_kb(), kb);
}

THP_CASE(thp_anonymous_mmap_of_2mib_units_is_aligned)
{
	long a = do_mmap(mm, 0, 2 * HP, RW, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	long b = do_mmap(mm, 0, 2 * HP, RW, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	long c = do_mmap(mm, 0, 2 * HP + P, RW, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);

	KASSERT_GT(t, a, 0);
	KASSERT_GT(t, b, 0);
	KASSERT_GT(t, c, 0);
	KEXPECT_TRUE(t, IS_ALIGNED(a, HP));
	KEXPECT_TRUE(t, IS_ALIGNED(b, HP));
	/* Not whole 2 MiB units: placed right below, as Linux 6.12 does. */
	KEXPECT_EQ(t, c, b - (long)(2 * HP + P));
	KEXPECT_FALSE(t, IS_ALIGNED(c, HP));
	/* MAP_STACK asks for no huge pages (Linux 6.7 on). */
	a = do_mmap(mm, 0, 2 * HP, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, NULL, 0);
	KASSERT_GT(t, a, 0);
	KEXPECT_TRUE(t, vma_lookup(mm, a)->vm_flags & VM_NOHUGEPAGE);
}

/* Read the sysfs file into buf (NUL-terminated); the length or -errno. */
static long sysfs_read(const char *path, char *buf, size_t size)
{
	int err;
	struct file *f = vfs_open("/", path, O_RDONLY, 0, &err);
	ssize_t n;

	if (!f)
		return err;
	n = vfs_read(f, buf, size - 1);
	file_put(f);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static long sysfs_write(const char *path, const char *s)
{
	int err;
	struct file *f = vfs_open("/", path, O_WRONLY, 0, &err);
	ssize_t n;

	if (!f)
		return err;
	n = vfs_write(f, s, strlen(s));
	file_put(f);
	return n;
}

#define ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"

static void thp_sysfs_enabled_reads_and_writes_as_linux(struct ktest *t)
{
	enum thp_policy saved = thp_policy_get();
	char buf[64];

	thp_policy_set(THP_ALWAYS);
	KEXPECT_EQ(t, sysfs_read(ENABLED, buf, sizeof(buf)), 23);
	KEXPECT_STREQ(t, buf, "[always] madvise never\n");
	KEXPECT_EQ(t, sysfs_write(ENABLED, "madvise"), 7);
	KEXPECT_EQ(t, thp_policy_get(), THP_MADVISE);
	sysfs_read(ENABLED, buf, sizeof(buf));
	KEXPECT_STREQ(t, buf, "always [madvise] never\n");
	KEXPECT_EQ(t, sysfs_write(ENABLED, "never\n"), 6);
	sysfs_read(ENABLED, buf, sizeof(buf));
	KEXPECT_STREQ(t, buf, "always madvise [never]\n");
	/* Anything else: EINVAL, and the policy stays. */
	KEXPECT_EQ(t, sysfs_write(ENABLED, "[always]"), -EINVAL);
	KEXPECT_EQ(t, sysfs_write(ENABLED, "always\n\n"), -EINVAL);
	KEXPECT_EQ(t, sysfs_write(ENABLED, "alway"), -EINVAL);
	KEXPECT_EQ(t, sysfs_write(ENABLED, ""), 0); /* an empty store does nothing */
	KEXPECT_EQ(t, thp_policy_get(), THP_NEVER);
	KEXPECT_EQ(t, sysfs_read("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf,
				 sizeof(buf)), 8);
	KEXPECT_STREQ(t, buf, "2097152\n");
	KEXPECT_EQ(t, sysfs_write("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "1"),
		   -EACCES);
	thp_policy_set(saved);
}

static const struct ktest_case thp_cases[] = {
	KTEST_CASE(thp_write_fault_maps_one_zeroed_2mib_leaf),
	KTEST_CASE(thp_policy_never_maps_4k_pages),
	KTEST_CASE(thp_policy_madvise_needs_madv_hugepage),
	KTEST_CASE(thp_madv_nohugepage_keeps_4k_pages_and_splits_the_vma),
	KTEST_CASE(thp_misaligned_small_or_read_faulted_ranges_fall_back),
	KTEST_CASE(thp_order9_failure_falls_back_to_4k_silently),
	KTEST_CASE(thp_partial_munmap_splits_and_frees_exactly_that_part),
	KTEST_CASE(thp_partial_mprotect_splits_keeping_data),
	KTEST_CASE(thp_mremap_to_an_unaligned_place_splits_keeping_data),
	KTEST_CASE(thp_mremap_to_an_aligned_place_moves_the_leaf_whole),
	KTEST_CASE(thp_madv_dontneed_of_part_splits_and_zeroes_that_part),
	KTEST_CASE(thp_vma_split_inside_a_huge_page_splits_it),
	KTEST_CASE(thp_fork_shares_the_leaf_and_cow_copies_4k),
	KTEST_CASE(thp_cow_write_reuses_the_leaf_once_the_child_is_gone),
	KTEST_CASE(thp_fork_child_munmap_of_part_keeps_the_parent_whole),
	KTEST_CASE(thp_anon_huge_pages_counts_pages_mapped_by_a_leaf),
	KTEST_CASE(thp_anonymous_mmap_of_2mib_units_is_aligned),
	KTEST_CASE(thp_sysfs_enabled_reads_and_writes_as_linux),
};
KTEST_SUITE(thp, thp_cases);
