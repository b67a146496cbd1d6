/* Many CPUs: bringing the others up (arch/x86/smpboot.c), and the
 * interrupts CPUs send each other (kernel/smp.c).
 *
 * A cross-call runs a function on other CPUs and waits until each has run
 * it: TLB shootdowns are made of them. The function runs in interrupt
 * context on the target (or on a CPU spinning with interrupts off, which
 * polls for calls so that two CPUs calling each other cannot deadlock),
 * so it must be short and take no lock. */
#ifndef PAGODA_SMP_H
#define PAGODA_SMP_H

#include <pagoda/types.h>

/* Interrupt vectors of the IPIs (below the spurious vector 0xff). */
#define IPI_RESCHEDULE_VECTOR 0xf0
#define IPI_CALL_VECTOR 0xf1

typedef void (*smp_call_fn)(void *arg);

/* Run fn(arg) on every online CPU in mask (this one included, directly),
 * and return when all have. */
void smp_call_mask(uint64_t mask, smp_call_fn fn, void *arg);

/* Run any calls other CPUs queued for this one (from the IPI, and from
 * loops that wait with interrupts off). */
void smp_poll_calls(void);

/* Ask cpu to look at its run queue (a wakeup or new work for it). */
void smp_send_reschedule(unsigned int cpu);
/* New work exists: wake one idle CPU, if any, so that it pulls some. */
void smp_kick_idle_cpu(void);

/* Install the IPI handlers (once, on the boot CPU). */
void smp_ipi_init(void);

/* Start the other CPUs listed in the ACPI MADT (arch/x86/smpboot.c),
 * obeying nosmp and maxcpus=N. Returns how many CPUs are online. */
unsigned int smp_boot_cpus(void);

/* The CPUs the firmware listed, and how many the kernel brought up. */
unsigned int smp_cpus_listed(void);

/* Counters for tests: IPIs this CPU handled, by kind. */
uint64_t smp_ipis_handled(unsigned int cpu);

#endif
