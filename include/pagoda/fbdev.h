/* fbdev: /dev/fb0 over the framebuffer the boot loader set up (VBE under
 * BIOS, GOP under UEFI), with Linux's ioctls and structures (uapi
 * <linux/fb.h>), so that a program written for Linux's efifb or vesafb runs
 * unchanged (drivers/fbdev.c). See docs/framebuffer.md.
 *
 * A process maps the pixels with mmap() (write-combining); while any such
 * mapping exists the text console (fbcon) draws nothing, and it repaints
 * the screen when the last one goes. On QEMU's standard VGA the mode can
 * be changed with FBIOPUT_VSCREENINFO (the Bochs VBE "DISPI" registers);
 * elsewhere the boot mode is the only one.
 *
 * The same header declares /dev/mem (drivers/devmem.c) at the end. */
#ifndef PAGODA_FBDEV_H
#define PAGODA_FBDEV_H

#include <pagoda/compiler.h>
#include <pagoda/types.h>

/* ioctl requests (Linux's include/uapi/linux/fb.h). */
#define FBIOGET_VSCREENINFO 0x4600
#define FBIOPUT_VSCREENINFO 0x4601
#define FBIOGET_FSCREENINFO 0x4602
#define FBIOPAN_DISPLAY 0x4606

#define FB_TYPE_PACKED_PIXELS 0 /* fix.type */
#define FB_VISUAL_TRUECOLOR 2   /* fix.visual */
#define FB_ACCEL_NONE 0         /* fix.accel */

/* var.activate */
#define FB_ACTIVATE_NOW 0      /* set the mode now */
#define FB_ACTIVATE_TEST 2     /* only check it, and say what would be set */
#define FB_ACTIVATE_MASK 15
#define FB_ACTIVATE_FORCE 128  /* set it even if nothing changed */
#define FB_ACTIVATE_KD_TEXT 512 /* kernel-internal; cleared from requests */
#define FB_VMODE_NONINTERLACED 0

/* One colour channel: bits [offset, offset + length) of a pixel. */
struct fb_bitfield {
	uint32_t offset;
	uint32_t length;
	uint32_t msb_right; /* != 0: the most significant bit is on the right */
};

/* The mode: what FBIOGET_VSCREENINFO returns and FBIOPUT_VSCREENINFO asks
 * for. The visible screen is [xoffset, xoffset + xres) x [yoffset,
 * yoffset + yres) of a virtual one of xres_virtual x yres_virtual pixels. */
struct fb_var_screeninfo {
	uint32_t xres, yres;
	uint32_t xres_virtual, yres_virtual;
	uint32_t xoffset, yoffset;
	uint32_t bits_per_pixel;
	uint32_t grayscale;
	struct fb_bitfield red, green, blue, transp;
	uint32_t nonstd;
	uint32_t activate;     /* FB_ACTIVATE_* */
	uint32_t height, width; /* of the picture in mm; ~0: unknown */
	uint32_t accel_flags;
	/* Timings, in pixclock picoseconds and pixels/lines. */
	uint32_t pixclock;
	uint32_t left_margin, right_margin, upper_margin, lower_margin;
	uint32_t hsync_len, vsync_len;
	uint32_t sync;
	uint32_t vmode;
	uint32_t rotate;
	uint32_t colorspace;
	uint32_t reserved[4];
};
BUILD_BUG_ON(sizeof(struct fb_var_screeninfo) != 160);

/* What does not change with the mode setting alone: where the memory is.
 * smem_start and mmio_start are unsigned long (64-bit here), so a
 * framebuffer above 4 GiB is reported whole. */
struct fb_fix_screeninfo {
	char id[16];
	unsigned long smem_start; /* physical address of pixel (0, 0) */
	uint32_t smem_len;        /* bytes mappable from smem_start */
	uint32_t type;            /* FB_TYPE_* */
	uint32_t type_aux;
	uint32_t visual;          /* FB_VISUAL_* */
	uint16_t xpanstep, ypanstep, ywrapstep; /* 0: no panning */
	uint32_t line_length;     /* bytes per scan line */
	unsigned long mmio_start;
	uint32_t mmio_len;
	uint32_t accel;           /* FB_ACCEL_* */
	uint16_t capabilities;
	uint16_t reserved[2];
};
BUILD_BUG_ON(sizeof(struct fb_fix_screeninfo) != 80);

/* Create /dev/fb0 (character device 29:0) for the boot framebuffer. Call
 * after vfs_init(), once fbcon runs on the same framebuffer. Returns 0
 * (also when it is already there), -ENODEV when the boot loader gave no
 * usable RGB framebuffer, -ENOMEM, or the error of vfs_mknod(). */
int fbdev_init(void);

/* True when fbdev_init() found QEMU's standard VGA (PCI 1234:1111) behind
 * the framebuffer with its Bochs DISPI registers: modes can be set. */
bool fbdev_can_set_mode(void);

/* User mappings of the framebuffer now alive (fbcon is suspended while
 * this is not 0). */
unsigned int fbdev_mapping_count(void);

/* True when [start, end) overlaps the memory the framebuffer occupies
 * (all of the adapter's video memory when modes can be set). The kernel
 * maps it write-combining, so /dev/mem does too. */
bool fbdev_memory_overlaps(phys_addr_t start, phys_addr_t end);

/* --- /dev/mem (drivers/devmem.c) --- */

/* Create /dev/mem (character device 1:1): physical memory by offset, with
 * Linux's CONFIG_STRICT_DEVMEM policy. Call after vfs_init(). Returns 0
 * (also when it is already there) or the error of vfs_mknod(). */
int devmem_init(void);

#endif
