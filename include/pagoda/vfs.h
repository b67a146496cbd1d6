/* The virtual file system: inodes in a tree held in memory, path lookup,
 * and the initramfs that fills it at boot (fs/vfs.c, fs/ramfs.c,
 * fs/initramfs.c). Everything lives in RAM: / is a ramfs; /dev holds
 * device nodes; /proc is generated on demand (fs/procfs.c); /sys is a
 * ramfs the device drivers fill. */
#ifndef PAGODA_VFS_H
#define PAGODA_VFS_H

#include <pagoda/file.h>
#include <pagoda/types.h>

/* st_mode bits (Linux's). */
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)

/* open flags (Linux x86-64). */
#define O_ACCMODE 00000003
#define O_RDONLY 00000000
#define O_WRONLY 00000001
#define O_RDWR 00000002
#define O_CREAT 00000100
#define O_EXCL 00000200
#define O_NOCTTY 00000400
#define O_TRUNC 00001000
#define O_APPEND 00002000
#define O_NONBLOCK 00004000
#define O_DIRECTORY 00200000
#define O_NOFOLLOW 00400000
#define O_CLOEXEC 02000000
#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_EMPTY_PATH 0x1000
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

struct inode_operations {
	/* The child called name (len bytes) of dir, or NULL. */
	struct inode *(*lookup)(struct inode *dir, const char *name, size_t len);
	/* Create a child; 0 or -errno (-EEXIST, -ENOSPC...). */
	int (*create)(struct inode *dir, const char *name, size_t len, uint32_t mode,
		      struct inode **out);
	/* A symlink's target, NUL-terminated into buf; length or -errno. */
	int (*readlink)(struct inode *inode, char *buf, size_t size);
	/* Remove the entry name from dir: only a directory, and only an
	 * empty one, when rmdir; only a non-directory otherwise. 0, or
	 * -ENOENT, -EISDIR, -ENOTDIR, -ENOTEMPTY, -EBUSY (a mount point). */
	int (*unlink)(struct inode *dir, const char *name, size_t len, bool rmdir);
	/* Move entry old_name of dir to new_name of new_dir (the same file
	 * system), replacing what is there as rename(2) says. 0, or -ENOENT,
	 * -EISDIR, -ENOTDIR, -ENOTEMPTY, -EINVAL (a directory into itself),
	 * -EXDEV, -ENOSPC. */
	int (*rename)(struct inode *dir, const char *old_name, size_t old_len,
		      struct inode *new_dir, const char *new_name, size_t new_len);
};

struct inode {
	uint32_t mode;  /* S_IF* | permission bits */
	uint64_t ino;
	uint64_t size;
	uint32_t nlink;
	uint32_t rdev;  /* device number of a device node: major << 8 | minor */
	int64_t mtime;  /* seconds */
	const struct inode_operations *i_op;
	const struct file_operations *i_fop;
	void *i_private; /* the file system's */
	struct inode *parent;
	int writecount;  /* > 0: open for writing; < 0: a running program's
			  * (Linux's i_writecount; fs/write_access.c) */
	struct address_space *i_mapping; /* its page cache (regular files of
					  * ramfs and shmem), or NULL */
};

/* Writers and running programs exclude each other (fs/write_access.c,
 * Linux's get_write_access()/deny_write_access()): a file cannot be opened
 * for writing or truncated while a process runs it, nor run while it is
 * open for writing: -ETXTBSY. Each get/deny is undone by its put/allow. */
int get_write_access(struct inode *inode);
void put_write_access(struct inode *inode);
int deny_write_access(struct file *f);
void allow_write_access(struct file *f);

/* Resolve path (absolute, or relative to cwd) to an inode, following
 * symlinks except the last one when nofollow. Returns 0 with *out set,
 * or -ENOENT, -ENOTDIR, -ELOOP, -ENAMETOOLONG. */
int vfs_lookup(const char *cwd, const char *path, bool nofollow, struct inode **out);

/* Open path with O_* flags (O_CREAT makes a regular file in a ramfs
 * directory). Returns a file with one reference, or an ERR_PTR-style
 * negative errno in *err and NULL. */
struct file *vfs_open(const char *cwd, const char *path, unsigned int flags, uint32_t mode,
		      int *err);

