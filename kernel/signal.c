/* Signals: sending (kill, tgkill, faults, the kernel's own), delivery on
 * the way back to user mode, and the system calls rt_sigaction,
 * rt_sigprocmask, rt_sigpending, rt_sigreturn, kill, tgkill, tkill and
 * sigaltstack. A handler runs on the
 * user stack (or the alternate stack) on Linux's rt_sigframe, built by
 * arch/x86/sigframe.c; its return address is the sa_restorer that libc
 * supplies (a stub calling rt_sigreturn), which puts everything back.
 *
 * A signal is either for one thread (tkill, tgkill, a fault: the thread's
 * sig_pending) or for the process (kill, SIGCHLD, the OOM killer: the
 * shared_pending of its signal_struct), as in Linux. A process-directed
 * signal is taken by whichever thread does not block it; the sender wakes
 * one such thread, or, for a signal whose default action kills, ends the
 * whole group at once (every thread gets SIGKILL).
 *
 * Shared data: the pending sets and infos of every thread of a process
 * and of the process, and the handlers, under sighand->lock (senders run
 * on any CPU); sig_blocked, which only the task itself changes; the
 * thread list and the task list, under tasklist_lock. Lock order:
 * tasklist_lock, then sighand->lock, then a run queue's (the wakeup). */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/signal.h>
#include <pagoda/slab.h>
#include <pagoda/smp.h>
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

struct sighand_struct *lock_task_sighand(struct task *t, uint64_t *flags)
{
	for (;;) {
		struct sighand_struct *sh = READ_ONCE(t->sighand);
		*flags = spin_lock_irqsave(&sh->lock);
		if (READ_ONCE(t->sighand) == sh)
			return sh;
		spin_unlock_irqrestore(&sh->lock, *flags);
	}
}

/* Linux's SIGNAL_UNKILLABLE: init takes only the signals it handles, and
 * SIGKILL/SIGSTOP when the kernel itself sends them. */
static bool init_refuses_locked(const struct task *t, int sig, bool from_kernel)
{
	if (t->tgid != 1 || t->sighand->action[sig - 1].handler != SIG_DFL)
		return false;
	return !(from_kernel && (sig == SIGKILL || sig == SIGSTOP));
}

/* Linux's sig_ignored(): an unblocked signal whose action is to ignore
 * it is dropped when sent, so that it never interrupts a sleep. */
static bool ignored_now_locked(const struct task *t, int sig)
{
	uint64_t handler = t->sighand->action[sig - 1].handler;

	if ((t->sig_blocked & SIGBIT(sig)) || sig == SIGKILL)
		return false;
	return handler == SIG_IGN || (handler == SIG_DFL && ignored_by_default(sig));
}

/* Does sig end the process when delivered (its action is the default,
 * and the default is to die)? */
static bool kills_by_default_locked(const struct task *t, int sig)
{
	return sig == SIGKILL ||
	       (t->sighand->action[sig - 1].handler == SIG_DFL && !ignored_by_default(sig));
}

static bool exited(const struct task *t)
{
	enum task_state s = READ_ONCE(t->state);

	return s == TASK_ZOMBIE || s == TASK_DEAD;
}

/* Make t notice a signal: wake it if it sleeps, interrupt it if it runs
 * user code on another CPU (it checks on its way back to user mode). */
static void signal_wake(struct task *t)
{
	sched_wake(t);
	sched_kick(t);
}

/* Does t take sig now: alive, not blocking it? */
static bool wants_signal(const struct task *t, int sig)
{
	if (exited(t))
		return false;
	return sig == SIGKILL || !(t->sig_blocked & SIGBIT(sig));
}

/* Every thread of t's process but except gets SIGKILL, and the group is
 * marked exiting with status code. With tasklist_lock and sighand->lock. */
