/* Tests of the other CPUs: each came up with its own per-CPU area, IPIs
 * reach each and come back, and a spinlock keeps a counter that every
 * CPU increments at once exact (kernel/smp.c, kernel/spinlock.c,
 * arch/x86/smpboot.c). They need two CPUs or more; with one they skip. */
#include <pagoda/atomic.h>
#include <pagoda/ktest.h>
#include <pagoda/percpu.h>
#include <pagoda/sched.h>
#include <pagoda/smp.h>
#include <pagoda/spinlock.h>
#include <asm/apic.h>

static bool need_cpus(struct ktest *t, unsigned int n)
{
	if (nr_cpus_online() >= n)
		return true;
	ktest_skip(t, "needs more than one CPU online (boot with -smp 2 or more)");
	return false;
}

struct checkin {
	struct percpu *area;
	unsigned int id;
	uint32_t apic_id;
	bool seen;
};
static struct checkin checkins[MAX_CPUS];

static void check_in(void *arg)
{
	struct percpu *c = this_cpu();

	checkins[c->id] = (struct checkin){ c, c->id, lapic_id(), true };
}

static void smp_every_cpu_checks_in_with_its_own_area(struct ktest *t)
{
	uint64_t online = READ_ONCE(cpu_online_mask);

	if (!need_cpus(t, 2))
		return;
	memset(checkins, 0, sizeof(checkins));
	smp_call_mask(online, check_in, NULL);
	for (unsigned int i = 0; i < MAX_CPUS; i++) {
		if (!(online & (1ULL << i)))
			continue;
		KEXPECT_TRUE(t, checkins[i].seen);
		KEXPECT_EQ(t, checkins[i].area, cpu_area(i));
		KEXPECT_EQ(t, checkins[i].id, i);
		KEXPECT_EQ(t, checkins[i].apic_id, cpu_area(i)->arch.apic_id);
		for (unsigned int j = 0; j < i; j++)
			if (online & (1ULL << j))
				KEXPECT_NE(t, checkins[i].apic_id, checkins[j].apic_id);
	}
}

static unsigned int ran_on;

static void note_cpu(void *arg)
{
	WRITE_ONCE(ran_on, cpu_id());
	atomic_inc((uint32_t *)arg);
}

static void smp_ipi_round_trip_reaches_each_cpu(struct ktest *t)
{
	uint64_t online = READ_ONCE(cpu_online_mask);
	uint32_t calls = 0;

	if (!need_cpus(t, 2))
		return;
	for (unsigned int cpu = 0; cpu < MAX_CPUS; cpu++) {
		uint64_t before;
		if (!(online & (1ULL << cpu)) || cpu == cpu_id())
			continue;
		before = smp_ipis_handled(cpu);
		ran_on = MAX_CPUS;
		smp_call_mask(1ULL << cpu, note_cpu, &calls);
		KEXPECT_EQ(t, READ_ONCE(ran_on), cpu);
		/* It came as an interrupt (or was polled by a CPU spinning). */
		KEXPECT_GE(t, smp_ipis_handled(cpu) + 1, before + 1);
	}
	KEXPECT_EQ(t, calls, nr_cpus_online() - 1);
}

/* Lock handoffs in all, shared by the CPUs: under TCG on an overloaded
 * host each handoff may wait for the next ticket's vCPU thread to be
 * scheduled, so the total is kept the same at 2 or 8 CPUs. */
#define HANDOFFS 4000
DEFINE_STATIC_SPINLOCK(counter_lock);
static uint64_t counter;
static unsigned int increments; /* per CPU */

static void count_up(void *arg)
{
	for (unsigned int i = 0; i < increments; i++) {
		spin_lock(&counter_lock);
		/* A read, then a write: a lost update if two CPUs interleave. */
		uint64_t v = READ_ONCE(counter);
		cpu_relax();
		WRITE_ONCE(counter, v + 1);
		spin_unlock(&counter_lock);
	}
}

static void spinlock_counter_incremented_by_all_cpus_ends_exact(struct ktest *t)
{
	if (!need_cpus(t, 2))
		return;
	counter = 0;
	increments = HANDOFFS / nr_cpus_online();
	smp_call_mask(READ_ONCE(cpu_online_mask), count_up, NULL);
	KEXPECT_EQ(t, counter, (uint64_t)increments * nr_cpus_online());
	KEXPECT_EQ(t, counter_lock.next, counter_lock.serving);
}

static void smp_online_mask_matches_the_cpus_that_came_up(struct ktest *t)
{
	uint64_t online = READ_ONCE(cpu_online_mask);

	KEXPECT_TRUE(t, online & 1);
	KEXPECT_LE(t, nr_cpus_online(), smp_cpus_listed());
	for (unsigned int i = 0; i < MAX_CPUS; i++)
		KEXPECT_EQ(t, !!(online & (1ULL << i)), cpu_area(i)->online || i == 0);
}

static const struct ktest_case smp_cases[] = {
	KTEST_CASE(smp_online_mask_matches_the_cpus_that_came_up),
	KTEST_CASE(smp_every_cpu_checks_in_with_its_own_area),
	KTEST_CASE(smp_ipi_round_trip_reaches_each_cpu),
	KTEST_CASE(spinlock_counter_incremented_by_all_cpus_ends_exact),
};
KTEST_SUITE(smp, smp_cases);
