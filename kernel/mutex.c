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

/* ---- reader/writer semaphores ---- */

void __rwsem_init(struct rw_semaphore *s, struct lock_class *class)
{
	s->count = 0;
	s->writers_waiting = 0;
	s->writer = NULL;
	wait_queue_init(&s->wq, "rwsem.wq");
	s->class = class;
}

/* Wait on s until may_enter(s) holds, then enter(s); all under s->wq.lock. */
static void rwsem_wait(struct rw_semaphore *s, bool (*may_enter)(struct rw_semaphore *),
		       void (*enter)(struct rw_semaphore *))
{
	struct wait_entry w = { 0 };
	uint64_t flags = spin_lock_irqsave(&s->wq.lock);

	while (!may_enter(s)) {
		prepare_to_wait_locked(&s->wq, &w);
		spin_unlock_irqrestore(&s->wq.lock, flags);
		schedule();
		flags = spin_lock_irqsave(&s->wq.lock);
	}
	enter(s);
	if (w.task && !list_empty(&w.node))
		list_del(&w.node);
	sched_set_running(current);
	spin_unlock_irqrestore(&s->wq.lock, flags);
}

static bool reader_may_enter(struct rw_semaphore *s) { return s->count >= 0 && !s->writers_waiting; }
static void reader_enter(struct rw_semaphore *s) { s->count++; }
static bool writer_may_enter(struct rw_semaphore *s) { return s->count == 0; }
static void writer_enter(struct rw_semaphore *s)
{
	s->count = -1;
	s->writers_waiting--;
	s->writer = current;
}

void down_read(struct rw_semaphore *s)
{
	lockdep_acquire(s->class, __builtin_return_address(0));
	rwsem_wait(s, reader_may_enter, reader_enter);
}

void up_read(struct rw_semaphore *s)
{
	uint64_t flags = spin_lock_irqsave(&s->wq.lock);

	BUG_ON(s->count <= 0);
	if (--s->count == 0)
		wake_up_locked(&s->wq, true);
	spin_unlock_irqrestore(&s->wq.lock, flags);
	lockdep_release(s->class);
}

void down_write(struct rw_semaphore *s)
{
	uint64_t flags;

	lockdep_acquire(s->class, __builtin_return_address(0));
	flags = spin_lock_irqsave(&s->wq.lock);
	s->writers_waiting++;
	spin_unlock_irqrestore(&s->wq.lock, flags);
	rwsem_wait(s, writer_may_enter, writer_enter);
}

void up_write(struct rw_semaphore *s)
{
	uint64_t flags = spin_lock_irqsave(&s->wq.lock);

	BUG_ON(s->count != -1 || s->writer != current);
	s->count = 0;
	s->writer = NULL;
	wake_up_locked(&s->wq, true);
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
