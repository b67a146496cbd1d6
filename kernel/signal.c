/* Signals, enough for default actions and simple handlers: rt_sigaction,
 * rt_sigprocmask, kill, tgkill, rt_sigreturn. A handler runs on the user
 * stack with a frame holding the interrupted registers; its return address
 * is the sa_restorer that libc supplies (a stub calling rt_sigreturn),
 * which puts the registers back. The frame layout is Pagoda's own: enough
 * for handlers that look at the signal number and siginfo. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <asm/gdt.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <asm/x86.h>

#define SA_SIGINFO 0x00000004
#define SA_RESTORER 0x04000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define RED_ZONE 128
#define SIGBIT(sig) (1ULL << ((sig) - 1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define RFLAGS_USER_MASK 0x0dd5 /* CF PF AF ZF SF TF DF OF: what user may set */
#define RFLAGS_IF (1UL << 9)

struct siginfo {
	int32_t si_signo, si_errno, si_code, pad;
	uint64_t si_addr;
	uint8_t rest[104]; /* Linux's siginfo_t is 128 bytes */
};

struct sigframe {
	uint64_t pretcode; /* the handler returns here: sa_restorer */
	struct trap_frame regs;
	uint64_t mask;
	struct siginfo info;
};

int task_send_signal(struct task *t, int sig)
{
	if (sig < 1 || sig > NSIG)
		return -EINVAL;
	atomic_fetch_or(&t->sig_pending, SIGBIT(sig));
	sched_wake(t); /* a sleeper is interrupted: it re-checks and sees it */
	return 0;
}

static bool ignored_by_default(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGWINCH || sig == 23 /* SIGURG */ ||
	       sig == SIGSTOP || sig == 20 /* SIGTSTP: no job control */;
}

/* Build the frame on the user stack and enter the handler; false if the
 * stack is unusable (the task is then killed, as Linux does). */
static bool setup_frame(struct trap_frame *tf, int sig, const struct k_sigaction *act)
{
	struct sigframe f = { .pretcode = act->restorer, .regs = *tf, .mask = current->sig_blocked };
	uintptr_t sp = ALIGN_DOWN(tf->rsp - RED_ZONE - sizeof(f), 16) - 8;

	f.info.si_signo = sig;
	if (copy_to_user((void *)sp, &f, sizeof(f)) < 0)
		return false;
	tf->rsp = sp;
	tf->rip = act->handler;
	tf->rdi = sig;
	tf->rsi = sp + __builtin_offsetof(struct sigframe, info);
	tf->rdx = sp + __builtin_offsetof(struct sigframe, regs);
	tf->rax = 0;
	tf->rflags &= ~(1UL << 10); /* DF clear on entry, per the ABI */
	current->sig_blocked |= act->mask | (act->flags & SA_NODEFER ? 0 : SIGBIT(sig));
	current->sig_blocked &= ~UNBLOCKABLE;
	return true;
}

void signal_deliver(struct trap_frame *tf)
{
	uint64_t ready = current->sig_pending & (~current->sig_blocked | UNBLOCKABLE);

	while (ready) {
		int sig = __builtin_ctzll(ready) + 1;
		struct k_sigaction *act = &current->sig_actions[sig - 1];

		atomic_fetch_and(&current->sig_pending, ~SIGBIT(sig));
		ready &= ~SIGBIT(sig);
		if (act->handler == SIG_IGN || (act->handler == SIG_DFL && ignored_by_default(sig)))
			continue;
		if (act->handler == SIG_DFL || sig == SIGKILL)
			task_exit(sig);
		if (!setup_frame(tf, sig, act))
			task_exit(SIGSEGV);
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

SYSCALL_DEFINE(SYS_rt_sigreturn, rt_sigreturn)
{
	struct trap_frame *tf = args->tf;
	struct sigframe f;

	/* The handler's "ret" popped pretcode: the frame starts 8 below. */
	if (copy_from_user(&f, (void *)(tf->rsp - 8), sizeof(f)) < 0)
		task_exit(SIGSEGV);
	f.regs.cs = GDT_USER_CS;
	f.regs.ss = GDT_USER_DS;
	f.regs.rflags = (f.regs.rflags & RFLAGS_USER_MASK) | RFLAGS_IF;
	f.regs.vector = tf->vector;
	*tf = f.regs;
	current->sig_blocked = f.mask & ~UNBLOCKABLE;
	return (long)tf->rax; /* dispatch stores it back into rax */
}

static long kill_one(struct task *t, int sig)
{
	return sig ? task_send_signal(t, sig) : 0;
}

SYSCALL_DEFINE(SYS_kill, kill)
{
	int pid = (int)ARG(0), sig = (int)ARG(1), sent = 0;
	struct list_head *pos;
	uint64_t flags;
	long ret;

	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	flags = spin_lock_irqsave(&tasklist_lock);
	if (pid > 0) {
		struct task *t = task_find_locked(pid);
		ret = t && t->state != TASK_ZOMBIE ? kill_one(t, sig) : -ESRCH;
		spin_unlock_irqrestore(&tasklist_lock, flags);
		return ret;
	}
	/* 0 (our group) and -1 (everyone we may signal) alike: no groups here. */
	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (t->state == TASK_ZOMBIE || (pid == -1 && (t->pid == 1 || t == current)))
			continue;
		kill_one(t, sig);
		sent++;
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return sent ? 0 : -ESRCH;
}

SYSCALL_DEFINE(SYS_tgkill, tgkill)
{
	uint64_t flags;
	struct task *t;
	long ret;

	if ((int)ARG(2) < 0 || (int)ARG(2) > NSIG)
		return -EINVAL;
	flags = spin_lock_irqsave(&tasklist_lock);
	t = task_find_locked((int)ARG(1));
	if (!t || t->tgid != (int)ARG(0) || t->state == TASK_ZOMBIE)
		ret = -ESRCH;
	else
		ret = kill_one(t, (int)ARG(2));
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

SYSCALL_DEFINE(SYS_sigaltstack, sigaltstack)
{
	return 0; /* accepted, unused: handlers run on the normal stack */
}
