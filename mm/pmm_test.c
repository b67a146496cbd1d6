/* Tests of the buddy allocator: invariants of split and merge, alignment,
 * zones, exhaustion, a randomized run against a shadow model, and the
 * refusals (double free, reserved frames). Every test leaves the free
 * counts exactly as it found them, and checks that it did. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/memblock.h>
#include <pagoda/pmm.h>
#include <pagoda/string.h>

struct pmm_snapshot {
	uint64_t nr_free[NR_ZONES][MAX_ORDER + 1];
	uint64_t free_pages;
};

/* The buddy lists' shape, once every CPU's cached frames are back in
 * them (so that merges happened where they could). */
static void snapshot(struct pmm_snapshot *s)
{
	pmm_drain_all();
	for (unsigned int z = 0; z < NR_ZONES; z++)
		for (unsigned int o = 0; o <= MAX_ORDER; o++)
			s->nr_free[z][o] = pmm_zone_free_blocks(z, o);
	s->free_pages = pmm_free_pages();
}

static bool snapshot_equal(const struct pmm_snapshot *a, const struct pmm_snapshot *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void pmm_alloc_is_aligned_for_every_order(struct ktest *t)
{
	for (unsigned int order = 0; order <= MAX_ORDER; order++) {
		struct page *p = alloc_pages(GFP_KERNEL, order);
		KASSERT_NOT_NULL(t, p);
		KEXPECT_EQ(t, page_to_pfn(p) & ((1ULL << order) - 1), 0);
		KEXPECT_EQ(t, p->refcount, 1);
		KEXPECT_EQ(t, p->order, order);
		KEXPECT_EQ(t, free_pages(p, order), 0);
	}
}

static void pmm_free_merges_back_what_alloc_split(struct ktest *t)
{
	struct pmm_snapshot before, after;
	struct page *a, *b;

	snapshot(&before);
	a = alloc_pages(GFP_KERNEL, 0);
	b = alloc_pages(GFP_KERNEL, 3);
	KASSERT_NOT_NULL(t, a);
	KASSERT_NOT_NULL(t, b);
	KEXPECT_EQ(t, pmm_free_pages(), before.free_pages - 1 - 8);
	free_pages(a, 0);
	free_pages(b, 3);
	snapshot(&after);
	KEXPECT_TRUE(t, snapshot_equal(&before, &after));
}

static void pmm_zones_place_frames_by_address(struct ktest *t)
{
	struct page *n = NULL, *d32, *d;

	if (zones[ZONE_NORMAL].free_pages)
		n = alloc_page(GFP_KERNEL);
	d32 = alloc_page(GFP_DMA32);
	d = alloc_page(GFP_DMA);
	KASSERT_NOT_NULL(t, d32);
	KASSERT_NOT_NULL(t, d);
	if (n)
		KEXPECT_GE(t, page_to_phys(n), ZONE_DMA32_END);
	KEXPECT_LT(t, page_to_phys(d32), ZONE_DMA32_END);
	KEXPECT_LT(t, page_to_phys(d), ZONE_DMA_END);
	if (n)
		free_pages(n, 0);
	free_pages(d32, 0);
	free_pages(d, 0);
	if (!n)
		ktest_skip(t, "no RAM above 4 GiB: NORMAL placement not checked");
}

/* The exhaustion test holds every free block at once. It chains them
 * through their descriptors' lru links (unused while a block is allocated)
 * rather than through their memory: writing one word into each 4 MiB
 * block would make the host back all of a 64 GiB guest's RAM. */
static uint64_t take_everything(struct list_head *held, bool *hit_memmap)
{
	uint64_t blocks = 0;
	struct page *p;

	for (int order = MAX_ORDER; order >= 0; order--) {
		while ((p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order))) {
			list_add(&p->lru, held);
			blocks++;
			if (memblock_overlaps(&memblock_memmap, page_to_phys(p), PAGE_SIZE << order))
				*hit_memmap = true;
		}
	}
	return blocks;
}

