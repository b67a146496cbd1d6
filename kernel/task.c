/* Tasks: creation, fork, exit and wait, and the first process.
 *
 * tasklist_lock guards task_list, next_pid, and every task's parent,
 * children and sibling links. The timer interrupt takes it (timed
 * sleepers), so it is always taken with interrupts off; under it only a
 * run-queue lock (a wakeup) or a wait queue's may be taken. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/exec.h>
#include <pagoda/fdtable.h>
#include <pagoda/kstack.h>
#include <pagoda/mm.h>
#include <pagoda/power.h>
#include <pagoda/panic.h>
#include <pagoda/printk.h>
#include <pagoda/ratelimit.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

#define CALLEE_SAVED 6 /* what context_switch() pops: rbp rbx r12-r15 */

extern char ret_from_fork[]; /* arch/x86/switch.asm */

DEFINE_SPINLOCK(tasklist_lock);
LIST_HEAD(task_list); /* every task but the idle ones; under tasklist_lock */
static pid_t next_pid = 1; /* under tasklist_lock */

void task_init_fields(struct task *t, pid_t pid)
{
	memset(t, 0, sizeof(*t));
	t->pid = t->tgid = pid;
	t->refs = 1; /* the parent's, dropped when it reaps the task */
	t->cpus_allowed = ~0ULL;
	wait_queue_init(&t->child_exit, "task.child_exit");
	spin_lock_init(&t->sig_lock, "task.sig_lock");
	list_init(&t->children);
	list_init(&t->sibling);
	list_init(&t->run_list);
	list_init(&t->all_list);
}

static struct task *task_alloc(void)
{
	struct task *t = kmalloc(sizeof(*t), GFP_KERNEL);
	uint64_t flags;
	pid_t pid;

	if (!t)
		return NULL;
	flags = spin_lock_irqsave(&tasklist_lock);
	pid = next_pid++;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	task_init_fields(t, pid);
	t->kstack_top = kstack_alloc();
	if (!t->kstack_top) {
		kfree(t);
		return NULL;
	}
	return t;
}

void task_set_exe_file(struct task *t, struct file *f)
{
	struct file *old = t->exe_file;

	if (f)
		file_get(f);
	t->exe_file = f;
	if (old) {
		allow_write_access(old);
		file_put(old);
	}
}

static void task_free(struct task *t)
{
	kstack_free(t->kstack_top);
	kfree(t);
}

void task_get(struct task *t)
{
	atomic_inc(&t->refs);
}

void task_put(struct task *t)
{
	if (atomic_sub_return(&t->refs, 1) == 0)
		task_free(t);
}

struct task *task_get_pid(pid_t pid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find_locked(pid);

	if (t)
		task_get(t);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return t;
}

struct mm_struct *task_get_mm(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct mm_struct *mm = t->mm;

	if (mm)
		mm_get(mm);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return mm;
}

void task_set_mm(struct task *t, struct mm_struct *mm)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	t->mm = mm;
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

bool task_exists(pid_t pid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	bool found = task_find_locked(pid) != NULL;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return found;
}

/* Lay out a new task's kernel stack so that its first context_switch()
 * returns into ret_from_fork, which lets go of the run-queue lock and goes
 * on into trap_return with tf on the stack: into user mode. */
static void task_setup_stack(struct task *t, const struct trap_frame *tf)
{
	struct trap_frame *frame = (void *)(t->kstack_top - sizeof(*frame));
	uint64_t *sp = (uint64_t *)frame;

	*frame = *tf;
	*--sp = (uintptr_t)ret_from_fork;
	for (int i = 0; i < CALLEE_SAVED; i++)
		*--sp = 0;
	t->saved_rsp = (uintptr_t)sp;
}

static void task_link(struct task *t, struct task *parent)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	t->parent = parent;
	if (parent)
		list_add_tail(&t->sibling, &parent->children);
	list_add_tail(&t->all_list, &task_list);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	sched_add_new(t);
}

struct task *task_find_locked(pid_t pid)
{
	struct list_head *pos;

	assert_spin_locked(&tasklist_lock);
	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (t->pid == pid)
			return t;
	}
	return NULL;
}

struct task *task_fork(struct trap_frame *tf)
{
	struct task *c = task_alloc();
	struct trap_frame child_tf = *tf;

