/* filemaptest: the behaviours Pintos's mmap-* tests name (read, write,
 * close, unmap, overlap, twice, exit, shuffle, bad fd, misaligned, null,
 * over code, over stack, remove, zero length), written again with Linux's
 * results, and what a file mapping does when the file changes under it:
 * truncation gives SIGBUS past the new end while the tail of the last page
 * reads zeros; msync, mincore, madvise, mlock, mremap and mprotect on file
 * mappings; fallocate. Suite "filemaptest"; every expectation holds on
 * Linux 6.1 (scripts/linux-test.sh). */
#include <fcntl.h>
#include <stdbool.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"

#define PG 4096
#define PATH "/tmp/filemaptest"

static unsigned char buf[8 * PG];

/* path holds len bytes, byte i being (i * 13 + seed) & 0xff; an open fd
 * (flags) or -1. */
static int make_file(size_t len, int seed, int flags)
{
	int fd = open(PATH, O_RDWR | O_CREAT | O_TRUNC, 0644);

	for (size_t i = 0; i < len && i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 13 + seed);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return -1;
	close(fd);
	return open(PATH, flags);
}

static bool holds(const unsigned char *p, size_t off, size_t len, int seed)
{
	for (size_t i = off; i < off + len; i++)
		if (p[i - off] != (unsigned char)(i * 13 + seed))
			return false;
	return true;
}

/* --- Pintos's mmap-* behaviours --- */

static void mmap_read_shows_the_file(void)
{
	int fd = make_file(3 * PG, 1, O_RDONLY);
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 3 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_TRUE(holds(p, 0, 3 * PG, 1));
	munmap(p, 3 * PG);
	close(fd);
}

static void mmap_write_is_read_back_by_read(void)
{
	int fd = make_file(2 * PG, 0, O_RDWR);
	char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	memcpy(p + 100, "sample text", 12);
	ASSERT_EQ(pread(fd, buf, 12, 100), 12);
	EXPECT_EQ(memcmp(buf, "sample text", 12), 0);
	munmap(p, 2 * PG);
	close(fd);
}

static void mmap_close_then_read_the_mapping(void)
{
	int fd = make_file(PG, 2, O_RDONLY);
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	close(fd);
	EXPECT_TRUE(holds(p, 0, PG, 2));
	munmap(p, PG);
}

static int child_reads(void *arg)
{
	volatile unsigned char *p = launder(arg);

	return p[0] + 1 ? 2 : 3; /* must fault first */
}

static void mmap_unmap_then_access_is_sigsegv(void)
{
	int fd = make_file(PG, 3, O_RDONLY);
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	close(fd);
	EXPECT_EQ(munmap(p, PG), 0);
	EXPECT_CHILD_SIGNAL(child_reads, p, SIGSEGV);
}

/* A mapping asked for where one is: MAP_FIXED_NOREPLACE refuses; a hint
 * alone is moved elsewhere. */
static void mmap_overlap_is_refused_or_placed_elsewhere(void)
{
	int fd = make_file(2 * PG, 4, O_RDONLY);
	unsigned char *p, *q;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_ERRNO(mmap(p + PG, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0), EEXIST);
	q = mmap(p + PG, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(q != MAP_FAILED && q != p + PG);
	EXPECT_TRUE(holds(p, 0, 2 * PG, 4));
	munmap(q, PG);
	munmap(p, 2 * PG);
	close(fd);
}

/* One file mapped twice: one page behind both, so a store through one
 * is seen through the other. */
static void mmap_twice_maps_one_page_twice(void)
{
	int fd = make_file(PG, 5, O_RDWR);
	unsigned char *a, *b;

	ASSERT_TRUE(fd >= 0);
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(a != MAP_FAILED && b != MAP_FAILED && a != b);
	EXPECT_TRUE(holds(b, 0, PG, 5));
	a[9] = 0x99;
	EXPECT_EQ(b[9], 0x99);
	munmap(a, PG);
	munmap(b, PG);
	close(fd);
}

static int child_writes_and_exits(void *arg)
{
	int fd = open(PATH, O_RDWR);
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return 1;
	memcpy(p, "left by the child", 18);
	return 0; /* exit without munmap or msync */
}

static void mmap_exit_leaves_the_data_in_the_file(void)
{
	int fd = make_file(PG, 6, O_RDONLY);

	ASSERT_TRUE(fd >= 0);
	EXPECT_CHILD_OK(child_writes_and_exits, NULL);
	ASSERT_EQ(pread(fd, buf, 18, 0), 18);
	EXPECT_EQ(memcmp(buf, "left by the child", 18), 0);
	close(fd);
}

/* Shuffle the bytes of a shared mapping in place; read() sees the same
 * multiset of bytes in the new order. */
static void mmap_shuffle_is_seen_by_read(void)
{
	int fd = make_file(8 * PG, 7, O_RDWR);
	uint64_t sum = 0, sum2 = 0, x = 12345;
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (size_t i = 8 * PG - 1; i > 0; i--) {
		size_t j;
		unsigned char t;
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (x >> 33) % (i + 1);
		t = p[i], p[i] = p[j], p[j] = t;
	}
	ASSERT_EQ(pread(fd, buf, 8 * PG, 0), 8 * PG);
	for (size_t i = 0; i < 8 * PG; i++) {
		sum += (unsigned char)(i * 13 + 7);
		sum2 += buf[i];
	}
	EXPECT_EQ(sum, sum2);
	EXPECT_EQ(memcmp(buf, p, 8 * PG), 0);
	EXPECT_TRUE(!holds(buf, 0, 8 * PG, 7));
	munmap(p, 8 * PG);
	close(fd);
}

static void mmap_bad_fd_is_ebadf(void)
{
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 987, 0), EBADF);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
}

