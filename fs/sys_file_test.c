/* Tests of read(2) and write(2) on user buffers that are huge, untouched,
 * or cut short by an unmapped page (fs/sys_file.c): the kernel moves
 * them a bounded chunk at a time, reports a partial count at a fault (or
 * -EFAULT if nothing moved) as Linux does, loses no data to a bad buffer,
 * and a device that discards writes is never handed the bytes.
 *
 * The calls go through the system-call table, as the dispatcher makes
 * them, from the boot context (whose descriptor table is otherwise
 * unused), with user buffers in a fresh active address space. */
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>

extern const struct syscall_entry *const __syscalls_start[], *const __syscalls_end[];

#define UBASE 0x0000100000000000UL
#define P PAGE_SIZE
#define MAX_RW_COUNT (0x7fffffffUL & ~(P - 1))
#define SYS_pread64_nr 17
#define SYS_pwrite64_nr 18
#define SYS_pipe_nr 22

static long call_array(unsigned int nr, const uint64_t a[6])
{
	for (const struct syscall_entry *const *e = __syscalls_start; e < __syscalls_end; e++) {
		if ((*e)->nr == nr) {
			struct syscall_args args = { { a[0], a[1], a[2], a[3], a[4], a[5] }, NULL };
			return (*e)->fn(&args);
		}
	}
	return -ENOSYS;
}
#define SYSCALL(nr, ...) call_array(nr, (const uint64_t[6]){ __VA_ARGS__ })

static long map_anon(struct mm_struct *mm, uintptr_t addr, size_t len)
{
	return do_mmap(mm, addr, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, NULL, 0);
}

/* Open path (kernel string) as fd in the current task. */
static int open_fd(const char *path, unsigned int flags)
{
	int err;
	struct file *f = vfs_open("/", path, flags, 0644, &err);

	if (!f)
		return err;
	err = fd_install(current, f);
	if (err < 0)
		file_put(f);
	return err;
}

/* A ramfs file holding n bytes of 'a' .. 'z' repeating; its fd. */
static int file_with_bytes(struct ktest *t, const char *path, size_t n)
{
	char buf[256];
	int fd = open_fd(path, O_RDWR | O_CREAT | O_TRUNC);

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = 'a' + i % 26;
	for (size_t done = 0; fd >= 0 && done < n;) {
		size_t k = MIN(n - done, sizeof(buf));
		struct file *f = fd_get(fd);
		ssize_t w = vfs_write(f, buf, k);
		file_put(f);
		if (w <= 0) {
			ktest_fail(t, __FILE__, __LINE__, "cannot fill %s", path);
			break;
		}
		done += w;
	}
	if (fd >= 0) {
		struct file *f = fd_get(fd);
		f->pos = 0;
		file_put(f);
	}
	return fd;
}

static int64_t file_size(int fd)
{
	struct file *f = fd_get(fd);
	int64_t size = f && f->inode ? (int64_t)f->inode->size : -1;

	file_put(f);
	return size;
}

static int64_t file_pos(int fd)
{
	struct file *f = fd_get(fd);
	int64_t pos = f ? (int64_t)f->pos : -1;

	file_put(f);
	return pos;
}

/* Close fd and remove path (NULL: none), so the file's memory is freed. */
static void close_and_remove(struct ktest *t, int fd, const char *path)
{
	KEXPECT_EQ(t, fd_close(current, fd), 0);
	if (path)
		KEXPECT_EQ(t, vfs_unlink_at(NULL, path, false), 0);
}

/* Give /tmp its directory array before a case measures memory: a first
 * file in /tmp allocates it, and it stays after the file goes. */
static void warm_up_tmp(void)
{
	int fd = open_fd("/tmp/rwtest-warm", O_RDWR | O_CREAT);

	if (fd >= 0) {
		fd_close(current, fd);
		vfs_unlink_at(NULL, "/tmp/rwtest-warm", false);
	}
}

