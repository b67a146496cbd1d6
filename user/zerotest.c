/* zerotest: untouched private memory reads as zeroes and costs no memory
 * until written (the shared zero page), as KTAP (suite "zerotest"). The
 * memory a step costs is measured with /proc/meminfo's MemFree: exactly
 * on Pagoda, with a margin on Linux (see meminfo.h). Every expectation
 * holds on Linux 6.1 too. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"
#include "meminfo.h"

#define PG 4096UL
#define BIG (2UL << 30)        /* 2 GiB: more than make test's small machines have */
#define TABLE_SPAN (2UL << 20) /* what one page-table page maps */
#define LINUX_SLACK_KB (16L * 1024) /* Linux's MemFree wanders by a few MiB */
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

/* kB a mapping of len bytes may cost in page tables when read: a table
 * per 2 MiB, one per 1 GiB above those, and a few more at the ends. */
static long table_kb(size_t len)
{
	return (long)((len / TABLE_SPAN + len / (1UL << 30) + 8) * (PG / 1024));
}

/* MemFree may have dropped by at most kb (plus Linux's slack). */
static void expect_cost_at_most(long before, long kb)
{
	long after = meminfo_kb("MemFree:");

	ktap_log("MemFree before %ld kB, after %ld kB (allowed %ld kB)", before, after, kb);
	EXPECT_LE(before - after, kb + (on_pagoda() ? 0 : LINUX_SLACK_KB));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void reading_2gib_of_untouched_memory_costs_only_page_tables(void)
{
	volatile char *p = mmap(NULL, BIG, RW, ANON | MAP_NORESERVE, -1, 0);
	double t0 = now(); /* before the count: a first call may touch a page */
	long before = meminfo_kb("MemFree:");
	size_t nonzero = 0;

	ASSERT_TRUE(p != MAP_FAILED);
	for (size_t off = 0; off < BIG; off += PG)
		nonzero += p[off] != 0;
	ktap_log("read %zu pages in %.2f s", BIG / PG, now() - t0);
	EXPECT_EQ(nonzero, 0);
	expect_cost_at_most(before, table_kb(BIG));
	EXPECT_EQ(munmap((void *)p, BIG), 0);
}

/* The first write after a read costs one page, exactly (on Pagoda). */
static void write_after_read_costs_one_page_and_reads_back(void)
{
	char *p = mmap(NULL, 16 * PG, RW, ANON, -1, 0);
	long before, after;
	size_t nonzero = 0;

	ASSERT_TRUE(p != MAP_FAILED);
	for (size_t i = 0; i < 16; i++)
		nonzero += ((volatile char *)p)[i * PG];
	before = meminfo_kb("MemFree:");
	p[5 * PG + 3] = 42;
	after = meminfo_kb("MemFree:");
	EXPECT_EQ(nonzero, 0);
	if (on_pagoda())
		EXPECT_EQ(before - after, (long)(PG / 1024));
	EXPECT_EQ(p[5 * PG + 3], 42);
	for (size_t i = 0; i < 16 * PG; i++)
		if (i != 5 * PG + 3)
			nonzero += p[i] != 0;
	EXPECT_EQ(nonzero, 0);
	munmap(p, 16 * PG);
}

static int child_reads_zero_then_writes(void *arg)
{
	char *p = arg;

	if (p[0] || p[PG])
		return 1;
	p[PG] = 9;
	return p[PG] == 9 && !p[0] ? 0 : 2;
}

static int child_sees_parent_write_then_writes(void *arg)
{
	char *p = arg;

	if (p[0] != 3 || p[PG])
		return 1;
	p[0] = 4;
	return 0;
}

/* After fork both sides read zeroes; a write on either side is its own. */
static void fork_shares_zero_pages_and_writes_stay_private(void)
{
	char *p = mmap(NULL, 2 * PG, RW, ANON, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(((volatile char *)p)[0] + ((volatile char *)p)[PG], 0);
	EXPECT_CHILD_OK(child_reads_zero_then_writes, p);
	EXPECT_EQ(p[PG], 0);
	p[0] = 3;
	EXPECT_CHILD_OK(child_sees_parent_write_then_writes, p);
	EXPECT_EQ(p[0], 3);
	EXPECT_EQ(p[PG], 0);
	munmap(p, 2 * PG);
}

static void mprotect_writable_after_read_then_write_works(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ, ANON, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(((volatile char *)p)[100], 0);
	ASSERT_EQ(mprotect(p, 2 * PG, RW), 0);
	p[100] = 1;
	EXPECT_EQ(p[100], 1);
	EXPECT_EQ(p[PG + 100], 0);
	munmap(p, 2 * PG);
}

static void mremap_moves_untouched_and_read_pages(void)
{
	char *p = mmap(NULL, 4 * PG, RW, ANON, -1, 0), *q;
	char *blocker;

	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(((volatile char *)p)[0] + ((volatile char *)p)[2 * PG], 0);
	p[PG] = 5;
	/* Something right after it, so that growing must move it. */
	blocker = mmap(p + 4 * PG, PG, PROT_READ, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	q = mremap(p, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(q[0], 0);
	EXPECT_EQ(q[PG], 5);
	EXPECT_EQ(q[2 * PG], 0);
	q[2 * PG] = 6;
	EXPECT_EQ(q[2 * PG], 6);
	EXPECT_EQ(q[7 * PG], 0);
	munmap(q, 8 * PG);
	if (blocker != MAP_FAILED)
		munmap(blocker, PG);
}

static void madvise_dontneed_makes_written_pages_read_zero_again(void)
{
	char *p = mmap(NULL, 2 * PG, RW, ANON, -1, 0);
	long before;

	ASSERT_TRUE(p != MAP_FAILED);
	memset(p, 0x77, 2 * PG);
	before = meminfo_kb("MemFree:");
	ASSERT_EQ(madvise(p, 2 * PG, MADV_DONTNEED), 0);
	EXPECT_EQ(((volatile char *)p)[0], 0);
	EXPECT_EQ(((volatile char *)p)[PG + 1], 0);
	if (on_pagoda()) /* both frames back, reading took none */
		EXPECT_EQ(meminfo_kb("MemFree:") - before, (long)(2 * PG / 1024));
	munmap(p, 2 * PG);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(reading_2gib_of_untouched_memory_costs_only_page_tables),
	KTAP_CASE(write_after_read_costs_one_page_and_reads_back),
	KTAP_CASE(fork_shares_zero_pages_and_writes_stay_private),
	KTAP_CASE(mprotect_writable_after_read_then_write_works),
	KTAP_CASE(mremap_moves_untouched_and_read_pages),
	KTAP_CASE(madvise_dontneed_makes_written_pages_read_zero_again),
};

int main(void)
{
	return ktap_run_suite("zerotest", cases, KTAP_ARRAY_SIZE(cases));
}
