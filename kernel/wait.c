/* Wait queues (include/pagoda/wait.h). */
#include <pagoda/panic.h>
#include <pagoda/sched.h>
#include <pagoda/task.h>
#include <pagoda/wait.h>

void prepare_to_wait_locked(struct wait_queue_head *wq, struct wait_entry *w)
{
	assert_spin_locked(&wq->lock);
	if (!w->task) {
		w->task = current;
		list_init(&w->node);
	}
	if (list_empty(&w->node))
		list_add_tail(&w->node, &wq->waiters);
	sched_set_sleeping(current);
}

void prepare_to_wait(struct wait_queue_head *wq, struct wait_entry *w)
{
	uint64_t flags = spin_lock_irqsave(&wq->lock);

	prepare_to_wait_locked(wq, w);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void finish_wait(struct wait_queue_head *wq, struct wait_entry *w)
{
	uint64_t flags;

	sched_set_running(current);
	if (!w->task)
		return;
	flags = spin_lock_irqsave(&wq->lock);
	if (!list_empty(&w->node)) {
		list_del(&w->node);
		list_init(&w->node);
	}
	spin_unlock_irqrestore(&wq->lock, flags);
}

void wake_up_locked(struct wait_queue_head *wq, bool all)
{
	struct list_head *pos;

	assert_spin_locked(&wq->lock);
	list_for_each(pos, &wq->waiters) {
		struct wait_entry *w = list_entry(pos, struct wait_entry, node);
		sched_wake(w->task);
		if (!all)
			break;
	}
}

void wake_up(struct wait_queue_head *wq)
{
	uint64_t flags = spin_lock_irqsave(&wq->lock);

	wake_up_locked(wq, true);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void wake_up_one(struct wait_queue_head *wq)
{
	uint64_t flags = spin_lock_irqsave(&wq->lock);

	wake_up_locked(wq, false);
	spin_unlock_irqrestore(&wq->lock, flags);
}
