/* kmalloc/kfree: size-class caches of small objects, slab style, on top of
 * the buddy allocator. Contract in include/pagoda/slab.h; a walk-through
 * with pictures in docs/kmalloc.md.
 *
 * A slab is one order-0 frame cut into objects of one size class. The free
 * objects of a slab are chained through their own first 8 bytes (the free
 * list costs no memory: it lives in memory nobody is using). While PG_slab
 * is set, the frame's struct page holds the slab's state:
 *
 *   page->freelist  the first free object; NULL when the slab is full
 *   page->refcount  1 (the frame's own reference from alloc_pages) plus one
 *                   per object in use, so it is 1 again when the slab is
 *                   empty, as free_pages() expects. Not for get/put_page().
 *   page->order     the size-class index (the frame itself is order 0)
 *   page->lru       links the slab into its cache's partial or full list
 *
 * Sizes above KMALLOC_MAX_CACHE_SIZE, and requests for a DMA zone (there
 * are no per-zone caches), get a block of 2^order frames whose head has
 * PG_head, page->order = order and page->private = KMALLOC_LARGE_MAGIC; the
 * magic tells a kmalloc block from one taken from alloc_pages() directly.
 *
 * Policy: each cache keeps at most one empty slab (c->empty) for the next
 * allocation; a second slab that becomes empty goes back to the buddy
 * allocator at once. Without the spare, one object allocated and freed in a
 * loop would cost a trip to the buddy allocator (and a page poisoning) per
 * call. kmalloc_shrink() gives the spares back, after which "free
 * everything, and the free frame count is back where it was" holds exactly.
 *
 * What is checked, in every build (a few comparisons per call):
 *  - kfree() and ksize() of a pointer that is not the start of a kmalloc
 *    object (outside the direct map, a frame neither PG_slab nor a kmalloc
 *    block, or not on an object boundary) warn and do nothing.
 *  - A free-list link is checked to name an object of the same slab before
 *    it is followed. A bad link (a write after free hit it) is reported and
 *    the rest of that slab's list is dropped: those objects leak until the
 *    slab empties, rather than being handed out at a wild address.
 *  - Freeing the object freed last in its slab again (the head of the
 *    slab's free list) warns and does nothing.
 * And in the test build only (PAGODA_DEBUG, include/pagoda/debug.h: a
 * memset and a scan per object, most of kmalloc's cost there):
 *  - A freed object is filled with POISON_FREE after its free-list link
 *    (a new slab, all of it); kmalloc() checks the poison and warns of a
 *    write after free.
 *  - Double free anywhere in the list: an object whose link and poison
 *    look free is searched for on its slab's free list (at most one pass
 *    over the slab); if it is there, kfree() warns and does nothing. Any
 *    double free is caught as long as nothing wrote to the object after
 *    the first free. Without the test build's checks, such a double free
 *    corrupts the slab's free list, as it does in Linux without
 *    slub_debug.
 *
 * Locking: each cache has a spinlock, taken with interrupts off, held
 * while its lists, a slab's free list or its count change (everything but
 * the poison check and __GFP_ZERO of an object the caller already owns).
 * kfree() finds the cache from the slab's frame before it takes the lock. */
#include <pagoda/atomic.h>
#include <pagoda/compiler.h>
#include <pagoda/debug.h>
#include <pagoda/page.h>
#include <pagoda/panic.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <asm/x86.h>

#define POISON_FREE 0x6b /* Linux's SLUB value, also what mm/pmm.c writes */
#define KMALLOC_LARGE_MAGIC 0x6b6d616c6c6f634bULL /* an arbitrary tag in ->private */
#define KMALLOC_LARGE_MAX (PAGE_SIZE << MAX_ORDER)
#define NR_KMALLOC_CLASSES 11

