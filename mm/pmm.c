/* The buddy frame allocator. See include/pagoda/pmm.h and docs/buddy.md.
 *
 * A free block of order k is a naturally aligned run of 2^k frames whose
 * head descriptor is on zone->free_list[k] with PG_buddy set and order = k.
 * Its buddy is the block it would merge with: pfn ^ (1 << k). Zone limits
 * (16 MiB, 4 GiB) are multiples of the largest block, so a block never
 * straddles two zones. */
#include <pagoda/atomic.h>
#include <pagoda/debug.h>
#include <pagoda/errno.h>
#include <pagoda/memblock.h>
#include <pagoda/panic.h>
#include <pagoda/percpu.h>
#include <pagoda/pmm.h>
#include <pagoda/pmm_deferred.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <asm/x86.h>

#define POISON_FREE 0x6b /* written over freed frames, as Linux's POISON_FREE */

struct zone zones[NR_ZONES] = {
	[ZONE_DMA] = { .name = "DMA", .start = 0, .end = ZONE_DMA_END },
	[ZONE_DMA32] = { .name = "DMA32", .start = ZONE_DMA_END, .end = ZONE_DMA32_END },
	[ZONE_NORMAL] = { .name = "Normal", .start = ZONE_DMA32_END, .end = UINT64_MAX },
};

/* Test hooks (forced allocation failures), changed atomically. */
static unsigned int fail_next;
static unsigned int fail_after = PMM_NO_FAIL;
static bool poison_on_free = PAGODA_DEBUG; /* catch use after free: the test build */

BUILD_BUG_ON((ZONE_DMA_END >> PAGE_SHIFT) % (1 << MAX_ORDER) != 0);

void pmm_fail_next(unsigned int n) { fail_next = n; }
void pmm_fail_after(unsigned int k) { fail_after = k; }

bool pmm_set_poison(bool on)
{
	bool old = poison_on_free;

	poison_on_free = on;
	return old;
}

/* Take one from *counter unless it is 0; true if one was taken. */
static bool take_one(unsigned int *counter)
{
	unsigned int v = atomic_load(counter);

	while (v && v != PMM_NO_FAIL)
		if (atomic_cmpxchg(counter, &v, v - 1))
			return true;
	return false;
}

/* Should this allocation fail on purpose (a test asked for it)? */
static bool forced_failure(void)
{
	if (take_one(&fail_next))
		return true;
	if (READ_ONCE(fail_after) == PMM_NO_FAIL)
		return false;
	return !take_one(&fail_after);
}

static void free_list_add(struct zone *z, struct page *p, unsigned int order)
{
	assert_spin_locked(&z->lock);
	p->flags = PG_buddy;
	p->order = order;
	p->refcount = 0;
	list_add(&p->lru, &z->free_list[order]);
	z->nr_free[order]++;
	z->free_pages += 1ULL << order;
}

static void free_list_del(struct zone *z, struct page *p, unsigned int order)
{
	list_del(&p->lru);
	p->flags &= ~PG_buddy;
	z->nr_free[order]--;
	z->free_pages -= 1ULL << order;
}

/* Put a block on its free list, merging it with its buddy as long as the
 * buddy is a free block of the same order. The zone's lock is held. */
static void buddy_free_locked(pfn_t pfn, unsigned int order)
{
	/* LAB buddy: begin, the stub does nothing */
	struct zone *z = &zones[pfn_zone(pfn)];

	while (order < MAX_ORDER) {
		struct page *buddy = pfn_to_page(pfn ^ (1ULL << order));
		if (!buddy || !(buddy->flags & PG_buddy) || buddy->order != order)
			break;
		free_list_del(z, buddy, order);
		pfn &= ~(1ULL << order); /* the merged block starts at the lower half */
		order++;
	}
	free_list_add(z, pfn_to_page(pfn), order);
	/* LAB buddy: end */
}

/* Take a block of at least order from z, splitting a larger one and
 * returning the upper halves to their free lists. */
