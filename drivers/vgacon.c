/* The VGA text console (see include/pagoda/vgacon.h).
 *
 * The invariant, as in fbcon: cell (x, y) of the screen holds
 * cells[y * cols + x]; every change goes to both, and nothing is read
 * back from video memory. The hardware cursor follows the text cursor
 * through the CRT controller's Cursor Location registers (index 0x0e
 * high byte, 0x0f low byte, at ports 0x3d4/0x3d5 for colour text). */
#include <pagoda/bootfb.h>
#include <pagoda/errno.h>
#include <pagoda/ioremap.h>
#include <pagoda/multiboot2.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/vgacon.h>
#include <asm/x86.h>

#define CRTC_INDEX 0x3d4
#define CRTC_DATA 0x3d5
#define CRTC_CURSOR_HIGH 0x0e
#define CRTC_CURSOR_LOW 0x0f
#define TAB_WIDTH 8
#define BLANK ((uint16_t)(VGACON_ATTR << 8 | ' '))

static void set_cell(struct vgacon_state *st, unsigned int x, unsigned int y, uint16_t v)
{
	uint16_t *c = &st->cells[y * st->cols + x];

	if (*c == v)
		return;
	*c = v;
	st->base[y * st->stride + x] = v;
}

static void scroll(struct vgacon_state *st)
{
	for (unsigned int y = 0; y + 1 < st->rows; y++)
		for (unsigned int x = 0; x < st->cols; x++)
			set_cell(st, x, y, st->cells[(y + 1) * st->cols + x]);
	for (unsigned int x = 0; x < st->cols; x++)
		set_cell(st, x, st->rows - 1, BLANK);
}

static void newline(struct vgacon_state *st)
{
	st->cx = 0;
	if (st->cy + 1 < st->rows)
		st->cy++;
	else
		scroll(st);
}

static void put_glyph(struct vgacon_state *st, uint8_t c)
{
	if (st->cx >= st->cols)
		newline(st);
	set_cell(st, st->cx++, st->cy, (uint16_t)(VGACON_ATTR << 8 | c));
}

static void put_char(struct vgacon_state *st, uint8_t b)
{
	if (b >= 0xc0) { /* UTF-8: a '?' for the lead byte, nothing for the rest */
		put_glyph(st, '?');
		st->in_utf8 = true;
		return;
	}
	if (b >= 0x80) {
		if (!st->in_utf8)
			put_glyph(st, '?');
		return;
	}
	st->in_utf8 = false;
	switch (b) {
	case '\n':
		newline(st);
		break;
	case '\r':
		st->cx = 0;
		break;
	case '\t':
		do
			put_glyph(st, ' ');
		while (st->cx < st->cols && st->cx % TAB_WIDTH);
		break;
	case '\b':
		if (st->cx > 0)
			st->cx--;
		break;
	default:
		if (b >= 0x20 && b < 0x7f)
			put_glyph(st, b);
		break;
	}
}

int vgacon_state_init(struct vgacon_state *st, const struct boot_framebuffer *fb,
		      void *vaddr)
{
	if (!fb || !vaddr || fb->type != MB2_FRAMEBUFFER_TYPE_EGA_TEXT || !fb->width ||
	    !fb->height || fb->pitch < 2ULL * fb->width)
		return -EINVAL;
	st->base = vaddr;
	st->cols = MIN(fb->width, (uint32_t)VGACON_MAX_COLS);
	st->rows = MIN(fb->height, (uint32_t)VGACON_MAX_ROWS);
	st->stride = fb->pitch / 2;
	st->cx = st->cy = 0;
	st->in_utf8 = false;
	for (unsigned int i = 0; i < st->rows * st->cols; i++)
		st->cells[i] = BLANK;
	for (unsigned int y = 0; y < st->rows; y++)
		for (unsigned int x = 0; x < st->cols; x++)
			st->base[y * st->stride + x] = BLANK;
	return 0;
}

void vgacon_state_write(struct vgacon_state *st, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_char(st, (uint8_t)s[i]);
}

/* The console printk writes to: printk calls write under its console
 * lock, which guards it and the CRTC ports (vgacon_init() runs at boot,
 * before the other CPUs start). */
static struct vgacon_state vgacon;
static bool vgacon_ready;

static void move_cursor(const struct vgacon_state *st)
{
	unsigned int pos = st->cy * st->stride + MIN(st->cx, st->cols - 1);

	outb(CRTC_INDEX, CRTC_CURSOR_HIGH);
	outb(CRTC_DATA, pos >> 8);
	outb(CRTC_INDEX, CRTC_CURSOR_LOW);
	outb(CRTC_DATA, pos & 0xff);
}

static void vgacon_write(struct console *con, const char *s, size_t n)
{
	vgacon_state_write(&vgacon, s, n);
	move_cursor(&vgacon);
}

static struct console vgacon_console = {
	.name = "vgacon",
	.write = vgacon_write,
	.flags = CON_REPLAY,
};

int vgacon_init(const struct boot_framebuffer *fb)
{
	void *va;
	int err;

	if (vgacon_ready)
		return 0;
	if (!fb || fb->type != MB2_FRAMEBUFFER_TYPE_EGA_TEXT)
		return -EINVAL;
	va = ioremap(fb->addr, (size_t)fb->pitch * fb->height, CACHE_UC_MINUS);
	if (!va)
		return -ENOMEM;
	uint64_t flags = irq_save();
	err = vgacon_state_init(&vgacon, fb, va);
	irq_restore(flags);
	if (err) {
		iounmap(va);
		return err;
	}
	vgacon_ready = true;
	console_register(&vgacon_console);
	return 0;
}

const struct vgacon_state *vgacon_get(void)
{
	return vgacon_ready ? &vgacon : NULL;
}
