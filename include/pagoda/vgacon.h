/* vgacon: a text console on the VGA text buffer (drivers/vgacon.c), for an
 * EGA text framebuffer tag (GRUB's gfxpayload=text): cols x rows cells of
 * two bytes at 0xb8000, a character of code page 437 and its attribute
 * (IBM VGA Technical Reference, "Alphanumeric Modes"):
 *
 *   bits 15..12 background  11..8 foreground  7..0 character
 *
 * As fbcon does, it keeps the characters in a shadow grid, so scrolling
 * never reads the (uncached) video memory. */
#ifndef PAGODA_VGACON_H
#define PAGODA_VGACON_H

#include <pagoda/bootinfo.h>
#include <pagoda/types.h>

#define VGACON_MAX_COLS 132
#define VGACON_MAX_ROWS 60
#define VGACON_ATTR 0x07 /* light grey on black */

/* One console over one text buffer. The global one is one of these; the
 * self-tests make their own over a buffer in memory. */
struct vgacon_state {
	volatile uint16_t *base; /* cell (x, y) at base[y * stride + x] */
	unsigned int cols, rows, stride;
	unsigned int cx, cy;     /* cursor; cx == cols: wrap before the next char */
	bool in_utf8;            /* inside a UTF-8 sequence (shown as one '?') */
	uint16_t cells[VGACON_MAX_ROWS * VGACON_MAX_COLS]; /* row y at [y * cols] */
};

/* Set up st on the text buffer described by fb (EGA text, 16 bits a
 * cell), mapped at vaddr, and clear it. Returns 0, or -EINVAL for a
 * framebuffer that is not EGA text, has no cells or a pitch shorter than
 * its width (st is left untouched then). A larger buffer uses its top
 * left VGACON_MAX_COLS x VGACON_MAX_ROWS. */
int vgacon_state_init(struct vgacon_state *st, const struct boot_framebuffer *fb,
		      void *vaddr);
/* Write n bytes: '\n' new line, '\r' column 0, '\t' to the next multiple
 * of 8, '\b' back one; other control characters draw nothing; a UTF-8
 * sequence draws one '?'. The caller serialises calls on one state. */
void vgacon_state_write(struct vgacon_state *st, const char *s, size_t n);

/* Map the boot text buffer fb, clear it and register the console with
 * printk (it then shows the boot log so far). Returns 0, -EINVAL as
 * above, or -ENOMEM. */
int vgacon_init(const struct boot_framebuffer *fb);

/* The console printk writes to, or NULL before vgacon_init(). */
const struct vgacon_state *vgacon_get(void);

#endif
