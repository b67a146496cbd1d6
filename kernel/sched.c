/* The scheduler: round-robin per CPU, preemptive on each CPU's timer tick
 * (include/pagoda/sched.h).
 *
 * Each CPU has a run queue of tasks that are runnable but not running.
 * schedule() holds the CPU's run-queue lock from the moment it looks at
 * the current task's state until the next task is running, and the next
 * task lets go of it (sched_finish_switch()). So a wakeup, which takes the
 * same lock, sees a task either before it went to sleep (and just marks
 * it runnable: schedule() will then keep it) or after it is off the CPU
 * (and queues it). Idle CPUs pull queued tasks from busy ones; a task
 * moves between CPUs only while it is queued, never while on_cpu.
 *
 * Lock order: a run-queue lock is the innermost lock of all but the
 * console's; two run-queue locks are held together only by pull_task(),
 * in CPU order. */
#include <pagoda/atomic.h>
#include <pagoda/bitops.h>
#include <pagoda/errno.h>
#include <pagoda/lockdep.h>
#include <pagoda/mm.h>
#include <pagoda/panic.h>
#include <pagoda/pmm_deferred.h>
#include <pagoda/printk.h>
#include <pagoda/sched.h>
#include <pagoda/smp.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <asm/x86.h>

extern void context_switch(uintptr_t *save_rsp, uintptr_t next_rsp);
extern char boot_stack_top[];

static struct task boot_idle_task;
uint64_t cpu_online_mask = 1; /* the boot CPU */
static bool balance_on; /* may idle CPUs take work from others yet? */

void sched_enable_balance(void)
{
	WRITE_ONCE(balance_on, true);
}

unsigned int nr_cpus_online(void)
{
	return (unsigned int)hweight64(READ_ONCE(cpu_online_mask));
}

static struct runqueue *cpu_rq(unsigned int cpu)
{
	return &cpu_area(cpu)->rq;
}

static void idle_task_setup(struct task *idle, unsigned int cpu)
{
	idle->pid = 0;
	idle->refs = 1; /* never dropped: an idle task is never freed */
	idle->group_leader = idle;
	/* The kernel's shared parts: the self-tests that run in the boot
	 * CPU's idle task open files and resolve paths through them. */
	idle->signal = &init_signal;
	idle->sighand = &init_sighand;
	idle->files = &init_files;
	idle->fs = &init_fs;
	strlcpy(idle->comm, "idle", sizeof(idle->comm));
	idle->state = TASK_RUNNABLE;
	idle->on_cpu = true;
	idle->cpu = cpu;
	idle->cpus_allowed = 1ULL << cpu;
	fpu_init_state(idle);
	list_init(&idle->children);
	list_init(&idle->run_list);
	list_init(&idle->all_list);
	list_init(&idle->sibling);
	list_init(&idle->thread_node);
}

static void rq_init(struct runqueue *rq)
{
	spin_lock_init(&rq->lock, "runqueue");
	list_init(&rq->queue);
}

void sched_init(void)
{
	struct percpu *c = this_cpu();

	rq_init(&c->rq);
	fpu_init();
	idle_task_setup(&boot_idle_task, c->id);
	boot_idle_task.kstack_top = (uintptr_t)boot_stack_top;
	c->idle = c->curr = &boot_idle_task;
}

void sched_init_cpu(struct task *idle)
{
	struct percpu *c = this_cpu();

	rq_init(&c->rq);
	idle_task_setup(idle, c->id);
	c->idle = c->curr = idle;
}

struct task *sched_idle_task(void)
{
	return this_cpu()->idle;
}

/* ---- the queue ---- */

static void enqueue_locked(struct runqueue *rq, struct task *t)
{
	assert_spin_locked(&rq->lock);
	if (list_empty(&t->run_list)) {
		list_add_tail(&t->run_list, &rq->queue);
		rq->nr_queued++;
	}
}

static void dequeue_locked(struct runqueue *rq, struct task *t)
{
	assert_spin_locked(&rq->lock);
	list_del(&t->run_list);
	list_init(&t->run_list);
	rq->nr_queued--;
}

