/* Tests of kmalloc/kfree (mm/slab.c). Most cases compare the per-class
 * statistics and the buddy allocator's free frame count before and after:
 * whatever a case allocates it frees, and a call that must do nothing
 * (kfree of a stranger's pointer, a failed allocation) must change neither.
 * Several cases pass bad pointers on purpose; the warnings they print on
 * the console are expected. */
#include <pagoda/debug.h>
#include <pagoda/ktest.h>
#include <pagoda/page.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>

#define MAX_CLASSES 16
#define MANY 600

static const size_t class_sizes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048 };
#define NR_CLASSES ARRAY_SIZE(class_sizes)

static void *held[MANY]; /* objects a case holds; every case frees them */
static uint64_t not_from_kmalloc = 0x1122334455667788ULL;

struct snapshot {
	struct kmalloc_stats classes[MAX_CLASSES];
	unsigned int nr;
	uint64_t free_pages;
};

static void snapshot_take(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	kmalloc_shrink(); /* the spare empty slabs would blur the frame count */
	s->nr = kmalloc_get_stats(s->classes, MAX_CLASSES);
	s->free_pages = pmm_free_pages();
}

/* Report every difference between two snapshots. */
static void expect_unchanged(struct ktest *t, const struct snapshot *a, const struct snapshot *b)
{
	KEXPECT_EQ(t, a->nr, b->nr);
	KEXPECT_EQ(t, a->free_pages, b->free_pages);
	for (unsigned int i = 0; i < a->nr && i < MAX_CLASSES; i++) {
		KEXPECT_EQ(t, a->classes[i].slabs, b->classes[i].slabs);
		KEXPECT_EQ(t, a->classes[i].objects_in_use, b->classes[i].objects_in_use);
	}
}

/* Without a buddy allocator every case would fail for a reason that is
 * not kmalloc's: skip instead. */
static bool need_buddy(struct ktest *t)
{
	if (pmm_total_pages() > 0)
		return true;
	ktest_skip(t, "the buddy allocator has no memory (pmm_init not called?)");
	return false;
}

static unsigned int class_of(size_t size)
{
	unsigned int i = 0;

	while (i < NR_CLASSES && class_sizes[i] < size)
		i++;
	return i;
}

static uint8_t pattern(unsigned int obj, size_t byte) { return (uint8_t)(obj * 37 + byte * 7 + 1); }

static bool holds_pattern(const void *p, unsigned int obj, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != pattern(obj, i))
			return false;
	return true;
}

static void fill_pattern(void *p, unsigned int obj, size_t len)
{
	uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		b[i] = pattern(obj, i);
}

static void free_held(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		kfree(held[i]);
		held[i] = NULL;
	}
}

static void kmalloc_stats_list_every_size_class(struct ktest *t)
{
	struct kmalloc_stats s[MAX_CLASSES];

	KASSERT_EQ(t, kmalloc_get_stats(s, MAX_CLASSES), NR_CLASSES);
	for (unsigned int i = 0; i < NR_CLASSES; i++)
		KEXPECT_EQ(t, s[i].object_size, class_sizes[i]);
	KEXPECT_EQ(t, kmalloc_get_stats(NULL, 0), NR_CLASSES);
}

/* Allocate a few objects of one size, fill each to its full ksize(), and
 * check alignment, size and that no object's bytes ran into another's. */
static void check_objects_of_size(struct ktest *t, size_t size)
{
	const unsigned int n = 4;
	size_t want = class_sizes[class_of(size)], got;

	for (unsigned int i = 0; i < n; i++) {
		held[i] = kmalloc(size, GFP_KERNEL);
		KASSERT_NOT_NULL(t, held[i]);
		got = ksize(held[i]);
		KEXPECT_EQ(t, got, want);
		KEXPECT_TRUE(t, IS_ALIGNED((uintptr_t)held[i], 8));
		if ((want & (want - 1)) == 0)
			KEXPECT_TRUE(t, IS_ALIGNED((uintptr_t)held[i], want));
		for (unsigned int j = 0; j < i; j++)
			KEXPECT_NE(t, (uintptr_t)held[i], (uintptr_t)held[j]);
		fill_pattern(held[i], i, got);
	}
	for (unsigned int i = 0; i < n; i++)
		KEXPECT_TRUE(t, holds_pattern(held[i], i, want));
}

