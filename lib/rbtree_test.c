/* Tests of the red-black tree (lib/rbtree.c): 10,000 static nodes with
 * integer keys (node i has key i), inserted and erased in several orders
 * with rb_validate() along the way and a bitmap as the reference for which
 * keys the tree should hold. No allocator is involved. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/rbtree.h>
#include <pagoda/string.h>

#define NR_NODES 10000
#define VALIDATE_EVERY 97 /* operations between full rb_validate() walks */

struct tnode {
	struct rb_node rb;
	unsigned key;
};

static struct tnode nodes[NR_NODES];
static struct tnode spares[NR_NODES]; /* stand-ins for rb_replace_node() */
static unsigned order[NR_NODES];      /* the order of an insert or erase run */
static uint64_t shadow[(NR_NODES + 63) / 64]; /* bit k: key k is in the tree */
static struct rb_root root;
static uint64_t lcg;

/* Knuth's MMIX LCG; the high bits are the random ones. */
static unsigned lcg_below(unsigned bound)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((lcg >> 33) % bound);
}

static bool shadow_has(unsigned k) { return shadow[k / 64] & (1ULL << (k % 64)); }
static void shadow_set(unsigned k) { shadow[k / 64] |= 1ULL << (k % 64); }
static void shadow_clear(unsigned k) { shadow[k / 64] &= ~(1ULL << (k % 64)); }

static unsigned key_of(const struct rb_node *n)
{
	return rb_entry(n, struct tnode, rb)->key;
}

/* An empty tree and nodes[i].key == i, spares[i].key == i. */
static void reset(void)
{
	root = RB_ROOT;
	memset(shadow, 0, sizeof(shadow));
	for (unsigned i = 0; i < NR_NODES; i++) {
		nodes[i].key = i;
		spares[i].key = i;
	}
}

static void order_ascending(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
}

static void order_descending(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		order[i] = n - 1 - i;
}

/* A pseudo-random permutation of 0..n-1 (Fisher-Yates). */
static void order_shuffled(unsigned n, uint64_t seed)
{
	lcg = seed;
	order_ascending(n);
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j = lcg_below(i + 1), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
}

/* The caller's half of an insert: walk down by key, then link and colour. */
static void tree_insert(struct tnode *tn)
{
	struct rb_node **link = &root.node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = tn->key < key_of(parent) ? &parent->left : &parent->right;
	}
	rb_link_node(&tn->rb, parent, link);
	rb_insert_color(&tn->rb, &root);
}

static struct rb_node *tree_search(unsigned key, unsigned *steps)
{
	struct rb_node *n = root.node;

	for (*steps = 1; n && key_of(n) != key; ++*steps)
		n = key < key_of(n) ? n->left : n->right;
	return n;
}

/* Insert nodes[order[0..n)], validating every VALIDATE_EVERY inserts and
 * at the end. Returns 0 or the first rb_validate() error. */
static int insert_run(unsigned n)
{
	int ret;

	for (unsigned i = 0; i < n; i++) {
		tree_insert(&nodes[order[i]]);
		shadow_set(order[i]);
		if (i % VALIDATE_EVERY == 0 && (ret = rb_validate(&root)) < 0)
			return ret;
	}
	ret = rb_validate(&root);
	return ret < 0 ? ret : 0;
}

/* Erase nodes[order[from..to)], validating as insert_run() does. */
static int erase_run(unsigned from, unsigned to)
{
	int ret;

	for (unsigned i = from; i < to; i++) {
		rb_erase(&nodes[order[i]].rb, &root);
		shadow_clear(order[i]);
		if (i % VALIDATE_EVERY == 0 && (ret = rb_validate(&root)) < 0)
			return ret;
	}
	ret = rb_validate(&root);
	return ret < 0 ? ret : 0;
}

static unsigned shadow_count(void)
{
	unsigned c = 0;

	for (unsigned k = 0; k < NR_NODES; k++)
		c += shadow_has(k);
	return c;
}

/* Walk with rb_first()/rb_next(); returns how many nodes came in strictly
 * ascending order with their key in the shadow, stopping at the first that
 * does not. Equal to shadow_count() exactly when the tree is right. */
static unsigned walk_forward(void)
{
	unsigned c = 0, last = 0;

	for (struct rb_node *n = rb_first(&root); n; n = rb_next(n), c++) {
		if ((c && key_of(n) <= last) || !shadow_has(key_of(n)))
			break;
		last = key_of(n);
	}
	return c;
}

/* The same with rb_last()/rb_prev(), strictly descending. */
static unsigned walk_backward(void)
{
	unsigned c = 0, last = 0;

	for (struct rb_node *n = rb_last(&root); n; n = rb_prev(n), c++) {
		if ((c && key_of(n) >= last) || !shadow_has(key_of(n)))
			break;
		last = key_of(n);
	}
	return c;
}

