/* The virtual file system: path lookup, open files, and the generic read,
 * write and seek that sit between the system calls and a file system.
 *
 * Inodes form a tree held in memory (ramfs, with procfs grafted on /proc);
 * each knows its parent, so ".." needs no directory entry. A lookup walks
 * the path one component at a time through i_op->lookup. A symlink met on
 * the way is spliced into the path still to walk, in place:
 *
 *     "a/link/b/c", link -> "../x/y"   becomes   "../x/y/b/c" from a's dir
 *
 * so that there is no recursion and the total of symlinks followed in one
 * lookup can be capped at SYMLOOP_MAX (-ELOOP), as Linux caps it.
 *
 * Nothing holds references on inodes: a file system frees an inode only
 * when it has neither a name nor an open file (ramfs counts its opens),
 * and an inode pointer from a lookup is used at once, never kept across a
 * sleep. One CPU, and kernel code only switches tasks where it sleeps:
 * lookups and the file table need no locks. */
#include <pagoda/compiler.h>
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/mutex.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

static struct inode *root;
static uint64_t next_ino = 1;

/* The file system's one lock: it guards every directory tree (ramfs,
 * /proc's process directories, sysfs), and the contents of ramfs inodes
 * and their lifetime. A mutex, so its holder may sleep (allocate), and
 * recursive for its owner, because the path walk calls into file systems
 * that call back into the VFS. It is never held across a user copy: the
 * system calls move data through kernel buffers. Lock order: a fault
 * takes mmap_lock, then (reading a mapped file) this lock; so nothing
 * may take an mmap_lock while holding this one (docs/smp.md). */
static struct mutex vfs_mutex;
static unsigned int vfs_depth; /* the owner's nesting; guarded by vfs_mutex */

void vfs_lock(void)
{
	if (mutex_held(&vfs_mutex)) {
		vfs_depth++;
		return;
	}
	mutex_lock(&vfs_mutex);
	vfs_depth = 1;
}

void vfs_unlock(void)
{
	BUG_ON(!mutex_held(&vfs_mutex));
	if (--vfs_depth == 0)
		mutex_unlock(&vfs_mutex);
}

bool vfs_locked(void)
{
	return mutex_held(&vfs_mutex);
}

struct inode *vfs_root(void)
{
	return root;
}

uint64_t vfs_next_ino(void)
{
	return atomic_fetch_add(&next_ino, 1);
}

static bool is_dot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

/* --- lookup --- */

/* A walk in progress: the path still to resolve lives in buf. */
struct walk {
	char *buf;    /* PATH_MAX bytes */
	char *target; /* PATH_MAX bytes: a symlink's target while splicing */
	int links;    /* symlinks followed so far */
};

/* Splice link's target in front of rest (which points into w->buf) and
 * return the directory to resume from: the root for an absolute target,
 * else dir, the one holding the link. NULL with *err on failure. */
static struct inode *walk_follow(struct walk *w, struct inode *dir, struct inode *link,
				 char *rest, int *err)
{
	size_t rest_len = strlen(rest);
	int len;

	if (++w->links > SYMLOOP_MAX) {
		*err = -ELOOP;
		return NULL;
	}
	len = link->i_op && link->i_op->readlink ?
		      link->i_op->readlink(link, w->target, PATH_MAX) : -ENOENT;
	if (len <= 0) {
		*err = len < 0 ? len : -ENOENT; /* an empty target names nothing */
		return NULL;
	}
	if ((size_t)len + rest_len >= PATH_MAX) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	memmove(w->buf + len, rest, rest_len + 1);
	memcpy(w->buf, w->target, len);
	return w->target[0] == '/' ? root : dir;
}

/* Resolve the path in w->buf from dir. A trailing slash makes the last
 * component a directory: it is followed even when nofollow, and a
 * non-directory there is -ENOTDIR. */
