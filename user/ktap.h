/* KTAP for the user-space test programs, in the shape the kernel's ktest
 * prints (kernel/ktest.c) so that scripts/ktap.py reads both alike.
 *
 * A program is one suite. It prints the indented subtest block and its
 * "# NAME: pass:.. fail:.. skip:.. total:.." line; the top-level result
 * line ("ok N NAME") comes from /sbin/init, which alone knows N and
 * whether the program died. Output goes straight to fd 1 with write(2),
 * never through stdio's buffer, so that a fork cannot print a line twice.
 *
 * Every check holds on Linux 6.x as well: scripts/linux-test.sh runs the
 * same binaries there. */
#ifndef PAGODA_USER_KTAP_H
#define PAGODA_USER_KTAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define KTAP_INDENT "    "

struct ktap_case {
	const char *name;
	void (*run)(void);
};
#define KTAP_CASE(fn) { #fn, fn }

enum { KTAP_PASS, KTAP_FAIL, KTAP_SKIP };

static struct {
	const char *name; /* the case running now */
	int status;
	char skip_reason[96];
} ktap_cur;

/* Format into a buffer and write it to fd in as few write()s as it
 * takes: no stdio buffer, so nothing is lost if the program dies next. */
static inline void ktap_vdprint(int fd, const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	for (int off = 0; off < n;) {
		ssize_t w = write(fd, buf + off, n - off);
		if (w <= 0)
			return;
		off += w;
	}
}

static inline void __attribute__((format(printf, 1, 2))) ktap_print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktap_vdprint(1, fmt, ap);
	va_end(ap);
}

/* A diagnostic line before the case's result. */
#define ktap_log(fmt, ...) ktap_print(KTAP_INDENT "# %s: " fmt "\n", ktap_cur.name, ##__VA_ARGS__)

static inline void ktap_fail_at(const char *file, int line, const char *what)
{
	ktap_cur.status = KTAP_FAIL;
	ktap_print(KTAP_INDENT "# %s: EXPECTATION FAILED at %s:%d\n", ktap_cur.name, file, line);
	ktap_print(KTAP_INDENT "# %s\n", what);
}

/* Mark the current case skipped; the caller returns afterwards. */
static inline void ktap_skip(const char *reason)
{
	if (ktap_cur.status != KTAP_FAIL)
		ktap_cur.status = KTAP_SKIP;
	snprintf(ktap_cur.skip_reason, sizeof(ktap_cur.skip_reason), "%s", reason);
}

#define __KT_CMP(ret, a, op, b, sa, sb)                                        \
	do {                                                                   \
		long long __a = (long long)(a), __b = (long long)(b);          \
		if (!(__a op __b)) {                                           \
			char __m[256];                                         \
			snprintf(__m, sizeof(__m),                             \
				 "expected %s %s %s, got %lld (0x%llx) vs %lld (0x%llx)", \
				 sa, #op, sb, __a, (unsigned long long)__a,    \
				 __b, (unsigned long long)__b);                \
			ktap_fail_at(__FILE__, __LINE__, __m);                 \
			ret;                                                   \
		}                                                              \
	} while (0)

#define __KT_TRUE(ret, c, sc)                                                  \
	do {                                                                   \
		if (!(c)) {                                                    \
			ktap_fail_at(__FILE__, __LINE__, "expected " sc);      \
			ret;                                                   \
		}                                                              \
	} while (0)

/* A system call that must fail with errno e: the return is -1 (or
 * MAP_FAILED, the same bits) and errno is e. */
#define __KT_ERRNO(ret, call, e, scall, se)                                    \
	do {                                                                   \
		errno = 0;                                                     \
		long __r = (long)(call);                                       \
		int __e = errno;                                               \
		if (__r != -1 || __e != (e)) {                                 \
			char __m[256];                                         \
			snprintf(__m, sizeof(__m),                             \
				 "expected %s to fail with %s, got %ld (errno %d %s)", \
				 scall, se, __r, __e, strerror(__e));          \
			ktap_fail_at(__FILE__, __LINE__, __m);                 \
			ret;                                                   \
		}                                                              \
	} while (0)

#define EXPECT_EQ(a, b) __KT_CMP((void)0, a, ==, b, #a, #b)
#define EXPECT_NE(a, b) __KT_CMP((void)0, a, !=, b, #a, #b)
#define EXPECT_LE(a, b) __KT_CMP((void)0, a, <=, b, #a, #b)
#define EXPECT_TRUE(c) __KT_TRUE((void)0, c, #c)
#define EXPECT_ERRNO(call, e) __KT_ERRNO((void)0, call, e, #call, #e)
#define ASSERT_EQ(a, b) __KT_CMP(return, a, ==, b, #a, #b)
#define ASSERT_NE(a, b) __KT_CMP(return, a, !=, b, #a, #b)
#define ASSERT_TRUE(c) __KT_TRUE(return, c, #c)
#define ASSERT_ERRNO(call, e) __KT_ERRNO(return, call, e, #call, #e)

/* Run every case; print the subtest block and the totals line. Returns
 * the exit status for the program: 0 if nothing failed, 1 otherwise. */
static inline int ktap_run_suite(const char *suite, const struct ktap_case *cases, int n)
{
	int pass = 0, fail = 0, skip = 0;

	ktap_print(KTAP_INDENT "KTAP version 1\n");
	ktap_print(KTAP_INDENT "# Subtest: %s\n", suite);
	ktap_print(KTAP_INDENT "1..%d\n", n);
	for (int i = 0; i < n; i++) {
		ktap_cur.name = cases[i].name;
		ktap_cur.status = KTAP_PASS;
		cases[i].run();
		if (ktap_cur.status == KTAP_PASS) {
			ktap_print(KTAP_INDENT "ok %d %s\n", i + 1, cases[i].name);
			pass++;
		} else if (ktap_cur.status == KTAP_SKIP) {
			ktap_print(KTAP_INDENT "ok %d %s # SKIP %s\n", i + 1, cases[i].name,
				   ktap_cur.skip_reason);
			skip++;
		} else {
			ktap_print(KTAP_INDENT "not ok %d %s\n", i + 1, cases[i].name);
			fail++;
		}
	}
	ktap_print("# %s: pass:%d fail:%d skip:%d total:%d\n", suite, pass, fail, skip, n);
	return fail ? 1 : 0;
}

#define KTAP_ARRAY_SIZE(a) ((int)(sizeof(a) / sizeof((a)[0])))

#endif
