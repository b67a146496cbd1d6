/* Making tasks: fork, vfork, clone and clone3 (Linux's kernel/fork.c).
 *
 * One function, task_clone(), makes every new task. The flags say which
 * of the parent's parts the child shares and which it gets a copy of:
 *
 *   part            shared with            copied (fork)
 *   address space   CLONE_VM               mm_fork(): copy-on-write
 *   fd table        CLONE_FILES            files_dup(): same open files
 *   cwd             CLONE_FS               fs_copy()
 *   handlers        CLONE_SIGHAND          the actions, copied
 *   process         CLONE_THREAD           a new process (new signal_struct)
 *
 * musl's and glibc's pthread_create share all five; fork shares none.
 * The child starts in ret_from_fork with a copy of the parent's trap
 * frame, returning 0; CLONE_SETTLS gives it its own FS base (the thread
 * pointer), a stack argument its own stack. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/fs_struct.h>
#include <pagoda/mm.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <pagoda/wait.h>
#include <asm/x86.h>
#include "task_internal.h"

/* Linux's include/uapi/linux/sched.h. */
#define CSIGNAL 0x000000ffULL
#define CLONE_VM 0x00000100ULL
#define CLONE_FS 0x00000200ULL
#define CLONE_FILES 0x00000400ULL
#define CLONE_SIGHAND 0x00000800ULL
#define CLONE_PIDFD 0x00001000ULL
#define CLONE_PTRACE 0x00002000ULL
#define CLONE_VFORK 0x00004000ULL
#define CLONE_PARENT 0x00008000ULL
#define CLONE_THREAD 0x00010000ULL
#define CLONE_NEWNS 0x00020000ULL
#define CLONE_SYSVSEM 0x00040000ULL
#define CLONE_SETTLS 0x00080000ULL
#define CLONE_PARENT_SETTID 0x00100000ULL
#define CLONE_CHILD_CLEARTID 0x00200000ULL
#define CLONE_DETACHED 0x00400000ULL
#define CLONE_UNTRACED 0x00800000ULL
#define CLONE_CHILD_SETTID 0x01000000ULL
#define CLONE_NEWCGROUP 0x02000000ULL
#define CLONE_NEWUTS 0x04000000ULL
#define CLONE_NEWIPC 0x08000000ULL
#define CLONE_NEWUSER 0x10000000ULL
#define CLONE_NEWPID 0x20000000ULL
#define CLONE_NEWNET 0x40000000ULL
#define CLONE_IO 0x80000000ULL
#define CLONE_NEWTIME 0x00000080ULL        /* clone3 only (a CSIGNAL bit) */
#define CLONE_CLEAR_SIGHAND 0x100000000ULL /* clone3 only */
#define CLONE_INTO_CGROUP 0x200000000ULL   /* clone3 only */
#define CLONE_LEGACY_FLAGS 0xffffffffULL
#define CLONE_NEW_ANY (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
		       CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)

/* clone3's struct clone_args: the three sizes Linux has known. */
#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER2 88
#define MAX_PID_NS_LEVEL 32
struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/* CLONE_VFORK parents sleep here until their child lets them go. */
static DEFINE_WAIT_QUEUE(vfork_wq);

/* The combinations Linux's copy_process() refuses, and what Pagoda does
 * not have: namespaces, pidfds and cgroups (Linux built without them
 * says EINVAL too). CLONE_SYSVSEM, CLONE_IO, CLONE_PTRACE, CLONE_UNTRACED
 * and CLONE_DETACHED ask for nothing Pagoda keeps: accepted. */
static int clone_check_flags(uint64_t flags)
{
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) == (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND))
		return -EINVAL;
	/* init's process may not have a sibling (it would have no parent). */
	if ((flags & CLONE_PARENT) && current->tgid == 1)
		return -EINVAL;
	if (flags & (CLONE_NEW_ANY | CLONE_PIDFD | CLONE_INTO_CGROUP))
		return -EINVAL;
	return 0;
}

