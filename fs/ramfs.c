/* ramfs: the in-memory file system behind /, /dev, /tmp and /sys.
 *
 * Every inode is a struct ramfs_inode, found from the struct inode inside
 * it with container_of (i_private stays free for drivers' device nodes).
 *
 *   directory: an array of (name, inode) entries; a listing position is
 *              an index into it, after "." and "..". A removed entry
 *              leaves a NULL slot (reused by the next create) so that
 *              the positions of the others never move under a reader
 *              that deletes as it lists (rm -r).
 *   regular:   the page cache (include/pagoda/pagemap.h): an address_space
 *              whose page i holds bytes [i * PAGE_SIZE, (i + 1) * PAGE_SIZE).
 *              A missing page is a hole that reads as zeroes (a file grown
 *              by truncate or a seek). Files in a shmem directory (/dev/shm)
 *              and the unlinked files of mm/shmem.c count as Shmem.
 *   symlink:   the target string.
 *
 * An inode lives while it has a name (nlink) or an open file (opens,
 * counted by the open and release operations; a mapping holds its file
 * open); after the last of both goes, its memory is freed. Device nodes
 * are the exception: their open files run the driver's operations, which
 * do not count, so an unlinked device node is never freed.
 *
 * Locking: the VFS lock guards directories and the lifetime of inodes; a
 * regular file's data and size are guarded by its mapping's lock, which
 * the page-cache functions take (so a fault, holding mmap_lock, never
 * needs the VFS lock). */
#include <pagoda/compiler.h>
#include <pagoda/errno.h>
#include <pagoda/pagemap.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

#define RAMFS_MAX_FILE_SIZE (1ULL << 30) /* 1 GiB: three levels of radix tree */

struct ramfs_dirent {
	struct inode *inode;
	size_t len;
	char name[]; /* len bytes and a NUL */
};

struct ramfs_inode {
	struct inode inode;
	unsigned int opens; /* open files (regular files and directories) */
	union {
		struct {
			struct ramfs_dirent **ents; /* nr slots in use, NULL: free */
			size_t nr, cap;
			size_t count;               /* non-NULL entries */
			unsigned int file_flags;    /* AS_SHMEM for a tmpfs (/dev/shm) */
		} dir;
		struct {
			struct address_space mapping;
		} file;
		struct {
			char *target;
		} link;
	};
};

static const struct inode_operations ramfs_dir_iops, ramfs_file_iops, ramfs_link_iops,
	ramfs_special_iops;
static const struct file_operations ramfs_dir_fops, ramfs_file_fops;

static struct ramfs_inode *RI(struct inode *inode)
{
	return container_of(inode, struct ramfs_inode, inode);
}

bool ramfs_owns(const struct inode *inode)
{
	return inode->i_op == &ramfs_dir_iops || inode->i_op == &ramfs_file_iops ||
	       inode->i_op == &ramfs_link_iops || inode->i_op == &ramfs_special_iops;
}

/* A new inode of mode's type, not yet in any directory; NULL on no memory.
 * Device nodes get no file operations: vfs_mknod() sets them. A regular
 * file's page cache gets mapping flags (AS_SHMEM or 0). */
static struct inode *ramfs_new_inode(uint32_t mode, unsigned int flags)
{
	struct ramfs_inode *ri = kzalloc(sizeof(*ri), GFP_KERNEL);

	if (!ri)
		return NULL;
	ri->inode.mode = mode;
	ri->inode.ino = vfs_next_ino();
	ri->inode.nlink = S_ISDIR(mode) ? 2 : 1;
	if (S_ISDIR(mode)) {
		ri->inode.i_op = &ramfs_dir_iops;
		ri->inode.i_fop = &ramfs_dir_fops;
	} else if (S_ISREG(mode)) {
		ri->inode.i_op = &ramfs_file_iops;
		ri->inode.i_fop = &ramfs_file_fops;
		mapping_init(&ri->file.mapping, &ri->inode, flags);
		ri->inode.i_mapping = &ri->file.mapping;
	} else if (S_ISLNK(mode)) {
		ri->inode.i_op = &ramfs_link_iops;
	} else {
		ri->inode.i_op = &ramfs_special_iops;
	}
	return &ri->inode;
}

