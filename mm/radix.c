/* The radix tree behind the page cache (include/pagoda/radix.h).
 *
 * A node is nothing but its 64 slots: its level is known from the walk
 * that reached it (the root is at level height - 1, its children one
 * lower, and the slots of a level-0 node hold the entries), and whether
 * it is empty is found by looking at its slots when an entry goes. The
 * tree keeps one shape for one set of keys: the root never has a lone
 * child in slot 0 above level 0 (it would be a level too many), so a
 * failed insertion can undo itself by pruning back to that shape. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/radix.h>
#include <pagoda/slab.h>

struct radix_node {
	void *slots[RADIX_SLOTS];
};
BUILD_BUG_ON(sizeof(struct radix_node) != 512);

static uint64_t nodes_allocated; /* atomic */
static unsigned int fail_after = RADIX_NO_FAIL; /* test hook; atomic */

void radix_fail_after(unsigned int k)
{
	atomic_store(&fail_after, k);
}

/* Should this allocation fail (the test hook)? */
static bool fail_now(void)
{
	unsigned int k = atomic_load(&fail_after);

	while (k != RADIX_NO_FAIL) {
		if (k == 0)
			return true;
		if (atomic_cmpxchg(&fail_after, &k, k - 1))
			return false;
	}
	return false;
}

uint64_t radix_nodes_allocated(void)
{
	return atomic_load(&nodes_allocated);
}

static struct radix_node *node_alloc(void)
{
	struct radix_node *n = fail_now() ? NULL : kzalloc(sizeof(*n), GFP_KERNEL);

	if (n)
		atomic_inc(&nodes_allocated);
	return n;
}

static void node_free(struct radix_node *n)
{
	kfree(n);
	atomic_dec(&nodes_allocated);
}

static unsigned int slot_of(uint64_t key, unsigned int level)
{
	return (key >> (RADIX_SHIFT * level)) & (RADIX_SLOTS - 1);
}

/* Does key fit a tree of this height? */
static bool fits(uint64_t key, unsigned int height)
{
	return height >= RADIX_MAX_HEIGHT || (key >> (RADIX_SHIFT * height)) == 0;
}

static bool node_empty(const struct radix_node *n)
{
	for (unsigned int i = 0; i < RADIX_SLOTS; i++)
		if (n->slots[i])
			return false;
	return true;
}

void *radix_lookup(const struct radix_tree *t, uint64_t key)
{
	void *p = t->root;

	if (!t->height || !fits(key, t->height))
		return NULL;
	for (int level = t->height - 1; p && level >= 0; level--)
		p = ((struct radix_node *)p)->slots[slot_of(key, level)];
	return p;
}

/* Bring the tree back to its one shape after the path to key lost its
 * entry (or never got one): free the empty nodes on that path from the
 * bottom up, then drop root levels whose only child sits in slot 0. */
static void prune(struct radix_tree *t, uint64_t key)
{
	struct radix_node *path[RADIX_MAX_HEIGHT];
	int depth = 0;
	void *p = t->root;

	if (!p) {
		t->height = 0;
		return;
	}
	for (int level = t->height - 1; p && level >= 0; level--) {
		path[depth++] = p;
		p = ((struct radix_node *)p)->slots[slot_of(key, level)];
	}
	while (depth > 0 && node_empty(path[depth - 1])) {
		struct radix_node *n = path[--depth];
		if (depth)
			path[depth - 1]->slots[slot_of(key, t->height - depth)] = NULL;
		else
			t->root = NULL, t->height = 0;
		node_free(n);
	}
	while (t->height > 1) {
		struct radix_node *r = t->root;

		for (unsigned int i = 1; i < RADIX_SLOTS; i++)
			if (r->slots[i])
				return;
		t->root = r->slots[0];
		t->height--;
		node_free(r);
	}
}

/* Raise the tree until key fits: a new root above the old one, which
 * becomes its slot 0. 0 or -ENOMEM (levels added so far stay: prune()
 * removes them). */
static int grow(struct radix_tree *t, uint64_t key)
{
	while (!fits(key, t->height)) {
		struct radix_node *n = node_alloc();
		if (!n)
			return -ENOMEM;
		n->slots[0] = t->root;
		t->root = n;
		t->height++;
	}
	return 0;
}

int radix_insert(struct radix_tree *t, uint64_t key, void *item)
{
	void **slot = &t->root;
	int err;

	if (!item)
		return -EINVAL;
	if (!t->height) {
		/* An empty tree starts as high as key needs, one node per level. */
		t->height = 1;
		while (!fits(key, t->height))
			t->height++;
	}
	if ((err = grow(t, key)) < 0)
		goto fail;
	for (int level = t->height - 1; level >= 0; level--) {
		if (!*slot && !(*slot = node_alloc())) {
			err = -ENOMEM;
			goto fail;
		}
		slot = &((struct radix_node *)*slot)->slots[slot_of(key, level)];
	}
	if (*slot) {
		err = -EEXIST;
		goto fail;
	}
	*slot = item;
	t->count++;
	return 0;
fail:
	prune(t, key);
	return err;
}

void *radix_delete(struct radix_tree *t, uint64_t key)
{
	struct radix_node *n = t->root;
	void *item;

	if (!t->height || !fits(key, t->height))
		return NULL;
	for (int level = t->height - 1; n && level > 0; level--)
		n = n->slots[slot_of(key, level)];
	if (!n || !(item = n->slots[slot_of(key, 0)]))
		return NULL;
	n->slots[slot_of(key, 0)] = NULL;
	t->count--;
	prune(t, key);
	return item;
}

/* The first entry under node n (of level) with a key in [*key, end). *key
 * moves forward as slots are passed over. */
static void *next_in(const struct radix_node *n, unsigned int level, uint64_t *key,
		     uint64_t end)
{
	unsigned int shift = RADIX_SHIFT * level;
	uint64_t base = shift + RADIX_SHIFT >= 64 ? 0 : *key & ~((1ULL << (shift + RADIX_SHIFT)) - 1);

	for (unsigned int s = slot_of(*key, level); s < RADIX_SLOTS; s++) {
		uint64_t start;

		if (shift + RADIX_SHIFT > 64 && s >= (1U << (64 - shift)))
			return NULL; /* past 2^64 */
		start = base + ((uint64_t)s << shift);
		if (start > *key)
			*key = start;
		if (*key >= end)
			return NULL;
		if (!n->slots[s])
			continue;
		if (level == 0)
			return n->slots[s];
		void *r = next_in(n->slots[s], level - 1, key, end);
		if (r)
			return r;
		if (*key >= end)
			return NULL;
	}
	return NULL;
}

void *radix_next(const struct radix_tree *t, uint64_t *key, uint64_t end)
{
	if (!t->height || !fits(*key, t->height) || *key >= end)
		return NULL;
	return next_in(t->root, t->height - 1, key, end);
}