	if (!c)
		return NULL;
	if (current->mm && !(c->mm = mm_fork(current->mm)))
		goto fail;
	if (files_dup_all(c, current) < 0) {
		mm_destroy(c->mm);
		goto fail;
	}
	memcpy(c->comm, current->comm, sizeof(c->comm));
	memcpy(c->cwd, current->cwd, sizeof(c->cwd));
	memcpy(c->groups, current->groups, sizeof(c->groups));
	c->ngroups = current->ngroups;
	memcpy(c->exe, current->exe, sizeof(c->exe));
	if (current->exe_file && deny_write_access(current->exe_file) == 0)
		task_set_exe_file(c, current->exe_file); /* denied already: cannot fail */
	memcpy(c->sig_actions, current->sig_actions, sizeof(c->sig_actions));
	c->sig_blocked = current->sig_blocked;
	c->sas_ss_sp = current->sas_ss_sp;
	c->sas_ss_size = current->sas_ss_size;
	c->sas_ss_flags = current->sas_ss_flags;
	c->pgid = current->pgid;
	c->sid = current->sid;
	c->fs_base = rdmsr(MSR_FS_BASE);
	c->cpus_allowed = current->cpus_allowed;
	fpu_save(c); /* the parent's live registers, as the child's start */
	child_tf.rax = 0; /* fork() returns 0 in the child */
	task_setup_stack(c, &child_tf);
	task_link(c, current);
	return c;
fail:
	task_free(c);
	return NULL;
}

/* Children of an exiting task go to init, as on Linux (no subreapers). */
static void reparent_children_locked(struct task *t)
{
	struct task *init = task_find_locked(1);
	struct list_head *pos, *n;

	list_for_each_safe(pos, n, &t->children) {
		struct task *c = list_entry(pos, struct task, sibling);
		list_del(&c->sibling);
		c->parent = init;
		if (init && init != t)
			list_add_tail(&c->sibling, &init->children);
	}
	if (init)
		wake_up(&init->child_exit);
}

