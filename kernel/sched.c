/* The scheduler: round-robin over runnable tasks, preemptive on the timer
 * tick, on one CPU. A task is only switched away from in schedule(): when
 * it sleeps, or on its way back to user mode after the tick asked for a
 * reschedule (return_to_user_work()). The boot context becomes the idle
 * task, which runs when nothing else can, halting until an interrupt. */
#include <asm/gdt.h>
#include <pagoda/mm.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <asm/x86.h>


extern void context_switch(uintptr_t *save_rsp, uintptr_t next_rsp);
extern char boot_stack_top[];

static struct task idle_task;
static LIST_HEAD(run_queue); /* runnable tasks, except current and idle */
LIST_HEAD(task_list);        /* every task but idle */
static bool need_resched;

void sched_init(void)
{
	this_cpu()->idle = this_cpu()->curr = &idle_task;
	idle_task.pid = 0;
	strlcpy(idle_task.comm, "idle", sizeof(idle_task.comm));
	idle_task.state = TASK_RUNNABLE;
	fpu_init();
	fpu_init_state(&idle_task);
	idle_task.kstack_top = (uintptr_t)boot_stack_top;
	strlcpy(idle_task.cwd, "/", sizeof(idle_task.cwd));
	list_init(&idle_task.children);
	list_init(&idle_task.run_list);
	list_init(&idle_task.all_list);
	list_init(&idle_task.sibling);
}

struct task *sched_idle_task(void)
{
	return &idle_task;
}

/* Make t runnable (interrupts off). */
void sched_enqueue(struct task *t)
{
	t->state = TASK_RUNNABLE;
	if (t != &idle_task && list_empty(&t->run_list))
		list_add_tail(&t->run_list, &run_queue);
}

static struct task *pick_next(void)
{
	struct task *next;

	if (list_empty(&run_queue))
		return &idle_task;
	next = list_first_entry(&run_queue, struct task, run_list);
	list_del(&next->run_list);
	return next;
}

/* Load next's address space, kernel stack for entries from user mode, and
 * TLS pointer, then switch stacks. */
static void switch_to(struct task *prev, struct task *next)
{
	if (next->mm != prev->mm)
		mm_switch(next->mm);
	this_cpu()->arch.tss.rsp[0] = next->kstack_top;
	this_cpu()->arch.kernel_rsp = next->kstack_top;
	prev->fs_base = rdmsr(MSR_FS_BASE);
	wrmsr(MSR_FS_BASE, next->fs_base);
	fpu_save(prev);
	fpu_restore(next);
	current = next;
	context_switch(&prev->saved_rsp, next->saved_rsp);
}

void schedule(void)
{
	uint64_t flags = irq_save();
	struct task *prev = current, *next;

	need_resched = false;
	if (prev->state == TASK_RUNNABLE && prev != &idle_task)
		list_add_tail(&prev->run_list, &run_queue);
	next = pick_next();
	if (next != prev)
		switch_to(prev, next);
	irq_restore(flags);
}

void sleep_on(void *channel)
{
	uint64_t flags = irq_save();

	current->wait_channel = channel;
	current->state = TASK_SLEEPING;
	schedule();
	current->wait_channel = NULL;
	irq_restore(flags);
}

void wakeup(void *channel)
{
	uint64_t flags = irq_save();
	struct list_head *pos;

	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (t->state == TASK_SLEEPING && t->wait_channel == channel)
			sched_enqueue(t);
	}
	irq_restore(flags);
}

/* From the timer interrupt: wake sleepers whose time came, and ask the
 * running task to yield at its next return to user mode. */
void sched_tick(void)
{
	uint64_t now = timer_ticks();
	struct list_head *pos;

	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (t->state == TASK_SLEEPING && t->wake_tick && t->wake_tick <= now)
			sched_enqueue(t);
	}
	if (!list_empty(&run_queue))
		need_resched = true;
}

bool sched_need_resched(void)
{
	return need_resched;
}

/* The idle loop: the boot context after kmain has started init. */
__attribute__((noreturn)) void sched_idle_loop(void)
{
	for (;;) {
		schedule();
		sti();
		hlt();
	}
}
