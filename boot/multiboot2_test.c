/* Tests of the multiboot2 parser: the real boot information GRUB gave us,
 * checked against what QEMU was asked for, and synthetic infos that are
 * malformed in one way each. */
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/fwcfg.h>
#include <pagoda/ktest.h>
#include <pagoda/multiboot2.h>
#include <pagoda/string.h>

#define GiB (1ULL << 30)

static void mb2_real_memory_map_matches_qemu_ram(struct ktest *t)
{
	uint64_t given = fwcfg_ram_size(), usable = boot_mmap_usable_bytes(&boot_info);
	uint64_t diff = given > usable ? given - usable : usable - given;

	if (!given) {
		ktest_skip(t, "not under QEMU: no fw_cfg to compare with");
		return;
	}
	ktest_log(t, "QEMU RAM %llu KiB, usable in memory map %llu KiB",
		  (unsigned long long)(given >> 10), (unsigned long long)(usable >> 10));
	KEXPECT_LE(t, diff, given / 100);
}

static void mb2_real_memory_map_has_ram_above_4g(struct ktest *t)
{
	bool above = false;

	if (fwcfg_ram_size() <= 4 * GiB) {
		ktest_skip(t, "4 GiB of RAM or less");
		return;
	}
	for (unsigned int i = 0; i < boot_info.nr_mmap; i++)
		if (boot_info.mmap[i].type == MB2_MEMORY_AVAILABLE &&
		    boot_info.mmap[i].base >= 4 * GiB)
			above = true;
	KEXPECT_TRUE(t, above);
}

/* Build a synthetic boot information in a static buffer. */
static uint8_t mbi_buf[1024] __aligned(8);
static size_t mbi_len;

static void mbi_begin(void)
{
	memset(mbi_buf, 0, sizeof(mbi_buf));
	mbi_len = sizeof(struct mb2_info_header);
}

static void *mbi_add(uint32_t type, uint32_t size)
{
	struct mb2_tag *tag = (void *)(mbi_buf + mbi_len);

	tag->type = type;
	tag->size = size;
	mbi_len += ALIGN_UP((size_t)size, 8);
	return tag;
}

static void mbi_add_mmap(uint64_t base, uint64_t len)
{
	struct mb2_tag_mmap *m = mbi_add(MB2_TAG_MMAP, sizeof(*m) + sizeof(struct mb2_mmap_entry));

	m->entry_size = sizeof(struct mb2_mmap_entry);
	m->entries[0] = (struct mb2_mmap_entry){ .base_addr = base, .length = len, .type = 1 };
}

static int mbi_finish_and_parse(struct boot_info *bi, char *err, size_t errlen)
{
	mbi_add(MB2_TAG_END, 8);
	((struct mb2_info_header *)mbi_buf)->total_size = mbi_len;
	return mb2_parse(mbi_buf, bi, err, errlen);
}

static struct boot_info test_bi;

static void mb2_parse_requires_memory_map(struct ktest *t)
{
	char err[160];

	mbi_begin();
	KASSERT_EQ(t, mbi_finish_and_parse(&test_bi, err, sizeof(err)), -EINVAL);
	ktest_log(t, "error: %s", err);
	KEXPECT_TRUE(t, strncmp(err, "multiboot2: required memory map tag", 35) == 0);
}

static void mb2_parse_keeps_64bit_framebuffer_address(struct ktest *t)
{
	struct mb2_tag_framebuffer *f;
	char err[160];

	mbi_begin();
	mbi_add_mmap(0x100000, 0x1000000);
	f = mbi_add(MB2_TAG_FRAMEBUFFER, sizeof(*f));
	f->addr = 0x123456789000ULL; /* above 4 GiB: no 32-bit truncation */
	f->width = 800, f->height = 600, f->pitch = 3200, f->bpp = 32;
	f->type = MB2_FRAMEBUFFER_TYPE_RGB;
	f->red_pos = 16, f->red_size = 8;
	KASSERT_EQ(t, mbi_finish_and_parse(&test_bi, err, sizeof(err)), 0);
	KEXPECT_TRUE(t, test_bi.has_framebuffer);
	KEXPECT_EQ(t, test_bi.fb.addr, 0x123456789000ULL);
	KEXPECT_EQ(t, test_bi.fb.pitch, 3200);
	KEXPECT_EQ(t, test_bi.fb.red_pos, 16);
}

