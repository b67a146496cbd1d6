/* The out-of-memory killer: see include/pagoda/oom.h.
 *
 * Shared data: the task list (read under tasklist_lock), each task's mm
 * (pinned, its page tables counted under its mmap_lock), a victim's
 * oom_victim flag and pending signals (written). oom_lock makes the choice
 * and the kill one step, so that two CPUs short of memory at once do not
 * choose two victims. */
#include <pagoda/mm.h>
#include <pagoda/mutex.h>
#include <pagoda/atomic.h>
#include <pagoda/oom.h>
#include <pagoda/printk.h>
#include <pagoda/rss.h>
#include <pagoda/signal.h>
#include <pagoda/task.h>
#include <pagoda/vma.h>

#define K(pages) ((unsigned long long)(pages) * (PAGE_SIZE / 1024))

unsigned long oom_kill_count;

#define OOM_MAX_CANDIDATES 256

DEFINE_STATIC_MUTEX(oom_lock);

/* Linux's oom_badness(): resident pages plus page-table pages, counted
 * under the mm's mmap_lock so that no table goes away under the count. */
static uint64_t oom_badness(struct mm_struct *mm)
{
	struct mm_rss rss;

	down_read(&mm->mmap_lock);
	mm_rss_count(mm, &rss);
	up_read(&mm->mmap_lock);
	return mm_rss_total(&rss) + rss.pgtables;
}

struct candidate {
	struct task *task; /* a reference */
	struct mm_struct *mm; /* a reference */
};

/* The tasks that hold an address space, each with references, under
 * tasklist_lock; OOM_WAIT if an earlier victim is still alive. Returns
 * how many, or -1 for OOM_WAIT; *init is init's slot or -1. */
static int snapshot_candidates(struct candidate *c, int max, int *init)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct list_head *pos;
	int n = 0;

	*init = -1;
	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (t->mm && t->state != TASK_ZOMBIE && t->oom_victim) {
			spin_unlock_irqrestore(&tasklist_lock, flags);
			return -1; /* its memory is on its way back */
		}
	}
	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (!t->mm || t->state == TASK_ZOMBIE)
			continue; /* nothing to take back */
		if (n == max)
			break;
		task_get(t);
		mm_get(t->mm);
		c[n] = (struct candidate){ t, t->mm };
		if (t->pid == 1)
			*init = n;
		n++;
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return n;
}

/* The victim with a reference (task_put() it), NULL, or OOM_WAIT. */
static struct task *select_victim_get(void)
{
	static struct candidate c[OOM_MAX_CANDIDATES]; /* under oom_lock */
	int n, init, best = -1;
	uint64_t best_points = 0;

	n = snapshot_candidates(c, OOM_MAX_CANDIDATES, &init);
	if (n < 0)
		return OOM_WAIT;
	for (int i = 0; i < n; i++) {
		uint64_t points;
		if (i == init)
			continue;
		points = oom_badness(c[i].mm);
		/* Ties go to the later task, as in Linux's oom_evaluate_task(). */
		if (best < 0 || points >= best_points) {
			best = i;
			best_points = points;
		}
	}
	if (best < 0)
		best = init;
	for (int i = 0; i < n; i++) {
		mm_put(c[i].mm);
		if (i != best)
			task_put(c[i].task);
	}
	return best >= 0 ? c[best].task : NULL;
}

struct task *oom_select_victim(void)
{
	struct task *t;

	mutex_lock(&oom_lock);
	t = select_victim_get();
	mutex_unlock(&oom_lock);
	if (t && t != OOM_WAIT)
		task_put(t); /* for tests: the pointer only */
	return t;
}

static uint64_t vm_pages(struct mm_struct *mm)
{
	struct list_head *pos;
	uint64_t pages = 0;

	list_for_each(pos, &mm->vma_list)
		pages += vma_pages(list_entry(pos, struct vm_area_struct, vm_list));
	return pages;
}

void oom_kill_process(struct task *victim)
{
	struct mm_struct *mm = task_get_mm(victim);
	struct mm_rss rss;
	uint64_t vm = 0, flags;

	if (mm) {
		down_read(&mm->mmap_lock);
		mm_rss_count(mm, &rss);
		vm = vm_pages(mm);
		up_read(&mm->mmap_lock);
		mm_put(mm);
	} else {
		rss = (struct mm_rss){ 0 };
	}
	pr_err("Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, "
	       "file-rss:%llukB, shmem-rss:%llukB, UID:0 pgtables:%llukB oom_score_adj:0\n",
	       victim->pid, victim->comm, K(vm), K(rss.anon), K(rss.file),
	       K(rss.shmem), K(rss.pgtables));
	WRITE_ONCE(victim->oom_victim, true);
	atomic_inc(&oom_kill_count);
	flags = spin_lock_irqsave(&tasklist_lock);
	signal_send_process_locked(victim, SIGKILL, NULL, true); /* every thread of it */
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

bool out_of_memory(void)
{
	struct task *victim;

	if (fatal_signal_pending(current))
		return false; /* already dying: its memory comes back when it exits */
	mutex_lock(&oom_lock);
	victim = select_victim_get();
	if (victim && victim != OOM_WAIT) {
		pr_warn("%s invoked oom-killer: order=0, oom_score_adj=0\n", current->comm);
		oom_kill_process(victim);
	}
	mutex_unlock(&oom_lock);
	if (!victim)
		return false; /* no process at all (the kernel's own tests) */
	if (victim != OOM_WAIT) {
		bool self = victim == current;
		task_put(victim);
		if (self)
			return false;
	}
	schedule(); /* let the victim run to its end */
	return true;
}
