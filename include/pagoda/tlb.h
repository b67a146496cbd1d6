/* TLB shootdown and deferred freeing (mm/tlb.c), Linux's mmu_gather.
 *
 * Changing a page-table entry is not finished until every CPU that may
 * hold the old translation in its TLB has dropped it; and a frame (or a
 * page-table page) the old entry pointed at may be reused only after
 * that, or a CPU could still read or write it through its stale entry.
 * So every change that removes or weakens entries goes through a gather:
 *
 *   struct mmu_gather tlb;
 *   tlb_gather_init(&tlb, mm);
 *   pt_unmap_gather(mm->pgd, start, len, &tlb);   records the range, and
 *                                                 defers frees to...
 *   tlb_finish(&tlb);                             ...here: flush this CPU
 *                                                 and every CPU in the mm's
 *                                                 mask (IPI, wait), then
 *                                                 drop the frames and free
 *                                                 the tables
 *
 * A gather whose mm is NULL is for the kernel half: every CPU flushes.
 * Up to TLB_FLUSH_CEILING pages are invalidated one by one (INVLPG);
 * beyond that the whole TLB is flushed (a CR3 reload), which costs less
 * than that many INVLPGs and the misses after it. A CPU that holds the
 * mm only lazily (its idle task runs: mm_enter_lazy()) is left out unless
 * a page table is freed, as on Linux: the paging-structure caches of a
 * CPU may go on walking a table until it flushes, so freed tables reach
 * every CPU that has the mm loaded at all. docs/smp.md draws the
 * timeline of one munmap on two CPUs. */
#ifndef PAGODA_TLB_H
#define PAGODA_TLB_H

#include <pagoda/pgtable.h>
#include <pagoda/types.h>

struct mm_struct;
struct page;

#define TLB_BATCH 64
#define TLB_FLUSH_CEILING 32 /* pages (Linux's single-page flush ceiling is 33) */

struct mmu_gather {
	struct mm_struct *mm;   /* whose CPUs flush; NULL: the kernel half, all CPUs */
	uintptr_t start, end;   /* [start, end): translations that changed */
	unsigned int stride_shift; /* all were pages of at least 1 << stride_shift bytes */
	bool drop_frames;       /* removed user leaves give up their frame reference */
	pt_leaf_fn leaf_fn;     /* called for each leaf removed (tests), or NULL */
	void *leaf_arg;
	bool freed_tables;      /* a page table is deferred: lazy CPUs flush too */
	unsigned int nr;
	uintptr_t deferred[TLB_BATCH]; /* struct page *, bit 0 set for a table page */
};

void tlb_gather_init(struct mmu_gather *tlb, struct mm_struct *mm);

/* Called by the page-table walker for what it changes. */
void tlb_add_range(struct mmu_gather *tlb, uintptr_t va, uint64_t size);
void tlb_leaf_removed(struct mmu_gather *tlb, pte_t old, uintptr_t va, unsigned int level);
void tlb_defer_table(struct mmu_gather *tlb, phys_addr_t table);
/* A page table that translated va is unlinked: the flush must drop it
 * from the paging-structure caches (any invalidation does). */
void tlb_table_removed(struct mmu_gather *tlb, uintptr_t va);
/* Drop a reference to page once the flush is done. */
void tlb_defer_put(struct mmu_gather *tlb, struct page *page);

/* Flush every CPU that may hold the range; the gather stays usable. */
void tlb_flush(struct mmu_gather *tlb);
/* Flush, then release everything deferred. */
void tlb_finish(struct mmu_gather *tlb);

/* Flush all of mm's translations on every CPU that has it loaded (fork,
 * after write-protecting the parent). */
void flush_tlb_mm(struct mm_struct *mm);

/* Tests: called on each remote CPU just before it flushes, with the range
 * (to look through the stale entry); NULL normally. */
extern void (*tlb_remote_flush_hook)(uintptr_t start, uintptr_t end);

#endif