static void pmm_exhaustion_returns_null_and_recovers_exactly(struct ktest *t)
{
	struct pmm_snapshot before, after;
	bool poison = pmm_set_poison(false), hit_memmap = false;
	struct list_head held = LIST_HEAD_INIT(held), *pos, *n;
	uint64_t blocks;

	snapshot(&before);
	blocks = take_everything(&held, &hit_memmap);
	KEXPECT_EQ(t, pmm_free_pages(), 0);
	KEXPECT_NULL(t, alloc_page(GFP_KERNEL));
	KEXPECT_NULL(t, alloc_page(GFP_DMA));
	KEXPECT_FALSE(t, hit_memmap); /* memmap= ranges are never handed out */
	list_for_each_safe(pos, n, &held) {
		struct page *p = list_entry(pos, struct page, lru);
		list_del(&p->lru);
		free_pages(p, p->order);
	}
	pmm_set_poison(poison);
	snapshot(&after);
	ktest_log(t, "took %llu blocks, %llu frames", (unsigned long long)blocks,
		  (unsigned long long)before.free_pages);
	KEXPECT_TRUE(t, snapshot_equal(&before, &after));
}

/* Take one block of MAX_ORDER off the held list (NULL if there is none). */
static struct page *take_max_block(struct list_head *held)
{
	struct list_head *pos;

	list_for_each(pos, held) {
		struct page *p = list_entry(pos, struct page, lru);
		if (p->order == MAX_ORDER) {
			list_del(&p->lru);
			return p;
		}
	}
	return NULL;
}

static void free_held(struct list_head *held)
{
	struct list_head *pos, *n;

	list_for_each_safe(pos, n, held) {
		struct page *p = list_entry(pos, struct page, lru);
		list_del(&p->lru);
		free_pages(p, p->order);
	}
}

/* Free blocks of order in the buddy lists, once the CPUs' cached single
 * frames are back in them. */
static uint64_t free_blocks_of_order(unsigned int order)
{
	uint64_t n = 0;

	pmm_drain_all();
	for (unsigned int z = 0; z < NR_ZONES; z++)
		n += pmm_zone_free_blocks(z, order);
	return n;
}

/* With one free block of MAX_ORDER and nothing else, an order-0 request
 * must split it all the way down, leaving one block of each order below
 * MAX_ORDER; freeing the page must merge them all back into one block,
 * whichever order two pages are freed in. Boot-time fragmentation cannot
 * hide a missing split or merge here: nothing else is free. */
static void pmm_split_from_max_order_and_merge_back_to_one_block(struct ktest *t)
{
	bool poison = pmm_set_poison(false), hit_memmap = false;
	struct list_head held = LIST_HEAD_INIT(held);
	struct pmm_snapshot before, after;
	struct page *only, *a = NULL, *b = NULL;

	snapshot(&before);
	take_everything(&held, &hit_memmap);
	only = take_max_block(&held);
	if (pmm_free_pages() != 0 || !only) {
		ktest_fail(t, __FILE__, __LINE__, "could not hold all memory but one 4 MiB block");
		goto out;
	}
	free_pages(only, MAX_ORDER);
	KEXPECT_EQ(t, pmm_free_pages(), 1ULL << MAX_ORDER);
	a = alloc_page(GFP_KERNEL);
	b = a ? alloc_page(GFP_KERNEL) : NULL;
	KEXPECT_NOT_NULL(t, a);
	KEXPECT_NOT_NULL(t, b);
	if (a && b) {
		KEXPECT_EQ(t, page_to_pfn(a) >> MAX_ORDER, page_to_pfn(only) >> MAX_ORDER);
		KEXPECT_EQ(t, page_to_pfn(b) >> MAX_ORDER, page_to_pfn(only) >> MAX_ORDER);
		KEXPECT_EQ(t, page_to_pfn(a) ^ page_to_pfn(b), 1); /* buddies */
		for (unsigned int o = 1; o < MAX_ORDER; o++)
			KEXPECT_EQ(t, free_blocks_of_order(o), 1);
		KEXPECT_EQ(t, free_blocks_of_order(0), 0);
	}
	if (b) {
		free_pages(b, 0);
		KEXPECT_EQ(t, free_blocks_of_order(0), 1);
	}
	if (a)
		free_pages(a, 0);
	KEXPECT_EQ(t, free_blocks_of_order(MAX_ORDER), 1);
	for (unsigned int o = 0; o < MAX_ORDER; o++)
		KEXPECT_EQ(t, free_blocks_of_order(o), 0);
	KEXPECT_EQ(t, pmm_free_pages(), 1ULL << MAX_ORDER);
out:
	free_held(&held);
	pmm_set_poison(poison);
	snapshot(&after);
	KEXPECT_TRUE(t, snapshot_equal(&before, &after));
}

#define STRESS_LIVE 128
#define STRESS_STEPS 4000

struct shadow_block {
	struct page *page;
	pfn_t pfn;
	unsigned int order;
};

