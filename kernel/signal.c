/* Signals: sending (kill, tgkill, faults, the kernel's own), delivery on
 * the way back to user mode, and the system calls rt_sigaction,
 * rt_sigprocmask, rt_sigpending, rt_sigreturn, kill, tgkill, tkill and
 * sigaltstack. A handler runs on the
 * user stack (or the alternate stack) on Linux's rt_sigframe, built by
 * arch/x86/sigframe.c; its return address is the sa_restorer that libc
 * supplies (a stub calling rt_sigreturn), which puts everything back.
 *
 * Shared data: the target task's sig_pending and sig_info, guarded by its
 * sig_lock (senders run on any CPU, the interrupt handlers among them);
 * its sig_actions and sig_blocked, which only the task itself changes;
 * and the task list (kill of a group), under tasklist_lock. Lock order:
 * tasklist_lock, then a task's sig_lock, then a run queue's (the
 * wakeup). */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/signal.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <asm/x86.h>

#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define INT_MIN (-2147483647 - 1)
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
/* Delivered before any other pending signal: they describe the
 * instruction that just faulted (Linux's SYNCHRONOUS_MASK). */
#define SYNCHRONOUS (SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) | \
		     SIGBIT(SIGFPE) | SIGBIT(31 /* SIGSYS */))

static bool ignored_by_default(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGWINCH || sig == 23 /* SIGURG */ ||
	       sig == SIGSTOP || sig == 20 /* SIGTSTP: no job control */;
}

/* Linux's SIGNAL_UNKILLABLE: init takes only the signals it handles, and
 * SIGKILL/SIGSTOP when the kernel itself sends them. */
static bool init_refuses(const struct task *t, int sig, bool from_kernel)
{
	if (t->pid != 1 || t->sig_actions[sig - 1].handler != SIG_DFL)
		return false;
	return !(from_kernel && (sig == SIGKILL || sig == SIGSTOP));
}

/* Linux's sig_ignored(): an unblocked signal whose action is to ignore
 * it is dropped when sent, so that it never interrupts a sleep. */
static bool ignored_now(const struct task *t, int sig)
{
	uint64_t handler = t->sig_actions[sig - 1].handler;

	if ((t->sig_blocked & SIGBIT(sig)) || sig == SIGKILL)
		return false;
	return handler == SIG_IGN || (handler == SIG_DFL && ignored_by_default(sig));
}

int signal_send(struct task *t, int sig, const struct ksiginfo *info, bool from_kernel)
{
	uint64_t flags;

	if (sig < 1 || sig > NSIG)
		return -EINVAL;
	if (READ_ONCE(t->state) == TASK_ZOMBIE || init_refuses(t, sig, from_kernel) ||
	    ignored_now(t, sig))
		return 0; /* accepted and dropped, as Linux does */
	flags = spin_lock_irqsave(&t->sig_lock);
	if (!(t->sig_pending & SIGBIT(sig))) {
		t->sig_info[sig - 1] = info ? *info : (struct ksiginfo){ .code = SI_KERNEL };
		t->sig_info[sig - 1].signo = sig;
		atomic_fetch_or(&t->sig_pending, SIGBIT(sig));
	}
	spin_unlock_irqrestore(&t->sig_lock, flags);
	sched_wake(t); /* a sleeper is interrupted: it re-checks and sees it */
	return 0;
}

int task_send_signal(struct task *t, int sig)
{
	return signal_send(t, sig, NULL, true);
}

void force_sig_fault(struct trap_frame *tf, int sig, int code, uint64_t addr)
{
	const struct k_sigaction *act = &current->sig_actions[sig - 1];
	struct ksiginfo info = { .signo = sig, .code = code, .addr = addr };

	current->trap_nr = tf->vector;
	current->trap_err = tf->error_code;
	current->trap_cr2 = tf->vector == X86_TRAP_PF ? addr : 0;
	if (act->handler <= SIG_IGN || (current->sig_blocked & SIGBIT(sig)))
		task_fault_kill(tf, sig, addr);
	/* A fault is a new event: it replaces whatever the signal carried. */
	atomic_fetch_and(&current->sig_pending, ~SIGBIT(sig));
	signal_send(current, sig, &info, true);
}

/* Take the next signal to deliver off the pending set, with what it
 * carries: SIGKILL before anything (a dying task builds no frame), then
 * synchronous ones, then by number. Returns its number, or 0. */
