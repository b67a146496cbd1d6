/* Transparent huge pages for private anonymous memory (mm/thp.c), as
 * Linux's mm/huge_memory.c. See docs/thp.md.
 *
 * A write fault in private anonymous memory whose aligned 2 MiB range
 * [haddr, haddr + 2 MiB) lies wholly inside its VMA, where no page table
 * exists yet, maps one zeroed 2 MiB page with one page-directory entry (a
 * "PMD leaf", PS set) instead of a 4 KiB page and a page table:
 *
 *   PD entry ──PS──> 2 MiB frame            after a split:
 *                                           PD entry ──> PT: 512 entries,
 *                                                        each 4 KiB of the
 *                                                        same 2 MiB frame
 *
 * The frame is one order-9 buddy block, a "compound page": its first
 * descriptor (the head) has PG_head | PG_thp and holds the reference
 * count for all 512; the other 511 (tails) have PG_tail and ->private
 * pointing at the head, and get_page()/put_page() on a tail count on the
 * head. Every mapping holds one reference on the head: a PMD leaf one, a
 * 4 KiB entry that maps a part of it one. So the block goes back to the
 * allocator whole, when its last mapping goes. The head's ->private
 * counts its PMD mappings (for AnonHugePages).
 *
 * Splitting a PMD leaf (a munmap, mprotect, mremap or MADV_DONTNEED of
 * part of it, a VMA split inside it, a write to it while fork shares it)
 * replaces it with a page table of 512 entries with the same bits. If the
 * leaf was the block's only reference, the block becomes 512 ordinary
 * 4 KiB pages (Linux's split_huge_page(), done at once), so that unmapping
 * a part frees that part; else the 4 KiB entries reference the compound
 * page (+511 on the head).
 *
 * Locking: PMD leaves are installed and changed under the mm's
 * page_table_lock, as 4 KiB entries; the counts on the head are atomic.
 * The policy is one word read without a lock. */
#ifndef PAGODA_THP_H
#define PAGODA_THP_H

#include <pagoda/mm_types.h>
#include <pagoda/page.h>
#include <pagoda/pgtable.h>

#define HPAGE_PMD_ORDER 9
#define HPAGE_PMD_NR (1U << HPAGE_PMD_ORDER)
#define HPAGE_PMD_SIZE (PAGE_SIZE << HPAGE_PMD_ORDER)
#define HPAGE_PMD_MASK (~(HPAGE_PMD_SIZE - 1))

/* /sys/kernel/mm/transparent_hugepage/enabled */
enum thp_policy {
	THP_ALWAYS,  /* every eligible VMA not marked VM_NOHUGEPAGE */
	THP_MADVISE, /* only VMAs marked VM_HUGEPAGE by madvise(MADV_HUGEPAGE) */
	THP_NEVER,
};

enum thp_policy thp_policy_get(void);
void thp_policy_set(enum thp_policy p);

/* Parse a policy as written to the sysfs file ("madvise", "never\n"):
 * the policy, or -EINVAL (Linux's answer to anything else). */
int thp_policy_parse(const char *buf, size_t len);

/* May a fault at addr in vma map a huge page (the policy, the VMA's kind
 * and flags, and the aligned 2 MiB range inside the VMA)? */
bool thp_vma_allows(const struct vm_area_struct *vma, uintptr_t addr);

/* A write fault at addr with no entry: map a zeroed huge page if allowed
 * and possible. VM_FAULT_OK when it did; VM_FAULT_FALLBACK when the
 * caller should map a 4 KiB page instead (not allowed, a page table is
 * there already, no order-9 block free: silently, as Linux). Takes mm's
 * page_table_lock. */
vm_fault_t thp_do_anonymous_page(struct mm_struct *mm, struct vm_area_struct *vma,
				 uintptr_t addr, unsigned int flags);

/* A write fault at addr on the read-only PMD leaf pmd (copy-on-write
 * after fork). The block's only holder gets the leaf writable; a shared
 * block has our leaf split and the 4 KiB page copied, as Linux 6.1's
 * do_huge_pmd_wp_page() falls back. Takes page_table_lock. */
vm_fault_t thp_wp_fault(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr,
			unsigned int flags, pte_t pmd);

/* Is e, a leaf at level, a PMD leaf of an anonymous huge page? */
bool thp_is_huge_leaf(pte_t e, unsigned int level);

/* Called by the page-table walker (mm/pgtable.c) when it has replaced
 * the PMD leaf old by 4 KiB entries: the block's references follow. */
void thp_pmd_split(pte_t old);

/* A PMD leaf of an anonymous huge page was copied into a child (fork) or
 * removed for good (unmap): the head's count of PMD mappings. */
void thp_pmd_mapped(struct page *head);
void thp_pmd_unmapped(struct page *head);

/* Split the anonymous huge pages of mm that straddle addr (a VMA is
 * about to be split there), or lie in [start, end) at all. 0 or -ENOMEM
 * (a split already made maps the same memory: nothing is lost). */
int thp_split_at(struct mm_struct *mm, uintptr_t addr);
int thp_split_range(struct mm_struct *mm, uintptr_t start, uintptr_t end);

/* madvise(MADV_HUGEPAGE / MADV_NOHUGEPAGE) on [start, end) of vma:
 * splits the VMA at the ends and sets or clears the flags. 0, or -EAGAIN
 * when a VMA cannot be split (Linux's answer). *vma is the VMA that ends
 * the advised part, for the caller's walk. */
int thp_madvise(struct mm_struct *mm, struct vm_area_struct **vma, uintptr_t start,
		uintptr_t end, int advice);

/* Huge pages currently mapped by at least one PMD leaf (/proc/meminfo's
 * AnonHugePages, in units of HPAGE_PMD_NR pages). */
uint64_t thp_nr_anon(void);

/* /sys/kernel/mm/transparent_hugepage/, and the transparent_hugepage=
 * command-line option. */
void thp_sysfs_init(void);

#endif