/* One size class. */
struct kmem_cache {
	spinlock_t lock;         /* guards the lists, counts and the slabs' free lists */
	size_t size;             /* object size; objects sit at [i * size, (i + 1) * size) */
	unsigned int nr_objs;    /* objects per slab: PAGE_SIZE / size */
	struct list_head partial; /* slabs with a free object, most recently freed into first */
	struct list_head full;    /* slabs with none */
	struct page *empty;      /* the one empty slab kept (on partial), or NULL */
	uint64_t slabs;          /* frames on both lists */
	uint64_t objects_in_use;
};

static struct lock_class kmalloc_lock_class = { "kmem_cache", 0 };

#define KMALLOC_CACHE(i, sz)                                                   \
	[i] = { .lock = __SPINLOCK_INIT(kmalloc_lock_class),                   \
		.size = (sz), .nr_objs = PAGE_SIZE / (sz),                     \
		.partial = LIST_HEAD_INIT(kmalloc_caches[i].partial),          \
		.full = LIST_HEAD_INIT(kmalloc_caches[i].full) }

/* Statically initialised, so kmalloc() works as soon as the buddy
 * allocator does; kmalloc_init() only checks the table and logs it. */
static struct kmem_cache kmalloc_caches[NR_KMALLOC_CLASSES] = {
	KMALLOC_CACHE(0, 8),    KMALLOC_CACHE(1, 16),   KMALLOC_CACHE(2, 32),
	KMALLOC_CACHE(3, 64),   KMALLOC_CACHE(4, 96),   KMALLOC_CACHE(5, 128),
	KMALLOC_CACHE(6, 192),  KMALLOC_CACHE(7, 256),  KMALLOC_CACHE(8, 512),
	KMALLOC_CACHE(9, 1024), KMALLOC_CACHE(10, 2048),
};

/* page->order holds the class index of a slab. */
BUILD_BUG_ON(NR_KMALLOC_CLASSES > 255);
BUILD_BUG_ON(KMALLOC_MAX_CACHE_SIZE != 2048);

/* The smallest class that fits size, or -1 if size is above them all. */
static int size_to_class(size_t size)
{
	for (int i = 0; i < NR_KMALLOC_CLASSES; i++)
		if (size <= kmalloc_caches[i].size)
			return i;
	return -1;
}

static unsigned int size_to_order(size_t size)
{
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < size)
		order++;
	return order;
}

static inline void *obj_next(const void *obj) { return *(void *const *)obj; }
static inline void obj_set_next(void *obj, void *next) { *(void **)obj = next; }

/* Is p the start of one of the objects of slab page (class c)? */
static bool slab_obj_valid(const struct kmem_cache *c, const struct page *page, const void *p)
{
	uintptr_t base = (uintptr_t)page_address(page);
	uintptr_t off = (uintptr_t)p - base;

	return (uintptr_t)p >= base && off % c->size == 0 && off / c->size < c->nr_objs;
}

/* The poison covers the object after its free-list link. */
static void obj_poison(const struct kmem_cache *c, void *obj)
{
	memset((char *)obj + sizeof(void *), POISON_FREE, c->size - sizeof(void *));
}

static bool obj_poison_intact(const struct kmem_cache *c, const void *obj)
{
	const uint8_t *b = obj;

	for (size_t i = sizeof(void *); i < c->size; i++)
		if (b[i] != POISON_FREE)
			return false;
	return true;
}

/* Is obj on the free list of its slab? Walks at most one slab's worth of
 * links and stops at a bad one. */
static bool slab_on_freelist(const struct kmem_cache *c, const struct page *page,
			     const void *obj)
{
	const void *o = page->freelist;

	for (unsigned int n = 0; o && n < c->nr_objs; n++) {
		if (o == obj)
			return true;
		o = obj_next(o);
		if (o && !slab_obj_valid(c, page, o))
			return false;
	}
	return false;
}

/* Allocate a frame and thread every object onto its free list (all
 * poisoned in the test build). Returns the slab (on no list yet) or NULL. */
static struct page *slab_new(struct kmem_cache *c, unsigned int idx, gfp_t gfp)
{
	struct page *page = alloc_pages(gfp & ~__GFP_ZERO, 0);
	char *base;