static int walk_path(struct walk *w, struct inode *cur, bool nofollow, struct inode **out)
{
	char *p = w->buf;
	int err = 0;

	for (;;) {
		bool slash = false;
		const char *name;
		struct inode *child;
		size_t len;
		char *q;

		while (*p == '/') {
			p++;
			slash = true;
		}
		if (!*p) {
			if (slash && !S_ISDIR(cur->mode))
				return -ENOTDIR;
			*out = cur;
			return 0;
		}
		for (name = p; *p && *p != '/'; p++)
			;
		len = p - name;
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		if (!S_ISDIR(cur->mode))
			return -ENOTDIR;
		if (is_dot(name, len)) {
			if (len == 2 && cur->parent)
				cur = cur->parent;
			continue;
		}
		child = cur->i_op && cur->i_op->lookup ? cur->i_op->lookup(cur, name, len) : NULL;
		if (!child)
			return -ENOENT;
		for (q = p; *q == '/'; q++)
			;
		if (S_ISLNK(child->mode) && (*q || q != p || !nofollow)) {
			cur = walk_follow(w, cur, child, p, &err);
			if (!cur)
				return err;
			p = w->buf;
			continue;
		}
		cur = child;
	}
}

static int __vfs_lookup_at(struct inode *base, const char *path, bool nofollow, struct inode **out)
{
	size_t n = strnlen(path, PATH_MAX);
	struct walk w = { 0 };
	int err;

	if (!root)
		return -ENOENT;
	if (n == 0)
		return -ENOENT;
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	w.buf = kmalloc(2 * PATH_MAX, GFP_KERNEL);
	if (!w.buf)
		return -ENOMEM;
	w.target = w.buf + PATH_MAX;
	memcpy(w.buf, path, n + 1);
	if (!base || path[0] == '/')
		base = root;
	err = walk_path(&w, base, nofollow, out);
	kfree(w.buf);
	return err;
}

int vfs_lookup_at(struct inode *base, const char *path, bool nofollow, struct inode **out)
{
	int r;

	vfs_lock();
	r = __vfs_lookup_at(base, path, nofollow, out);
	vfs_unlock();
	return r;
}

/* The directory a relative path starts from: cwd, or / when cwd is empty. */
static int cwd_inode(const char *cwd, const char *path, struct inode **out)
{
	*out = root;
	if (path[0] == '/' || !cwd || !cwd[0])
		return 0;
	return vfs_lookup_at(root, cwd, false, out);
}

static int __vfs_lookup(const char *cwd, const char *path, bool nofollow, struct inode **out)
{
	struct inode *base;
	int err = cwd_inode(cwd, path, &base);

	return err ? err : vfs_lookup_at(base, path, nofollow, out);
}

int vfs_lookup(const char *cwd, const char *path, bool nofollow, struct inode **out)
{
	int r;

	vfs_lock();
	r = __vfs_lookup(cwd, path, nofollow, out);
	vfs_unlock();
	return r;
}

/* The last component of path and the directory that holds it. */
struct parent {
	struct inode *dir;
	const char *name; /* into the caller's path; len 0 for "/" */
	size_t len;
	bool trailing_slash;
};

static int lookup_parent(struct inode *base, const char *path, struct parent *pp)
{
	size_t n = strnlen(path, PATH_MAX), end = n, start;
	char *dirpath;
	int err;

	if (n == 0)
		return -ENOENT;
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	while (end > 0 && path[end - 1] == '/')
		end--;
	for (start = end; start > 0 && path[start - 1] != '/'; start--)
		;
	pp->name = path + start;
	pp->len = end - start;
	pp->trailing_slash = end < n;
	if (pp->len > NAME_MAX)
		return -ENAMETOOLONG;
	pp->dir = base && path[0] != '/' ? base : root;
	if (start > 0) {
		dirpath = kmalloc(start + 1, GFP_KERNEL);
		if (!dirpath)
			return -ENOMEM;
		memcpy(dirpath, path, start);
		dirpath[start] = '\0';
		err = vfs_lookup_at(base, dirpath, false, &pp->dir);
		kfree(dirpath);
		if (err)
			return err;
	}
	return S_ISDIR(pp->dir->mode) ? 0 : -ENOTDIR;
}

