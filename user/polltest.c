/* polltest: the calls Debian's dynamically linked programs make early,
 * beyond memory (suite "polltest"): poll, ppoll, select and pselect6 on
 * pipes (readiness, end of file, a closed fd, timeouts), getgroups and
 * setgroups, statfs of /proc. Every expectation holds on Linux 6.1
 * (scripts/linux-test.sh). */
#include <fcntl.h>
#include <stdbool.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/select.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"

#define PROC_SUPER_MAGIC 0x9fa0

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void poll_pipe_readiness_and_end_of_file(void)
{
	struct pollfd p[2];
	int fds[2];

	ASSERT_EQ(pipe(fds), 0);
	p[0] = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	p[1] = (struct pollfd){ .fd = fds[1], .events = POLLOUT };
	EXPECT_EQ(poll(p, 2, 0), 1); /* empty: only the write end is ready */
	EXPECT_EQ(p[0].revents, 0);
	EXPECT_EQ(p[1].revents, POLLOUT);
	ASSERT_EQ(write(fds[1], "x", 1), 1);
	EXPECT_EQ(poll(p, 2, 0), 2);
	EXPECT_EQ(p[0].revents, POLLIN);
	close(fds[1]);
	p[1].fd = -1; /* ignored */
	EXPECT_EQ(poll(p, 2, 0), 1);
	EXPECT_EQ(p[0].revents, POLLIN | POLLHUP);
	EXPECT_EQ(p[1].revents, 0);
	close(fds[0]);
	EXPECT_EQ(poll(p, 1, 0), 1);
	EXPECT_EQ(p[0].revents, POLLNVAL);
}

