/* Ending a run: QEMU's isa-debug-exit when it is there (the exit status
 * carries a verdict), else ACPI soft-off, else a halt with a message.
 *
 * Detecting isa-debug-exit: QEMU 7.2's hw/misc/debugexit.c answers every
 * read with 0, while a port no device claims reads as all ones (0xff), as
 * on a real ISA bus. Real chipsets leave 0xf4 unclaimed too (0xf0-0xff is
 * the old x87 coprocessor range, of which only 0xf0/0xf1 still decode), so
 * "reads 0" alone would be a weak test on unknown hardware; it is only
 * trusted when CPUID says we run under a hypervisor. A read never triggers
 * the exit, only a write does. */
#define pr_fmt(fmt) "power: " fmt

#include <pagoda/acpi.h>
#include <pagoda/ktest.h>
#include <pagoda/power.h>
#include <pagoda/printk.h>
#include <asm/x86.h>

#define DEBUG_EXIT_READ_VALUE 0x00 /* what debugexit.c returns on reads */
/* CPUID.1:ECX bit 31, reserved for and set by hypervisors (Intel SDM
 * Vol. 2A, CPUID, Table 3-10 "Feature Information Returned in ECX"). */
#define CPUID1_ECX_HYPERVISOR (1U << 31)

static bool running_under_hypervisor(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return c & CPUID1_ECX_HYPERVISOR;
}

bool debug_exit_present(void)
{
	return running_under_hypervisor() && inb(DEBUG_EXIT_PORT) == DEBUG_EXIT_READ_VALUE;
}

static __noreturn void halt_forever(void)
{
	pr_emerg("System halted; it is now safe to turn off the machine.\n");
	for (;;) {
		cli();
		hlt();
	}
}

__noreturn void poweroff(int code)
{
	int err;

	cli();
	ktest_print_summary(); /* the last thing on the screen */
	if (debug_exit_present()) {
		/* QEMU exits at once with status (code << 1) | 1. */
		outl(DEBUG_EXIT_PORT, (uint32_t)code);
		pr_warn("isa-debug-exit did not end QEMU; trying ACPI\n");
	}
	err = acpi_poweroff();
	pr_err("ACPI power-off failed (error %d)\n", err);
	halt_forever();
}
