/* bootfb: what the kernel makes of the boot loader's framebuffer tag
 * (drivers/bootfb.c), checked before anything draws on it.
 *
 * GRUB hands over whatever the firmware left: a linear RGB framebuffer
 * (VBE, GOP), the 80x25 EGA text buffer (gfxpayload=text), a planar VGA
 * mode at 0xa0000 when there is no display device it knows, or, under
 * OVMF with a virtio GPU, a tag whose address is 0. Only the first two
 * can be used; anything else is refused with a logged reason, and then
 * the kernel's console is the serial port alone and /dev/fb0 does not
 * exist. See docs/boot.md. */
#ifndef PAGODA_BOOTFB_H
#define PAGODA_BOOTFB_H

#include <pagoda/bootinfo.h>
#include <pagoda/memblock.h>
#include <pagoda/types.h>

enum bootfb_kind {
	BOOTFB_NONE,     /* no tag, or a refused one */
	BOOTFB_RGB,      /* a linear RGB framebuffer: fbcon and /dev/fb0 */
	BOOTFB_EGA_TEXT, /* the VGA text buffer: vgacon */
};

#define VGA_TEXT_BASE 0xb8000ULL  /* colour text buffer (IBM VGA Technical Reference) */
#define VGA_TEXT_END 0xc0000ULL
#define VGA_WINDOW_BASE 0xa0000ULL /* the legacy VGA memory window */
#define VGA_WINDOW_END 0xc0000ULL

/* What a framebuffer is checked against. */
struct bootfb_machine {
	const struct memblock_list *ram;   /* System RAM */
	const struct memblock_range *bars; /* memory BARs of PCI devices */
	unsigned int nr_bars;
	uint64_t phys_limit;               /* 1 << MAXPHYADDR */
};

/* Check bi's framebuffer tag against m. Returns what it can be used as;
 * for BOOTFB_NONE, why (a phrase, NUL-terminated, at most len bytes) says
 * what is wrong with it, or that there was no tag. Reads only its
 * arguments. */
enum bootfb_kind bootfb_check(const struct boot_info *bi, const struct bootfb_machine *m,
			      char *why, size_t len);

/* Check boot_info's tag against this machine (memblock's RAM, the PCI
 * BARs) and log the verdict. Call once, after pci_init(). */
void bootfb_init(void);

/* The verdict of bootfb_init(). */
enum bootfb_kind bootfb_kind(void);

/* The boot framebuffer when it is a usable RGB one, else NULL. */
const struct boot_framebuffer *bootfb_rgb(void);

/* Why there is no RGB framebuffer ("the boot loader gave no framebuffer
 * tag", "its address is 0", "it is EGA text"...), for logs and the skip
 * reasons of tests; "" when there is one. */
const char *bootfb_why_not_rgb(void);

#endif
