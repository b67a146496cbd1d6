/* Deferred initialisation of frame descriptors. See
 * include/pagoda/pmm_deferred.h and docs/buddy.md.
 *
 * The deferred blocks of a zone are kept as runs of whole MAX_ORDER blocks,
 * [start, end) in PFNs, both ends multiples of BLOCK_PAGES, sorted and
 * disjoint. Blocks are taken from the lowest run's start. A block is
 * whole free RAM, and buddies of order below MAX_ORDER lie in the same
 * block, so initialising and freeing one block never reads the descriptor
 * of a frame outside it: no deferred descriptor is ever looked at. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/page.h>
#include <pagoda/percpu.h>
#include <pagoda/pmm.h>
#include <pagoda/pmm_deferred.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/timer.h>
#include <asm/x86.h>

#define BLOCK_PAGES (1ULL << MAX_ORDER)
#define NO_BLOCK ((pfn_t)-1)
#define GARBAGE 0xff /* what pmm_deferred_return_block() leaves in descriptors */

extern uint64_t kmain_tsc;

struct deferred_run {
	pfn_t start, end; /* [start, end), whole blocks */
};

/* Taken with interrupts off, never with another lock held inside it. */
DEFINE_STATIC_SPINLOCK(deferred_lock);
/* Guarded by deferred_lock: */
static struct deferred_run runs[NR_ZONES][PMM_DEFERRED_MAX_RANGES];
static unsigned int nr_runs[NR_ZONES];
static pfn_t busy[MAX_CPUS];              /* the block CPU i is initialising, or NO_BLOCK */
static uint64_t nr_busy[NR_ZONES];         /* blocks in progress, by zone */
static uint64_t zone_left[NR_ZONES];       /* blocks pending or in progress, by zone */
static uint64_t pending;                   /* blocks not started, all zones */
static uint64_t left;                      /* blocks not finished, all zones */
static struct pmm_deferred_stats stats;
/* Boot only (one CPU, before any deferral can start): */
static uint64_t eager_pages[NR_ZONES];     /* whole free blocks initialised at boot */
static bool busy_ready;
/* Test hook, read without the lock: */
static bool idle_on = true;

static const enum zone_type all_zones[] = { ZONE_NORMAL, ZONE_DMA32, ZONE_DMA };

static void busy_init(void)
{
	for (unsigned int i = 0; i < MAX_CPUS; i++)
		busy[i] = NO_BLOCK;
	busy_ready = true;
}

/* Add block pfn to zone zt's runs, merging with its neighbours. Returns
 * false when the zone has no room for another run. */
static bool add_block_locked(enum zone_type zt, pfn_t pfn)
{
	struct deferred_run *r = runs[zt];
	unsigned int n = nr_runs[zt], i = 0;

	assert_spin_locked(&deferred_lock);
	while (i < n && r[i].end <= pfn)
		i++;
	if (i > 0 && r[i - 1].end == pfn) {
		r[i - 1].end += BLOCK_PAGES;
		if (i < n && r[i].start == r[i - 1].end) { /* the hole is filled */
			r[i - 1].end = r[i].end;
			memmove(&r[i], &r[i + 1], (n - i - 1) * sizeof(*r));
			nr_runs[zt]--;
		}
	} else if (i < n && r[i].start == pfn + BLOCK_PAGES) {
		r[i].start = pfn;
	} else {
		if (n == PMM_DEFERRED_MAX_RANGES)
			return false;
		memmove(&r[i + 1], &r[i], (n - i) * sizeof(*r));
		r[i] = (struct deferred_run){ pfn, pfn + BLOCK_PAGES };
		nr_runs[zt]++;
	}
	pending++;
	left++;
	zone_left[zt]++;
	stats.blocks_total++;
	return true;
}

bool pmm_deferred_boot_block(pfn_t pfn)
{
	enum zone_type zt = pfn_zone(pfn);
	uint64_t flags;
	bool deferred;

	if (!busy_ready)
		busy_init();
	if (eager_pages[zt] < (PMM_EAGER_BYTES >> PAGE_SHIFT)) {
		eager_pages[zt] += BLOCK_PAGES;
		return false;
	}
	flags = spin_lock_irqsave(&deferred_lock);
	deferred = add_block_locked(zt, pfn);
	spin_unlock_irqrestore(&deferred_lock, flags);
	return deferred;
}

/* Take the lowest pending block of the first zone of zl that has one,
 * and mark it in progress on this CPU. NO_BLOCK if there is none. */
static pfn_t claim_locked(const enum zone_type *zl, unsigned int nz)
{
	for (unsigned int i = 0; i < nz; i++) {
		enum zone_type zt = zl[i];
		struct deferred_run *r = runs[zt];
		pfn_t pfn;

		if (!nr_runs[zt])
			continue;
		pfn = r[0].start;
		r[0].start += BLOCK_PAGES;
		if (r[0].start == r[0].end)
			memmove(&r[0], &r[1], (--nr_runs[zt]) * sizeof(*r));
		pending--;
		nr_busy[zt]++;
		busy[this_cpu()->id] = pfn;
		return pfn;
	}
	return NO_BLOCK;
}

static void print_done(void)
{
	uint64_t hz = tsc_hz(), since = stats.done_tsc - kmain_tsc;

	pr_info("pmm: deferred frame descriptors initialised: %llu MiB in %llu blocks, the last "
		"%llu ms after kmain (idle CPUs %llu, allocations %llu, waiters %llu)\n",
		(unsigned long long)(stats.blocks_total * BLOCK_PAGES >> 8),
		(unsigned long long)stats.blocks_total,
		hz ? (unsigned long long)(since / (hz / 1000)) : 0ULL,
		(unsigned long long)stats.by_idle, (unsigned long long)stats.by_grow,
		(unsigned long long)stats.by_wait);
}

