/* Tests of the framebuffer console, drawn on a fake framebuffer in memory
 * (a private struct fbcon_state), so that they neither need nor disturb
 * the screen. Expected pixels are worked out here from the font bits and
 * by hand-packed colour values, not by the code under test. */
#include <pagoda/bootfb.h>
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/fbcon.h>
#include <pagoda/font.h>
#include <pagoda/ktest.h>
#include <pagoda/multiboot2.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>

#define FAKE_W 128
#define FAKE_H 96
#define FAKE_PAD 12 /* bytes past each scan line that must stay untouched */
#define FAKE_MAX_PITCH (FAKE_W * 4 + FAKE_PAD)
#define CANARY 0x5a

static uint8_t fake_fb[FAKE_H * FAKE_MAX_PITCH];
static struct fbcon_state st;

/* A framebuffer description of the fake, in the usual xRGB / RGB565. */
static struct boot_framebuffer fake_desc(uint8_t bpp)
{
	struct boot_framebuffer fb = {
		.addr = 0xfd000000, .width = FAKE_W, .height = FAKE_H, .bpp = bpp,
		.type = MB2_FRAMEBUFFER_TYPE_RGB,
		.red_pos = 16, .red_size = 8, .green_pos = 8, .green_size = 8,
		.blue_pos = 0, .blue_size = 8,
	};

	fb.pitch = FAKE_W * ((bpp + 7) / 8) + FAKE_PAD;
	if (bpp == 16) {
		fb.red_pos = 11, fb.red_size = 5;
		fb.green_pos = 5, fb.green_size = 6;
		fb.blue_size = 5;
	}
	return fb;
}

/* Fill the fake with the canary and start a console on it. */
static int fake_init(const struct boot_framebuffer *fb)
{
	memset(fake_fb, CANARY, sizeof(fake_fb));
	return fbcon_state_init(&st, fb, fake_fb, &font_default);
}

static void write_str(const char *s)
{
	fbcon_state_write(&st, s, strlen(s));
}

static uint32_t read_pixel(unsigned int x, unsigned int y)
{
	const uint8_t *p = fake_fb + y * st.fb.pitch + x * st.bytes_pp;

	switch (st.bytes_pp) {
	case 4:
		return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
	case 3:
		return p[0] | p[1] << 8 | p[2] << 16;
	default:
		return p[0] | p[1] << 8;
	}
}

static bool glyph_bit(uint8_t c, unsigned int x, unsigned int y)
{
	const uint8_t *row = font_glyph(&font_default, c) + y * font_default.bytes_per_row;

	return row[x / 8] & (0x80 >> (x % 8));
}

static unsigned int glyph_ink(uint8_t c)
{
	unsigned int n = 0;

	for (unsigned int y = 0; y < font_default.height; y++)
		for (unsigned int x = 0; x < font_default.width; x++)
			n += glyph_bit(c, x, y);
	return n;
}

/* Pixels of cell (col, row) that do not show glyph c in st.fg on st.bg. */
static unsigned int cell_mismatches(unsigned int col, unsigned int row, uint8_t c)
{
	unsigned int w = font_default.width, h = font_default.height, n = 0;

	for (unsigned int y = 0; y < h; y++)
		for (unsigned int x = 0; x < w; x++)
			n += read_pixel(col * w + x, row * h + y) !=
			     (glyph_bit(c, x, y) ? st.fg : st.bg);
	return n;
}

/* Pixels of the whole visible fake that are not background. */
static unsigned int count_non_bg(void)
{
	unsigned int n = 0;

	for (unsigned int y = 0; y < FAKE_H; y++)
		for (unsigned int x = 0; x < FAKE_W; x++)
			n += read_pixel(x, y) != st.bg;
	return n;
}

/* The fake has room for a few cells whatever FONT the build used. */
static bool grid_big_enough(struct ktest *t, unsigned int cols, unsigned int rows)
{
	if (st.cols >= cols && st.rows >= rows)
		return true;
	ktest_skip(t, "font too large for the fake framebuffer");
	return false;
}

static void fbcon_font_has_printable_ascii(struct ktest *t)
{
	const struct font_desc *f = &font_default;
	size_t size = f->height * f->bytes_per_row;

	KASSERT_GT(t, f->width, 0);
	KASSERT_GT(t, f->height, 0);
	KASSERT_EQ(t, f->bytes_per_row, (f->width + 7) / 8);
	KEXPECT_EQ(t, glyph_ink(' '), 0);
	KEXPECT_GT(t, glyph_ink(FONT_GLYPH_REPLACEMENT), 0);
	/* Had the Unicode table lookup failed, these would be the replacement. */
	for (unsigned int c = 0x21; c < 0x7f; c++) {
		KEXPECT_GT(t, glyph_ink(c), 0);
		KEXPECT_NE(t, memcmp(font_glyph(f, c), font_glyph(f, FONT_GLYPH_REPLACEMENT), size), 0);
	}
	KEXPECT_NE(t, memcmp(font_glyph(f, 'A'), font_glyph(f, 'a'), size), 0);
}