struct inode *ramfs_new_root(void)
{
	struct inode *root = ramfs_new_inode(S_IFDIR | 0755, 0);

	if (root)
		root->parent = root;
	return root;
}

/* --- directories --- */

/* The slot of name in dir, or -1. */
static long ramfs_find(struct ramfs_inode *d, const char *name, size_t len)
{
	for (size_t i = 0; i < d->dir.nr; i++) {
		struct ramfs_dirent *de = d->dir.ents[i];
		if (de && de->len == len && memcmp(de->name, name, len) == 0)
			return i;
	}
	return -1;
}

static struct inode *ramfs_lookup(struct inode *dir, const char *name, size_t len)
{
	long i = ramfs_find(RI(dir), name, len);

	return i < 0 ? NULL : RI(dir)->dir.ents[i]->inode;
}

/* A free slot of d (a NULL one, or a new one at the end): its index, or
 * -ENOSPC. */
static long ramfs_free_slot(struct ramfs_inode *d)
{
	struct ramfs_dirent **ents;
	size_t cap;

	if (d->dir.count < d->dir.nr)
		for (size_t i = 0; i < d->dir.nr; i++)
			if (!d->dir.ents[i])
				return i;
	if (d->dir.nr == d->dir.cap) {
		cap = d->dir.cap ? d->dir.cap * 2 : 8;
		ents = kmalloc(cap * sizeof(*ents), GFP_KERNEL);
		if (!ents)
			return -ENOSPC;
		if (d->dir.nr)
			memcpy(ents, d->dir.ents, d->dir.nr * sizeof(*ents));
		kfree(d->dir.ents);
		d->dir.ents = ents;
		d->dir.cap = cap;
	}
	d->dir.ents[d->dir.nr] = NULL;
	return d->dir.nr++;
}

/* Add (name, inode) to dir: 0 or -ENOSPC. */
static int ramfs_add_entry(struct ramfs_inode *d, const char *name, size_t len,
			   struct inode *inode)
{
	struct ramfs_dirent *de = kmalloc(sizeof(*de) + len + 1, GFP_KERNEL);
	long slot = de ? ramfs_free_slot(d) : -ENOSPC;

	if (slot < 0) {
		kfree(de);
		return -ENOSPC;
	}
	de->inode = inode;
	de->len = len;
	memcpy(de->name, name, len);
	de->name[len] = '\0';
	d->dir.ents[slot] = de;
	d->dir.count++;
	d->inode.size = d->dir.count;
	return 0;
}

static void ramfs_del_entry(struct ramfs_inode *d, size_t slot)
{
	kfree(d->dir.ents[slot]);
	d->dir.ents[slot] = NULL;
	d->dir.count--;
	d->inode.size = d->dir.count;
}

/* Free an inode that has neither a name nor an open file left. */
static void ramfs_evict(struct inode *inode)
{
	struct ramfs_inode *ri = RI(inode);

	if (inode->nlink || ri->opens)
		return;
	if (S_ISREG(inode->mode)) {
		mapping_fini(&ri->file.mapping);
	} else if (S_ISDIR(inode->mode)) {
		kfree(ri->dir.ents); /* empty: rmdir checked */
	} else if (S_ISLNK(inode->mode)) {
		kfree(ri->link.target);
	} else {
		return; /* a device node: see the top of the file */
	}
	kfree(ri);
}

static int ramfs_open(struct inode *inode, struct file *f)
{
	RI(inode)->opens++;
	return 0;
}

static void ramfs_release(struct file *f)
{
	vfs_lock(); /* a file is closed outside the VFS's calls */
	RI(f->inode)->opens--;
	ramfs_evict(f->inode);
	vfs_unlock();
}

static int ramfs_create(struct inode *dir, const char *name, size_t len, uint32_t mode,
			struct inode **out)
{
	struct inode *inode;
	int err;

