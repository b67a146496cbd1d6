/* rwtest: read(2) and write(2) with huge, untouched or partly unmapped
 * buffers, as KTAP (suite "rwtest"): a partial count up to the fault,
 * -EFAULT when nothing moved, no data lost from a pipe, and /dev/zero
 * and /dev/null never touching the buffer of a write. Linux 6.1 passes
 * every case (scripts/linux-test.sh). */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ktap.h"
#include "meminfo.h"

#define PG 4096UL
#define MAX_RW_COUNT (0x7fffffffL & ~(long)(PG - 1)) /* Linux's cap on one transfer */

/* Two pages, the second unmapped: returns the first, or NULL. */
static char *page_before_hole(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + PG, PG);
	return p;
}

static int temp_file(const char *name)
{
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0)
		unlink(name);
	return fd;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_stops_at_the_hole_with_a_partial_count(void)
{
	char *p = page_before_hole();
	int fd = temp_file("/tmp/rwtest-w");

	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(fd >= 0);
	memset(p, 'x', PG);
	EXPECT_EQ(write(fd, p + PG - 100, 300), 100);
	EXPECT_EQ(lseek(fd, 0, SEEK_END), 100);
	EXPECT_ERRNO(write(fd, p + PG, 10), EFAULT);
	EXPECT_ERRNO(pwrite(fd, p + PG, 10, 0), EFAULT);
	EXPECT_EQ(lseek(fd, 0, SEEK_END), 100);
	close(fd);
	munmap(p, PG);
}

static void read_stops_at_the_hole_and_the_position_follows(void)
{
	char *p = page_before_hole(), buf[300];
	int fd = temp_file("/tmp/rwtest-r");

	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(fd >= 0);
	for (int i = 0; i < 300; i++)
		buf[i] = 'a' + i % 26;
	ASSERT_EQ(write(fd, buf, 300), 300);
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	EXPECT_EQ(read(fd, p + PG - 100, 300), 100);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 100);
	EXPECT_EQ(p[PG - 1], 'a' + 99 % 26);
	EXPECT_ERRNO(read(fd, p + PG, 10), EFAULT);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 100);
	EXPECT_EQ(read(fd, buf, 300), 200);
	EXPECT_EQ(buf[0], 'a' + 100 % 26);
	close(fd);
	munmap(p, PG);
}

static void read_from_a_pipe_into_a_bad_buffer_keeps_the_bytes(void)
{
	char *p = page_before_hole(), back[6] = { 0 };
	int fds[2];

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(pipe(fds), 0);
	ASSERT_EQ(write(fds[1], "hello", 5), 5);
	EXPECT_ERRNO(read(fds[0], p + PG, 5), EFAULT);
	ASSERT_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	EXPECT_EQ(read(fds[0], back, 5), 5);
	EXPECT_EQ(strcmp(back, "hello"), 0);
	close(fds[0]);
	close(fds[1]);
	munmap(p, PG);
}

/* 2 GiB of untouched memory written to /dev/zero and /dev/null: the
 * count (capped at MAX_RW_COUNT) at once, no memory spent. */
static void write_of_2gib_to_dev_zero_and_null_costs_nothing(void)
{
	size_t len = 2UL << 30;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int zero = open("/dev/zero", O_RDWR), null = open("/dev/null", O_WRONLY);
	double t0 = now(); /* before the count: a first call may touch a page */
	long before = meminfo_kb("MemFree:"), after;

	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_TRUE(zero >= 0 && null >= 0);
	EXPECT_EQ(pwrite(zero, p, len, 0), MAX_RW_COUNT);
	EXPECT_EQ(write(zero, p, len), MAX_RW_COUNT);
	EXPECT_EQ(write(null, p, len), MAX_RW_COUNT);
	after = meminfo_kb("MemFree:");
	ktap_log("three 2 GiB writes took %.3f s; MemFree %ld -> %ld kB", now() - t0, before, after);
	EXPECT_LE(before - after, on_pagoda() ? 0 : 8192);
	close(zero);
	close(null);
	munmap(p, len);
}

static void read_of_dev_zero_fills_the_whole_count(void)
{
	size_t len = (1UL << 20) + 123;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open("/dev/zero", O_RDONLY);
	size_t nonzero = 0;

	ASSERT_TRUE(p != MAP_FAILED && fd >= 0);
	memset(p, 0x55, len);
	EXPECT_EQ(read(fd, p, len), (long)len);
	for (size_t i = 0; i < len; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(nonzero, 0);
	close(fd);
	munmap(p, len);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(write_stops_at_the_hole_with_a_partial_count),
	KTAP_CASE(read_stops_at_the_hole_and_the_position_follows),
	KTAP_CASE(read_from_a_pipe_into_a_bad_buffer_keeps_the_bytes),
	KTAP_CASE(write_of_2gib_to_dev_zero_and_null_costs_nothing),
	KTAP_CASE(read_of_dev_zero_fills_the_whole_count),
};

int main(void)
{
	return ktap_run_suite("rwtest", cases, KTAP_ARRAY_SIZE(cases));
}