/* Create path's last component with mode (type bits included) through the
 * parent's create operation: 0 with *out, or -EEXIST, -EPERM... */
static int create_at(struct inode *base, const char *path, uint32_t mode, struct inode **out)
{
	struct parent pp;
	int err = lookup_parent(base, path, &pp);

	if (err)
		return err;
	if (pp.len == 0 || is_dot(pp.name, pp.len))
		return -EEXIST;
	if (pp.trailing_slash && !S_ISDIR(mode))
		return -ENOENT;
	if (pp.dir->i_op && pp.dir->i_op->lookup && pp.dir->i_op->lookup(pp.dir, pp.name, pp.len))
		return -EEXIST;
	if (!pp.dir->i_op || !pp.dir->i_op->create)
		return -EPERM;
	return pp.dir->i_op->create(pp.dir, pp.name, pp.len, mode, out);
}

static int __vfs_mkdir_at(struct inode *base, const char *path, uint32_t mode)
{
	struct inode *inode;

	if (!root)
		return -ENOENT;
	return create_at(base, path, S_IFDIR | (mode & 07777), &inode);
}

int vfs_mkdir_at(struct inode *base, const char *path, uint32_t mode)
{
	int r;

	vfs_lock();
	r = __vfs_mkdir_at(base, path, mode);
	vfs_unlock();
	return r;
}

static int __vfs_mkdir(const char *path, uint32_t mode)
{
	return vfs_mkdir_at(NULL, path, mode);
}

int vfs_mkdir(const char *path, uint32_t mode)
{
	int r;

	vfs_lock();
	r = __vfs_mkdir(path, mode);
	vfs_unlock();
	return r;
}

static int __vfs_mknod_rdev(const char *path, uint32_t mode, uint32_t rdev,
		   const struct file_operations *fops, void *private_data)
{
	struct inode *inode;
	int err;

	if (!root)
		return -ENOENT;
	err = create_at(NULL, path, mode, &inode);
	if (err)
		return err;
	inode->rdev = rdev;
	inode->i_fop = fops;
	inode->i_private = private_data;
	return 0;
}

int vfs_mknod_rdev(const char *path, uint32_t mode, uint32_t rdev,
		   const struct file_operations *fops, void *private_data)
{
	int r;

	vfs_lock();
	r = __vfs_mknod_rdev(path, mode, rdev, fops, private_data);
	vfs_unlock();
	return r;
}

static int __vfs_mknod(const char *path, uint32_t mode, const struct file_operations *fops,
	      void *private_data)
{
	return vfs_mknod_rdev(path, mode, 0, fops, private_data);
}

int vfs_mknod(const char *path, uint32_t mode, const struct file_operations *fops,
	      void *private_data)
{
	int r;

	vfs_lock();
	r = __vfs_mknod(path, mode, fops, private_data);
	vfs_unlock();
	return r;
}

static int __vfs_symlink(const char *path, const char *target)
{
	return vfs_symlink_at(NULL, path, target);
}

int vfs_symlink(const char *path, const char *target)
{
	int r;

	vfs_lock();
	r = __vfs_symlink(path, target);
	vfs_unlock();
	return r;
}

static int __vfs_symlink_at(struct inode *base, const char *path, const char *target)
{
	struct inode *inode;
	int err;

	if (!root)
		return -ENOENT;
	if (!target[0])
		return -ENOENT;
	err = create_at(base, path, S_IFLNK | 0777, &inode);
	if (err)
		return err;
	return ramfs_owns(inode) ? ramfs_set_link(inode, target, strnlen(target, PATH_MAX))
				 : -EPERM;
}

int vfs_symlink_at(struct inode *base, const char *path, const char *target)
{
	int r;

	vfs_lock();
	r = __vfs_symlink_at(base, path, target);
	vfs_unlock();
	return r;
}

