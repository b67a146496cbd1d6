/* The out-of-memory killer (mm/oom_kill.c).
 *
 * When a page fault cannot get a frame, waiting will not help: some
 * process must give its memory back. The killer chooses the process with
 * the most resident memory (its RSS and page tables, as Linux's
 * oom_badness() counts them, with no swap and no oom_score_adj), never
 * init unless no other process is left, sends it SIGKILL, and logs what
 * Linux logs:
 *
 *   Out of memory: Killed process PID (COMM) total-vm:NkB, anon-rss:NkB,
 *   file-rss:NkB, shmem-rss:NkB, UID:0 pgtables:NkB oom_score_adj:0
 *
 * While a victim has not exited yet (its memory is freed when it does),
 * no second victim is chosen: the faulting task yields the CPU and
 * retries, as Linux's pagefault_out_of_memory() retries the fault.
 *
 * System calls do not call it: an allocation that fails in a system call
 * returns -ENOMEM and undoes what the call did. */
#ifndef PAGODA_OOM_H
#define PAGODA_OOM_H

#include <pagoda/types.h>

struct task;

/* A page fault of the current task found no memory. Kills a victim (or
 * waits for the last one to die) and yields the CPU. Returns true when
 * the faulting access should be retried; false when the current task is
 * the one to die (SIGKILL is pending for it) or nothing could be killed.
 * Touches the task list; must not be called with a lock held that the
 * victim needs to exit. */
bool out_of_memory(void);

/* The task the killer would choose now: NULL if none has an address
 * space, OOM_WAIT if an earlier victim is still alive. */
#define OOM_WAIT ((struct task *)-1)
struct task *oom_select_victim(void);

/* Log the victim as Linux does, mark it and send it SIGKILL. */
void oom_kill_process(struct task *victim);

/* How many processes the killer has killed since boot. */
extern unsigned long oom_kill_count;

#endif
