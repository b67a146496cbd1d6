/* The file system calls, with Linux's x86-64 ABI and errno values.
 *
 * User memory is touched only through the uaccess helpers. Data moves
 * between user memory and a file through a kernel bounce buffer of at
 * most BOUNCE_SIZE bytes, since file operations take kernel buffers
 * (include/pagoda/file.h): a 2 GiB write is 32768 chunks, never 2 GiB of
 * kernel memory. Paths are copied in whole (PATH_MAX) first.
 *
 * Relative paths resolve from the cwd string in struct task, or from a
 * directory fd in the *at() calls. Permissions are not checked: every
 * process is root. The umask is fixed at 022. */
#include <pagoda/compiler.h>
#include <pagoda/errno.h>
#include <pagoda/fs_struct.h>
#include <pagoda/fdtable.h>
#include <pagoda/mm.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>

#ifndef SYS_truncate
#define SYS_truncate 76
#endif
#ifndef SYS_ftruncate
#define SYS_ftruncate 77
#endif
#ifndef SYS_fchdir
#define SYS_fchdir 81
#endif
#ifndef SYS_symlink
#define SYS_symlink 88
#endif
#ifndef SYS_rename
#define SYS_rename 82
#endif
#ifndef SYS_rmdir
#define SYS_rmdir 84
#endif
#ifndef SYS_unlink
#define SYS_unlink 87
#endif
#ifndef SYS_chmod
#define SYS_chmod 90
#endif
#ifndef SYS_fchmod
#define SYS_fchmod 91
#endif
#ifndef SYS_unlinkat
#define SYS_unlinkat 263
#endif
#ifndef SYS_renameat
#define SYS_renameat 264
#endif
#ifndef SYS_fchmodat
#define SYS_fchmodat 268
#endif
#ifndef SYS_renameat2
#define SYS_renameat2 316
#endif
#ifndef SYS_symlinkat
#define SYS_symlinkat 266
#endif

#define BOUNCE_SIZE (64 * 1024)
#define MAX_RW_COUNT (0x7fffffffUL & PAGE_MASK) /* Linux's cap on one transfer */
#define IOV_MAX 1024
#define UMASK 022

#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1
#define O_ASYNC 020000
#define O_NOATIME 01000000
#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

#define FIONBIO 0x5421
#define FIONCLEX 0x5450
#define FIOCLEX 0x5451

#define AT_NO_AUTOMOUNT 0x800
#define AT_STATX_SYNC_TYPE 0x6000 /* accepted by fstatat, meaningless here */
#define AT_EACCESS 0x200
#define AT_REMOVEDIR 0x200
#define X_OK 1

struct iovec {
	void *iov_base;
	size_t iov_len;
};

/* Linux's x86-64 struct stat (arch/x86/include/uapi/asm/stat.h). */
struct linux_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint32_t st_mode;
	uint32_t st_uid;
	uint32_t st_gid;
	uint32_t __pad0;
	uint64_t st_rdev;
	int64_t st_size;
	int64_t st_blksize;
	int64_t st_blocks;
	uint64_t st_atime, st_atime_nsec;
	uint64_t st_mtime, st_mtime_nsec;
	uint64_t st_ctime, st_ctime_nsec;
	int64_t reserved[3];
};
BUILD_BUG_ON(sizeof(struct linux_stat) != 144);

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

/* --- helpers --- */

char *path_from_user(uint64_t upath, int *err)
{
	char *buf = kmalloc(PATH_MAX, GFP_KERNEL);
	long n;

	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	n = strncpy_from_user(buf, (const char *)upath, PATH_MAX);
	*err = n < 0 ? -EFAULT : n >= PATH_MAX ? -ENAMETOOLONG : 0;
	if (*err) {
		kfree(buf);
		return NULL;
	}
	return buf;
}

/* The current directory, copied into buf (CWD_MAX bytes). */
static const char *cwd_path(char *buf)
{
	return fs_cwd(current, buf);
}

/* The directory an *at() call resolves path from: dirfd's, or the cwd
 * for AT_FDCWD; unused for an absolute path. */
static int at_base(int dirfd, const char *path, struct inode **base)
{
	struct file *f;

	*base = NULL;
	if (path[0] == '/')
		return 0;
	if (dirfd == AT_FDCWD) {
		char cwd[CWD_MAX];
		return vfs_lookup_at(NULL, cwd_path(cwd), false, base);
	}
	f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	*base = f->inode;
	file_put(f);
	return *base && S_ISDIR((*base)->mode) ? 0 : -ENOTDIR;
}

