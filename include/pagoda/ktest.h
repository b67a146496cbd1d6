/* ktest: in-kernel self-tests, printed as KTAP (Linux's
 * Documentation/dev-tools/ktap.rst) in the shape KUnit prints.
 *
 * A suite is a list of cases; each case is a function taking the test
 * context. Suites register themselves with KTEST_SUITE() into a linker
 * section, so a new foo_test.c needs no other edit. KEXPECT_* record a
 * failure and go on; KASSERT_* record it and return from the case. */
#ifndef PAGODA_KTEST_H
#define PAGODA_KTEST_H

#include <pagoda/compiler.h>
#include <pagoda/string.h>
#include <pagoda/types.h>

enum ktest_status { KTEST_PASS, KTEST_FAIL, KTEST_SKIP };

struct ktest {
	const char *name;
	enum ktest_status status;
	char skip_reason[160];
	bool quiet; /* record failures without printing (tests of ktest itself) */
};

struct ktest_case {
	const char *name;
	void (*run)(struct ktest *t);
};

struct ktest_suite {
	const char *name;
	const struct ktest_case *cases;
	size_t nr_cases;
};

#define KTEST_CASE(fn) { #fn, fn }

#define KTEST_SUITE(sname, case_array)                                         \
	static const struct ktest_suite __ktest_suite_##sname = {              \
		.name = #sname, .cases = case_array,                           \
		.nr_cases = ARRAY_SIZE(case_array) };                          \
	static const struct ktest_suite *__ktest_ptr_##sname __used            \
		__section(".ktest_suites") = &__ktest_suite_##sname

/* Report a failed expectation (used by the macros below). */
void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...) __printf(4, 5);
/* Mark the case skipped with a reason; the caller returns afterwards. */
void ktest_skip(struct ktest *t, const char *reason);
/* Print a diagnostic line ("# ...") in the KTAP stream. */
void ktest_log(struct ktest *t, const char *fmt, ...) __printf(2, 3);

/* Run the suites the command line selects (ktest=off, ktest=a,b). Returns
 * the number of failed cases; counts go to *passed, *failed, *skipped. */
int ktest_run_all(const char *filter, unsigned *passed, unsigned *failed, unsigned *skipped);

/* Print "ktest: N passed, N failed, N skipped" for the last run, on every
 * console (nothing if the suites did not run). At boot, and again at
 * power-off: on a machine without a serial port the screen is the only
 * place the verdict can be read, and by then the boot's line has
 * scrolled away. */
void ktest_print_summary(void);

/* The comparison is done on the operands' own types; an unsigned value
 * compared with a literal like 3 is what a test means, so -Wsign-compare
 * is silenced for this one line. */
#define __KCMP(t, ret, a, op, b)                                               \
	do {                                                                   \
		__typeof__(a) __a = (a);                                       \
		__typeof__(b) __b = (b);                                       \
		_Pragma("GCC diagnostic push")                                 \
		_Pragma("GCC diagnostic ignored \"-Wsign-compare\"")          \
		bool __ok = (__a op __b);                                      \
		_Pragma("GCC diagnostic pop")                                  \
		if (!__ok) {                                                   \
			ktest_fail(t, __FILE__, __LINE__,                      \
				   "expected %s %s %s, got %lld (0x%llx) vs %lld (0x%llx)", \
				   #a, #op, #b, (long long)__a,                \
				   (unsigned long long)__a, (long long)__b,    \
				   (unsigned long long)__b);                   \
			ret;                                                   \
		}                                                              \
	} while (0)

#define __KTRUE(t, ret, c)                                                     \
	do {                                                                   \
		if (!(c)) {                                                    \
			ktest_fail(t, __FILE__, __LINE__, "expected %s", #c);  \
			ret;                                                   \
		}                                                              \
	} while (0)

#define __KSTREQ(t, ret, a, b)                                                 \
	do {                                                                   \
		const char *__a = (a), *__b = (b);                             \
		if (!__a || !__b || strcmp(__a, __b) != 0) {                   \
			ktest_fail(t, __FILE__, __LINE__,                      \
				   "expected %s == %s, got \"%s\" vs \"%s\"",  \
				   #a, #b, __a ? __a : "(null)",               \
				   __b ? __b : "(null)");                      \
			ret;                                                   \
		}                                                              \
	} while (0)

#define KEXPECT_EQ(t, a, b) __KCMP(t, (void)0, a, ==, b)
#define KEXPECT_NE(t, a, b) __KCMP(t, (void)0, a, !=, b)
#define KEXPECT_LT(t, a, b) __KCMP(t, (void)0, a, <, b)
#define KEXPECT_LE(t, a, b) __KCMP(t, (void)0, a, <=, b)
#define KEXPECT_GT(t, a, b) __KCMP(t, (void)0, a, >, b)
#define KEXPECT_GE(t, a, b) __KCMP(t, (void)0, a, >=, b)
#define KEXPECT_TRUE(t, c) __KTRUE(t, (void)0, c)
#define KEXPECT_FALSE(t, c) __KTRUE(t, (void)0, !(c))
#define KEXPECT_NULL(t, p) __KTRUE(t, (void)0, (p) == NULL)
#define KEXPECT_NOT_NULL(t, p) __KTRUE(t, (void)0, (p) != NULL)
#define KEXPECT_STREQ(t, a, b) __KSTREQ(t, (void)0, a, b)

#define KASSERT_EQ(t, a, b) __KCMP(t, return, a, ==, b)
#define KASSERT_NE(t, a, b) __KCMP(t, return, a, !=, b)
#define KASSERT_LT(t, a, b) __KCMP(t, return, a, <, b)
#define KASSERT_LE(t, a, b) __KCMP(t, return, a, <=, b)
#define KASSERT_GT(t, a, b) __KCMP(t, return, a, >, b)
#define KASSERT_GE(t, a, b) __KCMP(t, return, a, >=, b)
#define KASSERT_TRUE(t, c) __KTRUE(t, return, c)
#define KASSERT_FALSE(t, c) __KTRUE(t, return, !(c))
#define KASSERT_NULL(t, p) __KTRUE(t, return, (p) == NULL)
#define KASSERT_NOT_NULL(t, p) __KTRUE(t, return, (p) != NULL)
#define KASSERT_STREQ(t, a, b) __KSTREQ(t, return, a, b)

#endif
