/* Signals as Linux delivers them (kernel/signal.c: sending, the system
 * calls; arch/x86/sigframe.c: the x86-64 frame a handler runs on).
 *
 * Each pending signal carries the facts of its siginfo_t (struct
 * ksiginfo); a standard signal does not queue twice, so the first
 * sender's facts are the ones delivered, as in Linux. A handler installed
 * with SA_SIGINFO receives Linux's siginfo_t and ucontext_t (the
 * interrupted registers, the blocked mask, the alternate stack and the
 * FPU state) in Linux's rt_sigframe layout, so that libc's code and
 * debuggers read them as they do on Linux. */
#ifndef PAGODA_SIGNAL_H
#define PAGODA_SIGNAL_H

#include <pagoda/types.h>

struct task;
struct trap_frame;

/* si_code values (Linux's include/uapi/asm-generic/siginfo.h). */
#define SI_USER 0      /* kill() */
#define SI_KERNEL 0x80 /* the kernel, with no better reason (#GP, int3) */
#define SI_TKILL (-6)  /* tgkill(), tkill() */
#define ILL_ILLOPN 2
#define FPE_INTDIV 1
#define FPE_FLTDIV 3
#define FPE_FLTOVF 4
#define FPE_FLTUND 5
#define FPE_FLTRES 6
#define FPE_FLTINV 7
#define SEGV_MAPERR 1  /* no mapping at the address */
#define SEGV_ACCERR 2  /* a mapping whose protection forbids the access */
#define BUS_ADRALN 1
#define BUS_ADRERR 2   /* a mapping that cannot supply the page */
#define TRAP_BRKPT 1
#define CLD_EXITED 1
#define CLD_KILLED 2

/* sigaction flags and sigaltstack flags (Linux x86-64). */
#define SA_SIGINFO 0x00000004
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define SS_AUTODISARM (1U << 31)
#define MINSIGSTKSZ 2048

/* What a pending signal carries: the fields of siginfo_t that mean
 * something here. */
struct ksiginfo {
	int32_t signo;
	int32_t code;   /* SI_*, SEGV_*, BUS_*, CLD_* ... */
	int32_t pid;    /* kill: the sender's tgid; SIGCHLD: the child */
	uint32_t uid;   /* always 0: every process is root */
	int32_t status; /* SIGCHLD: exit code or signal number */
	uint64_t addr;  /* faults: the address (si_addr) */
};

#define SIGBIT(sig) (1ULL << ((sig) - 1))

/* Queue sig for the thread t with info (NULL: sent by the kernel,
 * SI_KERNEL). A signal already pending keeps its first info. Init (pid 1)
 * never receives a signal it has no handler for, except SIGKILL and
 * SIGSTOP from the kernel itself (from_kernel), as Linux protects its
 * init. Wakes t if it sleeps. Returns 0 or -EINVAL for a bad number. The
 * caller is t, or holds tasklist_lock or a reference to t. */
int signal_send(struct task *t, int sig, const struct ksiginfo *info, bool from_kernel);

/* The same for t's whole process (kill, SIGCHLD, the OOM killer): one
 * thread that does not block sig takes it; a signal whose action is the
 * default and kills ends every thread at once. tasklist_lock held. */
int signal_send_process_locked(struct task *t, int sig, const struct ksiginfo *info,
			       bool from_kernel);

/* Lock t's handlers (and with them the pending sets): returns them, locked
 * with interrupts off (*flags to restore). */
struct sighand_struct;
struct sighand_struct *lock_task_sighand(struct task *t, uint64_t *flags);

/* The current thread ends its process with wait status code: every other
 * thread is sent SIGKILL. If the process is ending already, the status
 * of the first is returned, and that is the one to exit with. */
int signal_group_exit(int code);

/* execve: t gets handlers of its own if it shared them with another
 * process, and caught signals go back to their default action (ignored
 * ones stay ignored; the blocked mask and pending set are kept: POSIX,
 * Linux's flush_signal_handlers()). 0 or -ENOMEM. */
int signal_exec_reset(struct task *t);

/* execve from one of several threads: SIGKILL the others (0), unless the
 * process is being killed already (-EAGAIN); and, once they have gone,
 * the process is an ordinary one again. */
int signal_group_exec_begin(void);
void signal_group_exec_end(void);

/* A fault the current task took in user mode: record the trap for the
 * sigcontext, then queue sig with (code, addr) if the task handles it;
 * if the signal is blocked, ignored or has its default action, the task
 * is reported and killed by it (never returns then), as Linux forces
 * synchronous signals. */
void force_sig_fault(struct trap_frame *tf, int sig, int code, uint64_t addr);

/* The blocked mask a signal frame saves (and rt_sigreturn restores): the
 * current one, or the one rt_sigsuspend replaced while it waited. */
uint64_t signal_frame_mask(void);

/* The rt_sigframe (arch/x86/sigframe.c). Build the frame for sig with info
 * on the user stack of the current task and point tf at the handler of
 * act; false if the stack cannot take it. */
struct k_sigaction;
bool sigframe_setup(struct trap_frame *tf, const struct ksiginfo *info,
		    const struct k_sigaction *act);
/* rt_sigreturn: restore tf, the blocked mask, the alternate stack and the
 * FPU state from the frame whose ucontext the handler returned through
 * (user rsp - 8 points at the frame). false if the frame is unreadable. */
bool sigframe_restore(struct trap_frame *tf);

/* Linux's stack_t (sigaltstack(2), ucontext's uc_stack). */
struct user_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

/* Is sp on the current task's alternate signal stack (never, while
 * SS_AUTODISARM has it disarmed)? */
bool on_sig_stack(uintptr_t sp);

/* sigaltstack(2) for the current task running at user sp: *old gets the
 * stack as it was; ss (may be NULL) replaces it. 0, -EPERM (running on
 * it), -EINVAL (bad flags), -ENOMEM (smaller than MINSIGSTKSZ). */
long do_sigaltstack(const struct user_stack *ss, struct user_stack *old, uintptr_t sp);

#endif
