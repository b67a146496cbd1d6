/* x86-64 four-level page tables (mm/pgtable.c).
 *
 * A 48-bit virtual address indexes four tables of 512 entries each (Intel
 * SDM Vol. 3A, 4.5):
 *
 *   47    39 38    30 29    21 20    12 11       0
 *   | PML4  |  PDPT  |   PD   |   PT   |  offset  |
 *   level 3  level 2  level 1  level 0
 *
 * A PDPT entry with PS set maps 1 GiB, a PD entry with PS set maps 2 MiB,
 * a PT entry maps 4 KiB. Table pages come from the buddy allocator (from
 * memblock before it exists) and are freed when they become empty. */
#ifndef PAGODA_PGTABLE_H
#define PAGODA_PGTABLE_H

#include <pagoda/cache.h>
#include <pagoda/types.h>

typedef uint64_t pte_t;

#define PTE_PRESENT (1ULL << 0)
#define PTE_WRITE (1ULL << 1)
#define PTE_USER (1ULL << 2)
/* PTE_PWT (bit 3) and PTE_PCD (bit 4) are in cache.h */
#define PTE_ACCESSED (1ULL << 5)
#define PTE_DIRTY (1ULL << 6)
#define PTE_PS (1ULL << 7)        /* in a PDPT or PD entry: a 1 GiB / 2 MiB page */
#define PTE_PAT_4K (1ULL << 7)    /* in a PT entry: the PAT bit */
#define PTE_GLOBAL (1ULL << 8)
#define PTE_SPECIAL (1ULL << 9)   /* software: no struct page behind it (VM_PFNMAP) */
#define PTE_COW (1ULL << 10)      /* software: write-protected for copy-on-write */
#define PTE_PROTNONE (1ULL << 11) /* software: a PROT_NONE page, mapped but not
				   * present, so every access faults (Linux's
				   * _PAGE_PROTNONE); walkers treat it as mapped */
#define PTE_PAT_LARGE (1ULL << 12)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL
#define PTE_CACHE_MASK (PTE_PWT | PTE_PCD | PTE_PAT_4K)

#define PT_LEVELS 4
#define PT_ENTRIES 512

/* A page protection: PTE bits in 4 KiB-entry format (PAT in bit 7). */
typedef struct {
	uint64_t bits;
} pgprot_t;

#define __pgprot(x) ((pgprot_t){ (x) })
#define PAGE_KERNEL __pgprot(PTE_PRESENT | PTE_WRITE | PTE_NX)
#define PAGE_KERNEL_RO __pgprot(PTE_PRESENT | PTE_NX)
#define PAGE_KERNEL_EXEC __pgprot(PTE_PRESENT)
#define PAGE_KERNEL_RX __pgprot(PTE_PRESENT)

/* Replace the memory type of prot (cache.h: the PAT layout). */
static inline pgprot_t pgprot_cache(pgprot_t prot, enum cache_mode mode)
{
	return __pgprot((prot.bits & ~PTE_CACHE_MASK) | cache_mode_pte_bits(mode));
}
static inline pgprot_t pgprot_writecombine(pgprot_t p) { return pgprot_cache(p, CACHE_WC); }
static inline pgprot_t pgprot_noncached(pgprot_t p) { return pgprot_cache(p, CACHE_UC_MINUS); }
static inline pgprot_t pgprot_uncached(pgprot_t p) { return pgprot_cache(p, CACHE_UC); }

/* Decode a leaf entry at level (0: 4 KiB, 1: 2 MiB, 2: 1 GiB): the
 * physical address of the page it maps, and its protection in 4 KiB
 * format (PAT back in bit 7, PS gone), ready for pt_map(). The one place
 * that knows where a huge entry keeps its PAT bit. */
phys_addr_t pte_leaf_phys(pte_t e, unsigned int level);
pgprot_t pte_leaf_prot(pte_t e, unsigned int level);

/* The memory type a PTE selects (for tests and /proc). */
enum cache_mode pte_cache_mode(pte_t pte, unsigned int level);