static unsigned height(const struct rb_node *n)
{
	unsigned l, r;

	if (!n)
		return 0;
	l = height(n->left);
	r = height(n->right);
	return 1 + MAX(l, r);
}

/* height <= 2 * log2(n + 1), i.e. 2^height <= (n + 1)^2, and
 * black height <= log2(n + 1), i.e. 2^bh <= n + 1. */
static void expect_balanced(struct ktest *t, unsigned n)
{
	unsigned h = height(root.node);
	int bh = rb_validate(&root);

	KASSERT_GE(t, bh, 0);
	KASSERT_LT(t, h, 64);
	KEXPECT_LE(t, 1ULL << h, (uint64_t)(n + 1) * (n + 1));
	KEXPECT_LE(t, 1ULL << bh, (uint64_t)n + 1);
}

static void rbtree_empty_tree_has_no_first_or_last(struct ktest *t)
{
	reset();
	KEXPECT_TRUE(t, RB_EMPTY_ROOT(&root));
	KEXPECT_NULL(t, rb_first(&root));
	KEXPECT_NULL(t, rb_last(&root));
	KEXPECT_EQ(t, rb_validate(&root), 0);
}

static void rbtree_single_node_is_black_root(struct ktest *t)
{
	struct rb_node *n = &nodes[7].rb;

	reset();
	tree_insert(&nodes[7]);
	KEXPECT_EQ(t, root.node, n);
	KEXPECT_TRUE(t, rb_is_black(n));
	KEXPECT_NULL(t, rb_parent(n));
	KEXPECT_EQ(t, rb_first(&root), n);
	KEXPECT_EQ(t, rb_last(&root), n);
	KEXPECT_NULL(t, rb_next(n));
	KEXPECT_NULL(t, rb_prev(n));
	KEXPECT_EQ(t, rb_validate(&root), 1);
}

static void rbtree_ascending_inserts_keep_invariants(struct ktest *t)
{
	reset();
	order_ascending(NR_NODES);
	KASSERT_EQ(t, insert_run(NR_NODES), 0);
	KEXPECT_EQ(t, walk_forward(), NR_NODES);
	expect_balanced(t, NR_NODES);
}

static void rbtree_descending_inserts_keep_invariants(struct ktest *t)
{
	reset();
	order_descending(NR_NODES);
	KASSERT_EQ(t, insert_run(NR_NODES), 0);
	KEXPECT_EQ(t, walk_forward(), NR_NODES);
	expect_balanced(t, NR_NODES);
}

static void rbtree_random_inserts_keep_invariants(struct ktest *t)
{
	reset();
	order_shuffled(NR_NODES, 1);
	KASSERT_EQ(t, insert_run(NR_NODES), 0);
	expect_balanced(t, NR_NODES);
}

static void rbtree_first_next_walk_yields_ascending_keys(struct ktest *t)
{
	reset();
	order_shuffled(NR_NODES, 2);
	KASSERT_EQ(t, insert_run(NR_NODES), 0);
	KEXPECT_EQ(t, key_of(rb_first(&root)), 0);
	KEXPECT_EQ(t, walk_forward(), NR_NODES);
}

static void rbtree_last_prev_walk_yields_descending_keys(struct ktest *t)
{
	reset();
	order_shuffled(NR_NODES, 3);
	KASSERT_EQ(t, insert_run(NR_NODES), 0);
	KEXPECT_EQ(t, key_of(rb_last(&root)), NR_NODES - 1);
	KEXPECT_EQ(t, walk_backward(), NR_NODES);
}

static void rbtree_next_and_prev_stop_at_the_ends(struct ktest *t)
{
	reset();
	order_shuffled(100, 4);
	KASSERT_EQ(t, insert_run(100), 0);
	KEXPECT_NULL(t, rb_prev(rb_first(&root)));
	KEXPECT_NULL(t, rb_next(rb_last(&root)));
	KEXPECT_EQ(t, rb_next(&nodes[41].rb), &nodes[42].rb);
	KEXPECT_EQ(t, rb_prev(&nodes[41].rb), &nodes[40].rb);
}

static void rbtree_search_finds_every_key_within_height_bound(struct ktest *t)
{
	unsigned steps, worst = 0;

	reset();
	order_shuffled(NR_NODES, 5);
	KASSERT_EQ(t, insert_run(NR_NODES), 0);
	for (unsigned k = 0; k < NR_NODES; k++) {
		KASSERT_EQ(t, tree_search(k, &steps), &nodes[k].rb);
		worst = MAX(worst, steps);
	}
	/* 2 * log2(10001) = 26.6 */
	KEXPECT_LE(t, worst, 26);
	KEXPECT_NULL(t, tree_search(NR_NODES, &steps));
}

