/* TLB shootdown and deferred freeing (include/pagoda/tlb.h). */
#include <pagoda/atomic.h>
#include <pagoda/mm.h>
#include <pagoda/percpu.h>
#include <pagoda/pmm.h>
#include <pagoda/sched.h>
#include <pagoda/smp.h>
#include <pagoda/thp.h>
#include <pagoda/tlb.h>
#include <asm/x86.h>

#define DEFERRED_TABLE 1UL

void (*tlb_remote_flush_hook)(uintptr_t start, uintptr_t end);

void tlb_gather_init(struct mmu_gather *tlb, struct mm_struct *mm)
{
	*tlb = (struct mmu_gather){ .mm = mm };
}

/* Add [va, va + size), whose translations were pages of 1 << shift bytes
 * (or smaller: PAGE_SHIFT is always safe). */
static void add_range(struct mmu_gather *tlb, uintptr_t va, uint64_t size, unsigned int shift)
{
	if (tlb->start == tlb->end) {
		tlb->start = va;
		tlb->end = va + size;
		tlb->stride_shift = shift;
		return;
	}
	tlb->start = MIN(tlb->start, va);
	tlb->end = MAX(tlb->end, va + size);
	tlb->stride_shift = MIN(tlb->stride_shift, shift);
}

void tlb_add_range(struct mmu_gather *tlb, uintptr_t va, uint64_t size)
{
	add_range(tlb, va, size, PAGE_SHIFT);
}

static void defer(struct mmu_gather *tlb, uintptr_t item)
{
	if (tlb->nr == TLB_BATCH)
		tlb_finish(tlb); /* flush now, release, and go on with an empty batch */
	tlb->deferred[tlb->nr++] = item;
}

void tlb_table_removed(struct mmu_gather *tlb, uintptr_t va)
{
	/* INVLPG of any address drops every paging-structure cache entry
	 * (Intel SDM Vol. 3A, 4.10.4.1), so the leaves' own invalidations
	 * do; with none in the range yet, one page. The table's whole span
	 * would cost a full flush (beyond TLB_FLUSH_CEILING) and the TLB
	 * refilled after it. */
	if (tlb->start == tlb->end)
		tlb_add_range(tlb, va, PAGE_SIZE);
}

void tlb_defer_put(struct mmu_gather *tlb, struct page *page)
{
	defer(tlb, (uintptr_t)page);
}

void tlb_defer_table(struct mmu_gather *tlb, phys_addr_t table)
{
	/* The table is unlinked already: a flush that defer() makes for a
	 * full batch is the one that drops it from every CPU's caches, lazy
	 * ones too; and the flag is set again after, as that flush's
	 * tlb_finish() clears it. */
	tlb->freed_tables = true;
	defer(tlb, (uintptr_t)pfn_to_page(phys_to_pfn(table)) | DEFERRED_TABLE);
	tlb->freed_tables = true;
}

void tlb_leaf_removed(struct mmu_gather *tlb, pte_t old, uintptr_t va, unsigned int level)
{
	struct page *p;

	/* A leaf of level maps one page of its size: one INVLPG drops it. */
	add_range(tlb, va, pt_level_size(level), (unsigned int)__builtin_ctzll(pt_level_size(level)));
	if (tlb->leaf_fn)
		tlb->leaf_fn(old, va, level, tlb->leaf_arg);
	/* Device frames (PTE_SPECIAL) have no reference to give up. */
	if (!tlb->drop_frames || (old & PTE_SPECIAL))
		return;
	p = pfn_to_page(phys_to_pfn(pte_leaf_phys(old, level)));
	if (p && thp_is_huge_leaf(old, level))
		thp_pmd_unmapped(p); /* the reference itself goes below, after the flush */
	if (p)
		tlb_defer_put(tlb, p);
}

struct flush_req {
	struct mm_struct *mm;
	uintptr_t start, end;
	unsigned int shift; /* the range's pages are 1 << shift bytes (0: 4 KiB) */
};

/* Invalidate [start, end) in this CPU's TLB: page by page up to the
 * ceiling, else all of it. The kernel maps nothing global, so a CR3
 * reload drops kernel-half entries too. */
