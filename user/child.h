/* Running a piece of a test in a child process and judging how it ended.
 * A child reports through its exit status (0: every check held, N: check
 * N failed) or dies of a signal, which the parent reads from wait4(). */
#ifndef PAGODA_USER_CHILD_H
#define PAGODA_USER_CHILD_H

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktap.h"

/* Hide a pointer's value from the optimiser, so that an access through it
 * is compiled as written (a store to NULL would otherwise become ud2). */
static inline void *launder(void *p)
{
	__asm__ __volatile__("" : "+r"(p));
	return p;
}

/* Run fn(arg) in a child that exits with fn's return value (_exit: stdio
 * buffers stay unflushed in the child). Returns the wait status, or -1 if
 * fork or wait4 failed. */
static inline int run_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* "exited with 3", "killed by signal 11 (Segmentation fault)". */
static inline const char *wait_status_str(int st, char *buf, size_t size)
{
	if (st == -1)
		snprintf(buf, size, "fork or wait4 failed (errno %d)", errno);
	else if (WIFEXITED(st))
		snprintf(buf, size, "exited with %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, size, "wait status 0x%x", st);
	return buf;
}

/* The child must die of signal sig. */
#define EXPECT_CHILD_SIGNAL(fn, arg, sig)                                      \
	do {                                                                   \
		int __st = run_child(fn, arg);                                 \
		if (__st == -1 || !WIFSIGNALED(__st) || WTERMSIG(__st) != (sig)) { \
			char __m[320], __s[96];                                \
			snprintf(__m, sizeof(__m), "expected %s to die of %s, but it %s", \
				 #fn, #sig, wait_status_str(__st, __s, sizeof(__s))); \
			ktap_fail_at(__FILE__, __LINE__, __m);                 \
		}                                                              \
	} while (0)

/* The child must exit with status 0 (each of its checks held). */
#define EXPECT_CHILD_OK(fn, arg)                                               \
	do {                                                                   \
		int __st = run_child(fn, arg);                                 \
		if (__st == -1 || !WIFEXITED(__st) || WEXITSTATUS(__st) != 0) { \
			char __m[320], __s[96];                                \
			snprintf(__m, sizeof(__m), "expected %s to exit with 0, but it %s", \
				 #fn, wait_status_str(__st, __s, sizeof(__s))); \
			ktap_fail_at(__FILE__, __LINE__, __m);                 \
		}                                                              \
	} while (0)

#endif
