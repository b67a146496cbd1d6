/* The out-of-memory killer: see include/pagoda/oom.h.
 *
 * Shared data: the task list and each task's mm (read), a victim's
 * oom_victim flag and pending signals (written). One CPU, and nothing
 * here sleeps until schedule(); with SMP this wants the task-list lock
 * and a lock of its own so that two CPUs do not choose two victims. */
#include <pagoda/oom.h>
#include <pagoda/printk.h>
#include <pagoda/rss.h>
#include <pagoda/signal.h>
#include <pagoda/task.h>
#include <pagoda/vma.h>

#define K(pages) ((unsigned long long)(pages) * (PAGE_SIZE / 1024))

unsigned long oom_kill_count;

/* Linux's oom_badness(): resident pages plus page-table pages. */
static uint64_t oom_badness(struct task *t)
{
	struct mm_rss rss;

	mm_rss_count(t->mm, &rss);
	return mm_rss_total(&rss) + rss.pgtables;
}

struct task *oom_select_victim(void)
{
	struct task *chosen = NULL, *init = NULL;
	uint64_t best = 0;
	struct list_head *pos;

	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		uint64_t points;

		if (!t->mm || t->state == TASK_ZOMBIE)
			continue; /* nothing to take back */
		if (t->oom_victim)
			return OOM_WAIT; /* its memory is on its way back */
		if (t->pid == 1) {
			init = t;
			continue;
		}
		points = oom_badness(t);
		/* Ties go to the later task, as in Linux's oom_evaluate_task(). */
		if (!chosen || points >= best) {
			chosen = t;
			best = points;
		}
	}
	return chosen ? chosen : init;
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
	struct mm_rss rss;

	mm_rss_count(victim->mm, &rss);
	pr_err("Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, "
	       "file-rss:%llukB, shmem-rss:%llukB, UID:0 pgtables:%llukB oom_score_adj:0\n",
	       victim->pid, victim->comm, K(vm_pages(victim->mm)), K(rss.anon), K(rss.file),
	       K(rss.shmem), K(rss.pgtables));
	victim->oom_victim = true;
	oom_kill_count++;
	signal_send(victim, SIGKILL, NULL, true);
}

bool out_of_memory(void)
{
	struct task *victim;

	if (current->sig_pending & SIGBIT(SIGKILL))
		return false; /* already dying: its memory comes back when it exits */
	victim = oom_select_victim();
	if (!victim)
		return false; /* no process at all (the kernel's own tests) */
	if (victim != OOM_WAIT) {
		pr_warn("%s invoked oom-killer: order=0, oom_score_adj=0\n", current->comm);
		oom_kill_process(victim);
		if (victim == current)
			return false;
	}
	schedule(); /* let the victim run to its end */
	return true;
}
