/* Tasks: threads and the processes they make up (kernel/task.c: creation
 * and lookup; kernel/fork.c: fork and clone; kernel/exit.c: exit, wait
 * and exec's end of the other threads; kernel/signal.c: signals;
 * kernel/sched.c: the scheduler).
 *
 * A task is one thread: its registers, kernel stack, blocked signals and
 * TLS pointer. A process is a thread group: the tasks sharing one
 * struct signal_struct, led by the task whose pid is the group's tgid.
 * What clone() lets tasks share is reached through counted pointers, as
 * in Linux: the address space (mm), the file descriptor table (files),
 * the current directory (fs) and the signal handlers (sighand); threads
 * share all four. Each task has a kernel stack of KSTACK_SIZE with an
 * unmapped guard page below it; user mode enters the kernel on that stack
 * (TSS.RSP0) with a struct trap_frame at its top. See docs/smp.md for the
 * locks and the order they nest in. */
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
	TASK_ZOMBIE,   /* exited; a group leader waiting for its parent's wait4() */
	TASK_DEAD,     /* an exited thread other than the leader: freed once off its CPU */
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
struct files_struct;
struct fs_struct;

/* The signal handlers, shared by the tasks cloned with CLONE_SIGHAND (all
 * threads of a process). Its lock is Linux's siglock: it guards action[],
 * and the pending sets and infos of every task using it and of their
 * signal_structs. Taken with interrupts off (signals are sent from
 * interrupt handlers). */
struct sighand_struct {
	uint32_t refs;   /* tasks using it; atomic */
	spinlock_t lock;
	struct k_sigaction action[NSIG];
};

/* What a process's threads share besides the handlers: the thread list,
 * process-directed signals, the group's exit, its process group and
 * session, and the queue wait4() sleeps on. */
struct signal_struct {
	uint32_t refs;              /* tasks pointing here; atomic; freed at 0 */
	/* Under tasklist_lock: */
	struct list_head threads;   /* members not reaped yet, by task.thread_node */
	unsigned int nr_threads;    /* members that have not exited */
	pid_t pgid;                 /* process group (kill(-pgid)); init's is 0, as Linux's */
	pid_t sid;                  /* session */
	uint32_t groups[TASK_MAX_GROUPS]; /* supplementary groups (setgroups) */
	unsigned int ngroups;
	bool is_child_subreaper;    /* prctl(PR_SET_CHILD_SUBREAPER): orphans below come here */
	/* Under sighand->lock: */
	bool group_exit;            /* exit_group, a fatal signal or exec: all must go */
	int group_exit_code;        /* the wait status they all exit with */
	struct task *exec_task;     /* the thread whose execve ends the others, or NULL */
	uint64_t shared_pending;    /* process-directed signals */
	struct ksiginfo shared_info[NSIG];
	/* Lock of their own: */
	struct wait_queue_head child_exit; /* wait4() sleeps here for children */
	struct wait_queue_head group_exit_wq; /* a member exited (exec waits for them) */
};

struct task {
	pid_t pid;                 /* the thread's id (gettid) */
	pid_t tgid;                /* the process's: its leader's pid (getpid) */
	bool did_exec;             /* has called execve (setpgid: EACCES) */
	bool oom_victim;           /* the OOM killer chose it; it has not exited yet */
	char comm[TASK_COMM_LEN];
	enum task_state state;
	int exit_code;            /* wait status, as wait4() reports it */
	int exit_signal;          /* sent to the parent when the process ends
				   * (SIGCHLD, another, 0: none); -1 for threads */
	/* Under tasklist_lock: */
	struct task *parent;       /* the process that waits for this one (a leader) */
	struct list_head children; /* of a leader: its child processes, by sibling */
	struct list_head sibling;
	struct task *group_leader; /* the thread whose pid is tgid */
	struct list_head thread_node; /* in signal->threads */
	struct task *vfork_parent; /* CLONE_VFORK: waits until this task execs or exits */
	bool vfork_done;           /* ... which it has; under tasklist_lock */
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
	uintptr_t set_child_tid;   /* CLONE_CHILD_SETTID: the tid goes there at first run */
	uintptr_t clear_child_tid; /* set_tid_address: zeroed and woken at exit */
	uintptr_t robust_list;     /* set_robust_list: the head, walked at exit */