/* A file not backed by a path (pipes, or a driver's anonymous file). */
struct file *file_alloc(const struct file_operations *fop, void *private_data);
void file_get(struct file *f);
void file_put(struct file *f); /* releases on the last reference */

ssize_t vfs_read(struct file *f, void *buf, size_t n);
ssize_t vfs_write(struct file *f, const void *buf, size_t n);

/* Create a directory, or a device node bound to fops (for drivers: /dev/fb0,
 * /dev/mem), or a regular file with data (the initramfs). */
int vfs_mkdir(const char *path, uint32_t mode);
int vfs_mknod(const char *path, uint32_t mode, const struct file_operations *fops,
	      void *private_data);
int vfs_create_file(const char *path, uint32_t mode, const void *data, size_t len);
int vfs_symlink(const char *path, const char *target);

/* The root, built by vfs_init(): /, /dev (console, null, zero), /proc,
 * /sys, /tmp. */
void vfs_init(void);

/* Unpack a cpio "newc" archive (Linux's initramfs format,
 * Documentation/driver-api/early-userspace/buffer-format.rst) into /.
 * Returns the number of entries, or -EINVAL naming the offset of the bad
 * header in the log. */
int initramfs_unpack(const void *data, size_t len);

/* --- Added by the VFS (fs/vfs.c, ramfs.c, pipe.c, chardev.c) --- */

#define O_LARGEFILE 00100000
#define O_DIRECT 00040000
#define PATH_MAX 4096  /* bytes, with the NUL */
#define NAME_MAX 255   /* bytes of one component */
#define SYMLOOP_MAX 40 /* symlinks followed in one lookup (Linux's MAXSYMLINKS) */
#define PIPE_BUF 4096  /* writes up to this size are atomic */

/* getdents64 d_type: Linux's DT_* are the S_IFMT bits shifted down. */
#define DT_UNKNOWN 0
#define DT_DIR 4
#define DT_REG 8
#define DT_LNK 10
static inline unsigned int vfs_dtype(uint32_t mode) { return (mode & S_IFMT) >> 12; }

/* The root directory (NULL before vfs_init()). */
struct inode *vfs_root(void);
/* A fresh inode number, for file systems that make inodes on the fly. */
uint64_t vfs_next_ino(void);

/* The *_at forms resolve a relative path from the directory base (NULL:
 * the root); the string forms above resolve it from cwd. Errors as for
 * vfs_lookup() and vfs_open(). */
int vfs_lookup_at(struct inode *base, const char *path, bool nofollow, struct inode **out);
struct file *vfs_open_at(struct inode *base, const char *path, unsigned int flags,
			 uint32_t mode, int *err);
/* mode is used as given (the caller applies the umask). 0, or -EEXIST,
 * -ENOENT, -ENOTDIR, -EPERM (a directory that cannot hold new entries). */
int vfs_mkdir_at(struct inode *base, const char *path, uint32_t mode);
/* unlink (rmdir false) or rmdir (true) path: 0, or the errors of
 * i_op->unlink, -EINVAL for rmdir ".", -EPERM where nothing can go. */
int vfs_unlink_at(struct inode *base, const char *path, bool rmdir);
/* rename(2): flags may hold RENAME_NOREPLACE (then -EEXIST if new exists).
 * 0, or the errors of i_op->rename, -EBUSY for "." or "..". */
#define RENAME_NOREPLACE 1
int vfs_rename_at(struct inode *old_base, const char *old_path, struct inode *new_base,
		  const char *new_path, unsigned int flags);
/* chmod: set the permission bits (07777) of a ramfs inode; -EPERM else. */
int vfs_chmod(struct inode *inode, uint32_t mode);
/* A symlink at path (relative to base) pointing at target: 0, -EEXIST,
 * -ENOENT (also for an empty target), -EPERM. */
int vfs_symlink_at(struct inode *base, const char *path, const char *target);
/* A device node with a device number (rdev: major << 8 | minor). */
int vfs_mknod_rdev(const char *path, uint32_t mode, uint32_t rdev,
		   const struct file_operations *fops, void *private_data);
