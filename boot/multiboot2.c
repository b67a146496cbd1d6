/* Parse the multiboot2 boot information (Multiboot2 specification, 3.6)
 * into struct boot_info. The info is a header followed by tags, each 8-byte
 * aligned, ending with an END tag. We trust nothing in it: every tag must
 * lie inside total_size and be at least as large as its type requires, or
 * the parse fails with a message naming the tag. */
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/multiboot2.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>

#define MB2_INFO_MAX (1U << 20) /* refuse a "total_size" beyond 1 MiB */
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

struct boot_info boot_info;

struct mb2_parser {
	struct boot_info *bi;
	char *err;
	size_t errlen;
	bool seen_mmap;
};

static int parse_fail(struct mb2_parser *p, const char *fmt, const char *tag, uint32_t v)
{
	snprintf(p->err, p->errlen, fmt, tag, v);
	return -EINVAL;
}

static void copy_string(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int parse_mmap(struct mb2_parser *p, const struct mb2_tag *tag)
{
	const struct mb2_tag_mmap *m = (const void *)tag;
	struct boot_info *bi = p->bi;

	if (tag->size < sizeof(*m) || m->entry_size < sizeof(struct mb2_mmap_entry) ||
	    m->entry_size % 8)
		return parse_fail(p, "multiboot2: malformed %s tag (entry size %u)",
				  "memory map", tag->size < sizeof(*m) ? 0 : m->entry_size);
	size_t n = (tag->size - sizeof(*m)) / m->entry_size;
	for (size_t i = 0; i < n; i++) {
		const struct mb2_mmap_entry *e =
			(const void *)((const char *)m->entries + i * m->entry_size);
		if (e->length == 0)
			continue;
		if (e->base_addr + e->length < e->base_addr)
			return parse_fail(p, "multiboot2: %s tag entry %u wraps past 2^64",
					  "memory map", (uint32_t)i);
		if (bi->nr_mmap == BOOT_MMAP_MAX) {
			pr_warn("multiboot2: memory map has more than %d entries; ignoring the rest\n",
				BOOT_MMAP_MAX);
			break;
		}
		bi->mmap[bi->nr_mmap++] = (struct boot_mmap_entry){
			.base = e->base_addr, .len = e->length, .type = e->type };
	}
	p->seen_mmap = true;
	return 0;
}

static int parse_framebuffer(struct mb2_parser *p, const struct mb2_tag *tag)
{
	const struct mb2_tag_framebuffer *f = (const void *)tag;
	struct boot_framebuffer *fb = &p->bi->fb;
	size_t need = f->type == MB2_FRAMEBUFFER_TYPE_RGB ? sizeof(*f) : 31;

	/* Only the layout is checked here; whether the framebuffer can be
	 * used is drivers/bootfb.c's question, and a "no" does not stop the
	 * boot. */
	if (tag->size < need)
		return parse_fail(p, "multiboot2: malformed %s tag (size %u)", "framebuffer",
				  tag->size);
	*fb = (struct boot_framebuffer){
		.addr = f->addr, .pitch = f->pitch, .width = f->width,
		.height = f->height, .bpp = f->bpp, .type = f->type,
	};
	if (f->type == MB2_FRAMEBUFFER_TYPE_RGB) {
		fb->red_pos = f->red_pos, fb->red_size = f->red_size;
		fb->green_pos = f->green_pos, fb->green_size = f->green_size;
		fb->blue_pos = f->blue_pos, fb->blue_size = f->blue_size;
	}
	p->bi->has_framebuffer = true;
	return 0;
}

static int parse_module(struct mb2_parser *p, const struct mb2_tag *tag)
{
	const struct mb2_tag_module *m = (const void *)tag;
	struct boot_info *bi = p->bi;

	if (tag->size < sizeof(*m) || m->mod_end < m->mod_start)
		return parse_fail(p, "multiboot2: malformed %s tag (size %u)", "module", tag->size);
	if (bi->nr_modules == BOOT_MODULES_MAX) {
		pr_warn("multiboot2: more than %d modules; ignoring the rest\n", BOOT_MODULES_MAX);
		return 0;
	}
	struct boot_module *bm = &bi->modules[bi->nr_modules++];
	bm->start = m->mod_start;
	bm->end = m->mod_end;
	copy_string(bm->cmdline, sizeof(bm->cmdline), m->cmdline, tag->size - sizeof(*m));
	return 0;
}

static int parse_rsdp(struct mb2_parser *p, const struct mb2_tag *tag, unsigned int rev)
{
	const struct mb2_tag_rsdp *r = (const void *)tag;
	size_t need = rev == 1 ? RSDP_V1_LEN : RSDP_V2_LEN;

	if (tag->size < sizeof(*r) + need)
		return parse_fail(p, "multiboot2: malformed %s tag (size %u)",
				  rev == 1 ? "ACPI old RSDP" : "ACPI new RSDP", tag->size);
	/* Prefer the ACPI 2.0 RSDP when GRUB hands over both. */
	if (p->bi->rsdp_revision <= rev) {
		memcpy(p->bi->rsdp, r->rsdp, need);
		p->bi->rsdp_revision = rev;
	}
	return 0;
}

static int parse_tag(struct mb2_parser *p, const struct mb2_tag *tag)
{
	const struct mb2_tag_string *s = (const void *)tag;

	switch (tag->type) {
	case MB2_TAG_CMDLINE:
		copy_string(p->bi->cmdline, sizeof(p->bi->cmdline), s->string, tag->size - 8);
		return 0;
	case MB2_TAG_LOADER_NAME:
		copy_string(p->bi->loader_name, sizeof(p->bi->loader_name), s->string, tag->size - 8);
		return 0;
	case MB2_TAG_MMAP: return parse_mmap(p, tag);
	case MB2_TAG_FRAMEBUFFER: return parse_framebuffer(p, tag);
	case MB2_TAG_MODULE: return parse_module(p, tag);
	case MB2_TAG_ACPI_OLD: return parse_rsdp(p, tag, 1);
	case MB2_TAG_ACPI_NEW: return parse_rsdp(p, tag, 2);
	case MB2_TAG_EFI64:
	case MB2_TAG_EFI32:
		p->bi->booted_via_efi = true;
		return 0;
	default:
		return 0; /* tags we do not use */
	}
}

int mb2_parse(const void *mbi, struct boot_info *bi, char *err, size_t errlen)
{
	const struct mb2_info_header *hdr = mbi;
	struct mb2_parser p = { .bi = bi, .err = err, .errlen = errlen };
	size_t off = sizeof(*hdr);
	int ret;

	memset(bi, 0, sizeof(*bi));
	if (hdr->total_size < sizeof(*hdr) + 8 || hdr->total_size > MB2_INFO_MAX)
		return parse_fail(&p, "multiboot2: %s has implausible total_size %u",
				  "boot information", hdr->total_size);
	bi->mbi_start = (uintptr_t)mbi;
	bi->mbi_end = (uintptr_t)mbi + hdr->total_size;
	for (;;) {
		const struct mb2_tag *tag = (const void *)((const char *)mbi + off);
		if (off + sizeof(*tag) > hdr->total_size)
			return parse_fail(&p, "multiboot2: %s missing (info ends at %u)",
					  "end tag", hdr->total_size);
		if (tag->size < sizeof(*tag) || tag->size > hdr->total_size - off)
			return parse_fail(&p, "multiboot2: tag of type %s%u overruns the info",
					  "", tag->type);
		if (tag->type == MB2_TAG_END)
			break;
		if ((ret = parse_tag(&p, tag)) < 0)
			return ret;
		off += ALIGN_UP((size_t)tag->size, 8);
	}
	if (!p.seen_mmap)
		return parse_fail(&p, "multiboot2: required %s tag (type %u) is missing",
				  "memory map", MB2_TAG_MMAP);
	return 0;
}

uint64_t boot_mmap_usable_bytes(const struct boot_info *bi)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < bi->nr_mmap; i++)
		if (bi->mmap[i].type == MB2_MEMORY_AVAILABLE)
			total += bi->mmap[i].len;
	return total;
}
