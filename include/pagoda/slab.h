/* kmalloc/kfree: small objects from size-class caches, slab style
 * (mm/slab.c), on top of the buddy allocator.
 *
 * Sizes up to KMALLOC_MAX_CACHE_SIZE come from a cache of fixed-size
 * objects carved out of one-frame slabs; larger sizes get whole blocks of
 * frames from alloc_pages(). Every object is aligned to at least 8 bytes,
 * power-of-two sizes to their size (up to a page). */
#ifndef PAGODA_SLAB_H
#define PAGODA_SLAB_H

#include <pagoda/pmm.h>
#include <pagoda/types.h>

#define KMALLOC_MAX_CACHE_SIZE 2048

/* Set up the size-class caches. After pmm_init(). */
void kmalloc_init(void);

/* Allocate size bytes (gfp as for alloc_pages; __GFP_ZERO zeroes them).
 * Returns NULL on failure or when size is 0. The caller owns the memory
 * and frees it with kfree(). */
void *kmalloc(size_t size, gfp_t gfp);
static inline void *kzalloc(size_t size, gfp_t gfp) { return kmalloc(size, gfp | __GFP_ZERO); }

/* Free memory from kmalloc(). kfree(NULL) does nothing. */
void kfree(const void *p);

/* Give back to the buddy allocator the one empty slab each cache keeps
 * for its next allocation. */
void kmalloc_shrink(void);

/* The usable size of a kmalloc() object (its size class). */
size_t ksize(const void *p);

/* For the invariant checker (mm/invariants.c): the number of free objects
 * on the free list of the slab page (PG_slab), or -1 if the list is
 * broken (a link outside the slab, or more links than objects). */
int kmalloc_slab_free_objects(const struct page *page);

/* Per-size-class statistics, for tests and the boot log. */
struct kmalloc_stats {
	size_t object_size;
	uint64_t slabs;          /* frames in use by the cache */
	uint64_t objects_in_use;
};
/* Fill up to max entries; returns the number of size classes. */
unsigned int kmalloc_get_stats(struct kmalloc_stats *out, unsigned int max);

/* For the invariant checker: take every cache's lock (interrupts off), so
 * that no object is allocated or freed until kmalloc_thaw(), and fill out
 * as kmalloc_get_stats() does. The slabs' free lists then agree with the
 * counts. The caller must not kmalloc() or kfree() in between. */
uint64_t kmalloc_freeze(struct kmalloc_stats *out, unsigned int max, unsigned int *nr);
void kmalloc_thaw(uint64_t flags);

#endif
