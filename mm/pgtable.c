/* x86-64 page tables: map, unmap, protect and look up ranges with 4 KiB,
 * 2 MiB and 1 GiB entries. See include/pagoda/pgtable.h for the layout.
 *
 * One walker serves every level: walk_alloc() descends to the table that
 * holds a given level's entry (creating tables on the way), and
 * walk_range() recurses over a range of any level, splitting a huge entry
 * that straddles the range, and freeing tables that end up empty.
 *
 * Last-level tables may be shared by fork (include/pagoda/pt_share.h).
 * Every path here that changes entries of a table, or descends into one
 * to change it, unshares it first: walk_alloc(), pt_set_leaf_gather(),
 * and the unmap and protect walks, which run an unsharing pass of their
 * own (unshare_range()) over the whole range before changing anything
 * (so that -ENOMEM leaves nothing half-done, and the lab's walk_range()
 * never meets a shared table). Lookups and visits read through them. */
#include <asm/cpu.h>
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/memblock.h>
#include <asm/mtrr.h>
#include <pagoda/panic.h>
#include <pagoda/pgtable.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/pt_share.h>
#include <pagoda/string.h>
#include <pagoda/thp.h>
#include <pagoda/tlb.h>
#include <asm/x86.h>

#define TABLE_BITS (PTE_PRESENT | PTE_WRITE | PTE_USER) /* leaves decide */
#define KERNEL_HALF_INDEX 256 /* PML4 entries from here are shared by every mm */
#define IDENTITY_LIMIT (4ULL << 30)

phys_addr_t kernel_pml4;
static bool tables_from_pmm, direct_map_ready;
static uint64_t nr_table_pages; /* atomic */

void pt_use_pmm(void) { tables_from_pmm = true; }
void pt_set_direct_map_ready(void) { direct_map_ready = true; }
uint64_t pt_table_pages(void) { return atomic_load(&nr_table_pages); }

/* A table page as the kernel sees it: through the direct map once it
 * exists, before that through the boot identity map of the low 4 GiB. */
static pte_t *table_va(phys_addr_t pa)
{
	if (direct_map_ready)
		return phys_to_virt(pa);
	BUG_ON(pa >= IDENTITY_LIMIT);
	return (pte_t *)(uintptr_t)pa;
}

static phys_addr_t table_alloc(void)
{
	phys_addr_t pa;

	if (tables_from_pmm) {
		struct page *p = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!p)
			return 0;
		pa = page_to_phys(p);
	} else {
		pa = memblock_alloc(PAGE_SIZE, PAGE_SIZE, IDENTITY_LIMIT);
		if (!pa)
			return 0;
		memset(table_va(pa), 0, PAGE_SIZE);
	}
	atomic_inc(&nr_table_pages);
	return pa;
}

phys_addr_t pt_table_alloc(void)
{
	return table_alloc();
}

/* Tables from memblock or in the kernel image are reserved: never freed.
 * A table fork shared goes with its last holder. */
void pt_table_free(phys_addr_t pa)
{
	struct page *p = pfn_to_page(phys_to_pfn(pa));

	if (tables_from_pmm && p && !(p->flags & PG_reserved) && !pt_share_put(p)) {
		free_pages(p, 0);
		atomic_dec(&nr_table_pages);
	}
}

static unsigned int pt_index(uintptr_t va, unsigned int level)
{
	return (va >> (12 + 9 * level)) & (PT_ENTRIES - 1);
}

static bool is_leaf(pte_t e, unsigned int level)
{
	return level == 0 || (e & PTE_PS);
}

/* Is the PD entry e, mapping va, a table fork shared? Only user tables
 * ever are: the kernel half's entries are whatever boot made them. */
static bool shared_table(pte_t e, uintptr_t va)
{
	return va < USER_HALF_END && pt_pde_shared(e);
}

/* Does the entry map something? Tables always have PTE_PRESENT; a leaf
 * may instead be a PROT_NONE mapping. */
static bool entry_used(pte_t e)
{
	return e & (PTE_PRESENT | PTE_PROTNONE);
}

/* A leaf entry for pa at level. prot is in 4 KiB format, where the PAT bit
 * is bit 7; in a 2 MiB or 1 GiB entry bit 7 is PS and PAT moves to bit 12. */