/* Lock the run queue t belongs to. t->cpu changes only under the lock of
 * the queue it names (and, when the task moves, of the new one too), so
 * check it again once the lock is held. */
static struct runqueue *task_rq_lock(struct task *t, uint64_t *flags)
{
	for (;;) {
		unsigned int cpu = READ_ONCE(t->cpu);
		struct runqueue *rq = cpu_rq(cpu);
		*flags = spin_lock_irqsave(&rq->lock);
		if (READ_ONCE(t->cpu) == cpu)
			return rq;
		spin_unlock_irqrestore(&rq->lock, *flags);
	}
}

/* Another CPU has work queued: if it idles, wake it. */
static void kick_cpu(unsigned int cpu)
{
	if (cpu != cpu_id())
		smp_send_reschedule(cpu);
	else
		this_cpu()->rq.need_resched = true;
}

/* ---- switching ---- */

/* Load next's address space, kernel stack for entries from user mode, and
 * TLS pointer, then switch stacks. */
static void switch_to(struct percpu *c, struct task *prev, struct task *next)
{
	/* A task without an address space keeps the last one loaded: lazy
	 * TLB. The CPU stays in that mm's mask until the mm goes; from the
	 * switch away from the mm's task, shootdowns that free no page table
	 * pass it by (mm/tlb.c). A kernel task that loaded an mm itself with
	 * mm_switch() (the self-tests do) uses it: switching away from such a
	 * task leaves the CPU as it was. */
	if (next->mm)
		mm_switch(next->mm);
	else if (prev->mm)
		mm_enter_lazy();
	c->arch.tss.rsp[0] = next->kstack_top;
	c->arch.kernel_rsp = next->kstack_top;
	prev->fs_base = rdmsr(MSR_FS_BASE);
	wrmsr(MSR_FS_BASE, next->fs_base);
	fpu_save(prev);
	fpu_restore(next);
	c->rq.prev = prev;
	c->rq.switches++;
	c->curr = next;
	/* The run-queue lock changes hands: next lets go of it. */
	lockdep_release(c->rq.lock.class);
	context_switch(&prev->saved_rsp, next->saved_rsp);
}

/* May t run on this CPU? */
static bool allowed_here(const struct task *t, unsigned int cpu)
{
	return t->cpus_allowed & (1ULL << cpu);
}

/* The first online CPU t may run on. */
static unsigned int first_allowed_cpu(const struct task *t)
{
	uint64_t ok = t->cpus_allowed & READ_ONCE(cpu_online_mask);

	return ok ? (unsigned int)__builtin_ctzll(ok) : 0;
}

/* Queue t, runnable and in no queue, on cpu's run queue, and poke it. */
static void queue_on(struct task *t, unsigned int cpu)
{
	struct runqueue *rq = cpu_rq(cpu);
	uint64_t flags = spin_lock_irqsave(&rq->lock);

	enqueue_locked(rq, t);
	spin_unlock_irqrestore(&rq->lock, flags);
	kick_cpu(cpu);
}

void sched_finish_switch(void)
{
	struct percpu *c = this_cpu();
	struct task *prev = c->rq.prev, *move = NULL;
	/* Read before on_cpu drops: from then on a zombie may be reaped. An
	 * exited thread other than a leader has nobody to reap it: its own
	 * reference goes below, now that its stack is no longer in use. */
	enum task_state state = prev->state;

	lockdep_acquire(c->rq.lock.class, __builtin_return_address(0));
	/* A runnable task whose affinity no longer allows this CPU was not
	 * queued here by schedule(): it goes to a CPU it may use. */
	if (state == TASK_RUNNABLE && prev != c->idle && list_empty(&prev->run_list) &&
	    !allowed_here(prev, c->id)) {
		move = prev;
		WRITE_ONCE(prev->cpu, first_allowed_cpu(prev));
	}
	/* prev's stack is no longer in use: it may run elsewhere, or, if it
	 * was a zombie, be freed. */
	WRITE_ONCE(prev->on_cpu, false);
	c->rq.prev = NULL;
	spin_unlock(&c->rq.lock);
	if (move)
		queue_on(move, move->cpu);
	if (state == TASK_DEAD) {
		task_put(prev);
		atomic_dec(&tasks_dying);
	}
}

