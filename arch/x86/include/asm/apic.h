/* The local APIC (arch/x86/lapic.c): each CPU's own interrupt controller,
 * its timer, and the interrupts CPUs send each other (Intel SDM Vol. 3A,
 * chapter 11). The boot CPU maps the registers and calibrates the timer
 * in timer_init(); every other CPU finds its own APIC at the same address. */
#ifndef ASM_X86_APIC_H
#define ASM_X86_APIC_H

#include <pagoda/types.h>

/* End of interrupt, on this CPU's APIC. */
void lapic_eoi(void);

/* This CPU's APIC ID (from its APIC, once mapped). */
uint32_t lapic_id(void);

/* Enable this CPU's APIC and start its periodic timer with the boot
 * CPU's calibration (for every CPU but the boot one). */
void lapic_cpu_init(void);

/* A fixed interrupt with vector to the CPU whose APIC ID is apic_id. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);

/* The INIT-SIPI-SIPI start-up sequence's messages (Vol. 3A, 8.4.4):
 * INIT (assert, then de-assert), and a start-up IPI that starts the CPU
 * in real mode at physical page * 4096. */
void lapic_send_init(uint32_t apic_id);
void lapic_send_startup(uint32_t apic_id, uint8_t page);

#endif