static int dequeue_signal(struct ksiginfo *info)
{
	uint64_t flags = spin_lock_irqsave(&current->sig_lock);
	uint64_t ready = current->sig_pending & (~current->sig_blocked | UNBLOCKABLE);
	int sig = 0;

	if (ready & SIGBIT(SIGKILL))
		ready = SIGBIT(SIGKILL);
	else if (ready & SYNCHRONOUS)
		ready &= SYNCHRONOUS;
	if (ready) {
		sig = __builtin_ctzll(ready) + 1;
		*info = current->sig_info[sig - 1];
		atomic_fetch_and(&current->sig_pending, ~SIGBIT(sig));
	}
	spin_unlock_irqrestore(&current->sig_lock, flags);
	return sig;
}

void signal_deliver(struct trap_frame *tf)
{
	struct ksiginfo info;
	int sig;

	while ((sig = dequeue_signal(&info))) {
		struct k_sigaction *act = &current->sig_actions[sig - 1];

		if (sig != SIGKILL && (act->handler == SIG_IGN ||
				       (act->handler == SIG_DFL && ignored_by_default(sig))))
			continue;
		if (act->handler == SIG_DFL || sig == SIGKILL)
			task_exit(sig);
		if (!sigframe_setup(tf, &info, act))
			task_exit(SIGSEGV);
		current->sig_blocked |= act->mask | (act->flags & SA_NODEFER ? 0 : SIGBIT(sig));
		current->sig_blocked &= ~UNBLOCKABLE;
		if (act->flags & SA_RESETHAND)
			act->handler = SIG_DFL;
		return; /* one handler at a time */
	}
}

SYSCALL_DEFINE(SYS_rt_sigaction, rt_sigaction)
{
	int sig = (int)ARG(0);
	struct k_sigaction act, *slot;

	if (sig < 1 || sig > NSIG || ARG(3) != sizeof(uint64_t))
		return -EINVAL;
	slot = &current->sig_actions[sig - 1];
	if (ARG(2) && copy_to_user((void *)ARG(2), slot, sizeof(*slot)) < 0)
		return -EFAULT;
	if (!ARG(1))
		return 0;
	if (sig == SIGKILL || sig == SIGSTOP)
		return -EINVAL;
	if (copy_from_user(&act, (void *)ARG(1), sizeof(act)) < 0)
		return -EFAULT;
	if (act.handler > SIG_IGN && !(act.flags & SA_RESTORER))
		return -EINVAL; /* x86-64 handlers need a restorer (libc gives one) */
	act.mask &= ~UNBLOCKABLE;
	*slot = act;
	return 0;
}

