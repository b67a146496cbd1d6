/* Deferred initialisation of frame descriptors (mm/pmm_deferred.c):
 * Linux's DEFERRED_STRUCT_PAGE_INIT idea. See docs/buddy.md.
 *
 * A 64 GiB machine has 16.7 million frame descriptors, and writing them
 * one by one was most of the boot. Early boot needs few frames, so
 * pmm_init() initialises only the descriptors of the reserved frames, of
 * every 4 MiB block (MAX_ORDER) that is partly free, and of the first
 * PMM_EAGER_BYTES of whole free blocks in each zone. Every other whole
 * free block is deferred: its descriptors hold whatever the RAM held, and
 * it is on no free list. A deferred block is initialised, then given to
 * its zone as one free block of MAX_ORDER, by the first of:
 *  - an idle CPU: each CPU's idle loop does one block at a time
 *    (pmm_deferred_step()), so every idle CPU works in parallel;
 *  - an allocation that finds its zone empty (pmm_deferred_grow(), called
 *    by the allocator before it falls back to a lower zone or fails);
 *  - pmm_deferred_wait(), which finishes them all: code that looks at
 *    the shape of the buddy lists (the pmm self-tests) calls it first.
 *
 * The invariant: no frame is handed out, or put on a free list, before its
 * descriptor is initialised. A deferred block's descriptors are written
 * before the block goes on its zone's free list, and the frames are on no
 * list until then. Test builds (PAGODA_DEBUG) check every block
 * alloc_pages() returns against the deferred and in-progress blocks.
 *
 * Counting: the frames of a deferred block are free frames. Each zone
 * counts them in managed_pages from the start and in deferred_pages until
 * they reach the free lists (one critical section under the zone's lock
 * moves them to free_pages), and pmm_free_pages() adds deferred_pages. So
 * MemTotal and MemFree are exact at every moment, before the deferred
 * work is done as after; what the work changes is the buddy lists' shape.
 *
 * Each block is initialised with interrupts off (about 1,000 descriptors),
 * so a CPU never has two blocks in progress. */
#ifndef PAGODA_PMM_DEFERRED_H
#define PAGODA_PMM_DEFERRED_H

#include <pagoda/pmm.h>
#include <pagoda/types.h>

/* Free RAM initialised at boot in each zone, beyond the partly free blocks. */
#define PMM_EAGER_BYTES (64ULL << 20)
#define PMM_DEFERRED_MAX_RANGES 128 /* runs of deferred blocks per zone */

/* Boot (pmm_init(), one CPU): should the whole free block of MAX_ORDER at
 * pfn be deferred? If so it is recorded (counted in its zone's
 * managed_pages and deferred_pages) and true is returned; false means
 * the caller initialises it now. */
bool pmm_deferred_boot_block(pfn_t pfn);

/* Initialise one deferred block, any zone (the idle loop: it calls this
 * while pmm_deferred_pending()). True if it did one. */
bool pmm_deferred_step(void);
/* Is any deferred block left to start (cheap, no lock)? */
bool pmm_deferred_pending(void);

/* Make a deferred block of zone zt available: initialise the first one
 * left, or wait for one another CPU is doing. True if a block reached
 * the zone's free lists meanwhile (the caller tries again), false if the
 * zone has no deferred block left. Any context; the caller holds no zone
 * lock. */
bool pmm_deferred_grow(enum zone_type zt);

/* Initialise every deferred block left, this CPU helping, and return when
 * all are on the free lists. Any context that may spin. */
void pmm_deferred_wait(void);

/* Deferred blocks not finished yet (pending or in progress). */
uint64_t pmm_deferred_blocks_left(void);

/* Does [pfn, pfn + 2^order) overlap a deferred or in-progress block? For
 * the check of the invariant in test builds. */
bool pmm_deferred_overlaps(pfn_t pfn, unsigned int order);

/* When the last deferred block reached its zone (TSC; 0 while some are
 * left), and how many blocks each path did. For the boot log and kbench. */
struct pmm_deferred_stats {
	uint64_t done_tsc;
	uint64_t blocks_total;
	uint64_t by_idle, by_grow, by_wait;
};
void pmm_deferred_get_stats(struct pmm_deferred_stats *out);

/* Test hook: give back an allocated MAX_ORDER block (head, count 1) as a
 * deferred block, its descriptors overwritten with garbage as RAM at boot
 * would hold. Returns 0, -EINVAL for anything but such a block, or
 * -ENOSPC when its zone's list of deferred runs is full. */
int pmm_deferred_return_block(struct page *head);
/* Test hook: stop (false) or let (true) the idle loops take deferred
 * blocks, so a test decides who initialises them. Returns the old state. */
bool pmm_deferred_set_idle(bool on);

/* Between mm/pmm.c and mm/pmm_deferred.c only, each under the zone's
 * lock: a block whose descriptors were just initialised goes onto its
 * zone's free lists, its frames moving from deferred_pages to free_pages;
 * an allocated block becomes deferred (the test hook), its frames counted
 * in deferred_pages. */
void pmm_deferred_block_to_zone(pfn_t pfn);
void pmm_deferred_block_to_deferred(pfn_t pfn);

#endif
