/* The MADT ("APIC"): which processors the machine has (ACPI 6.5, 5.2.12).
 *
 *   header (36 bytes) | local APIC address (4) | flags (4) | entries...
 *   each entry: type (1) | length (1) | ...
 *     type 0, Processor Local APIC (8 bytes): uid (1), APIC ID (1), flags (4)
 *     type 9, Processor Local x2APIC (16 bytes): reserved (2), x2APIC ID (4),
 *             flags (4), uid (4)
 *   flags bit 0: enabled; bit 1: online capable (may be enabled later).
 *
 * A processor whose APIC ID is above 254 appears only as x2APIC; Pagoda
 * drives the APIC in xAPIC mode, which can address IDs up to 254, so such
 * processors are listed here and left out by the bring-up, with a message. */
#include <pagoda/errno.h>
#include <pagoda/madt.h>
#include <pagoda/string.h>

#define MADT_HEADER_LEN 44 /* SDT header, local APIC address, flags */
#define MADT_LAPIC 0
#define MADT_X2APIC 9
#define MADT_LAPIC_LEN 8
#define MADT_X2APIC_LEN 16
#define MADT_ENABLED (1U << 0)
#define MADT_ONLINE_CAPABLE (1U << 1)

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Add apic_id to out unless it is there already. */
static int add_cpu(struct madt_cpu *out, int n, int max, uint32_t apic_id, bool x2apic)
{
	for (int i = 0; i < n; i++)
		if (out[i].apic_id == apic_id)
			return n;
	if (n < max)
		out[n] = (struct madt_cpu){ apic_id, x2apic };
	return n < max ? n + 1 : n;
}

int madt_parse(const struct acpi_sdt_header *madt, struct madt_cpu *out, int max)
{
	const uint8_t *p = (const uint8_t *)madt;
	uint32_t len = madt->length, off = MADT_HEADER_LEN;
	int n = 0;

	if (len < MADT_HEADER_LEN || memcmp(madt->signature, "APIC", 4) != 0)
		return -EINVAL;
	while (off + 2 <= len) {
		uint8_t type = p[off], elen = p[off + 1];
		if (elen < 2 || off + elen > len)
			return -EINVAL; /* a zero length would loop forever */
		if (type == MADT_LAPIC) {
			if (elen < MADT_LAPIC_LEN)
				return -EINVAL;
			if (get32(p + off + 4) & (MADT_ENABLED | MADT_ONLINE_CAPABLE))
				n = add_cpu(out, n, max, p[off + 3], false);
		} else if (type == MADT_X2APIC) {
			if (elen < MADT_X2APIC_LEN)
				return -EINVAL;
			if (get32(p + off + 8) & (MADT_ENABLED | MADT_ONLINE_CAPABLE))
				n = add_cpu(out, n, max, get32(p + off + 4), true);
		}
		off += elen;
	}
	return off == len ? n : -EINVAL;
}

int acpi_madt_cpus(struct madt_cpu *out, int max)
{
	const struct acpi_sdt_header *madt = acpi_find_table("APIC", 0);

	return madt ? madt_parse(madt, out, max) : -ENODEV;
}
