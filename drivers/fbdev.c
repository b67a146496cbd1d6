/* /dev/fb0: the boot loader's linear framebuffer as a Linux fbdev device.
 *
 * What it reports is what Linux's firmware-framebuffer drivers report for
 * the same hand-over: the id of efifb ("EFI VGA") when the kernel was
 * booted through UEFI, of vesafb ("VESA VGA") otherwise, the boot mode's
 * geometry and colour layout, the physical address in smem_start. Unlike
 * them it can change the mode on QEMU's standard VGA, through the Bochs
 * VBE extension's "DISPI" registers (the interface QEMU's VGA BIOS, OVMF's
 * QemuVideoDxe and Linux's bochs-drm all program):
 *
 *   port 0x1ce: index     port 0x1cf: 16-bit data of the register indexed
 *
 * User mappings are counted through the VMA's open/close operations: the
 * console must not draw over a program's pixels, so fbcon is suspended
 * while the count is not zero.
 *
 * One CPU, no preemption in the kernel: the state below needs no lock. */
#include <pagoda/bootfb.h>
#include <pagoda/spinlock.h>
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/fbcon.h>
#include <pagoda/fbdev.h>
#include <pagoda/ioremap.h>
#include <pagoda/mm_types.h>
#include <pagoda/multiboot2.h>
#include <pagoda/pci.h>
#include <pagoda/printk.h>
#include <pagoda/remap.h>
#include <pagoda/string.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <asm/x86.h>

#define FB_MAJOR 29

/* QEMU's standard VGA ("-vga std", PCI 1234:1111): BAR0 is the video
 * memory. The Bochs display ("-device bochs-display") has the same IDs but
 * no I/O ports; the ID register check below tells them apart. */
#define QEMU_VGA_VENDOR 0x1234
#define QEMU_VGA_DEVICE 0x1111

/* Bochs VBE DISPI registers (QEMU include/hw/display/bochs-vbe.h). */
#define VBE_DISPI_IOPORT_INDEX 0x01ce
#define VBE_DISPI_IOPORT_DATA 0x01cf
#define VBE_DISPI_INDEX_ID 0x0
#define VBE_DISPI_INDEX_XRES 0x1
#define VBE_DISPI_INDEX_YRES 0x2
#define VBE_DISPI_INDEX_BPP 0x3
#define VBE_DISPI_INDEX_ENABLE 0x4
#define VBE_DISPI_INDEX_BANK 0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH 0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET 0x8
#define VBE_DISPI_INDEX_Y_OFFSET 0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_ID0 0xb0c0 /* 0xb0c0..0xb0c5: the interface's versions */
#define VBE_DISPI_ENABLED 0x01
#define VBE_DISPI_LFB_ENABLED 0x40
#define VBE_DISPI_MAX_XRES 16000 /* QEMU's limits */
#define VBE_DISPI_MAX_YRES 12000

/* VGA attribute controller: writing 0x20 to its index port gives the
 * display back to the CRTC (unblanks); reading 0x3da first resets the
 * index/data flip-flop (IBM VGA Technical Reference, "Attribute
 * Controller Registers"). */
#define VGA_ATTR_INDEX 0x3c0
#define VGA_INPUT_STATUS_1 0x3da
#define VGA_ATTR_PAS 0x20

#define FBDEV_BPP 32 /* the only depth modes are set in: x8r8g8b8 */

static struct {
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	uint8_t *screen_base; /* WC kernel view of [smem_start, + screen_size) */
	uint64_t screen_size; /* all video memory when dispi, else smem_len */
	bool dispi;           /* the Bochs DISPI registers answer: modes can be set */
	bool ready;           /* fbdev_init() succeeded */
	unsigned int mappings; /* user VMAs of the framebuffer alive */
} fbdev;

static uint16_t dispi_read(unsigned int index)
{
	outw(VBE_DISPI_IOPORT_INDEX, index);
	return inw(VBE_DISPI_IOPORT_DATA);
}

static void dispi_write(unsigned int index, uint16_t value)
{
	outw(VBE_DISPI_IOPORT_INDEX, index);
	outw(VBE_DISPI_IOPORT_DATA, value);
}