static void fbcon_init_clears_screen_within_pitch(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	KASSERT_EQ(t, fake_init(&fb), 0);
	KEXPECT_EQ(t, st.fg, 0x00aaaaaa);
	KEXPECT_EQ(t, st.bg, 0);
	KEXPECT_EQ(t, count_non_bg(), 0);
	for (unsigned int y = 0; y < FAKE_H; y++)
		for (unsigned int i = 0; i < FAKE_PAD; i++)
			KASSERT_EQ(t, fake_fb[y * fb.pitch + FAKE_W * 4 + i], CANARY);
	KEXPECT_EQ(t, st.cols, FAKE_W / font_default.width);
	KEXPECT_EQ(t, st.rows, FAKE_H / font_default.height);
}

static void fbcon_draws_glyph_pixels(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	KASSERT_EQ(t, fake_init(&fb), 0);
	if (!grid_big_enough(t, 2, 1))
		return;
	write_str("A");
	KEXPECT_EQ(t, cell_mismatches(0, 0, 'A'), 0);
	KEXPECT_EQ(t, count_non_bg(), glyph_ink('A'));
	KEXPECT_EQ(t, st.cx, 1);
	KEXPECT_EQ(t, st.cy, 0);
}

static void fbcon_newline_moves_to_next_row(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	KASSERT_EQ(t, fake_init(&fb), 0);
	if (!grid_big_enough(t, 2, 2))
		return;
	write_str("A\nB");
	KEXPECT_EQ(t, cell_mismatches(0, 0, 'A'), 0);
	KEXPECT_EQ(t, cell_mismatches(0, 1, 'B'), 0);
	KEXPECT_EQ(t, count_non_bg(), glyph_ink('A') + glyph_ink('B'));
}

static void fbcon_carriage_return_and_backspace_move_back(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	KASSERT_EQ(t, fake_init(&fb), 0);
	if (!grid_big_enough(t, 3, 1))
		return;
	write_str("AB\rC");
	KEXPECT_EQ(t, cell_mismatches(0, 0, 'C'), 0);
	KEXPECT_EQ(t, cell_mismatches(1, 0, 'B'), 0);
	write_str("\bD");
	KEXPECT_EQ(t, cell_mismatches(0, 0, 'D'), 0);
	write_str("\b\b\bE"); /* backspace stops at the left edge */
	KEXPECT_EQ(t, cell_mismatches(0, 0, 'E'), 0);
	KEXPECT_EQ(t, cell_mismatches(1, 0, 'B'), 0);
}

static void fbcon_tab_advances_to_next_stop(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	KASSERT_EQ(t, fake_init(&fb), 0);
	if (!grid_big_enough(t, FBCON_TAB_WIDTH + 1, 1))
		return;
	write_str("A\tB");
	KEXPECT_EQ(t, st.cx, FBCON_TAB_WIDTH + 1);
	KEXPECT_EQ(t, cell_mismatches(FBCON_TAB_WIDTH, 0, 'B'), 0);
	KEXPECT_EQ(t, count_non_bg(), glyph_ink('A') + glyph_ink('B'));
}

static void fbcon_wraps_long_lines_once(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	KASSERT_EQ(t, fake_init(&fb), 0);
	if (!grid_big_enough(t, 2, 3))
		return;
	for (unsigned int i = 0; i < st.cols; i++)
		write_str("x");
	write_str("Y"); /* one past the edge: wraps */
	KEXPECT_EQ(t, cell_mismatches(0, 1, 'Y'), 0);
	KEXPECT_EQ(t, cell_mismatches(st.cols - 1, 0, 'x'), 0);
	for (unsigned int i = 1; i < st.cols; i++)
		write_str("y");
	write_str("\nZ"); /* a full line and its '\n' make one line */
	KEXPECT_EQ(t, cell_mismatches(0, 2, 'Z'), 0);
	KEXPECT_EQ(t, st.cy, 2);
}

static void fbcon_scrolls_when_full(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);
	char line[4] = "?\n";

	KASSERT_EQ(t, fake_init(&fb), 0);
	if (!grid_big_enough(t, 3, 2))
		return;
	write_str("QQQ\n"); /* longer than the line that replaces it */
	for (unsigned int r = 1; r < st.rows; r++) {
		line[0] = 'A' + r;
		write_str(line);
	}
	/* The last '\n' scrolled: row r now shows what row r + 1 showed. */
	KEXPECT_EQ(t, st.cy, st.rows - 1);
	for (unsigned int r = 0; r + 1 < st.rows; r++) {
		KEXPECT_EQ(t, cell_mismatches(0, r, 'A' + r + 1), 0);
		KEXPECT_EQ(t, cell_mismatches(1, r, ' '), 0);
		KEXPECT_EQ(t, cell_mismatches(2, r, ' '), 0);
	}
	for (unsigned int c = 0; c < st.cols; c++)
		KEXPECT_EQ(t, cell_mismatches(c, st.rows - 1, ' '), 0);
}

