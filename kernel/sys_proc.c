/* Process system calls: fork and friends, exit, wait4, ids, TLS, sleep. */
#include <pagoda/errno.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/uaccess.h>
#include <asm/x86.h>

#define CLONE_VM 0x00000100
#define CLONE_FS 0x00000200
#define CLONE_FILES 0x00000400
#define CLONE_SIGHAND 0x00000800
#define CLONE_VFORK 0x00004000
#define CLONE_THREAD 0x00010000
#define CLONE_PARENT_SETTID 0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_CHILD_SETTID 0x01000000
#define CSIGNAL 0x000000ff
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define NSEC_PER_SEC 1000000000ULL

static long do_fork(struct trap_frame *tf)
{
	struct task *c = task_fork(tf);

	return c ? c->pid : -ENOMEM;
}

SYSCALL_DEFINE(SYS_fork, fork) { return do_fork(args->tf); }

/* vfork shares memory with the parent until exec or exit; a copy (with
 * copy-on-write) gives the same results for correct programs. */
SYSCALL_DEFINE(SYS_vfork, vfork) { return do_fork(args->tf); }

/* clone with fork-like flags only: no threads (CLONE_VM without
 * CLONE_VFORK, CLONE_THREAD) yet. */
SYSCALL_DEFINE(SYS_clone, clone)
{
	uint64_t flags = ARG(0);
	struct task *c;

	if ((flags & CLONE_THREAD) || ((flags & CLONE_VM) && !(flags & CLONE_VFORK)))
		return -EINVAL;
	if (ARG(1))
		return -EINVAL; /* a new stack only makes sense for threads */
	c = task_fork(args->tf);
	if (!c)
		return -ENOMEM;
	if ((flags & CLONE_PARENT_SETTID) && copy_to_user((void *)ARG(2), &c->pid, sizeof(int)) < 0)
		return -EFAULT;
	if (flags & CLONE_CHILD_CLEARTID)
		c->clear_child_tid = ARG(3);
	return c->pid;
}

SYSCALL_DEFINE(SYS_exit, exit) { task_exit(((int)ARG(0) & 0xff) << 8); }
SYSCALL_DEFINE(SYS_exit_group, exit_group) { task_exit(((int)ARG(0) & 0xff) << 8); }

SYSCALL_DEFINE(SYS_wait4, wait4)
{
	int status = 0;
	long pid;

	if (ARG(2) & ~(uint64_t)(WNOHANG | 2 /* WUNTRACED */ | 0x40000000 /* __WALL */))
		return -EINVAL;
	pid = task_wait((pid_t)ARG(0), &status, (int)ARG(2));
	if (pid > 0 && ARG(1) && copy_to_user((void *)ARG(1), &status, sizeof(status)) < 0)
		return -EFAULT;
	if (pid > 0 && ARG(3) && clear_user((void *)ARG(3), 144 /* struct rusage */) < 0)
		return -EFAULT;
	return pid;
}

SYSCALL_DEFINE(SYS_getpid, getpid) { return current->tgid; }
SYSCALL_DEFINE(SYS_gettid, gettid) { return current->pid; }
SYSCALL_DEFINE(SYS_getppid, getppid) { return current->parent ? current->parent->tgid : 0; }

SYSCALL_DEFINE(SYS_set_tid_address, set_tid_address)
{
	current->clear_child_tid = ARG(0);
	return current->pid;
}

SYSCALL_DEFINE(SYS_arch_prctl, arch_prctl)
{
	switch (ARG(0)) {
	case ARCH_SET_FS:
		if (ARG(1) >= USER_SPACE_END)
			return -EPERM; /* Linux: a non-canonical or kernel address */
		wrmsr(MSR_FS_BASE, ARG(1));
		current->fs_base = ARG(1);
		return 0;
	case ARCH_GET_FS: {
		uint64_t fs = rdmsr(MSR_FS_BASE);
		return copy_to_user((void *)ARG(1), &fs, sizeof(fs)) < 0 ? -EFAULT : 0;
	}
	default:
		return -EINVAL;
	}
}

SYSCALL_DEFINE(SYS_sched_yield, sched_yield)
{
	schedule();
	return 0;
}

/* Sleep for a struct timespec {sec, nsec}, rounded up to timer ticks. */
static long sleep_timespec(const void *ureq)
{
	int64_t ts[2];
	uint64_t ticks;

	if (copy_from_user(ts, ureq, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts[0] < 0 || ts[1] < 0 || (uint64_t)ts[1] >= NSEC_PER_SEC)
		return -EINVAL;
	ticks = ts[0] * TIMER_HZ + (ts[1] * TIMER_HZ + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
	return task_sleep_until(timer_ticks() + ticks + 1);
}

SYSCALL_DEFINE(SYS_nanosleep, nanosleep) { return sleep_timespec((void *)ARG(0)); }

SYSCALL_DEFINE(SYS_clock_nanosleep, clock_nanosleep)
{
	if (ARG(1) & 1 /* TIMER_ABSTIME */)
		return -EINVAL; /* not supported; musl's sleep() uses relative */
	return sleep_timespec((void *)ARG(2));
}

#define PR_SET_NAME 15
#define PR_GET_NAME 16

/* prctl: only the task name (busybox and glibc set it); others -EINVAL. */
SYSCALL_DEFINE(SYS_prctl, prctl)
{
	char name[TASK_COMM_LEN];

	switch (ARG(0)) {
	case PR_SET_NAME:
		if (strncpy_from_user(name, (const char *)ARG(1), sizeof(name)) < 0)
			return -EFAULT;
		name[sizeof(name) - 1] = '\0';
		memcpy(current->comm, name, sizeof(name));
		return 0;
	case PR_GET_NAME:
		return copy_to_user((void *)ARG(1), current->comm, sizeof(current->comm)) < 0 ? -EFAULT : 0;
	default:
		return -EINVAL;
	}
}