static void mmap_misaligned_address_or_offset_is_einval(void)
{
	int fd = make_file(2 * PG, 8, O_RDONLY);
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_ERRNO(mmap(p + 1, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0), EINVAL);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 1), EINVAL);
	/* A hint that is not aligned is rounded, not refused. */
	unsigned char *q = mmap(p + 1, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(q != MAP_FAILED && ((uintptr_t)q & (PG - 1)) == 0);
	munmap(q, PG);
	munmap(p, 2 * PG);
	close(fd);
}

/* NULL without MAP_FIXED asks for no address: the kernel picks one, never
 * below mmap_min_addr (64 KiB). (MAP_FIXED at 0 is refused to others
 * than root on Linux, and allowed to root, which every Pagoda process is:
 * Pagoda refuses it to all, so no test of it holds on both.) */
static void mmap_null_address_is_placed_by_the_kernel(void)
{
	int fd = make_file(PG, 9, O_RDONLY);
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_TRUE((uintptr_t)p >= 0x10000);
	EXPECT_TRUE(holds(p, 0, PG, 9));
	munmap(p, PG);
	close(fd);
}

static void mmap_over_code_or_stack_is_refused(void)
{
	int fd = make_file(PG, 10, O_RDONLY);
	void *code = (void *)((uintptr_t)&mmap_over_code_or_stack_is_refused & ~(uintptr_t)(PG - 1));
	int local;
	void *stack = (void *)((uintptr_t)&local & ~(uintptr_t)(PG - 1));

	ASSERT_TRUE(fd >= 0);
	EXPECT_ERRNO(mmap(code, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0), EEXIST);
	EXPECT_ERRNO(mmap(stack, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0), EEXIST);
	close(fd);
}

/* The mapping outlives the file's name: still readable and writable, and
 * a new file of that name is another file. */
static void mmap_remove_keeps_the_mapping(void)
{
	int fd = make_file(PG, 11, O_RDWR), fd2;
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	close(fd);
	EXPECT_EQ(unlink(PATH), 0);
	EXPECT_TRUE(holds(p, 0, PG, 11));
	p[0] = 0x42;
	fd2 = make_file(PG, 12, O_RDONLY);
	ASSERT_TRUE(fd2 >= 0);
	ASSERT_EQ(pread(fd2, buf, 1, 0), 1);
	EXPECT_EQ(buf[0], 12);
	EXPECT_EQ(p[0], 0x42);
	munmap(p, PG);
	close(fd2);
}

static void mmap_zero_length_is_einval(void)
{
	int fd = make_file(PG, 13, O_RDONLY);

	ASSERT_TRUE(fd >= 0);
	EXPECT_ERRNO(mmap(NULL, 0, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL);
	close(fd);
}

static void mmap_of_a_write_only_fd_or_a_directory_is_refused(void)
{
	int wo = make_file(PG, 14, O_WRONLY), dir = open("/tmp", O_RDONLY | O_DIRECTORY);

	ASSERT_TRUE(wo >= 0 && dir >= 0);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0), EACCES);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_WRITE, MAP_SHARED, wo, 0), EACCES);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, dir, 0), ENODEV);
	close(wo);
	close(dir);
}

/* --- the file changes under the mapping --- */

static sigjmp_buf jump;
static volatile int got_signal;
static volatile uintptr_t got_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	got_signal = sig;
	got_addr = (uintptr_t)si->si_addr;
	siglongjmp(jump, 1);
}

/* Touch p: 0, or the signal the touch raised (its address in got_addr). */
static int touch(volatile unsigned char *p)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };

	got_signal = 0;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	if (sigsetjmp(jump, 1) == 0)
		(void)*p;
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	return got_signal;
}

/* Past the end of the file a mapping has no page: SIGBUS, whatever the
 * VMA's length; the rest of the last page reads as zeros. */
