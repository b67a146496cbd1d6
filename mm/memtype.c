/* The memory type of mapped physical ranges (see include/pagoda/memtype.h).
 *
 * Linux keeps one interval-tree node per reservation. Here the reserved
 * physical space is cut into disjoint pieces, each with one type and the
 * number of reservations covering it, in a list sorted by address:
 *
 *   reserve [0x1000, 0x5000) WC, then [0x3000, 0x9000) WC:
 *     [0x1000, 0x3000) WC x1   [0x3000, 0x5000) WC x2   [0x5000, 0x9000) WC x1
 *
 * so that a piece of a reservation can be given back on its own (munmap
 * of the middle of a device mapping), which Linux cannot do. A machine has
 * tens of device mappings, not thousands: a list is enough.
 *
 * memtype_lock guards the list: every public function takes it, with
 * interrupts off (ioremap() may run with them off). */
#include <pagoda/errno.h>
#include <pagoda/spinlock.h>
#include <pagoda/list.h>
#include <pagoda/memblock.h>
#include <pagoda/memtype.h>
#include <asm/mtrr.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>

/* Covers [start, end); count reservations cover all of it with type. */
struct memtype {
	phys_addr_t start, end;
	enum cache_mode type;
	unsigned int count;
	struct list_head node; /* in memtypes, by address */
};

DEFINE_STATIC_SPINLOCK(memtype_lock);
static LIST_HEAD(memtypes); /* under memtype_lock */

const char *cache_mode_name(enum cache_mode mode)
{
	static const char *const names[] = { "write-back", "write-combining", "uncached-minus",
					     "uncached" };

	return (unsigned int)mode < ARRAY_SIZE(names) ? names[mode] : "?";
}

enum range_kind { RANGE_DEVICE, RANGE_ISA, RANGE_RAM, RANGE_PART_RAM };

/* Is [start, end) System RAM (the direct map's), not, or partly? Below
 * 1 MiB nothing counts as RAM, as in Linux's pat_pagerange_is_ram(). */
static enum range_kind classify(phys_addr_t start, phys_addr_t end)
{
	if (start >= ISA_START && end <= ISA_END)
		return RANGE_ISA;
	start = MAX(start, ISA_END);
	if (start >= end || !memblock_overlaps(&memblock_memory, start, end - start))
		return RANGE_DEVICE;
	for (unsigned int i = 0; i < memblock_memory.nr; i++)
		if (memblock_memory.r[i].base <= start && end <= memblock_memory.r[i].end)
			return RANGE_RAM;
	return RANGE_PART_RAM;
}

static struct memtype *entry(struct list_head *n)
{
	return n == &memtypes ? NULL : list_entry(n, struct memtype, node);
}

/* The first piece that ends after a, or NULL. */
static struct memtype *first_after(phys_addr_t a)
{
	struct list_head *n;

	list_for_each(n, &memtypes)
		if (entry(n)->end > a)
			return entry(n);
	return NULL;
}

#define for_each_overlap(m, s, e) \
	for (m = first_after(s); m && m->start < (e); m = entry(m->node.next))

/* The one type reserved in [start, end): 1 and *type, 0 when nothing
 * there is reserved, -EBUSY for two types. */
static int reserved_type(phys_addr_t start, phys_addr_t end, enum cache_mode *type)
{
	struct memtype *m;
	int found = 0;

	for_each_overlap(m, start, end) {
		if (found && m->type != *type)
			return -EBUSY;
		*type = m->type;
		found = 1;
	}
	return found;
}

/* A WB request where the MTRRs do not say WB becomes UC- (Linux's
 * pat_x_mtrr_type()): firmware marks device memory uncached there. As in
 * Linux, the type at start decides (the low 1 MiB read through /dev/mem
 * stays WB although the VGA window in it is UC). */
static enum cache_mode mtrr_adjust(phys_addr_t start, phys_addr_t end, enum cache_mode req)
{
	bool uniform;
	uint8_t t;

	if (req != CACHE_WB)
		return req;
	t = mtrr_type_lookup(mtrr_kernel_state(), start, end, &uniform);
	return t == MTRR_TYPE_INVALID || t == MTRR_TYPE_WB ? CACHE_WB : CACHE_UC_MINUS;
}

/* Linux's is_new_memtype_allowed(): a caller that asked for no caching
 * must not be handed write-back. */
static bool type_allowed(enum cache_mode req, enum cache_mode there)
{
	return !(there == CACHE_WB && req != CACHE_WB);
}

static int refuse(phys_addr_t start, phys_addr_t end, enum cache_mode req, const char *why,
		  enum cache_mode there)
{
	pr_warn("memtype: [mem %#llx-%#llx] %s: refused, %s %s\n", (unsigned long long)start,
		(unsigned long long)end - 1, cache_mode_name(req), why, cache_mode_name(there));
	return -EINVAL;
}