static struct page *zone_take_locked(struct zone *z, unsigned int order)
{
	/* LAB buddy: begin, the stub returns NULL */
	for (unsigned int k = order; k <= MAX_ORDER; k++) {
		if (list_empty(&z->free_list[k]))
			continue;
		struct page *p = list_first_entry(&z->free_list[k], struct page, lru);
		pfn_t pfn = page_to_pfn(p);
		free_list_del(z, p, k);
		while (k > order) {
			k--;
			free_list_add(z, pfn_to_page(pfn + (1ULL << k)), k);
		}
		return p;
	}
	return NULL;
	/* LAB buddy: end */
}

/* The zones a request may use, most preferred first (Linux's zonelist). */
static unsigned int gfp_zones(gfp_t gfp, enum zone_type *out)
{
	unsigned int n = 0;

	if (!(gfp & (__GFP_DMA | __GFP_DMA32)))
		out[n++] = ZONE_NORMAL;
	if (!(gfp & __GFP_DMA))
		out[n++] = ZONE_DMA32;
	out[n++] = ZONE_DMA;
	return n;
}

static struct page *zone_take(struct zone *z, unsigned int order)
{
	uint64_t flags = spin_lock_irqsave(&z->lock);
	struct page *p = zone_take_locked(z, order);

	spin_unlock_irqrestore(&z->lock, flags);
	return p;
}

/* Move up to PCP_BATCH frames from zone zt to this CPU's list of it. */
static void pcp_refill_locked(struct pcp_list *pcp, enum zone_type zt)
{
	struct zone *z = &zones[zt];
	uint64_t flags = spin_lock_irqsave(&z->lock);

	for (unsigned int i = 0; i < PCP_BATCH; i++) {
		struct page *p = zone_take_locked(z, 0);
		if (!p)
			break;
		p->flags = PG_pcp;
		list_add_tail(&p->lru, &pcp->frames);
		pcp->count++;
	}
	spin_unlock_irqrestore(&z->lock, flags);
}

/* Give up to n frames of pcp back to zone zt. */
static void pcp_trim_locked(struct pcp_list *pcp, enum zone_type zt, unsigned int n)
{
	struct zone *z = &zones[zt];
	uint64_t flags = spin_lock_irqsave(&z->lock);

	while (n-- && pcp->count) {
		struct page *p = list_first_entry(&pcp->frames, struct page, lru);
		list_del(&p->lru);
		pcp->count--;
		p->flags = 0;
		buddy_free_locked(page_to_pfn(p), 0);
	}
	spin_unlock_irqrestore(&z->lock, flags);
}

/* One frame of zone zt from this CPU's list, refilled if empty. */
static struct page *pcp_take(enum zone_type zt)
{
	struct pcp_list *pcp = &this_cpu()->pcp[zt];
	struct page *p = NULL;
	uint64_t flags = spin_lock_irqsave(&pcp->lock);

	if (!pcp->count)
		pcp_refill_locked(pcp, zt);
	if (pcp->count) {
		p = list_first_entry(&pcp->frames, struct page, lru);
		list_del(&p->lru);
		pcp->count--;
		p->flags = 0;
	}
	spin_unlock_irqrestore(&pcp->lock, flags);
	return p;
}

/* A block from the first zone of zlist that has one. A zone that has
 * none but still has deferred blocks initialises one (as Linux grows a
 * zone with deferred pages) before the next zone is tried. */
static struct page *take_block(const enum zone_type *zlist, unsigned int nz, unsigned int order)
{
	struct page *p = NULL;