/* A case in a fresh active mm, with the leak check of ktest_run_in_mm. */
#define SYSFILE_CASE(name)                                                     \
	static void name##_body(struct ktest *t, struct mm_struct *mm);        \
	static void name(struct ktest *t)                                      \
	{                                                                      \
		warm_up_tmp();                                                 \
		ktest_run_in_mm(t, name##_body, true);                         \
	}                                                                      \
	static void name##_body(struct ktest *t, struct mm_struct *mm)

/* The buffer ends 100 bytes before an unmapped page: 100 bytes go, and
 * the call says so; with nothing mapped, -EFAULT and nothing changes. */
SYSFILE_CASE(write_from_a_buffer_cut_by_a_hole_writes_up_to_the_hole)
{
	int fd = open_fd("/tmp/rwtest-write", O_RDWR | O_CREAT | O_TRUNC);
	char c = 'q';

	KASSERT_GE(t, fd, 0);
	KASSERT_EQ(t, map_anon(mm, UBASE, P), (long)UBASE);
	for (size_t i = 0; i < 100; i++)
		KASSERT_EQ(t, copy_to_user((void *)(UBASE + P - 100 + i), &c, 1), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_write, fd, UBASE + P - 100, 300), 100);
	KEXPECT_EQ(t, file_size(fd), 100);
	KEXPECT_EQ(t, SYSCALL(SYS_write, fd, UBASE + 5 * P, 10), -EFAULT);
	KEXPECT_EQ(t, SYSCALL(SYS_pwrite64_nr, fd, UBASE + 5 * P, 10, 0), -EFAULT);
	KEXPECT_EQ(t, file_size(fd), 100);
	KEXPECT_EQ(t, SYSCALL(SYS_write, fd, UBASE, 0), 0);
	close_and_remove(t, fd, "/tmp/rwtest-write");
}

SYSFILE_CASE(read_into_a_buffer_cut_by_a_hole_reads_up_to_the_hole)
{
	int fd = file_with_bytes(t, "/tmp/rwtest-read", 300);
	char got[2] = { 0 };

	KASSERT_GE(t, fd, 0);
	KASSERT_EQ(t, map_anon(mm, UBASE, P), (long)UBASE);
	KEXPECT_EQ(t, SYSCALL(SYS_read, fd, UBASE + P - 100, 300), 100);
	KEXPECT_EQ(t, file_pos(fd), 100); /* moved by what was delivered */
	KEXPECT_EQ(t, copy_from_user(got, (const void *)(UBASE + P - 2), 2), 0);
	KEXPECT_EQ(t, got[0], 'a' + 98 % 26);
	KEXPECT_EQ(t, SYSCALL(SYS_read, fd, UBASE + 5 * P, 10), -EFAULT);
	KEXPECT_EQ(t, file_pos(fd), 100);
	KEXPECT_EQ(t, SYSCALL(SYS_pread64_nr, fd, UBASE + P - 10, 300, 0), 10);
	close_and_remove(t, fd, "/tmp/rwtest-read");
}

/* A pipe's bytes are not taken by a read that cannot deliver them. */
SYSFILE_CASE(read_from_a_pipe_into_a_bad_buffer_leaves_the_bytes_in_the_pipe)
{
	int fds[2] = { -1, -1 };
	char msg[5] = "hello", back[5] = { 0 };
	struct file *f;

	KASSERT_EQ(t, map_anon(mm, UBASE, P), (long)UBASE);
	KASSERT_EQ(t, SYSCALL(SYS_pipe_nr, UBASE), 0);
	KASSERT_EQ(t, copy_from_user(fds, (const void *)UBASE, sizeof(fds)), 0);
	f = fd_get(fds[0]);
	KASSERT_NOT_NULL(t, f);
	f->flags |= O_NONBLOCK; /* an empty pipe says -EAGAIN, never blocks the test */
	file_put(f);
	KASSERT_EQ(t, copy_to_user((void *)(UBASE + 64), msg, 5), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_write, fds[1], UBASE + 64, 5), 5);
	KEXPECT_EQ(t, SYSCALL(SYS_read, fds[0], UBASE + 7 * P, 5), -EFAULT);
	KEXPECT_EQ(t, SYSCALL(SYS_read, fds[0], UBASE + 128, 5), 5);
	KEXPECT_EQ(t, copy_from_user(back, (const void *)(UBASE + 128), 5), 0);
	KEXPECT_EQ(t, memcmp(back, msg, 5), 0);
	fd_close(current, fds[0]);
	fd_close(current, fds[1]);
}

