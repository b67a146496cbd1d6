/* Tests of rate-limited messages (kernel/ratelimit.c) and of the
 * out-of-range system-call report that uses them (kernel/syscall.c). */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_console.h>
#include <pagoda/ratelimit.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>

static void ratelimit_allows_a_burst_per_interval(struct ktest *t)
{
	struct ratelimit_state rs = { .name = "rltest", .interval = 100, .burst = 3 };
	unsigned int ok = 0;

	for (int i = 0; i < 10; i++)
		ok += ratelimit_at(&rs, 1000 + i);
	KEXPECT_EQ(t, ok, 3);
	KEXPECT_EQ(t, rs.missed, 7);
	/* Still the same interval at 1099; a new one at 1100. */
	KEXPECT_FALSE(t, ratelimit_at(&rs, 1099));
	ktest_console_start();
	KEXPECT_TRUE(t, ratelimit_at(&rs, 1100));
	ktest_console_stop();
	KEXPECT_EQ(t, ktest_console_count("rltest: 8 callbacks suppressed"), 1);
	KEXPECT_EQ(t, rs.missed, 0);
	KEXPECT_EQ(t, rs.printed, 1);
}

/* Tick 0 is a tick like any other: the first call opens an interval. */
static void ratelimit_first_call_at_tick_zero_is_allowed(struct ktest *t)
{
	struct ratelimit_state rs = { .name = "rltest", .interval = 5, .burst = 1 };

	KEXPECT_TRUE(t, ratelimit_at(&rs, 0));
	KEXPECT_FALSE(t, ratelimit_at(&rs, 1));
	KEXPECT_TRUE(t, ratelimit_at(&rs, 6));
}

/* 40 calls of a number past the table: -ENOSYS each time, and at most a
 * burst of reports, each naming the program by its path even when its
 * command name is empty. */
static void syscall_out_of_range_report_names_program_and_is_limited(struct ktest *t)
{
	struct trap_frame tf = { 0 };
	char comm[TASK_COMM_LEN], exe[sizeof(current->exe)];
	unsigned int reports;

	memcpy(comm, current->comm, sizeof(comm));
	memcpy(exe, current->exe, sizeof(exe));
	current->comm[0] = '\0';
	strlcpy(current->exe, "/bin/ratelimited-prog", sizeof(current->exe));
	ktest_console_start();
	for (int i = 0; i < 40; i++) {
		tf.rax = 100000 + i;
		tf.cs = 0x8; /* a kernel frame: dispatch does not deliver signals */
		syscall_dispatch(&tf);
		KEXPECT_EQ(t, (long)tf.rax, -ENOSYS);
	}
	ktest_console_stop();
	memcpy(current->comm, comm, sizeof(comm));
	memcpy(current->exe, exe, sizeof(exe));
	reports = ktest_console_count("out-of-range system call");
	KEXPECT_GE(t, reports, 1);
	KEXPECT_LE(t, reports, RATELIMIT_BURST);
	KEXPECT_EQ(t, ktest_console_count("(/bin/ratelimited-prog)"), reports);
}

static const struct ktest_case ratelimit_cases[] = {
	KTEST_CASE(ratelimit_allows_a_burst_per_interval),
	KTEST_CASE(ratelimit_first_call_at_tick_zero_is_allowed),
	KTEST_CASE(syscall_out_of_range_report_names_program_and_is_limited),
};
KTEST_SUITE(ratelimit, ratelimit_cases);