/* Make path a regular file holding exactly data: created, or truncated and
 * rewritten when it exists. 0, -EISDIR, -ENOSPC, or a lookup error. */
static int __vfs_create_file(const char *path, uint32_t mode, const void *data, size_t len)
{
	struct inode *inode;
	struct file tmp = { 0 };
	uint64_t pos = 0;
	ssize_t n;
	int err;

	if (!root)
		return -ENOENT;
	err = vfs_lookup_at(NULL, path, false, &inode);
	if (err == -ENOENT)
		err = create_at(NULL, path, S_IFREG | (mode & 07777), &inode);
	if (err)
		return err;
	if (!S_ISREG(inode->mode))
		return S_ISDIR(inode->mode) ? -EISDIR : -EEXIST;
	err = ramfs_truncate(inode, 0);
	if (err)
		return err;
	inode->mode = S_IFREG | (mode & 07777);
	if (!len)
		return 0;
	tmp.f_op = inode->i_fop;
	tmp.inode = inode;
	tmp.flags = O_WRONLY;
	n = inode->i_fop->write(&tmp, data, len, &pos);
	if (n == (ssize_t)len)
		return 0;
	ramfs_truncate(inode, 0);
	return n < 0 ? (int)n : -ENOSPC;
}

int vfs_create_file(const char *path, uint32_t mode, const void *data, size_t len)
{
	int r;

	vfs_lock();
	r = __vfs_create_file(path, mode, data, len);
	vfs_unlock();
	return r;
}

static int __vfs_unlink_at(struct inode *base, const char *path, bool rmdir)
{
	struct parent pp;
	struct inode *child = NULL;
	int err = root ? lookup_parent(base, path, &pp) : -ENOENT;

	if (err)
		return err;
	if (pp.len == 0)
		return rmdir ? -EBUSY : -EISDIR; /* "/" */
	if (is_dot(pp.name, pp.len))
		return !rmdir ? -EISDIR : pp.len == 1 ? -EINVAL : -ENOTEMPTY;
	if (!rmdir && pp.trailing_slash) {
		child = pp.dir->i_op && pp.dir->i_op->lookup ?
				pp.dir->i_op->lookup(pp.dir, pp.name, pp.len) : NULL;
		return !child ? -ENOENT : S_ISDIR(child->mode) ? -EISDIR : -ENOTDIR;
	}
	if (!pp.dir->i_op || !pp.dir->i_op->unlink)
		return -EPERM;
	return pp.dir->i_op->unlink(pp.dir, pp.name, pp.len, rmdir);
}

int vfs_unlink_at(struct inode *base, const char *path, bool rmdir)
{
	int r;

	vfs_lock();
	r = __vfs_unlink_at(base, path, rmdir);
	vfs_unlock();
	return r;
}