/* Is the framebuffer at addr QEMU's standard VGA with DISPI registers?
 * Then *vram gets the size of its video memory. */
static bool dispi_detect(phys_addr_t addr, uint64_t *vram)
{
	struct pci_dev *vga = pci_find_device(QEMU_VGA_VENDOR, QEMU_VGA_DEVICE, NULL);

	if (!vga || vga->bar[0].start != addr)
		return false;
	if ((dispi_read(VBE_DISPI_INDEX_ID) & 0xfff0) != VBE_DISPI_ID0)
		return false;
	*vram = (uint64_t)dispi_read(VBE_DISPI_INDEX_VIDEO_MEMORY_64K) << 16;
	return *vram != 0;
}

/* Program a 32 bpp mode, as bochs-drm's bochs_hw_setmode() does; true
 * when the registers read back what was asked. QEMU fixes up what it
 * cannot do instead of refusing, hence the check. */
/* The DISPI index/data port pair: one index write, one data access. */
DEFINE_STATIC_SPINLOCK(dispi_lock);

static bool dispi_set_mode(uint32_t xres, uint32_t yres, uint32_t xvirt, uint32_t yvirt)
{
	uint64_t flags = spin_lock_irqsave(&dispi_lock);
	bool ok;

	dispi_write(VBE_DISPI_INDEX_ENABLE, 0);
	dispi_write(VBE_DISPI_INDEX_BPP, FBDEV_BPP);
	dispi_write(VBE_DISPI_INDEX_XRES, xres);
	dispi_write(VBE_DISPI_INDEX_YRES, yres);
	dispi_write(VBE_DISPI_INDEX_BANK, 0);
	dispi_write(VBE_DISPI_INDEX_VIRT_WIDTH, xvirt);
	dispi_write(VBE_DISPI_INDEX_VIRT_HEIGHT, yvirt);
	dispi_write(VBE_DISPI_INDEX_X_OFFSET, 0);
	dispi_write(VBE_DISPI_INDEX_Y_OFFSET, 0);
	dispi_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
	inb(VGA_INPUT_STATUS_1);
	outb(VGA_ATTR_INDEX, VGA_ATTR_PAS);
	ok = dispi_read(VBE_DISPI_INDEX_XRES) == xres && dispi_read(VBE_DISPI_INDEX_YRES) == yres &&
	     dispi_read(VBE_DISPI_INDEX_BPP) == FBDEV_BPP &&
	     dispi_read(VBE_DISPI_INDEX_VIRT_WIDTH) == xvirt &&
	     dispi_read(VBE_DISPI_INDEX_VIRT_HEIGHT) >= yvirt;
	spin_unlock_irqrestore(&dispi_lock, flags);
	return ok;
}

static struct fb_bitfield bitfield(unsigned int offset, unsigned int length)
{
	return (struct fb_bitfield){ .offset = offset, .length = length };
}

/* A mode in the shape efifb gives it (drivers/video/fbdev/efifb.c): the
 * colour layout from fb, made-up timings (there is no real monitor), the
 * bits above the colours as transp (the firmware's "reserved" byte). */
static void fill_var(struct fb_var_screeninfo *var, const struct boot_framebuffer *fb,
		     uint32_t xvirt, uint32_t yvirt)
{
	unsigned int top = MAX(fb->red_pos + fb->red_size,
			       MAX(fb->green_pos + fb->green_size, fb->blue_pos + fb->blue_size));
	uint32_t activate = var->activate;

	memset(var, 0, sizeof(*var));
	var->xres = fb->width;
	var->yres = fb->height;
	var->xres_virtual = xvirt;
	var->yres_virtual = yvirt;
	var->bits_per_pixel = fb->bpp;
	var->red = bitfield(fb->red_pos, fb->red_size);
	var->green = bitfield(fb->green_pos, fb->green_size);
	var->blue = bitfield(fb->blue_pos, fb->blue_size);
	var->transp = bitfield(top < fb->bpp ? top : 0, top < fb->bpp ? fb->bpp - top : 0);
	var->activate = activate;
	var->height = var->width = ~0u;
	var->pixclock = 10000000 / fb->width * 1000 / fb->height;
	var->left_margin = (fb->width / 8) & 0xf8;
	var->right_margin = 32;
	var->upper_margin = 16;
	var->lower_margin = 4;
	var->hsync_len = (fb->width / 8) & 0xf8;
	var->vsync_len = 4;
	var->vmode = FB_VMODE_NONINTERLACED;
}