static pte_t make_leaf(phys_addr_t pa, uint64_t prot, unsigned int level)
{
	if (!cpu.nx)
		prot &= ~PTE_NX; /* without EFER.NXE, bit 63 is reserved */
	if (level == 0)
		return pa | prot;
	if (prot & PTE_PAT_4K)
		prot = (prot & ~PTE_PAT_4K) | PTE_PAT_LARGE;
	return pa | prot | PTE_PS;
}

phys_addr_t pte_leaf_phys(pte_t e, unsigned int level)
{
	return e & PTE_ADDR_MASK & ~(pt_level_size(level) - 1);
}

pgprot_t pte_leaf_prot(pte_t e, unsigned int level)
{
	if (level == 0)
		return __pgprot(e & ~PTE_ADDR_MASK);
	uint64_t prot = e & ~PTE_ADDR_MASK & ~PTE_PS & ~PTE_PAT_LARGE;
	return __pgprot((e & PTE_PAT_LARGE) ? prot | PTE_PAT_4K : prot);
}

enum cache_mode pte_cache_mode(pte_t pte, unsigned int level)
{
	uint64_t pat = level == 0 ? (pte & PTE_PAT_4K) : (pte & PTE_PAT_LARGE);
	unsigned int idx = (pte & PTE_PWT ? 1 : 0) | (pte & PTE_PCD ? 2 : 0) | (pat ? 4 : 0);

	/* Indices 4..7 repeat WB, (WP), UC-, (WT): we never use WP or WT. */
	return (enum cache_mode)(idx & 3);
}

static bool range_ok(uintptr_t va, uint64_t size)
{
	uintptr_t end = va + size;

	if (!size || end < va || !IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE))
		return false;
	return end <= USER_HALF_END || va >= KERNEL_HALF_START;
}

int pt_set_leaf_gather(phys_addr_t root, uintptr_t va, pte_t pte, struct mmu_gather *tlb)
{
	pte_t *table = table_va(root);

	for (unsigned int l = PT_LEVELS - 1; l > 0; l--) {
		pte_t *e = &table[pt_index(va, l)];
		if (!(*e & PTE_PRESENT) || is_leaf(*e, l))
			return -ENOENT;
		if (l == 1 && shared_table(*e, va)) {
			int ret;
			if (!entry_used(table_va(*e & PTE_ADDR_MASK)[pt_index(va, 0)]))
				return -ENOENT; /* nothing to replace: leave it shared */
			if ((ret = pt_unshare_table_locked(e, ALIGN_DOWN(va, pt_level_size(1)), tlb)) < 0)
				return ret;
		}
		table = table_va(*e & PTE_ADDR_MASK);
	}
	if (!entry_used(table[pt_index(va, 0)]))
		return -ENOENT;
	table[pt_index(va, 0)] = pte;
	tlb_add_range(tlb, va, PAGE_SIZE);
	return 0;
}

int pt_set_leaf(phys_addr_t root, uintptr_t va, pte_t pte)
{
	struct mmu_gather tlb;
	int ret;

	tlb_gather_init(&tlb, NULL);
	ret = pt_set_leaf_gather(root, va, pte, &tlb);
	tlb_finish(&tlb);
	return ret;
}

/* The PD entry that maps va, if the tables down to it exist. */
static pte_t *find_pde(phys_addr_t root, uintptr_t va)
{
	pte_t *table = table_va(root);

	for (unsigned int l = PT_LEVELS - 1; l > 1; l--) {
		pte_t e = table[pt_index(va, l)];
		if (!(e & PTE_PRESENT) || is_leaf(e, l))
			return NULL;
		table = table_va(e & PTE_ADDR_MASK);
	}
	return &table[pt_index(va, 1)];
}

/* Before walk_alloc() descends to a level-0 entry to fill it (pt_map():
 * a fault filling an empty entry, remap_pfn_range()): unshare the table
 * if fork shares it. The walk has no gather of its mm's, so every CPU
 * flushes; the mm's own paths unshare before they get here
 * (mm_unshare_fault(), mm_unshare_range()): this is the net under the
 * rest. Returns 0 or -ENOMEM. */
