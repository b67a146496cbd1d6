/* Process and thread system calls: ids, TLS, sleep, CPU affinity
 * (kernel/fork.c has fork and clone, kernel/exit.c exit and wait4). */
#include <pagoda/errno.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/uaccess.h>
#include <asm/x86.h>

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define CPUMASK_SIZE 8 /* bytes: MAX_CPUS bits, in unsigned longs */

SYSCALL_DEFINE(SYS_getpid, getpid) { return current->tgid; }
SYSCALL_DEFINE(SYS_gettid, gettid) { return current->pid; }
SYSCALL_DEFINE(SYS_getppid, getppid) { return task_ppid(current); }

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

/* The task pid names (0: the caller), with a reference; NULL if none. */
static struct task *task_or_self_get(pid_t pid)
{
	if (pid == 0) {
		task_get(current);
		return current;
	}
	return pid > 0 ? task_get_pid(pid) : NULL;
}

/* sched_getaffinity(pid, len, mask): the CPUs the thread may run on that
 * are online; len must hold a bit per possible CPU and be a multiple of
 * 8. Returns the bytes written (Linux's cpumask_size()). */
SYSCALL_DEFINE(204 /* SYS_sched_getaffinity */, sched_getaffinity)
{
	unsigned int len = (unsigned int)ARG(1);
	struct task *t;
	uint64_t mask;

	if (len * 8 < MAX_CPUS || (len & (sizeof(long) - 1)))
		return -EINVAL;
	if (!(t = task_or_self_get((pid_t)ARG(0))))
		return -ESRCH;
	mask = READ_ONCE(t->cpus_allowed) & READ_ONCE(cpu_online_mask);
	task_put(t);
	if (copy_to_user((void *)ARG(2), &mask, sizeof(mask)) < 0)
		return -EFAULT;
	return CPUMASK_SIZE;
}

/* sched_setaffinity(pid, len, mask): a shorter mask is zero-extended, a
 * longer one cut, as Linux's get_user_cpu_mask(); -EINVAL if it holds no
 * online CPU. The thread moves at once if it must. */
SYSCALL_DEFINE(203 /* SYS_sched_setaffinity */, sched_setaffinity)
{
	size_t len = ARG(1) < CPUMASK_SIZE ? ARG(1) : CPUMASK_SIZE;
	uint64_t mask = 0;
	struct task *t;
	long ret;

	if (copy_from_user(&mask, (const void *)ARG(2), len) < 0)
		return -EFAULT;
	if (!(t = task_or_self_get((pid_t)ARG(0))))
		return -ESRCH;
	ret = sched_set_affinity(t, mask);
	task_put(t);
	return ret;
}

/* getcpu(&cpu, &node, cache): the CPU the caller runs on now; one node. */
SYSCALL_DEFINE(309 /* SYS_getcpu */, getcpu)
{
	uint32_t cpu = cpu_id(), node = 0;

	if (ARG(0) && copy_to_user((void *)ARG(0), &cpu, sizeof(cpu)) < 0)
		return -EFAULT;
	if (ARG(1) && copy_to_user((void *)ARG(1), &node, sizeof(node)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(SYS_sched_yield, sched_yield)
{
	schedule();
	return 0;
}

/* Sleep for a struct timespec {sec, nsec} of CLOCK_MONOTONIC (woken at
 * the first tick after it). */
static long sleep_timespec(const void *ureq)
{
	int64_t ts[2];

	if (copy_from_user(ts, ureq, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts[0] < 0 || ts[1] < 0 || (uint64_t)ts[1] >= NSEC_PER_SEC)
		return -EINVAL;
	return task_sleep_until_ns(clock_monotonic_ns() + (uint64_t)ts[0] * NSEC_PER_SEC +
				   (uint64_t)ts[1]);
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
#define PR_SET_CHILD_SUBREAPER 36
#define PR_GET_CHILD_SUBREAPER 37

/* prctl: the task name (busybox and glibc set it) and the child
 * subreaper flag (kernel/exit.c: who adopts orphans); others -EINVAL. */
SYSCALL_DEFINE(SYS_prctl, prctl)
{
	char name[TASK_COMM_LEN];
	uint64_t flags;
	int flag;

	switch (ARG(0)) {
	case PR_SET_CHILD_SUBREAPER:
		flags = spin_lock_irqsave(&tasklist_lock);
		current->signal->is_child_subreaper = ARG(1) != 0;
		spin_unlock_irqrestore(&tasklist_lock, flags);
		return 0;
	case PR_GET_CHILD_SUBREAPER:
		flag = READ_ONCE(current->signal->is_child_subreaper);
		return copy_to_user((void *)ARG(1), &flag, sizeof(flag)) < 0 ? -EFAULT : 0;
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