static inline uint64_t pt_level_size(unsigned int level) { return 1ULL << (12 + 9 * level); }

/* pt_map() flags */
#define PT_MAP_HUGE 0x1 /* use 2 MiB / 1 GiB entries where aligned */

/* Map [va, va + size) to [pa, pa + size) with prot in the tables rooted at
 * root (physical address of a PML4). va, pa and size must be page-aligned.
 * Returns 0; -EINVAL for bad alignment or a non-canonical range; -EEXIST
 * if anything in the range is mapped already; -ENOMEM when a table page
 * cannot be allocated. On failure nothing stays mapped. */
int pt_map(phys_addr_t root, uintptr_t va, phys_addr_t pa, uint64_t size, pgprot_t prot,
	   unsigned int flags);

/* Called for each leaf an unmap removes: the entry's old value, the
 * virtual address it mapped and its level (0: 4 KiB, 1: 2 MiB, 2: 1 GiB). */
typedef void (*pt_leaf_fn)(pte_t old, uintptr_t va, unsigned int level, void *arg);

/* The functions that remove or weaken entries come in two forms. The
 * _gather one records what changed in the caller's gather (include/pagoda
 * /tlb.h), which flushes the CPUs that need it and frees what was freed
 * afterwards. The plain one does all that itself for every CPU: for the
 * kernel half, and for tests. */
struct mmu_gather;

/* Unmap [va, va + size), splitting a huge entry that straddles an end.
 * Empty table pages are freed (after the flush). Returns 0, -EINVAL, or
 * -ENOMEM if a split needed a table page (then the range is unmapped up
 * to the split). The plain form calls fn for each leaf removed. */
int pt_unmap(phys_addr_t root, uintptr_t va, uint64_t size, pt_leaf_fn fn, void *arg);
int pt_unmap_gather(phys_addr_t root, uintptr_t va, uint64_t size, struct mmu_gather *tlb);
/* The same for a user range inside the gap [gap_start, gap_end) that no
 * VMA covers after the unmap: a table is freed when its span lies in the
 * gap, kept when it reaches beyond, and its entries are never scanned for
 * emptiness (Linux's free_pgtables()). An empty gap is no gap known: the
 * plain form, which frees the tables it finds empty. */
int pt_unmap_gap_gather(phys_addr_t root, uintptr_t va, uint64_t size, uintptr_t gap_start,
			uintptr_t gap_end, struct mmu_gather *tlb);

/* Set the protection of every mapped page in [va, va + size) to prot,
 * keeping each frame, its PTE_SPECIAL bit, and its PTE_COW bit (a COW page
 * stays read-only). Splits straddling huge entries. Returns 0, -EINVAL or
 * -ENOMEM. */
int pt_protect(phys_addr_t root, uintptr_t va, uint64_t size, pgprot_t prot);
int pt_protect_gather(phys_addr_t root, uintptr_t va, uint64_t size, pgprot_t prot,
		      struct mmu_gather *tlb);

/* Allocate a zeroed page-table page (0 when out of memory), and drop
 * one reference to one (the gather's deferred free): a table shared by
 * fork (include/pagoda/pt_share.h) is freed with its last holder. */
phys_addr_t pt_table_alloc(void);
void pt_table_free(phys_addr_t pa);

/* Give root its own copy of every table shared by fork that maps part of
 * [va, va + size) (pt_share.h), except, with keep_whole, those whose whole
 * span lies inside. Returns 0, -EINVAL or -ENOMEM (tables unshared so far
 * stay unshared: they map the same memory). */
int pt_unshare_gather(phys_addr_t root, uintptr_t va, uint64_t size, bool keep_whole,
		      struct mmu_gather *tlb);

/* Split the huge leaves that straddle va or va + size, so that every leaf
 * mapping part of [va, va + size) lies wholly inside it; leaves inside
 * stay whole. Returns 0, -EINVAL, or -ENOMEM (a split already made maps
 * the same memory, so nothing is lost). */
int pt_split_gather(phys_addr_t root, uintptr_t va, uint64_t size, struct mmu_gather *tlb);