static void fbcon_packs_24bpp_pixels(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(24);
	const uint8_t *p;

	KASSERT_EQ(t, fake_init(&fb), 0);
	KEXPECT_EQ(t, st.fg, 0xaaaaaa);
	fbcon_state_fill_rect(&st, 1, 1, 2, 1, 0x123456);
	p = fake_fb + fb.pitch + 3; /* pixel (1, 1) */
	KEXPECT_EQ(t, p[0], 0x56); /* blue at bits 0..7: the lowest byte */
	KEXPECT_EQ(t, p[1], 0x34);
	KEXPECT_EQ(t, p[2], 0x12);
	KEXPECT_EQ(t, p[3], 0x56); /* pixel (2, 1) starts 3 bytes on */
	KEXPECT_EQ(t, p[6], 0);    /* pixel (3, 1) is outside the rectangle */
	KEXPECT_EQ(t, p[-1], 0);   /* pixel (0, 1) too */
	fbcon_state_fill_rect(&st, 1, 1, 2, 1, 0);
	write_str("A");
	KEXPECT_EQ(t, cell_mismatches(0, 0, 'A'), 0);
	KEXPECT_EQ(t, count_non_bg(), glyph_ink('A'));
}

static void fbcon_packs_16bpp_rgb565(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(16);

	KASSERT_EQ(t, fake_init(&fb), 0);
	/* 0xaa scaled to 5 bits is 21, to 6 bits 42: 21 << 11 | 42 << 5 | 21. */
	KEXPECT_EQ(t, st.fg, 0xad55);
	fbcon_state_fill_rect(&st, 0, 0, 1, 1, 0xff8040);
	KEXPECT_EQ(t, read_pixel(0, 0), 0xfc08); /* 31 << 11 | 32 << 5 | 8 */
	KEXPECT_EQ(t, read_pixel(1, 0), 0);
	fbcon_state_fill_rect(&st, 0, 0, 1, 1, 0);
	write_str("A");
	KEXPECT_EQ(t, cell_mismatches(0, 0, 'A'), 0);
	KEXPECT_EQ(t, count_non_bg(), glyph_ink('A'));
}

static void fbcon_honours_channel_positions(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	fb.red_pos = 0, fb.blue_pos = 16; /* xBGR */
	KASSERT_EQ(t, fake_init(&fb), 0);
	fbcon_state_fill_rect(&st, FAKE_W - 1, FAKE_H - 1, 5, 5, 0x123456);
	KEXPECT_EQ(t, read_pixel(FAKE_W - 1, FAKE_H - 1), 0x563412);
	/* Clipped at the right edge: the pitch padding is untouched. */
	KEXPECT_EQ(t, fake_fb[(FAKE_H - 1) * fb.pitch + FAKE_W * 4], CANARY);
}

/* Each bad description must be refused by both entry points, and the
 * live console must not notice. */
static void expect_rejected(struct ktest *t, const struct boot_framebuffer *fb)
{
	unsigned int cols, rows, cols2, rows2;
	bool active = fbcon_active();

	st.cols = 12345;
	KEXPECT_EQ(t, fbcon_state_init(&st, fb, fake_fb, &font_default), -EINVAL);
	KEXPECT_EQ(t, st.cols, 12345);
	fbcon_get_geometry(&cols, &rows);
	KEXPECT_EQ(t, fbcon_init(fb, fake_fb), -EINVAL);
	fbcon_get_geometry(&cols2, &rows2);
	KEXPECT_EQ(t, cols2, cols);
	KEXPECT_EQ(t, rows2, rows);
	KEXPECT_EQ(t, fbcon_active(), active);
}

static void fbcon_rejects_indexed_framebuffer(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	fb.type = MB2_FRAMEBUFFER_TYPE_INDEXED;
	fb.bpp = 8;
	expect_rejected(t, &fb);
}

static void fbcon_rejects_ega_text(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(16);

	fb.type = MB2_FRAMEBUFFER_TYPE_EGA_TEXT;
	expect_rejected(t, &fb);
}

static void fbcon_rejects_8bpp_rgb(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	fb.bpp = 8, fb.red_pos = 5, fb.red_size = 3, fb.green_pos = 2;
	fb.green_size = 3, fb.blue_pos = 0, fb.blue_size = 2;
	expect_rejected(t, &fb);
}