SYSCALL_DEFINE(SYS_rt_sigprocmask, rt_sigprocmask)
{
	uint64_t set, old = current->sig_blocked;

	if (ARG(3) != sizeof(uint64_t))
		return -EINVAL;
	if (ARG(1)) {
		if (copy_from_user(&set, (void *)ARG(1), sizeof(set)) < 0)
			return -EFAULT;
		switch (ARG(0)) {
		case SIG_BLOCK: current->sig_blocked |= set; break;
		case SIG_UNBLOCK: current->sig_blocked &= ~set; break;
		case SIG_SETMASK: current->sig_blocked = set; break;
		default: return -EINVAL;
		}
		current->sig_blocked &= ~UNBLOCKABLE;
	}
	if (ARG(2) && copy_to_user((void *)ARG(2), &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

/* The signals pending and blocked (pending but not blocked ones are
 * delivered before user code could ask). */
SYSCALL_DEFINE(127 /* SYS_rt_sigpending */, rt_sigpending)
{
	uint64_t set = current->sig_pending & current->sig_blocked;

	if (ARG(1) > sizeof(uint64_t))
		return -EINVAL;
	return copy_to_user((void *)ARG(0), &set, ARG(1)) < 0 ? -EFAULT : 0;
}

SYSCALL_DEFINE(SYS_rt_sigreturn, rt_sigreturn)
{
	struct trap_frame *tf = args->tf;

	if (!sigframe_restore(tf))
		task_exit(SIGSEGV);
	return (long)tf->rax; /* dispatch stores it back into rax */
}

/* One target of kill(): 0 or -EINVAL (sig 0 only checks existence). */
static long kill_one(struct task *t, int sig, const struct ksiginfo *info)
{
	return sig ? signal_send(t, sig, info, false) : 0;
}

/* Send sig to the task pid (of thread group tgid, unless 0), under
 * tasklist_lock so that it cannot be reaped meanwhile: 0 or -ESRCH. */
static long kill_pid(pid_t pid, pid_t tgid, int sig, const struct ksiginfo *info)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find_locked(pid);
	long ret = t && (!tgid || t->tgid == tgid) ? kill_one(t, sig, info) : -ESRCH;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

/* Every task kill(pid) names, for pid 0 (the caller's group), -1 (all
 * but init and the caller) or -pgid; zombies count until reaped, as in
 * Linux. 0 if one was signalled, else -ESRCH. */
static long kill_many(pid_t pid, int sig, const struct ksiginfo *info)
{
	pid_t pgid = pid == 0 ? current->pgid : -pid;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct list_head *pos;
	long ret = -ESRCH;
	bool sent = false;

	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (pid == -1 ? (t->pid == 1 || t == current) : t->pgid != pgid)
			continue;
		ret = kill_one(t, sig, info);
		sent |= ret == 0;
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return sent ? 0 : ret;
}

SYSCALL_DEFINE(SYS_kill, kill)
{
	int pid = (int)ARG(0), sig = (int)ARG(1);
	struct ksiginfo info = { .code = SI_USER, .pid = current->tgid };

	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (pid > 0)
		return kill_pid(pid, 0, sig, &info);
	if (pid == INT_MIN)
		return -ESRCH; /* -pid would overflow */
	return kill_many(pid, sig, &info);
}

SYSCALL_DEFINE(SYS_tgkill, tgkill)
{
	struct ksiginfo info = { .code = SI_TKILL, .pid = current->tgid };

	if ((int)ARG(0) <= 0 || (int)ARG(1) <= 0 || (int)ARG(2) < 0 || (int)ARG(2) > NSIG)
		return -EINVAL;
	return kill_pid((int)ARG(1), (int)ARG(0), (int)ARG(2), &info);
}

/* tkill(tid, sig): tgkill without the group check. */
SYSCALL_DEFINE(200 /* SYS_tkill */, tkill)
{
	struct ksiginfo info = { .code = SI_TKILL, .pid = current->tgid };

	if ((int)ARG(0) <= 0 || (int)ARG(1) < 0 || (int)ARG(1) > NSIG)
		return -EINVAL;
	return kill_pid((int)ARG(0), 0, (int)ARG(1), &info);
}

/* With SS_AUTODISARM the stack is disarmed while a handler runs on it,
 * so no frame is ever "on" it (Linux's on_sig_stack()). */
bool on_sig_stack(uintptr_t sp)
{
	if (current->sas_ss_flags & SS_AUTODISARM)
		return false;
	return current->sas_ss_size && sp > current->sas_ss_sp &&
	       sp - current->sas_ss_sp <= current->sas_ss_size;
}

/* Linux's do_sigaltstack(): report the old stack, then install the new
 * one, unless the caller runs on the current one (-EPERM). */
long do_sigaltstack(const struct user_stack *ss, struct user_stack *old, uintptr_t sp)
{
	uint32_t mode;

	*old = (struct user_stack){ .ss_sp = current->sas_ss_sp, .ss_size = current->sas_ss_size };
	old->ss_flags = (int32_t)((!current->sas_ss_size ? SS_DISABLE : on_sig_stack(sp) ? SS_ONSTACK : 0) |
				  (current->sas_ss_flags & SS_AUTODISARM));
	if (!ss)
		return 0;
	if (on_sig_stack(sp))
		return -EPERM;
	mode = (uint32_t)ss->ss_flags & ~SS_AUTODISARM;
	if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
		return -EINVAL;
	if (mode != SS_DISABLE && ss->ss_size < MINSIGSTKSZ)
		return -ENOMEM;
	current->sas_ss_sp = mode == SS_DISABLE ? 0 : ss->ss_sp;
	current->sas_ss_size = mode == SS_DISABLE ? 0 : ss->ss_size;
	current->sas_ss_flags = (uint32_t)ss->ss_flags;
	return 0;
}

SYSCALL_DEFINE(SYS_sigaltstack, sigaltstack)
{
	struct user_stack ss, old;
	long ret;

	if (ARG(0) && copy_from_user(&ss, (void *)ARG(0), sizeof(ss)) < 0)
		return -EFAULT;
	ret = do_sigaltstack(ARG(0) ? &ss : NULL, &old, args->tf ? args->tf->rsp : 0);
	if (ret == 0 && ARG(1) && copy_to_user((void *)ARG(1), &old, sizeof(old)) < 0)
		return -EFAULT;
	return ret;
}
