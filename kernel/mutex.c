/* Mutexes and reader/writer semaphores (include/pagoda/mutex.h), built on
 * wait queues: the waiter queues itself before it tests the lock, so the
 * holder's wake-up on release cannot be missed (include/pagoda/wait.h). */
#include <pagoda/atomic.h>
#include <pagoda/lockdep.h>
#include <pagoda/mutex.h>
#include <pagoda/panic.h>
#include <pagoda/sched.h>
#include <pagoda/task.h>

void __mutex_init(struct mutex *m, struct lock_class *class)
{
	m->owner = NULL;
	wait_queue_init(&m->wq, "mutex.wq");
	m->class = class;
}

static bool mutex_try_take(struct mutex *m)
{
	struct task *none = NULL;

	return atomic_cmpxchg(&m->owner, &none, current);
}

void mutex_lock(struct mutex *m)
{
	struct wait_entry w = { 0 };

	lockdep_acquire(m->class, __builtin_return_address(0));
	if (READ_ONCE(m->owner) == current)
		panic("mutex %s: taken twice by pid %d", m->class->name, current->pid);
	if (mutex_try_take(m))
		return;
	for (;;) {
		prepare_to_wait(&m->wq, &w);
		if (mutex_try_take(m))
			break;
		schedule();
	}
	finish_wait(&m->wq, &w);
}

bool mutex_trylock(struct mutex *m)
{
	if (!mutex_try_take(m))
		return false;
	lockdep_acquire(m->class, __builtin_return_address(0));
	return true;
}

void mutex_unlock(struct mutex *m)
{
	if (READ_ONCE(m->owner) != current)
		panic("mutex %s: released by pid %d, not its owner", m->class->name,
		      current ? current->pid : -1);
	lockdep_release(m->class);
	atomic_store_release(&m->owner, NULL);
	wake_up_one(&m->wq);
}

bool mutex_held(const struct mutex *m)
{
	return READ_ONCE(m->owner) == current;
}

/* ---- reader/writer semaphores ----
 *
 * Waiters queue in arrival order and are let in in that order, the lock
 * handed to them by the task that releases it: a writer alone, or every
 * reader at the head of the queue together. A task that arrives while
 * anyone waits queues behind them, so nobody can be passed over for
 * ever: a page fault (a reader of the mmap_lock) waits for the writers
 * ahead of it, not for every mmap() that other threads will ever make.
 * (Letting newcomers in first starved a fault for seconds against three
 * threads looping on mmap and munmap; user/mtmemtest.c checks it.) */

struct rwsem_waiter {
	struct wait_entry w;
	bool writer;
	bool granted; /* set, with the entry taken off the queue, by the
		       * releaser, under the queue's lock */
};

void __rwsem_init(struct rw_semaphore *s, struct lock_class *class)
{
	s->count = 0;
	s->writer = NULL;
	wait_queue_init(&s->wq, "rwsem.wq");
	s->class = class;
}

static void grant_locked(struct rw_semaphore *s, struct rwsem_waiter *wt)
{
	assert_spin_locked(&s->wq.lock);
	list_del(&wt->w.node);
	if (wt->writer) {
		s->count = -1;
		s->writer = wt->w.task;
	} else {
		s->count++;
	}
	WRITE_ONCE(wt->granted, true);
	sched_wake(wt->w.task);
}

/* The lock is free (count 0) or read-held: let in the head of the queue,
 * a writer if the lock is free, or every reader before the first writer. */
static void wake_waiters_locked(struct rw_semaphore *s)
{
	assert_spin_locked(&s->wq.lock);
	while (!list_empty(&s->wq.waiters) && s->count >= 0) {
		struct rwsem_waiter *wt =
			list_first_entry(&s->wq.waiters, struct rwsem_waiter, w.node);
		if (wt->writer && s->count > 0)
			return;
		grant_locked(s, wt);
		if (wt->writer)
			return;
	}
}

/* Queue behind the others and sleep until a releaser has let us in.
 * Called and returns with s->wq.lock held (flags: its interrupt state). */
static void rwsem_queue_and_wait_locked(struct rw_semaphore *s, bool writer, uint64_t *flags)
{
	struct rwsem_waiter wt = { .w = { .task = current }, .writer = writer };

	assert_spin_locked(&s->wq.lock);
	list_add_tail(&wt.w.node, &s->wq.waiters);
	for (;;) {
		sched_set_sleeping(current);
		if (wt.granted)
			break;
		spin_unlock_irqrestore(&s->wq.lock, *flags);
		schedule();
		*flags = spin_lock_irqsave(&s->wq.lock);
	}
	sched_set_running(current);
}

void down_read(struct rw_semaphore *s)
{
	uint64_t flags;

	lockdep_acquire(s->class, __builtin_return_address(0));
	flags = spin_lock_irqsave(&s->wq.lock);
	if (s->count >= 0 && list_empty(&s->wq.waiters))
		s->count++;
	else
		rwsem_queue_and_wait_locked(s, false, &flags);
	spin_unlock_irqrestore(&s->wq.lock, flags);
}

void up_read(struct rw_semaphore *s)
{
	uint64_t flags = spin_lock_irqsave(&s->wq.lock);

	BUG_ON(s->count <= 0);
	if (--s->count == 0)
		wake_waiters_locked(s);
	spin_unlock_irqrestore(&s->wq.lock, flags);
	lockdep_release(s->class);
}

void down_write(struct rw_semaphore *s)
{
	uint64_t flags;

	lockdep_acquire(s->class, __builtin_return_address(0));
	flags = spin_lock_irqsave(&s->wq.lock);
	if (s->count == 0 && list_empty(&s->wq.waiters)) {
		s->count = -1;
		s->writer = current;
	} else {
		rwsem_queue_and_wait_locked(s, true, &flags);
	}
	spin_unlock_irqrestore(&s->wq.lock, flags);
}

void up_write(struct rw_semaphore *s)
{
	uint64_t flags = spin_lock_irqsave(&s->wq.lock);

	BUG_ON(s->count != -1 || s->writer != current);
	s->count = 0;
	s->writer = NULL;
	wake_waiters_locked(s);
	spin_unlock_irqrestore(&s->wq.lock, flags);
	lockdep_release(s->class);
}

bool rwsem_held_write(const struct rw_semaphore *s)
{
	return READ_ONCE(s->writer) == current;
}

bool rwsem_held(const struct rw_semaphore *s)
{
	return READ_ONCE(s->count) != 0;
}