static uint64_t lcg_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static bool overlaps_live(const struct shadow_block *live, unsigned int n, pfn_t pfn,
			  unsigned int order)
{
	for (unsigned int i = 0; i < n; i++)
		if (pfn < live[i].pfn + (1ULL << live[i].order) && live[i].pfn < pfn + (1ULL << order))
			return true;
	return false;
}

static bool stress_free_one(struct shadow_block *live, unsigned int *n, unsigned int i)
{
	uint64_t *tag = page_address(live[i].page);
	bool ok = *tag == (live[i].pfn ^ 0x5a5a5a5aULL);

	free_pages(live[i].page, live[i].order);
	live[i] = live[--*n];
	return ok;
}

static void pmm_random_stress_matches_shadow_model(struct ktest *t)
{
	static struct shadow_block live[STRESS_LIVE];
	static const gfp_t gfps[] = { GFP_KERNEL, GFP_DMA32, GFP_DMA };
	struct pmm_snapshot before, after;
	unsigned int n = 0, bad_tags = 0, overlaps = 0;
	uint64_t seed = 42, shadow_free;

	snapshot(&before);
	shadow_free = before.free_pages;
	for (unsigned int step = 0; step < STRESS_STEPS; step++) {
		if (n && (n == STRESS_LIVE || lcg_next(&seed) % 2)) {
			unsigned int i = lcg_next(&seed) % n;
			shadow_free += 1ULL << live[i].order;
			bad_tags += !stress_free_one(live, &n, i);
		} else {
			unsigned int order = lcg_next(&seed) % 6;
			struct page *p = alloc_pages(gfps[lcg_next(&seed) % 3], order);
			if (!p)
				continue;
			pfn_t pfn = page_to_pfn(p);
			overlaps += overlaps_live(live, n, pfn, order);
			*(uint64_t *)page_address(p) = pfn ^ 0x5a5a5a5aULL;
			live[n++] = (struct shadow_block){ p, pfn, order };
			shadow_free -= 1ULL << order;
		}
		if (pmm_free_pages() != shadow_free)
			break;
	}
	KEXPECT_EQ(t, pmm_free_pages(), shadow_free);
	while (n)
		bad_tags += !stress_free_one(live, &n, n - 1);
	snapshot(&after);
	KEXPECT_EQ(t, overlaps, 0);
	KEXPECT_EQ(t, bad_tags, 0);
	KEXPECT_TRUE(t, snapshot_equal(&before, &after));
}

static void pmm_descriptors_cost_32_bytes_and_nothing_for_holes(struct ktest *t)
{
	uint64_t frames = 0;

	KEXPECT_LE(t, sizeof(struct page), 32);
	for (unsigned int i = 0; i < nr_mem_sections; i++)
		frames += mem_sections[i].end - mem_sections[i].start;
	/* One descriptor per frame of RAM, none for the holes between. */
	KEXPECT_EQ(t, frames, memblock_total(&memblock_memory) / PAGE_SIZE);
	KEXPECT_EQ(t, page_descriptor_bytes(), frames * sizeof(struct page));
	ktest_log(t, "%llu KiB of descriptors for %llu MiB of RAM",
		  (unsigned long long)(page_descriptor_bytes() >> 10),
		  (unsigned long long)(frames >> 8));
}

static void pmm_memmap_ranges_have_no_descriptors(struct ktest *t)
{
	if (!memblock_memmap.nr) {
		ktest_skip(t, "no memmap= on the command line");
		return;
	}
	for (unsigned int i = 0; i < memblock_memmap.nr; i++) {
		const struct memblock_range *r = &memblock_memmap.r[i];
		KEXPECT_NULL(t, pfn_to_page(phys_to_pfn(r->base)));
		KEXPECT_NULL(t, pfn_to_page(phys_to_pfn(r->end - 1)));
	}
}

static void pmm_double_free_is_refused_without_damage(struct ktest *t)
{
	struct pmm_snapshot before, after;
	struct page *p = alloc_page(GFP_KERNEL);

	KASSERT_NOT_NULL(t, p);
	KEXPECT_EQ(t, free_pages(p, 0), 0);
	snapshot(&before);
	KEXPECT_EQ(t, free_pages(p, 0), -EINVAL);
	snapshot(&after);
	KEXPECT_TRUE(t, snapshot_equal(&before, &after));
}

