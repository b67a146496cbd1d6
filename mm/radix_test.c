/* Tests of the page cache's index (mm/radix.c): insertion, lookup, removal,
 * the walk in key order, a tree of 10,000 entries, keys near 2^64, and an
 * insertion that runs out of memory at each of its allocations. Every case
 * ends with no node left allocated. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/radix.h>
#include <pagoda/slab.h>

/* Entries are small numbers made into pointers: never NULL. */
#define ITEM(k) ((void *)(uintptr_t)(((k) << 1) | 1))

static void expect_no_nodes(struct ktest *t, uint64_t before)
{
	KEXPECT_EQ(t, radix_nodes_allocated(), before);
}

static void radix_insert_then_lookup_finds_each_key(struct ktest *t)
{
	struct radix_tree tree = RADIX_TREE_INIT;
	uint64_t before = radix_nodes_allocated();
	static const uint64_t keys[] = { 0, 1, 63, 64, 4095, 4096, 262143, 1000000 };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		KASSERT_EQ(t, radix_insert(&tree, keys[i], ITEM(keys[i])), 0);
	KEXPECT_EQ(t, tree.count, ARRAY_SIZE(keys));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		KEXPECT_EQ(t, (uintptr_t)radix_lookup(&tree, keys[i]), (uintptr_t)ITEM(keys[i]));
	KEXPECT_NULL(t, radix_lookup(&tree, 2));
	KEXPECT_NULL(t, radix_lookup(&tree, 999999));
	KEXPECT_NULL(t, radix_lookup(&tree, 1ULL << 40));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		KEXPECT_EQ(t, (uintptr_t)radix_delete(&tree, keys[i]), (uintptr_t)ITEM(keys[i]));
	KEXPECT_EQ(t, tree.count, 0);
	KEXPECT_EQ(t, tree.height, 0);
	expect_no_nodes(t, before);
}

static void radix_insert_over_an_entry_is_eexist(struct ktest *t)
{
	struct radix_tree tree = RADIX_TREE_INIT;
	uint64_t before = radix_nodes_allocated();

	KASSERT_EQ(t, radix_insert(&tree, 77, ITEM(1)), 0);
	KEXPECT_EQ(t, radix_insert(&tree, 77, ITEM(2)), -EEXIST);
	KEXPECT_EQ(t, (uintptr_t)radix_lookup(&tree, 77), (uintptr_t)ITEM(1));
	KEXPECT_EQ(t, radix_insert(&tree, 78, NULL), -EINVAL);
	KEXPECT_NULL(t, radix_delete(&tree, 78));
	radix_delete(&tree, 77);
	expect_no_nodes(t, before);
}

/* One node per 64 keys at the bottom, one above for 4096: a tree of
 * 10,000 consecutive keys is three levels and about 160 + 3 + 1 nodes. */
static void radix_ten_thousand_pages_index_and_free(struct ktest *t)
{
	struct radix_tree tree = RADIX_TREE_INIT;
	uint64_t before = radix_nodes_allocated();

	for (uint64_t k = 0; k < 10000; k++)
		KASSERT_EQ(t, radix_insert(&tree, k, ITEM(k)), 0);
	KEXPECT_EQ(t, tree.height, 3);
	KEXPECT_EQ(t, radix_nodes_allocated() - before, (10000 + 63) / 64 + (10000 + 4095) / 4096 + 1);
	for (uint64_t k = 0; k < 10000; k += 97)
		KEXPECT_EQ(t, (uintptr_t)radix_lookup(&tree, k), (uintptr_t)ITEM(k));
	/* Remove from the top down: the root shrinks as the keys do. */
	for (uint64_t k = 10000; k-- > 64;)
		KASSERT_EQ(t, (uintptr_t)radix_delete(&tree, k), (uintptr_t)ITEM(k));
	KEXPECT_EQ(t, tree.height, 1);
	KEXPECT_EQ(t, radix_nodes_allocated() - before, 1);
	for (uint64_t k = 0; k < 64; k++)
		radix_delete(&tree, k);
	expect_no_nodes(t, before);
}

