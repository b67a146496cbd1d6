/* Checking the boot loader's framebuffer tag (see include/pagoda/bootfb.h).
 *
 * The tag (Multiboot2 specification, 3.6.12) says where pixel (0, 0) is,
 * the pitch (bytes per scan line), width, height, bits per pixel and a
 * type: 0 indexed colour, 1 direct RGB, 2 EGA text (two bytes a cell).
 * Nothing in it is checked by GRUB against the machine, so before the
 * console draws there we check that it is a type we can draw on, that its
 * geometry is consistent, and that [addr, addr + pitch * height) is device
 * memory: not address 0, not RAM, not past MAXPHYADDR, not past the end
 * of the PCI BAR it starts in. */
#include <stdarg.h>
#include <pagoda/bootfb.h>
#include <pagoda/compiler.h>
#include <asm/cpu.h>
#include <pagoda/multiboot2.h>
#include <pagoda/pci.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>

#define MAX_BARS 64
#define TEXT_BPP 16 /* a character byte and an attribute byte */

static enum bootfb_kind kind;
static char why_not[96];

static enum bootfb_kind __printf(3, 4) refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return BOOTFB_NONE;
}

static bool overlaps(phys_addr_t a, phys_addr_t b, phys_addr_t start, phys_addr_t end)
{
	return a < end && start < b;
}

/* Where the range [addr, end) may lie; 0 if fine, else the reason. */
static enum bootfb_kind check_place(const struct boot_framebuffer *fb, uint64_t size,
				    const struct bootfb_machine *m, char *why, size_t len,
				    enum bootfb_kind ok)
{
	phys_addr_t end = fb->addr + size;

	if (end < fb->addr || end > m->phys_limit)
		return refuse(why, len, "it ends at %#llx, past MAXPHYADDR (%#llx)",
			      (unsigned long long)(fb->addr + size),
			      (unsigned long long)m->phys_limit);
	if (m->ram && memblock_overlaps(m->ram, fb->addr, size))
		return refuse(why, len, "it overlaps System RAM at [%#llx-%#llx)",
			      (unsigned long long)fb->addr, (unsigned long long)end);
	for (unsigned int i = 0; i < m->nr_bars; i++) {
		const struct memblock_range *b = &m->bars[i];
		if (fb->addr >= b->base && fb->addr < b->end && end > b->end)
			return refuse(why, len, "it ends at %#llx, past the end of the PCI BAR "
				      "it starts in (%#llx)", (unsigned long long)end,
				      (unsigned long long)b->end);
	}
	return ok;
}

static enum bootfb_kind check_text(const struct boot_framebuffer *fb,
				   const struct bootfb_machine *m, char *why, size_t len)
{
	uint64_t size = (uint64_t)fb->pitch * fb->height;

	if (fb->addr != VGA_TEXT_BASE)
		return refuse(why, len, "it is EGA text at %#llx, not at the text buffer (%#llx)",
			      (unsigned long long)fb->addr, VGA_TEXT_BASE);
	if (fb->bpp != TEXT_BPP || fb->pitch < 2ULL * fb->width)
		return refuse(why, len, "it is EGA text with %u bits a cell and a pitch of %u",
			      fb->bpp, fb->pitch);
	if (fb->addr + size > VGA_TEXT_END)
		return refuse(why, len, "it is EGA text whose %llu bytes run past %#llx",
			      (unsigned long long)size, VGA_TEXT_END);
	return check_place(fb, size, m, why, len, BOOTFB_EGA_TEXT);
}

static bool channel_fits(unsigned int pos, unsigned int size, unsigned int bpp)
{
	return size > 0 && pos + size <= bpp;
}

