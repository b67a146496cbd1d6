/* Inter-processor interrupts: reschedule requests and cross-calls
 * (include/pagoda/smp.h).
 *
 * Cross-calls need no lock. Each CPU has an inbox with one slot per
 * sender; a call is synchronous, so a sender has at most one request out
 * at a time, and its slot in each target's inbox is its own:
 *
 *   sender S                         target T (IPI handler)
 *   req.pending = |targets|
 *   T.inbox[S] = &req  ---- IPI ---> r = xchg(inbox[S], NULL)
 *   wait for pending == 0            r->fn(r->arg); pending--
 *
 * While S waits it polls its own inbox, and so does every CPU spinning on
 * a lock with interrupts off (kernel/spinlock.c): a call is never stuck
 * behind a CPU that cannot take interrupts. */
#include <pagoda/atomic.h>
#include <pagoda/bitops.h>
#include <pagoda/percpu.h>
#include <pagoda/sched.h>
#include <pagoda/smp.h>
#include <pagoda/task.h>
#include <asm/apic.h>
#include <asm/trap.h>
#include <asm/x86.h>

struct call_req {
	smp_call_fn fn;
	void *arg;
	uint32_t pending; /* targets that have not run it yet */
};

/* inbox[target][sender]: written by the sender, taken by the target. */
static struct call_req *inbox[MAX_CPUS][MAX_CPUS];
static uint64_t ipis_handled[MAX_CPUS];

void smp_poll_calls(void)
{
	unsigned int self;

	if (!READ_ONCE(cpu_online_mask) || !(READ_ONCE(cpu_online_mask) & ~1ULL))
		return; /* one CPU: nobody can have sent anything */
	self = cpu_id();
	for (unsigned int s = 0; s < MAX_CPUS; s++) {
		struct call_req *r;
		if (!READ_ONCE(inbox[self][s]))
			continue;
		r = atomic_xchg(&inbox[self][s], NULL);
		if (!r)
			continue;
		r->fn(r->arg);
		atomic_fetch_sub(&r->pending, 1);
	}
}

void smp_call_mask(uint64_t mask, smp_call_fn fn, void *arg)
{
	unsigned int self = cpu_id();
	uint64_t targets = mask & READ_ONCE(cpu_online_mask) & ~(1ULL << self);
	struct call_req req = { fn, arg, (uint32_t)hweight64(targets) };

	for (uint64_t m = targets; m; m &= m - 1) {
		unsigned int cpu = (unsigned int)__builtin_ctzll(m);
		atomic_store(&inbox[cpu][self], &req);
		lapic_send_ipi(cpu_area(cpu)->arch.apic_id, IPI_CALL_VECTOR);
	}
	if (mask & (1ULL << self))
		fn(arg);
	while (atomic_load(&req.pending)) {
		smp_poll_calls();
		cpu_relax();
	}
}

static void call_ipi(struct trap_frame *tf)
{
	ipis_handled[cpu_id()]++;
	this_cpu()->irqs.call++;
	lapic_eoi();
	smp_poll_calls();
}

static void resched_ipi(struct trap_frame *tf)
{
	ipis_handled[cpu_id()]++;
	this_cpu()->irqs.resched++;
	lapic_eoi();
	WRITE_ONCE(this_cpu()->rq.need_resched, true);
}

void smp_send_reschedule(unsigned int cpu)
{
	if (READ_ONCE(cpu_online_mask) & (1ULL << cpu))
		lapic_send_ipi(cpu_area(cpu)->arch.apic_id, IPI_RESCHEDULE_VECTOR);
}

void smp_kick_idle_cpu(void)
{
	uint64_t online = READ_ONCE(cpu_online_mask);

	for (unsigned int cpu = 0; cpu < MAX_CPUS; cpu++) {
		struct percpu *c = cpu_area(cpu);
		if (cpu == cpu_id() || !(online & (1ULL << cpu)))
			continue;
		if (READ_ONCE(c->curr) == c->idle && !READ_ONCE(c->rq.nr_queued)) {
			smp_send_reschedule(cpu);
			return;
		}
	}
}

uint64_t smp_ipis_handled(unsigned int cpu)
{
	return READ_ONCE(ipis_handled[cpu]);
}

void smp_ipi_init(void)
{
	trap_set_irq_handler(IPI_CALL_VECTOR, call_ipi);
	trap_set_irq_handler(IPI_RESCHEDULE_VECTOR, resched_ipi);
}