	if (!page)
		return NULL;
	base = page_address(page);
	if (PAGODA_DEBUG)
		memset(base, POISON_FREE, PAGE_SIZE);
	for (unsigned int i = 0; i + 1 < c->nr_objs; i++)
		obj_set_next(base + i * c->size, base + (i + 1) * c->size);
	obj_set_next(base + (c->nr_objs - 1) * c->size, NULL);
	page->freelist = base;
	page->refcount = 1;
	page->order = (uint8_t)idx;
	page->flags |= PG_slab;
	return page;
}

/* Give an empty slab's frame back, with its descriptor as alloc_pages()
 * handed it out (refcount is already 1). */
static void slab_release(struct page *page)
{
	page->flags &= ~PG_slab;
	page->order = 0;
	page->freelist = NULL;
	free_pages(page, 0);
}

/* Pop the first free object of a partial slab; a slab left with no free
 * object moves to the full list. The cache's lock is held. */
static void *slab_take_locked(struct kmem_cache *c, struct page *page)
{
	void *obj = page->freelist;
	void *next = obj_next(obj);

	if (next && !slab_obj_valid(c, page, next)) {
		pr_warn("kmalloc-%zu: free list of slab %p broken after %p (link %p, a write "
			"after free?); its remaining free objects are dropped\n",
			c->size, page_address(page), obj, next);
		next = NULL;
	}
	page->freelist = next;
	page->refcount++;
	if (!next) {
		list_del(&page->lru);
		list_add(&page->lru, &c->full);
	}
	return obj;
}

static void *cache_alloc(unsigned int idx, gfp_t gfp)
{
	struct kmem_cache *c = &kmalloc_caches[idx];
	uint64_t irq = spin_lock_irqsave(&c->lock);
	struct page *page;
	void *obj = NULL;

	if (list_empty(&c->partial)) {
		page = slab_new(c, idx, gfp);
		if (!page)
			goto out;
		list_add(&page->lru, &c->partial);
		c->slabs++;
	}
	page = list_first_entry(&c->partial, struct page, lru);
	if (page == c->empty)
		c->empty = NULL;
	obj = slab_take_locked(c, page);
	c->objects_in_use++;
out:
	spin_unlock_irqrestore(&c->lock, irq);
	return obj;
}

/* Do obj's link and poison look like those of a free object? */
static bool looks_free(const struct kmem_cache *c, const struct page *page, const void *obj)
{
	return (!obj_next(obj) || slab_obj_valid(c, page, obj_next(obj))) &&
	       obj_poison_intact(c, obj);
}

/* Push obj back onto its slab; the slab goes to the front of the partial
 * list, or back to the buddy allocator if it is now empty. The cache's
 * lock is held. */
static void cache_free_locked(struct kmem_cache *c, struct page *page, void *obj)
{
	assert_spin_locked(&c->lock);
	if (obj == page->freelist || (PAGODA_DEBUG && looks_free(c, page, obj) &&
				      slab_on_freelist(c, page, obj))) {
		pr_warn("kfree: double free of %p (kmalloc-%zu); ignored\n", obj, c->size);
		return;
	}
	if (page->refcount <= 1) { /* only after a reported free-list break */
		pr_warn("kfree: %p: slab %p has no object in use; ignored\n", obj, page_address(page));
		return;
	}
	if (PAGODA_DEBUG)
		obj_poison(c, obj);
	obj_set_next(obj, page->freelist);
	page->freelist = obj;
	page->refcount--;
	c->objects_in_use--;
	list_del(&page->lru);
	if (page->refcount == 1 && c->empty) {
		c->slabs--;
		slab_release(page);
		return;
	}
	if (page->refcount == 1)
		c->empty = page;
	list_add(&page->lru, &c->partial);
}

