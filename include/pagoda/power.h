/* Ending a run: power off the machine (drivers/acpi/power.c). */
#ifndef PAGODA_POWER_H
#define PAGODA_POWER_H

#include <pagoda/compiler.h>

/* Power the machine off. If QEMU's isa-debug-exit device is present, QEMU
 * exits with status (code << 1) | 1 instead, which is how make test learns
 * the verdict; otherwise ACPI S5; if both fail, halt with a message. */
__noreturn void poweroff(int code);

#define DEBUG_EXIT_PORT 0xf4 /* QEMU's isa-debug-exit, as make test gives it */
#define PANIC_EXIT_CODE 2    /* the verdict after a panic: QEMU exits with 5 */

/* True when QEMU's isa-debug-exit device answers at port 0xf4. */
bool debug_exit_present(void);

#endif
