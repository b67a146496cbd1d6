/* Tests of pipes on the paths that never sleep: data already there, empty
 * or full non-blocking ends, and ends closed. A self-test runs in a kernel
 * task with no process, so nothing here may block. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

#define PIPE_CAPACITY (64 * 1024)

static void pipe_write_then_read_returns_the_bytes(struct ktest *t)
{
	struct file *rd, *wr;
	char buf[16] = { 0 };

	KASSERT_EQ(t, pipe_create(O_NONBLOCK, &rd, &wr), 0);
	KEXPECT_TRUE(t, file_is_pipe(rd));
	KEXPECT_EQ(t, vfs_write(wr, "hello", 5), 5);
	KEXPECT_EQ(t, vfs_write(wr, " pipe", 5), 5);
	KEXPECT_EQ(t, vfs_read(rd, buf, 3), 3);
	KEXPECT_EQ(t, memcmp(buf, "hel", 3), 0);
	KEXPECT_EQ(t, vfs_read(rd, buf, sizeof(buf) - 1), 7);
	KEXPECT_EQ(t, memcmp(buf, "lo pipe", 7), 0);
	KEXPECT_EQ(t, vfs_read(rd, buf, 1), -EAGAIN);
	file_put(rd);
	file_put(wr);
}

static void pipe_read_after_last_writer_closes_is_eof(struct ktest *t)
{
	struct file *rd, *wr;
	char buf[8];

	KASSERT_EQ(t, pipe_create(0, &rd, &wr), 0);
	KEXPECT_EQ(t, vfs_write(wr, "ab", 2), 2);
	file_get(wr); /* a dup: the pipe still has a writer after one put */
	file_put(wr);
	file_put(wr);
	KEXPECT_EQ(t, vfs_read(rd, buf, sizeof(buf)), 2); /* data first */
	KEXPECT_EQ(t, vfs_read(rd, buf, sizeof(buf)), 0);
	file_put(rd);
}

static void pipe_write_without_readers_is_epipe(struct ktest *t)
{
	struct file *rd, *wr;

	KASSERT_EQ(t, pipe_create(0, &rd, &wr), 0);
	file_put(rd);
	KEXPECT_EQ(t, vfs_write(wr, "x", 1), -EPIPE);
	file_put(wr);
}

static void pipe_full_nonblocking_write_is_partial_then_eagain(struct ktest *t)
{
	struct file *rd, *wr;
	char *buf = kzalloc(PIPE_CAPACITY + 100, GFP_KERNEL);

	KASSERT_NOT_NULL(t, buf);
	if (pipe_create(O_NONBLOCK, &rd, &wr) != 0) {
		kfree(buf);
		KASSERT_TRUE(t, false);
	}
	KEXPECT_EQ(t, vfs_write(wr, buf, PIPE_CAPACITY - 10), PIPE_CAPACITY - 10);
	/* 20 bytes do not fit whole; at most PIPE_BUF: all or nothing. */
	KEXPECT_EQ(t, vfs_write(wr, buf, 20), -EAGAIN);
	/* Larger than PIPE_BUF: as much as fits. */
	KEXPECT_EQ(t, vfs_write(wr, buf, PIPE_BUF + 1), 10);
	KEXPECT_EQ(t, vfs_write(wr, buf, PIPE_BUF + 1), -EAGAIN);
	/* Reading across the ring's wrap-around point. */
	KEXPECT_EQ(t, vfs_read(rd, buf, 100), 100);
	KEXPECT_EQ(t, vfs_write(wr, "0123456789", 10), 10);
	KEXPECT_EQ(t, vfs_read(rd, buf, PIPE_CAPACITY + 100), PIPE_CAPACITY - 90);
	KEXPECT_EQ(t, memcmp(buf + PIPE_CAPACITY - 100, "0123456789", 10), 0);
	file_put(rd);
	file_put(wr);
	kfree(buf);
}

static void pipe_ends_refuse_the_wrong_direction_and_seeks(struct ktest *t)
{
	struct file *rd, *wr;
	char c;

	KASSERT_EQ(t, pipe_create(O_NONBLOCK, &rd, &wr), 0);
	KEXPECT_EQ(t, vfs_read(wr, &c, 1), -EBADF);
	KEXPECT_EQ(t, vfs_write(rd, "x", 1), -EBADF);
	KEXPECT_EQ(t, vfs_lseek(rd, 0, SEEK_SET), -ESPIPE);
	KEXPECT_EQ(t, wr->flags & O_ACCMODE, O_WRONLY);
	KEXPECT_TRUE(t, wr->flags & O_NONBLOCK);
	file_put(wr);
	file_put(rd);
}

static const struct ktest_case pipe_cases[] = {
	KTEST_CASE(pipe_write_then_read_returns_the_bytes),
	KTEST_CASE(pipe_read_after_last_writer_closes_is_eof),
	KTEST_CASE(pipe_write_without_readers_is_epipe),
	KTEST_CASE(pipe_full_nonblocking_write_is_partial_then_eagain),
	KTEST_CASE(pipe_ends_refuse_the_wrong_direction_and_seeks),
};
KTEST_SUITE(pipe, pipe_cases);