/* The two halves of every *at() call's path argument: the path, copied
 * in, and the directory it is relative to. */
struct at_path {
	char *path;         /* kmalloc'ed, PATH_MAX bytes */
	struct inode *base; /* NULL: absolute, or not resolved yet */
};

static void at_path_put(struct at_path *ap)
{
	kfree(ap->path);
	ap->path = NULL;
}

/* The two steps, for a call with two paths (Linux copies both in before
 * it resolves either): copy upath in (0 or its errno, nothing held), then
 * find its base from dirfd (0 or its errno; the path is released). */
static int at_path_copy(struct at_path *ap, uint64_t upath)
{
	int err;

	ap->base = NULL;
	ap->path = path_from_user(upath, &err);
	return ap->path ? 0 : err;
}

static int at_path_resolve(struct at_path *ap, int dirfd)
{
	int err = at_base(dirfd, ap->path, &ap->base);

	if (err < 0)
		at_path_put(ap);
	return err;
}

/* Both steps: 0, or the errno of the first that failed (nothing held).
 * Release with at_path_put(). */
static int at_path_get(struct at_path *ap, int dirfd, uint64_t upath)
{
	int err = at_path_copy(ap, upath);

	return err ? err : at_path_resolve(ap, dirfd);
}

/* Resolve a user path for an *at() call into an inode. */
static int user_lookup_at(int dirfd, uint64_t upath, bool nofollow, struct inode **out)
{
	struct at_path ap;
	int err = at_path_get(&ap, dirfd, upath);

	if (err)
		return err;
	err = vfs_lookup_at(ap.base, ap.path, nofollow, out);
	at_path_put(&ap);
	return err;
}

/* --- read and write --- */

/* One read of up to n bytes from f (at *pos for pread, else at the file
 * position) into user memory at ubuf, through the bounce buffer kbuf.
 * Only as much is read as the user memory can take (fault_in_writeable()),
 * so that a bad buffer never swallows data: a pipe keeps it, a file
 * position moves by what was delivered. Returns the count, 0 at end of
 * file, -EFAULT if not one byte of ubuf is writable, or the file's error. */
static ssize_t read_chunk(struct file *f, char *ubuf, size_t n, uint64_t *pos, char *kbuf)
{
	size_t room = n ? fault_in_writeable((uintptr_t)ubuf, n) : 0;
	ssize_t r;

	if (n && !room)
		return -EFAULT;
	r = pos ? vfs_pread(f, kbuf, room, *pos) : vfs_read(f, kbuf, room);
	if (r > 0 && copy_to_user_partial(ubuf, kbuf, r) != (size_t)r)
		return -EFAULT; /* cannot happen: room was made writable above */
	if (r > 0 && pos)
		*pos += r;
	return r;
}

/* Move up to n bytes from f to user memory at ubuf, BOUNCE_SIZE at a
 * time. Regular files and devices that never block are read chunk after
 * chunk; anything else (a pipe, a terminal) gets one call, so that a read
 * never blocks after it has data. A fault in ubuf ends the read with the
 * count so far, or -EFAULT if nothing was read (Linux's semantics). pos:
 * NULL for the file position, else pread's position. */
