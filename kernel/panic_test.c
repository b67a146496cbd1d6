/* Tests of the backtrace panic() prints: capture the console output of
 * dump_backtrace() and look for the names of the functions on the stack. */
#include <pagoda/ktest.h>
#include <pagoda/panic.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>

static char captured[2048];
static size_t captured_len;

static void capture_write(struct console *con, const char *s, size_t n)
{
	for (size_t i = 0; i < n && captured_len + 1 < sizeof(captured); i++)
		captured[captured_len++] = s[i];
	captured[captured_len] = '\0';
}

/* Raw-channel flag: it must hear printk() while ktest keeps the screen quiet. */
static struct console capture_console = { .name = "capture", .write = capture_write,
					  .flags = CON_RAW_CHANNEL };

static bool captured_contains(const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= captured_len; i++)
		if (memcmp(captured + i, needle, n) == 0)
			return true;
	return false;
}

static __attribute__((noinline)) void backtrace_from_here(void)
{
	dump_backtrace((uintptr_t)__builtin_frame_address(0));
	barrier();
}

static __attribute__((noinline)) void backtrace_one_level_down(void)
{
	backtrace_from_here();
	barrier();
}

static void panic_backtrace_names_callers(struct ktest *t)
{
	captured_len = 0;
	console_register(&capture_console);
	backtrace_one_level_down();
	console_unregister(&capture_console);
	KEXPECT_TRUE(t, captured_contains("Call trace:"));
	KEXPECT_TRUE(t, captured_contains(" backtrace_one_level_down+0x"));
	KEXPECT_TRUE(t, captured_contains(" panic_backtrace_names_callers+0x"));
	KEXPECT_TRUE(t, captured_contains(" run_suite+0x") || captured_contains(" ktest_run_all+0x"));
}

static const struct ktest_case panic_cases[] = {
	KTEST_CASE(panic_backtrace_names_callers),
};
KTEST_SUITE(panic, panic_cases);