static void mmap_past_eof_is_sigbus_and_the_last_page_tail_is_zero(void)
{
	int fd = make_file(PG + 10, 15, O_RDONLY);
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 3 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_TRUE(holds(p, 0, PG + 10, 15));
	EXPECT_EQ(p[PG + 10], 0);
	EXPECT_EQ(p[2 * PG - 1], 0);
	EXPECT_EQ(touch(p + 2 * PG), SIGBUS);
	EXPECT_EQ(got_addr, (uintptr_t)(p + 2 * PG));
	munmap(p, 3 * PG);
	close(fd);
}

/* Truncation under a mapping: pages past the new end go from the
 * mapping (SIGBUS), a private copy too; the bytes past the new end in the
 * last page read zero; growing the file again brings zeros, not the old
 * data. */
static void truncate_under_a_mapping_gives_sigbus_past_the_new_end(void)
{
	int fd = make_file(4 * PG, 16, O_RDWR);
	unsigned char *s, *q;

	ASSERT_TRUE(fd >= 0);
	s = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(s != MAP_FAILED && q != MAP_FAILED);
	q[3 * PG] = 0x77; /* a private copy of the last page */
	EXPECT_EQ(s[3 * PG + 1], (unsigned char)((3 * PG + 1) * 13 + 16));
	EXPECT_EQ(ftruncate(fd, PG + 100), 0);
	EXPECT_EQ(touch(s + 3 * PG), SIGBUS);
	EXPECT_EQ(touch(q + 3 * PG), SIGBUS);
	EXPECT_EQ(touch(s + 2 * PG), SIGBUS);
	EXPECT_TRUE(holds(s, 0, PG + 100, 16));
	EXPECT_EQ(s[PG + 100], 0);
	EXPECT_EQ(s[2 * PG - 1], 0);
	EXPECT_EQ(ftruncate(fd, 3 * PG), 0);
	EXPECT_EQ(touch(s + 2 * PG), 0);
	EXPECT_EQ(s[2 * PG + 5], 0);
	munmap(s, 4 * PG);
	munmap(q, 4 * PG);
	close(fd);
}

static void msync_checks_its_arguments_as_linux(void)
{
	int fd = make_file(2 * PG, 17, O_RDWR);
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[1] = 1;
	EXPECT_EQ(msync(p, 2 * PG, MS_SYNC), 0);
	EXPECT_EQ(msync(p, 100, MS_ASYNC), 0);
	EXPECT_EQ(msync(p, 2 * PG, MS_INVALIDATE), 0);
	EXPECT_EQ(msync(p, 0, MS_SYNC), 0);
	EXPECT_ERRNO(msync(p + 1, PG, MS_SYNC), EINVAL);
	EXPECT_ERRNO(msync(p, PG, MS_SYNC | MS_ASYNC), EINVAL);
	EXPECT_ERRNO(msync(p, PG, 8), EINVAL);
	munmap(p + PG, PG);
	EXPECT_ERRNO(msync(p, 2 * PG, MS_SYNC), ENOMEM); /* a hole in the range */
	ASSERT_EQ(pread(fd, buf, 2, 0), 2);
	EXPECT_EQ(buf[1], 1);
	EXPECT_EQ(mlock(p, PG), 0);
	EXPECT_ERRNO(msync(p, PG, MS_INVALIDATE), EBUSY);
	EXPECT_EQ(munlock(p, PG), 0);
	EXPECT_EQ(msync(p, PG, MS_INVALIDATE), 0);
	munmap(p, PG);
	close(fd);
}

/* mincore: a page is resident when it is mapped, or for a file when it
 * is in the page cache (here: always, files live in RAM); anonymous
 * memory never touched is not. */
static void mincore_reports_what_is_resident(void)
{
	int fd = make_file(3 * PG, 18, O_RDONLY);
	unsigned char vec[4] = { 9, 9, 9, 9 };
	unsigned char *p, *a;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED && a != MAP_FAILED);
	EXPECT_EQ(mincore(p, 3 * PG, vec), 0);
	EXPECT_EQ(vec[0] & 1, 1);
	EXPECT_EQ(vec[2] & 1, 1);
	EXPECT_EQ(vec[3], 9); /* untouched */
	a[PG] = 1;
	EXPECT_EQ(mincore(a, 4 * PG - 1, vec), 0); /* the length rounds up */
	EXPECT_EQ(vec[0] & 1, 0);
	EXPECT_EQ(vec[1] & 1, 1);
	EXPECT_EQ(vec[3] & 1, 0);
	EXPECT_ERRNO(mincore(a + 1, PG, vec), EINVAL);
	EXPECT_ERRNO(mincore(a, PG, (unsigned char *)8), EFAULT);
	munmap(a + PG, PG);
	EXPECT_ERRNO(mincore(a, 4 * PG, vec), ENOMEM);
	munmap(a, 4 * PG);
	munmap(p, 3 * PG);
	close(fd);
}

