/* Tests of the VGA text console (drivers/vgacon.c) on text buffers in
 * memory, laid out as the hardware's (a character byte, then an attribute
 * byte, per cell), and of the live console when the boot gave EGA text. */
#include <pagoda/bootfb.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/multiboot2.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/vgacon.h>

#define COLS 80
#define ROWS 25
#define STRIDE 100 /* cells a line: more than COLS, as a padded pitch */
#define JUNK 0xdead
#define CELL(c) ((uint16_t)(VGACON_ATTR << 8 | (uint8_t)(c)))

static struct vgacon_state st;
static uint16_t vram[ROWS * STRIDE];

static const struct boot_framebuffer text_fb = {
	.addr = VGA_TEXT_BASE, .pitch = STRIDE * 2, .width = COLS, .height = ROWS, .bpp = 16,
	.type = MB2_FRAMEBUFFER_TYPE_EGA_TEXT,
};

static bool fresh(struct ktest *t)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(vram); i++)
		vram[i] = JUNK;
	if (vgacon_state_init(&st, &text_fb, vram) < 0) {
		ktest_fail(t, __FILE__, __LINE__, "vgacon_state_init() refused an 80x25 buffer");
		return false;
	}
	return true;
}

static void put(const char *s)
{
	vgacon_state_write(&st, s, strlen(s));
}

/* Row y of the screen reads s, then blanks. */
static bool row_is(unsigned int y, const char *s)
{
	size_t n = strlen(s);

	for (unsigned int x = 0; x < COLS; x++)
		if (vram[y * STRIDE + x] != CELL(x < n ? s[x] : ' '))
			return false;
	return true;
}

static void vgacon_init_blanks_the_screen_within_the_pitch(struct ktest *t)
{
	if (!fresh(t))
		return;
	KEXPECT_EQ(t, st.cols, COLS);
	KEXPECT_EQ(t, st.rows, ROWS);
	for (unsigned int y = 0; y < ROWS; y++) {
		KEXPECT_TRUE(t, row_is(y, ""));
		KEXPECT_EQ(t, vram[y * STRIDE + COLS], JUNK); /* past the line: untouched */
	}
}

static void vgacon_writes_lines_grey_on_black(struct ktest *t)
{
	if (!fresh(t))
		return;
	put("Pagoda\nok 1\r\tx\bY");
	KEXPECT_TRUE(t, row_is(0, "Pagoda"));
	KEXPECT_TRUE(t, row_is(1, "        Y")); /* tab to 8, x, back one, Y over the x */
	KEXPECT_EQ(t, st.cy, 1U);
	KEXPECT_EQ(t, st.cx, 9U);
}

static void vgacon_scrolls_and_wraps(struct ktest *t)
{
	char line[8];

	if (!fresh(t))
		return;
	for (unsigned int i = 0; i < ROWS + 2; i++) {
		snprintf(line, sizeof(line), "l%u\n", i);
		put(line);
	}
	KEXPECT_TRUE(t, row_is(0, "l3"));
	KEXPECT_TRUE(t, row_is(ROWS - 2, "l26"));
	KEXPECT_TRUE(t, row_is(ROWS - 1, ""));
	for (unsigned int i = 0; i < COLS; i++)
		put("w");
	KEXPECT_EQ(t, st.cy, ROWS - 1U); /* a full line waits for the next character */
	put("!");
	KEXPECT_TRUE(t, row_is(ROWS - 1, "!"));
	KEXPECT_EQ(t, vram[(ROWS - 2) * STRIDE + COLS - 1], CELL('w'));
}

/* No glyph table for Unicode: one '?' a character, control bytes nothing. */
static void vgacon_shows_utf8_as_one_question_mark(struct ktest *t)
{
	if (!fresh(t))
		return;
	put("a\xc3\xa9" "b\xe2\x82\xac" "c\x01\x7f" "d\x80");
	KEXPECT_TRUE(t, row_is(0, "a?b?cd?"));
}

static void vgacon_refuses_tags_it_cannot_draw(struct ktest *t)
{
	struct boot_framebuffer fb = text_fb;

	fresh(t);
	st.cx = 7;
	fb.type = MB2_FRAMEBUFFER_TYPE_RGB;
	KEXPECT_EQ(t, vgacon_state_init(&st, &fb, vram), -EINVAL);
	fb = text_fb, fb.pitch = 2 * COLS - 2;
	KEXPECT_EQ(t, vgacon_state_init(&st, &fb, vram), -EINVAL);
	fb = text_fb, fb.height = 0;
	KEXPECT_EQ(t, vgacon_state_init(&st, &fb, vram), -EINVAL);
	KEXPECT_EQ(t, vgacon_state_init(&st, &text_fb, NULL), -EINVAL);
	KEXPECT_EQ(t, st.cx, 7U); /* left alone */
}

/* The live console: what the text buffer holds is its grid. */
static void vgacon_live_console_shows_its_grid(struct ktest *t)
{
	const struct vgacon_state *live = vgacon_get();
	unsigned int wrong = 0;
	char why[160];

	if (!live) {
		snprintf(why, sizeof(why), "no text console: %s", bootfb_kind() == BOOTFB_EGA_TEXT
			 ? "vgacon did not start" : "the boot framebuffer is not EGA text");
		if (bootfb_kind() == BOOTFB_EGA_TEXT)
			ktest_fail(t, __FILE__, __LINE__, "%s", why);
		else
			ktest_skip(t, why);
		return;
	}
	for (unsigned int y = 0; y < live->rows; y++)
		for (unsigned int x = 0; x < live->cols; x++)
			wrong += live->base[y * live->stride + x] != live->cells[y * live->cols + x];
	KEXPECT_EQ(t, wrong, 0U);
	KEXPECT_EQ(t, live->cols, MIN(boot_info.fb.width, (uint32_t)VGACON_MAX_COLS));
}

static const struct ktest_case vgacon_cases[] = {
	KTEST_CASE(vgacon_init_blanks_the_screen_within_the_pitch),
	KTEST_CASE(vgacon_writes_lines_grey_on_black),
	KTEST_CASE(vgacon_scrolls_and_wraps),
	KTEST_CASE(vgacon_shows_utf8_as_one_question_mark),
	KTEST_CASE(vgacon_refuses_tags_it_cannot_draw),
	KTEST_CASE(vgacon_live_console_shows_its_grid),
};
KTEST_SUITE(vgacon, vgacon_cases);
