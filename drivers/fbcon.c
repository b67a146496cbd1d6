/* The framebuffer text console: printk output drawn with a bitmap font.
 *
 * Why a shadow grid: the framebuffer is mapped write-combining, where
 * writes are fast but every read is an uncached bus read, so scrolling by
 * memmove() of the pixels would read the whole screen (8 MiB at 1920x1080,
 * 32 bpp) on every new line. Instead the characters on screen are kept in
 * st->cells, and scrolling moves the characters there and repaints only
 * the cells whose character changed. Log lines are mostly short, so most
 * cells are blank before and after a scroll and cost nothing. The
 * invariant: while not suspended, cell (x, y) of the screen shows glyph
 * cells[y * cols + x] in fg on bg, and nothing is ever read back from the
 * framebuffer.
 *
 * Pixel layout (multiboot2 spec, 3.6.12 "Framebuffer info"): scan line y
 * starts at base + y * pitch; a pixel is bpp/8 bytes, little-endian, with
 * each colour channel in bits [pos, pos + size). */
#include <pagoda/spinlock.h>
#include <pagoda/compiler.h>
#include <pagoda/errno.h>
#include <pagoda/fbcon.h>
#include <pagoda/multiboot2.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <asm/x86.h>

#define FONT_MAX_WIDTH 32 /* a glyph row must fit a uint32_t */
#define FONT_MAX_HEIGHT 64

/* Channel value c (0..255) scaled to size bits, rounded, at bit pos. */
static uint32_t pack_channel(uint32_t c, unsigned int pos, unsigned int size)
{
	uint64_t max = (1ULL << size) - 1;

	return (uint32_t)((c * max + 127) / 255) << pos;
}

/* rgb (0xRRGGBB) as a pixel value of st's framebuffer. */
static uint32_t pack_rgb(const struct fbcon_state *st, uint32_t rgb)
{
	const struct boot_framebuffer *fb = &st->fb;

	return pack_channel((rgb >> 16) & 0xff, fb->red_pos, fb->red_size) |
	       pack_channel((rgb >> 8) & 0xff, fb->green_pos, fb->green_size) |
	       pack_channel(rgb & 0xff, fb->blue_pos, fb->blue_size);
}

static bool channel_fits(unsigned int pos, unsigned int size, unsigned int bpp)
{
	return size > 0 && size <= 32 && pos + size <= bpp;
}

/* 0 if we can draw on fb with font, else -EINVAL. */
static int fbcon_check(const struct boot_framebuffer *fb, const void *vaddr,
		       const struct font_desc *font)
{
	unsigned int bytes_pp;

	if (!fb || !vaddr || !font || fb->type != MB2_FRAMEBUFFER_TYPE_RGB)
		return -EINVAL;
	if (fb->bpp != 15 && fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32)
		return -EINVAL;
	bytes_pp = (fb->bpp + 7u) / 8u;
	if (!channel_fits(fb->red_pos, fb->red_size, fb->bpp) ||
	    !channel_fits(fb->green_pos, fb->green_size, fb->bpp) ||
	    !channel_fits(fb->blue_pos, fb->blue_size, fb->bpp))
		return -EINVAL;
	if (font->width == 0 || font->width > FONT_MAX_WIDTH || font->height == 0 ||
	    font->height > FONT_MAX_HEIGHT || font->bytes_per_row != (font->width + 7) / 8)
		return -EINVAL;
	if (fb->width < font->width || fb->height < font->height ||
	    fb->pitch < (uint64_t)fb->width * bytes_pp)
		return -EINVAL;
	return 0;
}

static inline void store_pixel(uint8_t *p, unsigned int bytes_pp, uint32_t px)
{
	switch (bytes_pp) {
	case 4:
		*(uint32_t *)p = px;
		break;
	case 3:
		p[0] = px & 0xff;
		p[1] = (px >> 8) & 0xff;
		p[2] = (px >> 16) & 0xff;
		break;
	default:
		*(uint16_t *)p = (uint16_t)px;
		break;
	}
}

/* Paint [x, x + w) x [y, y + h) with pixel value px; the caller clips. */
static void fill_pixels(struct fbcon_state *st, unsigned int x, unsigned int y,
			unsigned int w, unsigned int h, uint32_t px)
{
	for (unsigned int row = y; row < y + h; row++) {
		uint8_t *p = st->base + (size_t)row * st->fb.pitch + (size_t)x * st->bytes_pp;

		for (unsigned int i = 0; i < w; i++, p += st->bytes_pp)
			store_pixel(p, st->bytes_pp, px);
	}
}

