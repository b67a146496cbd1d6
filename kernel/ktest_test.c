/* Tests of the test framework itself: an expectation that does not hold
 * must fail the case, KASSERT must stop it, skip must be reported. Each
 * runs a quiet inner context so that its deliberate failures do not show
 * up as failures in the KTAP stream. */
#include <pagoda/ktest.h>

static bool reached_after_assert;

static void inner_failing_expect(struct ktest *t) { KEXPECT_EQ(t, 1 + 1, 3); }
static void inner_passing_expect(struct ktest *t) { KEXPECT_EQ(t, 2, 2); KEXPECT_STREQ(t, "a", "a"); }
static void inner_failing_assert(struct ktest *t)
{
	KASSERT_TRUE(t, false);
	reached_after_assert = true;
}
static void inner_skip(struct ktest *t) { ktest_skip(t, "no hardware"); }

static enum ktest_status run_inner(void (*fn)(struct ktest *))
{
	struct ktest inner = { .name = "inner", .status = KTEST_PASS, .quiet = true };

	fn(&inner);
	return inner.status;
}

static void ktest_failed_expectation_fails_case(struct ktest *t)
{
	KEXPECT_EQ(t, run_inner(inner_failing_expect), KTEST_FAIL);
}

static void ktest_passing_expectations_pass_case(struct ktest *t)
{
	KEXPECT_EQ(t, run_inner(inner_passing_expect), KTEST_PASS);
}

static void ktest_failed_assert_stops_case(struct ktest *t)
{
	reached_after_assert = false;
	KEXPECT_EQ(t, run_inner(inner_failing_assert), KTEST_FAIL);
	KEXPECT_FALSE(t, reached_after_assert);
}

static void ktest_skip_marks_case_skipped(struct ktest *t)
{
	KEXPECT_EQ(t, run_inner(inner_skip), KTEST_SKIP);
}

static const struct ktest_case ktest_cases[] = {
	KTEST_CASE(ktest_failed_expectation_fails_case),
	KTEST_CASE(ktest_passing_expectations_pass_case),
	KTEST_CASE(ktest_failed_assert_stops_case),
	KTEST_CASE(ktest_skip_marks_case_skipped),
};
KTEST_SUITE(ktest, ktest_cases);