static void radix_next_walks_keys_in_order_within_the_range(struct ktest *t)
{
	struct radix_tree tree = RADIX_TREE_INIT;
	uint64_t before = radix_nodes_allocated();
	static const uint64_t keys[] = { 3, 64, 65, 4100, 300000, 1ULL << 36 };
	uint64_t k = 0;
	size_t n = 0;
	void *p;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		KASSERT_EQ(t, radix_insert(&tree, keys[i], ITEM(keys[i])), 0);
	for (k = 0; (p = radix_next(&tree, &k, UINT64_MAX)); k++, n++) {
		KASSERT_LT(t, n, ARRAY_SIZE(keys));
		KEXPECT_EQ(t, k, keys[n]);
		KEXPECT_EQ(t, (uintptr_t)p, (uintptr_t)ITEM(keys[n]));
	}
	KEXPECT_EQ(t, n, ARRAY_SIZE(keys));
	k = 66;
	KEXPECT_EQ(t, (uintptr_t)radix_next(&tree, &k, 4101), (uintptr_t)ITEM(4100));
	KEXPECT_EQ(t, k, 4100);
	k = 66;
	KEXPECT_NULL(t, radix_next(&tree, &k, 4100)); /* the end is not included */
	k = 300001;
	KEXPECT_EQ(t, (uintptr_t)radix_next(&tree, &k, UINT64_MAX), (uintptr_t)ITEM(1ULL << 36));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		radix_delete(&tree, keys[i]);
	expect_no_nodes(t, before);
}

static void radix_keys_near_two_to_the_64_work(struct ktest *t)
{
	struct radix_tree tree = RADIX_TREE_INIT;
	uint64_t before = radix_nodes_allocated(), k = UINT64_MAX - 5;

	KASSERT_EQ(t, radix_insert(&tree, UINT64_MAX, ITEM(1)), 0);
	KASSERT_EQ(t, radix_insert(&tree, 0, ITEM(2)), 0);
	KEXPECT_EQ(t, tree.height, RADIX_MAX_HEIGHT);
	KEXPECT_EQ(t, (uintptr_t)radix_lookup(&tree, UINT64_MAX), (uintptr_t)ITEM(1));
	KEXPECT_EQ(t, (uintptr_t)radix_next(&tree, &k, UINT64_MAX), 0); /* end excluded */
	k = 1;
	KEXPECT_NULL(t, radix_next(&tree, &k, UINT64_MAX - 1));
	radix_delete(&tree, UINT64_MAX);
	KEXPECT_EQ(t, tree.height, 1);
	radix_delete(&tree, 0);
	expect_no_nodes(t, before);
}

/* Fail the k-th node allocation of an insertion that needs a new root
 * and two new levels below it, for every k: -ENOMEM, and the tree is
 * exactly as before (its entries, its height, no extra node). */
static void radix_insert_failing_at_any_allocation_changes_nothing(struct ktest *t)
{
	struct radix_tree tree = RADIX_TREE_INIT;
	uint64_t before = radix_nodes_allocated(), with_one;
	unsigned int k;
	int r = -ENOMEM;

	KASSERT_EQ(t, radix_insert(&tree, 5, ITEM(5)), 0);
	with_one = radix_nodes_allocated();
	for (k = 0; k < 8 && r == -ENOMEM; k++) {
		radix_fail_after(k);
		r = radix_insert(&tree, 100000, ITEM(100000));
		radix_fail_after(RADIX_NO_FAIL);
		if (r == -ENOMEM) {
			KEXPECT_EQ(t, tree.height, 1);
			KEXPECT_EQ(t, tree.count, 1);
			KEXPECT_EQ(t, radix_nodes_allocated(), with_one);
			KEXPECT_EQ(t, (uintptr_t)radix_lookup(&tree, 5), (uintptr_t)ITEM(5));
		}
	}
	KEXPECT_EQ(t, k, 5); /* two roots above the old one and two nodes below: four failures */
	KEXPECT_EQ(t, r, 0);
	KEXPECT_EQ(t, (uintptr_t)radix_lookup(&tree, 100000), (uintptr_t)ITEM(100000));
	radix_delete(&tree, 100000);
	radix_delete(&tree, 5);
	expect_no_nodes(t, before);
}

static const struct ktest_case radix_cases[] = {
	KTEST_CASE(radix_insert_then_lookup_finds_each_key),
	KTEST_CASE(radix_insert_over_an_entry_is_eexist),
	KTEST_CASE(radix_ten_thousand_pages_index_and_free),
	KTEST_CASE(radix_next_walks_keys_in_order_within_the_range),
	KTEST_CASE(radix_keys_near_two_to_the_64_work),
	KTEST_CASE(radix_insert_failing_at_any_allocation_changes_nothing),
};
KTEST_SUITE(radix, radix_cases);
