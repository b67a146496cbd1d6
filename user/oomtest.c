/* oomtest: running out of memory, as KTAP (suite "oomtest"). A child
 * touches anonymous memory without bound; the OOM killer must end it
 * with SIGKILL, leave init, this program and a smaller bystander alive,
 * and every frame must come back (exactly, on Pagoda: see meminfo.h).
 *
 * Exhausting RAM costs a page fault per page, so the cases run only on
 * machines with at most MAX_TOTAL_KB of RAM (make test's 128 MiB boot;
 * Linux's 1 GiB in scripts/linux-test.sh) and skip elsewhere. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"
#include "meminfo.h"

#define PG 4096UL
#define MAX_TOTAL_KB (1536L * 1024) /* 1.5 GiB: about 400,000 faults to fill */
#define RESERVE (1UL << 40)         /* address space for the hog: 1 TiB */
#define BYSTANDER_PAGES 2048        /* 8 MiB */

/* A reservation far larger than RAM, populated on demand only. */
static char *reserve(void)
{
	char *p = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Touch page after page until killed. */
static int hog(void *arg)
{
	char *p = reserve();

	if (!p)
		return 1;
	for (size_t off = 0;; off += PG)
		((volatile char *)p)[off] = 1;
}

/* Let the kernel fault the pages in from read(): a fault in the kernel's
 * copy to user memory, not in user mode. One read of 2 GiB (more than
 * these machines have), so that the kernel's buffer is had while memory
 * is still plentiful. */
static int hog_by_read(void *arg)
{
	size_t chunk = (1UL << 31) - PG; /* Linux's MAX_RW_COUNT */
	char *p = reserve();
	int fd = open("/dev/zero", O_RDONLY);

	if (!p || fd < 0)
		return 1;
	for (size_t off = 0;;) {
		ssize_t n = read(fd, p + off, chunk);
		if (n <= 0)
			return 2; /* the copy failed and we were not killed */
		off += n;
	}
}

static int noop(void *arg)
{
	return 0;
}

/* This process's own first uses (a deeper stack for fork and wait, the
 * pages libc touches then) must happen before the count is taken, or
 * they would look like frames the OOM kill lost. */
static void warm_up(void)
{
	volatile char stack[32 * 1024];

	memset((char *)stack, 0, sizeof(stack));
	run_child(noop, NULL);
}

/* Skip unless exhausting RAM is quick here; else the MemFree to compare. */
static bool small_machine(long *free_kb)
{
	long total = meminfo_kb("MemTotal:");
	char why[96];

	warm_up();
	*free_kb = meminfo_kb("MemFree:");
	if (total < 0 || *free_kb < 0) {
		ktap_skip("no /proc/meminfo");
		return false;
	}
	if (total > MAX_TOTAL_KB) {
		snprintf(why, sizeof(why), "MemTotal %ld kB: filling more than %ld kB is too slow",
			 total, MAX_TOTAL_KB);
		ktap_skip(why);
		return false;
	}
	return true;
}

/* Every frame back: exactly on Pagoda; on Linux, whose reclaim moves
 * MemFree both ways by tens of MiB, no more than a tenth of RAM missing. */
static void expect_memfree_back(long before)
{
	long after = meminfo_kb("MemFree:"), total = meminfo_kb("MemTotal:");

	ktap_log("MemFree before %ld kB, after %ld kB", before, after);
	if (on_pagoda())
		EXPECT_EQ(after, before);
	else
		EXPECT_LE(before - after, total / 10);
}

static void expect_killed_by_sigkill(int st)
{
	char s[96];

	if (!(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
		char m[160];
		snprintf(m, sizeof(m), "expected the hog to die of SIGKILL, but it %s",
			 wait_status_str(st, s, sizeof(s)));
		ktap_fail_at(__FILE__, __LINE__, m);
	}
}

static void oom_kills_the_hog_and_every_frame_comes_back(void)
{
	long before;

	if (!small_machine(&before))
		return;
	expect_killed_by_sigkill(run_child(hog, NULL));
	EXPECT_EQ(kill(1, 0), 0); /* init lives */
	expect_memfree_back(before);
}

static void oom_in_a_kernel_copy_kills_the_reader(void)
{
	long before;

	if (!small_machine(&before))
		return;
	expect_killed_by_sigkill(run_child(hog_by_read, NULL));
	EXPECT_EQ(kill(1, 0), 0);
	expect_memfree_back(before);
}

/* The victim is the process with the most memory, not the one that
 * faulted last: a bystander holding 8 MiB survives the hog. */
static void oom_spares_a_smaller_bystander(void)
{
	int pipefd[2], st;
	pid_t bystander;
	long before;
	char c;

	if (!small_machine(&before))
		return;
	ASSERT_EQ(pipe(pipefd), 0);
	bystander = fork();
	if (bystander == 0) {
		char *p = mmap(NULL, BYSTANDER_PAGES * PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			memset(p, 7, BYSTANDER_PAGES * PG);
		write(pipefd[1], "r", 1);
		for (;;)
			sleep(1000);
	}
	ASSERT_TRUE(bystander > 0);
	EXPECT_EQ(read(pipefd[0], &c, 1), 1);
	expect_killed_by_sigkill(run_child(hog, NULL));
	EXPECT_EQ(waitpid(bystander, &st, WNOHANG), 0); /* still running */
	kill(bystander, SIGKILL);
	EXPECT_EQ(waitpid(bystander, &st, 0), bystander);
	close(pipefd[0]);
	close(pipefd[1]);
	expect_memfree_back(before);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(oom_kills_the_hog_and_every_frame_comes_back),
	KTAP_CASE(oom_in_a_kernel_copy_kills_the_reader),
	KTAP_CASE(oom_spares_a_smaller_bystander),
};

int main(void)
{
	return ktap_run_suite("oomtest", cases, KTAP_ARRAY_SIZE(cases));
}