static __attribute__((noreturn)) void init_exited(int status)
{
	int code = (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;

	pr_info("init: exited with %s %d; powering off\n",
		(status & 0x7f) ? "signal" : "status", (status & 0x7f) ? status & 0x7f : code);
	poweroff(code);
}

void task_exit(int wait_status)
{
	struct task *t = current;
	struct ksiginfo chld = { .pid = t->tgid };
	uint64_t flags;

	chld.code = (wait_status & 0x7f) ? CLD_KILLED : CLD_EXITED;
	chld.status = (wait_status & 0x7f) ? wait_status & 0x7f : (wait_status >> 8) & 0xff;

	if (t->pid == 1)
		init_exited(wait_status);
	files_close_all(t);
	task_set_exe_file(t, NULL);
	if (t->mm) {
		struct mm_struct *mm = t->mm;
		mm_switch(NULL);
		task_set_mm(t, NULL);
		mm_put(mm);
	}
	flags = spin_lock_irqsave(&tasklist_lock);
	reparent_children_locked(t);
	t->exit_code = wait_status;
	/* A zombie is never queued again: schedule() below leaves for good,
	 * and the parent frees the stack once it is off this CPU. */
	WRITE_ONCE(t->state, TASK_ZOMBIE);
	if (t->parent) {
		signal_send(t->parent, SIGCHLD, &chld, true);
		wake_up(&t->parent->child_exit);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	schedule();
	panic("task %d: a zombie ran again", t->pid);
}

/* Reap the zombie child c, unlinked already: its memory, once its last
 * schedule() has left its stack. */
static void reap(struct task *c)
{
	sched_wait_off_cpu(c);
	task_put(c);
}

/* Look for a child matching pid: a zombie is unlinked and returned; else
 * NULL, with *have_child saying whether any child matched. */
static struct task *find_zombie_locked(pid_t pid, bool *have_child)
{
	struct list_head *pos;

	assert_spin_locked(&tasklist_lock);
	*have_child = false;
	list_for_each(pos, &current->children) {
		struct task *c = list_entry(pos, struct task, sibling);
		if (pid > 0 && c->pid != pid)
			continue;
		*have_child = true;
		if (READ_ONCE(c->state) == TASK_ZOMBIE) {
			list_del(&c->sibling);
			list_del(&c->all_list);
			return c;
		}
	}
	return NULL;
}

long task_wait(pid_t pid, int *status, int options)
{
	struct wait_entry w = { 0 };
	struct task *z = NULL;
	bool have_child;
	long ret;

	for (;;) {
		uint64_t flags;

		prepare_to_wait(&current->child_exit, &w);
		flags = spin_lock_irqsave(&tasklist_lock);
		z = find_zombie_locked(pid, &have_child);
		spin_unlock_irqrestore(&tasklist_lock, flags);
		if (z || !have_child || (options & WNOHANG))
			break;
		if (current->sig_pending & ~current->sig_blocked & ~(1ULL << (SIGCHLD - 1)))
			break;
		schedule();
	}
	finish_wait(&current->child_exit, &w);
	if (z) {
		*status = z->exit_code;
		ret = z->pid;
		reap(z);
		return ret;
	}
	if (!have_child)
		return -ECHILD;
	return (options & WNOHANG) ? 0 : -EINTR;
}

void task_wake_timeouts(uint64_t now)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct list_head *pos;

	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		uint64_t when = READ_ONCE(t->wake_tick);
		if (when && when <= now && READ_ONCE(t->state) == TASK_SLEEPING)
			sched_wake(t);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

int task_sleep_until(uint64_t tick)
{
	int ret = 0;

	WRITE_ONCE(current->wake_tick, tick);
	for (;;) {
		sched_set_sleeping(current);
		if (timer_ticks() >= tick)
			break;
		if (current->sig_pending & ~current->sig_blocked) {
			ret = -EINTR;
			break;
		}
		schedule();
	}
	sched_set_running(current);
	WRITE_ONCE(current->wake_tick, 0);
	return ret;
}

static int open_console_fds(struct task *t)
{
	for (int fd = 0; fd < 3; fd++) {
		int err = 0;
		struct file *f = vfs_open("/", "/dev/console", O_RDWR, 0, &err);
		if (!f)
			return err;
		if (fd_install(t, f) != fd) {
			file_put(f);
			return -EBADF;
		}
	}
	return 0;
}

int task_start_init(const char *path, const char *const argv[], const char *const envp[])
{
	struct trap_frame tf = { 0 };
	struct task *t = task_alloc(), *prev = current;
	uint64_t flags;
	int ret;

	if (!t)
		return -ENOMEM;
	strlcpy(t->cwd, "/", sizeof(t->cwd));
	fpu_init_state(t);
	if ((ret = open_console_fds(t)) < 0)
		goto fail;
	/* exec_load() works on current's behalf: be init while it runs. */
	current = t;
	ret = exec_load(t, path, argv, envp, &tf);
	current = prev;
	mm_switch(NULL);
	if (ret < 0)
		goto fail;
	task_setup_stack(t, &tf);
	task_link(t, NULL);
	return 0;
fail:
	files_close_all(t);
	task_free(t);
	flags = spin_lock_irqsave(&tasklist_lock);
	next_pid = 1;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

static void describe_vma(struct mm_struct *mm, uintptr_t addr, char *buf, size_t size)
{
	struct vm_area_struct *v = mm ? vma_lookup(mm, addr) : NULL;

	if (!v) {
		snprintf(buf, size, "no VMA");
		return;
	}
	snprintf(buf, size, "VMA %lx-%lx %c%c%c%c", v->vm_start, v->vm_end,
		 v->vm_flags & VM_READ ? 'r' : '-', v->vm_flags & VM_WRITE ? 'w' : '-',
		 v->vm_flags & VM_EXEC ? 'x' : '-', v->vm_flags & VM_SHARED ? 's' : 'p');
}

void task_fault_kill(struct trap_frame *tf, int sig, uintptr_t addr)
{
	static RATELIMIT_STATE(fault_rs, "task_fault_kill"); /* Linux's show_signal_msg() */
	char where[96];

	if (!ratelimit(&fault_rs))
		task_exit(sig);
	describe_vma(current->mm, addr, where, sizeof(where));
	printk(KERN_ERR "%s[%d]: killed by signal %d: fault at %#lx, rip %#lx, %s\n",
	       current->comm, current->pid, sig, addr, tf->rip, where);
	task_exit(sig);
}

void return_to_user_work(struct trap_frame *tf)
{
	if ((tf->cs & 3) != 3)
		return;
	if (sched_need_resched())
		schedule();
	signal_deliver(tf);
}