/* The boot_framebuffer describing a 32 bpp x8r8g8b8 DISPI mode. */
static struct boot_framebuffer dispi_fb(uint32_t xres, uint32_t yres, uint32_t xvirt)
{
	return (struct boot_framebuffer){
		.addr = fbdev.fix.smem_start, .pitch = xvirt * 4, .width = xres, .height = yres,
		.bpp = FBDEV_BPP, .type = MB2_FRAMEBUFFER_TYPE_RGB,
		.red_pos = 16, .red_size = 8, .green_pos = 8, .green_size = 8,
		.blue_pos = 0, .blue_size = 8,
	};
}

static void fill_fix(struct fb_fix_screeninfo *fix, phys_addr_t addr, uint32_t pitch,
		     uint32_t yvirt)
{
	memset(fix, 0, sizeof(*fix));
	strlcpy(fix->id, boot_info.booted_via_efi ? "EFI VGA" : "VESA VGA", sizeof(fix->id));
	fix->smem_start = addr;
	fix->smem_len = ALIGN_UP((uint64_t)pitch * yvirt, PAGE_SIZE);
	fix->type = FB_TYPE_PACKED_PIXELS;
	fix->visual = FB_VISUAL_TRUECOLOR;
	fix->line_length = pitch;
	fix->accel = FB_ACCEL_NONE;
}

/* --- mappings and the console --- */

static void fbdev_map_get(void)
{
	if (fbdev.mappings++ == 0)
		fbcon_suspend(true);
}

static void fbdev_map_put(void)
{
	if (fbdev.mappings == 0) {
		pr_warn("fbdev: mapping count underflow\n");
		return;
	}
	if (--fbdev.mappings == 0)
		fbcon_suspend(false);
}

/* A copy of a framebuffer VMA (fork, a split by munmap or mprotect). */
static void fbdev_vm_open(struct vm_area_struct *vma)
{
	fbdev_map_get();
}

/* A framebuffer VMA goes (munmap, exit, exec). */
static void fbdev_vm_close(struct vm_area_struct *vma)
{
	fbdev_map_put();
}

static const struct vm_operations_struct fbdev_vm_ops = {
	.open = fbdev_vm_open,
	.close = fbdev_vm_close,
};

/* Linux's fb_mmap(): the pixels, write-combining, by page offset into
 * [smem_start, smem_start + smem_len). There is no MMIO part to map past
 * them (mmio_len is 0), so an offset beyond is -EINVAL. */
static int fbdev_mmap(struct file *f, struct vm_area_struct *vma)
{
	int ret;

	vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	ret = vm_iomap_memory(vma, fbdev.fix.smem_start, fbdev.fix.smem_len);
	if (ret < 0)
		return ret;
	vma->vm_ops = &fbdev_vm_ops;
	fbdev_map_get();
	return 0;
}

/* --- mode setting --- */

/* Linux's fb_check_var() for DISPI modes: round the widths up to what the
 * hardware does (multiples of 8 pixels), make the virtual screen at least
 * the visible one, and refuse what the video memory cannot hold. On
 * success *var is the mode that would be set. */
static int fbdev_check_var(struct fb_var_screeninfo *var)
{
	uint32_t xres, xvirt, yvirt;
	struct boot_framebuffer fb;

	if (var->bits_per_pixel != FBDEV_BPP || var->xres > VBE_DISPI_MAX_XRES ||
	    var->yres > VBE_DISPI_MAX_YRES || var->xres_virtual > VBE_DISPI_MAX_XRES ||
	    var->yres_virtual > VBE_DISPI_MAX_YRES)
		return -EINVAL;
	xres = ALIGN_UP(var->xres, 8);
	xvirt = ALIGN_UP(MAX(var->xres_virtual, xres), 8);
	yvirt = MAX(var->yres_virtual, var->yres);
	if (xvirt > VBE_DISPI_MAX_XRES || (uint64_t)xvirt * 4 * yvirt > fbdev.screen_size)
		return -EINVAL;
	fb = dispi_fb(xres, var->yres, xvirt);
	fill_var(var, &fb, xvirt, yvirt);
	return 0;
}

