/* Page tables shared at fork, and unshared on the first change (see
 * include/pagoda/pt_share.h and docs/shared-page-tables.md).
 *
 * The TLB, case by case (Intel SDM Vol. 3A, 4.10: a TLB entry caches the
 * access rights of every level, and paging-structure caches keep PD
 * entries, so a PD entry is "in use" until a flush):
 * - fork clears PTE_WRITE in the parent's PD entries: mm_fork() flushes
 *   the parent on every CPU before it returns. The child is new.
 * - an unshare that copies points this mm's PD entry at the copy. A CPU
 *   of this mm may still walk the old table through a cached PD entry;
 *   the copy maps the same frames with fewer rights, so that is harmless
 *   for a while, but once the old table's other holder takes it back it
 *   may change its entries. So this mm is flushed before its reference
 *   is dropped: the gather flushes, then pt_table_free() drops it.
 * - the entries of the original lose PTE_WRITE in an unshare. The other
 *   holders reach them only through read-only PD entries, so no CPU holds
 *   a writable translation through them: nothing to flush there.
 * - the last holder taking its table back makes the PD entry writable:
 *   more rights, no flush (a stale read-only translation faults once,
 *   and the fault finds the entry writable).
 * - a whole shared table unmapped (munmap, exit): the PD entry is
 *   cleared, the gather flushes, then the reference goes.
 *
 * Two holders may unshare at once on two CPUs: pt_share_lock makes one
 * wait. Each then sees the count as it stands (a drop still waiting for
 * its flush keeps counting), and at worst both copy: the last drop then
 * releases the frames of the original (pt_share_put()). The count only
 * rises by fork of a holder, which holds that holder's mmap_lock for
 * writing, so a holder that sees 1 under its own mmap_lock is alone. */
#include <pagoda/atomic.h>
#include <pagoda/cmdline.h>
#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/pt_share.h>
#include <pagoda/string.h>
#include <pagoda/tlb.h>
#include <pagoda/vma.h>

DEFINE_SPINLOCK(pt_share_lock);

static int share_enabled = -1; /* -1: the command line is not read yet */
static uint64_t nr_shared;     /* tables with PG_pgshared; atomic */

bool pt_share_enabled(void)
{
	int on = READ_ONCE(share_enabled);

	if (on < 0) {
		const char *v = kernel_param("fork_share_tables");
		on = !(v && v[0] == '0');
		WRITE_ONCE(share_enabled, on);
	}
	return on;
}

void pt_share_set_enabled(bool on)
{
	WRITE_ONCE(share_enabled, on);
}

uint64_t pt_share_nr_tables(void)
{
	return atomic_load(&nr_shared);
}

bool pt_share_vma_ok(const struct vm_area_struct *v)
{
	return !v->vm_file && !v->vm_ops && !(v->vm_flags & (VM_SHARED | VM_PFNMAP | VM_IO));
}

static struct page *table_page(pte_t pde)
{
	return pfn_to_page(phys_to_pfn(pde & PTE_ADDR_MASK));
}

void pt_share_table(pte_t *src, pte_t *dst)
{
	struct page *t = table_page(*src);

	spin_lock(&pt_share_lock);
	atomic_inc(&t->refcount);
	if (!(t->flags & PG_pgshared)) {
		t->flags |= PG_pgshared;
		atomic_inc(&nr_shared);
	}
	*src &= ~PTE_WRITE;
	*dst = *src;
	spin_unlock(&pt_share_lock);
}

/* The last holder's table is an ordinary one again. pt_share_lock held. */
static void table_unmark_locked(struct page *t)
{
	assert_spin_locked(&pt_share_lock);
	if (t->flags & PG_pgshared) {
		t->flags &= ~PG_pgshared;
		atomic_dec(&nr_shared);
	}
}

/* Copy the 512 entries of from into to, as fork's copy-on-write does for
 * each page: a frame of RAM gains a reference (the copy's entry), and
 * both entries lose PTE_WRITE and gain PTE_COW; device and zero-page
 * entries (PTE_SPECIAL) are copied as they are. The hardware may set an
 * Accessed bit in from meanwhile, through another holder: losing it is
 * harmless, and no Dirty bit can be set through a read-only PD entry. */