/* Paint glyph c into cell (col, row), every pixel of the cell in fg or bg. */
static void draw_cell(struct fbcon_state *st, unsigned int col, unsigned int row, uint8_t c)
{
	const struct font_desc *f = st->font;
	const uint8_t *g = font_glyph(f, c);
	unsigned int top_bit = f->bytes_per_row * 8 - 1;
	uint8_t *line = st->base + (size_t)row * f->height * st->fb.pitch +
			(size_t)col * f->width * st->bytes_pp;

	for (unsigned int y = 0; y < f->height; y++, line += st->fb.pitch) {
		uint32_t bits = 0;
		uint8_t *p = line;

		for (unsigned int b = 0; b < f->bytes_per_row; b++)
			bits = bits << 8 | *g++;
		for (unsigned int x = 0; x < f->width; x++, p += st->bytes_pp)
			store_pixel(p, st->bytes_pp, ((bits >> (top_bit - x)) & 1) ? st->fg : st->bg);
	}
}

/* Put c in the grid at (col, row) and, if it changed, on the screen. */
static void set_cell(struct fbcon_state *st, unsigned int col, unsigned int row, uint8_t c)
{
	uint8_t *cell = &st->cells[row * st->cols + col];

	if (*cell == c)
		return;
	*cell = c;
	if (!st->suspended)
		draw_cell(st, col, row, c);
}

/* Clear the screen to bg and paint every non-blank cell. */
static void redraw(struct fbcon_state *st)
{
	fill_pixels(st, 0, 0, st->fb.width, st->fb.height, st->bg);
	for (unsigned int row = 0; row < st->rows; row++)
		for (unsigned int col = 0; col < st->cols; col++)
			if (st->cells[row * st->cols + col] != ' ')
				draw_cell(st, col, row, st->cells[row * st->cols + col]);
}

/* Move every line up one and blank the last (see the top of the file). */
static void scroll(struct fbcon_state *st)
{
	for (unsigned int row = 0; row + 1 < st->rows; row++)
		for (unsigned int col = 0; col < st->cols; col++)
			set_cell(st, col, row, st->cells[(row + 1) * st->cols + col]);
	for (unsigned int col = 0; col < st->cols; col++)
		set_cell(st, col, st->rows - 1, ' ');
}

static void newline(struct fbcon_state *st)
{
	st->cx = 0;
	if (st->cy + 1 < st->rows)
		st->cy++;
	else
		scroll(st);
}

/* Draw glyph index c at the cursor and advance it. A full line wraps only
 * when the next character comes, so that a line of exactly cols
 * characters and its '\n' make one line, not one and a blank. */
static void put_glyph(struct fbcon_state *st, uint8_t c)
{
	if (st->cx >= st->cols)
		newline(st);
	set_cell(st, st->cx, st->cy, c);
	st->cx++;
}

static void tab(struct fbcon_state *st)
{
	do
		put_glyph(st, ' ');
	while (st->cx < st->cols && st->cx % FBCON_TAB_WIDTH != 0);
}

/* Feed one byte of UTF-8. Returns a code point when one is complete,
 * U+FFFD for a malformed sequence, or -1 while one is incomplete. A
 * sequence cut short by an ASCII byte is dropped for that byte; an
 * overlong ASCII byte (0xc0 0x8a for '\n') is malformed, not a control. */
static int32_t utf8_feed(struct fbcon_state *st, uint8_t b)
{
	if (b < 0x80) {
		st->utf8_left = 0;
		return b;
	}
	if (b >= 0xc0 && b < 0xf8) {
		st->utf8_left = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
		st->utf8_cp = b & (0x3f >> st->utf8_left);
		return -1;
	}
	if (b >= 0xf8 || st->utf8_left == 0)
		return 0xfffd;
	st->utf8_cp = st->utf8_cp << 6 | (b & 0x3f);
	if (--st->utf8_left)
		return -1;
	return st->utf8_cp < 0x80 ? 0xfffd : (int32_t)st->utf8_cp;
}

/* The font's glyph index for a printable code point. */
static uint8_t glyph_index(int32_t cp)
{
	if (cp > 0xff || (cp >= 0x7f && cp < 0xa0))
		return FONT_GLYPH_REPLACEMENT;
	return (uint8_t)cp;
}