static enum bootfb_kind check_rgb(const struct boot_framebuffer *fb,
				  const struct bootfb_machine *m, char *why, size_t len)
{
	unsigned int bytes_pp = (fb->bpp + 7u) / 8u;

	if (fb->type != MB2_FRAMEBUFFER_TYPE_RGB)
		return refuse(why, len, "it is of type %u (%s), not direct RGB", fb->type,
			      fb->type == MB2_FRAMEBUFFER_TYPE_INDEXED ? "indexed colour" : "unknown");
	if (fb->bpp != 15 && fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32)
		return refuse(why, len, "it has %u bits per pixel", fb->bpp);
	if (!channel_fits(fb->red_pos, fb->red_size, fb->bpp) ||
	    !channel_fits(fb->green_pos, fb->green_size, fb->bpp) ||
	    !channel_fits(fb->blue_pos, fb->blue_size, fb->bpp))
		return refuse(why, len, "its colour channels do not fit %u bits", fb->bpp);
	if (fb->pitch < (uint64_t)fb->width * bytes_pp)
		return refuse(why, len, "its pitch of %u bytes is less than a line of %u pixels",
			      fb->pitch, fb->width);
	return check_place(fb, (uint64_t)fb->pitch * fb->height, m, why, len, BOOTFB_RGB);
}

enum bootfb_kind bootfb_check(const struct boot_info *bi, const struct bootfb_machine *m,
			      char *why, size_t len)
{
	const struct boot_framebuffer *fb = &bi->fb;
	uint64_t size = (uint64_t)fb->pitch * fb->height;

	why[0] = '\0';
	if (!bi->has_framebuffer)
		return refuse(why, len, "the boot loader gave no framebuffer tag");
	if (fb->width == 0 || fb->height == 0 || fb->pitch == 0)
		return refuse(why, len, "it is %ux%u with a pitch of %u: no pixels", fb->width,
			      fb->height, fb->pitch);
	if (fb->addr == 0)
		return refuse(why, len, "its address is 0: the firmware gave no linear framebuffer");
	if (fb->type == MB2_FRAMEBUFFER_TYPE_EGA_TEXT)
		return check_text(fb, m, why, len);
	if (overlaps(fb->addr, fb->addr + size, VGA_WINDOW_BASE, VGA_WINDOW_END))
		return refuse(why, len, "it lies at %#llx, in the legacy VGA window: a planar "
			      "VGA mode, not a linear framebuffer", (unsigned long long)fb->addr);
	return check_rgb(fb, m, why, len);
}

/* The memory BARs of every PCI device, into bars[]; returns how many. */
static unsigned int collect_bars(struct memblock_range *bars, unsigned int max)
{
	struct pci_dev *d;
	unsigned int n = 0;

	pci_for_each_dev(d) {
		for (unsigned int i = 0; i < PCI_STD_NUM_BARS && n < max; i++) {
			const struct pci_bar *b = &d->bar[i];
			if (pci_bar_is_mem(b) && b->size && !(b->flags & IORESOURCE_UNSET))
				bars[n++] = (struct memblock_range){ b->start, b->start + b->size };
		}
	}
	return n;
}

void bootfb_init(void)
{
	static struct memblock_range bars[MAX_BARS];
	const struct boot_framebuffer *fb = &boot_info.fb;
	struct bootfb_machine m = { .ram = &memblock_memory, .bars = bars,
				    .phys_limit = cpu_phys_limit() };

	m.nr_bars = collect_bars(bars, MAX_BARS);
	kind = bootfb_check(&boot_info, &m, why_not, sizeof(why_not));
	switch (kind) {
	case BOOTFB_RGB:
		pr_info("bootfb: %ux%u, %u bpp, pitch %u at %#llx: linear RGB framebuffer\n",
			fb->width, fb->height, fb->bpp, fb->pitch, (unsigned long long)fb->addr);
		break;
	case BOOTFB_EGA_TEXT:
		pr_info("bootfb: %ux%u EGA text at %#llx\n", fb->width, fb->height,
			(unsigned long long)fb->addr);
		snprintf(why_not, sizeof(why_not), "the boot framebuffer is EGA text");
		break;
	case BOOTFB_NONE:
		if (boot_info.has_framebuffer)
			pr_warn("bootfb: framebuffer tag refused (%ux%u, %u bpp, type %u at %#llx): "
				"%s; serial console only\n", fb->width, fb->height, fb->bpp,
				fb->type, (unsigned long long)fb->addr, why_not);
		else
			pr_info("bootfb: %s; serial console only\n", why_not);
		break;
	}
}

enum bootfb_kind bootfb_kind(void)
{
	return kind;
}

const struct boot_framebuffer *bootfb_rgb(void)
{
	return kind == BOOTFB_RGB ? &boot_info.fb : NULL;
}

const char *bootfb_why_not_rgb(void)
{
	return why_not;
}