static void kmalloc_every_size_class_returns_aligned_distinct_objects(struct ktest *t)
{
	struct snapshot before, after;

	if (!need_buddy(t))
		return;
	snapshot_take(&before);
	for (unsigned int c = 0; c < NR_CLASSES; c++) {
		const size_t sizes[] = { class_sizes[c] - 1, class_sizes[c], class_sizes[c] + 1 };
		for (unsigned int k = 0; k < ARRAY_SIZE(sizes); k++) {
			if (sizes[k] == 0 || sizes[k] > KMALLOC_MAX_CACHE_SIZE)
				continue;
			check_objects_of_size(t, sizes[k]);
			free_held(4);
		}
	}
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
}

static void kmalloc_zero_size_returns_null(struct ktest *t)
{
	struct snapshot before, after;

	snapshot_take(&before);
	KEXPECT_NULL(t, kmalloc(0, GFP_KERNEL));
	KEXPECT_NULL(t, kzalloc(0, GFP_KERNEL));
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
}

static void kfree_null_is_noop(struct ktest *t)
{
	struct snapshot before, after;

	snapshot_take(&before);
	kfree(NULL);
	KEXPECT_EQ(t, ksize(NULL), 0);
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
}

/* size bytes must come as a page-aligned block of exactly 2^order frames. */
static void check_large(struct ktest *t, size_t size, unsigned int order)
{
	uint64_t free_before;
	uint8_t *p;

	kmalloc_shrink();
	free_before = pmm_free_pages();
	p = kmalloc(size, GFP_KERNEL);

	KASSERT_NOT_NULL(t, p);
	KEXPECT_TRUE(t, IS_ALIGNED((uintptr_t)p, PAGE_SIZE));
	KEXPECT_EQ(t, ksize(p), PAGE_SIZE << order);
	KEXPECT_EQ(t, pmm_free_pages(), free_before - (1ULL << order));
	memset(p, 0x5a, PAGE_SIZE << order);
	KEXPECT_EQ(t, p[0], 0x5a);
	KEXPECT_EQ(t, p[(PAGE_SIZE << order) - 1], 0x5a);
	kfree(p);
	KEXPECT_EQ(t, pmm_free_pages(), free_before);
}

static void kmalloc_large_uses_whole_pages(struct ktest *t)
{
	if (!need_buddy(t))
		return;
	check_large(t, KMALLOC_MAX_CACHE_SIZE + 1, 0);
	check_large(t, PAGE_SIZE, 0);
	check_large(t, PAGE_SIZE + 1, 1);
	check_large(t, 3 * PAGE_SIZE, 2);
	check_large(t, 1 << 20, 8);
	check_large(t, PAGE_SIZE << MAX_ORDER, MAX_ORDER);
}

static void kmalloc_beyond_largest_block_returns_null(struct ktest *t)
{
	struct snapshot before, after;

	snapshot_take(&before);
	KEXPECT_NULL(t, kmalloc((PAGE_SIZE << MAX_ORDER) + 1, GFP_KERNEL));
	KEXPECT_NULL(t, kmalloc((size_t)-1, GFP_KERNEL));
	KEXPECT_NULL(t, kmalloc((size_t)-1 - PAGE_SIZE + 2, GFP_KERNEL));
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
}