/* The type to map [start, end) with: 1 when the range is tracked, 0 when
 * it is not (ISA, RAM), or a negative errno (logged). */
static int decide(phys_addr_t start, phys_addr_t end, enum cache_mode req, enum cache_mode *got,
		  bool adapt)
{
	enum cache_mode there = req;
	int r;

	if (end <= start)
		return -EINVAL;
	switch (classify(start, end)) {
	case RANGE_ISA:
		*got = CACHE_WB; /* untracked, and always write-back (Linux) */
		return 0;
	case RANGE_RAM:
		*got = CACHE_WB;
		return req == CACHE_WB ? 0 : refuse(start, end, req, "System RAM is mapped", CACHE_WB);
	case RANGE_PART_RAM:
		return refuse(start, end, req, "partly System RAM, which is mapped", CACHE_WB);
	case RANGE_DEVICE:
		break;
	}
	req = mtrr_adjust(start, end, req);
	r = reserved_type(start, end, &there);
	if (r < 0) {
		pr_warn("memtype: [mem %#llx-%#llx] already holds two memory types: refused\n",
			(unsigned long long)start, (unsigned long long)end - 1);
		return r;
	}
	if (r && there != req && (!adapt || !type_allowed(req, there)))
		return refuse(start, end, req, "already mapped", there);
	*got = r ? there : req;
	return 1;
}

/* --- the pieces --- */

/* How many new pieces adding [start, end) takes: one per gap between
 * reserved pieces, one per piece cut at start or at end. */
static unsigned int pieces_to_add(phys_addr_t start, phys_addr_t end)
{
	phys_addr_t cursor = start;
	unsigned int n = 0;
	struct memtype *m;

	for_each_overlap(m, start, end) {
		n += m->start > cursor;
		n += m->start < start;
		n += m->end > end;
		cursor = m->end;
	}
	return n + (cursor < end);
}

/* Pieces cut by removing [start, end): at most one at each edge. */
static unsigned int pieces_to_cut(phys_addr_t start, phys_addr_t end)
{
	struct memtype *m;
	unsigned int n = 0;

	for_each_overlap(m, start, end)
		n += (m->start < start) + (m->end > end);
	return n;
}

static void pool_free(struct list_head *pool)
{
	struct list_head *n, *t;

	list_for_each_safe(n, t, pool) {
		list_del(n);
		kfree(entry(n));
	}
}

/* n pieces of memory into pool, all or none. */
static int pool_fill(struct list_head *pool, unsigned int n)
{
	list_init(pool);
	while (n--) {
		struct memtype *m = kmalloc(sizeof(*m), GFP_KERNEL);
		if (!m) {
			pool_free(pool);
			return -ENOMEM;
		}
		list_add(&m->node, pool);
	}
	return 0;
}

static struct memtype *pool_take(struct list_head *pool)
{
	struct memtype *m = list_entry(pool->next, struct memtype, node);

	list_del(&m->node);
	return m;
}

/* Cut the piece holding a strictly inside it in two. */
static void cut_at(phys_addr_t a, struct list_head *pool)
{
	struct memtype *m = first_after(a), *tail;

	if (!m || m->start >= a)
		return;
	tail = pool_take(pool);
	*tail = (struct memtype){ .start = a, .end = m->end, .type = m->type, .count = m->count };
	m->end = a;
	__list_add(&tail->node, &m->node, m->node.next);
}

/* Join touching neighbours of one type and count around [start, end). */
static void merge_around(phys_addr_t start, phys_addr_t end)
{
	struct memtype *m = first_after(start ? start - 1 : 0), *next;

	if (m && entry(m->node.prev))
		m = entry(m->node.prev);
	for (; m && m->start <= end; m = next) {
		next = entry(m->node.next);
		if (next && next->start == m->end && next->type == m->type &&
		    next->count == m->count) {
			m->end = next->end;
			list_del(&next->node);
			kfree(next);
			next = m;
		}
	}
}

/* Count one more reservation over [start, end), filling gaps with type. */
static void add_range(phys_addr_t start, phys_addr_t end, enum cache_mode type,
		      struct list_head *pool)
{
	struct list_head *at = &memtypes; /* insert gaps before this */
	phys_addr_t cursor = start;
	struct memtype *m, *gap;

	cut_at(start, pool);
	cut_at(end, pool);
	for (m = first_after(start); cursor < end; m = m ? entry(m->node.next) : NULL) {
		phys_addr_t gap_end = m && m->start < end ? m->start : end;
		at = m ? &m->node : &memtypes;
		if (gap_end > cursor) {
			gap = pool_take(pool);
			*gap = (struct memtype){ .start = cursor, .end = gap_end, .type = type,
						 .count = 1 };
			__list_add(&gap->node, at->prev, at);
		}
		if (!m || m->start >= end)
			break;
		m->count++;
		cursor = m->end;
	}
	merge_around(start, end);
}

