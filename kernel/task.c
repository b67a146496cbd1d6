/* Tasks: creation and lookup, timed sleeps, and the first process
 * (kernel/fork.c makes the others, kernel/exit.c ends them).
 *
 * tasklist_lock guards task_list, the pids, every task's parent,
 * children, sibling and group_leader links, every process's thread list
 * and count, group and session, and the shared-part pointers (mm, files,
 * fs) when another task reads them. The timer interrupt takes it (timed
 * sleepers), so it is always taken with interrupts off; under it only a
 * sighand lock, a run-queue lock (a wakeup), a wait queue's or an
 * fs_struct's may be taken. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/exec.h>
#include <pagoda/fdtable.h>
#include <pagoda/fs_struct.h>
#include <pagoda/kstack.h>
#include <pagoda/mm.h>
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
#include "task_internal.h"

#define CALLEE_SAVED 6 /* what context_switch() pops: rbp rbx r12-r15 */
#define PID_MAX 4194304 /* Linux's pid_max on 64-bit machines */

extern char ret_from_fork[]; /* arch/x86/switch.asm */

DEFINE_SPINLOCK(tasklist_lock);
LIST_HEAD(task_list); /* every task but the idle ones; under tasklist_lock */
static pid_t next_pid = 1; /* under tasklist_lock */

static struct lock_class sighand_lock_class = { "sighand.lock", 0 };

/* The idle tasks' process and handlers (never freed). */
struct signal_struct init_signal;
struct sighand_struct init_sighand = { .refs = 1, .lock = __SPINLOCK_INIT(sighand_lock_class) };

static void signal_init(struct signal_struct *sig)
{
	memset(sig, 0, sizeof(*sig));
	sig->refs = 1;
	list_init(&sig->threads);
	wait_queue_init(&sig->child_exit, "signal.child_exit");
	wait_queue_init(&sig->group_exit_wq, "signal.group_exit_wq");
}

static void sighand_init(struct sighand_struct *sh)
{
	memset(sh, 0, sizeof(*sh));
	sh->refs = 1;
	__spin_lock_init(&sh->lock, &sighand_lock_class);
}

void task_init_fields(struct task *t, pid_t pid, struct signal_struct *signal,
		      struct sighand_struct *sighand)
{
	memset(t, 0, sizeof(*t));
	t->pid = t->tgid = pid;
	t->refs = 1; /* the parent's, dropped when it reaps the task */
	t->cpus_allowed = ~0ULL;
	t->exit_signal = SIGCHLD;
	t->group_leader = t;
	list_init(&t->children);
	list_init(&t->sibling);
	list_init(&t->run_list);
	list_init(&t->all_list);
	list_init(&t->thread_node);
	signal_init(signal);
	sighand_init(sighand);
	t->signal = signal;
	t->sighand = sighand;
	list_add_tail(&t->thread_node, &signal->threads);
	signal->nr_threads = 1;
}

void task_standin_init(struct task_standin *s, pid_t pid)
{
	task_init_fields(&s->task, pid, &s->signal, &s->sighand);
	s->signal.refs = s->sighand.refs = 2; /* the stand-in's own: never freed */
}

/* Is pid free: no task has it as its pid, nor a process as its group? */
static bool pid_free_locked(pid_t pid)
{
	struct list_head *pos;

	assert_spin_locked(&tasklist_lock);
	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (t->pid == pid || t->tgid == pid || t->signal->pgid == pid || t->signal->sid == pid)
			return false;
	}
	return true;
}

pid_t task_alloc_pid(void)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	pid_t pid;

	do {
		pid = next_pid++;
		if (next_pid >= PID_MAX)
			next_pid = 300; /* Linux's RESERVED_PIDS: wrap past the daemons */
	} while (!pid_free_locked(pid));
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return pid;
}

struct task *task_alloc(pid_t set_tid, int *err)
{
	struct task *t = kmalloc(sizeof(*t), GFP_KERNEL);
	struct signal_struct *sig = kmalloc(sizeof(*sig), GFP_KERNEL);
	struct sighand_struct *sh = kmalloc(sizeof(*sh), GFP_KERNEL);
	uintptr_t kstack = kstack_alloc();
	pid_t pid = set_tid;