	if (len == 0)
		return -ENOENT;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	if (ramfs_lookup(dir, name, len))
		return -EEXIST;
	inode = ramfs_new_inode(mode, RI(dir)->dir.file_flags);
	if (!inode)
		return -ENOSPC;
	err = ramfs_add_entry(RI(dir), name, len, inode);
	if (err) {
		inode->nlink = 0;
		ramfs_evict(inode);
		return err;
	}
	if (S_ISDIR(mode))
		RI(inode)->dir.file_flags = RI(dir)->dir.file_flags;
	inode->parent = dir;
	if (S_ISDIR(mode))
		dir->nlink++;
	*out = inode;
	return 0;
}

/* Position 0 is ".", 1 is "..", 2 + i is entry i. */
static int ramfs_iterate(struct file *f, dir_emit_fn emit, void *ctx)
{
	struct inode *dir = f->inode;
	struct ramfs_inode *d = RI(dir);

	for (;;) {
		uint64_t pos = f->pos;
		bool more;

		if (pos == 0)
			more = emit(ctx, ".", 1, dir->ino, DT_DIR);
		else if (pos == 1)
			more = emit(ctx, "..", 2, dir->parent ? dir->parent->ino : dir->ino, DT_DIR);
		else if (pos - 2 < d->dir.nr) {
			struct ramfs_dirent *de = d->dir.ents[pos - 2];
			more = !de || emit(ctx, de->name, de->len, de->inode->ino,
					   vfs_dtype(de->inode->mode));
		} else
			return 0;
		if (!more)
			return 0;
		f->pos = pos + 1;
	}
}

/* --- regular files: the page cache (mm/filemap.c) --- */

static ssize_t ramfs_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	ssize_t r = filemap_read(f->inode, buf, n, *pos);

	if (r > 0)
		*pos += r;
	return r;
}

static ssize_t ramfs_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	ssize_t r = filemap_write(f->inode, buf, n, *pos, RAMFS_MAX_FILE_SIZE);

	if (r > 0)
		*pos += r;
	return r;
}

int ramfs_truncate(struct inode *inode, uint64_t size)
{
	if (inode->i_op != &ramfs_file_iops)
		return -EINVAL;
	return filemap_truncate(inode, size, RAMFS_MAX_FILE_SIZE);
}

int ramfs_fallocate(struct inode *inode, uint64_t off, uint64_t len)
{
	if (inode->i_op != &ramfs_file_iops)
		return -ENODEV;
	return filemap_fallocate(inode, off, len, RAMFS_MAX_FILE_SIZE);
}

struct file *ramfs_open_unlinked(uint32_t mode, unsigned int flags, const char *name,
				 unsigned int oflags, int *err)
{
	struct inode *inode;
	struct file *f = NULL;

	*err = -ENOMEM;
	if (!S_ISREG(mode))
		return NULL;
	vfs_lock();
	inode = ramfs_new_inode(mode, flags);
	if (inode) {
		inode->nlink = 0; /* freed when its last open file goes */
		inode->parent = vfs_root();
		f = vfs_open_inode(inode, oflags, name, err);
		if (!f)
			ramfs_evict(inode);
	}
	vfs_unlock();
	return f;
}

int ramfs_set_shmem_dir(struct inode *dir)
{
	if (dir->i_op != &ramfs_dir_iops)
		return -EINVAL;
	RI(dir)->dir.file_flags = AS_SHMEM;
	return 0;
}

/* --- symlinks --- */

static int ramfs_readlink(struct inode *inode, char *buf, size_t size)
{
	struct ramfs_inode *ri = RI(inode);
	size_t len;

	if (!ri->link.target)
		return -EINVAL;
	if (size == 0)
		return -ERANGE;
	len = MIN((size_t)inode->size, size - 1);
	memcpy(buf, ri->link.target, len);
	buf[len] = '\0';
	return len;
}

int ramfs_set_link(struct inode *inode, const char *target, size_t len)
{
	struct ramfs_inode *ri = RI(inode);
	char *copy;

	if (inode->i_op != &ramfs_link_iops || len >= PATH_MAX)
		return -EINVAL;
	copy = kmalloc(len + 1, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, target, len);
	copy[len] = '\0';
	kfree(ri->link.target);
	ri->link.target = copy;
	inode->size = len;
	return 0;
}

/* --- removing and moving --- */