static void pmm_free_of_reserved_or_foreign_frame_is_refused(struct ktest *t)
{
	static struct page not_a_descriptor;
	struct pmm_snapshot before, after;
	struct page *kernel = pfn_to_page(phys_to_pfn(kernel_virt_to_phys(__text_start)));

	snapshot(&before);
	KASSERT_NOT_NULL(t, kernel);
	KEXPECT_TRUE(t, kernel->flags & PG_reserved);
	KEXPECT_EQ(t, free_pages(kernel, 0), -EINVAL);
	KEXPECT_EQ(t, free_pages(&not_a_descriptor, 0), -EINVAL);
	KEXPECT_EQ(t, free_pages(NULL, 0), -EINVAL);
	snapshot(&after);
	KEXPECT_TRUE(t, snapshot_equal(&before, &after));
}

static void pmm_free_with_wrong_order_is_refused(struct ktest *t)
{
	struct page *p = alloc_pages(GFP_KERNEL, 2);

	KASSERT_NOT_NULL(t, p);
	KEXPECT_EQ(t, free_pages(p, 1), -EINVAL);
	KEXPECT_EQ(t, free_pages(p, 2), 0);
}

static void pmm_zeroed_allocation_is_zero(struct ktest *t)
{
	struct page *p = alloc_pages(GFP_KERNEL, 1);
	uint64_t *w;
	bool all_zero = true;

	KASSERT_NOT_NULL(t, p);
	memset(page_address(p), 0xee, 2 * PAGE_SIZE);
	free_pages(p, 1);
	p = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
	KASSERT_NOT_NULL(t, p);
	w = page_address(p);
	for (size_t i = 0; i < 2 * PAGE_SIZE / 8; i++)
		all_zero &= w[i] == 0;
	KEXPECT_TRUE(t, all_zero);
	free_pages(p, 1);
}

static void pmm_freed_frame_is_poisoned(struct ktest *t)
{
	struct page *p = alloc_page(GFP_KERNEL);
	uint8_t *b;

	KASSERT_NOT_NULL(t, p);
	b = page_address(p);
	b[100] = 0;
	free_pages(p, 0);
	KEXPECT_EQ(t, b[100], 0x6b);
}

static void pmm_bad_order_and_forced_oom_return_null(struct ktest *t)
{
	struct pmm_snapshot before, after;

	snapshot(&before);
	KEXPECT_NULL(t, alloc_pages(GFP_KERNEL, MAX_ORDER + 1));
	pmm_fail_next(2);
	KEXPECT_NULL(t, alloc_page(GFP_KERNEL));
	KEXPECT_NULL(t, alloc_pages(GFP_DMA, 3));
	snapshot(&after);
	KEXPECT_TRUE(t, snapshot_equal(&before, &after));
	struct page *p = alloc_page(GFP_KERNEL); /* the hook is spent */
	KEXPECT_NOT_NULL(t, p);
	if (p)
		free_pages(p, 0);
}

static void pmm_refcount_frees_on_last_put(struct ktest *t)
{
	uint64_t before = pmm_free_pages();
	struct page *p = alloc_page(GFP_KERNEL);

	KASSERT_NOT_NULL(t, p);
	get_page(p);
	KEXPECT_EQ(t, p->refcount, 2);
	put_page(p);
	KEXPECT_EQ(t, pmm_free_pages(), before - 1); /* still held once */
	put_page(p);
	KEXPECT_EQ(t, pmm_free_pages(), before);
}

static const struct ktest_case pmm_cases[] = {
	KTEST_CASE(pmm_alloc_is_aligned_for_every_order),
	KTEST_CASE(pmm_free_merges_back_what_alloc_split),
	KTEST_CASE(pmm_zones_place_frames_by_address),
	KTEST_CASE(pmm_exhaustion_returns_null_and_recovers_exactly),
	KTEST_CASE(pmm_split_from_max_order_and_merge_back_to_one_block),
	KTEST_CASE(pmm_random_stress_matches_shadow_model),
	KTEST_CASE(pmm_descriptors_cost_32_bytes_and_nothing_for_holes),
	KTEST_CASE(pmm_memmap_ranges_have_no_descriptors),
	KTEST_CASE(pmm_double_free_is_refused_without_damage),
	KTEST_CASE(pmm_free_of_reserved_or_foreign_frame_is_refused),
	KTEST_CASE(pmm_free_with_wrong_order_is_refused),
	KTEST_CASE(pmm_zeroed_allocation_is_zero),
	KTEST_CASE(pmm_freed_frame_is_poisoned),
	KTEST_CASE(pmm_bad_order_and_forced_oom_return_null),
	KTEST_CASE(pmm_refcount_frees_on_last_put),
};
KTEST_SUITE(pmm, pmm_cases);
