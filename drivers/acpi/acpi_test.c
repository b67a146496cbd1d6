/* Tests of ACPI: the checksum and the \_S5 decoder on synthetic data, then
 * the tables this machine's firmware really provides. */
#include <pagoda/acpi.h>
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/string.h>

#define RSDP_REVISION_OFFSET 15 /* ACPI 6.5, 5.2.5.3, Table 5.3 */

struct fake_table {
	struct acpi_sdt_header hdr;
	uint8_t body[12];
};

/* A table with a correct checksum. */
static void make_fake_table(struct fake_table *ft)
{
	uint8_t sum = 0;

	memset(ft, 0, sizeof(*ft));
	memcpy(ft->hdr.signature, "TEST", 4);
	ft->hdr.length = sizeof(*ft);
	ft->hdr.revision = 1;
	for (size_t i = 0; i < sizeof(ft->body); i++)
		ft->body[i] = (uint8_t)(0x30 + 7 * i);
	for (size_t i = 0; i < sizeof(*ft); i++)
		sum += ((const uint8_t *)ft)[i];
	ft->hdr.checksum = (uint8_t)-sum;
}

static void acpi_checksum_accepts_valid_table(struct ktest *t)
{
	struct fake_table ft;

	make_fake_table(&ft);
	KEXPECT_TRUE(t, acpi_checksum_ok(&ft, ft.hdr.length));
}

static void acpi_checksum_rejects_corrupted_table(struct ktest *t)
{
	struct fake_table ft;

	make_fake_table(&ft);
	ft.body[5] ^= 0x10;
	KEXPECT_FALSE(t, acpi_checksum_ok(&ft, ft.hdr.length));
}

static void acpi_s5_decodes_byteprefix_package(struct ktest *t)
{
	/* Scope noise, then Name (_S5, Package (4) { 5, 7, 0, 0 }). */
	static const uint8_t aml[] = { 0x10, 0x05, 0x5c, 0x00, 0x01, 0x08, '_', 'S', '5', '_',
				       0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x07, 0x00, 0x00 };
	uint8_t a = 0xee, b = 0xee;

	KASSERT_EQ(t, acpi_decode_s5(aml, sizeof(aml), &a, &b), 0);
	KEXPECT_EQ(t, a, 5);
	KEXPECT_EQ(t, b, 7);
}

static void acpi_s5_decodes_zeroop_oneop_package(struct ktest *t)
{
	/* Name (\_S5, Package (4) { Zero, One, Zero, Zero }): QEMU's form. */
	static const uint8_t aml[] = { 0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
				       0x00, 0x01, 0x00, 0x00 };
	uint8_t a = 0xee, b = 0xee;

	KASSERT_EQ(t, acpi_decode_s5(aml, sizeof(aml), &a, &b), 0);
	KEXPECT_EQ(t, a, 0);
	KEXPECT_EQ(t, b, 1);
}

static void acpi_s5_decodes_two_byte_pkglength(struct ktest *t)
{
	/* Package (8) { 3, 4, 0, 0, 0, 0, 0, 0 }: 19 bytes after PackageOp,
	 * so PkgLength takes two bytes: 0x43 (one more byte, low nibble 3)
	 * and 0x01 (bits 11:4). */
	static const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x43, 0x01, 0x08,
				       0x0a, 0x03, 0x0a, 0x04, 0x0a, 0x00, 0x0a, 0x00,
				       0x0a, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x0a, 0x00 };
	uint8_t a = 0xee, b = 0xee;

	BUILD_BUG_ON(sizeof(aml) != 6 + 0x13);
	KASSERT_EQ(t, acpi_decode_s5(aml, sizeof(aml), &a, &b), 0);
	KEXPECT_EQ(t, a, 3);
	KEXPECT_EQ(t, b, 4);
	/* One byte short of what PkgLength claims. */
	KEXPECT_EQ(t, acpi_decode_s5(aml, sizeof(aml) - 1, &a, &b), -EINVAL);
}

static void acpi_s5_skips_name_not_after_nameop(struct ktest *t)
{
	/* "_S5_" inside a string first, then the real declaration. */
	static const uint8_t aml[] = { 0x0d, '_', 'S', '5', '_', 0x00, 0x12, 0x00,
				       0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
				       0x0a, 0x02, 0x0a, 0x06, 0x00, 0x00 };
	uint8_t a = 0xee, b = 0xee;

	KASSERT_EQ(t, acpi_decode_s5(aml, sizeof(aml), &a, &b), 0);
	KEXPECT_EQ(t, a, 2);
	KEXPECT_EQ(t, b, 6);
}