/* Is all of [start, end) reserved? */
static bool covered(phys_addr_t start, phys_addr_t end)
{
	phys_addr_t cursor = start;
	struct memtype *m;

	for_each_overlap(m, start, end) {
		if (m->start > cursor)
			return false;
		cursor = m->end;
	}
	return cursor >= end;
}

static void remove_range(phys_addr_t start, phys_addr_t end, struct list_head *pool)
{
	struct memtype *m, *next;

	cut_at(start, pool);
	cut_at(end, pool);
	for (m = first_after(start); m && m->start < end; m = next) {
		next = entry(m->node.next);
		if (--m->count == 0) {
			list_del(&m->node);
			kfree(m);
		}
	}
	merge_around(start, end);
}

/* --- the interface --- */

static void round_out(phys_addr_t *start, phys_addr_t *end)
{
	*start = ALIGN_DOWN(*start, PAGE_SIZE);
	*end = ALIGN_UP(*end, PAGE_SIZE);
}

static int __memtype_reserve(phys_addr_t start, phys_addr_t end, enum cache_mode req,
		    enum cache_mode *got)
{
	enum cache_mode type;
	struct list_head pool;
	int r;

	if (end < start || ALIGN_UP(end, PAGE_SIZE) < end)
		return -EINVAL;
	round_out(&start, &end);
	r = decide(start, end, req, &type, got != NULL);
	if (r <= 0)
		goto out;
	r = pool_fill(&pool, pieces_to_add(start, end));
	if (r < 0)
		return r;
	add_range(start, end, type, &pool);
	pool_free(&pool);
out:
	if (r >= 0 && got)
		*got = type;
	return r < 0 ? r : 0;
}

int memtype_reserve(phys_addr_t start, phys_addr_t end, enum cache_mode req,
		    enum cache_mode *got)
{
	uint64_t flags = spin_lock_irqsave(&memtype_lock);
	int r = __memtype_reserve(start, end, req, got);

	spin_unlock_irqrestore(&memtype_lock, flags);
	return r;
}

static int __memtype_check(phys_addr_t start, phys_addr_t end, enum cache_mode req,
		  enum cache_mode *got)
{
	if (end < start || ALIGN_UP(end, PAGE_SIZE) < end)
		return -EINVAL;
	round_out(&start, &end);
	int r = decide(start, end, req, got, true);
	return r < 0 ? r : 0;
}

int memtype_check(phys_addr_t start, phys_addr_t end, enum cache_mode req,
		  enum cache_mode *got)
{
	uint64_t flags = spin_lock_irqsave(&memtype_lock);
	int r = __memtype_check(start, end, req, got);

	spin_unlock_irqrestore(&memtype_lock, flags);
	return r;
}

static int __memtype_free(phys_addr_t start, phys_addr_t end)
{
	struct list_head pool;

	if (end < start || ALIGN_UP(end, PAGE_SIZE) < end)
		return -EINVAL;
	round_out(&start, &end);
	if (end <= start)
		return -EINVAL;
	enum range_kind kind = classify(start, end);
	if (kind == RANGE_ISA || kind == RANGE_RAM)
		return 0;
	if (!covered(start, end)) {
		pr_warn("memtype: [mem %#llx-%#llx] freed but not reserved\n",
			(unsigned long long)start, (unsigned long long)end - 1);
		return -EINVAL;
	}
	if (pool_fill(&pool, pieces_to_cut(start, end)) < 0) {
		pr_warn("memtype: out of memory: [mem %#llx-%#llx] stays reserved\n",
			(unsigned long long)start, (unsigned long long)end - 1);
		return -ENOMEM;
	}
	remove_range(start, end, &pool);
	pool_free(&pool);
	return 0;
}

int memtype_free(phys_addr_t start, phys_addr_t end)
{
	uint64_t flags = spin_lock_irqsave(&memtype_lock);
	int r = __memtype_free(start, end);

	spin_unlock_irqrestore(&memtype_lock, flags);
	return r;
}

static int __memtype_lookup(phys_addr_t start, phys_addr_t end, enum cache_mode *type)
{
	enum range_kind kind;
	int r;

	round_out(&start, &end);
	kind = classify(start, end);
	if (kind == RANGE_ISA || kind == RANGE_RAM) {
		*type = CACHE_WB;
		return 0;
	}
	r = reserved_type(start, end, type);
	return r < 0 ? r : r ? 0 : -ENOENT;
}

int memtype_lookup(phys_addr_t start, phys_addr_t end, enum cache_mode *type)
{
	uint64_t flags = spin_lock_irqsave(&memtype_lock);
	int r = __memtype_lookup(start, end, type);

	spin_unlock_irqrestore(&memtype_lock, flags);
	return r;
}

unsigned int memtype_count(void)
{
	uint64_t flags = spin_lock_irqsave(&memtype_lock);
	struct list_head *n;
	unsigned int count = 0;

	list_for_each(n, &memtypes)
		count++;
	spin_unlock_irqrestore(&memtype_lock, flags);
	return count;
}
