/* The lock-order checker (include/pagoda/lockdep.h).
 *
 * The graph: after[a] has bit b set when a lock of class b was taken while
 * one of class a was held. Adding a -> b closes a cycle exactly when a is
 * reachable from b already; a depth-first walk over at most 64 classes
 * tells. The first call chain that created each edge is kept, so that a
 * report shows both sides: where b was taken under a now, and where the
 * path back from b to a was first walked. */
#include <pagoda/atomic.h>
#include <pagoda/ksyms.h>
#include <pagoda/lockdep.h>
#include <pagoda/panic.h>
#include <pagoda/printk.h>
#include <pagoda/spinlock.h>
#include <pagoda/task.h>
#include <asm/x86.h>

#define MAX_EDGES 512

struct edge {
	uint8_t from, to;
	uintptr_t chain[LOCKDEP_CHAIN];
};

/* Guarded by graph_lock, a bare flag: the checker cannot use the locks it
 * checks. Interrupts are off while it is held. */
static uint32_t graph_lock;
static uint64_t after[LOCKDEP_MAX_CLASSES + 1];
static struct lock_class *classes[LOCKDEP_MAX_CLASSES + 1];
static unsigned int nr_classes;
static struct edge edges[MAX_EDGES];
static unsigned int nr_edges;
static uint64_t reported[LOCKDEP_MAX_CLASSES + 1]; /* pairs already reported */
static unsigned int inversions;
static bool quiet, full_warned;

static void graph_enter(void)
{
	uint32_t expect = 0;

	while (!atomic_cmpxchg(&graph_lock, &expect, 1)) {
		expect = 0;
		cpu_relax();
	}
}

static void graph_leave(void)
{
	atomic_store_release(&graph_lock, 0);
}

/* The class's id, given on first use; 0 when the table is full. */
static unsigned int class_id_locked(struct lock_class *c)
{
	if (c->id)
		return c->id;
	if (nr_classes == LOCKDEP_MAX_CLASSES) {
		if (!full_warned)
			printk(KERN_WARNING "lockdep: more than %d lock classes; %s unchecked\n",
			       LOCKDEP_MAX_CLASSES, c->name);
		full_warned = true;
		return 0;
	}
	c->id = ++nr_classes;
	classes[c->id] = c;
	return c->id;
}

/* Is to reachable from from in the graph? */
static bool reachable(unsigned int from, unsigned int to, uint64_t *seen)
{
	if (from == to)
		return true;
	*seen |= 1ULL << (from - 1);
	for (unsigned int n = 1; n <= nr_classes; n++)
		if ((after[from] & (1ULL << (n - 1))) && !(*seen & (1ULL << (n - 1))) &&
		    reachable(n, to, seen))
			return true;
	return false;
}

static const struct edge *find_edge(unsigned int from, unsigned int to)
{
	for (unsigned int i = 0; i < nr_edges; i++)
		if (edges[i].from == from && edges[i].to == to)
			return &edges[i];
	return NULL;
}

/* The first edge out of from on a path that reaches to. */
static const struct edge *first_edge_towards(unsigned int from, unsigned int to)
{
	for (unsigned int n = 1; n <= nr_classes; n++) {
		uint64_t seen = 0;
		if ((after[from] & (1ULL << (n - 1))) && reachable(n, to, &seen))
			return find_edge(from, n);
	}
	return NULL;
}

static void collect_chain(uintptr_t *chain)
{
	int n = backtrace_collect((uintptr_t)__builtin_frame_address(0), chain, LOCKDEP_CHAIN);

	for (int i = n; i < LOCKDEP_CHAIN; i++)
		chain[i] = 0;
}

static void print_chain(const uintptr_t *chain)
{
	for (int i = 0; i < LOCKDEP_CHAIN && chain[i]; i++) {
		uintptr_t off;
		const char *name = ksyms_lookup(chain[i], &off);
		printk(KERN_ERR "lockdep:     %s+0x%lx\n", name ? name : "?", off);
	}
}

static void report_locked(unsigned int held, unsigned int taking, const uintptr_t *now)
{
	const struct edge *back = first_edge_towards(taking, held);

	inversions++;
	if (quiet)
		return;
	printk(KERN_ERR "lockdep: lock order inversion: %s taken while holding %s\n",
	       classes[taking]->name, classes[held]->name);
	printk(KERN_ERR "lockdep:   here, %s then %s:\n", classes[held]->name,
	       classes[taking]->name);
	print_chain(now);
	if (back) {
		printk(KERN_ERR "lockdep:   before, %s then %s (on the way back to %s):\n",
		       classes[back->from]->name, classes[back->to]->name, classes[held]->name);
		print_chain(back->chain);
	}
}

