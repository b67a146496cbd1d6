/* statfs(2) and fstatfs(2): what Linux reports of each file system Pagoda
 * has (the magic numbers of include/uapi/linux/magic.h). ramfs has no
 * size limit and reports no blocks, as Linux's ramfs; the tmpfs at
 * /dev/shm reports half of RAM (tmpfs's default size) with the shmem
 * pages in use; /proc and /sys report nothing but their type. */
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/fs_struct.h>
#include <pagoda/pagemap.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>

#define SYS_statfs 137
#define SYS_fstatfs 138

#define RAMFS_MAGIC 0x858458f6
#define TMPFS_MAGIC 0x01021994
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define ST_NOSUID 0x0002
#define ST_NODEV 0x0004
#define ST_NOEXEC 0x0008
#define ST_RELATIME 0x1000
#define ST_VALID 0x0020

/* Linux's x86-64 struct statfs. */
struct linux_statfs {
	int64_t f_type, f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen, f_frsize, f_flags;
	int64_t f_spare[4];
};
BUILD_BUG_ON(sizeof(struct linux_statfs) != 120);

/* Is dir (a path) inode or one of its ancestors? */
static bool under(struct inode *inode, const char *dir)
{
	struct inode *d;

	if (vfs_lookup("/", dir, false, &d) < 0)
		return false;
	for (int depth = 0; inode && depth < PATH_MAX / 2; depth++) {
		if (inode == d)
			return true;
		if (inode->parent == inode)
			break;
		inode = inode->parent;
	}
	return false;
}

static void fill_statfs(struct linux_statfs *st, struct inode *inode)
{
	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = PAGE_SIZE;
	st->f_namelen = NAME_MAX;
	st->f_flags = ST_VALID | ST_RELATIME;
	if (!ramfs_owns(inode) || under(inode, "/proc")) {
		st->f_type = PROC_SUPER_MAGIC;
		st->f_flags |= ST_NOSUID | ST_NODEV | ST_NOEXEC;
	} else if (under(inode, "/dev/shm")) {
		uint64_t half = pmm_total_pages() / 2, used = filemap_shmem_pages();
		st->f_type = TMPFS_MAGIC;
		st->f_blocks = st->f_files = half;
		st->f_bfree = st->f_bavail = used < half ? half - used : 0;
		st->f_ffree = half;
		st->f_flags |= ST_NOSUID | ST_NODEV;
	} else if (under(inode, "/sys")) {
		st->f_type = SYSFS_MAGIC;
	} else if (under(inode, "/dev")) {
		st->f_type = TMPFS_MAGIC; /* devtmpfs */
		st->f_flags |= ST_NOSUID;
	} else {
		st->f_type = RAMFS_MAGIC;
	}
}

static long statfs_to_user(uint64_t ubuf, struct inode *inode)
{
	struct linux_statfs st;

	fill_statfs(&st, inode);
	return copy_to_user((void *)ubuf, &st, sizeof(st)) ? -EFAULT : 0;
}

SYSCALL_DEFINE(SYS_statfs, statfs)
{
	char cwd[CWD_MAX];
	struct inode *inode;
	int err;
	char *path = path_from_user(ARG(0), &err);
	long r;

	if (!path)
		return err;
	if (!(r = vfs_lookup(fs_cwd(current, cwd), path, false, &inode)))
		r = statfs_to_user(ARG(1), inode);
	kfree(path);
	return r;
}

SYSCALL_DEFINE(SYS_fstatfs, fstatfs)
{
	struct file *f = fd_get(ARG(0));
	long r;

	if (!f)
		return -EBADF;
	if (!f->inode) {
		/* a pipe or a driver's anonymous file: Linux's pipefs/anon */
		struct linux_statfs st = { .f_type = 0x50495045 /* PIPEFS_MAGIC */,
					   .f_bsize = PAGE_SIZE, .f_namelen = NAME_MAX,
					   .f_frsize = PAGE_SIZE, .f_flags = ST_VALID };
		r = copy_to_user((void *)ARG(1), &st, sizeof(st)) ? -EFAULT : 0;
	} else {
		r = statfs_to_user(ARG(1), f->inode);
	}
	file_put(f);
	return r;
}
