/* mmaptest: mmap of regular files, the cases of xv6's mmap lab, written
 * again for Linux's semantics (suite "mmaptest"). Every expectation holds
 * on Linux 6.1 (scripts/linux-test.sh).
 *
 * The test file is two and a half pages: pages 0 and 1 of 'A', then half
 * a page of 'B'; the rest of its last page reads as zeros through a
 * mapping. */
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"

#define PG 4096
#define FILE1 "/tmp/mmaptest-1"
#define FILE2 "/tmp/mmaptest-2"
#define FSIZE (2 * PG + PG / 2)

static char buf[4 * PG];

/* Make path hold the test pattern: 0 or -1. */
static int make_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	memset(buf, 'A', 2 * PG);
	memset(buf + 2 * PG, 'B', PG / 2);
	if (write(fd, buf, FSIZE) != FSIZE)
		return -1;
	return close(fd);
}

static char expected(size_t off)
{
	return off < 2 * PG ? 'A' : off < FSIZE ? 'B' : 0;
}

/* Every byte of [p, p + len) is what the file pattern holds there. */
static bool holds_pattern(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != expected(i))
			return false;
	return true;
}

static bool file_holds(const char *path, size_t off, char c, size_t len)
{
	int fd = open(path, O_RDONLY);
	bool ok = fd >= 0 && pread(fd, buf, len, off) == (ssize_t)len;

	for (size_t i = 0; ok && i < len; i++)
		ok = buf[i] == c;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void mmap_private_read_shows_the_file_and_zeros_after_it(void)
{
	int fd;
	char *p;

	ASSERT_EQ(make_file(FILE1), 0);
	ASSERT_TRUE((fd = open(FILE1, O_RDONLY)) >= 0);
	p = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_TRUE(holds_pattern(p, 3 * PG));
	EXPECT_EQ(munmap(p, 3 * PG), 0);
	close(fd);
}

static void mmap_shared_writable_of_a_readonly_fd_is_eacces(void)
{
	int fd = open(FILE1, O_RDONLY);

	ASSERT_TRUE(fd >= 0);
	EXPECT_ERRNO(mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
	close(fd);
}

/* Writable private mapping of a read-only file: the writes stay in the
 * process. */
static void mmap_private_writes_never_reach_the_file(void)
{
	int fd = open(FILE1, O_RDONLY);
	char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	memset(p, 'Z', 3 * PG);
	EXPECT_EQ(p[PG + 7], 'Z');
	EXPECT_EQ(munmap(p, 3 * PG), 0);
	close(fd);
	EXPECT_TRUE(file_holds(FILE1, 0, 'A', 2 * PG));
	EXPECT_TRUE(file_holds(FILE1, 2 * PG, 'B', PG / 2));
}

static void mmap_shared_writes_reach_the_file(void)
{
	int fd = open(FILE1, O_RDWR);
	struct stat st;
	char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	memset(p, 'Z', FSIZE);
	EXPECT_TRUE(file_holds(FILE1, 0, 'Z', FSIZE)); /* at once, before munmap */
	EXPECT_EQ(munmap(p, 3 * PG), 0);
	EXPECT_TRUE(file_holds(FILE1, PG, 'Z', FSIZE - PG));
	EXPECT_EQ(fstat(fd, &st), 0);
	EXPECT_EQ(st.st_size, FSIZE); /* stores past the end do not grow it */
	close(fd);
}

static void mmap_survives_close(void)
{
	int fd;
	char *p;

	ASSERT_EQ(make_file(FILE1), 0);
	ASSERT_TRUE((fd = open(FILE1, O_RDWR)) >= 0);
	p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(close(fd), 0);
	EXPECT_TRUE(holds_pattern(p, 3 * PG));
	p[0] = 'C';
	EXPECT_EQ(munmap(p, 3 * PG), 0);
	EXPECT_TRUE(file_holds(FILE1, 0, 'C', 1));
}

/* Unmap the first page, then the rest: each part goes on its own. */
static void mmap_partial_munmap_keeps_the_rest(void)
{
	int fd = open(FILE1, O_RDWR);
	char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	close(fd);
	EXPECT_EQ(munmap(p, PG), 0);
	EXPECT_EQ(p[PG], 'A');
	p[PG] = 'D';
	EXPECT_EQ(p[2 * PG], 'B');
	EXPECT_EQ(munmap(p + PG, 2 * PG), 0);
	EXPECT_TRUE(file_holds(FILE1, PG, 'D', 1));
}

static void mmap_two_files_at_once(void)
{
	int fd1, fd2;
	char *p1, *p2;

	ASSERT_EQ(make_file(FILE1), 0);
	ASSERT_EQ(make_file(FILE2), 0);
	ASSERT_TRUE((fd1 = open(FILE1, O_RDWR)) >= 0);
	ASSERT_TRUE((fd2 = open(FILE2, O_RDWR)) >= 0);
	p1 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd1, 0);
	p2 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	ASSERT_TRUE(p1 != MAP_FAILED && p2 != MAP_FAILED);
	close(fd1);
	close(fd2);
	memset(p1, '1', PG);
	memset(p2, '2', PG);
	EXPECT_EQ(p1[100], '1');
	EXPECT_EQ(p2[100], '2');
	munmap(p1, PG);
	munmap(p2, PG);
	EXPECT_TRUE(file_holds(FILE1, 0, '1', PG));
	EXPECT_TRUE(file_holds(FILE2, 0, '2', PG));
	unlink(FILE2);
}

/* An offset maps that page of the file. */
static void mmap_offset_maps_that_page(void)
{
	int fd = open(FILE1, O_RDONLY);
	char *p;

	ASSERT_EQ(make_file(FILE1), 0);
	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 2 * PG);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(p[0], 'B');
	EXPECT_EQ(p[PG / 2], 0);
	munmap(p, PG);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
	close(fd);
}