/* Drop one name of inode; a directory loses its "." too, and its
 * parent's "..". */
static void ramfs_drop_name(struct inode *dir, struct inode *inode)
{
	if (S_ISDIR(inode->mode)) {
		inode->nlink = 0;
		dir->nlink--;
	} else {
		inode->nlink--;
	}
	ramfs_evict(inode);
}

/* May victim, a directory entry, make way for rmdir or for a rename of a
 * file of src_mode over it? */
static int ramfs_may_remove(struct inode *victim, bool want_dir)
{
	if (!want_dir)
		return S_ISDIR(victim->mode) ? -EISDIR : 0;
	if (!S_ISDIR(victim->mode))
		return -ENOTDIR;
	if (victim->i_op != &ramfs_dir_iops)
		return -EBUSY; /* another file system took it over (/proc) */
	return RI(victim)->dir.count ? -ENOTEMPTY : 0;
}

static int ramfs_unlink(struct inode *dir, const char *name, size_t len, bool rmdir)
{
	struct ramfs_inode *d = RI(dir);
	long slot = ramfs_find(d, name, len);
	struct inode *victim;
	int err;

	if (slot < 0)
		return -ENOENT;
	victim = d->dir.ents[slot]->inode;
	err = ramfs_may_remove(victim, rmdir);
	if (err)
		return err;
	ramfs_del_entry(d, slot);
	ramfs_drop_name(dir, victim);
	return 0;
}

/* Is dir inside (or equal to) the directory top? */
static bool ramfs_is_under(struct inode *dir, struct inode *top)
{
	for (; dir; dir = dir->parent == dir ? NULL : dir->parent)
		if (dir == top)
			return true;
	return false;
}

static int ramfs_rename(struct inode *odir, const char *oname, size_t olen,
			struct inode *ndir, const char *nname, size_t nlen)
{
	struct ramfs_inode *od = RI(odir), *nd = RI(ndir);
	long oslot = ramfs_find(od, oname, olen), nslot;
	struct inode *src, *victim = NULL;
	int err;

	if (oslot < 0)
		return -ENOENT;
	if (ndir->i_op != &ramfs_dir_iops)
		return -EXDEV;
	if (nlen > NAME_MAX)
		return -ENAMETOOLONG;
	src = od->dir.ents[oslot]->inode;
	nslot = ramfs_find(nd, nname, nlen);
	victim = nslot >= 0 ? nd->dir.ents[nslot]->inode : NULL;
	if (victim == src)
		return 0;
	/* Linux's order: a directory into itself, then over an ancestor of
	 * the source, then the usual checks on what is replaced. */
	if (S_ISDIR(src->mode) && ramfs_is_under(ndir, src))
		return -EINVAL;
	if (victim && ramfs_is_under(odir, victim))
		return -ENOTEMPTY;
	if (victim) {
		err = ramfs_may_remove(victim, S_ISDIR(src->mode));
		if (err)
			return err;
	}
	if (victim) {
		nd->dir.ents[nslot]->inode = src;
		ramfs_drop_name(ndir, victim);
	} else {
		err = ramfs_add_entry(nd, nname, nlen, src);
		if (err)
			return err;
	}
	ramfs_del_entry(od, oslot);
	if (S_ISDIR(src->mode)) {
		odir->nlink--;
		ndir->nlink++;
	}
	src->parent = ndir;
	return 0;
}

static const struct inode_operations ramfs_dir_iops = {
	.lookup = ramfs_lookup,
	.create = ramfs_create,
	.unlink = ramfs_unlink,
	.rename = ramfs_rename,
};
static const struct inode_operations ramfs_file_iops = { 0 };
static const struct inode_operations ramfs_link_iops = { .readlink = ramfs_readlink };
static const struct inode_operations ramfs_special_iops = { 0 };

static const struct file_operations ramfs_dir_fops = {
	.iterate = ramfs_iterate,
	.open = ramfs_open,
	.release = ramfs_release,
};
static const struct file_operations ramfs_file_fops = {
	.read = ramfs_read,
	.write = ramfs_write,
	.mmap = filemap_mmap,
	.open = ramfs_open,
	.release = ramfs_release,
};