/* The parts of c that the flags say to share with the current task or
 * copy from it: 0 or -ENOMEM (task_free_parts() undoes what was done). */
static int clone_parts(struct task *c, uint64_t flags)
{
	struct task *p = current;

	if ((flags & CLONE_VM) && p->mm) {
		mm_get(p->mm);
		c->mm = p->mm;
	} else if (p->mm && !(c->mm = mm_fork(p->mm))) {
		return -ENOMEM;
	}
	if (flags & CLONE_FILES) {
		files_get(p->files);
		c->files = p->files;
	} else if (!(c->files = files_dup(p->files))) {
		return -ENOMEM;
	}
	if (flags & CLONE_FS) {
		fs_get(p->fs);
		c->fs = p->fs;
	} else if (!(c->fs = fs_copy(p->fs))) {
		return -ENOMEM;
	}
	return 0;
}

static void clone_parts_undo(struct task *c)
{
	files_exit(c);
	fs_exit(c);
	if (c->mm)
		mm_put(c->mm);
	c->mm = NULL;
}

/* The handlers: the parent's own (CLONE_SIGHAND), or a copy of them in
 * c's fresh table (with CLONE_CLEAR_SIGHAND, caught ones back to the
 * default, as exec does). */
static void clone_sighand(struct task *c, uint64_t flags)
{
	struct sighand_struct *mine;
	uint64_t irq;

	if (flags & CLONE_SIGHAND) {
		kfree(c->sighand);
		atomic_inc(&current->sighand->refs);
		c->sighand = current->sighand;
		return;
	}
	mine = lock_task_sighand(current, &irq);
	memcpy(c->sighand->action, mine->action, sizeof(mine->action));
	spin_unlock_irqrestore(&mine->lock, irq);
	if (flags & CLONE_CLEAR_SIGHAND)
		for (int i = 0; i < NSIG; i++)
			if (c->sighand->action[i].handler != SIG_IGN)
				c->sighand->action[i] = (struct k_sigaction){ 0 };
}

/* The per-thread state a child starts with: the parent's, but for the
 * stack, the TLS pointer and the tid words the arguments give. */
static void clone_thread_state(struct task *c, const struct clone_args_k *a)
{
	struct task *p = current;

	memcpy(c->comm, p->comm, sizeof(c->comm));
	memcpy(c->exe, p->exe, sizeof(c->exe));
	if (p->exe_file && deny_write_access(p->exe_file) == 0)
		task_set_exe_file(c, p->exe_file); /* denied already: cannot fail */
	c->sig_blocked = p->sig_blocked;
	/* A thread on a stack of its own does not inherit the alternate
	 * signal stack (Linux: CLONE_VM without CLONE_VFORK). */
	if ((a->flags & (CLONE_VM | CLONE_VFORK)) != CLONE_VM) {
		c->sas_ss_sp = p->sas_ss_sp;
		c->sas_ss_size = p->sas_ss_size;
		c->sas_ss_flags = p->sas_ss_flags;
	}
	c->fs_base = (a->flags & CLONE_SETTLS) ? a->tls : rdmsr(MSR_FS_BASE);
	c->cpus_allowed = p->cpus_allowed;
	c->set_child_tid = (a->flags & CLONE_CHILD_SETTID) ? a->child_tid : 0;
	c->clear_child_tid = (a->flags & CLONE_CHILD_CLEARTID) ? a->child_tid : 0;
	fpu_save(c); /* the parent's live registers, as the child's start */
}

/* Is p's process ending (exit_group, a fatal signal, an exec ending the
 * others)? Under sighand->lock, which the group exit takes to say so. */
static bool process_dying(struct task *p)
{
	uint64_t irq;
	bool dying;

	lock_task_sighand(p, &irq);
	dying = p->signal->group_exit || fatal_signal_pending(p);
	spin_unlock_irqrestore(&p->sighand->lock, irq);
	return dying;
}