static int __vfs_rename_at(struct inode *old_base, const char *old_path, struct inode *new_base,
		  const char *new_path, unsigned int flags)
{
	struct parent op, np;
	struct inode *src, *dst;
	int err = root ? lookup_parent(old_base, old_path, &op) : -ENOENT;

	if (!err)
		err = lookup_parent(new_base, new_path, &np);
	if (err)
		return err;
	if (!op.len || !np.len || is_dot(op.name, op.len) || is_dot(np.name, np.len))
		return -EBUSY;
	if (!op.dir->i_op || !op.dir->i_op->rename || !op.dir->i_op->lookup)
		return -EPERM;
	if (np.dir->i_op != op.dir->i_op)
		return -EXDEV;
	src = op.dir->i_op->lookup(op.dir, op.name, op.len);
	if (!src)
		return -ENOENT;
	if ((op.trailing_slash || np.trailing_slash) && !S_ISDIR(src->mode))
		return -ENOTDIR;
	dst = np.dir->i_op->lookup(np.dir, np.name, np.len);
	if (dst && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	return op.dir->i_op->rename(op.dir, op.name, op.len, np.dir, np.name, np.len);
}

int vfs_rename_at(struct inode *old_base, const char *old_path, struct inode *new_base,
		  const char *new_path, unsigned int flags)
{
	int r;

	vfs_lock();
	r = __vfs_rename_at(old_base, old_path, new_base, new_path, flags);
	vfs_unlock();
	return r;
}

static int __vfs_chmod(struct inode *inode, uint32_t mode)
{
	if (!ramfs_owns(inode))
		return -EPERM;
	inode->mode = (inode->mode & S_IFMT) | (mode & 07777);
	return 0;
}

int vfs_chmod(struct inode *inode, uint32_t mode)
{
	int r;

	vfs_lock();
	r = __vfs_chmod(inode, mode);
	vfs_unlock();
	return r;
}

static int __vfs_readlink_at(struct inode *base, const char *path, char *buf, size_t size)
{
	struct inode *inode;
	char *tmp;
	int err = vfs_lookup_at(base, path, true, &inode);

	if (err)
		return err;
	if (!S_ISLNK(inode->mode) || !inode->i_op || !inode->i_op->readlink)
		return -EINVAL;
	tmp = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	err = inode->i_op->readlink(inode, tmp, PATH_MAX);
	if (err > 0) {
		err = MIN((size_t)err, size);
		memcpy(buf, tmp, err);
	}
	kfree(tmp);
	return err;
}

int vfs_readlink_at(struct inode *base, const char *path, char *buf, size_t size)
{
	int r;

	vfs_lock();
	r = __vfs_readlink_at(base, path, buf, size);
	vfs_unlock();
	return r;
}

/* --- the path of a directory --- */

struct name_search {
	uint64_t ino;
	char name[NAME_MAX + 1];
	size_t len;
	bool found;
};

static bool name_search_emit(void *ctx, const char *name, size_t len, uint64_t ino,
			     unsigned int type)
{
	struct name_search *s = ctx;

	if (ino != s->ino || is_dot(name, len) || len > NAME_MAX)
		return true;
	memcpy(s->name, name, len);
	s->len = len;
	s->found = true;
	return false;
}

/* Find child's name in parent by listing parent: 0 or -ENOENT. */
static int inode_name(struct inode *parent, struct inode *child, struct name_search *s)
{
	struct file tmp = { 0 };

	if (!parent->i_fop || !parent->i_fop->iterate)
		return -ENOENT;
	tmp.f_op = parent->i_fop;
	tmp.inode = parent;
	tmp.private_data = parent->i_private;
	s->ino = child->ino;
	s->found = false;
	parent->i_fop->iterate(&tmp, name_search_emit, s);
	return s->found ? 0 : -ENOENT;
}

static int __vfs_inode_path(struct inode *dir, char *buf, size_t size)
{
	struct name_search *s;
	size_t at = size;
	int err = 0, depth = 0;

	if (size < 2)
		return -ENAMETOOLONG;
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	buf[--at] = '\0';
	for (; dir != root && dir->parent && dir->parent != dir; dir = dir->parent) {
		err = ++depth > PATH_MAX / 2 ? -ELOOP : inode_name(dir->parent, dir, s);
		if (err)
			break;
		if (s->len + 1 > at) {
			err = -ENAMETOOLONG;
			break;
		}
		at -= s->len;
		memcpy(buf + at, s->name, s->len);
		buf[--at] = '/';
	}
	kfree(s);
	if (err)
		return err == -ENAMETOOLONG ? err : -ENOENT;
	if (at == size - 1)
		buf[--at] = '/';
	memmove(buf, buf + at, size - at);
	return size - at - 1;
}

int vfs_inode_path(struct inode *dir, char *buf, size_t size)
{
	int r;

	vfs_lock();
	r = __vfs_inode_path(dir, buf, size);
	vfs_unlock();
	return r;
}

/* --- open files --- */

struct file *file_alloc(const struct file_operations *fop, void *private_data)
{
	struct file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return NULL;
	f->f_op = fop;
	f->private_data = private_data;
	f->refcount = 1;
	mutex_init(&f->pos_lock, "file.pos_lock");
	return f;
}

void file_get(struct file *f)
{
	atomic_inc(&f->refcount);
}

void file_put(struct file *f)
{
	if (!f)
		return;
	if (READ_ONCE(f->refcount) == 0) {
		pr_err("vfs: file_put on a released file %p (%s)\n", f, f->path);
		return;
	}
	if (atomic_sub_return(&f->refcount, 1))
		return;
	if (f->writer)
		put_write_access(f->inode);
	if (f->f_op && f->f_op->release)
		f->f_op->release(f);
	kfree(f);
}

/* Find or create (O_CREAT) the inode open() names. */
static int open_lookup(struct inode *base, const char *path, unsigned int flags, uint32_t mode,
		       struct inode **out)
{
	struct parent pp;
	struct inode *child = NULL;
	int err;

	if (!(flags & O_CREAT))
		return vfs_lookup_at(base, path, flags & O_NOFOLLOW, out);
	err = lookup_parent(base, path, &pp);
	if (err)
		return err;
	if (pp.len == 0 || is_dot(pp.name, pp.len) || pp.trailing_slash)
		return -EISDIR;
	if (pp.dir->i_op && pp.dir->i_op->lookup)
		child = pp.dir->i_op->lookup(pp.dir, pp.name, pp.len);
	if (child) {
		if (flags & O_EXCL)
			return -EEXIST;
		if (!S_ISLNK(child->mode)) {
			*out = child;
			return 0;
		}
		if (flags & O_NOFOLLOW)
			return -ELOOP;
		return vfs_lookup_at(base, path, false, out);
	}
	if (!pp.dir->i_op || !pp.dir->i_op->create)
		return -EACCES;
	return pp.dir->i_op->create(pp.dir, pp.name, pp.len, S_IFREG | (mode & 07777), out);
}

/* Does opening a regular file with flags need write access to it (which a
 * running program's file refuses)? As in Linux, O_TRUNC does, even with
 * O_RDONLY. */
static bool open_writes(const struct inode *inode, unsigned int flags)
{
	return S_ISREG(inode->mode) && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC));
}