static void mb2_parse_rejects_short_framebuffer_tag(struct ktest *t)
{
	struct mb2_tag_framebuffer *f;
	char err[160];

	mbi_begin();
	mbi_add_mmap(0x100000, 0x1000000);
	f = mbi_add(MB2_TAG_FRAMEBUFFER, 16); /* cut off after the address */
	f->addr = 0xfd000000;
	KASSERT_EQ(t, mbi_finish_and_parse(&test_bi, err, sizeof(err)), -EINVAL);
	KEXPECT_TRUE(t, strncmp(err, "multiboot2: malformed framebuffer tag", 37) == 0);
}

static void mb2_parse_rejects_tag_overrunning_info(struct ktest *t)
{
	struct mb2_tag *tag;
	char err[160];

	mbi_begin();
	mbi_add_mmap(0x100000, 0x1000000);
	tag = mbi_add(MB2_TAG_CMDLINE, 16);
	tag->size = 4000; /* claims more than the whole info */
	KEXPECT_EQ(t, mbi_finish_and_parse(&test_bi, err, sizeof(err)), -EINVAL);
}

static void mb2_parse_rejects_missing_end_tag(struct ktest *t)
{
	char err[160];

	mbi_begin();
	mbi_add_mmap(0x100000, 0x1000000);
	((struct mb2_info_header *)mbi_buf)->total_size = mbi_len;
	KEXPECT_EQ(t, mb2_parse(mbi_buf, &test_bi, err, sizeof(err)), -EINVAL);
	KEXPECT_TRUE(t, strncmp(err, "multiboot2: end tag missing", 27) == 0);
}

static void mb2_parse_rejects_implausible_total_size(struct ktest *t)
{
	char err[160];

	mbi_begin();
	((struct mb2_info_header *)mbi_buf)->total_size = 4;
	KEXPECT_EQ(t, mb2_parse(mbi_buf, &test_bi, err, sizeof(err)), -EINVAL);
}

static void mb2_parse_reads_cmdline_module_and_rsdp(struct ktest *t)
{
	struct mb2_tag_string *s;
	struct mb2_tag_module *m;
	struct mb2_tag_rsdp *r;
	char err[160];

	mbi_begin();
	s = mbi_add(MB2_TAG_CMDLINE, 8 + 12);
	memcpy(s->string, "ktest=a mem", 12);
	m = mbi_add(MB2_TAG_MODULE, sizeof(*m) + 10);
	m->mod_start = 0x200000, m->mod_end = 0x280000;
	memcpy(m->cmdline, "initramfs", 10);
	mbi_add_mmap(0x100000, 0x1000000);
	r = mbi_add(MB2_TAG_ACPI_OLD, sizeof(*r) + 20);
	memcpy(r->rsdp, "RSD PTR ", 8);
	r = mbi_add(MB2_TAG_ACPI_NEW, sizeof(*r) + 36);
	memcpy(r->rsdp, "RSD PTR ", 8);
	r->rsdp[15] = 2;
	KASSERT_EQ(t, mbi_finish_and_parse(&test_bi, err, sizeof(err)), 0);
	KEXPECT_STREQ(t, test_bi.cmdline, "ktest=a mem");
	KEXPECT_EQ(t, test_bi.nr_modules, 1);
	KEXPECT_EQ(t, test_bi.modules[0].end, 0x280000);
	KEXPECT_STREQ(t, test_bi.modules[0].cmdline, "initramfs");
	KEXPECT_EQ(t, test_bi.rsdp_revision, 2); /* the ACPI 2.0 one wins */
	KEXPECT_EQ(t, test_bi.nr_mmap, 1);
	KEXPECT_EQ(t, boot_mmap_usable_bytes(&test_bi), 0x1000000);
}

static const struct ktest_case mb2_cases[] = {
	KTEST_CASE(mb2_real_memory_map_matches_qemu_ram),
	KTEST_CASE(mb2_real_memory_map_has_ram_above_4g),
	KTEST_CASE(mb2_parse_requires_memory_map),
	KTEST_CASE(mb2_parse_keeps_64bit_framebuffer_address),
	KTEST_CASE(mb2_parse_rejects_short_framebuffer_tag),
	KTEST_CASE(mb2_parse_rejects_tag_overrunning_info),
	KTEST_CASE(mb2_parse_rejects_missing_end_tag),
	KTEST_CASE(mb2_parse_rejects_implausible_total_size),
	KTEST_CASE(mb2_parse_reads_cmdline_module_and_rsdp),
};
KTEST_SUITE(multiboot2, mb2_cases);