/* Make c a thread of the current process (CLONE_THREAD) or a process of
 * its own, and link it in. 0, or -EINTR if the process is being killed
 * (nothing linked). A process linked after that check whose parent is
 * killed next is an orphan like any other: its parent's last thread,
 * which is still this one, hands it on when it exits. */
static int clone_link(struct task *c, uint64_t flags, int exit_signal)
{
	struct task *p = current;
	uint64_t irq;
	int ret = 0;

	if (!(flags & CLONE_THREAD)) {
		c->parent = (flags & CLONE_PARENT) ? p->group_leader->parent : p->group_leader;
		c->exit_signal = (flags & CLONE_PARENT) ? p->group_leader->exit_signal : exit_signal;
		irq = spin_lock_irqsave(&tasklist_lock);
		/* As Linux's copy_process(): a process being killed makes no
		 * child (it would be orphaned at birth; the caller never sees
		 * the error, as it dies). */
		if (process_dying(p))
			ret = -EINTR;
		c->signal->pgid = p->signal->pgid;
		c->signal->sid = p->signal->sid;
		memcpy(c->signal->groups, p->signal->groups, sizeof(p->signal->groups));
		c->signal->ngroups = p->signal->ngroups;
		spin_unlock_irqrestore(&tasklist_lock, irq);
		if (ret == 0)
			task_link(c);
		return ret;
	}
	/* A thread: the fresh signal_struct task_alloc() gave goes. */
	list_del(&c->thread_node);
	kfree(c->signal);
	atomic_inc(&p->signal->refs);
	c->signal = p->signal;
	c->tgid = p->tgid;
	c->exit_signal = -1;
	irq = spin_lock_irqsave(&tasklist_lock);
	if (process_dying(p)) {
		ret = -EINTR; /* the process is ending: no new thread in it */
	} else {
		c->group_leader = p->group_leader;
		c->parent = p->group_leader->parent;
		list_add_tail(&c->thread_node, &p->signal->threads);
		p->signal->nr_threads++;
	}
	spin_unlock_irqrestore(&tasklist_lock, irq);
	if (ret == 0)
		task_link(c);
	return ret;
}

/* CLONE_VFORK: sleep until the child has exec'd or exited. */
static void vfork_wait(struct task *c)
{
	wait_event(&vfork_wq, READ_ONCE(c->vfork_done));
	task_put(c);
}

void task_vfork_release(struct task *t)
{
	if (!t->vfork_parent)
		return;
	t->vfork_parent = NULL;
	WRITE_ONCE(t->vfork_done, true);
	wake_up(&vfork_wq);
}

long task_clone(struct trap_frame *tf, const struct clone_args_k *a)
{
	struct trap_frame child_tf = *tf;
	struct task *c;
	pid_t pid;
	int err = clone_check_flags(a->flags);

	if (err)
		return err;
	if (!(c = task_alloc(a->set_tid, &err)))
		return err;
	if ((err = clone_parts(c, a->flags)) < 0) {
		clone_parts_undo(c);
		task_free(c);
		return err;
	}
	clone_sighand(c, a->flags);
	clone_thread_state(c, a);
	if (a->stack)
		child_tf.rsp = a->stack;
	child_tf.rax = 0; /* clone() returns 0 in the child */
	task_setup_stack(c, &child_tf);
	pid = c->pid; /* a thread may be gone by the time clone returns */
	if (a->flags & CLONE_PARENT_SETTID)
		copy_to_user((void *)a->parent_tid, &pid, sizeof(pid)); /* Linux ignores a fault */
	if (a->flags & CLONE_VFORK) {
		c->vfork_parent = current;
		task_get(c);
	}
	if ((err = clone_link(c, a->flags, a->exit_signal)) < 0) {
		clone_parts_undo(c);
		task_set_exe_file(c, NULL);
		task_free(c);
		return err;
	}
	if (a->flags & CLONE_VFORK)
		vfork_wait(c);
	return pid;
}

/* The first time a new task runs, before it enters user mode: its tid
 * goes where CLONE_CHILD_SETTID said, in its own address space. The
 * store may fault a page in, so it runs with interrupts on. */