static int unshare_for_alloc(phys_addr_t root, uintptr_t va, unsigned int level)
{
	pte_t *pde = level == 0 ? find_pde(root, va) : NULL;
	struct mmu_gather all;
	int ret;

	if (!pde || !shared_table(*pde, va))
		return 0;
	tlb_gather_init(&all, NULL);
	ret = pt_unshare_table_locked(pde, ALIGN_DOWN(va, pt_level_size(1)), &all);
	tlb_finish(&all);
	return ret;
}

/* The entry that maps va at level, creating the tables above it (and
 * unsharing a shared last-level table first). Fails with -EEXIST when a
 * huge leaf above level already covers va, -ENOMEM. */
static int walk_alloc(phys_addr_t root, uintptr_t va, unsigned int level, pte_t **out)
{
	if (unshare_for_alloc(root, va, level) < 0)
		return -ENOMEM;
	/* LAB pgtable: begin, the stub returns -ENOSYS */
	pte_t *table = table_va(root);

	for (unsigned int l = PT_LEVELS - 1; l > level; l--) {
		pte_t *e = &table[pt_index(va, l)];
		if (!entry_used(*e)) {
			phys_addr_t t = table_alloc();
			if (!t)
				return -ENOMEM;
			*e = t | TABLE_BITS;
		} else if (is_leaf(*e, l)) {
			return -EEXIST;
		}
		table = table_va(*e & PTE_ADDR_MASK);
	}
	*out = &table[pt_index(va, level)];
	return 0;
	/* LAB pgtable: end */
}

/* The largest entry that fits at va/pa with remaining bytes left. */
static unsigned int choose_level(uintptr_t va, phys_addr_t pa, uint64_t remaining,
				 unsigned int flags)
{
	/* LAB pgtable: begin, the stub returns 0 (4 KiB pages only) */
	if (!(flags & PT_MAP_HUGE))
		return 0;
	for (unsigned int l = 2; l > 0; l--) {
		uint64_t sz = pt_level_size(l);
		if (l == 2 && !cpu.gbpages)
			continue;
		/* A huge page over mixed MTRR types is undefined (SDM 12.11.9). */
		if (IS_ALIGNED(va, sz) && IS_ALIGNED(pa, sz) && remaining >= sz &&
		    mtrr_huge_ok(pa, sz))
			return l;
	}
	return 0;
	/* LAB pgtable: end */
}

enum walk_op { WALK_UNMAP, WALK_PROTECT, WALK_PRUNE, WALK_SPLIT, WALK_VISIT };

struct walk {
	enum walk_op op;
	uint64_t prot;
	struct mmu_gather *tlb; /* what changed, and what to free after the flush */
	pt_leaf_fn fn;          /* WALK_VISIT: called for each leaf */
	void *arg;
	uint64_t tables;        /* WALK_VISIT: tables entered */
	uintptr_t gap_start;    /* WALK_UNMAP of a VMA that goes: no VMA is left in */
	uintptr_t gap_end;      /* [gap_start, gap_end) (empty: not known) */
};

/* split_leaf() for the PMD leaf of an anonymous huge page: the same 512
 * entries, then the block's reference counts follow them (mm/thp.c). Kept
 * apart from split_leaf() so that the lab's version of it needs to know
 * nothing of reference counts. */
static int split_huge_anon(struct walk *w, pte_t *e, uintptr_t base)
{
	phys_addr_t t = table_alloc(), pa = pte_leaf_phys(*e, 1);
	uint64_t prot = pte_leaf_prot(*e, 1).bits;
	pte_t old = *e, *tab;

	if (!t)
		return -ENOMEM;
	tab = table_va(t);
	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		tab[i] = make_leaf(pa + i * PAGE_SIZE, prot, 0);
	*e = t | TABLE_BITS;
	tlb_add_range(w->tlb, base, pt_level_size(1));
	thp_pmd_split(old);
	return 0;
}

/* Replace the huge leaf *e at level by a table of level - 1 entries that
 * map the same memory with the same protection. */
