/* Tests of vsnprintf. */
#include <pagoda/ktest.h>
#include <pagoda/format.h>
#include <pagoda/string.h>

static char buf[64];

#define EXPECT_FMT(t, want, ...)                                               \
	do {                                                                   \
		snprintf(buf, sizeof(buf), __VA_ARGS__);                       \
		KEXPECT_STREQ(t, buf, want);                                   \
	} while (0)

static void format_integers(struct ktest *t)
{
	EXPECT_FMT(t, "-42", "%d", -42);
	EXPECT_FMT(t, "4294967295", "%u", 0xffffffffU);
	EXPECT_FMT(t, "18446744073709551615", "%llu", ~0ULL);
	EXPECT_FMT(t, "-9223372036854775808", "%lld", (long long)(1ULL << 63));
	EXPECT_FMT(t, "ffffffff80000000", "%lx", 0xffffffff80000000UL);
	EXPECT_FMT(t, "0X1F", "%#X", 31);
	EXPECT_FMT(t, "17", "%o", 15);
	/* %hhu truncates its int argument to unsigned char. The format is
	 * hidden from the compiler, which would otherwise reject the int. */
	const char *volatile hhu = "%hhu";
	EXPECT_FMT(t, "255", hhu, 0x1ff);
}

static void format_width_and_padding(struct ktest *t)
{
	EXPECT_FMT(t, "   42", "%5d", 42);
	EXPECT_FMT(t, "42   |", "%-5d|", 42);
	EXPECT_FMT(t, "00042", "%05d", 42);
	EXPECT_FMT(t, "-0042", "%05d", -42);
	EXPECT_FMT(t, "0x0000001000", "%#012llx", 0x1000ULL);
	EXPECT_FMT(t, "  ab", "%*s", 4, "ab");
	EXPECT_FMT(t, "00007", "%.5d", 7);
}

static void format_strings_and_chars(struct ktest *t)
{
	const char *volatile null_string = NULL; /* hidden from the format checker */

	EXPECT_FMT(t, "(null)", "%s", null_string);
	EXPECT_FMT(t, "abc", "%.3s", "abcdef");
	EXPECT_FMT(t, "x%y", "%c%%%c", 'x', 'y');
	EXPECT_FMT(t, "0xffffffff80100000", "%p", (void *)0xffffffff80100000UL);
}

static void format_truncates_and_returns_full_length(struct ktest *t)
{
	char small[4];

	KEXPECT_EQ(t, snprintf(small, sizeof(small), "%s", "abcdef"), 6);
	KEXPECT_STREQ(t, small, "abc");
	KEXPECT_EQ(t, snprintf(NULL, 0, "%d", 12345), 5);
}

static const struct ktest_case format_cases[] = {
	KTEST_CASE(format_integers),
	KTEST_CASE(format_width_and_padding),
	KTEST_CASE(format_strings_and_chars),
	KTEST_CASE(format_truncates_and_returns_full_length),
};
KTEST_SUITE(format, format_cases);