	/* Shared with the tasks clone() said (counted; changed only by the
	 * task itself, under tasklist_lock, so that others may read them
	 * with it held): */
	struct signal_struct *signal;
	struct sighand_struct *sighand;
	struct sighand_struct *sighand_retired; /* replaced by exec; dropped when t is freed */
	struct files_struct *files; /* NULL after exit */
	struct fs_struct *fs;       /* NULL after exit */
	char exe[256];             /* path of the program, for /proc/PID/exe */
	struct file *exe_file;     /* the program, its writers denied (Linux's mm->exe_file) */

	uint64_t sig_pending;      /* thread-directed; under sighand->lock */
	uint64_t sig_blocked;      /* changed only by the task itself */
	uint64_t sig_saved_mask;   /* rt_sigsuspend: the mask to go back to ... */
	bool sig_restore_mask;     /* ... after the handler it waited for (its frame keeps it) */
	struct ksiginfo sig_info[NSIG]; /* what each pending signal carries */
	uintptr_t sas_ss_sp;       /* sigaltstack: [sas_ss_sp, + sas_ss_size) */
	size_t sas_ss_size;
	uint32_t sas_ss_flags;     /* as sigaltstack() set them (SS_AUTODISARM...) */
	uint64_t trap_nr, trap_err, trap_cr2; /* the last fault, for sigcontext */