static void flush_local(uintptr_t start, uintptr_t end)
{
	/* LAB tlb: begin, the stub does nothing */
	if ((end - start) / PAGE_SIZE > TLB_FLUSH_CEILING) {
		write_cr3(read_cr3());
		return;
	}
	for (uintptr_t va = start; va < end; va += PAGE_SIZE)
		invlpg(va);
	/* LAB tlb: end */
}

/* [start, end) made of pages of 1 << shift bytes, all huge: INVLPG of
 * any address in a huge page drops its whole entry (Intel SDM Vol. 3A,
 * INVLPG), so one per page, up to the ceiling; a 1 GiB BAR unmapped is
 * one INVLPG, not a full flush. Otherwise as flush_local(). */
static void flush_local_stride(uintptr_t start, uintptr_t end, unsigned int shift)
{
	if (shift > PAGE_SHIFT && (end - start) >> shift <= TLB_FLUSH_CEILING) {
		for (uintptr_t va = start; va < end; va += 1UL << shift)
			invlpg(va);
		return;
	}
	flush_local(start, end);
}

/* On each other CPU, from the IPI: flush if it still has the mm loaded.
 * A CPU that switched away since reloaded CR3, which dropped everything.
 * A CPU that holds the mm lazily (a freed table brought the shootdown
 * here) lets go of it altogether, as on Linux: the CR3 write flushes, and
 * the mm's later shootdowns need not come here at all. */
static void flush_remote(void *arg)
{
	const struct flush_req *r = arg;
	struct percpu *c = this_cpu();

	if (r->mm && READ_ONCE(c->active_mm) != r->mm)
		return;
	c->irqs.tlb++;
	if (tlb_remote_flush_hook)
		tlb_remote_flush_hook(r->start, r->end);
	if (r->mm && READ_ONCE(c->tlb_lazy)) {
		mm_switch(NULL);
		return;
	}
	flush_local_stride(r->start, r->end, r->shift);
}

void tlb_flush(struct mmu_gather *tlb)
{
	/* LAB tlb: begin, the stub does nothing */
	struct flush_req r = { tlb->mm, tlb->start, tlb->end, tlb->stride_shift };
	uint64_t others;

	if (tlb->start == tlb->end)
		return;
	if (!tlb->mm || this_cpu()->active_mm == tlb->mm)
		flush_local_stride(r.start, r.end, r.shift);
	/* The entries changed before we read who may hold them: a CPU that
	 * joins the mask or leaves lazy mode after our reads walks the new
	 * entries (mm_switch() orders its side the same way). */
	smp_mb();
	others = (tlb->mm ? atomic_load(&tlb->mm->cpumask) : READ_ONCE(cpu_online_mask)) &
		 ~(1ULL << cpu_id());
	if (tlb->mm && !tlb->freed_tables) /* leave out the CPUs that hold mm lazily */
		for (uint64_t m = others; m; m &= m - 1)
			if (READ_ONCE(cpu_area((unsigned int)__builtin_ctzll(m))->tlb_lazy))
				others &= ~(m & -m);
	if (others)
		smp_call_mask(others, flush_remote, &r);
	tlb->start = tlb->end = 0;
	/* LAB tlb: end */
}

void tlb_finish(struct mmu_gather *tlb)
{
	/* LAB tlb: begin, the stub does nothing (what was deferred leaks) */
	tlb_flush(tlb);
	for (unsigned int i = 0; i < tlb->nr; i++) {
		uintptr_t item = tlb->deferred[i];
		if (item & DEFERRED_TABLE)
			pt_table_free(page_to_phys((struct page *)(item & ~DEFERRED_TABLE)));
		else
			put_page((struct page *)item);
	}
	/* LAB tlb: end */
	tlb->nr = 0; /* the batch is empty again, so defer() may go on filling it */
	tlb->freed_tables = false;
}

void flush_tlb_mm(struct mm_struct *mm)
{
	struct mmu_gather tlb;

	tlb_gather_init(&tlb, mm);
	tlb_add_range(&tlb, 0, USER_HALF_END); /* beyond the ceiling: a full flush */
	tlb_flush(&tlb);
}
