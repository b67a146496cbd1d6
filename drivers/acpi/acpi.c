/* ACPI: the tables the firmware left in memory, and soft-off (S5).
 *
 *   RSDP (GRUB's copy in boot_info)
 *     revision 0: rsdt_address (32-bit) -> RSDT: 32-bit table addresses
 *     revision 2: xsdt_address (64-bit) -> XSDT: 64-bit table addresses
 *   each address -> a table starting with struct acpi_sdt_header;
 *   "FACP" (the FADT) -> the DSDT (AML) and the PM1 control I/O ports.
 *
 * Tables are mapped through the fixmap, which never unmaps, so a pointer
 * handed out here stays valid for good. Only tables whose checksum is right
 * are kept; acpi_find_table() never returns a corrupt one. */
#define pr_fmt(fmt) "acpi: " fmt

#include <pagoda/acpi.h>
#include <pagoda/errno.h>
#include <pagoda/fixmap.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <asm/x86.h>

/* Root System Description Pointer (ACPI 6.5, 5.2.5.3, Table 5.3). */
struct acpi_rsdp {
	char signature[8];         /* "RSD PTR " */
	uint8_t checksum;          /* over the first RSDP_V1_LEN bytes */
	char oem_id[6];
	uint8_t revision;          /* 0: ACPI 1.0; 2: ACPI 2.0 and later */
	uint32_t rsdt_address;
	uint32_t length;           /* revision 2 only, from here on */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all length bytes */
	uint8_t reserved[3];
} __packed;
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
BUILD_BUG_ON(sizeof(struct acpi_rsdp) != RSDP_V2_LEN);