/* Copy a symlink's target (not NUL-terminated) into buf; its length, or
 * -EINVAL when path is not a symlink. */
int vfs_readlink_at(struct inode *base, const char *path, char *buf, size_t size);

/* Read or write at an explicit position, leaving f->pos alone. */
ssize_t vfs_pread(struct file *f, void *buf, size_t n, uint64_t pos);
ssize_t vfs_pwrite(struct file *f, const void *buf, size_t n, uint64_t pos);
/* lseek: the new position, -EINVAL for a negative one, -ESPIPE on a pipe. */
int64_t vfs_lseek(struct file *f, int64_t off, int whence);
/* Emit directory entries from f->pos on; -ENOTDIR if f is no directory. */
int vfs_iterate(struct file *f, dir_emit_fn emit, void *ctx);
/* The absolute path of an inode (a directory, or a file through the
 * directory that holds it) into buf (size bytes, NUL included): its
 * length, or -ENAMETOOLONG, -ENOENT. */
int vfs_inode_path(struct inode *dir, char *buf, size_t size);

/* Hand the directory at path to another file system (procfs takes /proc):
 * its lookups and listings go to iop and fop from now on. 0, -ENOENT or
 * -ENOTDIR. */
int vfs_set_dir_ops(const char *path, const struct inode_operations *iop,
		    const struct file_operations *fop);

/* Unpack the first multiboot2 module as the initramfs. Returns the number
 * of entries, 0 when there is no module, or -EINVAL. */
int initramfs_load_boot_module(void);

/* ramfs (fs/ramfs.c): the file system of /, /dev, /tmp, /sys. */
struct inode *ramfs_new_root(void);
bool ramfs_owns(const struct inode *inode);
/* Set a regular file's size (zero-filling when it grows): 0, -EINVAL for
 * an inode ramfs does not own, -ENOSPC, -EFBIG. */
int ramfs_truncate(struct inode *inode, uint64_t size);
/* Give a symlink made by create() its target: 0, -ENOMEM, -EINVAL. */
int ramfs_set_link(struct inode *inode, const char *target, size_t len);
/* fallocate mode 0 on a regular file: 0, -ENODEV (not one of ours),
 * -EFBIG, -ENOSPC. */
int ramfs_fallocate(struct inode *inode, uint64_t off, uint64_t len);
/* A regular file in no directory (nlink 0), open with oflags and shown
 * in /proc as name; its inode is freed when its last open file is
 * released. mapping flags as for pagemap.h (AS_SHMEM). NULL with *err
 * (-ENOMEM). */
struct file *ramfs_open_unlinked(uint32_t mode, unsigned int flags, const char *name,
				 unsigned int oflags, int *err);
/* Files created in dir from now on are shmem (tmpfs): /dev/shm. */
int ramfs_set_shmem_dir(struct inode *dir);
/* Open an inode found otherwise than by a path (shmem, memfd): name is
 * what /proc shows. The file or NULL with *err. */
struct file *vfs_open_inode(struct inode *inode, unsigned int flags, const char *name,
			    int *err);

/* Character devices (drivers/chardev.c): make /dev/console, /dev/tty,
 * /dev/null and /dev/zero. fops for a device number, or NULL. */
int chardev_init(void);
const struct file_operations *chardev_fops(uint32_t rdev);

/* Pipes (fs/pipe.c): a read end and a write end sharing one buffer.
 * flags may hold O_NONBLOCK. 0 or -ENOMEM; each file has one reference. */
int pipe_create(unsigned int flags, struct file **rd, struct file **wr);
bool file_is_pipe(const struct file *f);

/* The file system's big lock (fs/vfs.c): recursive for its holder, never
 * held across a user copy. The VFS calls take it themselves; a file
 * system's own operations that are not reached through them (ramfs read
 * and write, directory iteration) take it too. */
void vfs_lock(void);
void vfs_unlock(void);
bool vfs_locked(void);

/* Copy a NUL-terminated path from user space into a new buffer of
 * PATH_MAX bytes the caller kfree()s. NULL with *err: -EFAULT,
 * -ENAMETOOLONG, -ENOMEM. An empty path is returned as is
 * (fs/sys_file.c). */
char *path_from_user(uint64_t upath, int *err);

#endif