/* Call fn (unless NULL) for every leaf that maps part of [va, va + size),
 * changing nothing (a huge leaf that straddles an end is reported whole,
 * with its own base address). Returns
 * the number of table pages the walk entered below root, or -EINVAL. */
long pt_walk(phys_addr_t root, uintptr_t va, uint64_t size, pt_leaf_fn fn, void *arg);

/* Map one huge leaf at level (1: 2 MiB, 2: 1 GiB) for va, aligned to its
 * size, to pa with prot (4 KiB format), creating the tables above it:
 * transparent huge pages, which must not become 4 KiB entries where
 * pt_map() would choose them. Returns 0; -EINVAL for a bad level or
 * alignment; -EEXIST if anything maps va at level or above already (a
 * table below it too, even an empty one); -ENOMEM. */
int pt_map_leaf(phys_addr_t root, uintptr_t va, phys_addr_t pa, unsigned int level,
		pgprot_t prot);

/* Is there nothing at level or above that maps va: no leaf and no table
 * (so pt_map_leaf() would not fail with -EEXIST)? */
bool pt_level_empty(phys_addr_t root, uintptr_t va, unsigned int level);

/* Replace the existing huge leaf at level (1 or 2) that maps va with one
 * mapping pa with prot, in place; the gather flushes it. Returns 0, or
 * -ENOENT if va has no leaf at that level. */
int pt_set_huge_leaf_gather(phys_addr_t root, uintptr_t va, unsigned int level, phys_addr_t pa,
			    pgprot_t prot, struct mmu_gather *tlb);

struct pt_lookup_result {
	pte_t pte;          /* the leaf entry */
	unsigned int level; /* 0, 1 or 2 */
	phys_addr_t phys;   /* the physical address va translates to */
};

/* Translate va. Returns 0 or -ENOENT if it is not mapped. A PROT_NONE
 * entry counts as mapped (res->pte has PTE_PROTNONE, not PTE_PRESENT).
 * res->pte is the leaf as the CPU sees it: without PTE_WRITE when a table
 * entry above it is read-only (a table shared by fork). */
int pt_lookup(phys_addr_t root, uintptr_t va, struct pt_lookup_result *res);

/* Replace the existing 4 KiB leaf that maps va with pte (frame and bits),
 * in place, and flush it. Returns 0, -ENOENT if va has no 4 KiB leaf, or
 * -ENOMEM if its table is shared by fork and cannot be copied (never when
 * the caller unshared it first: mm_unshare_fault()). */
int pt_set_leaf(phys_addr_t root, uintptr_t va, pte_t pte);
int pt_set_leaf_gather(phys_addr_t root, uintptr_t va, pte_t pte, struct mmu_gather *tlb);

/* Copy the mappings of [start, end) from the tables at src to those at
 * dst, walking both trees once (fork). For each leaf, fn gets a pointer
 * to the source entry (it may rewrite it: copy-on-write), its level and
 * address, and returns the entry to install in dst, or 0 to skip it.
 * dst tables are allocated as needed. With PT_COPY_SHARE, a last-level
 * table whose whole span lies inside [start, end) is shared instead
 * (pt_share_table()); a table src shares already is always shared on.
 * The caller flushes src's TLB after. Returns 0 or -ENOMEM (dst then
 * holds part of the copy). */
#define PT_COPY_SHARE 0x1
typedef pte_t (*pt_copy_fn)(pte_t *src, unsigned int level, uintptr_t va, void *arg);
int pt_copy_range(phys_addr_t dst, phys_addr_t src, uintptr_t start, uintptr_t end,
		  pt_copy_fn fn, void *arg, unsigned int flags);


/* The kernel's PML4 (the boot PML4, physical). */
extern phys_addr_t kernel_pml4;

/* Page-table pages come from memblock until pt_use_pmm() is called. */
void pt_use_pmm(void);
void pt_set_direct_map_ready(void);

/* Number of table pages currently allocated (for tests). */
uint64_t pt_table_pages(void);

#endif