/* Move the console onto the new geometry. fbcon_init() clears the screen
 * and resumes drawing: suspend it again if a program has the pixels. */
static void fbdev_update_console(const struct boot_framebuffer *fb)
{
	unsigned int cols, rows;

	fbcon_get_geometry(&cols, &rows);
	if (!cols)
		return; /* no console on the framebuffer: leave it so */
	if (fbcon_init(fb, fbdev.screen_base) < 0)
		pr_warn("fbdev: the console cannot use %ux%u\n", fb->width, fb->height);
	else if (fbdev.mappings)
		fbcon_suspend(true);
}

/* Linux's fb_set_par(): make *var (checked) the mode. Returns 0 or -EIO
 * when the hardware did not take it (the old mode is put back). */
static int fbdev_set_par(const struct fb_var_screeninfo *var)
{
	const struct fb_var_screeninfo *old = &fbdev.var;
	struct boot_framebuffer fb = dispi_fb(var->xres, var->yres, var->xres_virtual);

	if (var->xres != old->xres || var->yres != old->yres ||
	    var->xres_virtual != old->xres_virtual || var->yres_virtual != old->yres_virtual ||
	    old->bits_per_pixel != FBDEV_BPP) {
		if (!dispi_set_mode(var->xres, var->yres, var->xres_virtual, var->yres_virtual)) {
			dispi_set_mode(old->xres, old->yres, old->xres_virtual, old->yres_virtual);
			return -EIO;
		}
		fill_fix(&fbdev.fix, fbdev.fix.smem_start, fb.pitch, var->yres_virtual);
		fbdev_update_console(&fb);
		pr_info("fbdev: mode %ux%u, %u bpp, line length %u\n", var->xres, var->yres,
			FBDEV_BPP, fb.pitch);
	}
	fbdev.var = *var;
	return 0;
}

/* Linux's fb_set_var(). Without mode setting (efifb, vesafb: no
 * fb_check_var) any request is answered with the current mode, unchanged,
 * and succeeds. With it, impossible requests are -EINVAL, and
 * FB_ACTIVATE_TEST only reports what would be set. */
static int fbdev_set_var(struct fb_var_screeninfo *var)
{
	int ret;

	if (!(var->activate & FB_ACTIVATE_FORCE) && !memcmp(&fbdev.var, var, sizeof(*var)))
		return 0;
	if (!fbdev.dispi) {
		*var = fbdev.var;
		return 0;
	}
	if (var->xres < 8 || var->yres < 8)
		return -EINVAL;
	if ((ret = fbdev_check_var(var)) < 0)
		return ret;
	if ((var->activate & FB_ACTIVATE_MASK) != FB_ACTIVATE_NOW)
		return 0;
	return fbdev_set_par(var);
}

/* --- file operations --- */

static long fbdev_put_vscreeninfo(void *uarg)
{
	struct fb_var_screeninfo var;
	int ret;

	if (copy_from_user(&var, uarg, sizeof(var)))
		return -EFAULT;
	var.activate &= ~FB_ACTIVATE_KD_TEXT;
	ret = fbdev_set_var(&var);
	if (!ret && copy_to_user(uarg, &var, sizeof(var)))
		return -EFAULT;
	return ret;
}

/* Panning needs a fb_pan_display operation, which efifb and vesafb lack:
 * Linux answers -EINVAL, after reading the argument. */
static long fbdev_pan_display(void *uarg)
{
	struct fb_var_screeninfo var;

	if (copy_from_user(&var, uarg, sizeof(var)))
		return -EFAULT;
	return -EINVAL;
}

