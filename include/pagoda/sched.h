/* The scheduler (kernel/sched.c): one run queue per CPU, preemptive on
 * each CPU's timer tick, with wakeups and work moving across CPUs.
 *
 * A task is RUNNABLE, SLEEPING or a ZOMBIE. A runnable task is either
 * running on one CPU (on_cpu) or waiting on exactly one run queue. Its
 * fields below change only under the lock of the run queue of its CPU
 * (task->cpu), so that a wakeup and the task's own schedule() agree on
 * whether it still has to be queued (include/pagoda/wait.h).
 *
 * Kernel code is not preempted: a task leaves its CPU only in schedule(),
 * when it sleeps or on its way back to user mode. See docs/smp.md. */
#ifndef PAGODA_SCHED_H
#define PAGODA_SCHED_H

#include <pagoda/list.h>
#include <pagoda/spinlock.h>
#include <pagoda/types.h>

struct task;

/* A CPU's run queue (in its struct percpu). */
struct runqueue {
	spinlock_t lock;        /* guards this struct, and state, on_cpu, cpu and
				 * run_list of the tasks of this CPU; taken
				 * with interrupts off (the tick takes it) */
	struct list_head queue; /* runnable tasks not running now, FIFO */
	unsigned int nr_queued;
	bool need_resched;      /* switch at the next return to user mode */
	struct task *prev;      /* the task this CPU last switched away from */
	uint64_t switches;      /* context switches, for /proc and tests */
};

/* Set up the boot CPU's run queue with the boot context as its idle task. */
void sched_init(void);
/* The same for another CPU, whose idle task is idle (running now). */
void sched_init_cpu(struct task *idle);

/* Give up the CPU to the next runnable task (or idle). The current task
 * is queued again if it is still runnable. Interrupts are restored. */
void schedule(void);

/* Mark the current task sleeping / running again (prepare_to_wait() and
 * finish_wait() call these). */
void sched_set_sleeping(struct task *t);
void sched_set_running(struct task *t);

/* Make a sleeping task runnable, on the run queue of its CPU; poke that
 * CPU if it is another. Does nothing to a task that is not sleeping. */
void sched_wake(struct task *t);

/* If t runs on another CPU, interrupt it (a reschedule IPI), so that it
 * passes through return_to_user_work() soon: a signal came for it. */
void sched_kick(struct task *t);
/* Queue a new task (fork, the first process) on this CPU's run queue. */
void sched_add_new(struct task *t);

/* The timer tick, on each CPU: ask for a switch if others wait here. */
void sched_tick(void);
/* Is a switch asked for on this CPU? */
bool sched_need_resched(void);

/* Let idle CPUs take queued work from busy ones (once the kernel is ready
 * for several CPUs running tasks). */
void sched_enable_balance(void);

/* The idle loop of a CPU: pull work from busy CPUs, else halt. */
__attribute__((noreturn)) void sched_idle_loop(void);
struct task *sched_idle_task(void);

/* After a context switch, on the new task's stack: let go of the run
 * queue lock the switch held (arch/x86/switch.asm calls it for a task's
 * first run, schedule() for the others). */
void sched_finish_switch(void);

/* Affinity: the CPUs t may run on (a bit per CPU). Returns 0 or -EINVAL
 * when mask holds no online CPU. The task moves if it must. */
int sched_set_affinity(struct task *t, uint64_t mask);

/* Wait until t is off every CPU (before its stack is freed). */
/* The call chain t stopped in, innermost first (at most max return
 * addresses, the first one in schedule()), read while t cannot run; or
 * -1 if t is on a CPU now (its stack is in use). For a report (sysrq). */
int sched_task_backtrace(struct task *t, uintptr_t *out, int max);
void sched_wait_off_cpu(struct task *t);

/* The mask of online CPUs, and how many there are. */
extern uint64_t cpu_online_mask;
unsigned int nr_cpus_online(void);

#endif