static int split_leaf(struct walk *w, pte_t *e, unsigned int level, uintptr_t base)
{
	if (thp_is_huge_leaf(*e, level))
		return split_huge_anon(w, e, base);
	/* LAB pgtable: begin, the stub returns -ENOSYS */
	phys_addr_t t = table_alloc(), pa = pte_leaf_phys(*e, level);
	uint64_t prot = pte_leaf_prot(*e, level).bits, child = pt_level_size(level - 1);
	pte_t *tab;

	if (!t)
		return -ENOMEM;
	tab = table_va(t);
	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		tab[i] = make_leaf(pa + i * child, prot, level - 1);
	*e = t | TABLE_BITS;
	tlb_add_range(w->tlb, base, pt_level_size(level)); /* the huge entry's TLB line */
	return 0;
	/* LAB pgtable: end */
}

static bool table_empty(const pte_t *t)
{
	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		if (t[i])
			return false;
	return true;
}

/* May child, the table under an entry whose span is [base, base + size),
 * be freed now that the walk emptied its part of it? When the walk knows
 * the gap between the VMAs left (Linux's free_pgtables() floor and
 * ceiling), a table inside the gap is empty, since only VMAs map user
 * memory, and a table that reaches beyond it is kept for the VMA next
 * door, which will likely fault into it again: no 512-entry scan either
 * way. Otherwise, look. */
static bool table_unused(const struct walk *w, const pte_t *child, uintptr_t base,
			 uint64_t size)
{
	if (w->gap_end > w->gap_start)
		return base >= w->gap_start && base + size <= w->gap_end;
	return table_empty(child);
}

static void walk_leaf(struct walk *w, pte_t *e, unsigned int level, uintptr_t base)
{
	pte_t old = *e;

	if (w->op == WALK_SPLIT)
		return; /* a leaf inside the range stays whole */
	if (w->op == WALK_UNMAP) {
		*e = 0;
		tlb_leaf_removed(w->tlb, old, base, level);
		return;
	} else {
		/* Keep what belongs to the frame, not the protection: "special"
		 * (no struct page), and copy-on-write, which must stay read-only
		 * whatever the new protection until the write fault copies it. */
		uint64_t prot = w->prot | (old & (PTE_SPECIAL | PTE_COW));
		if (old & PTE_COW)
			prot &= ~PTE_WRITE;
		*e = make_leaf(pte_leaf_phys(old, level), prot, level);
	}
	tlb_add_range(w->tlb, base, pt_level_size(level));
}

static int walk_range(struct walk *w, pte_t *table, unsigned int level, uintptr_t va,
		      uintptr_t end)
{
	/* LAB pgtable: begin, the stub returns -ENOSYS */
	uint64_t size = pt_level_size(level);

	for (uintptr_t next; va < end; va = next) {
		uintptr_t base = ALIGN_DOWN(va, size);
		unsigned int i = pt_index(va, level);
		pte_t *e = &table[i];
		int ret;

		next = end - base > size ? base + size : end;
		if (!entry_used(*e))
			continue;
		if (is_leaf(*e, level)) {
			if (w->op == WALK_PRUNE)
				continue;
			if (w->op == WALK_VISIT) {
				if (w->fn)
					w->fn(*e, base, level, w->arg);
				continue;
			}
			if (va == base && next - base == size) {
				walk_leaf(w, e, level, base);
				continue;
			}
			if ((ret = split_leaf(w, e, level, base)) < 0)
				return ret;
		}
		pte_t *child = table_va(*e & PTE_ADDR_MASK);
		w->tables++;
		if ((ret = walk_range(w, child, level - 1, va, next)) < 0)
			return ret;
		if ((w->op == WALK_UNMAP || w->op == WALK_PRUNE) && table_unused(w, child, base, size) &&
		    !(level == PT_LEVELS - 1 && i >= KERNEL_HALF_INDEX)) {
			phys_addr_t t = *e & PTE_ADDR_MASK;
			*e = 0;
			/* Paging-structure caches may hold the table: it is freed
			 * only after the flush (tlb_table_removed() says how
			 * little of a flush that takes). */
			tlb_table_removed(w->tlb, base);
			tlb_defer_table(w->tlb, t);
		}
	}
	return 0;
	/* LAB pgtable: end */
}

