/* Intrusive red-black trees (lib/rbtree.c), in the style of Linux's
 * <linux/rbtree.h>: a struct rb_node is embedded in each element, and the
 * caller does the key comparisons. See docs/rbtree.md.
 *
 * The tree does no allocation and no locking. The caller owns the nodes
 * (they must outlive their time in the tree) and serializes every call on
 * one tree, readers included: a walk must not race with an insert or erase.
 *
 * Inserting is two steps, because only the caller knows the key:
 *
 *	struct rb_node **link = &root->node, *parent = NULL;
 *	while (*link) {
 *		parent = *link;
 *		if (key < rb_entry(parent, struct foo, rb)->key)
 *			link = &parent->left;
 *		else
 *			link = &parent->right;
 *	}
 *	rb_link_node(&foo->rb, parent, link);
 *	rb_insert_color(&foo->rb, root);
 *
 * A node's key may change in place as long as its order relative to every
 * other node stays the same (shrinking a VMA from the top, for instance);
 * otherwise erase the node, change the key, and insert it again. */
#ifndef PAGODA_RBTREE_H
#define PAGODA_RBTREE_H

#include <pagoda/compiler.h>
#include <pagoda/types.h>

/* The parent pointer and the colour share one word: nodes are at least
 * 8-byte aligned, so bit 0 of a node's address is always 0 and holds the
 * colour instead (RB_RED 0, RB_BLACK 1). The root's parent is NULL. */
struct rb_node {
	uintptr_t parent_color;
	struct rb_node *left, *right;
} __aligned(8);

struct rb_root {
	struct rb_node *node; /* NULL for an empty tree */
};

#define RB_RED 0UL
#define RB_BLACK 1UL
#define RB_COLOR_MASK 1UL

#define RB_ROOT ((struct rb_root){ NULL })
#define RB_EMPTY_ROOT(root) ((root)->node == NULL)

#define rb_entry(ptr, type, member) container_of(ptr, type, member)
/* rb_entry() of a pointer that may be NULL. */
#define rb_entry_safe(ptr, type, member)                                       \
	({ __typeof__(ptr) __p = (ptr); __p ? rb_entry(__p, type, member) : NULL; })

static inline struct rb_node *rb_parent(const struct rb_node *n)
{
	return (struct rb_node *)(n->parent_color & ~RB_COLOR_MASK);
}

static inline bool rb_is_red(const struct rb_node *n) { return !(n->parent_color & RB_BLACK); }
static inline bool rb_is_black(const struct rb_node *n) { return n->parent_color & RB_BLACK; }

/* A node that is in no tree points to itself; RB_CLEAR_NODE marks one so,
 * RB_EMPTY_NODE asks. rb_erase() does not clear the node it removes. */
#define RB_CLEAR_NODE(n) ((n)->parent_color = (uintptr_t)(n))
#define RB_EMPTY_NODE(n) ((n)->parent_color == (uintptr_t)(n))

/* Attach node, red and without children, at *link under parent (NULL for
 * the root): the spot the caller's walk down the tree ended at. The tree is
 * not balanced until rb_insert_color(). */
static inline void rb_link_node(struct rb_node *node, struct rb_node *parent,
				struct rb_node **link)
{
	node->parent_color = (uintptr_t)parent | RB_RED;
	node->left = node->right = NULL;
	*link = node;
}

/* Rebalance root after rb_link_node() added node. O(log n), at most two
 * rotations. */
void rb_insert_color(struct rb_node *node, struct rb_root *root);

/* Remove node from root and rebalance. node must be in root. O(log n), at
 * most three rotations. node's fields are left stale. */
void rb_erase(struct rb_node *node, struct rb_root *root);

/* Put new in old's place (same parent, children and colour) without
 * rebalancing. new must sort where old did; old must be in root and new in
 * no tree. old's fields are left stale. O(1). */
void rb_replace_node(struct rb_node *old, struct rb_node *new, struct rb_root *root);

/* The smallest and largest node, or NULL for an empty tree. O(log n). */
struct rb_node *rb_first(const struct rb_root *root);
struct rb_node *rb_last(const struct rb_root *root);

/* The in-order successor and predecessor, or NULL at either end (or for a
 * node marked with RB_CLEAR_NODE). O(log n) worst case, O(1) amortized
 * over a full walk. */
struct rb_node *rb_next(const struct rb_node *node);
struct rb_node *rb_prev(const struct rb_node *node);

/* Check every invariant of root, for tests and debugging. O(n) time,
 * O(height) stack. Returns the black height (black nodes on each path from
 * the root down to a missing child; 0 for an empty tree) or:
 *   -EINVAL  a red root, or a red node with a red child;
 *   -ERANGE  two paths with different numbers of black nodes;
 *   -EFAULT  a child whose parent pointer does not point back, or a node
 *            that is both children of its parent;
 *   -ELOOP   deeper than any valid tree can be (a cycle, probably).
 * Keys are not checked: the tree does not know them. */
int rb_validate(const struct rb_root *root);

#endif
