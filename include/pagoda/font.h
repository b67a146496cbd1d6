/* Bitmap fonts for the framebuffer console. font_default is generated at
 * build time by scripts/psf2c.py from a PSF console font (Makefile FONT).
 *
 * Glyph layout: glyph c occupies height * bytes_per_row bytes starting at
 * glyphs[c * height * bytes_per_row]; each row is bytes_per_row bytes, the
 * most significant bit of its first byte the leftmost pixel (as in PSF). */
#ifndef PAGODA_FONT_H
#define PAGODA_FONT_H

#include <pagoda/types.h>

#define FONT_NR_GLYPHS 256 /* indexed by Latin-1 code point */
/* ASCII SUB ("substitute"): holds the glyph drawn for a character the
 * font lacks; the other control codes are blank. */
#define FONT_GLYPH_REPLACEMENT 0x1a

struct font_desc {
	const char *name;
	unsigned int width;         /* pixels, 1..32 */
	unsigned int height;        /* pixels (rows per glyph), 1..64 */
	unsigned int bytes_per_row; /* (width + 7) / 8 */
	const uint8_t *glyphs;      /* FONT_NR_GLYPHS glyphs */
};

extern const struct font_desc font_default;

/* The first row of glyph c in font f. */
static inline const uint8_t *font_glyph(const struct font_desc *f, unsigned char c)
{
	return f->glyphs + (size_t)c * f->height * f->bytes_per_row;
}

#endif