void task_ret_from_fork(void)
{
	pid_t tid = current->pid;

	if (!current->set_child_tid)
		return;
	sti();
	copy_to_user((void *)current->set_child_tid, &tid, sizeof(tid)); /* as Linux: no error */
	cli();
}

SYSCALL_DEFINE(SYS_fork, fork)
{
	struct clone_args_k a = { .exit_signal = SIGCHLD };

	return task_clone(args->tf, &a);
}

/* vfork shares the address space and the parent sleeps until the child
 * execs or exits (musl's vfork keeps its return address in a register,
 * as the child overwrites the shared stack). */
SYSCALL_DEFINE(SYS_vfork, vfork)
{
	struct clone_args_k a = { .flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD };

	return task_clone(args->tf, &a);
}

/* clone(flags, stack, parent_tid, child_tid, tls): the x86-64 order. */
SYSCALL_DEFINE(SYS_clone, clone)
{
	struct clone_args_k a = {
		.flags = ARG(0) & ~CSIGNAL & CLONE_LEGACY_FLAGS,
		.exit_signal = (int)(ARG(0) & CSIGNAL),
		.stack = ARG(1),
		.parent_tid = ARG(2),
		.child_tid = ARG(3),
		.tls = ARG(4),
	};

	if ((a.flags & CLONE_PIDFD) && (a.flags & CLONE_PARENT_SETTID))
		return -EINVAL; /* they would share the parent_tid word */
	return task_clone(args->tf, &a);
}

/* clone3's argument, checked as Linux's copy_clone_args_from_user() and
 * clone3_args_valid() check it. */
static long clone3_args(const void *uargs, size_t size, struct clone_args_k *a)
{
	struct clone_args ca = { 0 };
	uint8_t tail;

	if (size > PAGE_SIZE)
		return -E2BIG;
	if (size < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	if (copy_from_user(&ca, uargs, size < sizeof(ca) ? size : sizeof(ca)) < 0)
		return -EFAULT;
	for (size_t i = sizeof(ca); i < size; i++) { /* a newer struct: unknown fields must be 0 */
		if (copy_from_user(&tail, (const uint8_t *)uargs + i, 1) < 0)
			return -EFAULT;
		if (tail)
			return -E2BIG;
	}
	if (ca.set_tid_size > MAX_PID_NS_LEVEL || (!ca.set_tid && ca.set_tid_size) ||
	    (ca.set_tid && !ca.set_tid_size) || (ca.exit_signal & ~CSIGNAL) || ca.exit_signal > NSIG)
		return -EINVAL;
	if (ca.flags & ~(CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP))
		return -EINVAL;
	if (ca.flags & (CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME)))
		return -EINVAL;
	if ((ca.flags & (CLONE_THREAD | CLONE_PARENT)) && ca.exit_signal)
		return -EINVAL;
	if ((!ca.stack && ca.stack_size) || (ca.stack && !ca.stack_size) ||
	    (ca.stack && !access_ok((void *)ca.stack, ca.stack_size)))
		return -EINVAL;
	if (ca.set_tid_size > 1)
		return -EINVAL; /* one pid namespace: one pid to choose */
	if (ca.set_tid) {
		int32_t tid;
		if (copy_from_user(&tid, (const void *)ca.set_tid, sizeof(tid)) < 0)
			return -EFAULT;
		if (tid <= 0)
			return -EINVAL;
		a->set_tid = tid;
	}
	a->flags = ca.flags;
	a->exit_signal = (int)ca.exit_signal;
	a->stack = ca.stack ? ca.stack + ca.stack_size : 0; /* x86 stacks grow down */
	a->tls = ca.tls;
	a->parent_tid = ca.parent_tid;
	a->child_tid = ca.child_tid;
	return 0;
}

SYSCALL_DEFINE(435 /* SYS_clone3 */, clone3)
{
	struct clone_args_k a = { 0 };
	long err = clone3_args((const void *)ARG(0), ARG(1), &a);

	return err ? err : task_clone(args->tf, &a);
}
