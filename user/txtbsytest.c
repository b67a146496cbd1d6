/* txtbsytest: a running program's file cannot be written, and a file
 * open for writing cannot be run (ETXTBSY), as KTAP (suite "txtbsytest").
 * Linux 6.1 behaves so (the mm's exe_file denies write access), and
 * scripts/linux-test.sh checks it. Called with "--exit N" the program
 * exits at once with N, and with "--wait" it writes a byte to stdout and
 * waits for its stdin to close: the copies of itself the cases run. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"

#define COPY "/tmp/txtbsy-copy"

static char *const envp[] = { NULL };

/* Copy this program to COPY (mode 0755); returns 0 or -1. */
static int copy_self(void)
{
	int in = open("/proc/self/exe", O_RDONLY), out;
	char buf[8192];
	ssize_t n;

	unlink(COPY);
	out = open(COPY, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return -1;
	close(in);
	return close(out) == 0 && n == 0 ? 0 : -1;
}

static int exec_copy_exit_7(void *arg)
{
	char *const argv[] = { COPY, "--exit", "7", NULL };

	execve(COPY, argv, envp);
	return errno == ETXTBSY ? 100 : 101;
}

static void open_own_program_for_writing_is_etxtbsy(void)
{
	struct stat before, after;

	ASSERT_EQ(stat("/proc/self/exe", &before), 0);
	EXPECT_ERRNO(open("/proc/self/exe", O_WRONLY), ETXTBSY);
	EXPECT_ERRNO(open("/proc/self/exe", O_RDWR), ETXTBSY);
	EXPECT_ERRNO(open("/proc/self/exe", O_RDWR | O_TRUNC), ETXTBSY);
	EXPECT_ERRNO(open("/proc/self/exe", O_RDONLY | O_TRUNC), ETXTBSY);
	EXPECT_ERRNO(truncate("/proc/self/exe", 0), ETXTBSY);
	ASSERT_EQ(stat("/proc/self/exe", &after), 0);
	EXPECT_EQ(after.st_size, before.st_size); /* nothing was truncated */
	int fd = open("/proc/self/exe", O_RDONLY);
	EXPECT_TRUE(fd >= 0);
	close(fd);
}

/* A child process keeps the denial of the program it was forked from. */
static int try_writing_own_program(void *arg)
{
	return open("/proc/self/exe", O_WRONLY) < 0 && errno == ETXTBSY ? 0 : 1;
}

static void forked_child_still_cannot_write_the_program(void)
{
	EXPECT_CHILD_OK(try_writing_own_program, NULL);
	EXPECT_ERRNO(open("/proc/self/exe", O_WRONLY), ETXTBSY);
}

static void exec_of_a_file_open_for_writing_is_etxtbsy(void)
{
	int fd, st;

	ASSERT_EQ(copy_self(), 0);
	fd = open(COPY, O_WRONLY);
	ASSERT_TRUE(fd >= 0);
	st = run_child(exec_copy_exit_7, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 100);
	close(fd);
	st = run_child(exec_copy_exit_7, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	unlink(COPY);
}

/* While a copy runs, its file refuses writers; once it exits, it takes them. */
static void running_copy_refuses_writers_until_it_exits(void)
{
	int in[2], ready[2], st, fd;
	pid_t pid;
	char c;

	ASSERT_EQ(copy_self(), 0);
	ASSERT_EQ(pipe(in), 0);
	ASSERT_EQ(pipe(ready), 0);
	pid = fork();
	if (pid == 0) {
		char *const argv[] = { COPY, "--wait", NULL };
		dup2(in[0], 0);
		dup2(ready[1], 1);
		close(in[1]);
		close(ready[0]);
		execve(COPY, argv, envp);
		_exit(101);
	}
	ASSERT_TRUE(pid > 0);
	close(in[0]);
	close(ready[1]);
	EXPECT_EQ(read(ready[0], &c, 1), 1); /* it runs the copy now */
	EXPECT_ERRNO(open(COPY, O_WRONLY), ETXTBSY);
	EXPECT_ERRNO(open(COPY, O_WRONLY | O_TRUNC), ETXTBSY);
	EXPECT_ERRNO(truncate(COPY, 10), ETXTBSY);
	close(in[1]); /* the child's stdin ends: it exits */
	EXPECT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fd = open(COPY, O_WRONLY | O_TRUNC);
	EXPECT_TRUE(fd >= 0);
	close(fd);
	close(ready[0]);
	unlink(COPY);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(open_own_program_for_writing_is_etxtbsy),
	KTAP_CASE(forked_child_still_cannot_write_the_program),
	KTAP_CASE(exec_of_a_file_open_for_writing_is_etxtbsy),
	KTAP_CASE(running_copy_refuses_writers_until_it_exits),
};

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--exit") == 0)
		return atoi(argv[2]);
	if (argc == 2 && strcmp(argv[1], "--wait") == 0) {
		char c = 'r';
		if (write(1, &c, 1) != 1)
			return 1;
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	return ktap_run_suite("txtbsytest", cases, KTAP_ARRAY_SIZE(cases));
}
