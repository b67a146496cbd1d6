/* Tasks: processes and the scheduler (kernel/task.c, kernel/sched.c,
 * kernel/exit.c, kernel/signal.c).
 *
 * One task is one process with one thread (tgid == pid). Each has a kernel
 * stack of KSTACK_SIZE with an unmapped guard page below it; user mode
 * enters the kernel on that stack (TSS.RSP0), through an interrupt,
 * exception or SYSCALL, with a struct trap_frame at its top. Scheduling is
 * round-robin, preemptive on the LAPIC timer tick, on one CPU: kernel code
 * runs with interrupts enabled but is only switched away from where it
 * calls schedule() (sleeping) or on its way back to user mode. */
#ifndef PAGODA_TASK_H
#define PAGODA_TASK_H

#include <pagoda/list.h>
#include <pagoda/lockdep.h>
#include <pagoda/mm_types.h>
#include <pagoda/percpu.h>
#include <pagoda/sched.h>
#include <pagoda/signal.h>
#include <pagoda/spinlock.h>
#include <pagoda/wait.h>
#include <asm/trap.h>
#include <pagoda/types.h>

#define KSTACK_SIZE (16 * 1024)
#define TASK_COMM_LEN 16
#define NSIG 64
#define TASK_MAX_FDS 256
#define TASK_MAX_GROUPS 64

typedef int pid_t;

enum task_state {
	TASK_RUNNABLE,
	TASK_SLEEPING, /* waiting for an event: wakeup() makes it runnable */
	TASK_ZOMBIE,   /* exited, waiting for its parent's wait4() */
};

/* Linux's struct k_sigaction layout for rt_sigaction(2). */
struct k_sigaction {
	uint64_t handler; /* SIG_DFL 0, SIG_IGN 1, or a user address */
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};
#define SIG_DFL 0
#define SIG_IGN 1

struct file;

struct task {
	pid_t pid;
	pid_t tgid;
	pid_t pgid;                /* process group (kill(-pgid)); init's is 0, as Linux's */
	pid_t sid;                 /* session */
	bool did_exec;             /* has called execve (setpgid: EACCES) */
	bool oom_victim;           /* the OOM killer chose it; it has not exited yet */
	char comm[TASK_COMM_LEN];
	enum task_state state;
	int exit_code;            /* wait status, as wait4() reports it */
	struct task *parent;
	struct list_head children; /* of this task, linked by sibling */
	struct list_head sibling;
	struct list_head run_list; /* on a run queue while runnable, not running */
	unsigned int cpu;          /* the CPU whose run queue it belongs to */
	bool on_cpu;               /* running on a CPU, or switching off it */
	uint64_t cpus_allowed;     /* affinity: a bit per CPU */
	uint32_t refs;             /* task_get()/task_put(); the struct goes at 0 */
	struct list_head all_list; /* every task, for /proc and kill */

	struct mm_struct *mm;      /* NULL for kernel tasks (idle) */
	uintptr_t kstack_top;      /* highest address of the kernel stack */
	uintptr_t saved_rsp;       /* kernel RSP while switched out */
	uint64_t fs_base;          /* arch_prctl(ARCH_SET_FS): the TLS pointer */
	uintptr_t clear_child_tid; /* set_tid_address */

	struct file *files[TASK_MAX_FDS];
	uint64_t cloexec[TASK_MAX_FDS / 64];
	char cwd[256];             /* absolute path */
	uint32_t groups[TASK_MAX_GROUPS]; /* supplementary groups (setgroups) */
	unsigned int ngroups;
	char exe[256];             /* path of the program, for /proc/PID/exe */
	struct file *exe_file;     /* the program, its writers denied (Linux's mm->exe_file) */

	spinlock_t sig_lock;       /* guards sig_pending and sig_info */
	uint64_t sig_pending;      /* changed atomically, under sig_lock */
	uint64_t sig_blocked;      /* changed only by the task itself */
	struct k_sigaction sig_actions[NSIG];
	struct ksiginfo sig_info[NSIG]; /* what each pending signal carries */
	uintptr_t sas_ss_sp;       /* sigaltstack: [sas_ss_sp, + sas_ss_size) */
	size_t sas_ss_size;
	uint32_t sas_ss_flags;     /* as sigaltstack() set them (SS_AUTODISARM...) */
	uint64_t trap_nr, trap_err, trap_cr2; /* the last fault, for sigcontext */