static void zap_other_threads_locked(struct task *t, struct task *except, int code)
{
	struct signal_struct *sig = t->signal;
	struct list_head *pos;

	assert_spin_locked(&tasklist_lock);
	assert_spin_locked(&t->sighand->lock);
	sig->group_exit = true;
	sig->group_exit_code = code;
	list_for_each(pos, &sig->threads) {
		struct task *th = list_entry(pos, struct task, thread_node);
		if (th == except || exited(th))
			continue;
		th->sig_info[SIGKILL - 1] = (struct ksiginfo){ .signo = SIGKILL, .code = SI_KERNEL };
		atomic_fetch_or(&th->sig_pending, SIGBIT(SIGKILL));
		signal_wake(th);
	}
}

/* A process-directed sig was queued for t's process: wake one thread that
 * takes it (t first), or end the group if the signal kills it. Linux's
 * complete_signal(). tasklist_lock and sighand->lock held. */
static void complete_group_signal_locked(struct task *t, int sig)
{
	struct signal_struct *sigs = t->signal;
	struct task *target = NULL;
	struct list_head *pos;

	if (wants_signal(t, sig)) {
		target = t;
	} else {
		list_for_each(pos, &sigs->threads) {
			struct task *th = list_entry(pos, struct task, thread_node);
			if (wants_signal(th, sig)) {
				target = th;
				break;
			}
		}
	}
	if (!target)
		return; /* every thread blocks it: it waits in shared_pending */
	if (kills_by_default_locked(t, sig) && !sigs->group_exit) {
		zap_other_threads_locked(t, NULL, sig);
		return;
	}
	signal_wake(target);
}

/* Queue sig for t (thread) or its process (shared). sighand->lock held. */
static int send_signal_locked(struct task *t, int sig, const struct ksiginfo *info,
			      bool from_kernel, bool shared)
{
	uint64_t *pending = shared ? &t->signal->shared_pending : &t->sig_pending;
	struct ksiginfo *slot = shared ? t->signal->shared_info : t->sig_info;

	assert_spin_locked(&t->sighand->lock);
	if ((!shared && exited(t)) || init_refuses_locked(t, sig, from_kernel) ||
	    ignored_now_locked(t, sig))
		return 0; /* accepted and dropped, as Linux does */
	if (!(*pending & SIGBIT(sig))) {
		slot[sig - 1] = info ? *info : (struct ksiginfo){ .code = SI_KERNEL };
		slot[sig - 1].signo = sig;
		atomic_fetch_or(pending, SIGBIT(sig));
	}
	if (shared)
		complete_group_signal_locked(t, sig);
	else if (wants_signal(t, sig))
		signal_wake(t); /* a sleeper is interrupted: it re-checks and sees it */
	return 0;
}

int signal_send(struct task *t, int sig, const struct ksiginfo *info, bool from_kernel)
{
	uint64_t flags;
	int ret;

	if (sig < 1 || sig > NSIG)
		return -EINVAL;
	lock_task_sighand(t, &flags);
	ret = send_signal_locked(t, sig, info, from_kernel, false);
	spin_unlock_irqrestore(&t->sighand->lock, flags);
	return ret;
}

int signal_send_process_locked(struct task *t, int sig, const struct ksiginfo *info,
			       bool from_kernel)
{
	uint64_t flags;
	int ret;

	assert_spin_locked(&tasklist_lock);
	if (sig < 1 || sig > NSIG)
		return -EINVAL;
	if (list_empty(&t->signal->threads) || t->signal->nr_threads == 0)
		return 0; /* the whole process has exited */
	lock_task_sighand(t, &flags);
	ret = send_signal_locked(t, sig, info, from_kernel, true);
	spin_unlock_irqrestore(&t->sighand->lock, flags);
	return ret;
}

int task_send_signal(struct task *t, int sig)
{
	return signal_send(t, sig, NULL, true);
}