/* MADV_DONTNEED on a private file mapping drops the copy: the file shows
 * through again. */
static void madvise_dontneed_drops_the_private_copy(void)
{
	int fd = make_file(PG, 19, O_RDONLY);
	unsigned char *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 0xaa;
	EXPECT_EQ(madvise(p, PG, MADV_WILLNEED), 0);
	EXPECT_EQ(p[0], 0xaa);
	EXPECT_EQ(madvise(p, PG, MADV_DONTNEED), 0);
	EXPECT_EQ(p[0], 19);
	munmap(p, PG);
	close(fd);
}

/* mremap moves and grows a file mapping; mprotect can make a private
 * one writable (a copy) but a shared one of a read-only fd never. */
static void mremap_and_mprotect_work_on_file_mappings(void)
{
	int fd = make_file(4 * PG, 20, O_RDONLY);
	unsigned char *p, *q;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	q = mremap(p, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_TRUE(holds(q, 0, 4 * PG, 20));
	EXPECT_EQ(mprotect(q + PG, PG, PROT_READ | PROT_WRITE), 0);
	q[PG] = 1;
	EXPECT_EQ(q[PG], 1);
	ASSERT_EQ(pread(fd, buf, 1, PG), 1);
	EXPECT_EQ(buf[0], (unsigned char)(PG * 13 + 20));
	munmap(q, 4 * PG);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_ERRNO(mprotect(p, PG, PROT_READ | PROT_WRITE), EACCES);
	munmap(p, PG);
	close(fd);
}

static void fallocate_grows_the_file_with_zeros(void)
{
	int fd = make_file(100, 21, O_RDWR);
	struct stat st;

	ASSERT_TRUE(fd >= 0);
	EXPECT_EQ(fallocate(fd, 0, 50, 3 * PG), 0);
	ASSERT_EQ(fstat(fd, &st), 0);
	EXPECT_EQ(st.st_size, 50 + 3 * PG);
	ASSERT_EQ(pread(fd, buf, 200, 0), 200);
	EXPECT_TRUE(holds(buf, 0, 100, 21));
	EXPECT_EQ(buf[150], 0);
	EXPECT_EQ(fallocate(fd, 0, 0, 10), 0);
	ASSERT_EQ(fstat(fd, &st), 0);
	EXPECT_EQ(st.st_size, 50 + 3 * PG); /* never shrinks */
	EXPECT_ERRNO(fallocate(fd, 0, -1, 10), EINVAL);
	EXPECT_ERRNO(fallocate(fd, 0, 0, 0), EINVAL);
	close(fd);
	fd = open(PATH, O_RDONLY);
	EXPECT_ERRNO(fallocate(fd, 0, 0, 10), EBADF);
	close(fd);
	unlink(PATH);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(mmap_read_shows_the_file),
	KTAP_CASE(mmap_write_is_read_back_by_read),
	KTAP_CASE(mmap_close_then_read_the_mapping),
	KTAP_CASE(mmap_unmap_then_access_is_sigsegv),
	KTAP_CASE(mmap_overlap_is_refused_or_placed_elsewhere),
	KTAP_CASE(mmap_twice_maps_one_page_twice),
	KTAP_CASE(mmap_exit_leaves_the_data_in_the_file),
	KTAP_CASE(mmap_shuffle_is_seen_by_read),
	KTAP_CASE(mmap_bad_fd_is_ebadf),
	KTAP_CASE(mmap_misaligned_address_or_offset_is_einval),
	KTAP_CASE(mmap_null_address_is_placed_by_the_kernel),
	KTAP_CASE(mmap_over_code_or_stack_is_refused),
	KTAP_CASE(mmap_remove_keeps_the_mapping),
	KTAP_CASE(mmap_zero_length_is_einval),
	KTAP_CASE(mmap_of_a_write_only_fd_or_a_directory_is_refused),
	KTAP_CASE(mmap_past_eof_is_sigbus_and_the_last_page_tail_is_zero),
	KTAP_CASE(truncate_under_a_mapping_gives_sigbus_past_the_new_end),
	KTAP_CASE(msync_checks_its_arguments_as_linux),
	KTAP_CASE(mincore_reports_what_is_resident),
	KTAP_CASE(madvise_dontneed_drops_the_private_copy),
	KTAP_CASE(mremap_and_mprotect_work_on_file_mappings),
	KTAP_CASE(fallocate_grows_the_file_with_zeros),
};

int main(void)
{
	return ktap_run_suite("filemaptest", cases, KTAP_ARRAY_SIZE(cases));
}
