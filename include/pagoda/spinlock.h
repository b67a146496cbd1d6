/* Spinlocks (kernel/spinlock.c): a ticket lock, fair in arrival order.
 *
 *   next    the ticket the next CPU to arrive takes (fetch-and-add)
 *   serving the ticket allowed in; unlock hands the lock on with ++
 *
 * Rules (docs/smp.md):
 * - A spinlock is held for a short, non-sleeping stretch: never across
 *   schedule(), a sleeping lock, or a user copy (which may fault and sleep).
 * - A lock that an interrupt handler takes is always taken with the
 *   _irqsave variant, everywhere, so the handler cannot spin on a lock its
 *   own CPU holds. Others may use plain spin_lock().
 * - Each lock has a class (its name); in test builds the lock-order
 *   checker (kernel/lockdep.c) learns the order classes nest in and
 *   reports the first inversion with both call chains.
 * - A function that expects a lock held says so in its name (_locked) and
 *   checks it with assert_spin_locked(). */
#ifndef PAGODA_SPINLOCK_H
#define PAGODA_SPINLOCK_H

#include <pagoda/panic.h>
#include <pagoda/types.h>
#include <asm/x86.h>

/* A lock class: every lock initialised at one place in the code shares
 * one (its static struct), as in Linux's lockdep. */
struct lock_class {
	const char *name;
	unsigned int id; /* given by the checker at first use; 0 before */
};

typedef struct spinlock {
	uint32_t next;
	uint32_t serving;
	int32_t holder;            /* CPU holding it, -1 if free (for asserts) */
	struct lock_class *class;
	uintptr_t taken_at;        /* the caller that took it last (lockup reports) */
} spinlock_t;

#define __SPINLOCK_INIT(cls) { .next = 0, .serving = 0, .holder = -1, .class = &(cls) }

/* A CPU that has waited this long for a spinlock reports a lockup (the
 * lock, who took it and from where) and panics: no critical section
 * lasts seconds, so it would otherwise wait forever, silently. */
#define SPIN_LOCKUP_SECONDS 20

/* A lock with a class of its own, at file scope; the _STATIC one is
 * local to its file or function. */
#define DEFINE_SPINLOCK(name)                                                  \
	struct lock_class name##_lock_class = { #name, 0 };                    \
	spinlock_t name = __SPINLOCK_INIT(name##_lock_class)
#define DEFINE_STATIC_SPINLOCK(name)                                           \
	static struct lock_class name##_lock_class = { #name, 0 };             \
	static spinlock_t name = __SPINLOCK_INIT(name##_lock_class)

/* Initialise a lock at run time; every lock initialised at this line of
 * code belongs to one class called cname. */
#define spin_lock_init(lock, cname)                                            \
	do {                                                                   \
		static struct lock_class __cls = { cname, 0 };                 \
		__spin_lock_init(lock, &__cls);                                \
	} while (0)
void __spin_lock_init(spinlock_t *lock, struct lock_class *class);

void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);
/* Take the lock if it is free: true if taken. */
bool spin_trylock(spinlock_t *lock);

/* Disable interrupts, then take the lock; give back the previous
 * interrupt state with spin_unlock_irqrestore(). */
uint64_t spin_lock_irqsave(spinlock_t *lock);

/* Inline, so that a timer tick held back by the critical section is
 * taken, and counted by the profiler, in the function that ends it, not
 * in a lock function every critical section shares (docs/profile.md). */
static inline void spin_unlock_irqrestore(spinlock_t *lock, uint64_t flags)
{
	spin_unlock(lock);
	irq_restore(flags);
}

/* Is the lock held by this CPU? */
bool spin_held(const spinlock_t *lock);

/* For _locked functions: the caller must hold lock. */
#define assert_spin_locked(lock) BUG_ON(!spin_held(lock))

#endif