static void poll_times_out_after_at_least_the_timeout(void)
{
	struct timespec t0, ts = { 0, 30 * 1000000 };
	struct pollfd p;
	int fds[2];
	long ms;

	ASSERT_EQ(pipe(fds), 0);
	p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(poll(&p, 1, 50), 0);
	ms = elapsed_ms(&t0);
	EXPECT_TRUE(ms >= 50 && ms < 5000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(ppoll(&p, 1, &ts, NULL), 0);
	EXPECT_TRUE(elapsed_ms(&t0) >= 30);
	EXPECT_EQ(poll(NULL, 0, 10), 0); /* a sleep */
	close(fds[0]);
	close(fds[1]);
}

static int pipe_w;

static int child_writes_later(void *arg)
{
	struct timespec d = { 0, 50 * 1000000 };

	nanosleep(&d, NULL);
	return write(pipe_w, "y", 1) == 1 ? 0 : 1;
}

/* A sleeping poll is woken by the write, long before its timeout. */
static void poll_wakes_when_another_process_writes(void)
{
	struct timespec t0;
	struct pollfd p;
	int fds[2], st;
	pid_t pid;

	ASSERT_EQ(pipe(fds), 0);
	pipe_w = fds[1];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(child_writes_later(NULL));
	p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	EXPECT_EQ(poll(&p, 1, 10000), 1);
	EXPECT_EQ(p.revents, POLLIN);
	EXPECT_TRUE(elapsed_ms(&t0) < 5000);
	waitpid(pid, &st, 0);
	close(fds[0]);
	close(fds[1]);
}

static int closer_fds[2];

static void *thread_closes_both_ends_later(void *arg)
{
	struct timespec d = { 0, 50 * 1000000 };

	nanosleep(&d, NULL);
	close(closer_fds[0]);
	close(closer_fds[1]);
	return NULL;
}

/* Another thread closes both ends of the pipe a poll sleeps on. The
 * sleeping poll keeps the file it waits on (or the last close would free
 * the queue it is on); the end of the write side wakes it, and the fd it
 * looks at again is gone: POLLNVAL, as on Linux. */
static void poll_survives_another_thread_closing_the_polled_pipe(void)
{
	struct pollfd p;
	pthread_t th;

	ASSERT_EQ(pipe(closer_fds), 0);
	ASSERT_EQ(pthread_create(&th, NULL, thread_closes_both_ends_later, NULL), 0);
	p = (struct pollfd){ .fd = closer_fds[0], .events = POLLIN };
	EXPECT_EQ(poll(&p, 1, 5000), 1);
	EXPECT_EQ(p.revents, POLLNVAL);
	pthread_join(th, NULL);
}

static void select_and_pselect_on_a_pipe(void)
{
	struct timeval tv = { 0, 20000 };
	struct timespec ts = { 0, 1000000 };
	fd_set r, w;
	int fds[2];

	ASSERT_EQ(pipe(fds), 0);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(fds[0], &r);
	FD_SET(fds[1], &w);
	EXPECT_EQ(select(fds[1] + 1, &r, &w, NULL, &tv), 1);
	EXPECT_TRUE(!FD_ISSET(fds[0], &r));
	EXPECT_TRUE(FD_ISSET(fds[1], &w));
	ASSERT_EQ(write(fds[1], "z", 1), 1);
	FD_ZERO(&r);
	FD_SET(fds[0], &r);
	EXPECT_EQ(pselect(fds[0] + 1, &r, NULL, NULL, &ts, NULL), 1);
	EXPECT_TRUE(FD_ISSET(fds[0], &r));
	FD_ZERO(&r);
	tv = (struct timeval){ 0, 10000 };
	EXPECT_EQ(select(0, NULL, NULL, NULL, &tv), 0); /* a sleep */
	close(fds[0]);
	FD_SET(fds[0], &r);
	EXPECT_ERRNO(select(fds[0] + 1, &r, NULL, NULL, &tv), EBADF);
	EXPECT_ERRNO(select(-1, NULL, NULL, NULL, &tv), EINVAL);
	close(fds[1]);
}

static void groups_set_and_read_back_sorted(void)
{
	gid_t set[3] = { 30, 10, 20 }, got[8];

	ASSERT_EQ(setgroups(3, set), 0);
	EXPECT_EQ(getgroups(0, NULL), 3);
	EXPECT_EQ(getgroups(8, got), 3);
	EXPECT_EQ(got[0], 10);
	EXPECT_EQ(got[2], 30);
	EXPECT_ERRNO(getgroups(2, got), EINVAL);
	EXPECT_ERRNO(getgroups(-1, got), EINVAL);
	ASSERT_EQ(setgroups(0, NULL), 0);
	EXPECT_EQ(getgroups(8, got), 0);
}

static void statfs_of_proc_says_proc(void)
{
	struct statfs s;

	ASSERT_EQ(statfs("/proc", &s), 0);
	EXPECT_EQ(s.f_type, PROC_SUPER_MAGIC);
	EXPECT_ERRNO(statfs("/nonexistent", &s), ENOENT);
	EXPECT_ERRNO(fstatfs(999, &s), EBADF);
	EXPECT_ERRNO(statfs((const char *)8, &s), EFAULT); /* the path's own page is unmapped */
	char *longpath = malloc(8192);
	ASSERT_TRUE(longpath != NULL);
	memset(longpath, 'a', 8191);
	longpath[8191] = '\0';
	EXPECT_ERRNO(statfs(longpath, &s), ENAMETOOLONG);
	free(longpath);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(poll_pipe_readiness_and_end_of_file),
	KTAP_CASE(poll_times_out_after_at_least_the_timeout),
	KTAP_CASE(poll_wakes_when_another_process_writes),
	KTAP_CASE(poll_survives_another_thread_closing_the_polled_pipe),
	KTAP_CASE(select_and_pselect_on_a_pipe),
	KTAP_CASE(groups_set_and_read_back_sorted),
	KTAP_CASE(statfs_of_proc_says_proc),
};

int main(void)
{
	return ktap_run_suite("polltest", cases, KTAP_ARRAY_SIZE(cases));
}
