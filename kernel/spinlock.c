/* Ticket spinlocks (include/pagoda/spinlock.h). */
#include <pagoda/atomic.h>
#include <pagoda/lockdep.h>
#include <pagoda/panic.h>
#include <pagoda/percpu.h>
#include <pagoda/smp.h>
#include <pagoda/spinlock.h>
#include <asm/x86.h>

void __spin_lock_init(spinlock_t *lock, struct lock_class *class)
{
	lock->next = lock->serving = 0;
	lock->holder = -1;
	lock->class = class;
}

static void acquired(spinlock_t *lock)
{
	WRITE_ONCE(lock->holder, (int32_t)cpu_id());
}

void spin_lock(spinlock_t *lock)
{
	uint32_t ticket;

	/* Check the order before spinning, so that a deadlock the order
	 * predicts is reported, not just suffered. */
	lockdep_acquire(lock->class, __builtin_return_address(0));
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
	}
	acquired(lock);
}

bool spin_trylock(spinlock_t *lock)
{
	uint32_t serving = atomic_load(&lock->serving), expect = serving;

	/* Free when next == serving: take ticket "serving" by moving next on. */
	if (!atomic_cmpxchg(&lock->next, &expect, serving + 1))
		return false;
	lockdep_acquire(lock->class, __builtin_return_address(0));
	acquired(lock);
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

	spin_lock(lock);
	return flags;
}

void spin_unlock_irqrestore(spinlock_t *lock, uint64_t flags)
{
	spin_unlock(lock);
	irq_restore(flags);
}

bool spin_held(const spinlock_t *lock)
{
	return READ_ONCE(lock->holder) == (int32_t)cpu_id();
}