static struct task *pick_next_locked(struct percpu *c)
{
	struct runqueue *rq = &c->rq;
	struct task *next;

	if (list_empty(&rq->queue))
		return c->idle;
	next = list_first_entry(&rq->queue, struct task, run_list);
	dequeue_locked(rq, next);
	return next;
}

void schedule(void)
{
	struct percpu *c = this_cpu();
	struct task *prev = c->curr, *next;
	uint64_t flags = spin_lock_irqsave(&c->rq.lock);

	c->rq.need_resched = false;
	/* A runnable task stays in the rotation; one that may no longer run
	 * here is moved by sched_finish_switch() once it is off this CPU. */
	if (prev->state == TASK_RUNNABLE && prev != c->idle && allowed_here(prev, c->id))
		enqueue_locked(&c->rq, prev);
	next = pick_next_locked(c);
	if (next != prev) {
		WRITE_ONCE(next->on_cpu, true);
		switch_to(c, prev, next);
		/* prev runs again here, maybe on another CPU. */
		sched_finish_switch();
		irq_restore(flags);
		return;
	}
	spin_unlock_irqrestore(&c->rq.lock, flags);
}

void sched_set_sleeping(struct task *t)
{
	WRITE_ONCE(t->state, TASK_SLEEPING);
}

void sched_set_running(struct task *t)
{
	WRITE_ONCE(t->state, TASK_RUNNABLE);
}

void sched_wake(struct task *t)
{
	uint64_t flags;
	struct runqueue *rq = task_rq_lock(t, &flags);
	unsigned int cpu = t->cpu;
	bool queued = false;

	if (t->state == TASK_SLEEPING) {
		t->state = TASK_RUNNABLE;
		/* Still on its CPU (it has not reached schedule() yet): it will
		 * see RUNNABLE there and stay. Else it waits on the queue. */
		if (!t->on_cpu) {
			enqueue_locked(rq, t);
			queued = true;
		}
	}
	spin_unlock_irqrestore(&rq->lock, flags);
	if (queued)
		kick_cpu(cpu);
}

void sched_kick(struct task *t)
{
	unsigned int cpu = READ_ONCE(t->cpu);

	if (READ_ONCE(t->on_cpu) && cpu != cpu_id())
		smp_send_reschedule(cpu);
}

void sched_add_new(struct task *t)
{
	uint64_t flags;
	unsigned int cpu = cpu_id();
	struct runqueue *rq;

	if (!allowed_here(t, cpu))
		cpu = first_allowed_cpu(t);
	t->cpu = cpu;
	t->state = TASK_RUNNABLE;
	rq = cpu_rq(cpu);
	flags = spin_lock_irqsave(&rq->lock);
	enqueue_locked(rq, t);
	spin_unlock_irqrestore(&rq->lock, flags);
	kick_cpu(cpu);
	smp_kick_idle_cpu(); /* an idle CPU may pull it, or what it displaces */
}

/* ---- the tick, idle, and moving work ---- */

void sched_tick(void)
{
	struct runqueue *rq = &this_cpu()->rq;

	if (READ_ONCE(rq->nr_queued))
		rq->need_resched = true;
}

bool sched_need_resched(void)
{
	return READ_ONCE(this_cpu()->rq.need_resched);
}

/* Take one queued task that may run here from the busiest other CPU and
 * queue it here. Returns true if one came. */