	*err = -ENOMEM;
	if (!t || !sig || !sh || !kstack)
		goto fail;
	if (set_tid) {
		uint64_t flags = spin_lock_irqsave(&tasklist_lock);
		bool free = pid_free_locked(set_tid);
		spin_unlock_irqrestore(&tasklist_lock, flags);
		*err = -EEXIST;
		if (!free)
			goto fail;
	} else {
		pid = task_alloc_pid();
	}
	task_init_fields(t, pid, sig, sh);
	t->kstack_top = kstack;
	return t;
fail:
	if (kstack)
		kstack_free(kstack);
	kfree(sh);
	kfree(sig);
	kfree(t);
	return NULL;
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

void task_free(struct task *t)
{
	if (atomic_sub_return(&t->signal->refs, 1) == 0)
		kfree(t->signal);
	if (atomic_sub_return(&t->sighand->refs, 1) == 0)
		kfree(t->sighand);
	if (t->sighand_retired && atomic_sub_return(&t->sighand_retired->refs, 1) == 0)
		kfree(t->sighand_retired);
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
void task_setup_stack(struct task *t, const struct trap_frame *tf)
{
	struct trap_frame *frame = (void *)(t->kstack_top - sizeof(*frame));
	uint64_t *sp = (uint64_t *)frame;

	*frame = *tf;
	*--sp = (uintptr_t)ret_from_fork;
	for (int i = 0; i < CALLEE_SAVED; i++)
		*--sp = 0;
	t->saved_rsp = (uintptr_t)sp;
}

void task_link(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	if (t->parent && t == t->group_leader)
		list_add_tail(&t->sibling, &t->parent->children);
	list_add_tail(&t->all_list, &task_list);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	sched_add_new(t);
}

pid_t task_ppid(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *p = t->group_leader->parent;
	pid_t ppid = p ? p->tgid : 0;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ppid;
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

void task_wake_timeouts(void)
{
	uint64_t now = clock_monotonic_ns();
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct list_head *pos;

	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		uint64_t when = READ_ONCE(t->wake_ns);
		if (when && when <= now && READ_ONCE(t->state) == TASK_SLEEPING)
			sched_wake(t);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

int task_sleep_until_ns(uint64_t deadline)
{
	int ret = 0;

	WRITE_ONCE(current->wake_ns, deadline);
	for (;;) {
		sched_set_sleeping(current);
		if (clock_monotonic_ns() >= deadline)
			break;
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		schedule();
	}
	sched_set_running(current);
	WRITE_ONCE(current->wake_ns, 0);
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
	struct task *prev = current, *t;
	uint64_t flags;
	int ret;

	if (!(t = task_alloc(0, &ret)))
		return ret;
	t->files = files_alloc();
	t->fs = fs_alloc("/");
	ret = -ENOMEM;
	if (!t->files || !t->fs)
		goto fail;
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
	task_link(t);
	return 0;
fail:
	files_exit(t);
	fs_exit(t);
	task_free(t);
	flags = spin_lock_irqsave(&tasklist_lock);
	next_pid = 1;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

static void describe_vma(struct mm_struct *mm, uintptr_t addr, char *buf, size_t size)
{
	struct vm_area_struct *v;

	if (!mm) {
		snprintf(buf, size, "no VMA");
		return;
	}
	down_read(&mm->mmap_lock); /* another thread may be changing the map */
	v = vma_lookup(mm, addr);
	if (!v)
		snprintf(buf, size, "no VMA");
	else
		snprintf(buf, size, "VMA %lx-%lx %c%c%c%c", v->vm_start, v->vm_end,
			 v->vm_flags & VM_READ ? 'r' : '-', v->vm_flags & VM_WRITE ? 'w' : '-',
			 v->vm_flags & VM_EXEC ? 'x' : '-', v->vm_flags & VM_SHARED ? 's' : 'p');
	up_read(&mm->mmap_lock);
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