static long fbdev_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	void *uarg = (void *)arg;

	switch (cmd) {
	case FBIOGET_VSCREENINFO:
		return copy_to_user(uarg, &fbdev.var, sizeof(fbdev.var)) ? -EFAULT : 0;
	case FBIOPUT_VSCREENINFO:
		return fbdev_put_vscreeninfo(uarg);
	case FBIOGET_FSCREENINFO:
		return copy_to_user(uarg, &fbdev.fix, sizeof(fbdev.fix)) ? -EFAULT : 0;
	case FBIOPAN_DISPLAY:
		return fbdev_pan_display(uarg);
	default:
		return -ENOTTY;
	}
}

/* Linux's fb_read(): up to the end of the framebuffer memory, then 0. */
static ssize_t fbdev_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	uint64_t total = fbdev.fix.smem_len, p = *pos;

	if (p >= total)
		return 0;
	n = MIN(n, total - p);
	memcpy(buf, fbdev.screen_base + p, n);
	*pos += n;
	return n;
}

/* Linux's fb_write(): what fits is written and counted; only when nothing
 * fits is the error returned: -EFBIG for a position past the end or a
 * write larger than the whole memory, else -ENOSPC. */
static ssize_t fbdev_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	uint64_t total = fbdev.fix.smem_len, p = *pos;
	int err = 0;

	if (p > total)
		return -EFBIG;
	if (n > total) {
		err = -EFBIG;
		n = total;
	}
	if (n + p > total) {
		if (!err)
			err = -ENOSPC;
		n = total - p;
	}
	memcpy(fbdev.screen_base + p, buf, n);
	*pos += n;
	return n ? (ssize_t)n : err;
}

static const struct file_operations fbdev_fops = {
	.read = fbdev_read,
	.write = fbdev_write,
	.ioctl = fbdev_ioctl,
	.mmap = fbdev_mmap,
};

/* --- set-up --- */

static bool fb_usable(const struct boot_framebuffer *fb)
{
	return fb->type == MB2_FRAMEBUFFER_TYPE_RGB && fb->width && fb->height &&
	       (fb->bpp == 15 || fb->bpp == 16 || fb->bpp == 24 || fb->bpp == 32) &&
	       fb->pitch >= fb->width * ((fb->bpp + 7u) / 8u);
}

/* Describe the boot mode and look for the DISPI registers. */
static void fbdev_probe(const struct boot_framebuffer *fb)
{
	uint64_t vram;

	fill_fix(&fbdev.fix, fb->addr, fb->pitch, fb->height);
	fill_var(&fbdev.var, fb, fb->width, fb->height);
	fbdev.screen_size = fbdev.fix.smem_len;
	if (dispi_detect(fb->addr, &vram) && vram >= fbdev.screen_size) {
		fbdev.dispi = true;
		fbdev.screen_size = vram;
	}
}

int fbdev_init(void)
{
	const struct boot_framebuffer *fb = bootfb_rgb(); /* checked: drivers/bootfb.c */
	int err;

	if (fbdev.ready)
		return 0;
	if (!fb || !fb_usable(fb))
		return -ENODEV;
	fbdev_probe(fb);
	fbdev.screen_base = ioremap_wc(fbdev.fix.smem_start, fbdev.screen_size);
	if (!fbdev.screen_base)
		return -ENOMEM;
	err = vfs_mknod_rdev("/dev/fb0", S_IFCHR | 0660, FB_MAJOR << 8 | 0, &fbdev_fops, NULL);
	if (err < 0) {
		iounmap(fbdev.screen_base);
		fbdev.screen_base = NULL;
		return err;
	}
	fbdev.ready = true;
	pr_info("fbdev: /dev/fb0 \"%s\" %ux%u, %u bpp at %#llx%s\n", fbdev.fix.id, fb->width,
		fb->height, fb->bpp, (unsigned long long)fb->addr,
		fbdev.dispi ? ", modes settable (Bochs DISPI)" : "");
	return 0;
}

bool fbdev_can_set_mode(void)
{
	return fbdev.ready && fbdev.dispi;
}

unsigned int fbdev_mapping_count(void)
{
	return fbdev.mappings;
}

bool fbdev_memory_overlaps(phys_addr_t start, phys_addr_t end)
{
	phys_addr_t base = fbdev.fix.smem_start;

	return fbdev.ready && start < base + fbdev.screen_size && base < end;
}
