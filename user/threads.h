/* Helpers for the threaded test programs (threadtest, mtmemtest) and
 * threadbench: raw futex and gettid calls, CPUs and pinning, counting a
 * process's threads through /proc, catching SIGSEGV per thread, waiting
 * for a child with a deadline, and a watchdog that names the case that
 * hung. They use only what both musl and glibc offer, so the programs
 * build against either. */
#ifndef PAGODA_USER_THREADS_H
#define PAGODA_USER_THREADS_H

#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ktap.h"

#define PG 4096UL

static inline pid_t thr_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* futex(2) through syscall(): -1 and errno on failure, as every libc. */
static inline long thr_futex(void *uaddr, int op, uint32_t val, const struct timespec *ts,
			     void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static inline long futex_wait_private(_Atomic uint32_t *w, uint32_t val, const struct timespec *ts)
{
	return thr_futex((void *)w, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, val, ts, NULL, 0);
}

static inline long futex_wake_private(_Atomic uint32_t *w, uint32_t n)
{
	return thr_futex((void *)w, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

static inline double thr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The CPUs this thread may run on: fills *set, returns how many (0 if
 * sched_getaffinity failed). */
static inline int thr_cpus(cpu_set_t *set)
{
	CPU_ZERO(set);
	if (sched_getaffinity(0, sizeof(*set), set) < 0)
		return 0;
	return CPU_COUNT(set);
}

/* The n-th CPU (from 0) of set, or -1. */
static inline int thr_nth_cpu(const cpu_set_t *set, int n)
{
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set) && n-- == 0)
			return cpu;
	return -1;
}

/* Pin the calling thread (pid 0: this thread, as Linux means it) to one
 * CPU. Returns 0 or -1 with errno. */
static inline int thr_pin(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one);
}

/* The entries of /proc/self/task (without "." and ".."): up to max tids
 * into tids; returns the count, or -1 if the directory cannot be read. */
static inline int thr_task_list(pid_t *tids, int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n < max)
			tids[n] = atoi(e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/* The "Threads:" field of /proc/self/status, or -1 if absent. */
static inline int thr_status_threads(void)
{
	static char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n;
	char *p;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "\nThreads:\t");
	return p ? atoi(p + strlen("\nThreads:\t")) : -1;
}

/* A thread that exited may stay listed for a moment after pthread_join
 * returns (Linux clears the tid word before the task is gone): poll until
 * /proc/self/task has n entries, for up to a second. Returns the last
 * count seen. */
static inline int thr_wait_task_count(int n)
{
	pid_t tids[64];
	int got = -1;

	for (int i = 0; i < 200; i++) {
		got = thr_task_list(tids, 64);
		if (got == n)
			break;
		sleep_ms(5);
	}
	return got;
}

/* Catching SIGSEGV in the thread that faulted: a thread arms its own
 * jump buffer; the handler (installed once for the process) records the
 * address and jumps back. An unarmed thread dies as if unhandled. */
static __thread sigjmp_buf *thr_fault_jump;
static __thread void *thr_fault_addr;
static __thread int thr_fault_code;

static void thr_fault_handler(int sig, siginfo_t *si, void *uc)
{
	if (!thr_fault_jump) {
		signal(sig, SIG_DFL);
		return; /* the access faults again, now fatally */
	}
	thr_fault_addr = si->si_addr;
	thr_fault_code = si->si_code;
	siglongjmp(*thr_fault_jump, 1);
}

static inline int thr_catch_segv(void)
{
	struct sigaction sa = { .sa_sigaction = thr_fault_handler, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSEGV, &sa, NULL);
}

/* Wait for child pid for up to ms milliseconds; past that, SIGKILL it.
 * Returns the wait status, -1 if waitpid failed, or -2 on the deadline. */
static inline int thr_wait_child(pid_t pid, long ms)
{
	int status;

	for (long waited = 0;; waited += 2) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		if (waited >= ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -2;
		}
		sleep_ms(2);
	}
}

/* The watchdog: a program that hangs (a lost wakeup, a thread that never
 * ends) says which case hung and exits, instead of waiting for init's
 * alarm. The case name is read from ktap_cur. */
static const char *volatile thr_watchdog_prog;
static void thr_watchdog_fire(int sig)
{
	char m[200];
	int n = snprintf(m, sizeof(m), "    # %s: case %s hung: watchdog fired\n",
			 thr_watchdog_prog, ktap_cur.name ? ktap_cur.name : "(none)");

	write(1, m, n);
	_exit(3);
}

static inline void thr_watchdog(const char *prog, unsigned seconds)
{
	thr_watchdog_prog = prog;
	signal(SIGALRM, thr_watchdog_fire);
	alarm(seconds);
}

#endif
