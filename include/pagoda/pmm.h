/* The buddy frame allocator (mm/pmm.c).
 *
 * Free memory is kept in blocks of 2^order frames, order 0 (4 KiB) to
 * MAX_ORDER (4 MiB), each naturally aligned. Allocation splits a larger
 * block when no block of the right order is free; freeing merges a block
 * with its "buddy" (the block it was split from: pfn ^ (1 << order)) while
 * the buddy is free too. See docs/buddy.md.
 *
 * Frames are grouped into zones by physical address, as in Linux:
 *   ZONE_DMA     [0, 16 MiB)      ISA-style DMA
 *   ZONE_DMA32   [16 MiB, 4 GiB)  devices with 32-bit DMA addresses
 *   ZONE_NORMAL  [4 GiB, ...)     everything else
 * A request names the highest zone it can use and falls back to lower ones
 * (GFP_KERNEL: NORMAL, then DMA32, then DMA).
 *
 * Many CPUs: each zone's free lists are guarded by the zone's lock. In
 * front of them, each CPU keeps a short list of free single frames per
 * zone (Linux's per-CPU pagesets), so that most order-0 allocations and
 * frees touch no shared lock; a list is refilled from, and trimmed back
 * to, its zone in batches, and every list is drained into the zones when
 * an allocation finds them empty. Frames on those lists count as free.
 * Reference counts are atomic. */
#ifndef PAGODA_PMM_H
#define PAGODA_PMM_H

#include <pagoda/page.h>
#include <pagoda/spinlock.h>
#include <pagoda/types.h>

#define MAX_ORDER 10 /* largest block: 2^10 frames = 4 MiB */

enum zone_type { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, NR_ZONES };

#define ZONE_DMA_END (16ULL << 20)
#define ZONE_DMA32_END (4ULL << 30)

typedef unsigned int gfp_t;
#define __GFP_DMA 0x01u    /* only ZONE_DMA */
#define __GFP_DMA32 0x02u  /* ZONE_DMA32, falling back to DMA */
#define __GFP_ZERO 0x100u  /* zero the memory */
#define __GFP_NOWARN 0x200u
#define GFP_KERNEL 0u      /* NORMAL, then DMA32, then DMA */
#define GFP_DMA __GFP_DMA
#define GFP_DMA32 __GFP_DMA32

struct zone {
	const char *name;
	phys_addr_t start, end; /* [start, end) */
	spinlock_t lock;        /* guards the lists and counts below */
	struct list_head free_list[MAX_ORDER + 1];
	uint64_t nr_free[MAX_ORDER + 1]; /* blocks on each list */
	uint64_t free_pages;    /* in the buddy lists (not the per-CPU ones) */
	uint64_t deferred_pages; /* free, in blocks whose descriptors are not
				  * initialised yet: on no list (pmm_deferred.h) */
	uint64_t managed_pages; /* frames the allocator was given */
};

/* A CPU's list of free single frames of one zone (in struct percpu). */
struct pcp_list {
	spinlock_t lock;        /* its own CPU, or a CPU draining it */
	struct list_head frames;
	unsigned int count;
};
#define PCP_BATCH 16 /* frames moved to or from the zone at once */
#define PCP_HIGH 64  /* more than this on a list: give a batch back */

extern struct zone zones[NR_ZONES];

static inline enum zone_type pfn_zone(pfn_t pfn)
{
	phys_addr_t pa = pfn_to_phys(pfn);

	return pa < ZONE_DMA_END ? ZONE_DMA : pa < ZONE_DMA32_END ? ZONE_DMA32 : ZONE_NORMAL;
}

/* Give every frame of memblock memory minus reserved to the allocator,
 * most of them deferred (include/pagoda/pmm_deferred.h). */
void pmm_init(void);

/* Allocate 2^order contiguous frames. Returns the head descriptor with a
 * reference count of 1, or NULL when no zone the gfp allows has a block
 * (never panics). The caller owns the block and frees it with free_pages()
 * or put_page(). */
struct page *alloc_pages(gfp_t gfp, unsigned int order);
static inline struct page *alloc_page(gfp_t gfp) { return alloc_pages(gfp, 0); }

/* Free a block from alloc_pages() of the same order. A double free, a
 * frame that is not RAM, or a reserved frame is reported and ignored:
 * returns 0 or -EINVAL. */
int free_pages(struct page *page, unsigned int order);

/* Reference counting for shared frames (copy-on-write, later): put_page()
 * frees the block when the count drops to zero. */
void get_page(struct page *page);
void put_page(struct page *page);

/* Kernel-virtual helpers over the direct map: 0 on failure. */
void *pmm_alloc_virt(gfp_t gfp, unsigned int order);
void pmm_free_virt(void *va, unsigned int order);

uint64_t pmm_free_pages(void);                      /* all zones, CPU lists, deferred blocks */
uint64_t pmm_total_pages(void);
uint64_t pmm_zone_free_blocks(enum zone_type z, unsigned int order);

/* Give every CPU's cached free frames back to the zones (when memory runs
 * low, and for tests that look at the buddy lists themselves). */
void pmm_drain_all(void);

/* Stop every change to the zones' free lists and counts (every zone's
 * lock, interrupts off), for a check that must see them agree; then
 * pmm_thaw() with the value returned. Frames move between a CPU's list
 * and its zone under the zone's lock too, so only allocations and frees
 * served by a CPU's list go on. Nothing may allocate or free a frame in
 * between, on this CPU. */
uint64_t pmm_freeze(void);
void pmm_thaw(uint64_t flags);

/* Set up this CPU's lists (each CPU, at start). */
void pmm_cpu_init(void);

/* Print per-zone and per-order counts. */
void pmm_print_stats(void);

/* Test hooks. pmm_fail_next(n): the next n allocations fail (forced OOM).
 * pmm_fail_after(k): k allocations succeed, then every one fails until
 * pmm_fail_after(PMM_NO_FAIL). pmm_set_poison(): whether freed frames are
 * overwritten with POISON_FREE (on in the test build, PAGODA_DEBUG, off
 * in the others; a test that frees all of RAM turns it off to stay fast
 * under emulation). Returns the old setting. */
void pmm_fail_next(unsigned int n);
#define PMM_NO_FAIL (~0U)
void pmm_fail_after(unsigned int k);
bool pmm_set_poison(bool on);

#endif