/* May inode be opened with flags? Truncates for O_TRUNC. */
static int open_check(struct inode *inode, unsigned int flags)
{
	unsigned int acc = flags & O_ACCMODE;

	if (S_ISLNK(inode->mode))
		return -ELOOP; /* only reached with O_NOFOLLOW */
	if ((flags & O_DIRECTORY) && !S_ISDIR(inode->mode))
		return -ENOTDIR;
	if (S_ISDIR(inode->mode) && (acc != O_RDONLY || (flags & (O_CREAT | O_TRUNC))))
		return -EISDIR;
	if (!S_ISDIR(inode->mode) && !S_ISREG(inode->mode) && !inode->i_fop)
		return -ENXIO; /* a device node no driver serves */
	if (open_writes(inode, flags) && inode->writecount < 0)
		return -ETXTBSY; /* checked before O_TRUNC destroys anything */
	if ((flags & O_TRUNC) && S_ISREG(inode->mode) && ramfs_owns(inode))
		return ramfs_truncate(inode, 0);
	return 0;
}

/* Record the path a file was opened by (for /proc): as given when
 * absolute, else joined to base's path. Truncated to fit. */
static void file_set_path(struct file *f, struct inode *base, const char *path)
{
	size_t len = 0;

	/* A ramfs file or directory knows where it is: its path with every
	 * symlink and ".." resolved, as Linux's d_path() shows it in
	 * /proc/PID/maps and /proc/PID/fd (a library opened through
	 * /lib64/ld-linux-x86-64.so.2 is /lib/x86_64-linux-gnu/...). */
	if (ramfs_owns(f->inode) && (S_ISREG(f->inode->mode) || S_ISDIR(f->inode->mode)) &&
	    f->inode->parent && vfs_inode_path(f->inode, f->path, sizeof(f->path)) > 0) {
		f->name = f->path;
		return;
	}
	if (path[0] != '/') {
		int n = vfs_inode_path(base ? base : root, f->path, sizeof(f->path));
		len = n > 1 ? (size_t)n : 0;
		if (len < sizeof(f->path) - 1)
			f->path[len++] = '/';
	}
	strlcpy(f->path + len, path, sizeof(f->path) - len);
	f->name = f->path;
}