static void acpi_s5_truncated_buffer_is_einval(struct ktest *t)
{
	/* The package claims 8 bytes but the buffer ends after SLP_TYPa. */
	static const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05 };
	static const uint8_t short_pkg[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x02, 0x0a,
					     0x05, 0x0a, 0x05 };
	uint8_t a, b;

	KEXPECT_EQ(t, acpi_decode_s5(aml, sizeof(aml), &a, &b), -EINVAL);
	/* The buffer ends right after the name. */
	KEXPECT_EQ(t, acpi_decode_s5(aml, 5, &a, &b), -EINVAL);
	/* PkgLength fits the buffer but ends inside the first element. */
	KEXPECT_EQ(t, acpi_decode_s5(short_pkg, sizeof(short_pkg), &a, &b), -EINVAL);
}

static void acpi_s5_missing_name_is_enoent(struct ktest *t)
{
	/* Only Name (_S4, Package (4) { 5, 5, 0, 0 }). */
	static const uint8_t aml[] = { 0x08, '_', 'S', '4', '_', 0x12, 0x08, 0x04,
				       0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	uint8_t a, b;

	KEXPECT_EQ(t, acpi_decode_s5(aml, sizeof(aml), &a, &b), -ENOENT);
	KEXPECT_EQ(t, acpi_decode_s5(aml, 0, &a, &b), -ENOENT);
}

static bool acpi_absent(struct ktest *t)
{
	if (acpi_root_table())
		return false;
	ktest_skip(t, "no ACPI tables found at boot");
	return true;
}

static void acpi_finds_valid_fadt(struct ktest *t)
{
	const struct acpi_sdt_header *h;

	if (acpi_absent(t))
		return;
	h = acpi_find_table("FACP", 0);
	KASSERT_NOT_NULL(t, h);
	KEXPECT_EQ(t, memcmp(h->signature, "FACP", 4), 0);
	KEXPECT_TRUE(t, acpi_checksum_ok(h, h->length));
	KEXPECT_NULL(t, acpi_find_table("ZZZZ", 0));
	ktest_log(t, "FADT revision %u, %u bytes, OEM %.6s", h->revision, h->length, h->oem_id);
}

static void acpi_rsdp_revision_matches_boot_info(struct ktest *t)
{
	const struct acpi_sdt_header *root;

	if (acpi_absent(t))
		return;
	root = acpi_root_table();
	ktest_log(t, "boot loader tag: ACPI %s; RSDP revision %u; root table %.4s",
		  boot_info.rsdp_revision == 2 ? "new" : "old", acpi_rsdp_revision(),
		  root->signature);
	KEXPECT_EQ(t, acpi_rsdp_revision(), boot_info.rsdp[RSDP_REVISION_OFFSET]);
	if (boot_info.rsdp_revision == 2 && acpi_rsdp_revision() >= 2)
		KEXPECT_EQ(t, memcmp(root->signature, "XSDT", 4), 0);
	else
		KEXPECT_EQ(t, memcmp(root->signature, "RSDT", 4), 0);
}

static void acpi_real_tables_yield_s5_package(struct ktest *t)
{
	const struct acpi_sdt_header *where = NULL;
	uint8_t a, b;

	if (acpi_absent(t))
		return;
	KASSERT_NOT_NULL(t, acpi_find_table("DSDT", 0));
	KASSERT_EQ(t, acpi_find_s5(&a, &b, &where), 0);
	KASSERT_NOT_NULL(t, where);
	ktest_log(t, "\\_S5 in the %.4s: SLP_TYPa %u, SLP_TYPb %u", where->signature, a, b);
	/* QEMU's own tables declare it in the DSDT; SeaBIOS's fallback
	 * tables (QEMU with acpi=off) in an SSDT, which is fine too. */
	KEXPECT_TRUE(t, memcmp(where->signature, "DSDT", 4) == 0 ||
				memcmp(where->signature, "SSDT", 4) == 0);
}

static const struct ktest_case acpi_cases[] = {
	KTEST_CASE(acpi_checksum_accepts_valid_table),
	KTEST_CASE(acpi_checksum_rejects_corrupted_table),
	KTEST_CASE(acpi_s5_decodes_byteprefix_package),
	KTEST_CASE(acpi_s5_decodes_zeroop_oneop_package),
	KTEST_CASE(acpi_s5_decodes_two_byte_pkglength),
	KTEST_CASE(acpi_s5_skips_name_not_after_nameop),
	KTEST_CASE(acpi_s5_truncated_buffer_is_einval),
	KTEST_CASE(acpi_s5_missing_name_is_enoent),
	KTEST_CASE(acpi_finds_valid_fadt),
	KTEST_CASE(acpi_rsdp_revision_matches_boot_info),
	KTEST_CASE(acpi_real_tables_yield_s5_package),
};
KTEST_SUITE(acpi, acpi_cases);