static bool pull_task(void)
{
	unsigned int self = cpu_id(), best = self, most = 0;
	struct task *got = NULL;
	uint64_t flags;

	if (!READ_ONCE(balance_on))
		return false;
	for (unsigned int cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (cpu == self || !(READ_ONCE(cpu_online_mask) & (1ULL << cpu)))
			continue;
		if (READ_ONCE(cpu_rq(cpu)->nr_queued) > most) {
			most = READ_ONCE(cpu_rq(cpu)->nr_queued);
			best = cpu;
		}
	}
	if (best == self)
		return false;
	/* Both queues locked, in CPU order (so two CPUs pulling from each
	 * other cannot deadlock): the task is never in no queue with its cpu
	 * saying one thing, which a wakeup or sched_set_affinity() could see. */
	flags = irq_save();
	spin_lock(&cpu_rq(MIN(best, self))->lock);
	spin_lock(&cpu_rq(MAX(best, self))->lock);
	struct list_head *pos;
	list_for_each(pos, &cpu_rq(best)->queue) {
		struct task *t = list_entry(pos, struct task, run_list);
		if (!t->on_cpu && allowed_here(t, self)) {
			dequeue_locked(cpu_rq(best), t);
			WRITE_ONCE(t->cpu, self);
			enqueue_locked(&this_cpu()->rq, t);
			got = t;
			break;
		}
	}
	spin_unlock(&cpu_rq(MAX(best, self))->lock);
	spin_unlock(&cpu_rq(MIN(best, self))->lock);
	irq_restore(flags);
	return got != NULL;
}

/* The idle loop: the boot context after kmain has started init, and each
 * other CPU's after it came up. Interrupts are off while it decides to
 * halt, and STI;HLT cannot be split by an interrupt, so a wakeup that
 * comes in between is not missed. */
__attribute__((noreturn)) void sched_idle_loop(void)
{
	for (;;) {
		cli();
		if (READ_ONCE(this_cpu()->rq.nr_queued) || pull_task()) {
			schedule();
			continue;
		}
		/* Nothing to run: initialise deferred frame descriptors, a
		 * block at a time with interrupts off, letting them in
		 * between (the instruction after STI runs before they do). */
		if (pmm_deferred_step()) {
			sti();
			cpu_relax();
			continue;
		}
		sti();
		hlt();
	}
}

/* context_switch() (arch/x86/switch.asm) left six registers, RBP the
 * sixth, and its return address at the saved RSP. The run-queue lock
 * keeps t off every CPU while its stack is read. */
int sched_task_backtrace(struct task *t, uintptr_t *out, int max)
{
	uintptr_t lo = t->kstack_top - KSTACK_SIZE, hi = t->kstack_top;
	uint64_t flags;
	struct runqueue *rq = task_rq_lock(t, &flags);
	const uintptr_t *saved = (const uintptr_t *)t->saved_rsp;
	int n = -1;

	if (!t->on_cpu) {
		n = 0;
		if (max > 0 && t->saved_rsp >= lo && t->saved_rsp + 7 * sizeof(uintptr_t) <= hi) {
			out[n++] = saved[6];
			n += backtrace_collect_within(saved[5], lo, hi, out + 1, max - 1);
		}
	}
	spin_unlock_irqrestore(&rq->lock, flags);
	return n;
}

void sched_wait_off_cpu(struct task *t)
{
	while (READ_ONCE(t->on_cpu))
		cpu_relax();
}

int sched_set_affinity(struct task *t, uint64_t mask)
{
	struct runqueue *rq;
	uint64_t flags;
	int move_to = -1, poke = -1;

	if (!(mask & READ_ONCE(cpu_online_mask)))
		return -EINVAL;
	rq = task_rq_lock(t, &flags);
	t->cpus_allowed = mask;
	if (!allowed_here(t, t->cpu)) {
		if (t->on_cpu) {
			/* Running (here or elsewhere): it moves when it next
			 * leaves its CPU (sched_finish_switch()). */
			rq->need_resched = true;
			poke = t->cpu;
		} else {
			if (!list_empty(&t->run_list)) {
				dequeue_locked(rq, t);
				move_to = first_allowed_cpu(t);
			}
			WRITE_ONCE(t->cpu, first_allowed_cpu(t)); /* a sleeper wakes there */
		}
	}
	spin_unlock_irqrestore(&rq->lock, flags);
	if (move_to >= 0)
		queue_on(t, (unsigned int)move_to);
	if (poke >= 0 && t == current)
		schedule();
	else if (poke >= 0)
		kick_cpu((unsigned int)poke);
	return 0;
}