/* Generic Address Structure (ACPI 6.5, 5.2.3.2, Table 5.1). */
struct acpi_gas {
	uint8_t space_id; /* ACPI_SPACE_* */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __packed;
#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO 1

/* Fixed ACPI Description Table, up to the fields used here (ACPI 6.5,
 * 5.2.9, Table 5.9). Fields past the table's length are absent: ACPI 1.0
 * FADTs end at offset 116, before every X_ field. */
struct acpi_fadt {
	struct acpi_sdt_header hdr;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0, preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk;
	uint32_t pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t lengths_and_latencies[21]; /* PM1_EVT_LEN ... CENTURY */
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk, x_pm1b_cnt_blk;
} __packed;
BUILD_BUG_ON(__builtin_offsetof(struct acpi_fadt, smi_cmd) != 48);
BUILD_BUG_ON(__builtin_offsetof(struct acpi_fadt, pm1a_cnt_blk) != 64);
BUILD_BUG_ON(__builtin_offsetof(struct acpi_fadt, flags) != 112);
BUILD_BUG_ON(__builtin_offsetof(struct acpi_fadt, x_dsdt) != 140);
BUILD_BUG_ON(__builtin_offsetof(struct acpi_fadt, x_pm1a_cnt_blk) != 172);

/* Is field present in the FADT f, given the length the table declares? */
#define FADT_HAS(f, field) \
	((f)->hdr.length >= __builtin_offsetof(struct acpi_fadt, field) + sizeof((f)->field))
#define FADT_REV_X_FIELDS 2 /* the X_ fields came with FADT revision 2+ */

/* PM1 control register bits (ACPI 6.5, 4.8.3.2.1, Table 4.13). */
#define PM1_SCI_EN (1U << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7U << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN (1U << 13)

/* AML encodings (ACPI 6.5, 20.2.3 Data Objects, 20.2.4 Package Length,
 * 20.2.5 Term Objects): DefName := NameOp NameString DataRefObject and
 * DefPackage := PackageOp PkgLength NumElements PackageElementList. */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR 0x5c /* '\' */

#define ACPI_MAP_ALIGN (2ULL << 20)           /* the fixmap's slot size */
#define ACPI_TABLE_MAX_LEN (4U << 20)         /* larger is a corrupt length */
#define ACPI_MAX_TABLES 64
#define ACPI_ENABLE_POLLS 1000000             /* reads of PM1a_CNT, ~1 s */
#define S5_SETTLE_READS 1000000               /* ~1 s: an ISA-speed read is ~1 us */

static unsigned int rsdp_revision;
static const struct acpi_sdt_header *root_table;
/* The checksum-verified tables: those the root table lists, then the DSDT. */
static const struct acpi_sdt_header *tables[ACPI_MAX_TABLES];
static unsigned int nr_tables;

/* The last window handed to fixmap_map(), [win_phys, win_phys + win_size):
 * most tables share one 2 MiB window, so most lookups end here. */
static phys_addr_t win_phys;
static uint64_t win_size;
static uint8_t *win_virt;

bool acpi_checksum_ok(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return sum == 0;
}

/* Map [phys, phys + size) write-back. Returns its virtual address or NULL
 * when the fixmap is out of slots or the range is bad. */
static const void *acpi_map(phys_addr_t phys, uint64_t size)
{
	phys_addr_t base = ALIGN_DOWN(phys, ACPI_MAP_ALIGN);
	uint64_t end = ALIGN_UP(phys + size, ACPI_MAP_ALIGN);
	uint8_t *va;

	if (size == 0 || phys + size < phys || end < phys)
		return NULL;
	if (win_virt && phys >= win_phys && phys + size <= win_phys + win_size)
		return win_virt + (phys - win_phys);
	va = fixmap_map(base, end - base, CACHE_WB);
	if (!va)
		return NULL;
	win_phys = base;
	win_size = end - base;
	win_virt = va;
	return va + (phys - base);
}

/* Map the table at phys: its header, to learn its length, then all of it.
 * Returns NULL, with a warning, if it cannot be mapped, its length is
 * absurd or its checksum is wrong. */
static const struct acpi_sdt_header *map_table(phys_addr_t phys)
{
	const struct acpi_sdt_header *h = acpi_map(phys, sizeof(*h));
	uint32_t len;

	if (!h) {
		pr_warn("cannot map a table at %#llx\n", (unsigned long long)phys);
		return NULL;
	}
	len = h->length;
	if (len < sizeof(*h) || len > ACPI_TABLE_MAX_LEN) {
		pr_warn("%.4s at %#llx: bad length %u; ignored\n", h->signature,
			(unsigned long long)phys, len);
		return NULL;
	}
	h = acpi_map(phys, len);
	if (!h) {
		pr_warn("cannot map a table at %#llx\n", (unsigned long long)phys);
		return NULL;
	}
	if (!acpi_checksum_ok(h, len)) {
		pr_warn("%.4s at %#llx: bad checksum; ignored\n", h->signature,
			(unsigned long long)phys);
		return NULL;
	}
	return h;
}

/* Map, verify and remember the table at phys. Returns it or NULL. */
static const struct acpi_sdt_header *add_table(phys_addr_t phys)
{
	const struct acpi_sdt_header *h;

	if (phys == 0)
		return NULL;
	if (nr_tables == ACPI_MAX_TABLES) {
		pr_warn("more than %d tables; ignoring the rest\n", ACPI_MAX_TABLES);
		return NULL;
	}
	h = map_table(phys);
	if (h)
		tables[nr_tables++] = h;
	return h;
}

/* Check the RSDP copy bi holds. Returns it, or NULL with a warning. */
static const struct acpi_rsdp *check_rsdp(const struct boot_info *bi)
{
	const struct acpi_rsdp *r = (const void *)bi->rsdp;

	if (bi->rsdp_revision == 0) {
		pr_warn("the boot loader passed no RSDP; running without ACPI\n");
		return NULL;
	}
	if (memcmp(r->signature, "RSD PTR ", 8) != 0 || !acpi_checksum_ok(r, RSDP_V1_LEN)) {
		pr_warn("RSDP: bad signature or checksum; running without ACPI\n");
		return NULL;
	}
	return r;
}

/* Does the RSDP lead to a usable XSDT address? Only an ACPI 2.0 RSDP of
 * which GRUB copied all 36 bytes, with a valid extended checksum. */
static bool rsdp_has_xsdt(const struct boot_info *bi, const struct acpi_rsdp *r)
{
	if (bi->rsdp_revision < 2 || r->revision < 2 || r->xsdt_address == 0)
		return false;
	if (r->length < RSDP_V2_LEN || !acpi_checksum_ok(r, RSDP_V2_LEN)) {
		pr_warn("RSDP: bad extended checksum; using the RSDT\n");
		return false;
	}
	return true;
}

/* Map the root table (sig "RSDT" or "XSDT", entries of entry_size bytes)
 * at phys and every table it lists. Returns 0 or a negative errno. */
static int load_root(phys_addr_t phys, const char *sig, size_t entry_size)
{
	const struct acpi_sdt_header *root = map_table(phys);
	const uint8_t *entry;
	size_t n;

	if (!root)
		return -EINVAL;
	if (memcmp(root->signature, sig, 4) != 0) {
		pr_warn("%s at %#llx has signature %.4s; ignored\n", sig,
			(unsigned long long)phys, root->signature);
		return -EINVAL;
	}
	entry = (const uint8_t *)(root + 1);
	n = (root->length - sizeof(*root)) / entry_size;
	for (size_t i = 0; i < n; i++, entry += entry_size) {
		uint64_t a64 = 0;
		uint32_t a32 = 0;

		/* XSDT entries are 8 bytes at a 4-byte alignment: copy them. */
		if (entry_size == 8)
			memcpy(&a64, entry, 8);
		else
			memcpy(&a32, entry, 4);
		add_table(entry_size == 8 ? a64 : a32);
	}
	root_table = root;
	return 0;
}

/* The DSDT's physical address: X_DSDT if the FADT has it and it is set
 * (it may lie above 4 GiB), else the 32-bit DSDT field. */
static phys_addr_t fadt_dsdt(const struct acpi_fadt *f)
{
	if (f->hdr.revision >= FADT_REV_X_FIELDS && FADT_HAS(f, x_dsdt) && f->x_dsdt)
		return f->x_dsdt;
	return f->dsdt;
}

/* Find the FADT and add the DSDT it names. Returns 0 or a negative errno. */
static int load_dsdt(void)
{
	const struct acpi_fadt *f = (const void *)acpi_find_table("FACP", 0);
	const struct acpi_sdt_header *dsdt;

	if (!f) {
		pr_warn("no valid FADT (FACP); no ACPI power control\n");
		return -ENOENT;
	}
	if (f->hdr.length < __builtin_offsetof(struct acpi_fadt, iapc_boot_arch)) {
		pr_warn("FADT too short (%u bytes)\n", f->hdr.length);
		return -EINVAL;
	}
	dsdt = add_table(fadt_dsdt(f));
	if (!dsdt || memcmp(dsdt->signature, "DSDT", 4) != 0) {
		pr_warn("no valid DSDT at %#llx\n", (unsigned long long)fadt_dsdt(f));
		if (dsdt)
			nr_tables--;
		return -ENOENT;
	}
	return 0;
}

static void print_tables(void)
{
	char sigs[ACPI_MAX_TABLES * 5 + 1];
	size_t pos = 0;

	sigs[0] = '\0';
	for (unsigned int i = 0; i < nr_tables; i++)
		pos += snprintf(sigs + pos, sizeof(sigs) - pos, " %.4s", tables[i]->signature);
	pr_info("RSDP revision %u, %.4s, %u tables:%s\n", rsdp_revision,
		root_table->signature, nr_tables, sigs);
}

int acpi_init(const struct boot_info *bi)
{
	const struct acpi_rsdp *r = check_rsdp(bi);
	int err = -EINVAL;

	if (!r)
		return bi->rsdp_revision ? -EINVAL : -ENODEV;
	rsdp_revision = r->revision;
	if (rsdp_has_xsdt(bi, r))
		err = load_root(r->xsdt_address, "XSDT", sizeof(uint64_t));
	if (err && r->rsdt_address)
		err = load_root(r->rsdt_address, "RSDT", sizeof(uint32_t));
	if (err) {
		pr_warn("no usable RSDT or XSDT; running without ACPI\n");
		return err;
	}
	err = load_dsdt();
	print_tables();
	return err;
}

const struct acpi_sdt_header *acpi_find_table(const char *sig, unsigned int index)
{
	for (unsigned int i = 0; i < nr_tables; i++)
		if (memcmp(tables[i]->signature, sig, 4) == 0 && index-- == 0)
			return tables[i];
	return NULL;
}

unsigned int acpi_rsdp_revision(void)
{
	return rsdp_revision;
}

const struct acpi_sdt_header *acpi_root_table(void)
{
	return root_table;
}

/* Read a PkgLength at p (avail bytes readable): its lead byte's bits 7:6
 * count the bytes that follow it. Stores the length it encodes (counting
 * itself) in *value. Returns the bytes it occupies, or 0 if truncated. */
static size_t aml_pkg_length(const uint8_t *p, size_t avail, uint32_t *value)
{
	size_t n;

	if (avail == 0)
		return 0;
	n = 1 + (p[0] >> 6);
	if (n > avail)
		return 0;
	if (n == 1) {
		*value = p[0] & 0x3f;
		return 1;
	}
	*value = p[0] & 0x0f;
	for (size_t i = 1; i < n; i++)
		*value |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return n;
}

/* Read one small integer (ZeroOp, OneOp or BytePrefix n). Returns the
 * bytes it occupies, or 0 if truncated or of another form. */
static size_t aml_small_int(const uint8_t *p, size_t avail, uint8_t *v)
{
	if (avail == 0)
		return 0;
	switch (p[0]) {
	case AML_ZERO_OP:
		*v = 0;
		return 1;
	case AML_ONE_OP:
		*v = 1;
		return 1;
	case AML_BYTE_PREFIX:
		if (avail < 2)
			return 0;
		*v = p[1];
		return 2;
	}
	return 0;
}

/* Decode the package at p (p[0] is PackageOp, avail bytes readable). */
static int decode_s5_package(const uint8_t *p, size_t avail, uint8_t *a, uint8_t *b)
{
	uint32_t pkg_len;
	size_t off = 1, n;

	n = aml_pkg_length(p + off, avail - off, &pkg_len);
	if (n == 0 || pkg_len > avail - off)
		return -EINVAL;
	avail = off + pkg_len; /* the package ends here, whatever follows */
	off += n;
	if (off >= avail || p[off] < 2) /* NumElements: SLP_TYPa, SLP_TYPb */
		return -EINVAL;
	off++;
	n = aml_small_int(p + off, avail - off, a);
	if (n == 0)
		return -EINVAL;
	off += n;
	return aml_small_int(p + off, avail - off, b) ? 0 : -EINVAL;
}

/* Is aml[i..i+4) the name "_S5_" of a NameOp, as "_S5_" or "\_S5_"? */
static bool aml_is_s5_name(const uint8_t *aml, size_t i)
{
	if (memcmp(aml + i, "_S5_", 4) != 0)
		return false;
	if (i >= 1 && aml[i - 1] == AML_NAME_OP)
		return true;
	return i >= 2 && aml[i - 1] == AML_ROOT_CHAR && aml[i - 2] == AML_NAME_OP;
}

int acpi_decode_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb)
{
	for (size_t i = 0; i + 4 <= len; i++) {
		if (!aml_is_s5_name(aml, i))
			continue;
		if (i + 4 == len)
			return -EINVAL;
		if (aml[i + 4] == AML_PACKAGE_OP)
			return decode_s5_package(aml + i + 4, len - i - 4, slp_typa, slp_typb);
	}
	return -ENOENT;
}

