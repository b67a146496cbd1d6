/* Ending tasks: exit, exit_group and fatal signals, waiting for children
 * (wait4), and the end of the other threads when one of them execs
 * (Linux's kernel/exit.c and de_thread() in fs/exec.c).
 *
 * A thread that exits gives back what it holds (its references to the
 * address space, fd table and cwd; the robust futexes and the tid word of
 * its pthread; a vfork parent), then leaves. What is left of it depends on
 * what it was:
 *
 *   a thread other than the leader   TASK_DEAD: off the lists at once,
 *                                    freed when off its CPU (nobody waits)
 *   the leader                       TASK_ZOMBIE: stays, with its pid,
 *                                    until its parent's wait4() reaps it,
 *                                    which may only happen once every
 *                                    thread of the process has exited
 *
 * The last thread to go tells the parent (SIGCHLD and a wakeup) and gives
 * the process's children to init. The process's wait status is that of
 * exit_group or the fatal signal that ended it, else the last thread's
 * exit status (as Linux 6.x; before 5.17 it was the leader's). */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/fs_struct.h>
#include <pagoda/futex.h>
#include <pagoda/mm.h>
#include <pagoda/panic.h>
#include <pagoda/power.h>
#include <pagoda/printk.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/uaccess.h>
#include <asm/x86.h>
#include "task_internal.h"

unsigned int tasks_dying; /* atomic: see task.h */

void task_wait_dying(void)
{
	uint64_t start = rdtsc(), limit = tsc_hz();

	while (atomic_load(&tasks_dying) && (!limit || rdtsc() - start < limit))
		schedule(); /* let the CPU that ran it switch away */
}

#define WUNTRACED 2
#define WCONTINUED 8
#define __WNOTHREAD 0x20000000

bool task_alone_in_group(const struct task *t)
{
	return READ_ONCE(t->signal->nr_threads) == 1 && t == t->group_leader;
}

/* Who adopts the orphans of leader's process, as Linux's
 * find_new_reaper(): the nearest ancestor process that made itself a
 * child subreaper (prctl(PR_SET_CHILD_SUBREAPER)) and has a thread left
 * (one with none left has handed its own children on already), else
 * init. */
static struct task *new_reaper_locked(struct task *leader)
{
	struct task *init = task_find_locked(1);

	assert_spin_locked(&tasklist_lock);
	for (struct task *p = leader->parent; p && p->tgid != 1; p = p->parent)
		if (p->signal->is_child_subreaper && p->signal->nr_threads > 0)
			return p;
	return init ? init->group_leader : NULL;
}

/* The process's children go to the new reaper: a subreaper or init. */
static void reparent_children_locked(struct task *leader)
{
	struct task *reaper = new_reaper_locked(leader);
	struct list_head *pos, *n;

	assert_spin_locked(&tasklist_lock);
	list_for_each_safe(pos, n, &leader->children) {
		struct task *c = list_entry(pos, struct task, sibling);
		list_del(&c->sibling);
		c->parent = reaper;
		if (reaper && reaper != leader)
			list_add_tail(&c->sibling, &reaper->children);
	}
	if (reaper)
		wake_up(&reaper->signal->child_exit);
}