int signal_group_exit(int code)
{
	struct task *t = current;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	spin_lock(&t->sighand->lock);
	if (t->signal->group_exit && t->signal->exec_task != t)
		code = t->signal->group_exit_code; /* the first one's status wins */
	else
		zap_other_threads_locked(t, t, code);
	t->signal->exec_task = NULL;
	spin_unlock(&t->sighand->lock);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return code;
}

int signal_group_exec_begin(void)
{
	struct task *t = current;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	int ret = 0;

	spin_lock(&t->sighand->lock);
	if (t->signal->group_exit) {
		ret = -EAGAIN; /* killed meanwhile: the caller dies on its way out */
	} else {
		zap_other_threads_locked(t, t, SIGKILL);
		t->signal->exec_task = t;
	}
	spin_unlock(&t->sighand->lock);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

void signal_group_exec_end(void)
{
	struct task *t = current;
	uint64_t flags;

	lock_task_sighand(t, &flags);
	t->signal->group_exit = false;
	t->signal->group_exit_code = 0;
	t->signal->exec_task = NULL;
	spin_unlock_irqrestore(&t->sighand->lock, flags);
}

int signal_exec_reset(struct task *t)
{
	struct sighand_struct *sh, *mine;
	uint64_t flags;

	if (READ_ONCE(t->sighand->refs) > 1) {
		/* Shared with another process (CLONE_SIGHAND without
		 * CLONE_THREAD): a private copy. The old table is kept until
		 * t is freed, as a sender may have read the pointer and be
		 * about to lock it (lock_task_sighand() then tries again). */
		if (!(mine = kmalloc(sizeof(*mine), GFP_KERNEL)))
			return -ENOMEM;
		flags = spin_lock_irqsave(&tasklist_lock);
		sh = t->sighand;
		spin_lock(&sh->lock);
		*mine = *sh;
		mine->refs = 1;
		__spin_lock_init(&mine->lock, sh->lock.class);
		t->sighand = mine;
		spin_unlock(&sh->lock);
		spin_unlock_irqrestore(&tasklist_lock, flags);
		if (t->sighand_retired && atomic_sub_return(&t->sighand_retired->refs, 1) == 0)
			kfree(t->sighand_retired);
		t->sighand_retired = sh;
	}
	sh = lock_task_sighand(t, &flags);
	for (int i = 0; i < NSIG; i++) {
		struct k_sigaction *act = &sh->action[i];
		if (act->handler != SIG_IGN)
			act->handler = SIG_DFL;
		act->flags = 0;
		act->restorer = 0;
		act->mask = 0;
	}
	spin_unlock_irqrestore(&sh->lock, flags);
	return 0;
}

void force_sig_fault(struct trap_frame *tf, int sig, int code, uint64_t addr)
{
	struct ksiginfo info = { .signo = sig, .code = code, .addr = addr };
	uint64_t handler, flags;

	current->trap_nr = tf->vector;
	current->trap_err = tf->error_code;
	current->trap_cr2 = tf->vector == X86_TRAP_PF ? addr : 0;
	lock_task_sighand(current, &flags);
	handler = current->sighand->action[sig - 1].handler;
	spin_unlock_irqrestore(&current->sighand->lock, flags);
	if (handler <= SIG_IGN || (current->sig_blocked & SIGBIT(sig)))
		task_fault_kill(tf, sig, addr);
	/* A fault is a new event: it replaces whatever the signal carried. */
	atomic_fetch_and(&current->sig_pending, ~SIGBIT(sig));
	signal_send(current, sig, &info, true);
}

/* The next signal to deliver from the set *pending (with infos slot):
 * SIGKILL before anything (a dying task builds no frame), then
 * synchronous ones, then by number. 0 if none is ready. */
static int take_signal_locked(uint64_t *pending, struct ksiginfo *slot, struct ksiginfo *info)
{
	uint64_t ready = *pending & (~current->sig_blocked | UNBLOCKABLE);
	int sig;

	if (!ready)
		return 0;
	if (ready & SIGBIT(SIGKILL))
		ready = SIGBIT(SIGKILL);
	else if (ready & SYNCHRONOUS)
		ready &= SYNCHRONOUS;
	sig = __builtin_ctzll(ready) + 1;
	*info = slot[sig - 1];
	atomic_fetch_and(pending, ~SIGBIT(sig));
	return sig;
}

/* Take the next signal for the current thread: its own first, then its
 * process's. Returns its number (0: none) with what it carries and the
 * action to take (copied under the lock; SA_RESETHAND applied). */
static int dequeue_signal(struct ksiginfo *info, struct k_sigaction *act)
{
	uint64_t flags;
	struct sighand_struct *sh = lock_task_sighand(current, &flags);
	int sig = take_signal_locked(&current->sig_pending, current->sig_info, info);

	if (!sig)
		sig = take_signal_locked(&current->signal->shared_pending,
					 current->signal->shared_info, info);
	if (sig) {
		*act = sh->action[sig - 1];
		if ((act->flags & SA_RESETHAND) && act->handler > SIG_IGN)
			sh->action[sig - 1].handler = SIG_DFL;
	}
	spin_unlock_irqrestore(&sh->lock, flags);
	return sig;
}

uint64_t signal_frame_mask(void)
{
	return current->sig_restore_mask ? current->sig_saved_mask : current->sig_blocked;
}

/* rt_sigsuspend is over: its mask goes, the caller's comes back. */
static void restore_saved_mask(void)
{
	if (current->sig_restore_mask) {
		current->sig_blocked = current->sig_saved_mask;
		current->sig_restore_mask = false;
	}
}

void signal_deliver(struct trap_frame *tf)
{
	struct k_sigaction act;
	struct ksiginfo info;
	int sig;

	while ((sig = dequeue_signal(&info, &act))) {
		if (sig != SIGKILL && (act.handler == SIG_IGN ||
				       (act.handler == SIG_DFL && ignored_by_default(sig))))
			continue;
		if (act.handler == SIG_DFL || sig == SIGKILL)
			task_exit(sig);
		if (!sigframe_setup(tf, &info, &act))
			task_exit(SIGSEGV);
		/* The frame holds the mask to return to: from here on the
		 * handler's mask is built on it. */
		restore_saved_mask();
		current->sig_blocked |= act.mask | (act.flags & SA_NODEFER ? 0 : SIGBIT(sig));
		current->sig_blocked &= ~UNBLOCKABLE;
		return; /* one handler at a time */
	}
	restore_saved_mask(); /* woken by a signal that needed no handler */
}

/* Sleep until a signal this task does not block is pending. */
static long wait_for_signal(void)
{
	for (;;) {
		sched_set_sleeping(current);
		if (signal_pending(current))
			break;
		schedule();
	}
	sched_set_running(current);
	return -EINTR;
}

SYSCALL_DEFINE(34 /* SYS_pause */, pause) { return wait_for_signal(); }

/* rt_sigsuspend(mask, size): wait with mask blocked; the caller's mask
 * comes back after the handler that ends the wait (Linux's
 * set_restore_sigmask()). Always -EINTR. */
SYSCALL_DEFINE(130 /* SYS_rt_sigsuspend */, rt_sigsuspend)
{
	uint64_t mask;

	if (ARG(1) != sizeof(uint64_t))
		return -EINVAL;
	if (copy_from_user(&mask, (const void *)ARG(0), sizeof(mask)) < 0)
		return -EFAULT;
	current->sig_saved_mask = current->sig_blocked;
	current->sig_restore_mask = true;
	current->sig_blocked = mask & ~UNBLOCKABLE;
	return wait_for_signal();
}

SYSCALL_DEFINE(SYS_rt_sigaction, rt_sigaction)
{
	int sig = (int)ARG(0);
	struct k_sigaction act, old;
	struct sighand_struct *sh;
	uint64_t flags;

	if (sig < 1 || sig > NSIG || ARG(3) != sizeof(uint64_t))
		return -EINVAL;
	if (ARG(1)) {
		if (copy_from_user(&act, (void *)ARG(1), sizeof(act)) < 0)
			return -EFAULT;
		if (sig == SIGKILL || sig == SIGSTOP)
			return -EINVAL;
		if (act.handler > SIG_IGN && !(act.flags & SA_RESTORER))
			return -EINVAL; /* x86-64 handlers need a restorer (libc gives one) */
		act.mask &= ~UNBLOCKABLE;
	}
	/* The threads share the table: read and replace in one step. */
	sh = lock_task_sighand(current, &flags);
	old = sh->action[sig - 1];
	if (ARG(1))
		sh->action[sig - 1] = act;
	spin_unlock_irqrestore(&sh->lock, flags);
	if (ARG(2) && copy_to_user((void *)ARG(2), &old, sizeof(old)) < 0)
		return -EFAULT;
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
	uint64_t set = (READ_ONCE(current->sig_pending) | READ_ONCE(current->signal->shared_pending)) &
		       current->sig_blocked;

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

/* One target of kill(): its process (thread false) or the thread itself:
 * 0 or -EINVAL (sig 0 only checks existence). */
static long kill_one_locked(struct task *t, int sig, const struct ksiginfo *info, bool thread)
{
	if (!sig)
		return 0;
	return thread ? signal_send(t, sig, info, false)
		      : signal_send_process_locked(t, sig, info, false);
}

/* Send sig to the task pid (of thread group tgid, unless 0), under
 * tasklist_lock so that it cannot be reaped meanwhile: to the thread, or
 * (kill) to its process. 0 or -ESRCH. */
static long kill_pid(pid_t pid, pid_t tgid, int sig, const struct ksiginfo *info, bool thread)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find_locked(pid);
	long ret = t && (!tgid || t->tgid == tgid) ? kill_one_locked(t, sig, info, thread) : -ESRCH;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

/* Every process kill(pid) names, for pid 0 (the caller's group), -1 (all
 * but init and the caller's) or -pgid; zombies count until reaped, as in
 * Linux. 0 if one was signalled, else -ESRCH. */
static long kill_many(pid_t pid, int sig, const struct ksiginfo *info)
{
	pid_t pgid = pid == 0 ? current->signal->pgid : -pid;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct list_head *pos;
	long ret = -ESRCH;
	bool sent = false;

	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (t != t->group_leader)
			continue; /* one per process */
		if (pid == -1 ? (t->tgid == 1 || t->tgid == current->tgid) : t->signal->pgid != pgid)
			continue;
		ret = kill_one_locked(t, sig, info, false);
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
		return kill_pid(pid, 0, sig, &info, false);
	if (pid == INT_MIN)
		return -ESRCH; /* -pid would overflow */
	return kill_many(pid, sig, &info);
}

SYSCALL_DEFINE(SYS_tgkill, tgkill)
{
	struct ksiginfo info = { .code = SI_TKILL, .pid = current->tgid };

	if ((int)ARG(0) <= 0 || (int)ARG(1) <= 0 || (int)ARG(2) < 0 || (int)ARG(2) > NSIG)
		return -EINVAL;
	return kill_pid((int)ARG(1), (int)ARG(0), (int)ARG(2), &info, true);
}

/* tkill(tid, sig): tgkill without the group check. */
SYSCALL_DEFINE(200 /* SYS_tkill */, tkill)
{
	struct ksiginfo info = { .code = SI_TKILL, .pid = current->tgid };

	if ((int)ARG(0) <= 0 || (int)ARG(1) < 0 || (int)ARG(1) > NSIG)
		return -EINVAL;
	return kill_pid((int)ARG(0), 0, (int)ARG(1), &info, true);
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
