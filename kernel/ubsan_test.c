/* Tests of the sanitizer's runtime (kernel/ubsan.c), in a kernel built
 * with make UBSAN=1 (skipped otherwise): undefined behaviour committed on
 * purpose, with operands the compiler cannot see through, is reported
 * once per operation, and counted for the test rather than as a failure
 * of the boot. */
#include <pagoda/ktest.h>
#include <pagoda/ubsan.h>

static volatile int int_max = 0x7fffffff, forty = 40, four = 4, sink;

static __attribute__((noinline)) int add(int a, int b) { return a + b; }
static __attribute__((noinline)) int shl(int a, int b) { return a << b; }

static __attribute__((noinline)) int index_of_four(void)
{
	int a[4] = { 1, 2, 3, 4 };

	return a[four]; /* one past the end */
}

/* Each operation is reported (an index past the end may be reported
 * twice: as out of the array's bounds and as an access past the object). */
static void ubsan_reports_overflow_shift_and_out_of_bounds_index(struct ktest *t)
{
	unsigned int overflow = 0, shift = 0, index = 0, before = ubsan_reports();

	if (!ubsan_enabled()) {
		ktest_skip(t, "kernel built without UBSAN=1");
		return;
	}
	ubsan_expect(&overflow);
	sink = add(int_max, 1);
	ubsan_expect(&shift);
	sink = shl(1, forty);
	ubsan_expect(&index);
	sink = index_of_four();
	ubsan_expect_end();
	KEXPECT_EQ(t, overflow, 1);
	KEXPECT_EQ(t, shift, 1);
	KEXPECT_GE(t, index, 1);
	KEXPECT_EQ(t, ubsan_reports(), before); /* expected: not failures */
}

static const struct ktest_case ubsan_cases[] = {
	KTEST_CASE(ubsan_reports_overflow_shift_and_out_of_bounds_index),
};
KTEST_SUITE(ubsan, ubsan_cases);
