/* Page tables shared at fork (mm/pt_share.c), as On-Demand-Fork (Zhao et
 * al., EuroSys 2021). See docs/shared-page-tables.md.
 *
 * At fork, a last-level page table (level 0: 512 PTEs, one 2 MiB span)
 * whose whole span lies inside one private anonymous VMA is not copied:
 * the child's PD entry points at the parent's table, and both PD entries
 * lose PTE_WRITE (x86 checks R/W at every level, so any write through
 * either faults). The table page's reference count (its struct page's
 * refcount) counts the address spaces that point at it. A frame's count
 * keeps meaning "PTEs that map it": a shared table's entry counts once.
 *
 * So, in the user half, a PD entry that points at a table and has
 * PTE_WRITE clear is a shared table (pt_pde_shared()). Every change to
 * the entries of such a table first unshares it (pt_unshare_table_locked()):
 * the holder gets a copy of its own, writable, whose entries each take a
 * frame reference and lose PTE_WRITE for copy-on-write in the copy and
 * in the original alike, as fork's copy does; or, if it is the table's
 * last holder, just gets its PD entry writable again. The page-table
 * walker (mm/pgtable.c) does that on every path that modifies entries,
 * so no caller can forget; read-only walks go through shared tables.
 *
 * Locking: pt_share_lock (below) is taken inside page_table_lock. */
#ifndef PAGODA_PT_SHARE_H
#define PAGODA_PT_SHARE_H

#include <pagoda/pgtable.h>
#include <pagoda/spinlock.h>
#include <pagoda/types.h>

struct mm_struct;
struct mmu_gather;
struct page;
struct vm_area_struct;

/* Guards the entries of every shared table and the rise of a table's
 * reference count: fork sharing a table, and an unshare deciding between
 * copying and taking the table back, run under it. The count falls
 * without it (atomically, in pt_table_free(), once the dropping mm's TLB
 * is flushed). Nests inside page_table_lock; nothing nests inside it but
 * the allocator's locks. */
extern spinlock_t pt_share_lock;

/* fork_share_tables=0|1 on the command line (default 1); tests and the
 * bench switch it at run time. */
bool pt_share_enabled(void);
void pt_share_set_enabled(bool on);

/* May fork share the tables of v (private, anonymous, RAM)? */
bool pt_share_vma_ok(const struct vm_area_struct *v);

/* Is pde, an entry of a page directory (level 1), a shared table? */
static inline bool pt_pde_shared(pte_t pde)
{
	return (pde & PTE_PRESENT) && !(pde & PTE_PS) && !(pde & PTE_WRITE);
}

/* Tables that fork shared and whose holders have not all taken them
 * back (PG_pgshared); 0 lets the walker skip looking for them. */
uint64_t pt_share_nr_tables(void);

/* fork: make *dst point at the table *src points at, both read-only, and
 * count the new holder. Takes pt_share_lock. */
void pt_share_table(pte_t *src, pte_t *dst);

/* Give the mm whose PD entry is *pde (mapping [base, base + 2 MiB)) a
 * table of its own: a copy, or the table itself if it holds it alone.
 * tlb (the mm's gather) flushes the old translations and then drops the
 * reference to the old table. Returns 0 or -ENOMEM (nothing changed).
 * The caller holds the mm's page_table_lock; takes pt_share_lock. */
int pt_unshare_table_locked(pte_t *pde, uintptr_t base, struct mmu_gather *tlb);

/* pt_table_free() on a table page: drop one reference. Returns true if
 * the table still has holders; false if the caller frees it, after the
 * frames its entries still held (a shared table's last holder let go of
 * it whole) were released here. */
bool pt_share_put(struct page *table);

/* Unshare every shared table that maps part of [start, end) in mm,
 * except, with keep_whole, those whose whole span lies inside (an unmap
 * that drops frames just drops those). Takes page_table_lock. Returns 0
 * or -ENOMEM; a table already unshared stays so (the mapping is the
 * same), so a failure leaves nothing half-done. */
int mm_unshare_range(struct mm_struct *mm, uintptr_t start, uintptr_t end, bool keep_whole);

/* Before a fault at addr changes the table behind it (a write, or an
 * entry to fill): unshare it. 0 or -ENOMEM. */
int mm_unshare_fault(struct mm_struct *mm, uintptr_t addr, unsigned int flags);

#endif
