/* Tests of the framebuffer tag check (drivers/bootfb.c): synthetic tags of
 * every kind the firmwares hand over (NOTES.md: 1024x768x32 at 0xfd000000
 * under SeaBIOS, 640x480 planar at 0xa0000 with no display device,
 * address 0 under OVMF with a virtio GPU, EGA text 80x25 at 0xb8000)
 * against a synthetic machine, then the verdict on this machine against
 * what the kernel did with it: rules that hold on any machine. */
#include <pagoda/bootfb.h>
#include <pagoda/errno.h>
#include <pagoda/fbcon.h>
#include <pagoda/fbdev.h>
#include <pagoda/ktest.h>
#include <pagoda/multiboot2.h>
#include <pagoda/pci.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>
#include <pagoda/vgacon.h>

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)
#define BAR_FB 0xfd000000ULL /* SeaBIOS's VGA BAR0, 16 MiB */

static struct boot_info bi;
static struct memblock_list ram;
static const struct memblock_range bars[] = {
	{ BAR_FB, BAR_FB + 16 * MiB },
	{ 0x8000000000ULL, 0x8000000000ULL + 256 * MiB }, /* a 64-bit BAR at 512 GiB */
};
static const struct bootfb_machine machine = {
	.ram = &ram, .bars = bars, .nr_bars = ARRAY_SIZE(bars), .phys_limit = 1ULL << 40,
};
static char why[96];

/* A 1024x768, 32 bpp x8r8g8b8 tag at addr, on a machine with 8 GiB of RAM
 * split as QEMU splits it (2 GiB low, 6 GiB from 4 GiB). */
static void rgb_tag(phys_addr_t addr)
{
	memset(&bi, 0, sizeof(bi));
	bi.has_framebuffer = true;
	bi.fb = (struct boot_framebuffer){
		.addr = addr, .pitch = 4096, .width = 1024, .height = 768, .bpp = 32,
		.type = MB2_FRAMEBUFFER_TYPE_RGB, .red_pos = 16, .red_size = 8,
		.green_pos = 8, .green_size = 8, .blue_pos = 0, .blue_size = 8,
	};
	ram.nr = 0;
	memblock_add(&ram, 0x100000, 2 * GiB - 0x100000);
	memblock_add(&ram, 4 * GiB, 6 * GiB);
}

/* Does the reason mention sub? */
static bool says(const char *sub)
{
	for (const char *p = why; *p; p++)
		if (strncmp(p, sub, strlen(sub)) == 0)
			return true;
	return false;
}

static enum bootfb_kind check(void)
{
	return bootfb_check(&bi, &machine, why, sizeof(why));
}

static void bootfb_takes_linear_rgb_inside_its_bar(struct ktest *t)
{
	rgb_tag(BAR_FB);
	KEXPECT_EQ(t, check(), BOOTFB_RGB);
	KEXPECT_STREQ(t, why, "");
	rgb_tag(0x8000000000ULL); /* above 4 GiB: whole 64 bits kept */
	KEXPECT_EQ(t, check(), BOOTFB_RGB);
	bi.fb.pitch = 4352; /* padded lines are fine */
	KEXPECT_EQ(t, check(), BOOTFB_RGB);
	bi.fb.bpp = 24, bi.fb.pitch = 3072;
	KEXPECT_EQ(t, check(), BOOTFB_RGB);
}

static void bootfb_refuses_no_tag_and_address_0(struct ktest *t)
{
	rgb_tag(BAR_FB);
	bi.has_framebuffer = false;
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
	KEXPECT_STREQ(t, why, "the boot loader gave no framebuffer tag");
	rgb_tag(0); /* OVMF with -vga none -device virtio-gpu-pci */
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
	KEXPECT_TRUE(t, says("address is 0"));
}

/* GRUB's fallback with no display device: 640x480, 1 bpp, at 0xa0000. */
static void bootfb_refuses_planar_vga_window(struct ktest *t)
{
	rgb_tag(0xa0000);
	bi.fb.width = 640, bi.fb.height = 480, bi.fb.pitch = 80, bi.fb.bpp = 1;
	bi.fb.type = MB2_FRAMEBUFFER_TYPE_INDEXED;
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
	KEXPECT_TRUE(t, says("legacy VGA window"));
	bi.fb.type = MB2_FRAMEBUFFER_TYPE_RGB, bi.fb.bpp = 32, bi.fb.pitch = 2560;
	KEXPECT_EQ(t, check(), BOOTFB_NONE); /* whatever it claims to be */
}

static void bootfb_takes_ega_text_only_at_b8000(struct ktest *t)
{
	rgb_tag(VGA_TEXT_BASE);
	bi.fb.type = MB2_FRAMEBUFFER_TYPE_EGA_TEXT;
	bi.fb.width = 80, bi.fb.height = 25, bi.fb.pitch = 160, bi.fb.bpp = 16;
	KEXPECT_EQ(t, check(), BOOTFB_EGA_TEXT);
	bi.fb.addr = BAR_FB;
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
	bi.fb.addr = VGA_TEXT_BASE, bi.fb.pitch = 100; /* shorter than 80 cells */
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
	bi.fb.pitch = 160, bi.fb.height = 250; /* past the end of the text buffer */
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
}

