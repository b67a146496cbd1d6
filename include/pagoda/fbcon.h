/* fbcon: a text console drawn with a bitmap font on a linear RGB
 * framebuffer (drivers/fbcon.c).
 *
 * The text is kept in a shadow grid of character cells; the screen always
 * shows that grid, except while the console is suspended (a user process
 * owns the framebuffer), when only the grid is updated and the screen is
 * repainted from it on resume. */
#ifndef PAGODA_FBCON_H
#define PAGODA_FBCON_H

#include <pagoda/bootinfo.h>
#include <pagoda/font.h>
#include <pagoda/types.h>

/* The largest text grid: 1920x2160 pixels with an 8x16 font. A larger
 * screen uses its top-left part. */
#define FBCON_MAX_COLS 240
#define FBCON_MAX_ROWS 135
#define FBCON_TAB_WIDTH 8
#define FBCON_FG_RGB 0xaaaaaa /* light grey, VGA colour 7 */
#define FBCON_BG_RGB 0x000000

/* One console over one framebuffer. The global console is one of these;
 * the self-tests make their own over a buffer in memory. */
struct fbcon_state {
	uint8_t *base;               /* virtual address of pixel (0, 0) */
	struct boot_framebuffer fb;  /* geometry and colour layout */
	unsigned int bytes_pp;       /* 2, 3 or 4 */
	uint32_t fg, bg;             /* pixel values packed for fb */
	const struct font_desc *font;
	unsigned int cols, rows;     /* the text grid, in cells */
	unsigned int cx, cy;         /* cursor; cx == cols: wrap before next char */
	bool suspended;              /* keep the grid, draw nothing */
	uint32_t utf8_cp;            /* UTF-8 sequence being decoded */
	unsigned int utf8_left;      /* its continuation bytes still to come */
	uint8_t cells[FBCON_MAX_ROWS * FBCON_MAX_COLS]; /* row y at [y * cols] */
};

/* Set up the framebuffer console on fb, whose memory is mapped at vaddr
 * (write-combining, ideally), clear the screen and register the console
 * with printk. Calling it again moves the console to the new framebuffer.
 * Returns 0, or -EINVAL for a framebuffer that is not RGB with 15, 16, 24
 * or 32 bits per pixel, has a zero size or a pitch too small for its
 * width, or is smaller than one character cell. On failure nothing
 * changes. Call with interrupts enabled or disabled. */
int fbcon_init(const struct boot_framebuffer *fb, void *vaddr);

/* While suspended, the console keeps its text but draws nothing; on resume
 * it repaints the whole screen from the text. No-op before fbcon_init(). */
void fbcon_suspend(bool suspended);

/* True when fbcon_init() succeeded and the console is not suspended. */
bool fbcon_active(void);

/* The text grid in cells; 0 x 0 before fbcon_init(). */
void fbcon_get_geometry(unsigned int *cols, unsigned int *rows);

/* Paint pixels [x, x + w) x [y, y + h), clipped to the screen, in colour
 * rgb (0xRRGGBB). It is not recorded in the text grid: it stays until the
 * cells under it change or the screen is repainted. No-op while inactive. */
void fbcon_fill_rect(unsigned int x, unsigned int y, unsigned int w, unsigned int h,
		     uint32_t rgb);

/* The same operations on a given console state, for the self-tests. The
 * caller serialises calls on one state. fbcon_state_init() returns 0 or
 * -EINVAL as fbcon_init() does (also for a font it cannot draw), and
 * leaves *st untouched on failure. */
int fbcon_state_init(struct fbcon_state *st, const struct boot_framebuffer *fb, void *vaddr,
		     const struct font_desc *font);
void fbcon_state_write(struct fbcon_state *st, const char *s, size_t n);
void fbcon_state_suspend(struct fbcon_state *st, bool suspended);
void fbcon_state_fill_rect(struct fbcon_state *st, unsigned int x, unsigned int y,
			   unsigned int w, unsigned int h, uint32_t rgb);

#endif
