/* A radix tree from 64-bit keys to pointers (mm/radix.c): the page cache's
 * index of a file's pages by page offset (Linux's xarray, FreeBSD's
 * vm_radix).
 *
 * Like the page tables, it is a tree of fixed-size nodes, each indexed by
 * a slice of the key: a node is 64 pointers (512 bytes), one slice is 6
 * bits, and a tree of height h holds keys below 2^(6h):
 *
 *   key  ...| 17    12 | 11     6 | 5      0 |
 *           |  level 2 |  level 1 | level 0  |   slot index at each level
 *
 * The root grows a level when a larger key comes in, so a file of one
 * page has one node and a 1 GiB file (2^18 pages) three levels. Lookup,
 * insertion and removal are O(height): O(log n) in the largest key. A node
 * whose slots are all empty is freed when its last entry goes.
 *
 * Locking: none inside. The owner serialises every call on one tree (the
 * page cache holds the file's mapping lock). */
#ifndef PAGODA_RADIX_H
#define PAGODA_RADIX_H

#include <pagoda/types.h>

#define RADIX_SHIFT 6
#define RADIX_SLOTS (1U << RADIX_SHIFT)
#define RADIX_MAX_HEIGHT ((64 + RADIX_SHIFT - 1) / RADIX_SHIFT)

struct radix_tree {
	void *root;          /* a node of level height - 1, or NULL when empty */
	unsigned int height; /* 0 when empty; keys < 2^(RADIX_SHIFT * height) */
	uint64_t count;      /* entries */
};

#define RADIX_TREE_INIT { NULL, 0, 0 }

static inline void radix_init(struct radix_tree *t)
{
	*t = (struct radix_tree)RADIX_TREE_INIT;
}

/* The entry at key, or NULL. */
void *radix_lookup(const struct radix_tree *t, uint64_t key);

/* Store item (not NULL) at key. 0, -EEXIST if key holds an entry, or
 * -ENOMEM (the tree is as it was: nodes made for the insertion are freed
 * again). */
int radix_insert(struct radix_tree *t, uint64_t key, void *item);

/* Remove the entry at key and return it (NULL if there was none); nodes
 * left empty are freed and the root shrinks while it can. */
void *radix_delete(struct radix_tree *t, uint64_t key);

/* The first entry with a key in [*key, end), with *key set to its key; or
 * NULL. A walk over a tree: for (k = 0; (p = radix_next(t, &k, end)); k++). */
void *radix_next(const struct radix_tree *t, uint64_t *key, uint64_t end);

/* Nodes allocated by every tree (for the tests' leak checks). */
uint64_t radix_nodes_allocated(void);

/* Test hook: k node allocations succeed, then every one fails until
 * radix_fail_after(RADIX_NO_FAIL) (nodes come from kmalloc, whose spare
 * objects pmm_fail_after() does not reach). */
#define RADIX_NO_FAIL (~0U)
void radix_fail_after(unsigned int k);

#endif