static void rbtree_erase_random_half_keeps_the_rest(struct ktest *t)
{
	reset();
	order_shuffled(NR_NODES, 6);
	KASSERT_EQ(t, insert_run(NR_NODES), 0);
	order_shuffled(NR_NODES, 7);
	KASSERT_EQ(t, erase_run(0, NR_NODES / 2), 0);
	KEXPECT_EQ(t, shadow_count(), NR_NODES / 2);
	KEXPECT_EQ(t, walk_forward(), NR_NODES / 2);
	KEXPECT_EQ(t, walk_backward(), NR_NODES / 2);
	expect_balanced(t, NR_NODES / 2);
}

static void rbtree_erase_all_leaves_empty_root(struct ktest *t)
{
	reset();
	order_shuffled(NR_NODES, 8);
	KASSERT_EQ(t, insert_run(NR_NODES), 0);
	order_shuffled(NR_NODES, 9);
	KASSERT_EQ(t, erase_run(0, NR_NODES), 0);
	KEXPECT_NULL(t, root.node);
	KEXPECT_NULL(t, rb_first(&root));
	KEXPECT_EQ(t, rb_validate(&root), 0);
}

/* The root has two children in any tree of three or more nodes, so this
 * takes the successor path of rb_erase() over and over. */
static void rbtree_erase_root_repeatedly_keeps_invariants(struct ktest *t)
{
	unsigned left = NR_NODES;

	reset();
	order_ascending(NR_NODES);
	KASSERT_EQ(t, insert_run(NR_NODES), 0);
	while (root.node) {
		unsigned k = key_of(root.node);

		rb_erase(root.node, &root);
		shadow_clear(k);
		left--;
		if (left % VALIDATE_EVERY == 0)
			KASSERT_GE(t, rb_validate(&root), 0);
	}
	KEXPECT_EQ(t, left, 0);
}

static void rbtree_interleaved_insert_erase_matches_shadow(struct ktest *t)
{
	reset();
	lcg = 10;
	for (unsigned i = 0; i < 4 * NR_NODES; i++) {
		unsigned k = lcg_below(NR_NODES);

		if (shadow_has(k)) {
			rb_erase(&nodes[k].rb, &root);
			shadow_clear(k);
		} else {
			tree_insert(&nodes[k]);
			shadow_set(k);
		}
		if (i % VALIDATE_EVERY == 0)
			KASSERT_GE(t, rb_validate(&root), 0);
	}
	KEXPECT_EQ(t, walk_forward(), shadow_count());
	expect_balanced(t, shadow_count());
}

/* Replace the root and every third node with a spare of the same key: the
 * tree stays valid, the walk meets the spares in key order, and the spares
 * can be erased like any node. */
static void rbtree_replace_node_keeps_order(struct ktest *t)
{
	const unsigned n = 1000;
	unsigned c = 0, rk;

	reset();
	order_shuffled(n, 11);
	KASSERT_EQ(t, insert_run(n), 0);
	rk = key_of(root.node);
	rb_replace_node(root.node, &spares[rk].rb, &root);
	KEXPECT_EQ(t, root.node, &spares[rk].rb);
	for (unsigned k = 0; k < n; k += 3)
		if (k != rk)
			rb_replace_node(&nodes[k].rb, &spares[k].rb, &root);
	KASSERT_GE(t, rb_validate(&root), 0);
	for (struct rb_node *r = rb_first(&root); r; r = rb_next(r), c++) {
		bool spare = c % 3 == 0 || c == rk;
		KASSERT_EQ(t, r, spare ? &spares[c].rb : &nodes[c].rb);
	}
	KEXPECT_EQ(t, c, n);
	for (unsigned k = 0; k < n; k += 3)
		rb_erase(&spares[k].rb, &root);
	KEXPECT_GE(t, rb_validate(&root), 0);
	KEXPECT_EQ(t, key_of(rb_first(&root)), 1);
}

static void rbtree_clear_node_has_no_neighbours(struct ktest *t)
{
	struct rb_node *n = &spares[0].rb;

	RB_CLEAR_NODE(n);
	KEXPECT_TRUE(t, RB_EMPTY_NODE(n));
	KEXPECT_NULL(t, rb_next(n));
	KEXPECT_NULL(t, rb_prev(n));
}

/* Keys 3 1 5 0 2 4 6 in that order build a full tree: 3, 1 and 5 black,
 * the leaves red, black height 2. */