static void fbcon_rejects_zero_sizes(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	fb.width = 0;
	expect_rejected(t, &fb);
	fb = fake_desc(32);
	fb.height = 0;
	expect_rejected(t, &fb);
	fb = fake_desc(32);
	fb.pitch = 0;
	expect_rejected(t, &fb);
	fb = fake_desc(32);
	fb.green_size = 0;
	expect_rejected(t, &fb);
}

static void fbcon_rejects_pitch_below_width(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	fb.pitch = FAKE_W * 4 - 1;
	expect_rejected(t, &fb);
}

static void fbcon_suspend_draws_nothing_and_resume_redraws(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);
	bool untouched = true;

	KASSERT_EQ(t, fake_init(&fb), 0);
	if (!grid_big_enough(t, 2, 2))
		return;
	write_str("A");
	fbcon_state_suspend(&st, true);
	memset(fake_fb, CANARY, sizeof(fake_fb)); /* a user process draws */
	write_str("\nB");
	for (size_t i = 0; i < sizeof(fake_fb); i++)
		untouched &= fake_fb[i] == CANARY;
	KEXPECT_TRUE(t, untouched);
	fbcon_state_suspend(&st, false);
	KEXPECT_EQ(t, cell_mismatches(0, 0, 'A'), 0);
	KEXPECT_EQ(t, cell_mismatches(0, 1, 'B'), 0);
	KEXPECT_EQ(t, count_non_bg(), glyph_ink('A') + glyph_ink('B'));
}

static void fbcon_decodes_utf8_to_latin1_glyphs(struct ktest *t)
{
	struct boot_framebuffer fb = fake_desc(32);

	KASSERT_EQ(t, fake_init(&fb), 0);
	if (!grid_big_enough(t, 4, 1))
		return;
	write_str("\xc3\xa9\xe2\x82\xac\x01\xc0\x8aZ"); /* e-acute, euro, SOH, bad '\n' */
	KEXPECT_EQ(t, cell_mismatches(0, 0, 0xe9), 0);
	KEXPECT_EQ(t, cell_mismatches(1, 0, FONT_GLYPH_REPLACEMENT), 0);
	KEXPECT_EQ(t, cell_mismatches(2, 0, FONT_GLYPH_REPLACEMENT), 0);
	KEXPECT_EQ(t, cell_mismatches(3, 0, 'Z'), 0);
	KEXPECT_EQ(t, st.cy, 0);
}

static void fbcon_live_console_matches_boot_framebuffer(struct ktest *t)
{
	unsigned int cols, rows;

	if (!fbcon_active()) {
		char why[160];
		snprintf(why, sizeof(why), "no framebuffer console: %s", bootfb_rgb() ?
			 "a process maps the framebuffer" : bootfb_why_not_rgb());
		ktest_skip(t, why);
		return;
	}
	fbcon_get_geometry(&cols, &rows);
	KASSERT_NOT_NULL(t, bootfb_rgb()); /* fbcon runs only on a checked framebuffer */
	KEXPECT_EQ(t, cols, MIN(bootfb_rgb()->width / font_default.width,
				(unsigned int)FBCON_MAX_COLS));
	KEXPECT_EQ(t, rows, MIN(bootfb_rgb()->height / font_default.height,
				(unsigned int)FBCON_MAX_ROWS));
}

static const struct ktest_case fbcon_cases[] = {
	KTEST_CASE(fbcon_font_has_printable_ascii),
	KTEST_CASE(fbcon_init_clears_screen_within_pitch),
	KTEST_CASE(fbcon_draws_glyph_pixels),
	KTEST_CASE(fbcon_newline_moves_to_next_row),
	KTEST_CASE(fbcon_carriage_return_and_backspace_move_back),
	KTEST_CASE(fbcon_tab_advances_to_next_stop),
	KTEST_CASE(fbcon_wraps_long_lines_once),
	KTEST_CASE(fbcon_scrolls_when_full),
	KTEST_CASE(fbcon_packs_24bpp_pixels),
	KTEST_CASE(fbcon_packs_16bpp_rgb565),
	KTEST_CASE(fbcon_honours_channel_positions),
	KTEST_CASE(fbcon_rejects_indexed_framebuffer),
	KTEST_CASE(fbcon_rejects_ega_text),
	KTEST_CASE(fbcon_rejects_8bpp_rgb),
	KTEST_CASE(fbcon_rejects_zero_sizes),
	KTEST_CASE(fbcon_rejects_pitch_below_width),
	KTEST_CASE(fbcon_suspend_draws_nothing_and_resume_redraws),
	KTEST_CASE(fbcon_decodes_utf8_to_latin1_glyphs),
	KTEST_CASE(fbcon_live_console_matches_boot_framebuffer),
};
KTEST_SUITE(fbcon, fbcon_cases);