static __attribute__((noreturn)) void init_exited(int status)
{
	int code = (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;

	pr_info("init: exited with %s %d; powering off\n",
		(status & 0x7f) ? "signal" : "status", (status & 0x7f) ? status & 0x7f : code);
	poweroff(code);
}

/* The process of leader has no thread left: its status is final; tell
 * its parent. */
static void notify_parent_locked(struct task *leader)
{
	struct signal_struct *sig = leader->signal;
	struct task *parent = leader->parent;
	struct ksiginfo chld = { .pid = leader->tgid };
	int status;
	uint64_t flags;

	assert_spin_locked(&tasklist_lock);
	lock_task_sighand(leader, &flags);
	status = sig->group_exit ? sig->group_exit_code : leader->exit_code;
	spin_unlock_irqrestore(&leader->sighand->lock, flags);
	leader->exit_code = status;
	reparent_children_locked(leader);
	if (!parent)
		return;
	chld.code = (status & 0x7f) ? CLD_KILLED : CLD_EXITED;
	chld.status = (status & 0x7f) ? status & 0x7f : (status >> 8) & 0xff;
	if (leader->exit_signal > 0)
		signal_send_process_locked(parent, leader->exit_signal, &chld, true);
	wake_up(&parent->signal->child_exit);
}

/* The tid word of the pthread (set_tid_address, CLONE_CHILD_CLEARTID)
 * becomes 0 and one waiter on it is woken: pthread_join() returns. */
static void exit_clear_child_tid(struct task *t)
{
	uint32_t zero = 0;

	if (!t->clear_child_tid || !t->mm)
		return;
	if (copy_to_user((void *)t->clear_child_tid, &zero, sizeof(zero)) == 0)
		futex_wake_address(t->clear_child_tid, 1);
	t->clear_child_tid = 0;
}

static __attribute__((noreturn)) void do_exit(int status)
{
	struct task *t = current;
	struct mm_struct *mm = t->mm;
	uint64_t flags;
	bool last;

	if (t->tgid == 1 && task_alone_in_group(t))
		init_exited(status);
	futex_exit_robust_list(t);
	exit_clear_child_tid(t);
	task_vfork_release(t);
	files_exit(t);
	fs_exit(t);
	task_set_exe_file(t, NULL);
	if (mm) {
		mm_switch(NULL);
		task_set_mm(t, NULL);
		mm_put(mm);
	}
	flags = spin_lock_irqsave(&tasklist_lock);
	last = --t->signal->nr_threads == 0;
	t->exit_code = status;
	if (t != t->group_leader) {
		list_del(&t->thread_node);
		list_del(&t->all_list);
	}
	/* Never queued again: schedule() below leaves for good. A zombie's
	 * parent, or for a dead thread the next task on this CPU
	 * (sched_finish_switch()), frees it once it is off this CPU. */
	WRITE_ONCE(t->state, t == t->group_leader ? TASK_ZOMBIE : TASK_DEAD);
	if (t != t->group_leader)
		atomic_inc(&tasks_dying);
	if (last) {
		/* As Linux 6.x (synchronize_group_exit()): a process whose
		 * threads all left by exit ends with the last one's status. */
		uint64_t irq;
		lock_task_sighand(t, &irq);
		if (!t->signal->group_exit) {
			t->signal->group_exit = true;
			t->signal->group_exit_code = status;
		}
		spin_unlock_irqrestore(&t->sighand->lock, irq);
		notify_parent_locked(t->group_leader);
	}
	wake_up(&t->signal->group_exit_wq);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	schedule();
	panic("task %d: ran again after its exit", t->pid);
}

void task_exit(int wait_status)
{
	do_exit(signal_group_exit(wait_status));
}

void thread_exit(int wait_status)
{
	do_exit(wait_status);
}

/* Does child c match wait4's pid and options? Linux's eligible_child(). */
static bool wait_matches_locked(const struct task *c, pid_t pid, int options)
{
	if (pid > 0 ? c->pid != pid :
	    pid == 0 ? c->signal->pgid != current->signal->pgid :
	    pid < -1 ? c->signal->pgid != -pid : false)
		return false;
	/* __WCLONE: only children that signal something else than SIGCHLD. */
	if (!(options & __WALL) && ((c->exit_signal != SIGCHLD) != !!(options & __WCLONE)))
		return false;
	return true;
}

/* Look for a child matching pid: a zombie whose threads have all
 * exited is unlinked and returned; else NULL, with *have_child saying
 * whether any child matched. */
static struct task *find_zombie_locked(pid_t pid, int options, bool *have_child)
{
	struct list_head *pos;

	assert_spin_locked(&tasklist_lock);
	*have_child = false;
	list_for_each(pos, &current->group_leader->children) {
		struct task *c = list_entry(pos, struct task, sibling);
		if (!wait_matches_locked(c, pid, options))
			continue;
		*have_child = true;
		if (READ_ONCE(c->state) == TASK_ZOMBIE && c->signal->nr_threads == 0) {
			list_del(&c->sibling);
			list_del(&c->all_list);
			list_del(&c->thread_node);
			return c;
		}
	}
	return NULL;
}

/* Free a zombie leader, unlinked already, once its last schedule() has
 * left its stack. */
static void release_zombie(struct task *c)
{
	sched_wait_off_cpu(c);
	task_put(c);
}

long task_wait(pid_t pid, int *status, int options)
{
	struct wait_queue_head *wq = &current->signal->child_exit;
	struct wait_entry w = { 0 };
	struct task *z = NULL;
	bool have_child;
	long ret;

	for (;;) {
		uint64_t flags;

		prepare_to_wait(wq, &w);
		flags = spin_lock_irqsave(&tasklist_lock);
		z = find_zombie_locked(pid, options, &have_child);
		spin_unlock_irqrestore(&tasklist_lock, flags);
		if (z || !have_child || (options & WNOHANG))
			break;
		if (task_pending_signals(current) & ~current->sig_blocked & ~SIGBIT(SIGCHLD))
			break;
		schedule();
	}
	finish_wait(wq, &w);
	if (z) {
		*status = z->exit_code;
		ret = z->pid;
		release_zombie(z);
		return ret;
	}
	if (!have_child)
		return -ECHILD;
	return (options & WNOHANG) ? 0 : -EINTR;
}

SYSCALL_DEFINE(SYS_wait4, wait4)
{
	int status = 0;
	long pid;

	if (ARG(2) & ~(uint64_t)(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
		return -EINVAL;
	pid = task_wait((pid_t)ARG(0), &status, (int)ARG(2));
	if (pid > 0 && ARG(1) && copy_to_user((void *)ARG(1), &status, sizeof(status)) < 0)
		return -EFAULT;
	if (pid > 0 && ARG(3) && clear_user((void *)ARG(3), 144 /* struct rusage */) < 0)
		return -EFAULT;
	return pid;
}

SYSCALL_DEFINE(SYS_exit, exit) { thread_exit(((int)ARG(0) & 0xff) << 8); }
SYSCALL_DEFINE(SYS_exit_group, exit_group) { task_exit(((int)ARG(0) & 0xff) << 8); }

/* ---- execve in a process of several threads ---- */

/* Have the other threads gone (and the leader too, if the caller is not
 * it: a zombie then)? */
static bool others_gone(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	bool gone = t->signal->nr_threads == 1 &&
		    (t == t->group_leader || READ_ONCE(t->group_leader->state) == TASK_ZOMBIE);

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return gone;
}

/* The caller, the last live thread, takes the place of the exited leader
 * old: its pid (the process's), parent, children and exit signal, as
 * Linux's exchange_tids() and the rest of de_thread() do. */
static void take_leader_place_locked(struct task *t, struct task *old)
{
	struct list_head *pos;
	pid_t tid = t->pid;

	assert_spin_locked(&tasklist_lock);
	t->pid = old->pid;
	old->pid = tid;
	t->parent = old->parent;
	t->exit_signal = old->exit_signal;
	old->exit_signal = -1;
	list_add(&t->sibling, &old->sibling);
	list_del(&old->sibling);
	list_init(&old->sibling);
	list_splice_init(&old->children, &t->children);
	list_for_each(pos, &t->children)
		list_entry(pos, struct task, sibling)->parent = t;
	t->group_leader = t;
	list_del(&old->thread_node);
	list_del(&old->all_list);
}

int exec_end_other_threads(void)
{
	struct task *t = current, *old = NULL;
	struct wait_entry w = { 0 };
	uint64_t flags;
	int err;

	if (task_alone_in_group(t))
		return 0;
	if ((err = signal_group_exec_begin()) < 0)
		return err;
	for (;;) {
		prepare_to_wait(&t->signal->group_exit_wq, &w);
		if (others_gone(t))
			break;
		if (task_pending_signals(t) & SIGBIT(SIGKILL)) {
			finish_wait(&t->signal->group_exit_wq, &w);
			return -EAGAIN; /* killed meanwhile: exec fails, the caller dies */
		}
		schedule();
	}
	finish_wait(&t->signal->group_exit_wq, &w);
	flags = spin_lock_irqsave(&tasklist_lock);
	if (t != t->group_leader) {
		old = t->group_leader;
		take_leader_place_locked(t, old);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	signal_group_exec_end();
	if (old)
		release_zombie(old);
	return 0;
}
