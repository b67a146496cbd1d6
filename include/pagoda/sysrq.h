/* Magic SysRq (kernel/sysrq.c): /proc/sysrq-trigger, as Linux's. */
#ifndef PAGODA_SYSRQ_H
#define PAGODA_SYSRQ_H

#include <pagoda/types.h>

#include <pagoda/task.h>

#define SYSRQ_TRACE_MAX 16

/* What the 't' report says of one task. */
struct task_report {
	char comm[TASK_COMM_LEN];
	pid_t pid, tgid, ppid;
	char state;        /* R, S, Z (zombie) or X (dead), as Linux's */
	unsigned int cpu;
	int depth;         /* return addresses in trace; -1: running on cpu */
	uintptr_t trace[SYSRQ_TRACE_MAX];
};

/* Run the command of key ('t': every task's state and call chain, on the
 * console); an unknown key prints the help line. */
void sysrq_handle(char key);

/* One task's line of the 't' report, taken (under tasklist_lock, or with
 * t otherwise kept from being freed) and printed; for the tests. */
void sysrq_report_task(struct task *t, struct task_report *r);
void sysrq_print_task(const struct task_report *r);

struct file_operations;
extern const struct file_operations sysrq_trigger_fops;

#endif
