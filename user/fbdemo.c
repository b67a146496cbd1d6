/* fbdemo: draw on the screen through /dev/fb0, the way any Linux fbdev
 * program does. It asks the driver for the mode (FBIOGET_VSCREENINFO) and
 * the memory layout (FBIOGET_FSCREENINFO), maps the pixels with mmap() and
 * writes them directly: diagonal colour bands sliding across the screen
 * and a bouncing square with the name "PAGODA" in it.
 *
 *   usage: fbdemo [SECONDS]     (default 10; 0 runs until interrupted)
 *
 * While the pixels are mapped the kernel's text console stays out of the
 * way; when the program unmaps them (or dies) the console comes back.
 * On Linux the console is told by switching the terminal to graphics mode
 * (KDSETMODE), when /dev/tty0 can be opened.
 *
 * Every frame is built a scan line at a time in ordinary memory and
 * copied to the framebuffer whole, so the square never flickers. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/kd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define FRAME_NS 20000000L /* 50 frames a second at most */
#define BAND_PERIOD 256    /* pixels from one red band to the next */

struct screen {
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	uint8_t *pixels;  /* the mapping of the framebuffer */
	size_t map_len;
	unsigned int bpp; /* bytes per pixel: 2, 3 or 4 */
};

/* 5x7 glyphs, one byte per row, bit 4 the leftmost pixel. */
static const uint8_t glyph_p[7] = { 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10 };
static const uint8_t glyph_a[7] = { 0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 };
static const uint8_t glyph_g[7] = { 0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f };
static const uint8_t glyph_o[7] = { 0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e };
static const uint8_t glyph_d[7] = { 0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e };
static const uint8_t *const title[] = { glyph_p, glyph_a, glyph_g, glyph_o, glyph_d, glyph_a };
#define TITLE_LEN (sizeof(title) / sizeof(title[0]))
#define TITLE_W (TITLE_LEN * 6 - 1) /* in glyph pixels, one column between letters */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A channel value 0..255 placed where the mode's bitfield says. */
static uint32_t channel(unsigned int v, const struct fb_bitfield *f)
{
	if (!f->length)
		return 0;
	return (uint32_t)(v >> (8 - (f->length > 8 ? 8 : f->length))) << f->offset;
}

static uint32_t pack(const struct screen *s, unsigned int r, unsigned int g, unsigned int b)
{
	return channel(r, &s->var.red) | channel(g, &s->var.green) | channel(b, &s->var.blue);
}

static void store(const struct screen *s, uint8_t *p, uint32_t px)
{
	memcpy(p, &px, s->bpp); /* little-endian: the low bytes first */
}

/* A rainbow: position 0..BAND_PERIOD-1 through red, green, blue, red. */
static uint32_t rainbow(const struct screen *s, unsigned int pos)
{
	unsigned int third = BAND_PERIOD / 3, k = pos % third * 255 / third;

	switch (pos / third % 3) {
	case 0: return pack(s, 255 - k, k, 0);
	case 1: return pack(s, 0, 255 - k, k);
	default: return pack(s, k, 0, 255 - k);
	}
}

