/* ACPI: finding tables from the RSDP, and powering off (drivers/acpi/acpi.c). */
#ifndef PAGODA_ACPI_H
#define PAGODA_ACPI_H

#include <pagoda/bootinfo.h>
#include <pagoda/compiler.h>
#include <pagoda/types.h>

/* System description table header (ACPI 6.5, 5.2.6). */
struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

/* Find the RSDT/XSDT from the RSDP copy in bi and the FADT behind it.
 * Returns 0, or a negative errno with a warning naming what was wrong
 * (a bad checksum, a missing table); the kernel runs on without ACPI. */
int acpi_init(const struct boot_info *bi);

/* The index-th table with signature sig ("FACP", "MCFG", ...), mapped and
 * checksum-verified, or NULL. */
const struct acpi_sdt_header *acpi_find_table(const char *sig, unsigned int index);

/* Enter S5 (soft off) through the FADT's PM1a/PM1b control blocks with the
 * sleep type from the \_S5 package (acpi_find_s5()). Returns a negative errno if ACPI
 * cannot do it; does not return otherwise. */
int acpi_poweroff(void);

/* The revision byte of the RSDP in use (0: ACPI 1.0, 2: ACPI 2.0+), and the
 * root table it led to ("RSDT" or "XSDT"), or NULL before/without acpi_init(). */
unsigned int acpi_rsdp_revision(void);
const struct acpi_sdt_header *acpi_root_table(void);

/* True when the len bytes at buf sum to zero modulo 256, as the RSDP and
 * every system description table must (ACPI 6.5, 5.2.5.3 and 5.2.6). */
bool acpi_checksum_ok(const void *buf, size_t len);

/* The \_S5 package of a DSDT, decoded from its AML body (the bytes after
 * the table header): finds NameOp "_S5_" followed by a PackageOp and reads
 * its first two integers (BytePrefix n, ZeroOp or OneOp) as SLP_TYPa and
 * SLP_TYPb. Returns 0, -ENOENT if no such name is there, or -EINVAL if the
 * package is truncated or its elements are not of those forms. A pure
 * function of the buffer, so it can be tested on synthetic AML. */
int acpi_decode_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb);

/* The \_S5 sleep types of this machine: from the DSDT, else from the first
 * SSDT that declares \_S5 (SeaBIOS's own tables put it there). Stores the
 * table it came from in *where if where is not NULL. Returns 0, -ENODEV
 * without a DSDT, or acpi_decode_s5()'s error. */
int acpi_find_s5(uint8_t *slp_typa, uint8_t *slp_typb, const struct acpi_sdt_header **where);

#endif