void kmalloc_shrink(void)
{
	for (unsigned int i = 0; i < NR_KMALLOC_CLASSES; i++) {
		struct kmem_cache *c = &kmalloc_caches[i];
		uint64_t irq = spin_lock_irqsave(&c->lock);
		if (c->empty) {
			list_del(&c->empty->lru);
			c->slabs--;
			slab_release(c->empty);
			c->empty = NULL;
		}
		spin_unlock_irqrestore(&c->lock, irq);
	}
}

/* A block of whole frames; __GFP_ZERO is done here, not left to the
 * buddy allocator, so small and large requests zero the same way. */
static void *kmalloc_large(size_t size, gfp_t gfp)
{
	unsigned int order;
	struct page *page;

	if (size > KMALLOC_LARGE_MAX)
		return NULL;
	order = size_to_order(size);
	page = alloc_pages(gfp & ~__GFP_ZERO, order);
	if (!page)
		return NULL;
	page->flags |= PG_head;
	page->order = (uint8_t)order;
	page->private = KMALLOC_LARGE_MAGIC;
	if (gfp & __GFP_ZERO)
		memset(page_address(page), 0, PAGE_SIZE << order);
	return page_address(page);
}

/* PG_head is left on a block of order > 0: there it means what
 * include/pagoda/page.h says, independent of kmalloc. */
static void kfree_large(struct page *page)
{
	unsigned int order = page->order;

	page->private = 0;
	if (order == 0)
		page->flags &= ~PG_head;
	free_pages(page, order);
}

static bool is_large_head(const struct page *page)
{
	return (page->flags & PG_head) && page->private == KMALLOC_LARGE_MAGIC &&
	       page->order <= MAX_ORDER;
}

/* The descriptor of the slab or block p is the start of an object in, or
 * NULL (after a warning naming the caller) if p is no kmalloc object.
 * For a slab, the caller holds its cache's lock, so that the slab cannot
 * change under the check (see with_object()). */
static struct page *kmalloc_page(const void *p, const char *who)
{
	uintptr_t v = (uintptr_t)p;
	struct page *page = NULL;

	if (v >= DIRECT_MAP_BASE && v - DIRECT_MAP_BASE < DIRECT_MAP_SIZE)
		page = virt_to_page(p);
	if (page && (page->flags & PG_slab) && page->order < NR_KMALLOC_CLASSES &&
	    slab_obj_valid(&kmalloc_caches[page->order], page, p))
		return page;
	if (page && !(page->flags & PG_slab) && is_large_head(page) && p == page_address(page))
		return page;
	pr_warn("%s: %p is not an object from kmalloc(); ignored\n", who, p);
	return NULL;
}

void *kmalloc(size_t size, gfp_t gfp)
{
	struct kmem_cache *c;
	int idx;
	void *obj;

	if (size == 0)
		return NULL;
	idx = size_to_class(size);
	if (idx < 0 || (gfp & (__GFP_DMA | __GFP_DMA32)))
		return kmalloc_large(size, gfp);
	c = &kmalloc_caches[idx];
	obj = cache_alloc((unsigned int)idx, gfp);
	if (!obj)
		return NULL;
	if (PAGODA_DEBUG && !obj_poison_intact(c, obj))
		pr_warn("kmalloc-%zu: object %p was written after it was freed\n", c->size, obj);
	if (gfp & __GFP_ZERO)
		memset(obj, 0, c->size);
	return obj;
}

/* The cache whose lock guards p's slab, if p looks like a slab object's
 * address: the frame says which class it belongs to. */
static struct kmem_cache *cache_of(const void *p)
{
	uintptr_t v = (uintptr_t)p;
	struct page *page;

	if (v < DIRECT_MAP_BASE || v - DIRECT_MAP_BASE >= DIRECT_MAP_SIZE)
		return NULL;
	page = virt_to_page(p);
	if (!page || !(READ_ONCE(page->flags) & PG_slab))
		return NULL;
	return READ_ONCE(page->order) < NR_KMALLOC_CLASSES ? &kmalloc_caches[page->order] : NULL;
}