	uint64_t wake_ns;          /* a timed sleep ends at this CLOCK_MONOTONIC
				    * time, in ns (0: none) */

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
/* Initialise every field of *t (zeroed, pid and tgid set, its lists
 * ready, one reference), as the leader of a process whose signal_struct
 * and handlers are signal and sighand, initialised here with one
 * reference each (all default actions, group and session 0). */
void task_init_fields(struct task *t, pid_t pid, struct signal_struct *signal,
		      struct sighand_struct *sighand);

/* A stand-in task for tests: a process of one thread, with its own
 * signal_struct and handlers, on no list and no run queue. */
struct task_standin {
	struct task task;
	struct signal_struct signal;
	struct sighand_struct sighand;
};
void task_standin_init(struct task_standin *s, pid_t pid);

/* The shared parts of kernel tasks (the idle tasks), which are never freed. */
extern struct signal_struct init_signal;
extern struct sighand_struct init_sighand;
extern struct files_struct init_files;
extern struct fs_struct init_fs;

/* Allocate a pid no task has (a leader's pid is also its group's). */
pid_t task_alloc_pid(void);

/* t's address space with a reference (mm_put() it), or NULL; and the
 * change of it (exec, exit), under tasklist_lock so that the two agree. */
struct mm_struct *task_get_mm(struct task *t);
void task_set_mm(struct task *t, struct mm_struct *mm);

/* The pid of t's parent process (getppid), 0 for none. */
pid_t task_ppid(struct task *t);

/* Is there a task with this pid right now? */
bool task_exists(pid_t pid);

/* Dead threads whose CPU has not switched away from them yet (their
 * stack and task go at that switch, sched_finish_switch()): a parent may
 * be woken by a thread's exit before this happens. */
extern unsigned int tasks_dying;

/* Wait (yielding, at most a second) until no dead thread is still being
 * let go of, so that a count of the machine's memory sees it gone. */
void task_wait_dying(void);

/* From the timer tick: wake the timed sleepers whose time has come. */
void task_wake_timeouts(void);

/* Sleep until clock_monotonic_ns() reaches deadline, or a signal comes:
 * 0 or -EINTR. The deadline is a time, not a tick count: ticks are how
 * sleepers are woken, not how time is told (a tick may come late, and
 * late ticks may then come in a burst: counting them ends sleeps early). */
int task_sleep_until_ns(uint64_t deadline);

/* Start the first user process: pid 1 running path with argv/envp, with
 * /dev/console as fds 0, 1 and 2. Returns 0 or a negative errno. */
int task_start_init(const char *path, const char *const argv[], const char *const envp[]);

/* Make f (NULL: none) the program t runs, holding a reference and denied
 * write access (deny_write_access(), which the caller already did for
 * this holder); the previous program file is given back. */
void task_set_exe_file(struct task *t, struct file *f);

/* End the current process with a wait status (exit_group, a fatal
 * signal): every thread of it exits with that status. Never returns. */
__attribute__((noreturn)) void task_exit(int wait_status);

/* End the current thread only (exit): the process ends with its last
 * thread. Never returns. */
__attribute__((noreturn)) void thread_exit(int wait_status);

/* execve in a process of several threads (Linux's de_thread()): end the
 * others and wait until they have gone; if the caller is not the leader,
 * it takes the leader's pid and place. 0, or -EAGAIN when the process is
 * being killed already (the caller then dies on its way out). */
int exec_end_other_threads(void);

/* Is the task the only one left of its process? */
bool task_alone_in_group(const struct task *t);

/* The CLONE_VFORK parent of t (t execs or exits) may go on. */
void task_vfork_release(struct task *t);

/* A fault the current task took in user mode kills it (force_sig_fault()
 * found no handler to run): print the one-line report (pid, address, rip,
 * VMA) and end the task as killed by sig. */
__attribute__((noreturn)) void task_fault_kill(struct trap_frame *tf, int sig, uintptr_t addr);

/* Queue signal sig for t from the kernel (si_code SI_KERNEL; wakes t if
 * it sleeps): signal_send() with no info. */
int task_send_signal(struct task *t, int sig);

/* Iterate over all tasks (for /proc). */
extern struct list_head task_list;


/* What clone() and clone3() ask for (Linux's struct kernel_clone_args). */
struct clone_args_k {
	uint64_t flags;        /* CLONE_* (without the exit signal) */
	int exit_signal;       /* for the parent when the child ends */
	uintptr_t stack;       /* the child's user stack pointer (0: the parent's) */
	uintptr_t tls;         /* CLONE_SETTLS: the child's FS base */
	uintptr_t parent_tid;  /* CLONE_PARENT_SETTID: the tid, in the parent */
	uintptr_t child_tid;   /* CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID */
	pid_t set_tid;         /* clone3: the pid to take (0: any) */
};

/* clone(): a new task running from the trap frame tf of the current one,
 * returning 0 in it, sharing what args->flags says. Returns the child's
 * pid (for CLONE_VFORK after the child exec'd or exited), or -EINVAL
 * (a flag combination Linux refuses), -EEXIST (set_tid taken), -EFAULT
 * (parent_tid), -ENOMEM (nothing leaked). */
long task_clone(struct trap_frame *tf, const struct clone_args_k *args);

/* wait4(2) semantics: returns the pid reaped, 0 (WNOHANG, none ready),
 * -ECHILD, or -EINTR. The status is stored in *status. */
long task_wait(pid_t pid, int *status, int options);
#define WNOHANG 1
#define __WCLONE 0x80000000
#define __WALL 0x40000000

/* The first run of a new task, on its way to user mode: CLONE_CHILD_SETTID. */
void task_ret_from_fork(void);

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

/* Signals pending for t, its own and its process's (read without the
 * lock: a sleeper tests it again after every wakeup). */
static inline uint64_t task_pending_signals(const struct task *t)
{
	return READ_ONCE(t->sig_pending) | READ_ONCE(t->signal->shared_pending);
}

/* Would a signal interrupt t's sleep: one pending that it does not block? */
static inline bool signal_pending(const struct task *t)
{
	return task_pending_signals(t) & ~t->sig_blocked;
}

/* Is t dying: SIGKILL pending (a group exit puts it in every thread's own set)? */
static inline bool fatal_signal_pending(const struct task *t)
{
	return READ_ONCE(t->sig_pending) & SIGBIT(SIGKILL);
}

#endif