	uint64_t wake_tick;        /* a timed sleep ends at this tick (0: none) */
	struct wait_queue_head child_exit; /* wait4() sleeps here for children */

	struct lockdep_held lockdep; /* the locks this task holds */

	/* The x87/SSE registers while switched out (FXSAVE image, Intel SDM
	 * Vol. 1, 10.5.1). The kernel itself never touches them: it is
	 * built with -mgeneral-regs-only. */
	uint8_t fpu[512] __attribute__((aligned(16)));
};

/* The FPU/SSE state a new program starts with (arch/x86/fpu.c). */
void fpu_init(void);
void fpu_cpu_init(void); /* CR0/CR4 for SSE on another CPU */
void fpu_init_state(struct task *t);
void fpu_save(struct task *t);
void fpu_restore(const struct task *t);
/* Take an FXSAVE image from user space (a signal frame) as t's state,
 * with MXCSR's reserved bits cleared so that FXRSTOR cannot fault. */
void fpu_load_image(struct task *t, const uint8_t image[512]);

/* The task running on this CPU (in its per-CPU area). */
#define current (this_cpu()->curr)

/* Called on every return to user mode: reschedule if asked, deliver
 * pending signals. */
void return_to_user_work(struct trap_frame *tf);

/* Guards task_list, pids, and the parent/children links (kernel/task.c). */
extern spinlock_t tasklist_lock;

/* Look a task up by pid (NULL if none), with tasklist_lock held. */
struct task *task_find_locked(pid_t pid);

/* A task by pid with a reference the caller drops with task_put(), so
 * that it stays readable after it is reaped; NULL if none. */
struct task *task_get_pid(pid_t pid);
void task_get(struct task *t);
void task_put(struct task *t);
/* Initialise every field of *t (zeroed, pid and tgid set, its locks, lists
 * and wait queue ready, one reference): for new tasks and tests' stand-ins. */
void task_init_fields(struct task *t, pid_t pid);

/* t's address space with a reference (mm_put() it), or NULL; and the
 * change of it (exec, exit), under tasklist_lock so that the two agree. */
struct mm_struct *task_get_mm(struct task *t);
void task_set_mm(struct task *t, struct mm_struct *mm);

/* Is there a task with this pid right now? */
bool task_exists(pid_t pid);

/* From the timer tick: wake the timed sleepers whose tick has come. */
void task_wake_timeouts(uint64_t now);

/* Sleep until the timer reaches tick, or a signal comes: 0 or -EINTR. */
int task_sleep_until(uint64_t tick);

/* Start the first user process: pid 1 running path with argv/envp, with
 * /dev/console as fds 0, 1 and 2. Returns 0 or a negative errno. */
int task_start_init(const char *path, const char *const argv[], const char *const envp[]);

/* Make f (NULL: none) the program t runs, holding a reference and denied
 * write access (deny_write_access(), which the caller already did for
 * this holder); the previous program file is given back. */
void task_set_exe_file(struct task *t, struct file *f);

/* End the current task with a wait status (never returns). */
__attribute__((noreturn)) void task_exit(int wait_status);

/* A fault the current task took in user mode kills it (force_sig_fault()
 * found no handler to run): print the one-line report (pid, address, rip,
 * VMA) and end the task as killed by sig. */
__attribute__((noreturn)) void task_fault_kill(struct trap_frame *tf, int sig, uintptr_t addr);

/* Queue signal sig for t from the kernel (si_code SI_KERNEL; wakes t if
 * it sleeps): signal_send() with no info. */
int task_send_signal(struct task *t, int sig);

/* Iterate over all tasks (for /proc). */
extern struct list_head task_list;


/* fork(): a copy of the current task returning 0 in the child through the
 * trap frame tf. Returns the child or NULL (-ENOMEM, nothing leaked). */
struct task *task_fork(struct trap_frame *tf);

/* wait4(2) semantics: returns the pid reaped, 0 (WNOHANG, none ready),
 * -ECHILD, or -EINTR. The status is stored in *status. */
long task_wait(pid_t pid, int *status, int options);
#define WNOHANG 1

/* Deliver pending signals before returning to user mode (kernel/signal.c). */
void signal_deliver(struct trap_frame *tf);

/* Signal numbers (Linux x86-64). */
#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGWINCH 28

#endif
