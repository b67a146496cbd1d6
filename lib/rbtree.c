/* Red-black trees: binary search trees kept balanced by colouring every
 * node red or black and keeping two rules:
 *
 *   1. a red node has no red child;
 *   2. every path from a node down to a missing child passes the same
 *      number of black nodes (the node's black height).
 *
 * and the root is black. Rule 2 makes the shortest path from the root all
 * black and rule 1 makes the longest at most alternate red and black, so no
 * path is more than twice as long as another, and the height is at most
 * 2 * log2(n + 1). The full argument is in docs/rbtree.md.
 *
 * Insert and erase first change the tree as a plain search tree would, then
 * repair the rules on the way up with recolourings (free) and rotations
 * (a few pointer writes). The mirror-image cases are written once: "dir" is
 * the side (RB_L or RB_R) a node hangs on, and !dir the other side. */
#include <pagoda/errno.h>
#include <pagoda/rbtree.h>

enum { RB_L = 0, RB_R = 1 };

/* A valid tree of n nodes is at most 2 * log2(n + 1) high; n < 2^62 for
 * nodes of 24 bytes in a 64-bit address space. */
#define RB_MAX_HEIGHT 128

static struct rb_node **rb_child(struct rb_node *n, int dir)
{
	return dir == RB_L ? &n->left : &n->right;
}

static int rb_side(const struct rb_node *n, const struct rb_node *parent)
{
	return parent->left == n ? RB_L : RB_R;
}

static bool rb_red(const struct rb_node *n) /* a missing child is black */
{
	return n && rb_is_red(n);
}

static void rb_paint(struct rb_node *n, uintptr_t color)
{
	n->parent_color = (n->parent_color & ~RB_COLOR_MASK) | color;
}

static void rb_set_parent(struct rb_node *n, struct rb_node *parent)
{
	n->parent_color = (uintptr_t)parent | (n->parent_color & RB_COLOR_MASK);
}

/* Make the link that pointed to old (in parent, or the root) point to new. */
static void rb_change_child(struct rb_node *parent, struct rb_node *old,
			    struct rb_node *new, struct rb_root *root)
{
	if (!parent)
		root->node = new;
	else
		*rb_child(parent, rb_side(old, parent)) = new;
}

/* Rotate x down to side dir; its child y on the other side rises into x's
 * place. The in-order sequence a x b y c does not change, nor do colours.
 * rb_rotate(x, RB_L):
 *
 *        |                  |
 *        x                  y
 *       / \                / \
 *      a   y      ==>     x   c
 *         / \            / \
 *        b   c          a   b
 */
static void rb_rotate(struct rb_node *x, int dir, struct rb_root *root)
{
	struct rb_node *y = *rb_child(x, !dir), *b = *rb_child(y, dir);
	struct rb_node *parent = rb_parent(x);

	*rb_child(x, !dir) = b;
	if (b)
		rb_set_parent(b, x);
	rb_change_child(parent, x, y, root);
	rb_set_parent(y, parent);
	*rb_child(y, dir) = x;
	rb_set_parent(x, y);
}

/* The new node n is red, so black heights are right; only rule 1 can be
 * broken, between n and a red parent p. p is red, so it is not the root and
 * has a black parent g. Let u be p's sibling (n's uncle).
 *
 * Case 1, u red: paint p and u black and g red. Black heights through g
 * are unchanged; g may now clash with its own parent, so repeat from g.
 *
 *          g(B)                g(R)   <- n next
 *         /    \              /    \
 *       p(R)   u(R)   ==>   p(B)   u(B)
 *       /                   /
 *     n(R)                n(R)
 *
 * Case 2, u black and n an inner grandchild (p's right while p is g's
 * left): rotate p down so that p becomes the outer one, then do case 3
 * with the roles of n and p swapped.
 *
 * Case 3, u black and n an outer grandchild: rotate g down towards u and
 * swap the colours of p and g. p (black) takes g's place; every path keeps
 * its black count and no red node has a red child. Done.
 *
 *          g(B)                p(B)
 *         /    \              /    \
 *       p(R)   u(B)   ==>   n(R)   g(R)
 *       /                             \
 *     n(R)                            u(B)
 */