/* A new file on inode, with its open operation run; the path is the
 * caller's to set. NULL with *err. */
static struct file *open_inode(struct inode *inode, unsigned int flags, int *err)
{
	struct file *f = file_alloc(inode->i_fop, inode->i_private);

	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->inode = inode;
	f->size = inode->size;
	f->flags = (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE;
	f->writer = S_ISREG(inode->mode) && (flags & O_ACCMODE) != O_RDONLY;
	if (f->writer)
		inode->writecount++; /* open_check() saw no running program */
	if (f->f_op && f->f_op->open) {
		*err = f->f_op->open(inode, f);
		if (*err) {
			if (f->writer)
				put_write_access(inode);
			kfree(f);
			return NULL;
		}
	}
	return f;
}

static struct file *__vfs_open_at(struct inode *base, const char *path, unsigned int flags,
			 uint32_t mode, int *err)
{
	struct inode *inode;
	struct file *f;

	*err = root ? open_lookup(base, path, flags, mode, &inode) : -ENOENT;
	if (!*err)
		*err = open_check(inode, flags);
	if (*err)
		return NULL;
	f = open_inode(inode, flags, err);
	if (f)
		file_set_path(f, base, path);
	return f;
}

struct file *vfs_open_inode(struct inode *inode, unsigned int flags, const char *name,
			    int *err)
{
	struct file *f;

	vfs_lock();
	f = open_inode(inode, flags, err);
	if (f) {
		strlcpy(f->path, name, sizeof(f->path));
		f->name = f->path;
	}
	vfs_unlock();
	return f;
}

struct file *vfs_open_at(struct inode *base, const char *path, unsigned int flags,
			 uint32_t mode, int *err)
{
	struct file *r;

	vfs_lock();
	r = __vfs_open_at(base, path, flags, mode, err);
	vfs_unlock();
	return r;
}

static struct file *__vfs_open(const char *cwd, const char *path, unsigned int flags, uint32_t mode,
		      int *err)
{
	struct inode *base;

	*err = root ? cwd_inode(cwd, path, &base) : -ENOENT;
	return *err ? NULL : vfs_open_at(base, path, flags, mode, err);
}

struct file *vfs_open(const char *cwd, const char *path, unsigned int flags, uint32_t mode,
		      int *err)
{
	struct file *r;

	vfs_lock();
	r = __vfs_open(cwd, path, flags, mode, err);
	vfs_unlock();
	return r;
}

/* --- reading, writing, seeking --- */

static int check_read(struct file *f)
{
	unsigned int acc = f->flags & O_ACCMODE;

	if (acc != O_RDONLY && acc != O_RDWR)
		return -EBADF;
	if (f->inode && S_ISDIR(f->inode->mode))
		return -EISDIR;
	return f->f_op && f->f_op->read ? 0 : -EINVAL;
}

static int check_write(struct file *f)
{
	unsigned int acc = f->flags & O_ACCMODE;

	if (acc != O_WRONLY && acc != O_RDWR)
		return -EBADF;
	return f->f_op && f->f_op->write ? 0 : -EINVAL;
}

/* Does f's position change under pos_lock? For regular files and
 * directories, as Linux's FMODE_ATOMIC_POS; a pipe or a device may block
 * in read, and has no position to keep whole. */
static bool atomic_pos(const struct file *f)
{
	return f->inode && (S_ISREG(f->inode->mode) || S_ISDIR(f->inode->mode)) &&
	       !file_is_pipe(f);
}

static void pos_lock(struct file *f)
{
	if (atomic_pos(f))
		mutex_lock(&f->pos_lock);
}

static void pos_unlock(struct file *f)
{
	if (atomic_pos(f))
		mutex_unlock(&f->pos_lock);
}

ssize_t vfs_read(struct file *f, void *buf, size_t n)
{
	int err = check_read(f);
	ssize_t ret;

	if (err)
		return err;
	pos_lock(f);
	ret = f->f_op->read(f, buf, n, &f->pos);
	pos_unlock(f);
	return ret;
}

ssize_t vfs_pread(struct file *f, void *buf, size_t n, uint64_t pos)
{
	int err = check_read(f);

	return err ? err : f->f_op->read(f, buf, n, &pos);
}

/* O_APPEND writes at the end, even through pwrite (as Linux does). */
ssize_t vfs_write(struct file *f, const void *buf, size_t n)
{
	int err = check_write(f);

	ssize_t ret;

	if (err)
		return err;
	pos_lock(f);
	if ((f->flags & O_APPEND) && f->inode)
		f->pos = f->inode->size;
	ret = f->f_op->write(f, buf, n, &f->pos);
	pos_unlock(f);
	return ret;
}

ssize_t vfs_pwrite(struct file *f, const void *buf, size_t n, uint64_t pos)
{
	int err = check_write(f);

	if (err)
		return err;
	if ((f->flags & O_APPEND) && f->inode)
		pos = f->inode->size;
	return f->f_op->write(f, buf, n, &pos);
}

static int64_t lseek_locked(struct file *f, int64_t off, int whence)
{
	int64_t base, pos;

	if (f->f_op && f->f_op->llseek)
		return f->f_op->llseek(f, off, whence);
	if (!f->inode)
		return -ESPIPE;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = f->pos; break;
	case SEEK_END: base = f->inode->size; break;
	default: return -EINVAL;
	}
	if (__builtin_add_overflow(base, off, &pos) || pos < 0)
		return -EINVAL;
	f->pos = pos;
	return pos;
}

