/* The ACPI MADT, "APIC" (drivers/acpi/madt.c): the list of the machine's
 * processors, each by its local APIC ID (ACPI 6.5, 5.2.12). */
#ifndef PAGODA_MADT_H
#define PAGODA_MADT_H

#include <pagoda/acpi.h>
#include <pagoda/types.h>

struct madt_cpu {
	uint32_t apic_id;
	bool x2apic; /* listed by a Processor Local x2APIC entry (type 9) */
};

/* The processors a MADT lists as usable (enabled, or online-capable), in
 * table order, without duplicates: at most max into out. Returns how many,
 * or -EINVAL for a malformed table (an entry shorter than its type's
 * minimum, or running past the table), with nothing trusted. A pure
 * function of the bytes, so it can be tested on synthetic tables. */
int madt_parse(const struct acpi_sdt_header *madt, struct madt_cpu *out, int max);

/* The same for this machine's MADT: -ENODEV without one. */
int acpi_madt_cpus(struct madt_cpu *out, int max);

#endif
