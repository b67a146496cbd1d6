/* Per-CPU data: one struct percpu per CPU, found through the GS base
 * (asm/percpu.h), so that this_cpu() costs one load and needs no lock.
 *
 * What is in a CPU's area belongs to that CPU: only code running on it
 * reads or writes it, except where a field says otherwise. Kernel code is
 * not preempted (a task only leaves a CPU in schedule()), so this_cpu()
 * stays valid until the next call that may sleep; after one, call it
 * again. See docs/smp.md. */
#ifndef PAGODA_PERCPU_H
#define PAGODA_PERCPU_H

#include <pagoda/pmm.h>
#include <pagoda/sched.h>
#include <pagoda/types.h>
#include <asm/percpu.h>

#define MAX_CPUS 64

struct task;
struct mm_struct;

/* Interrupts and cross-CPU work this CPU took, as /proc/interrupts shows
 * them (Linux's irq_cpustat_t); each counter is written by its CPU only. */
struct irq_stat {
	unsigned int timer;   /* LOC: local APIC timer ticks */
	unsigned int resched; /* RES: rescheduling IPIs */
	unsigned int call;    /* CAL: cross-call IPIs (kernel/smp.c) */
	unsigned int tlb;     /* TLB: shootdowns run here for another CPU (mm/tlb.c) */
};

struct percpu {
	struct arch_percpu arch;     /* first: %gs:0 is its self pointer */
	unsigned int id;             /* 0 .. nr_cpus - 1; 0 is the boot CPU */
	struct task *curr;           /* the task running here (task.h: current) */
	struct task *idle;           /* this CPU's idle task */
	struct runqueue rq;          /* read by other CPUs under rq.lock */
	struct mm_struct *active_mm; /* whose tables CR3 holds (lazily, for idle) */
	bool tlb_lazy;               /* active_mm is held only lazily: the task here has no
				      * mm; written by this CPU, read by shootdowns (mm/tlb.c) */
	struct pcp_list pcp[NR_ZONES]; /* free single frames (mm/pmm.c) */
	bool online;                 /* written once by the CPU itself */
	bool no_fault_in;            /* tests: a #PF on a user address is not resolved */
	struct irq_stat irqs;        /* written by this CPU, read by /proc/interrupts */
	const void *spin_waiting_on; /* a spinlock this CPU has spun on for long, or NULL, */
	uint32_t spin_ticket;        /* and its ticket there (kernel/spinlock.c's lockup report) */
};

extern struct percpu percpu_areas[MAX_CPUS];

static inline struct percpu *this_cpu(void)
{
	return arch_this_cpu();
}

/* The number of this CPU (Linux's smp_processor_id()). */
static inline unsigned int cpu_id(void)
{
	return this_cpu()->id;
}

static inline struct percpu *cpu_area(unsigned int id)
{
	return &percpu_areas[id];
}

/* Make percpu_areas[id] this CPU's area: GS base, id, APIC ID. Called
 * first thing on each CPU, before anything reads current. */
void percpu_init(unsigned int id, uint32_t apic_id);

#endif