static char *fork_map;

static int child_reads_and_writes(void *arg)
{
	if (fork_map[0] != 'A' || fork_map[2 * PG] != 'B')
		return 1;
	fork_map[5] = 'K'; /* shared: the parent sees it */
	fork_map[3 * PG + 5] = 'P'; /* private: the parent does not */
	return 0;
}

/* fork inherits the mapping: a shared store is seen by the parent, a
 * private one is not. */
static void mmap_fork_child_inherits_the_mapping(void)
{
	int fd;

	ASSERT_EQ(make_file(FILE1), 0);
	ASSERT_TRUE((fd = open(FILE1, O_RDWR)) >= 0);
	/* Four pages of room, then the file shared over three of them and
	 * page 1 of it privately over the fourth. */
	fork_map = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(fork_map != MAP_FAILED);
	ASSERT_TRUE(mmap(fork_map, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		    fork_map);
	ASSERT_TRUE(mmap(fork_map + 3 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
			 fd, PG) != MAP_FAILED);
	close(fd);
	EXPECT_EQ(fork_map[3 * PG + 5], 'A'); /* faulted in before the fork */
	EXPECT_CHILD_OK(child_reads_and_writes, NULL);
	EXPECT_EQ(fork_map[5], 'K');
	EXPECT_EQ(fork_map[3 * PG + 5], 'A');
	EXPECT_TRUE(file_holds(FILE1, 5, 'K', 1));
	munmap(fork_map, 4 * PG);
}

static int child_touches_unmapped(void *arg)
{
	volatile char *p = launder(arg);

	return p[0] == 'A' ? 2 : 3; /* must not get here */
}

static void mmap_access_after_munmap_faults(void)
{
	int fd = open(FILE1, O_RDONLY);
	char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 3 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	close(fd);
	EXPECT_EQ(munmap(p, 3 * PG), 0);
	EXPECT_CHILD_SIGNAL(child_touches_unmapped, p, SIGSEGV);
	unlink(FILE1);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(mmap_private_read_shows_the_file_and_zeros_after_it),
	KTAP_CASE(mmap_shared_writable_of_a_readonly_fd_is_eacces),
	KTAP_CASE(mmap_private_writes_never_reach_the_file),
	KTAP_CASE(mmap_shared_writes_reach_the_file),
	KTAP_CASE(mmap_survives_close),
	KTAP_CASE(mmap_partial_munmap_keeps_the_rest),
	KTAP_CASE(mmap_two_files_at_once),
	KTAP_CASE(mmap_offset_maps_that_page),
	KTAP_CASE(mmap_fork_child_inherits_the_mapping),
	KTAP_CASE(mmap_access_after_munmap_faults),
};

int main(void)
{
	return ktap_run_suite("mmaptest", cases, KTAP_ARRAY_SIZE(cases));
}
