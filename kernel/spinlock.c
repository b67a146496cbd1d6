/* Ticket spinlocks (include/pagoda/spinlock.h). */
#include <pagoda/atomic.h>
#include <pagoda/ksyms.h>
#include <pagoda/lockdep.h>
#include <pagoda/panic.h>
#include <pagoda/percpu.h>
#include <pagoda/smp.h>
#include <pagoda/printk.h>
#include <pagoda/spinlock.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <asm/x86.h>

void __spin_lock_init(spinlock_t *lock, struct lock_class *class)
{
	lock->next = lock->serving = 0;
	lock->holder = -1;
	lock->class = class;
}

static void acquired(spinlock_t *lock, uintptr_t ip)
{
	WRITE_ONCE(lock->holder, (int32_t)cpu_id());
	WRITE_ONCE(lock->taken_at, ip);
}

static const char *sym(uintptr_t addr, uintptr_t *off)
{
	const char *name = ksyms_lookup(addr, off);

	return name ? name : "?";
}

/* Waited SPIN_LOCKUP_SECONDS for lock: say everything known, then panic. */
static __noreturn void spin_lockup(spinlock_t *lock, uint32_t ticket, uintptr_t ip)
{
	uintptr_t at = READ_ONCE(lock->taken_at), off = 0, ioff = 0;
	const char *where = sym(at, &off), *from = sym(ip, &ioff);

	pr_emerg("spinlock lockup: CPU %u waited %u s for %s (%p) from %s+%#lx: ticket %u, "
		 "serving %u, next %u\n", cpu_id(), SPIN_LOCKUP_SECONDS, lock->class->name,
		 (void *)lock, from, (unsigned long)ioff, ticket, READ_ONCE(lock->serving),
		 READ_ONCE(lock->next));
	pr_emerg("spinlock lockup: held by CPU %d, taken at %s+%#lx\n", READ_ONCE(lock->holder),
		 where, (unsigned long)off);
	for (unsigned int c = 0; c < MAX_CPUS; c++) {
		struct task *t;
		if (!(READ_ONCE(cpu_online_mask) & (1ULL << c)))
			continue;
		t = READ_ONCE(cpu_area(c)->curr);
		if (READ_ONCE(cpu_area(c)->spin_waiting_on) == lock)
			pr_emerg("spinlock lockup: CPU %u runs %s[%d], waits here with ticket %u\n",
				 c, t ? t->comm : "?", t ? t->pid : -1,
				 READ_ONCE(cpu_area(c)->spin_ticket));
		else
			pr_emerg("spinlock lockup: CPU %u runs %s[%d]\n", c, t ? t->comm : "?",
				 t ? t->pid : -1);
	}
	panic("spinlock lockup on %s", lock->class->name);
}

static void spin_lock_from(spinlock_t *lock, uintptr_t ip)
{
	uint64_t start = 0, limit = tsc_hz() * SPIN_LOCKUP_SECONDS;
	uint32_t ticket, spins = 0;

	/* Check the order before spinning, so that a deadlock the order
	 * predicts is reported, not just suffered. */
	lockdep_acquire(lock->class, (void *)ip);
	if (READ_ONCE(lock->holder) == (int32_t)cpu_id() && lock->holder >= 0)
		panic("spinlock %s: taken twice on CPU %u", lock->class->name, cpu_id());
	ticket = atomic_fetch_add(&lock->next, 1);
	while (atomic_load_acquire(&lock->serving) != ticket) {
		/* With interrupts off this CPU cannot take a cross-call IPI;
		 * run the calls by hand, or the caller (maybe the holder)
		 * would wait for us forever. */
		if (!(read_rflags() & X86_RFLAGS_IF))
			smp_poll_calls();
		cpu_relax();
		if (limit && ++spins % 65536 == 0) { /* look at the clock now and then */
			if (!start) {
				start = rdtsc();
				/* Long enough to be worth telling the report. */
				WRITE_ONCE(this_cpu()->spin_ticket, ticket);
				WRITE_ONCE(this_cpu()->spin_waiting_on, lock);
			} else if (rdtsc() - start > limit)
				spin_lockup(lock, ticket, ip);
		}
	}
	if (start)
		WRITE_ONCE(this_cpu()->spin_waiting_on, NULL);
	acquired(lock, ip);
}

void spin_lock(spinlock_t *lock)
{
	spin_lock_from(lock, (uintptr_t)__builtin_return_address(0));
}

bool spin_trylock(spinlock_t *lock)
{
	uint32_t serving = atomic_load(&lock->serving), expect = serving;

	/* Free when next == serving: take ticket "serving" by moving next on. */
	if (!atomic_cmpxchg(&lock->next, &expect, serving + 1))
		return false;
	lockdep_acquire(lock->class, __builtin_return_address(0));
	acquired(lock, (uintptr_t)__builtin_return_address(0));
	return true;
}

void spin_unlock(spinlock_t *lock)
{
	if (lock->holder != (int32_t)cpu_id())
		panic("spinlock %s: released by CPU %u, held by %d", lock->class->name, cpu_id(),
		      lock->holder);
	WRITE_ONCE(lock->holder, -1);
	lockdep_release(lock->class);
	atomic_store_release(&lock->serving, lock->serving + 1);
}

uint64_t spin_lock_irqsave(spinlock_t *lock)
{
	uint64_t flags = irq_save();

	spin_lock_from(lock, (uintptr_t)__builtin_return_address(0));
	return flags;
}

bool spin_held(const spinlock_t *lock)
{
	return READ_ONCE(lock->holder) == (int32_t)cpu_id();
}