/* What the unsharing pass does with a shared table whose whole span the
 * range covers: unshare it like the others, leave it (the caller will
 * drop it), or drop it now (an unmap that drops frames: clear the PD
 * entry; after the flush the last holder's pt_table_free() releases the
 * frames its entries hold). */
enum unshare_whole { WHOLE_UNSHARE, WHOLE_KEEP, WHOLE_DROP };

/* The unsharing pass over [va, end) of table (level >= 1): a walker of
 * its own, apart from walk_range(), which never meets a shared table
 * when it changes entries (the unmap and protect walks run this first;
 * visits, splits and prunes change no level-0 entry). 0 or -ENOMEM. */
static int unshare_range(pte_t *table, unsigned int level, uintptr_t va, uintptr_t end,
			 enum unshare_whole whole_op, struct mmu_gather *tlb)
{
	uint64_t size = pt_level_size(level);

	for (uintptr_t next; va < end; va = next) {
		uintptr_t base = ALIGN_DOWN(va, size);
		pte_t *e = &table[pt_index(va, level)];
		bool whole;
		int ret;

		next = end - base > size ? base + size : end;
		whole = va == base && next - base == size;
		if (!entry_used(*e) || is_leaf(*e, level))
			continue;
		if (level > 1) {
			ret = unshare_range(table_va(*e & PTE_ADDR_MASK), level - 1, va, next, whole_op, tlb);
		} else if (!shared_table(*e, base) || (whole && whole_op == WHOLE_KEEP)) {
			ret = 0;
		} else if (whole && whole_op == WHOLE_DROP) {
			phys_addr_t t = *e & PTE_ADDR_MASK;
			*e = 0;
			tlb_add_range(tlb, base, size);
			tlb_defer_table(tlb, t);
			ret = 0;
		} else {
			ret = pt_unshare_table_locked(e, base, tlb);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Walk [va, va + size) with w. Without a gather of the caller's, use one
 * for every CPU and finish it here. Unmap and protect first unshare every
 * table fork shares in the range, before anything changes, so that
 * -ENOMEM leaves nothing half-done. */
static int walk_root(phys_addr_t root, struct walk *w, uintptr_t va, uint64_t size,
		     struct mmu_gather *tlb)
{
	struct mmu_gather own;
	int ret;

	if (!range_ok(va, size))
		return -EINVAL;
	if (!tlb)
		tlb_gather_init(&own, NULL);
	w->tlb = tlb ? tlb : &own;
	ret = 0;
	if ((w->op == WALK_UNMAP || w->op == WALK_PROTECT) && pt_share_nr_tables())
		ret = unshare_range(table_va(root), PT_LEVELS - 1, va, va + size,
				    w->op == WALK_UNMAP && w->tlb->drop_frames ? WHOLE_DROP
									: WHOLE_UNSHARE,
				    w->tlb);
	if (ret == 0)
		ret = walk_range(w, table_va(root), PT_LEVELS - 1, va, va + size);
	if (!tlb)
		tlb_finish(&own);
	return ret;
}

int pt_unmap_gap_gather(phys_addr_t root, uintptr_t va, uint64_t size, uintptr_t gap_start,
			uintptr_t gap_end, struct mmu_gather *tlb)
{
	struct walk w = { .op = WALK_UNMAP, .gap_start = gap_start, .gap_end = gap_end };

	BUG_ON(gap_end > gap_start && (gap_start > va || va + size > gap_end ||
				       gap_end > USER_HALF_END));
	return walk_root(root, &w, va, size, tlb);
}

int pt_unmap_gather(phys_addr_t root, uintptr_t va, uint64_t size, struct mmu_gather *tlb)
{
	return pt_unmap_gap_gather(root, va, size, 0, 0, tlb); /* no gap known: look */
}

int pt_unmap(phys_addr_t root, uintptr_t va, uint64_t size, pt_leaf_fn fn, void *arg)
{
	struct mmu_gather tlb;
	int ret;

	tlb_gather_init(&tlb, NULL);
	tlb.leaf_fn = fn;
	tlb.leaf_arg = arg;
	ret = pt_unmap_gather(root, va, size, &tlb);
	tlb_finish(&tlb);
	return ret;
}

int pt_protect_gather(phys_addr_t root, uintptr_t va, uint64_t size, pgprot_t prot,
		      struct mmu_gather *tlb)
{
	struct walk w = { .op = WALK_PROTECT, .prot = prot.bits & ~PTE_ADDR_MASK };

	return walk_root(root, &w, va, size, tlb);
}

int pt_protect(phys_addr_t root, uintptr_t va, uint64_t size, pgprot_t prot)
{
	return pt_protect_gather(root, va, size, prot, NULL);
}

int pt_unshare_gather(phys_addr_t root, uintptr_t va, uint64_t size, bool keep_whole,
		      struct mmu_gather *tlb)
{
	if (!range_ok(va, size))
		return -EINVAL;
	return unshare_range(table_va(root), PT_LEVELS - 1, va, va + size,
			     keep_whole ? WHOLE_KEEP : WHOLE_UNSHARE, tlb);
}

int pt_split_gather(phys_addr_t root, uintptr_t va, uint64_t size, struct mmu_gather *tlb)
{
	struct walk w = { .op = WALK_SPLIT };

	return walk_root(root, &w, va, size, tlb);
}

long pt_walk(phys_addr_t root, uintptr_t va, uint64_t size, pt_leaf_fn fn, void *arg)
{
	struct walk w = { .op = WALK_VISIT, .fn = fn, .arg = arg };
	struct mmu_gather nothing;
	int ret;

	tlb_gather_init(&nothing, NULL); /* a visit changes nothing: no flush */
	ret = walk_root(root, &w, va, size, &nothing);
	return ret < 0 ? ret : (long)w.tables;
}

/* Free the tables in [va, va + size) that hold no entry: after a failed
 * pt_map(), which may have created tables for nothing. */
static void pt_prune(phys_addr_t root, uintptr_t va, uint64_t size)
{
	struct walk w = { .op = WALK_PRUNE };

	walk_root(root, &w, va, size, NULL);
}

int pt_map(phys_addr_t root, uintptr_t va, phys_addr_t pa, uint64_t size, pgprot_t prot,
	   unsigned int flags)
{
	/* LAB pgtable: begin, the stub returns -ENOSYS */
	uintptr_t cur = va, end = va + size, table_end = 0;
	unsigned int elevel = PT_LEVELS;
	pte_t *e = NULL;
	int ret = 0;

	if (!range_ok(va, size) || !IS_ALIGNED(pa, PAGE_SIZE) || pa + size < pa ||
	    pa + size > cpu_phys_limit())
		return -EINVAL;
	while (cur < end) {
		phys_addr_t cpa = pa + (cur - va);
		unsigned int level = choose_level(cur, cpa, end - cur, flags);
		uint64_t span = pt_level_size(level + 1);

		if (level != elevel || cur >= table_end) {
			if ((ret = walk_alloc(root, cur, level, &e)) < 0)
				goto fail;
			elevel = level;
			table_end = ALIGN_DOWN(cur, span) + span;
		}
		if (entry_used(*e)) {
			ret = -EEXIST;
			goto fail;
		}
		*e++ = make_leaf(cpa, prot.bits & ~PTE_ADDR_MASK, level);
		cur += pt_level_size(level);
	}
	return 0;
fail:
	if (cur > va)
		pt_unmap(root, va, cur - va, NULL, NULL);
	pt_prune(root, va, size);
	return ret;
	/* LAB pgtable: end */
}

int pt_map_leaf(phys_addr_t root, uintptr_t va, phys_addr_t pa, unsigned int level,
		pgprot_t prot)
{
	uint64_t size = pt_level_size(level);
	pte_t *e;
	int ret;

	if (level == 0 || level >= PT_LEVELS - 1 || !range_ok(va, size) || !IS_ALIGNED(va, size) ||
	    !IS_ALIGNED(pa, size))
		return -EINVAL;
	if ((ret = walk_alloc(root, va, level, &e)) < 0)
		return ret;
	if (entry_used(*e))
		return -EEXIST;
	*e = make_leaf(pa, prot.bits & ~PTE_ADDR_MASK, level);
	return 0;
}

bool pt_level_empty(phys_addr_t root, uintptr_t va, unsigned int level)
{
	pte_t *table = table_va(root);

	for (unsigned int l = PT_LEVELS - 1;; l--) {
		pte_t e = table[pt_index(va, l)];
		if (!entry_used(e))
			return true;
		if (l == level || is_leaf(e, l))
			return false;
		table = table_va(e & PTE_ADDR_MASK);
	}
}

int pt_set_huge_leaf_gather(phys_addr_t root, uintptr_t va, unsigned int level, phys_addr_t pa,
			    pgprot_t prot, struct mmu_gather *tlb)
{
	pte_t *table = table_va(root);

	for (unsigned int l = PT_LEVELS - 1; l > level; l--) {
		pte_t e = table[pt_index(va, l)];
		if (!(e & PTE_PRESENT) || is_leaf(e, l))
			return -ENOENT;
		table = table_va(e & PTE_ADDR_MASK);
	}
	if (level == 0 || !entry_used(table[pt_index(va, level)]) ||
	    !is_leaf(table[pt_index(va, level)], level))
		return -ENOENT;
	table[pt_index(va, level)] = make_leaf(pa, prot.bits & ~PTE_ADDR_MASK, level);
	tlb_add_range(tlb, ALIGN_DOWN(va, pt_level_size(level)), pt_level_size(level));
	return 0;
}

int pt_lookup(phys_addr_t root, uintptr_t va, struct pt_lookup_result *res)
{
	pte_t *table = table_va(root);

	if (va >= USER_HALF_END && va < KERNEL_HALF_START)
		return -ENOENT; /* non-canonical: the CPU would #GP */
	pte_t ro = 0; /* PTE_WRITE if a table entry above denies writes */

	for (unsigned int l = PT_LEVELS; l-- > 0;) {
		pte_t e = table[pt_index(va, l)];
		if (!entry_used(e))
			return -ENOENT;
		if (is_leaf(e, l)) {
			res->pte = e & ~ro;
			res->level = l;
			res->phys = pte_leaf_phys(e, l) + (va & (pt_level_size(l) - 1));
			return 0;
		}
		if (!(e & PTE_WRITE))
			ro = PTE_WRITE;
		table = table_va(e & PTE_ADDR_MASK);
	}
	return -ENOENT;
}

struct copy {
	pt_copy_fn fn;
	void *arg;
	unsigned int flags; /* PT_COPY_* */
};

static int copy_level(const struct copy *c, pte_t *s, pte_t *d, unsigned int level,
		      uintptr_t va, uintptr_t end)
{
	uint64_t size = pt_level_size(level);

	for (uintptr_t next; va < end; va = next) {
		uintptr_t base = ALIGN_DOWN(va, size);
		unsigned int i = pt_index(va, level);
		int ret;

		next = end - base > size ? base + size : end;
		if (!entry_used(s[i]))
			continue;
		if (is_leaf(s[i], level)) {
			pte_t e = c->fn(&s[i], level, base, c->arg);
			if (e)
				d[i] = e;
			continue;
		}
		/* A table fork may share: one whose span the range covers (the
		 * caller vouches for the VMA), or one shared already, whose
		 * entries must not change (its span lies in one VMA). */
		if (level == 1 && !(d[i] & PTE_PRESENT) &&
		    (shared_table(s[i], va) ||
		     ((c->flags & PT_COPY_SHARE) && va == base && next - base == size))) {
			pt_share_table(&s[i], &d[i]);
			continue;
		}
		if (!(d[i] & PTE_PRESENT)) {
			phys_addr_t t = table_alloc();
			if (!t)
				return -ENOMEM;
			d[i] = t | TABLE_BITS;
		}
		ret = copy_level(c, table_va(s[i] & PTE_ADDR_MASK), table_va(d[i] & PTE_ADDR_MASK),
				 level - 1, va, next);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int pt_copy_range(phys_addr_t dst, phys_addr_t src, uintptr_t start, uintptr_t end,
		  pt_copy_fn fn, void *arg, unsigned int flags)
{
	struct copy c = { fn, arg, flags };

	if (end <= start || !range_ok(start, end - start))
		return -EINVAL;
	return copy_level(&c, table_va(src), table_va(dst), PT_LEVELS - 1, start, end);
}