	for (unsigned int i = 0; i < nz && !p; i++) {
		do
			p = order ? zone_take(&zones[zlist[i]], order) : pcp_take(zlist[i]);
		while (!p && pmm_deferred_grow(zlist[i]));
	}
	return p;
}

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	enum zone_type order_of_zones[NR_ZONES];
	unsigned int nz = gfp_zones(gfp, order_of_zones);
	struct page *p;

	if (order > MAX_ORDER || forced_failure())
		return NULL;
	p = take_block(order_of_zones, nz, order);
	if (!p) {
		/* Frames may sit on other CPUs' lists: bring them back, and
		 * let the buddies merge, before saying there is no memory. */
		pmm_drain_all();
		p = take_block(order_of_zones, nz, order);
	}
	if (!p)
		return NULL;
	/* The invariant of include/pagoda/pmm_deferred.h. */
	if (PAGODA_DEBUG && pmm_deferred_overlaps(page_to_pfn(p), order))
		panic("pmm: handed out pfn %#llx (order %u) before its descriptors were initialised",
		      (unsigned long long)page_to_pfn(p), order);
	atomic_store(&p->refcount, 1);
	p->order = order;
	p->flags = order ? PG_head : 0;
	if (gfp & __GFP_ZERO)
		memset(page_address(p), 0, PAGE_SIZE << order);
	return p;
}

uint64_t pmm_freeze(void)
{
	uint64_t flags = irq_save();

	for (unsigned int zt = 0; zt < NR_ZONES; zt++)
		spin_lock(&zones[zt].lock);
	return flags;
}

void pmm_thaw(uint64_t flags)
{
	for (unsigned int zt = NR_ZONES; zt-- > 0;)
		spin_unlock(&zones[zt].lock);
	irq_restore(flags);
}

void pmm_drain_all(void)
{
	for (unsigned int cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (!(READ_ONCE(cpu_online_mask) & (1ULL << cpu)))
			continue;
		for (unsigned int zt = 0; zt < NR_ZONES; zt++) {
			struct pcp_list *pcp = &cpu_area(cpu)->pcp[zt];
			uint64_t flags = spin_lock_irqsave(&pcp->lock);
			pcp_trim_locked(pcp, (enum zone_type)zt, pcp->count);
			spin_unlock_irqrestore(&pcp->lock, flags);
		}
	}
}

void pmm_cpu_init(void)
{
	for (unsigned int zt = 0; zt < NR_ZONES; zt++) {
		struct pcp_list *pcp = &this_cpu()->pcp[zt];
		spin_lock_init(&pcp->lock, "pcp_list");
		list_init(&pcp->frames);
		pcp->count = 0;
	}
}

/* Why a block cannot be freed, or NULL if it can. */
static const char *free_check(struct page *p, pfn_t pfn, unsigned int order)
{
	if (pfn == (pfn_t)-1)
		return "not a RAM frame descriptor";
	if (p->flags & PG_reserved)
		return "frame is reserved (kernel, boot data or firmware)";
	if ((p->flags & PG_buddy) || p->refcount == 0)
		return "double free: frame is already free";
	if (order > MAX_ORDER || (pfn & ((1ULL << order) - 1)))
		return "order does not match the frame's alignment";
	if (order != p->order)
		return "order differs from the one allocated";
	return NULL;
}

/* The last reference is gone: the block goes back, a single frame to
 * this CPU's list (trimmed to its zone when long), a larger block to its
 * zone's buddy lists. */
static void release_block(struct page *p, pfn_t pfn, unsigned int order)
{
	enum zone_type zt = (enum zone_type)p->zone;
	uint64_t flags;

	if (poison_on_free)
		memset(page_address(p), POISON_FREE, PAGE_SIZE << order);
	if (p->flags & PG_thp) /* a huge page's tails stop pointing at it */
		for (pfn_t i = 1; i < (1ULL << order); i++)
			pfn_to_page(pfn + i)->flags = 0;
	p->flags = 0;
	if (order == 0) {
		struct pcp_list *pcp = &this_cpu()->pcp[zt];
		flags = spin_lock_irqsave(&pcp->lock);
		p->flags = PG_pcp;
		list_add(&p->lru, &pcp->frames);
		if (++pcp->count > PCP_HIGH)
			pcp_trim_locked(pcp, zt, PCP_BATCH);
		spin_unlock_irqrestore(&pcp->lock, flags);
		return;
	}
	flags = spin_lock_irqsave(&zones[zt].lock);
	buddy_free_locked(pfn, order);
	spin_unlock_irqrestore(&zones[zt].lock, flags);
}