/* The I/O port of a PM1 control block: the X_ field x when the FADT has
 * it (has_x), it is set and it is in I/O space; else the 32-bit field
 * legacy. 0 if there is none usable. */
static uint16_t pm1_cnt_port(const struct acpi_gas *x, bool has_x, uint32_t legacy)
{
	if (has_x && x->address && x->space_id == ACPI_SPACE_IO && x->address <= 0xffff)
		return (uint16_t)x->address;
	if (has_x && x->address && x->space_id != ACPI_SPACE_IO && !legacy)
		pr_warn("PM1 control block in address space %u is not supported\n", x->space_id);
	return legacy <= 0xffff ? (uint16_t)legacy : 0;
}

/* Switch the chipset from legacy (SMM) mode to ACPI mode if the FADT says
 * how and it is not done yet (ACPI 6.5, 16.3.1). Returns 0 or -EIO. */
static int acpi_enable_mode(const struct acpi_fadt *f, uint16_t pm1a)
{
	if (inw(pm1a) & PM1_SCI_EN)
		return 0;
	if (f->smi_cmd == 0 || f->smi_cmd > 0xffff || f->acpi_enable == 0)
		return 0; /* no legacy mode to leave */
	outb((uint16_t)f->smi_cmd, f->acpi_enable);
	for (unsigned int i = 0; i < ACPI_ENABLE_POLLS; i++)
		if (inw(pm1a) & PM1_SCI_EN)
			return 0;
	pr_warn("SCI_EN still clear after ACPI_ENABLE\n");
	return -EIO;
}

