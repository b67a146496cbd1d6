/* Tests of the memory functions (lib/string.c): every length from 0 to
 * 40 at every alignment of 0 to 8 (an implementation that moves whole
 * words when it can must get both its paths right), and the bytes
 * around the destination stay as they were. */
#include <pagoda/ktest.h>
#include <pagoda/string.h>

#define GUARD 16
#define MAX_LEN 40
#define SPAN (GUARD + 8 + MAX_LEN + GUARD)

static uint8_t buf[SPAN] __attribute__((aligned(8)));
static uint8_t src[SPAN] __attribute__((aligned(8)));

/* Does buf hold fill outside [off, off + n) and want(i) inside? */
static bool buf_is(size_t off, size_t n, uint8_t fill, uint8_t (*want)(size_t i, int arg),
		   int arg)
{
	for (size_t i = 0; i < SPAN; i++) {
		bool inside = i >= off && i < off + n;
		if (buf[i] != (inside ? want(i - off, arg) : fill))
			return false;
	}
	return true;
}

static uint8_t low_byte(size_t i, int c)
{
	return (uint8_t)c;
}

static uint8_t source_byte(size_t i, int off)
{
	return src[off + i];
}

static void string_memset_fills_exactly_n_bytes_with_the_low_byte_of_c(struct ktest *t)
{
	static const int values[] = { 0, 0x5a, 0xab, -1, 0x1c3 /* only 0xc3 counts */ };

	for (size_t v = 0; v < ARRAY_SIZE(values); v++)
		for (size_t align = 0; align <= 8; align++)
			for (size_t n = 0; n <= MAX_LEN; n++) {
				size_t off = GUARD + align;
				memset(buf, 0x11, sizeof(buf));
				KEXPECT_TRUE(t, memset(buf + off, values[v], n) == buf + off);
				if (!buf_is(off, n, 0x11, low_byte, values[v])) {
					ktest_log(t, "memset(+%zu, %#x, %zu) is wrong", off,
						  values[v], n);
					KEXPECT_TRUE(t, false);
					return;
				}
			}
}

static void string_memcpy_copies_exactly_n_bytes(struct ktest *t)
{
	for (size_t i = 0; i < SPAN; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	for (size_t salign = 0; salign <= 8; salign++)
		for (size_t align = 0; align <= 8; align++)
			for (size_t n = 0; n <= MAX_LEN; n++) {
				size_t off = GUARD + align, soff = GUARD + salign;
				memset(buf, 0x22, sizeof(buf));
				KEXPECT_TRUE(t, memcpy(buf + off, src + soff, n) == buf + off);
				if (!buf_is(off, n, 0x22, source_byte, (int)soff)) {
					ktest_log(t, "memcpy(+%zu, src+%zu, %zu) is wrong", off, soff,
						  n);
					KEXPECT_TRUE(t, false);
					return;
				}
			}
}

static void string_memmove_handles_overlap_both_ways(struct ktest *t)
{
	for (size_t i = 0; i < SPAN; i++)
		buf[i] = (uint8_t)i;
	memmove(buf + 8, buf, 32); /* forwards over itself: must copy from the end */
	for (size_t i = 0; i < 32; i++)
		KEXPECT_EQ(t, buf[8 + i], (uint8_t)i);
	for (size_t i = 0; i < SPAN; i++)
		buf[i] = (uint8_t)i;
	memmove(buf, buf + 8, 32);
	for (size_t i = 0; i < 32; i++)
		KEXPECT_EQ(t, buf[i], (uint8_t)(i + 8));
}

static void string_memcmp_orders_by_the_first_difference_unsigned(struct ktest *t)
{
	uint8_t a[4] = { 1, 2, 0x80, 4 }, b[4] = { 1, 2, 0x7f, 9 };

	KEXPECT_GT(t, memcmp(a, b, 4), 0); /* 0x80 > 0x7f as unsigned char */
	KEXPECT_LT(t, memcmp(b, a, 4), 0);
	KEXPECT_EQ(t, memcmp(a, b, 2), 0);
	KEXPECT_EQ(t, memcmp(a, b, 0), 0);
}

static const struct ktest_case string_cases[] = {
	KTEST_CASE(string_memset_fills_exactly_n_bytes_with_the_low_byte_of_c),
	KTEST_CASE(string_memcpy_copies_exactly_n_bytes),
	KTEST_CASE(string_memmove_handles_overlap_both_ways),
	KTEST_CASE(string_memcmp_orders_by_the_first_difference_unsigned),
};
KTEST_SUITE(string, string_cases);
