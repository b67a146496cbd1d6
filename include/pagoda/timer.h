/* Time: the local APIC timer, calibrated against the PIT, ticking at
 * TIMER_HZ; and the TSC rate measured on the way (arch/x86/lapic.c). */
#ifndef PAGODA_TIMER_H
#define PAGODA_TIMER_H

#include <pagoda/types.h>

#define TIMER_HZ 100
#define NSEC_PER_SEC 1000000000ULL

/* Map the local APIC, calibrate its timer and the TSC against PIT channel 2,
 * start periodic ticks on vector TIMER_VECTOR, mask the legacy 8259 PICs.
 * Returns 0 or a negative errno (no APIC). */
int timer_init(void);
#define TIMER_VECTOR 0x20

/* Spin for at least us microseconds (TSC-timed; after timer_init()). */
void udelay(uint64_t us);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in ns (kernel/sys_misc.c). */
uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);

/* Ticks since timer_init(). */
uint64_t timer_ticks(void);
/* TSC frequency in Hz as measured at boot (0 before timer_init). */
uint64_t tsc_hz(void);
/* Local APIC timer counts per tick, for the boot log and tests. */
uint32_t lapic_timer_count_per_tick(void);

/* Send end-of-interrupt to the local APIC. */
void lapic_eoi(void);

/* The legacy 8259 PICs (arch/x86/pic.c). Remap them to vectors 0x20-0x2f,
 * so that a spurious legacy IRQ never looks like an exception, and mask
 * every line: the local APIC timer replaces them. */
#define PIC_MASTER_VECTOR 0x20
#define PIC_SLAVE_VECTOR 0x28
void pic_disable(void);
/* The interrupt mask registers: slave << 8 | master (0xffff: all masked). */
uint16_t pic_masks(void);

/* PIT channel 2 as a one-shot stopwatch (arch/x86/pit.c): gated by port 0x61,
 * so it needs no interrupt. */
#define PIT_HZ 1193182 /* input clock, Hz */
/* Start counting down ticks (>= 1) input clocks. */
void pit_oneshot_start(uint16_t ticks);
/* True once the countdown started by pit_oneshot_start() has reached 0. */
bool pit_oneshot_expired(void);

#endif