static void put_char(struct fbcon_state *st, uint8_t b)
{
	int32_t cp = utf8_feed(st, b);

	switch (cp) {
	case -1:
		break;
	case '\n':
		newline(st);
		break;
	case '\r':
		st->cx = 0;
		break;
	case '\t':
		tab(st);
		break;
	case '\b':
		if (st->cx > 0)
			st->cx--;
		break;
	default:
		if (cp >= 0x20) /* other control characters draw nothing */
			put_glyph(st, glyph_index(cp));
		break;
	}
}

int fbcon_state_init(struct fbcon_state *st, const struct boot_framebuffer *fb, void *vaddr,
		     const struct font_desc *font)
{
	int err = fbcon_check(fb, vaddr, font);

	if (err)
		return err;
	st->base = vaddr;
	st->fb = *fb;
	st->bytes_pp = (fb->bpp + 7u) / 8u;
	st->fg = pack_rgb(st, FBCON_FG_RGB);
	st->bg = pack_rgb(st, FBCON_BG_RGB);
	st->font = font;
	st->cols = MIN(fb->width / font->width, (unsigned int)FBCON_MAX_COLS);
	st->rows = MIN(fb->height / font->height, (unsigned int)FBCON_MAX_ROWS);
	st->cx = st->cy = 0;
	st->suspended = false;
	st->utf8_left = 0;
	memset(st->cells, ' ', sizeof(st->cells));
	redraw(st);
	return 0;
}

void fbcon_state_write(struct fbcon_state *st, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_char(st, (uint8_t)s[i]);
}

void fbcon_state_suspend(struct fbcon_state *st, bool suspended)
{
	bool resumed = st->suspended && !suspended;

	st->suspended = suspended;
	if (resumed)
		redraw(st);
}

void fbcon_state_fill_rect(struct fbcon_state *st, unsigned int x, unsigned int y,
			   unsigned int w, unsigned int h, uint32_t rgb)
{
	if (st->suspended || x >= st->fb.width || y >= st->fb.height)
		return;
	w = MIN(w, st->fb.width - x);
	h = MIN(h, st->fb.height - y);
	fill_pixels(st, x, y, w, h, pack_rgb(st, rgb));
}

/* The console printk writes to. fbcon_lock guards it: printk's console
 * lock is held around the write callback (and taken before this one), the
 * functions below take only this one. Interrupts are off under it. */
DEFINE_STATIC_SPINLOCK(fbcon_lock);
static struct fbcon_state fbcon;
static bool fbcon_registered;

static void fbcon_console_write(struct console *con __unused, const char *s, size_t n)
{
	uint64_t flags = spin_lock_irqsave(&fbcon_lock);

	fbcon_state_write(&fbcon, s, n);
	spin_unlock_irqrestore(&fbcon_lock, flags);
}

static struct console fbcon_console = {
	.name = "fbcon",
	.write = fbcon_console_write,
	/* For people, not for KTAP; shows the boot log printed before it started. */
	.flags = CON_REPLAY,
};

int fbcon_init(const struct boot_framebuffer *fb, void *vaddr)
{
	uint64_t flags;
	int err;

	/* Check first, so that a bad call leaves a working console alone. */
	err = fbcon_check(fb, vaddr, &font_default);
	if (err)
		return err;
	flags = spin_lock_irqsave(&fbcon_lock);
	fbcon_state_init(&fbcon, fb, vaddr, &font_default);
	spin_unlock_irqrestore(&fbcon_lock, flags);
	if (!fbcon_registered) {
		fbcon_registered = true;
		console_register(&fbcon_console);
	}
	return 0;
}

void fbcon_suspend(bool suspended)
{
	uint64_t flags;

	if (!fbcon_registered)
		return;
	flags = spin_lock_irqsave(&fbcon_lock);
	fbcon_state_suspend(&fbcon, suspended);
	spin_unlock_irqrestore(&fbcon_lock, flags);
}

bool fbcon_active(void)
{
	return fbcon_registered && !READ_ONCE(fbcon.suspended);
}

void fbcon_get_geometry(unsigned int *cols, unsigned int *rows)
{
	*cols = fbcon_registered ? fbcon.cols : 0;
	*rows = fbcon_registered ? fbcon.rows : 0;
}

void fbcon_fill_rect(unsigned int x, unsigned int y, unsigned int w, unsigned int h,
		     uint32_t rgb)
{
	uint64_t flags;

	if (!fbcon_registered)
		return;
	flags = spin_lock_irqsave(&fbcon_lock);
	fbcon_state_fill_rect(&fbcon, x, y, w, h, rgb);
	spin_unlock_irqrestore(&fbcon_lock, flags);
}