int free_pages(struct page *p, unsigned int order)
{
	pfn_t pfn = p ? page_to_pfn(p) : (pfn_t)-1;
	const char *why = free_check(p, pfn, order);

	if (why) {
		pr_err("pmm: bad free_pages(pfn %#llx, order %u): %s\n", (unsigned long long)pfn,
		       order, why);
		return -EINVAL;
	}
	if (atomic_sub_return(&p->refcount, 1) == 0)
		release_block(p, pfn, order);
	return 0;
}

void get_page(struct page *p)
{
	p = compound_head(p); /* a huge page counts on its head */
	BUG_ON(READ_ONCE(p->refcount) == 0 || (p->flags & (PG_buddy | PG_reserved)));
	atomic_inc(&p->refcount);
}

void put_page(struct page *p)
{
	p = compound_head(p);
	/* A shared frame only loses a holder: no checks of a free needed. */
	if (!(p->flags & (PG_buddy | PG_reserved))) {
		uint32_t v = atomic_load(&p->refcount);
		while (v > 1)
			if (atomic_cmpxchg(&p->refcount, &v, v - 1))
				return;
	}
	free_pages(p, p->order);
}

void *pmm_alloc_virt(gfp_t gfp, unsigned int order)
{
	struct page *p = alloc_pages(gfp, order);

	return p ? page_address(p) : NULL;
}

void pmm_free_virt(void *va, unsigned int order)
{
	if (va)
		free_pages(virt_to_page(va), order);
}

/* A zone's free and deferred counts are read together under its lock:
 * a deferred block moving onto the free lists changes both at once. */
uint64_t pmm_free_pages(void)
{
	uint64_t n = 0;

	for (unsigned int z = 0; z < NR_ZONES; z++) {
		uint64_t flags = spin_lock_irqsave(&zones[z].lock);
		n += zones[z].free_pages + zones[z].deferred_pages;
		spin_unlock_irqrestore(&zones[z].lock, flags);
		for (unsigned int cpu = 0; cpu < MAX_CPUS; cpu++)
			n += READ_ONCE(cpu_area(cpu)->pcp[z].count);
	}
	return n;
}

uint64_t pmm_total_pages(void)
{
	uint64_t n = 0;

	for (unsigned int z = 0; z < NR_ZONES; z++)
		n += zones[z].managed_pages;
	return n;
}

uint64_t pmm_zone_free_blocks(enum zone_type z, unsigned int order)
{
	return order <= MAX_ORDER ? zones[z].nr_free[order] : 0;
}

void pmm_print_stats(void)
{
	char line[160];

	for (unsigned int z = 0; z < NR_ZONES; z++) {
		int n = snprintf(line, sizeof(line), "pmm: %-6s free %8llu (%llu deferred) of %8llu pages:",
				 zones[z].name, (unsigned long long)zones[z].free_pages,
				 (unsigned long long)zones[z].deferred_pages,
				 (unsigned long long)zones[z].managed_pages);
		for (unsigned int o = 0; o <= MAX_ORDER && n < (int)sizeof(line); o++)
			n += snprintf(line + n, sizeof(line) - n, " %llu",
				      (unsigned long long)zones[z].nr_free[o]);
		pr_info("%s\n", line);
	}
}

void pmm_deferred_block_to_zone(pfn_t pfn)
{
	struct zone *z = &zones[pfn_zone(pfn)];
	uint64_t flags = spin_lock_irqsave(&z->lock);

	z->deferred_pages -= 1ULL << MAX_ORDER;
	buddy_free_locked(pfn, MAX_ORDER);
	spin_unlock_irqrestore(&z->lock, flags);
}

void pmm_deferred_block_to_deferred(pfn_t pfn)
{
	struct zone *z = &zones[pfn_zone(pfn)];
	uint64_t flags = spin_lock_irqsave(&z->lock);

	z->deferred_pages += 1ULL << MAX_ORDER;
	spin_unlock_irqrestore(&z->lock, flags);
}