static void kmalloc_free_returns_frames(struct ktest *t)
{
	struct snapshot before, full, after;

	if (!need_buddy(t))
		return;
	snapshot_take(&before);
	for (unsigned int i = 0; i < MANY; i++) {
		held[i] = kmalloc(class_sizes[i % NR_CLASSES] - (i & 3), GFP_KERNEL);
		KASSERT_NOT_NULL(t, held[i]);
	}
	snapshot_take(&full);
	KEXPECT_LT(t, full.free_pages, before.free_pages);
	for (unsigned int c = 0; c < NR_CLASSES; c++)
		KEXPECT_GE(t, full.classes[c].objects_in_use,
			   before.classes[c].objects_in_use + MANY / NR_CLASSES);
	/* Odd ones first, so that full slabs go back to partial before they empty. */
	for (unsigned int i = 1; i < MANY; i += 2) {
		kfree(held[i]);
		held[i] = NULL;
	}
	free_held(MANY);
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void kzalloc_zeroes(struct ktest *t)
{
	void *p;

	if (!need_buddy(t))
		return;
	for (unsigned int c = 0; c < NR_CLASSES; c++) {
		/* Dirty an object first: the next one is likely the same memory. */
		p = kmalloc(class_sizes[c], GFP_KERNEL);
		KASSERT_NOT_NULL(t, p);
		memset(p, 0xa5, class_sizes[c]);
		kfree(p);
		p = kzalloc(class_sizes[c], GFP_KERNEL);
		KASSERT_NOT_NULL(t, p);
		KEXPECT_TRUE(t, all_zero(p, ksize(p)));
		kfree(p);
	}
	p = kzalloc(3 * PAGE_SIZE, GFP_KERNEL);
	KASSERT_NOT_NULL(t, p);
	KEXPECT_TRUE(t, all_zero(p, 4 * PAGE_SIZE));
	kfree(p);
}

/* Allocate from class c until every slab of the class is full: the first
 * allocation that needs a new slab is freed again, which frees that slab.
 * The objects go to held[], their number to *n. False if that did not
 * happen within MANY objects. */
static bool fill_class(unsigned int c, unsigned int *n)
{
	struct kmalloc_stats s[MAX_CLASSES];
	uint64_t slabs;

	kmalloc_get_stats(s, MAX_CLASSES);
	slabs = s[c].slabs;
	for (*n = 0; *n < MANY; (*n)++) {
		void *p = kmalloc(class_sizes[c], GFP_KERNEL);
		if (!p)
			return false;
		kmalloc_get_stats(s, MAX_CLASSES);
		if (s[c].slabs > slabs) {
			kfree(p);
			return true;
		}
		held[*n] = p;
	}
	return false;
}

static void expect_oom_changes_nothing(struct ktest *t, size_t size, gfp_t gfp)
{
	struct snapshot before, after;

	snapshot_take(&before);
	pmm_fail_next(1);
	KEXPECT_NULL(t, kmalloc(size, gfp));
	pmm_fail_next(0);
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
}

static void kmalloc_fails_cleanly_under_forced_oom(struct ktest *t)
{
	const unsigned int classes[] = { 0, 4, NR_CLASSES - 1 };

	if (!need_buddy(t))
		return;
	for (unsigned int k = 0; k < ARRAY_SIZE(classes); k++) {
		unsigned int c = classes[k], n;
		KEXPECT_TRUE(t, fill_class(c, &n));
		expect_oom_changes_nothing(t, class_sizes[c], GFP_KERNEL);
		expect_oom_changes_nothing(t, class_sizes[c], GFP_KERNEL | __GFP_ZERO);
		free_held(n);
	}
	expect_oom_changes_nothing(t, 3 * PAGE_SIZE, GFP_KERNEL);
	expect_oom_changes_nothing(t, 64, GFP_DMA32);
}

/* Pointers that are not the start of a kmalloc object, beside real ones. */
static void kfree_strangers(uint8_t *obj, uint8_t *large, void *frame, void *block)
{
	const void *strangers[] = {
		&not_from_kmalloc, obj + 1, obj + 8, obj + 32, obj + 63,
		large + 8, large + PAGE_SIZE, frame, block,
		(void *)0x1000, (void *)(uintptr_t)(DIRECT_MAP_BASE - 8),
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(strangers); i++)
		kfree(strangers[i]);
}

static void kfree_of_non_kmalloc_pointer_is_ignored(struct ktest *t)
{
	struct snapshot before, after;
	struct page *frame, *block;
	uint8_t *obj, *large;

	if (!need_buddy(t))
		return;
	obj = kmalloc(64, GFP_KERNEL);
	large = kmalloc(2 * PAGE_SIZE, GFP_KERNEL);
	frame = alloc_pages(GFP_KERNEL, 0);
	block = alloc_pages(GFP_KERNEL, 1);
	if (!obj || !large || !frame || !block)
		goto out;
	fill_pattern(obj, 1, 64);
	fill_pattern(large, 2, 2 * PAGE_SIZE);
	snapshot_take(&before);
	kfree_strangers(obj, large, page_address(frame), page_address(block));
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
	KEXPECT_EQ(t, ksize(obj + 8), 0);
	KEXPECT_EQ(t, ksize(&not_from_kmalloc), 0);
	KEXPECT_EQ(t, ksize(obj), 64);
	KEXPECT_TRUE(t, holds_pattern(obj, 1, 64));
	KEXPECT_TRUE(t, holds_pattern(large, 2, 2 * PAGE_SIZE));
	KEXPECT_EQ(t, not_from_kmalloc, 0x1122334455667788ULL);
out:
	KEXPECT_TRUE(t, obj && large && frame && block);
	kfree(obj);
	kfree(large);
	if (frame)
		free_pages(frame, 0);
	if (block)
		free_pages(block, 1);
}

/* want objects of one slab (so that freeing some does not free the slab)
 * in held[0..want); the other objects this took are freed. False if the
 * first 16 objects of the size do not include want from one slab. */
static bool objects_in_one_slab(size_t size, unsigned int want)
{
	void *got[16];
	unsigned int n, same;

	for (n = 0; n < ARRAY_SIZE(got); n++) {
		got[n] = kmalloc(size, GFP_KERNEL);
		if (!got[n])
			break;
		same = 0;
		for (unsigned int i = 0; i <= n; i++)
			same += virt_to_page(got[i]) == virt_to_page(got[n]);
		if (same < want)
			continue;
		for (unsigned int i = 0, k = 0; i <= n; i++)
			if (virt_to_page(got[i]) == virt_to_page(got[n]) && k < want)
				held[k++] = got[i];
			else
				kfree(got[i]);
		return true;
	}
	while (n--)
		kfree(got[n]);
	return false;
}

/* The test build's checks: poison and a scan of the slab's free list. */
static bool need_debug_checks(struct ktest *t)
{
	if (PAGODA_DEBUG)
		return true;
	ktest_skip(t, "built without PAGODA_DEBUG (make test's build has it): kmalloc "
		      "neither poisons nor scans for double frees");
	return false;
}

/* Every build: the object freed last is the head of its slab's list. */
static void kfree_twice_in_a_row_is_refused(struct ktest *t)
{
	struct snapshot before, after;
	void *p, *keep, *x, *y;

	if (!need_buddy(t))
		return;
	KASSERT_TRUE(t, objects_in_one_slab(96, 2));
	p = held[0], keep = held[1];
	held[0] = held[1] = NULL;
	kfree(p);
	snapshot_take(&before);
	kfree(p);
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
	/* Let through, it would be handed out twice. */
	x = kmalloc(96, GFP_KERNEL);
	y = kmalloc(96, GFP_KERNEL);
	KEXPECT_TRUE(t, x && y && x != y);
	kfree(x);
	kfree(y);
	kfree(keep);
}

static void kfree_double_free_is_detected(struct ktest *t)
{
	struct snapshot before, after;
	void *p, *q, *keep, *x, *y, *z;

	if (!need_buddy(t) || !need_debug_checks(t))
		return;
	KASSERT_TRUE(t, objects_in_one_slab(128, 3));
	p = held[0], q = held[1], keep = held[2];
	held[0] = held[1] = held[2] = NULL;
	kfree(p);
	kfree(q); /* the slab's free list: q, p, ... */
	snapshot_take(&before);
	kfree(q); /* the head of the free list */
	kfree(p); /* further down */
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
	/* A double free let through would hand one object out twice. */
	x = kmalloc(128, GFP_KERNEL);
	y = kmalloc(128, GFP_KERNEL);
	z = kmalloc(128, GFP_KERNEL);
	KEXPECT_TRUE(t, x && y && z);
	KEXPECT_TRUE(t, x != y && y != z && x != z);
	KEXPECT_TRUE(t, x != keep && y != keep && z != keep);
	kfree(x);
	kfree(y);
	kfree(z);
	kfree(keep);
}

static void kfree_poisons_freed_object(struct ktest *t)
{
	uint8_t *p;

	if (!need_buddy(t) || !need_debug_checks(t))
		return;
	KASSERT_TRUE(t, objects_in_one_slab(256, 2));
	p = held[0];
	memset(p, 0, 256);
	kfree(p);
	/* Reading freed memory on purpose: past the 8-byte link, all poison. */
	for (unsigned int i = 8; i < 256; i++)
		KEXPECT_EQ(t, p[i], 0x6b);
	kfree(held[1]);
	held[0] = held[1] = NULL;
}

static void kmalloc_counts_objects_and_slabs(struct ktest *t)
{
	struct snapshot before, during, after;
	void *p;

	if (!need_buddy(t))
		return;
	snapshot_take(&before);
	p = kmalloc(200, GFP_KERNEL); /* class 256 */
	KASSERT_NOT_NULL(t, p);
	snapshot_take(&during);
	KEXPECT_EQ(t, during.classes[7].object_size, 256);
	KEXPECT_EQ(t, during.classes[7].objects_in_use, before.classes[7].objects_in_use + 1);
	KEXPECT_GE(t, during.classes[7].slabs, 1);
	KEXPECT_LE(t, during.classes[7].slabs, before.classes[7].slabs + 1);
	kfree(p);
	snapshot_take(&after);
	expect_unchanged(t, &before, &after);
}

static void kmalloc_dma_request_comes_from_its_zone(struct ktest *t)
{
	const struct { gfp_t gfp; phys_addr_t end; } reqs[] = {
		{ GFP_DMA, ZONE_DMA_END }, { GFP_DMA32, ZONE_DMA32_END },
	};

	if (!need_buddy(t))
		return;
	for (unsigned int i = 0; i < ARRAY_SIZE(reqs); i++) {
		void *p = kmalloc(64, reqs[i].gfp);
		if (!p) {
			ktest_skip(t, "a DMA zone has no free frame");
			continue;
		}
		KEXPECT_LE(t, virt_to_phys(p) + 64, reqs[i].end);
		kfree(p);
	}
}

static const struct ktest_case slab_cases[] = {
	KTEST_CASE(kmalloc_stats_list_every_size_class),
	KTEST_CASE(kmalloc_every_size_class_returns_aligned_distinct_objects),
	KTEST_CASE(kmalloc_zero_size_returns_null),
	KTEST_CASE(kfree_null_is_noop),
	KTEST_CASE(kmalloc_large_uses_whole_pages),
	KTEST_CASE(kmalloc_beyond_largest_block_returns_null),
	KTEST_CASE(kmalloc_free_returns_frames),
	KTEST_CASE(kzalloc_zeroes),
	KTEST_CASE(kmalloc_fails_cleanly_under_forced_oom),
	KTEST_CASE(kfree_of_non_kmalloc_pointer_is_ignored),
	KTEST_CASE(kfree_twice_in_a_row_is_refused),
	KTEST_CASE(kfree_double_free_is_detected),
	KTEST_CASE(kfree_poisons_freed_object),
	KTEST_CASE(kmalloc_counts_objects_and_slabs),
	KTEST_CASE(kmalloc_dma_request_comes_from_its_zone),
};
KTEST_SUITE(slab, slab_cases);