void rb_insert_color(struct rb_node *n, struct rb_root *root)
{
	struct rb_node *p, *g, *u;
	int dir;

	while ((p = rb_parent(n)) && rb_is_red(p)) {
		g = rb_parent(p);
		dir = rb_side(p, g);
		u = *rb_child(g, !dir);
		if (rb_red(u)) {
			rb_paint(p, RB_BLACK);
			rb_paint(u, RB_BLACK);
			rb_paint(g, RB_RED);
			n = g;
			continue;
		}
		if (n == *rb_child(p, !dir)) {
			rb_rotate(p, dir, root);
			n = p;
			p = rb_parent(n);
		}
		rb_rotate(g, !dir, root);
		rb_paint(p, RB_BLACK);
		rb_paint(g, RB_RED);
		break;
	}
	rb_paint(root->node, RB_BLACK);
}

/* Remove node, which has at most one child, by lifting that child into
 * its place. Sets *x to the child (maybe NULL) and *p to its new parent;
 * returns the colour that left the tree. */
static uintptr_t rb_unlink_simple(struct rb_node *node, struct rb_root *root,
				  struct rb_node **x, struct rb_node **p)
{
	struct rb_node *child = node->left ? node->left : node->right;

	*x = child;
	*p = rb_parent(node);
	if (child)
		rb_set_parent(child, *p);
	rb_change_child(*p, node, child, root);
	return node->parent_color & RB_COLOR_MASK;
}

/* Remove node, which has two children, by moving its successor s (the
 * leftmost node of its right subtree, which has no left child) into its
 * place with node's colour. The tree then lacks s at s's old position, so
 * that is where a black may be missing: *x is s's old right child (maybe
 * NULL), *p its new parent. Returns s's old colour.
 *
 *        node                 s
 *        /  \                / \
 *       a    r              a   r
 *           /       ==>        /
 *          s                 x
 *           \
 *            x
 */
static uintptr_t rb_unlink_two(struct rb_node *node, struct rb_root *root,
			       struct rb_node **x, struct rb_node **p)
{
	struct rb_node *s = node->right, *parent;
	uintptr_t color;

	while (s->left)
		s = s->left;
	*x = s->right;
	color = s->parent_color & RB_COLOR_MASK;
	parent = rb_parent(s);
	if (parent == node) {
		parent = s; /* s is node's right child and keeps x */
	} else {
		parent->left = *x;
		if (*x)
			rb_set_parent(*x, parent);
		s->right = node->right;
		rb_set_parent(s->right, s);
	}
	s->left = node->left;
	rb_set_parent(s->left, s);
	s->parent_color = node->parent_color;
	rb_change_child(rb_parent(node), node, s, root);
	*p = parent;
	return color;
}

/* A black node left position x (a node or a missing child under p): paths
 * through x have one black too few. A red x is simply painted black. Else
 * x's sibling w has black height at least 1, so it exists. "Near" is w's
 * child on x's side, "far" the other. Drawn with x on the left; (?) is
 * either colour, kept.
 *
 * Case 1, w red (so p black): rotate p towards x and swap the colours of p
 * and w. Nothing changes for black counts, but x's sibling is now black
 * (w's old near child): go on with case 2, 3 or 4.
 *
 * Case 2, w black with two black children: paint w red. Now paths through
 * w lack one black too, so the whole of p does: repeat with x = p (a red p
 * is just painted black).
 *
 * Case 3, w black, near red, far black: rotate w away from x, so that
 * near becomes x's sibling with w as its far child: case 4. (Textbooks
 * swap the colours of w and near here; case 4 repaints both at once, so
 * the code leaves that out.)
 *
 * Case 4, w black, far red: rotate p towards x; w takes p's colour, p and
 * far turn black. x gained a black ancestor (p); w's side lost p but far
 * turned black. Done.
 *
 *         p(?)                    w(?)
 *        /    \                  /    \
 *      x(B)   w(B)     ==>     p(B)   far(B)
 *            /    \           /    \
 *         near    far(R)    x(B)   near
 */