/* Record held -> taking, or report the cycle it would close. */
static void add_edge_locked(unsigned int held, unsigned int taking, const uintptr_t *chain)
{
	uint64_t seen = 0;
	struct edge *e;

	if (reachable(taking, held, &seen)) {
		if (!(reported[held] & (1ULL << (taking - 1)))) {
			reported[held] |= 1ULL << (taking - 1);
			report_locked(held, taking, chain);
		}
		return;
	}
	after[held] |= 1ULL << (taking - 1);
	if (nr_edges == MAX_EDGES)
		return;
	e = &edges[nr_edges++];
	e->from = held;
	e->to = taking;
	for (int i = 0; i < LOCKDEP_CHAIN; i++)
		e->chain[i] = chain[i];
}

/* Has every held class a recorded edge to taking already? Edges are only
 * ever added, so a racy read that sees one is right; one that misses it
 * just sends us the slow way, under the graph lock. A class with no id yet
 * is never "known". */
static bool all_known(const struct lockdep_held *h, unsigned int taking)
{
	if (!taking)
		return false;
	for (unsigned int i = 0; i < MIN(h->depth, LOCKDEP_MAX_HELD); i++) {
		unsigned int id = READ_ONCE(h->held[i]->id);
		if (!id || (id != taking && !(READ_ONCE(after[id]) & (1ULL << (taking - 1)))))
			return false;
	}
	return true;
}

static void check_order(struct lockdep_held *h, struct lock_class *c)
{
	uintptr_t chain[LOCKDEP_CHAIN];
	unsigned int taking;

	if (all_known(h, READ_ONCE(c->id)))
		return; /* the common case: no global lock */
	graph_enter();
	taking = class_id_locked(c);
	if (taking && !all_known(h, taking)) {
		graph_leave();
		collect_chain(chain);
		graph_enter();
		for (unsigned int i = 0; i < MIN(h->depth, LOCKDEP_MAX_HELD); i++) {
			unsigned int id = class_id_locked(h->held[i]);
			if (id && id != taking && !(after[id] & (1ULL << (taking - 1))))
				add_edge_locked(id, taking, chain);
		}
	}
	graph_leave();
}

void lockdep_acquire(struct lock_class *class, void *ip)
{
	struct task *t = current;
	uint64_t flags;

	(void)ip;
	if (!t || !class)
		return; /* before the first task exists: one CPU, nothing to order */
	flags = irq_save();
	check_order(&t->lockdep, class);
	if (t->lockdep.depth < LOCKDEP_MAX_HELD)
		t->lockdep.held[t->lockdep.depth] = class;
	t->lockdep.depth++;
	irq_restore(flags);
}

void lockdep_release(struct lock_class *class)
{
	struct task *t = current;
	struct lockdep_held *h;
	uint64_t flags;

	if (!t || !class)
		return;
	flags = irq_save();
	h = &t->lockdep;
	/* Usually the innermost; find it wherever it is (unlock order may
	 * differ from lock order, which is legal). */
	for (unsigned int i = MIN(h->depth, LOCKDEP_MAX_HELD); i-- > 0;) {
		if (h->held[i] == class) {
			for (unsigned int j = i; j + 1 < MIN(h->depth, LOCKDEP_MAX_HELD); j++)
				h->held[j] = h->held[j + 1];
			break;
		}
	}
	if (h->depth)
		h->depth--;
	irq_restore(flags);
}

unsigned int lockdep_inversions(void)
{
	return READ_ONCE(inversions);
}

void lockdep_reset(void)
{
	uint64_t flags = irq_save();

	graph_enter();
	for (unsigned int i = 0; i <= LOCKDEP_MAX_CLASSES; i++)
		after[i] = reported[i] = 0;
	nr_edges = 0;
	graph_leave();
	irq_restore(flags);
}

bool lockdep_set_quiet(bool on)
{
	bool old = quiet;

	quiet = on;
	return old;
}

unsigned int lockdep_depth(void)
{
	struct task *t = current;

	return t ? t->lockdep.depth : 0;
}