/* 2 GiB of untouched memory written to /dev/zero: the count comes back
 * (capped as Linux caps one transfer) and not one page was touched. */
SYSFILE_CASE(write_of_2gib_to_dev_zero_touches_no_page)
{
	int fd = open_fd("/dev/zero", O_RDWR);
	struct pt_lookup_result r;
	uint64_t frames;

	KASSERT_GE(t, fd, 0);
	KASSERT_EQ(t, map_anon(mm, UBASE, 2UL << 30), (long)UBASE);
	frames = ktest_free_frames();
	KEXPECT_EQ(t, SYSCALL(SYS_pwrite64_nr, fd, UBASE, 2UL << 30, 0), (long)MAX_RW_COUNT);
	KEXPECT_EQ(t, SYSCALL(SYS_write, fd, UBASE, 2UL << 30), (long)MAX_RW_COUNT);
	KEXPECT_EQ(t, pt_lookup(mm->pgd, UBASE, &r), -ENOENT);
	KEXPECT_EQ(t, ktest_free_frames(), frames);
	/* Outside the user half it is still -EFAULT, as Linux checks first. */
	KEXPECT_EQ(t, SYSCALL(SYS_write, fd, 0xffff800000000000UL, 16), -EFAULT);
	KEXPECT_EQ(t, fd_close(current, fd), 0);
}

/* A read from /dev/zero fills the whole count, over many chunks. */
SYSFILE_CASE(read_of_dev_zero_fills_the_whole_count)
{
	int fd = open_fd("/dev/zero", O_RDONLY);
	size_t len = 5 * 65536 + 123;
	uint8_t last = 0xff, ff = 0xff;

	KASSERT_GE(t, fd, 0);
	KASSERT_EQ(t, map_anon(mm, UBASE, ALIGN_UP(len, P)), (long)UBASE);
	KASSERT_EQ(t, copy_to_user((void *)(UBASE + len - 1), &ff, 1), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_read, fd, UBASE, len), (long)len);
	KEXPECT_EQ(t, copy_from_user(&last, (const void *)(UBASE + len - 1), 1), 0);
	KEXPECT_EQ(t, last, 0);
	KEXPECT_EQ(t, fd_close(current, fd), 0);
}

/* A big write from untouched memory to a file costs the file's pages,
 * not a kernel copy of the whole buffer: the buffer reads as the zero
 * page and the kernel holds one chunk at a time. */
SYSFILE_CASE(write_of_untouched_megabytes_to_a_file_costs_only_the_file)
{
	int fd = open_fd("/tmp/rwtest-big", O_RDWR | O_CREAT | O_TRUNC);
	size_t len = 4UL << 20;
	uint64_t frames, tables;

	KASSERT_GE(t, fd, 0);
	KASSERT_EQ(t, map_anon(mm, UBASE, len), (long)UBASE);
	frames = ktest_free_frames();
	tables = pt_table_pages();
	KEXPECT_EQ(t, SYSCALL(SYS_write, fd, UBASE, len), (long)len);
	KEXPECT_EQ(t, file_size(fd), (int64_t)len);
	/* The file's data (ramfs keeps it in whole pages, with some index),
	 * the buffer's page tables, and no more than 8 pages besides. */
	KEXPECT_LE(t, frames - ktest_free_frames(),
		   len / P + (pt_table_pages() - tables) + len / P / 64 + 8);
	close_and_remove(t, fd, "/tmp/rwtest-big");
}

static const struct ktest_case sysfile_cases[] = {
	KTEST_CASE(write_from_a_buffer_cut_by_a_hole_writes_up_to_the_hole),
	KTEST_CASE(read_into_a_buffer_cut_by_a_hole_reads_up_to_the_hole),
	KTEST_CASE(read_from_a_pipe_into_a_bad_buffer_leaves_the_bytes_in_the_pipe),
	KTEST_CASE(write_of_2gib_to_dev_zero_touches_no_page),
	KTEST_CASE(read_of_dev_zero_fills_the_whole_count),
	KTEST_CASE(write_of_untouched_megabytes_to_a_file_costs_only_the_file),
};
KTEST_SUITE(sysfile, sysfile_cases);