static void build_seven(void)
{
	static const unsigned keys[] = { 3, 1, 5, 0, 2, 4, 6 };

	reset();
	for (unsigned i = 0; i < ARRAY_SIZE(keys); i++)
		tree_insert(&nodes[keys[i]]);
}

static void paint(struct rb_node *n, uintptr_t color)
{
	n->parent_color = (n->parent_color & ~RB_COLOR_MASK) | color;
}

static void rbtree_validate_accepts_full_seven_node_tree(struct ktest *t)
{
	build_seven();
	KEXPECT_EQ(t, root.node, &nodes[3].rb);
	KEXPECT_TRUE(t, rb_is_black(&nodes[1].rb) && rb_is_black(&nodes[5].rb));
	KEXPECT_TRUE(t, rb_is_red(&nodes[0].rb) && rb_is_red(&nodes[6].rb));
	KEXPECT_EQ(t, rb_validate(&root), 2);
}

static void rbtree_validate_rejects_red_child_of_red(struct ktest *t)
{
	build_seven();
	paint(root.node->left, RB_RED);
	paint(root.node->left->left, RB_RED);
	KEXPECT_EQ(t, rb_validate(&root), -EINVAL);
}

static void rbtree_validate_rejects_red_root(struct ktest *t)
{
	build_seven();
	paint(root.node, RB_RED);
	KEXPECT_EQ(t, rb_validate(&root), -EINVAL);
}

static void rbtree_validate_rejects_unequal_black_heights(struct ktest *t)
{
	build_seven();
	paint(&nodes[0].rb, RB_BLACK);
	KEXPECT_EQ(t, rb_validate(&root), -ERANGE);
}

static void rbtree_validate_rejects_wrong_parent_pointer(struct ktest *t)
{
	build_seven();
	nodes[2].rb.parent_color = (uintptr_t)&nodes[5].rb | RB_RED;
	KEXPECT_EQ(t, rb_validate(&root), -EFAULT);
}

static void rbtree_validate_rejects_node_that_is_both_children(struct ktest *t)
{
	build_seven();
	nodes[1].rb.right = &nodes[0].rb; /* parent pointers still agree */
	KEXPECT_EQ(t, rb_validate(&root), -EFAULT);
}

/* A chain of black nodes, each the right child of the last, with correct
 * parent pointers: rb_validate() gives up at the depth no valid tree
 * reaches instead of recursing to the bottom. */
static void rbtree_validate_stops_at_impossible_depth(struct ktest *t)
{
	const unsigned n = 200;

	reset();
	for (unsigned i = 0; i < n; i++) {
		nodes[i].rb.parent_color = (i ? (uintptr_t)&nodes[i - 1].rb : 0) | RB_BLACK;
		nodes[i].rb.left = NULL;
		nodes[i].rb.right = i + 1 < n ? &nodes[i + 1].rb : NULL;
	}
	root.node = &nodes[0].rb;
	KEXPECT_EQ(t, rb_validate(&root), -ELOOP);
}

static const struct ktest_case rbtree_cases[] = {
	KTEST_CASE(rbtree_empty_tree_has_no_first_or_last),
	KTEST_CASE(rbtree_single_node_is_black_root),
	KTEST_CASE(rbtree_ascending_inserts_keep_invariants),
	KTEST_CASE(rbtree_descending_inserts_keep_invariants),
	KTEST_CASE(rbtree_random_inserts_keep_invariants),
	KTEST_CASE(rbtree_first_next_walk_yields_ascending_keys),
	KTEST_CASE(rbtree_last_prev_walk_yields_descending_keys),
	KTEST_CASE(rbtree_next_and_prev_stop_at_the_ends),
	KTEST_CASE(rbtree_search_finds_every_key_within_height_bound),
	KTEST_CASE(rbtree_erase_random_half_keeps_the_rest),
	KTEST_CASE(rbtree_erase_all_leaves_empty_root),
	KTEST_CASE(rbtree_erase_root_repeatedly_keeps_invariants),
	KTEST_CASE(rbtree_interleaved_insert_erase_matches_shadow),
	KTEST_CASE(rbtree_replace_node_keeps_order),
	KTEST_CASE(rbtree_clear_node_has_no_neighbours),
	KTEST_CASE(rbtree_validate_accepts_full_seven_node_tree),
	KTEST_CASE(rbtree_validate_rejects_red_child_of_red),
	KTEST_CASE(rbtree_validate_rejects_red_root),
	KTEST_CASE(rbtree_validate_rejects_unequal_black_heights),
	KTEST_CASE(rbtree_validate_rejects_wrong_parent_pointer),
	KTEST_CASE(rbtree_validate_rejects_node_that_is_both_children),
	KTEST_CASE(rbtree_validate_stops_at_impossible_depth),
};
KTEST_SUITE(rbtree, rbtree_cases);