int64_t vfs_lseek(struct file *f, int64_t off, int whence)
{
	int64_t ret;

	if (file_is_pipe(f))
		return -ESPIPE;
	pos_lock(f);
	ret = lseek_locked(f, off, whence);
	pos_unlock(f);
	return ret;
}

int vfs_iterate(struct file *f, dir_emit_fn emit, void *ctx)
{
	int r;

	if (!f->inode || !S_ISDIR(f->inode->mode) || !f->f_op || !f->f_op->iterate)
		return -ENOTDIR;
	pos_lock(f);
	vfs_lock(); /* the directory must not change under the listing */
	r = f->f_op->iterate(f, emit, ctx);
	vfs_unlock();
	pos_unlock(f);
	return r;
}

/* --- setup --- */

static int __vfs_set_dir_ops(const char *path, const struct inode_operations *iop,
		    const struct file_operations *fop)
{
	struct inode *dir;
	int err = vfs_lookup_at(NULL, path, false, &dir);

	if (err)
		return err;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	dir->i_op = iop;
	dir->i_fop = fop;
	return 0;
}

int vfs_set_dir_ops(const char *path, const struct inode_operations *iop,
		    const struct file_operations *fop)
{
	int r;

	vfs_lock();
	r = __vfs_set_dir_ops(path, iop, fop);
	vfs_unlock();
	return r;
}

void vfs_init(void)
{
	mutex_init(&vfs_mutex, "vfs_lock");
	static const struct {
		const char *path;
		uint32_t mode;
	} dirs[] = {
		{ "/dev", 0755 }, { "/proc", 0555 }, { "/sys", 0555 }, { "/tmp", 01777 },
	};
	int err;

	if (root)
		return;
	root = ramfs_new_root();
	if (!root) {
		pr_err("vfs: no memory for the root directory\n");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		err = vfs_mkdir(dirs[i].path, dirs[i].mode);
		if (err)
			pr_err("vfs: mkdir %s: error %d\n", dirs[i].path, err);
	}
	err = chardev_init();
	if (err)
		pr_err("vfs: device nodes: error %d\n", err);
}