/* Write SLP_TYP, then SLP_TYP with SLP_EN, to one PM1 control port. */
static void pm1_enter_sleep(uint16_t port, uint8_t slp_typ)
{
	uint16_t v = inw(port) & ~(PM1_SLP_TYP_MASK | PM1_SLP_EN);

	v |= ((uint16_t)slp_typ << PM1_SLP_TYP_SHIFT) & PM1_SLP_TYP_MASK;
	outw(port, v);
	outw(port, v | PM1_SLP_EN);
}

/* Decode \_S5 from the AML body of table h. */
static int table_decode_s5(const struct acpi_sdt_header *h, uint8_t *a, uint8_t *b)
{
	return acpi_decode_s5((const uint8_t *)(h + 1), h->length - sizeof(*h), a, b);
}

int acpi_find_s5(uint8_t *slp_typa, uint8_t *slp_typb, const struct acpi_sdt_header **where)
{
	const struct acpi_sdt_header *h = acpi_find_table("DSDT", 0);
	int err;

	if (!h)
		return -ENODEV;
	err = table_decode_s5(h, slp_typa, slp_typb);
	for (unsigned int i = 0; err == -ENOENT && (h = acpi_find_table("SSDT", i)); i++)
		err = table_decode_s5(h, slp_typa, slp_typb);
	if (err == 0 && where)
		*where = h;
	return err;
}

