/* What kernel/task.c, kernel/fork.c and kernel/exit.c share and nobody
 * else needs: making, linking and freeing task structures. */
#ifndef KERNEL_TASK_INTERNAL_H
#define KERNEL_TASK_INTERNAL_H

#include <pagoda/task.h>

/* A new task with a kernel stack and pid (set_tid if not 0), the leader
 * of a new process with default handlers, or NULL: -ENOMEM, or -EEXIST
 * (set_tid is taken) in *err. */
struct task *task_alloc(pid_t set_tid, int *err);

/* Free a task that never ran (its pid, stack, shared parts). */
void task_free(struct task *t);

/* Lay out t's kernel stack so that its first switch runs it from tf. */
void task_setup_stack(struct task *t, const struct trap_frame *tf);

/* Put t on the task list (and its parent's children, its process's
 * threads as the signal_struct says), and on a run queue. */
void task_link(struct task *t);

#endif