static int open_screen(struct screen *s, const char *path)
{
	int fd = open(path, O_RDWR);

	if (fd < 0) {
		fprintf(stderr, "fbdemo: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (ioctl(fd, FBIOGET_VSCREENINFO, &s->var) < 0 ||
	    ioctl(fd, FBIOGET_FSCREENINFO, &s->fix) < 0) {
		fprintf(stderr, "fbdemo: %s: screen info: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	s->bpp = (s->var.bits_per_pixel + 7) / 8;
	s->map_len = s->fix.smem_len;
	if (s->fix.visual != FB_VISUAL_TRUECOLOR || s->bpp < 2 || s->bpp > 4 ||
	    (size_t)s->fix.line_length * s->var.yres > s->map_len) {
		fprintf(stderr, "fbdemo: %s: %u bpp, visual %u: not a true-colour mode I can draw\n",
			path, s->var.bits_per_pixel, s->fix.visual);
		close(fd);
		return -1;
	}
	s->pixels = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->pixels == MAP_FAILED) {
		fprintf(stderr, "fbdemo: mmap %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd); /* the mapping keeps the device open */
	return 0;
}

/* The bouncing square: where it is, where it goes, how big it is. */
struct square {
	int x, y, dx, dy;
	unsigned int size, scale; /* scale: screen pixels per glyph pixel */
};

static void square_init(struct square *q, const struct screen *s)
{
	unsigned int shorter = s->var.xres < s->var.yres ? s->var.xres : s->var.yres;

	q->size = shorter / 3;
	q->scale = q->size * 4 / 5 / TITLE_W;
	if (!q->scale)
		q->scale = 1;
	q->x = q->y = 0;
	q->dx = s->var.xres / 150 + 1;
	q->dy = s->var.yres / 150 + 1;
}

static void square_move(struct square *q, const struct screen *s)
{
	int maxx = (int)(s->var.xres - q->size), maxy = (int)(s->var.yres - q->size);

	q->x += q->dx;
	q->y += q->dy;
	if (q->x < 0 || q->x > maxx) {
		q->dx = -q->dx;
		q->x = q->x < 0 ? 0 : maxx;
	}
	if (q->y < 0 || q->y > maxy) {
		q->dy = -q->dy;
		q->y = q->y < 0 ? 0 : maxy;
	}
}

/* Is pixel (x, y) of the square (0 <= x, y < size) lit by the title? */
static int title_pixel(const struct square *q, unsigned int x, unsigned int y)
{
	unsigned int w = TITLE_W * q->scale, h = 7 * q->scale;
	unsigned int x0 = (q->size - w) / 2, y0 = (q->size - h) / 2, gx, gy;

	if (x < x0 || y < y0 || x >= x0 + w || y >= y0 + h)
		return 0;
	gx = (x - x0) / q->scale;
	gy = (y - y0) / q->scale;
	if (gx % 6 == 5)
		return 0; /* the column between letters */
	return title[gx / 6][gy] >> (4 - gx % 6) & 1;
}

/* Paint the square's part of scan line y into row (a copy of the line). */
static void square_row(const struct screen *s, const struct square *q, uint8_t *row,
		       unsigned int y, uint32_t fg, uint32_t bg, uint32_t edge)
{
	unsigned int sy = y - (unsigned int)q->y, border = q->size / 40 + 1;

	for (unsigned int sx = 0; sx < q->size; sx++) {
		uint32_t px = bg;
		if (sx < border || sy < border || sx >= q->size - border || sy >= q->size - border)
			px = edge;
		else if (title_pixel(q, sx, sy))
			px = fg;
		store(s, row + (q->x + sx) * s->bpp, px);
	}
}

/* One frame: each scan line is a window onto the band line (shifted by y,
 * so the bands run diagonally), with the square painted over it. */
static void draw_frame(const struct screen *s, const struct square *q, unsigned int phase,
		       const uint8_t *bands, uint8_t *row)
{
	uint32_t fg = pack(s, 255, 255, 255), bg = pack(s, 24, 24, 40);
	uint32_t edge = pack(s, 255, 200, 0);
	size_t line = (size_t)s->var.xres * s->bpp;

	for (unsigned int y = 0; y < s->var.yres; y++) {
		unsigned int start = (y + phase) % BAND_PERIOD;
		memcpy(row, bands + (size_t)start * s->bpp, line);
		if (y >= (unsigned int)q->y && y < (unsigned int)q->y + q->size)
			square_row(s, q, row, y, fg, bg, edge);
		memcpy(s->pixels + (size_t)y * s->fix.line_length, row, line);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run the animation for seconds (0: until a signal); returns the frames. */
static unsigned long animate(const struct screen *s, unsigned long seconds)
{
	size_t band_px = s->var.xres + BAND_PERIOD;
	uint8_t *bands = malloc(band_px * s->bpp), *row = malloc((size_t)s->var.xres * s->bpp);
	struct timespec pause = { 0, FRAME_NS };
	double start = now();
	unsigned long frames = 0;
	struct square q;

	if (!bands || !row) {
		fprintf(stderr, "fbdemo: out of memory\n");
		free(bands);
		free(row);
		return 0;
	}
	for (size_t i = 0; i < band_px; i++)
		store(s, bands + i * s->bpp, rainbow(s, i % BAND_PERIOD));
	square_init(&q, s);
	while (!stop && (!seconds || now() - start < seconds)) {
		draw_frame(s, &q, (unsigned int)(BAND_PERIOD - frames * 4 % BAND_PERIOD), bands, row);
		square_move(&q, s);
		frames++;
		nanosleep(&pause, NULL);
	}
	free(bands);
	free(row);
	return frames;
}

/* On Linux, switch the console to graphics mode so that it stops drawing
 * (Pagoda's stops by itself while the pixels are mapped). Returns the
 * terminal to switch back afterwards, or -1. */
static int console_enter_graphics(void)
{
	int fd = open("/dev/tty0", O_RDWR | O_CLOEXEC);

	if (fd >= 0 && ioctl(fd, KDSETMODE, KD_GRAPHICS) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void console_leave_graphics(int fd)
{
	if (fd < 0)
		return;
	ioctl(fd, KDSETMODE, KD_TEXT);
	close(fd);
}

int main(int argc, char **argv)
{
	unsigned long seconds = 10, frames;
	struct screen s;
	char *end;
	double t0;
	int tty;

	if (argc > 2 || (argc == 2 && (seconds = strtoul(argv[1], &end, 10), *end || !*argv[1]))) {
		fprintf(stderr, "usage: fbdemo [SECONDS]   (default 10; 0: until interrupted)\n");
		return 2;
	}
	if (open_screen(&s, "/dev/fb0") < 0)
		return 1;
	printf("fbdemo: \"%s\" %ux%u, %u bpp, line length %u, %u KiB at %#lx\n", s.fix.id,
	       s.var.xres, s.var.yres, s.var.bits_per_pixel, s.fix.line_length,
	       s.fix.smem_len / 1024, s.fix.smem_start);
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	tty = console_enter_graphics();
	t0 = now();
	frames = animate(&s, seconds);
	t0 = now() - t0;
	munmap(s.pixels, s.map_len);
	console_leave_graphics(tty);
	printf("fbdemo: %lu frames in %.1f s (%.1f per second)\n", frames, t0,
	       t0 > 0 ? frames / t0 : 0.0);
	return 0;
}