int acpi_poweroff(void)
{
	const struct acpi_fadt *f = (const void *)acpi_find_table("FACP", 0);
	uint16_t pm1a, pm1b;
	uint8_t typa, typb;
	bool x;
	int err;

	if (!f)
		return -ENODEV;
	err = acpi_find_s5(&typa, &typb, NULL);
	if (err) {
		pr_warn("no usable \\_S5 package in the DSDT or an SSDT (error %d)\n", err);
		return err;
	}
	x = f->hdr.revision >= FADT_REV_X_FIELDS;
	pm1a = pm1_cnt_port(&f->x_pm1a_cnt_blk, x && FADT_HAS(f, x_pm1a_cnt_blk), f->pm1a_cnt_blk);
	pm1b = pm1_cnt_port(&f->x_pm1b_cnt_blk, x && FADT_HAS(f, x_pm1b_cnt_blk), f->pm1b_cnt_blk);
	if (pm1a == 0) {
		pr_warn("the FADT names no PM1a control port\n");
		return -ENODEV;
	}
	acpi_enable_mode(f, pm1a);
	cli();
	pm1_enter_sleep(pm1a, typa);
	if (pm1b)
		pm1_enter_sleep(pm1b, typb);
	for (unsigned int i = 0; i < S5_SETTLE_READS; i++)
		(void)inw(pm1a);
	pr_err("S5 (SLP_TYPa %u, port %#x) did not power the machine off\n", typa, pm1a);
	return -EIO;
}