static ssize_t read_to_user(struct file *f, char *ubuf, size_t n, uint64_t *pos)
{
	bool loop = (f->inode && S_ISREG(f->inode->mode)) || (f->f_op && f->f_op->never_blocks);
	size_t done = 0;
	ssize_t r;
	char *kbuf;

	if (!access_ok(ubuf, n))
		return -EFAULT;
	n = MIN(n, MAX_RW_COUNT);
	kbuf = kmalloc(MAX(MIN(n, (size_t)BOUNCE_SIZE), (size_t)1), GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	do {
		size_t chunk = MIN(n - done, (size_t)BOUNCE_SIZE);

		r = read_chunk(f, ubuf + done, chunk, pos, kbuf);
		if (r <= 0)
			break;
		done += r;
		if ((size_t)r < chunk)
			break;
	} while (loop && done < n && !fatal_signal_pending(current));
	kfree(kbuf);
	return done ? (ssize_t)done : r;
}

/* Move up to n bytes from user memory at ubuf to f, BOUNCE_SIZE at a
 * time: the kernel never holds more of the buffer than one chunk. Stops
 * at a short write; a fault in ubuf writes the bytes before it and ends
 * the call with the count so far, or -EFAULT if there was none (Linux's
 * semantics). A device that discards writes is not given the bytes at
 * all. pos as for read_to_user(). */
static ssize_t write_from_user(struct file *f, const char *ubuf, size_t n, uint64_t *pos)
{
	size_t done = 0;
	ssize_t r;
	char *kbuf;

	if (!access_ok(ubuf, n))
		return -EFAULT;
	n = MIN(n, MAX_RW_COUNT);
	if (f->f_op && f->f_op->discards_writes)
		return pos ? vfs_pwrite(f, NULL, n, *pos) : vfs_write(f, NULL, n);
	kbuf = kmalloc(MAX(MIN(n, (size_t)BOUNCE_SIZE), (size_t)1), GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	do {
		size_t chunk = MIN(n - done, (size_t)BOUNCE_SIZE);
		size_t got = copy_from_user_partial(kbuf, ubuf + done, chunk);

		if (chunk && !got) {
			r = -EFAULT;
			break;
		}
		r = pos ? vfs_pwrite(f, kbuf, got, *pos) : vfs_write(f, kbuf, got);
		if (r <= 0)
			break;
		done += r;
		if (pos)
			*pos += r;
		if ((size_t)r < chunk)
			break; /* a short write, or the fault that cut the chunk */
	} while (done < n);
	kfree(kbuf);
	return done ? (ssize_t)done : r;
}

SYSCALL_DEFINE(SYS_read, read)
{
	struct file *f = fd_get(ARG(0));
	ssize_t r;

	if (!f)
		return -EBADF;
	r = read_to_user(f, (char *)ARG(1), ARG(2), NULL);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(SYS_write, write)
{
	struct file *f = fd_get(ARG(0));
	ssize_t r;

	if (!f)
		return -EBADF;
	r = write_from_user(f, (const char *)ARG(1), ARG(2), NULL);
	file_put(f);
	return r;
}

/* pread64 and pwrite64: positioned; pipes and driver files cannot be. */
static long positioned_rw(const struct syscall_args *args, bool write)
{
	struct file *f = fd_get(ARG(0));
	uint64_t pos = ARG(3);
	ssize_t r;

	if (!f)
		return -EBADF;
	if ((int64_t)pos < 0)
		r = -EINVAL;
	else if (file_is_pipe(f) || !f->inode)
		r = -ESPIPE;
	else if (write)
		r = write_from_user(f, (const char *)ARG(1), ARG(2), &pos);
	else
		r = read_to_user(f, (char *)ARG(1), ARG(2), &pos);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(SYS_pread64, pread64)
{
	return positioned_rw(args, false);
}

SYSCALL_DEFINE(SYS_pwrite64, pwrite64)
{
	return positioned_rw(args, true);
}

/* readv and writev: the vectors in order, stopping at a short transfer. */
static long vectored_rw(const struct syscall_args *args, bool write)
{
	int cnt = ARG(2);
	struct file *f;
	struct iovec *iov;
	size_t total = 0, done = 0;
	ssize_t r = 0;

	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	f = fd_get(ARG(0));
	if (!f)
		return -EBADF;
	iov = kmalloc(MAX(cnt, 1) * sizeof(*iov), GFP_KERNEL);
	if (!iov) {
		r = -ENOMEM;
		goto out;
	}
	if (copy_from_user(iov, (const void *)ARG(1), cnt * sizeof(*iov))) {
		r = -EFAULT;
		goto out;
	}
	for (int i = 0; i < cnt; i++)
		if (__builtin_add_overflow(total, iov[i].iov_len, &total) || (ssize_t)total < 0) {
			r = -EINVAL;
			goto out;
		}
	for (int i = 0; i < cnt; i++) {
		if (!iov[i].iov_len)
			continue;
		r = write ? write_from_user(f, iov[i].iov_base, iov[i].iov_len, NULL)
			  : read_to_user(f, iov[i].iov_base, iov[i].iov_len, NULL);
		if (r <= 0)
			break;
		done += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
out:
	kfree(iov);
	file_put(f);
	return done ? (long)done : r;
}

SYSCALL_DEFINE(SYS_readv, readv)
{
	return vectored_rw(args, false);
}

SYSCALL_DEFINE(SYS_writev, writev)
{
	return vectored_rw(args, true);
}

SYSCALL_DEFINE(SYS_lseek, lseek)
{
	struct file *f = fd_get(ARG(0));
	int64_t r;

	if (!f)
		return -EBADF;
	r = vfs_lseek(f, (int64_t)ARG(1), (int)ARG(2));
	file_put(f);
	return r;
}

/* --- open and close --- */

static long do_openat(int dirfd, uint64_t upath, unsigned int flags, uint32_t mode)
{
	struct at_path ap;
	struct file *f;
	int err = at_path_get(&ap, dirfd, upath);

	if (err)
		return err;
	f = vfs_open_at(ap.base, ap.path, flags, mode & 07777 & ~UMASK, &err);
	if (f) {
		err = fd_install_from(current, f, 0, flags & O_CLOEXEC);
		if (err < 0)
			file_put(f);
	}
	at_path_put(&ap);
	return err;
}

SYSCALL_DEFINE(SYS_open, open)
{
	return do_openat(AT_FDCWD, ARG(0), ARG(1), ARG(2));
}

SYSCALL_DEFINE(SYS_openat, openat)
{
	return do_openat(ARG(0), ARG(1), ARG(2), ARG(3));
}

SYSCALL_DEFINE(SYS_close, close)
{
	return fd_close(current, ARG(0));
}

/* --- stat --- */

static void fill_stat(struct linux_stat *st, struct file *f, struct inode *inode)
{
	memset(st, 0, sizeof(*st));
	st->st_blksize = PAGE_SIZE;
	st->st_nlink = 1;
	if (!inode) {
		/* A pipe or a driver's anonymous file: no inode behind it. */
		st->st_dev = 3;
		st->st_ino = (uintptr_t)f >> 4;
		st->st_mode = file_is_pipe(f) ? S_IFIFO | 0600 : 0600;
		return;
	}
	st->st_dev = ramfs_owns(inode) ? 1 : 2;
	st->st_ino = inode->ino;
	st->st_nlink = inode->nlink;
	st->st_mode = inode->mode;
	st->st_rdev = inode->rdev;
	st->st_size = inode->size;
	st->st_blocks = (inode->size + 511) / 512;
	st->st_atime = st->st_mtime = st->st_ctime = inode->mtime;
}

static long stat_to_user(uint64_t ubuf, struct file *f, struct inode *inode)
{
	struct linux_stat st;

	fill_stat(&st, f, inode);
	return copy_to_user((void *)ubuf, &st, sizeof(st)) ? -EFAULT : 0;
}

static long do_fstat(int fd, uint64_t ubuf)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = stat_to_user(ubuf, f, f->inode);
	file_put(f);
	return r;
}

static long do_fstatat(int dirfd, uint64_t upath, uint64_t ubuf, unsigned int flags)
{
	struct inode *inode;
	char c;
	int err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if (copy_from_user(&c, (const void *)upath, 1))
		return -EFAULT;
	if (!c && (flags & AT_EMPTY_PATH)) {
		char cwd[CWD_MAX];
		if (dirfd != AT_FDCWD)
			return do_fstat(dirfd, ubuf);
		err = vfs_lookup_at(NULL, cwd_path(cwd), false, &inode);
	} else {
		err = user_lookup_at(dirfd, upath, flags & AT_SYMLINK_NOFOLLOW, &inode);
	}
	return err ? err : stat_to_user(ubuf, NULL, inode);
}

SYSCALL_DEFINE(SYS_stat, stat)
{
	return do_fstatat(AT_FDCWD, ARG(0), ARG(1), 0);
}

SYSCALL_DEFINE(SYS_lstat, lstat)
{
	return do_fstatat(AT_FDCWD, ARG(0), ARG(1), AT_SYMLINK_NOFOLLOW);
}

SYSCALL_DEFINE(SYS_fstat, fstat)
{
	return do_fstat(ARG(0), ARG(1));
}

SYSCALL_DEFINE(SYS_newfstatat, newfstatat)
{
	return do_fstatat(ARG(0), ARG(1), ARG(2), ARG(3));
}

/* --- directories --- */

struct dirent_ctx {
	struct file *f;
	char *buf;
	size_t size, used;
	bool full;
};

static bool dirent_emit(void *ctx, const char *name, size_t len, uint64_t ino,
			unsigned int type)
{
	struct dirent_ctx *c = ctx;
	size_t reclen = ALIGN_UP(offsetof(struct linux_dirent64, d_name) + len + 1, 8);
	struct linux_dirent64 *d = (struct linux_dirent64 *)(c->buf + c->used);

	if (c->used + reclen > c->size) {
		c->full = true;
		return false;
	}
	memset(d, 0, reclen);
	d->d_ino = ino;
	d->d_off = c->f->pos + 1;
	d->d_reclen = reclen;
	d->d_type = type;
	memcpy(d->d_name, name, len);
	c->used += reclen;
	return true;
}

SYSCALL_DEFINE(SYS_getdents64, getdents64)
{
	struct dirent_ctx c = { 0 };
	long r;

	c.f = fd_get(ARG(0));
	if (!c.f)
		return -EBADF;
	c.size = MIN(ARG(2), (uint64_t)BOUNCE_SIZE);
	c.buf = c.size ? kmalloc(c.size, GFP_KERNEL) : NULL;
	if (!c.size)
		r = -EINVAL;
	else if (!c.buf)
		r = -ENOMEM;
	else if (!access_ok((void *)ARG(1), c.size))
		r = -EFAULT;
	else
		r = vfs_iterate(c.f, dirent_emit, &c);
	if (r == 0 && !c.used && c.full)
		r = -EINVAL; /* not even one entry fits */
	else if (r == 0 && copy_to_user((void *)ARG(1), c.buf, c.used))
		r = -EFAULT;
	else if (r == 0)
		r = c.used;
	kfree(c.buf);
	file_put(c.f);
	return r;
}

static long do_mkdirat(int dirfd, uint64_t upath, uint32_t mode)
{
	struct at_path ap;
	int err = at_path_get(&ap, dirfd, upath);

	if (err)
		return err;
	err = vfs_mkdir_at(ap.base, ap.path, mode & 07777 & ~UMASK);
	at_path_put(&ap);
	return err;
}

SYSCALL_DEFINE(SYS_mkdir, mkdir)
{
	return do_mkdirat(AT_FDCWD, ARG(0), ARG(1));
}

SYSCALL_DEFINE(SYS_mkdirat, mkdirat)
{
	return do_mkdirat(ARG(0), ARG(1), ARG(2));
}

/* Make dir the current directory, stored as its absolute path. */
static long set_cwd(struct inode *dir)
{
	char *buf;
	int n;

	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = vfs_inode_path(dir, buf, PATH_MAX);
	if (n >= 0)
		n = fs_set_cwd(current, buf);
	kfree(buf);
	return n < 0 ? n : 0;
}

SYSCALL_DEFINE(SYS_chdir, chdir)
{
	struct inode *dir;
	int err = user_lookup_at(AT_FDCWD, ARG(0), false, &dir);

	return err ? err : set_cwd(dir);
}

SYSCALL_DEFINE(SYS_fchdir, fchdir)
{
	struct file *f = fd_get(ARG(0));
	long r;

	if (!f)
		return -EBADF;
	r = f->inode ? set_cwd(f->inode) : -ENOTDIR;
	file_put(f);
	return r;
}

/* getcwd returns the length with the NUL, as the system call (not the
 * libc function) does. */
SYSCALL_DEFINE(SYS_getcwd, getcwd)
{
	char buf[CWD_MAX];
	const char *cwd = cwd_path(buf);
	size_t len = strlen(cwd) + 1;

	if (ARG(1) < len)
		return -ERANGE;
	return copy_to_user((void *)ARG(0), cwd, len) ? -EFAULT : (long)len;
}

/* --- descriptors --- */

SYSCALL_DEFINE(SYS_dup, dup)
{
	struct file *f = fd_get(ARG(0));
	int fd;

	if (!f)
		return -EBADF;
	fd = fd_install(current, f);
	if (fd < 0)
		file_put(f);
	return fd;
}

static long do_dup3(int oldfd, int newfd, unsigned int flags)
{
	struct file *f;

	if (newfd < 0 || newfd >= TASK_MAX_FDS)
		return -EBADF;
	f = fd_get(oldfd);
	if (!f)
		return -EBADF;
	if (oldfd == newfd) { /* dup2 only: dup3 refused it earlier */
		file_put(f);
		return newfd;
	}
	return fd_install_at(current, newfd, f, flags & O_CLOEXEC);
}

SYSCALL_DEFINE(SYS_dup2, dup2)
{
	return do_dup3(ARG(0), ARG(1), 0);
}

SYSCALL_DEFINE(SYS_dup3, dup3)
{
	if (ARG(2) & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	if ((int)ARG(0) == (int)ARG(1))
		return -EINVAL;
	return do_dup3(ARG(0), ARG(1), ARG(2));
}

static long do_pipe2(uint64_t ufds, unsigned int flags)
{
	struct file *rd, *wr;
	int fds[2], err;

	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	err = pipe_create(flags, &rd, &wr);
	if (err)
		return err;
	fds[0] = fd_install_from(current, rd, 0, flags & O_CLOEXEC);
	if (fds[0] < 0) {
		file_put(rd);
		file_put(wr);
		return fds[0];
	}
	fds[1] = fd_install_from(current, wr, 0, flags & O_CLOEXEC);
	if (fds[1] < 0) {
		fd_close(current, fds[0]);
		file_put(wr);
		return fds[1];
	}
	if (copy_to_user((void *)ufds, fds, sizeof(fds))) {
		fd_close(current, fds[0]);
		fd_close(current, fds[1]);
		return -EFAULT;
	}
	return 0;
}

SYSCALL_DEFINE(SYS_pipe, pipe)
{
	return do_pipe2(ARG(0), 0);
}

SYSCALL_DEFINE(SYS_pipe2, pipe2)
{
	return do_pipe2(ARG(0), ARG(1));
}

static long fcntl_file(int fd, struct file *f, unsigned int cmd, uint64_t arg)
{
	switch (cmd) {
	case F_GETFD:
		return fd_get_cloexec(current, fd) ? FD_CLOEXEC : 0;
	case F_SETFD:
		fd_set_cloexec(current, fd, arg & FD_CLOEXEC);
		return 0;
	case F_GETFL:
		return f->flags;
	case F_SETFL:
		f->flags = (f->flags & ~SETFL_MASK) | (arg & SETFL_MASK);
		return 0;
	default:
		return -EINVAL;
	}
}

SYSCALL_DEFINE(SYS_fcntl, fcntl)
{
	int fd = ARG(0);
	unsigned int cmd = ARG(1);
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		r = ARG(2) >= TASK_MAX_FDS ? -EINVAL
					   : fd_install_from(current, f, ARG(2), cmd == F_DUPFD_CLOEXEC);
		if (r < 0)
			file_put(f);
		return r; /* on success the new fd holds the reference */
	}
	r = fcntl_file(fd, f, cmd, ARG(2));
	file_put(f);
	return r;
}

SYSCALL_DEFINE(SYS_ioctl, ioctl)
{
	int fd = ARG(0), on;
	unsigned int cmd = ARG(1);
	struct file *f = fd_get(fd);
	long r = 0;

	if (!f)
		return -EBADF;
	if (cmd == FIOCLEX || cmd == FIONCLEX) {
		fd_set_cloexec(current, fd, cmd == FIOCLEX);
	} else if (cmd == FIONBIO) {
		r = copy_from_user(&on, (const void *)ARG(2), sizeof(on)) ? -EFAULT : 0;
		if (!r)
			f->flags = on ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
	} else {
		r = f->f_op && f->f_op->ioctl ? f->f_op->ioctl(f, cmd, ARG(2)) : -ENOTTY;
	}
	file_put(f);
	return r;
}

SYSCALL_DEFINE(SYS_umask, umask)
{
	return UMASK;
}

/* --- access, readlink, truncate --- */

/* Every process is root: a file exists, and X_OK needs an execute bit on
 * anything but a directory. */
static long do_faccessat(int dirfd, uint64_t upath, unsigned int mode, unsigned int flags)
{
	struct inode *inode;
	int err;

	if (mode & ~7u)
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = user_lookup_at(dirfd, upath, flags & AT_SYMLINK_NOFOLLOW, &inode);
	if (err)
		return err;
	if ((mode & X_OK) && !S_ISDIR(inode->mode) && !(inode->mode & 0111))
		return -EACCES;
	return 0;
}

SYSCALL_DEFINE(SYS_access, access)
{
	return do_faccessat(AT_FDCWD, ARG(0), ARG(1), 0);
}

SYSCALL_DEFINE(SYS_faccessat, faccessat)
{
	return do_faccessat(ARG(0), ARG(1), ARG(2), 0);
}

SYSCALL_DEFINE(SYS_faccessat2, faccessat2)
{
	return do_faccessat(ARG(0), ARG(1), ARG(2), ARG(3));
}

static long do_readlinkat(int dirfd, uint64_t upath, uint64_t ubuf, int bufsiz)
{
	struct at_path ap;
	char *kbuf;
	int err;

	if (bufsiz <= 0)
		return -EINVAL;
	if ((err = at_path_get(&ap, dirfd, upath)))
		return err;
	kbuf = kmalloc(PATH_MAX, GFP_KERNEL);
	err = kbuf ? vfs_readlink_at(ap.base, ap.path, kbuf, MIN(bufsiz, PATH_MAX)) : -ENOMEM;
	if (err > 0 && copy_to_user((void *)ubuf, kbuf, err))
		err = -EFAULT;
	kfree(kbuf);
	at_path_put(&ap);
	return err;
}

SYSCALL_DEFINE(SYS_readlink, readlink)
{
	return do_readlinkat(AT_FDCWD, ARG(0), ARG(1), ARG(2));
}

SYSCALL_DEFINE(SYS_readlinkat, readlinkat)
{
	return do_readlinkat(ARG(0), ARG(1), ARG(2), ARG(3));
}

static long do_symlinkat(uint64_t utarget, int dirfd, uint64_t upath)
{
	struct at_path ap;
	char *target;
	int err;

	if (!(target = path_from_user(utarget, &err)))
		return err;
	if (!(err = at_path_get(&ap, dirfd, upath))) {
		err = vfs_symlink_at(ap.base, ap.path, target);
		at_path_put(&ap);
	}
	kfree(target);
	return err;
}

SYSCALL_DEFINE(SYS_symlink, symlink)
{
	return do_symlinkat(ARG(0), AT_FDCWD, ARG(1));
}

SYSCALL_DEFINE(SYS_symlinkat, symlinkat)
{
	return do_symlinkat(ARG(0), ARG(1), ARG(2));
}

/* --- unlink, rename, chmod --- */

static long do_unlinkat(int dirfd, uint64_t upath, unsigned int flags)
{
	struct at_path ap;
	int err;

	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	if ((err = at_path_get(&ap, dirfd, upath)))
		return err;
	err = vfs_unlink_at(ap.base, ap.path, flags & AT_REMOVEDIR);
	at_path_put(&ap);
	return err;
}

SYSCALL_DEFINE(SYS_unlink, unlink)
{
	return do_unlinkat(AT_FDCWD, ARG(0), 0);
}

SYSCALL_DEFINE(SYS_rmdir, rmdir)
{
	return do_unlinkat(AT_FDCWD, ARG(0), AT_REMOVEDIR);
}

SYSCALL_DEFINE(SYS_unlinkat, unlinkat)
{
	return do_unlinkat(ARG(0), ARG(1), ARG(2));
}

static long do_renameat2(int olddirfd, uint64_t uold, int newdirfd, uint64_t unew,
			 unsigned int flags)
{
	struct at_path from, to;
	int err;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	if ((err = at_path_copy(&from, uold)))
		return err;
	if ((err = at_path_copy(&to, unew)))
		goto out_from;
	if ((err = at_path_resolve(&from, olddirfd)) || (err = at_path_resolve(&to, newdirfd)))
		goto out_to;
	err = vfs_rename_at(from.base, from.path, to.base, to.path, flags);
out_to:
	at_path_put(&to);
out_from:
	at_path_put(&from);
	return err;
}

SYSCALL_DEFINE(SYS_rename, rename)
{
	return do_renameat2(AT_FDCWD, ARG(0), AT_FDCWD, ARG(1), 0);
}

SYSCALL_DEFINE(SYS_renameat, renameat)
{
	return do_renameat2(ARG(0), ARG(1), ARG(2), ARG(3), 0);
}

SYSCALL_DEFINE(SYS_renameat2, renameat2)
{
	return do_renameat2(ARG(0), ARG(1), ARG(2), ARG(3), ARG(4));
}

static long do_fchmodat(int dirfd, uint64_t upath, uint32_t mode, unsigned int flags)
{
	struct inode *inode;
	int err;

	if (flags & ~AT_SYMLINK_NOFOLLOW)
		return -EINVAL;
	err = user_lookup_at(dirfd, upath, flags & AT_SYMLINK_NOFOLLOW, &inode);
	return err ? err : vfs_chmod(inode, mode);
}

SYSCALL_DEFINE(SYS_chmod, chmod)
{
	return do_fchmodat(AT_FDCWD, ARG(0), ARG(1), 0);
}

SYSCALL_DEFINE(SYS_fchmodat, fchmodat)
{
	return do_fchmodat(ARG(0), ARG(1), ARG(2), 0); /* no flags argument */
}

SYSCALL_DEFINE(SYS_fchmod, fchmod)
{
	struct file *f = fd_get(ARG(0));
	long r;

	if (!f)
		return -EBADF;
	r = f->inode ? vfs_chmod(f->inode, ARG(1)) : -EINVAL;
	file_put(f);
	return r;
}

static long truncate_inode(struct inode *inode, int64_t len)
{
	int err;

	if (len < 0)
		return -EINVAL;
	if (S_ISDIR(inode->mode))
		return -EISDIR;
	if (!S_ISREG(inode->mode) || !ramfs_owns(inode))
		return -EINVAL;
	if ((err = get_write_access(inode)) < 0)
		return err; /* -ETXTBSY: a process runs it */
	err = ramfs_truncate(inode, len);
	put_write_access(inode);
	return err;
}

SYSCALL_DEFINE(SYS_truncate, truncate)
{
	struct inode *inode;
	int err = user_lookup_at(AT_FDCWD, ARG(0), false, &inode);

	return err ? err : truncate_inode(inode, ARG(1));
}

/* sendfile(2): count bytes from in_fd (at *offset, which moves, or at its
 * position) to out_fd, through a kernel buffer; a short write ends it.
 * The bytes written, or the first error when there are none. */
#define SYS_sendfile 40

static long sendfile_loop(struct file *out, struct file *in, uint64_t *pos, size_t count)
{
	char *kbuf = kmalloc(MAX(MIN(count, (size_t)BOUNCE_SIZE), (size_t)1), GFP_KERNEL);
	size_t done = 0;
	ssize_t r = 0, w;

	if (!kbuf)
		return -ENOMEM;
	while (done < count) {
		size_t chunk = MIN(count - done, (size_t)BOUNCE_SIZE);
		r = pos ? vfs_pread(in, kbuf, chunk, *pos) : vfs_read(in, kbuf, chunk);
		if (r <= 0)
			break;
		w = vfs_write(out, kbuf, r);
		if (w <= 0) {
			r = w;
			break;
		}
		done += w;
		if (pos)
			*pos += w;
		else if (w < r)
			vfs_lseek(in, w - r, SEEK_CUR); /* what was not written stays unread */
		if (w < r)
			break;
	}
	kfree(kbuf);
	return done ? (long)done : r;
}

SYSCALL_DEFINE(SYS_sendfile, sendfile)
{
	struct file *out = fd_get(ARG(0)), *in = fd_get(ARG(1));
	uint64_t pos = 0, *ppos = NULL;
	long r;

	r = -EBADF;
	if (!out || !in || (in->flags & O_ACCMODE) == O_WRONLY ||
	    (out->flags & O_ACCMODE) == O_RDONLY)
		goto out;
	r = -EFAULT;
	if (ARG(2) && copy_from_user(&pos, (const void *)ARG(2), sizeof(pos)))
		goto out;
	if (ARG(2)) {
		r = (int64_t)pos < 0 ? -EINVAL : file_is_pipe(in) ? -ESPIPE : 0;
		if (r)
			goto out;
		ppos = &pos;
	}
	r = sendfile_loop(out, in, ppos, MIN(ARG(3), MAX_RW_COUNT));
	if (ppos && copy_to_user((void *)ARG(2), &pos, sizeof(pos)))
		r = -EFAULT;
out:
	file_put(out);
	file_put(in);
	return r;
}

/* fallocate(2), mode 0 only (tmpfs's other modes are not here: -EOPNOTSUPP),
 * with Linux's vfs_fallocate() checks in its order. */
#define SYS_fallocate 285

SYSCALL_DEFINE(SYS_fallocate, fallocate)
{
	int64_t off = ARG(2), len = ARG(3);
	struct file *f;
	long r;

	if (off < 0 || len <= 0)
		return -EINVAL;
	if ((int)ARG(1) != 0)
		return -EOPNOTSUPP;
	if (!(f = fd_get(ARG(0))))
		return -EBADF;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		r = -EBADF;
	else if (file_is_pipe(f))
		r = -ESPIPE;
	else if (f->inode && S_ISDIR(f->inode->mode))
		r = -EISDIR;
	else if (!f->inode || !S_ISREG(f->inode->mode))
		r = -ENODEV;
	else if (off + len < off)
		r = -EFBIG;
	else
		r = ramfs_fallocate(f->inode, off, len);
	if (r == -ENODEV && f->inode && S_ISREG(f->inode->mode))
		r = -EOPNOTSUPP; /* a regular file of a file system without fallocate */
	file_put(f);
	return r;
}

SYSCALL_DEFINE(SYS_ftruncate, ftruncate)
{
	struct file *f = fd_get(ARG(0));
	long r;

	if (!f)
		return -EBADF;
	if (!(f->flags & (O_WRONLY | O_RDWR)))
		r = -EINVAL; /* Linux: not open for writing */
	else
		r = f->inode ? truncate_inode(f->inode, ARG(1)) : -EINVAL;
	file_put(f);
	return r;
}