/* Geometry that does not add up: each one refused, with its reason. */
static void bootfb_refuses_geometry_that_does_not_fit(struct ktest *t)
{
	static const struct {
		const char *what;
		uint32_t width, height, pitch;
		uint8_t bpp, red_pos;
	} rows[] = {
		{ "pitch shorter than a line", 1024, 768, 4000, 32, 16 },
		{ "8 bits per pixel", 1024, 768, 1024, 8, 0 },
		{ "zero height", 1024, 0, 4096, 32, 16 },
		{ "zero pitch", 1024, 768, 0, 32, 16 },
		{ "red channel past the pixel", 1024, 768, 4096, 32, 28 },
		{ "past the end of its 16 MiB BAR", 1024, 4097, 4096, 32, 16 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		rgb_tag(BAR_FB);
		bi.fb.width = rows[i].width, bi.fb.height = rows[i].height;
		bi.fb.pitch = rows[i].pitch, bi.fb.bpp = rows[i].bpp;
		bi.fb.red_pos = rows[i].red_pos;
		if (check() != BOOTFB_NONE || !why[0])
			ktest_log(t, "%s: taken, or no reason", rows[i].what);
		KEXPECT_EQ(t, check(), BOOTFB_NONE);
		KEXPECT_NE(t, why[0], '\0');
	}
}

static void bootfb_refuses_ram_and_addresses_past_maxphyaddr(struct ktest *t)
{
	rgb_tag(GiB); /* inside the low 2 GiB of RAM */
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
	KEXPECT_TRUE(t, says("System RAM"));
	rgb_tag(4 * GiB - 2 * MiB); /* its last part is RAM */
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
	rgb_tag((1ULL << 40) - 2 * MiB); /* ends past 1 << 40 */
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
	KEXPECT_TRUE(t, says("MAXPHYADDR"));
	rgb_tag(~0ULL - 4095); /* wraps */
	KEXPECT_EQ(t, check(), BOOTFB_NONE);
}

static bool is_display(const struct pci_dev *d)
{
	return (d->class >> 16) == 0x03; /* PCI base class 03h: display controller */
}

/* On this machine: a linear framebuffer lies whole in a memory BAR of a
 * display controller (when the machine has a PCI one), and the kernel
 * drives it with fbcon and /dev/fb0. */
static void bootfb_real_framebuffer_lies_in_a_display_bar(struct ktest *t)
{
	const struct boot_framebuffer *fb = bootfb_rgb();
	unsigned int displays = 0, inside = 0;
	struct pci_dev *d;
	char reason[160];

	if (!fb) {
		snprintf(reason, sizeof(reason), "no linear framebuffer: %s", bootfb_why_not_rgb());
		ktest_skip(t, reason);
		return;
	}
	pci_for_each_dev(d) {
		if (!is_display(d))
			continue;
		displays++;
		for (unsigned int i = 0; i < PCI_STD_NUM_BARS; i++) {
			const struct pci_bar *b = &d->bar[i];
			if (pci_bar_is_mem(b) && fb->addr >= b->start &&
			    fb->addr + (uint64_t)fb->pitch * fb->height <= b->start + b->size) {
				ktest_log(t, "%ux%u at %#llx: in BAR%u of %s (%04x:%04x)", fb->width,
					  fb->height, (unsigned long long)fb->addr, i, d->name,
					  d->vendor, d->device);
				inside++;
			}
		}
	}
	KEXPECT_GE(t, fb->pitch, fb->width * ((fb->bpp + 7u) / 8u));
	if (!displays) {
		ktest_skip(t, "no PCI display controller on this machine");
		return;
	}
	KEXPECT_EQ(t, inside, 1U);
}

/* Whatever the verdict, the kernel acted on it: a linear framebuffer has
 * /dev/fb0, EGA text has the text console, anything else neither. */
static void bootfb_real_verdict_decides_the_consoles(struct ktest *t)
{
	struct inode *inode;
	bool fb0 = vfs_lookup(NULL, "/dev/fb0", false, &inode) == 0;

	ktest_log(t, "verdict %d: %s", bootfb_kind(),
		  bootfb_why_not_rgb()[0] ? bootfb_why_not_rgb() : "linear RGB framebuffer");
	switch (bootfb_kind()) {
	case BOOTFB_RGB:
		KEXPECT_TRUE(t, fb0);
		KEXPECT_NULL(t, vgacon_get());
		KEXPECT_TRUE(t, fbcon_active() || fbdev_mapping_count() > 0);
		break;
	case BOOTFB_EGA_TEXT:
		KEXPECT_FALSE(t, fb0);
		KEXPECT_FALSE(t, fbcon_active());
		KEXPECT_NOT_NULL(t, vgacon_get());
		break;
	case BOOTFB_NONE:
		KEXPECT_FALSE(t, fb0);
		KEXPECT_FALSE(t, fbcon_active());
		KEXPECT_NULL(t, vgacon_get());
		KEXPECT_NE(t, bootfb_why_not_rgb()[0], '\0');
		break;
	}
}

static const struct ktest_case bootfb_cases[] = {
	KTEST_CASE(bootfb_takes_linear_rgb_inside_its_bar),
	KTEST_CASE(bootfb_refuses_no_tag_and_address_0),
	KTEST_CASE(bootfb_refuses_planar_vga_window),
	KTEST_CASE(bootfb_takes_ega_text_only_at_b8000),
	KTEST_CASE(bootfb_refuses_geometry_that_does_not_fit),
	KTEST_CASE(bootfb_refuses_ram_and_addresses_past_maxphyaddr),
	KTEST_CASE(bootfb_real_framebuffer_lies_in_a_display_bar),
	KTEST_CASE(bootfb_real_verdict_decides_the_consoles),
};
KTEST_SUITE(bootfb, bootfb_cases);