static void rb_erase_fixup(struct rb_node *x, struct rb_node *p, struct rb_root *root)
{
	struct rb_node *w, *near, *far;
	int dir;

	while (x != root->node && !rb_red(x)) {
		dir = p->left == x ? RB_L : RB_R;
		w = *rb_child(p, !dir);
		if (rb_is_red(w)) { /* case 1 */
			rb_paint(w, RB_BLACK);
			rb_paint(p, RB_RED);
			rb_rotate(p, dir, root);
			w = *rb_child(p, !dir);
		}
		near = *rb_child(w, dir);
		far = *rb_child(w, !dir);
		if (!rb_red(near) && !rb_red(far)) { /* case 2 */
			rb_paint(w, RB_RED);
			x = p;
			p = rb_parent(x);
			continue;
		}
		if (!rb_red(far)) { /* case 3 */
			rb_rotate(w, !dir, root);
			far = w;
			w = near;
		}
		rb_paint(w, p->parent_color & RB_COLOR_MASK); /* case 4 */
		rb_paint(p, RB_BLACK);
		rb_paint(far, RB_BLACK);
		rb_rotate(p, dir, root);
		return;
	}
	if (x)
		rb_paint(x, RB_BLACK);
}

void rb_erase(struct rb_node *node, struct rb_root *root)
{
	struct rb_node *x, *p;
	uintptr_t color;

	if (node->left && node->right)
		color = rb_unlink_two(node, root, &x, &p);
	else
		color = rb_unlink_simple(node, root, &x, &p);
	if (color == RB_BLACK)
		rb_erase_fixup(x, p, root);
}

void rb_replace_node(struct rb_node *old, struct rb_node *new, struct rb_root *root)
{
	*new = *old;
	if (new->left)
		rb_set_parent(new->left, new);
	if (new->right)
		rb_set_parent(new->right, new);
	rb_change_child(rb_parent(old), old, new, root);
}

static struct rb_node *rb_extreme(struct rb_node *n, int dir)
{
	if (!n)
		return NULL;
	while (*rb_child(n, dir))
		n = *rb_child(n, dir);
	return n;
}

struct rb_node *rb_first(const struct rb_root *root)
{
	return rb_extreme(root->node, RB_L);
}

struct rb_node *rb_last(const struct rb_root *root)
{
	return rb_extreme(root->node, RB_R);
}

/* The next node towards dir in order: the nearest node of the subtree on
 * side dir, else the first ancestor we reach coming up from its !dir side. */
static struct rb_node *rb_step(const struct rb_node *node, int dir)
{
	struct rb_node *n = (struct rb_node *)node, *p;

	if (RB_EMPTY_NODE(node))
		return NULL;
	if (*rb_child(n, dir))
		return rb_extreme(*rb_child(n, dir), !dir);
	while ((p = rb_parent(n)) && n == *rb_child(p, dir))
		n = p;
	return p;
}

struct rb_node *rb_next(const struct rb_node *node)
{
	return rb_step(node, RB_R);
}

struct rb_node *rb_prev(const struct rb_node *node)
{
	return rb_step(node, RB_L);
}

/* The black height of the subtree at n (child of parent), or a negative
 * errno as rb_validate() documents. */
static int rb_check(const struct rb_node *n, const struct rb_node *parent, int depth)
{
	int lh, rh;

	if (!n)
		return 0;
	if (depth > RB_MAX_HEIGHT)
		return -ELOOP;
	if (rb_parent(n) != parent || (n->left && n->left == n->right))
		return -EFAULT;
	if (rb_is_red(n) && (rb_red(n->left) || rb_red(n->right)))
		return -EINVAL;
	lh = rb_check(n->left, n, depth + 1);
	if (lh < 0)
		return lh;
	rh = rb_check(n->right, n, depth + 1);
	if (rh < 0)
		return rh;
	if (lh != rh)
		return -ERANGE;
	return lh + rb_is_black(n);
}

int rb_validate(const struct rb_root *root)
{
	if (root->node && rb_is_red(root->node))
		return -EINVAL;
	return rb_check(root->node, NULL, 1);
}