void kfree(const void *p)
{
	struct kmem_cache *c;
	struct page *page;
	uint64_t irq = 0;

	if (!p)
		return;
	if ((c = cache_of(p)))
		irq = spin_lock_irqsave(&c->lock);
	page = kmalloc_page(p, "kfree");
	if (page && (page->flags & PG_slab) && c == &kmalloc_caches[page->order])
		cache_free_locked(c, page, (void *)p);
	else if (page && !(page->flags & PG_slab))
		kfree_large(page);
	if (c)
		spin_unlock_irqrestore(&c->lock, irq);
}

size_t ksize(const void *p)
{
	struct kmem_cache *c;
	struct page *page;
	size_t size = 0;
	uint64_t irq = 0;

	if (!p)
		return 0;
	if ((c = cache_of(p)))
		irq = spin_lock_irqsave(&c->lock);
	page = kmalloc_page(p, "ksize");
	if (page && (page->flags & PG_slab))
		size = kmalloc_caches[page->order].size;
	else if (page)
		size = PAGE_SIZE << page->order;
	if (c)
		spin_unlock_irqrestore(&c->lock, irq);
	return size;
}

int kmalloc_slab_free_objects(const struct page *page)
{
	const struct kmem_cache *c;
	const void *o = page->freelist;
	unsigned int n = 0;

	if (!(page->flags & PG_slab) || page->order >= NR_KMALLOC_CLASSES)
		return -1;
	c = &kmalloc_caches[page->order];
	for (; o; o = obj_next(o)) {
		if (!slab_obj_valid(c, page, o) || ++n > c->nr_objs)
			return -1;
	}
	return (int)n;
}

static void stats_locked(const struct kmem_cache *c, struct kmalloc_stats *out)
{
	assert_spin_locked(&c->lock);
	out->object_size = c->size;
	out->slabs = c->slabs;
	out->objects_in_use = c->objects_in_use;
}

unsigned int kmalloc_get_stats(struct kmalloc_stats *out, unsigned int max)
{
	for (unsigned int i = 0; i < max && i < NR_KMALLOC_CLASSES; i++) {
		struct kmem_cache *c = &kmalloc_caches[i];
		uint64_t irq = spin_lock_irqsave(&c->lock);
		stats_locked(c, &out[i]);
		spin_unlock_irqrestore(&c->lock, irq);
	}
	return NR_KMALLOC_CLASSES;
}

/* The caches share one lock class and are always taken in index order,
 * so two freezers cannot deadlock each other. */
uint64_t kmalloc_freeze(struct kmalloc_stats *out, unsigned int max, unsigned int *nr)
{
	uint64_t flags = irq_save();

	for (unsigned int i = 0; i < NR_KMALLOC_CLASSES; i++) {
		spin_lock(&kmalloc_caches[i].lock);
		if (i < max)
			stats_locked(&kmalloc_caches[i], &out[i]);
	}
	*nr = MIN(max, NR_KMALLOC_CLASSES);
	return flags;
}

void kmalloc_thaw(uint64_t flags)
{
	for (unsigned int i = NR_KMALLOC_CLASSES; i-- > 0;)
		spin_unlock(&kmalloc_caches[i].lock);
	irq_restore(flags);
}

/* The free-list link needs 8 bytes and 8-byte alignment in every object;
 * a class size that breaks that is a bug in the table above. */
void kmalloc_init(void)
{
	for (unsigned int i = 0; i < NR_KMALLOC_CLASSES; i++) {
		const struct kmem_cache *c = &kmalloc_caches[i];
		BUG_ON(c->size < sizeof(void *) || c->size % sizeof(void *) != 0);
		BUG_ON(i > 0 && c->size <= kmalloc_caches[i - 1].size);
	}
	pr_info("kmalloc: %u size classes, %zu to %zu bytes in one-frame slabs; larger "
		"requests take whole frames\n",
		NR_KMALLOC_CLASSES, kmalloc_caches[0].size,
		kmalloc_caches[NR_KMALLOC_CLASSES - 1].size);
}