static void copy_entries_locked(pte_t *to, pte_t *from)
{
	assert_spin_locked(&pt_share_lock);
	for (unsigned int i = 0; i < PT_ENTRIES; i++) {
		pte_t e = from[i];
		struct page *p;

		if (!(e & (PTE_PRESENT | PTE_PROTNONE)) || (e & PTE_SPECIAL)) {
			to[i] = e;
			continue;
		}
		if ((p = pfn_to_page(phys_to_pfn(e & PTE_ADDR_MASK))))
			get_page(p);
		e = (e & ~PTE_WRITE) | PTE_COW;
		from[i] = to[i] = e;
	}
}

int pt_unshare_table_locked(pte_t *pde, uintptr_t base, struct mmu_gather *tlb)
{
	phys_addr_t old = *pde & PTE_ADDR_MASK, copy;
	struct page *t = table_page(*pde);

	/* The mm's page_table_lock: asserted where the gather names the mm
	 * (the walker's own callers may not know it). */
	BUG_ON(tlb && tlb->mm && !spin_held(&tlb->mm->page_table_lock));
	spin_lock(&pt_share_lock);
	if (atomic_load(&t->refcount) == 1) { /* ours alone: take it back */
		table_unmark_locked(t);
		*pde |= PTE_WRITE;
		spin_unlock(&pt_share_lock);
		return 0;
	}
	if (!(copy = pt_table_alloc())) {
		spin_unlock(&pt_share_lock);
		return -ENOMEM;
	}
	copy_entries_locked(phys_to_virt(copy), phys_to_virt(old));
	*pde = (*pde & ~PTE_ADDR_MASK) | copy | PTE_WRITE;
	spin_unlock(&pt_share_lock);
	/* Outside the lock: a full gather flushes and frees here. */
	tlb_add_range(tlb, base, pt_level_size(1));
	tlb_defer_table(tlb, old);
	return 0;
}

bool pt_share_put(struct page *t)
{
	uint32_t v = atomic_load(&t->refcount);
	pte_t *e;

	while (v > 1)
		if (atomic_cmpxchg(&t->refcount, &v, v - 1))
			return true;
	if (!(t->flags & PG_pgshared))
		return false;
	/* The last holder let go of a whole shared table: its entries still
	 * hold their frames (one reference each). No CPU can reach it now. */
	e = page_address(t);
	for (unsigned int i = 0; i < PT_ENTRIES; i++) {
		struct page *p;
		if ((e[i] & (PTE_PRESENT | PTE_PROTNONE)) && !(e[i] & PTE_SPECIAL) &&
		    (p = pfn_to_page(phys_to_pfn(e[i] & PTE_ADDR_MASK))))
			put_page(p);
	}
	t->flags &= ~PG_pgshared;
	atomic_dec(&nr_shared);
	return false;
}

int mm_unshare_range(struct mm_struct *mm, uintptr_t start, uintptr_t end, bool keep_whole)
{
	struct mmu_gather tlb;
	int ret;

	if (!pt_share_nr_tables() || end <= start)
		return 0;
	start = ALIGN_DOWN(start, PAGE_SIZE);
	end = ALIGN_UP(end, PAGE_SIZE);
	tlb_gather_init(&tlb, mm);
	spin_lock(&mm->page_table_lock);
	ret = pt_unshare_gather(mm->pgd, start, end - start, keep_whole, &tlb);
	tlb_flush(&tlb); /* no CPU of mm walks an old table after the lock */
	spin_unlock(&mm->page_table_lock);
	tlb_finish(&tlb);
	return ret;
}

int mm_unshare_fault(struct mm_struct *mm, uintptr_t addr, unsigned int flags)
{
	struct pt_lookup_result r;

	if (!pt_share_nr_tables())
		return 0;
	/* A read of a present page changes nothing. */
	if (!(flags & FAULT_FLAG_WRITE) && pt_lookup(mm->pgd, addr, &r) == 0)
		return 0;
	return mm_unshare_range(mm, addr, addr + PAGE_SIZE, false);
}
