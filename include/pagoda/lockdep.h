/* The lock-order checker (kernel/lockdep.c), Linux's lockdep idea made
 * small: every lock has a class; whenever a task takes a lock of class B
 * while it holds one of class A, the checker records "A before B" with the
 * call chain that did it. If B before A (directly or through other
 * classes) was recorded already, two CPUs can deadlock, even if they never
 * did in this run: the checker reports the inversion once, with both call
 * chains, on the console as "lockdep: lock order inversion" (make test
 * fails a boot that prints it).
 *
 * Locks of one class nested in each other are not checked (two run queues,
 * two pipes): the code that does it must order them itself, and says how. */
#ifndef PAGODA_LOCKDEP_H
#define PAGODA_LOCKDEP_H

#include <pagoda/types.h>

#define LOCKDEP_MAX_HELD 16    /* locks one task may hold at once */
#define LOCKDEP_MAX_CLASSES 64 /* classes the checker can tell apart */
#define LOCKDEP_CHAIN 6        /* return addresses kept per call chain */

struct lock_class;

/* The locks a task holds, innermost last (in struct task). */
struct lockdep_held {
	unsigned int depth;
	struct lock_class *held[LOCKDEP_MAX_HELD];
};

/* Called by every lock before it waits for the lock, and after it lets
 * go. ip is the caller, for the report. */
void lockdep_acquire(struct lock_class *class, void *ip);
void lockdep_release(struct lock_class *class);

/* How many inversions were found so far. */
unsigned int lockdep_inversions(void);

/* Tests: forget every recorded order (classes keep their ids), and say
 * whether reports are printed. Return the previous quiet setting. */
void lockdep_reset(void);
bool lockdep_set_quiet(bool quiet);

/* How many locks the current task holds (for asserts: none may be held
 * across a sleep, except the sleeping locks themselves). */
unsigned int lockdep_depth(void);

#endif