/* The order of the largest aligned block at start that ends by end. */
static unsigned int block_order(pfn_t start, pfn_t end)
{
	unsigned int order = MAX_ORDER;

	while (order && ((start & ((1ULL << order) - 1)) || start + (1ULL << order) > end))
		order--;
	return order;
}

/* Give [start, end) to the allocator in the largest aligned blocks; a
 * whole block of MAX_ORDER may be deferred instead (pmm_deferred.h).
 * Every descriptor of the range that is not deferred is written before
 * the first block is freed: a freed block looks at its buddy, which may
 * lie further on in the range, and a descriptor not written yet holds
 * whatever the memory held (GRUB's leftovers), PG_buddy included. */
static void free_range(pfn_t start, pfn_t end)
{
	unsigned int order;

	for (pfn_t pfn = start; pfn < end; pfn += 1ULL << order) {
		struct zone *z = &zones[pfn_zone(pfn)];
		order = block_order(pfn, end);
		if (!pfn_to_page(pfn))
			continue;
		z->managed_pages += 1ULL << order;
		if (order == MAX_ORDER && pmm_deferred_boot_block(pfn))
			z->deferred_pages += 1ULL << order;
		else
			page_init_descriptors(pfn, pfn + (1ULL << order), 0, (uint8_t)pfn_zone(pfn));
	}
	for (pfn_t pfn = start; pfn < end; pfn += 1ULL << order) {
		struct zone *z = &zones[pfn_zone(pfn)];
		order = block_order(pfn, end);
		if (!pfn_to_page(pfn) || (order == MAX_ORDER && pmm_deferred_overlaps(pfn, order)))
			continue;
		spin_lock(&z->lock);
		buddy_free_locked(pfn, order);
		spin_unlock(&z->lock);
	}
}

/* The descriptors of the frames of [start, end) that are not free (the
 * reserved ones), zone by zone. */
static void init_reserved(pfn_t start, pfn_t end)
{
	while (start < end) {
		enum zone_type zt = pfn_zone(start);
		pfn_t stop = MIN(end, phys_to_pfn(zones[zt].end)); /* Normal's end: 2^64 - 1 */
		page_init_descriptors(start, stop, PG_reserved, (uint8_t)zt);
		start = stop;
	}
}

/* Every descriptor of a section that is not in a free range of free
 * (sorted) is initialised as reserved. */
static void init_reserved_descriptors(const struct memblock_list *free)
{
	for (unsigned int i = 0; i < nr_mem_sections; i++) {
		const struct mem_section *s = &mem_sections[i];
		pfn_t at = s->start;
		for (unsigned int j = 0; j < free->nr; j++) {
			pfn_t fs = phys_to_pfn(ALIGN_UP(free->r[j].base, PAGE_SIZE));
			pfn_t fe = phys_to_pfn(free->r[j].end);
			if (fe <= at || fs >= s->end)
				continue;
			init_reserved(at, MAX(fs, at));
			at = MIN(fe, s->end);
		}
		init_reserved(at, s->end);
	}
}

void pmm_init(void)
{
	struct memblock_list free = memblock_memory;

	for (unsigned int z = 0; z < NR_ZONES; z++) {
		spin_lock_init(&zones[z].lock, "zone");
		for (unsigned int o = 0; o <= MAX_ORDER; o++)
			list_init(&zones[z].free_list[o]);
	}
	pmm_cpu_init();
	for (unsigned int i = 0; i < memblock_reserved.nr; i++)
		memblock_remove(&free, memblock_reserved.r[i].base,
				memblock_reserved.r[i].end - memblock_reserved.r[i].base);
	init_reserved_descriptors(&free);
	for (unsigned int i = 0; i < free.nr; i++)
		free_range(phys_to_pfn(ALIGN_UP(free.r[i].base, PAGE_SIZE)),
			   phys_to_pfn(free.r[i].end));
}