/* Initialise one pending block of the zones zl (in that order) and give
 * it to its zone; *count counts it. Interrupts stay off from the claim to
 * the end, so this CPU never has two blocks in progress. True if a block
 * was done. */
static bool do_one(const enum zone_type *zl, unsigned int nz, uint64_t *count)
{
	uint64_t flags = spin_lock_irqsave(&deferred_lock);
	pfn_t pfn = claim_locked(zl, nz);
	enum zone_type zt;
	bool last;

	spin_unlock(&deferred_lock);
	if (pfn == NO_BLOCK) {
		irq_restore(flags);
		return false;
	}
	zt = pfn_zone(pfn);
	page_init_descriptors(pfn, pfn + BLOCK_PAGES, 0, (uint8_t)zt);
	pmm_deferred_block_to_zone(pfn);
	spin_lock(&deferred_lock);
	busy[this_cpu()->id] = NO_BLOCK;
	nr_busy[zt]--;
	zone_left[zt]--;
	(*count)++;
	last = --left == 0;
	if (last && !stats.done_tsc)
		stats.done_tsc = rdtsc();
	else
		last = false;
	spin_unlock_irqrestore(&deferred_lock, flags);
	if (last)
		print_done();
	return true;
}

bool pmm_deferred_pending(void)
{
	return READ_ONCE(pending) != 0 && READ_ONCE(idle_on);
}

bool pmm_deferred_step(void)
{
	return pmm_deferred_pending() && do_one(all_zones, ARRAY_SIZE(all_zones), &stats.by_idle);
}

bool pmm_deferred_grow(enum zone_type zt)
{
	bool waited = false;

	if (!READ_ONCE(zone_left[zt]))
		return false;
	if (do_one(&zt, 1, &stats.by_grow))
		return true;
	/* None left to start here: other CPUs have the zone's last blocks
	 * in progress, with interrupts off, needing nothing from this CPU. */
	while (READ_ONCE(nr_busy[zt])) {
		cpu_relax();
		waited = true;
	}
	return waited;
}

void pmm_deferred_wait(void)
{
	while (do_one(all_zones, ARRAY_SIZE(all_zones), &stats.by_wait))
		;
	while (READ_ONCE(left))
		cpu_relax();
}

uint64_t pmm_deferred_blocks_left(void)
{
	return READ_ONCE(left);
}

static bool range_overlaps(pfn_t a, pfn_t a_end, pfn_t b, pfn_t b_end)
{
	return a < b_end && b < a_end;
}

bool pmm_deferred_overlaps(pfn_t pfn, unsigned int order)
{
	pfn_t end = pfn + (1ULL << order);
	uint64_t flags;
	bool hit = false;

	if (!READ_ONCE(left)) /* the usual case once the boot's work is done */
		return false;
	flags = spin_lock_irqsave(&deferred_lock);
	for (unsigned int z = 0; z < NR_ZONES && !hit; z++)
		for (unsigned int i = 0; i < nr_runs[z] && !hit; i++)
			hit = range_overlaps(pfn, end, runs[z][i].start, runs[z][i].end);
	for (unsigned int c = 0; c < MAX_CPUS && !hit && busy_ready; c++)
		hit = busy[c] != NO_BLOCK && range_overlaps(pfn, end, busy[c], busy[c] + BLOCK_PAGES);
	spin_unlock_irqrestore(&deferred_lock, flags);
	return hit;
}

void pmm_deferred_get_stats(struct pmm_deferred_stats *out)
{
	uint64_t flags = spin_lock_irqsave(&deferred_lock);

	*out = stats;
	spin_unlock_irqrestore(&deferred_lock, flags);
}

int pmm_deferred_return_block(struct page *head)
{
	pfn_t pfn = head ? page_to_pfn(head) : NO_BLOCK;
	enum zone_type zt;
	uint64_t flags;
	bool room;

	if (pfn == NO_BLOCK || (pfn & (BLOCK_PAGES - 1)) || !(head->flags & PG_head) ||
	    head->order != MAX_ORDER || READ_ONCE(head->refcount) != 1)
		return -EINVAL;
	zt = pfn_zone(pfn);
	flags = spin_lock_irqsave(&deferred_lock);
	if (!busy_ready)
		busy_init();
	room = nr_runs[zt] < PMM_DEFERRED_MAX_RANGES;
	spin_unlock_irqrestore(&deferred_lock, flags);
	if (!room)
		return -ENOSPC;
	/* Counted free before it can be claimed, so the free count never
	 * dips; then garbage, as RAM holds at boot; then claimable. */
	pmm_deferred_block_to_deferred(pfn);
	memset(head, GARBAGE, BLOCK_PAGES * sizeof(struct page));
	flags = spin_lock_irqsave(&deferred_lock);
	room = add_block_locked(zt, pfn);
	spin_unlock_irqrestore(&deferred_lock, flags);
	if (room)
		return 0;
	/* Another caller filled the runs meanwhile: free it as boot would. */
	page_init_descriptors(pfn, pfn + BLOCK_PAGES, 0, (uint8_t)zt);
	pmm_deferred_block_to_zone(pfn);
	return -ENOSPC;
}

bool pmm_deferred_set_idle(bool on)
{
	bool old = READ_ONCE(idle_on);

	WRITE_ONCE(idle_on, on);
	return old;
}
