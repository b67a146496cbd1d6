/* Wait queues (kernel/wait.c): how a task sleeps until something happens,
 * on any CPU, without missing the wakeup.
 *
 * A sleeper puts itself on the queue and marks itself sleeping *before*
 * it tests its condition; a waker changes the condition *before* it wakes
 * the queue. Whichever comes second sees the other's work: either the
 * sleeper finds the condition true and does not sleep, or the waker finds
 * the sleeper on the queue and makes it runnable (and schedule() does not
 * take a task off its CPU once it is runnable again):
 *
 *     sleeper                           waker
 *     prepare_to_wait(wq, &w)           cond = true
 *     if (!cond) schedule()             wake_up(wq)
 *     finish_wait(wq, &w)
 *
 * wait_event() is that loop. The queue's lock guards its list only; the
 * condition is the caller's business. */
#ifndef PAGODA_WAIT_H
#define PAGODA_WAIT_H

#include <pagoda/list.h>
#include <pagoda/spinlock.h>

struct task;

struct wait_queue_head {
	spinlock_t lock;          /* guards waiters; taken with interrupts off */
	struct list_head waiters; /* struct wait_entry, in arrival order */
};

struct wait_entry {
	struct task *task;
	struct list_head node; /* on the queue while non-empty */
};

/* The initializer of wait queue wq (an lvalue) whose lock has class cls. */
#define __WAIT_QUEUE_INIT(wq, cls) { __SPINLOCK_INIT(cls), { &(wq).waiters, &(wq).waiters } }

#define DEFINE_WAIT_QUEUE(name)                                                \
	struct lock_class name##_lock_class = { #name, 0 };                    \
	struct wait_queue_head name = __WAIT_QUEUE_INIT(name, name##_lock_class)

#define wait_queue_init(wq, cname)                                             \
	do {                                                                   \
		spin_lock_init(&(wq)->lock, cname);                            \
		list_init(&(wq)->waiters);                                     \
	} while (0)

/* Queue the current task on wq (once) and mark it sleeping. */
void prepare_to_wait(struct wait_queue_head *wq, struct wait_entry *w);
/* Runnable again, and off the queue. */
void finish_wait(struct wait_queue_head *wq, struct wait_entry *w);

/* Make every task on wq runnable; they stay queued until they run and
 * call finish_wait(). wake_up_one() wakes the first only. */
void wake_up(struct wait_queue_head *wq);
void wake_up_one(struct wait_queue_head *wq);

/* The same with wq->lock held by the caller. */
void prepare_to_wait_locked(struct wait_queue_head *wq, struct wait_entry *w);
void wake_up_locked(struct wait_queue_head *wq, bool all);

/* Sleep until cond is true (tested again after every wakeup). */
#define wait_event(wq, cond)                                                   \
	do {                                                                   \
		struct wait_entry __w = { 0 };                                 \
		for (;;) {                                                     \
			prepare_to_wait(wq, &__w);                             \
			if (cond)                                              \
				break;                                         \
			schedule();                                            \
		}                                                              \
		finish_wait(wq, &__w);                                         \
	} while (0)

#endif
