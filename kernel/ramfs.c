/* ramfs: the in-memory file system behind /, /dev, /tmp and /sys.
 *
 * Every inode is a struct ramfs_inode, found from the struct inode inside
 * it with container_of (i_private stays free for drivers' device nodes).
 *
 *   directory: an array of (name, inode) entries, in creation order; a
 *              listing position is an index into it, after "." and "..".
 *   regular:   an array of page pointers; page i holds bytes
 *              [i * PAGE_SIZE, (i + 1) * PAGE_SIZE). A NULL page is a hole
 *              that reads as zeroes (a file grown by truncate or a seek).
 *   symlink:   the target string.
 *
 * Nothing is ever freed but file pages on truncate: there is no unlink
 * yet, so inodes live as long as the kernel. One CPU and no preemption in
 * the kernel: no locks. */
#include <pagoda/compiler.h>
#include <pagoda/errno.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

#define RAMFS_MAX_FILE_SIZE (1ULL << 30) /* 1 GiB: the page array stays 2 MiB */

struct ramfs_dirent {
	struct inode *inode;
	size_t len;
	char name[]; /* len bytes and a NUL */
};

struct ramfs_inode {
	struct inode inode;
	union {
		struct {
			struct ramfs_dirent **ents;
			size_t nr, cap;
		} dir;
		struct {
			void **pages; /* cap slots, NULL: a hole */
			size_t cap;
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
 * Device nodes get no file operations: vfs_mknod() sets them. */
static struct inode *ramfs_new_inode(uint32_t mode)
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
	} else if (S_ISLNK(mode)) {
		ri->inode.i_op = &ramfs_link_iops;
	} else {
		ri->inode.i_op = &ramfs_special_iops;
	}
	return &ri->inode;
}

struct inode *ramfs_new_root(void)
{
	struct inode *root = ramfs_new_inode(S_IFDIR | 0755);

	if (root)
		root->parent = root;
	return root;
}

/* --- directories --- */

static struct inode *ramfs_lookup(struct inode *dir, const char *name, size_t len)
{
	struct ramfs_inode *d = RI(dir);

	for (size_t i = 0; i < d->dir.nr; i++) {
		struct ramfs_dirent *de = d->dir.ents[i];
		if (de->len == len && memcmp(de->name, name, len) == 0)
			return de->inode;
	}
	return NULL;
}

/* Append (name, inode) to dir: 0 or -ENOSPC. */
static int ramfs_add_entry(struct ramfs_inode *d, const char *name, size_t len,
			   struct inode *inode)
{
	struct ramfs_dirent *de;

	if (d->dir.nr == d->dir.cap) {
		size_t cap = d->dir.cap ? d->dir.cap * 2 : 8;
		struct ramfs_dirent **ents = kmalloc(cap * sizeof(*ents), GFP_KERNEL);
		if (!ents)
			return -ENOSPC;
		if (d->dir.nr)
			memcpy(ents, d->dir.ents, d->dir.nr * sizeof(*ents));
		kfree(d->dir.ents);
		d->dir.ents = ents;
		d->dir.cap = cap;
	}
	de = kmalloc(sizeof(*de) + len + 1, GFP_KERNEL);
	if (!de)
		return -ENOSPC;
	de->inode = inode;
	de->len = len;
	memcpy(de->name, name, len);
	de->name[len] = '\0';
	d->dir.ents[d->dir.nr++] = de;
	return 0;
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
	inode = ramfs_new_inode(mode);
	if (!inode)
		return -ENOSPC;
	err = ramfs_add_entry(RI(dir), name, len, inode);
	if (err) {
		kfree(RI(inode));
		return err;
	}
	inode->parent = dir;
	if (S_ISDIR(mode))
		dir->nlink++;
	dir->size = RI(dir)->dir.nr;
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
			more = emit(ctx, de->name, de->len, de->inode->ino,
				    vfs_dtype(de->inode->mode));
		} else
			return 0;
		if (!more)
			return 0;
		f->pos = pos + 1;
	}
}

/* --- regular files --- */

/* Make room in the page array for pages [0, nr): 0 or -ENOSPC. */
static int ramfs_reserve(struct ramfs_inode *ri, size_t nr)
{
	void **pages;
	size_t cap;

	if (nr <= ri->file.cap)
		return 0;
	cap = MAX(nr, ri->file.cap * 2);
	cap = MAX(cap, (size_t)16);
	pages = kzalloc(cap * sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOSPC;
	if (ri->file.cap)
		memcpy(pages, ri->file.pages, ri->file.cap * sizeof(*pages));
	kfree(ri->file.pages);
	ri->file.pages = pages;
	ri->file.cap = cap;
	return 0;
}

static ssize_t ramfs_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct ramfs_inode *ri = RI(f->inode);
	uint64_t size = f->inode->size;
	size_t done = 0;

	if (*pos >= size)
		return 0;
	n = MIN((uint64_t)n, size - *pos);
	while (done < n) {
		uint64_t off = *pos + done;
		size_t in_page = off % PAGE_SIZE;
		size_t chunk = MIN(n - done, PAGE_SIZE - in_page);
		void *page = ri->file.pages[off / PAGE_SIZE];

		if (page)
			memcpy((char *)buf + done, (char *)page + in_page, chunk);
		else
			memset((char *)buf + done, 0, chunk);
		done += chunk;
	}
	*pos += done;
	return done;
}

static ssize_t ramfs_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct inode *inode = f->inode;
	struct ramfs_inode *ri = RI(inode);
	size_t done = 0;

	if (*pos >= RAMFS_MAX_FILE_SIZE)
		return n ? -EFBIG : 0;
	n = MIN((uint64_t)n, RAMFS_MAX_FILE_SIZE - *pos);
	if (ramfs_reserve(ri, (*pos + n + PAGE_SIZE - 1) / PAGE_SIZE))
		return -ENOSPC;
	while (done < n) {
		uint64_t off = *pos + done;
		size_t in_page = off % PAGE_SIZE;
		size_t chunk = MIN(n - done, PAGE_SIZE - in_page);
		void **slot = &ri->file.pages[off / PAGE_SIZE];

		if (!*slot)
			*slot = pmm_alloc_virt(GFP_KERNEL | __GFP_ZERO, 0);
		if (!*slot)
			break;
		memcpy((char *)*slot + in_page, (const char *)buf + done, chunk);
		done += chunk;
	}
	if (done == 0 && n)
		return -ENOSPC;
	*pos += done;
	if (*pos > inode->size)
		inode->size = *pos;
	return done;
}

int ramfs_truncate(struct inode *inode, uint64_t size)
{
	struct ramfs_inode *ri = RI(inode);
	size_t keep;

	if (inode->i_op != &ramfs_file_iops)
		return -EINVAL;
	if (size > RAMFS_MAX_FILE_SIZE)
		return -EFBIG;
	keep = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	if (size > inode->size) {
		/* Growing: the new bytes are holes, except the rest of the
		 * last page, which was zeroed when it was cut. */
		if (ramfs_reserve(ri, keep))
			return -ENOSPC;
		inode->size = size;
		return 0;
	}
	for (size_t i = keep; i < ri->file.cap; i++) {
		if (ri->file.pages[i])
			pmm_free_virt(ri->file.pages[i], 0);
		ri->file.pages[i] = NULL;
	}
	if (size % PAGE_SIZE && ri->file.pages[size / PAGE_SIZE])
		memset((char *)ri->file.pages[size / PAGE_SIZE] + size % PAGE_SIZE, 0,
		       PAGE_SIZE - size % PAGE_SIZE);
	inode->size = size;
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

static const struct inode_operations ramfs_dir_iops = {
	.lookup = ramfs_lookup,
	.create = ramfs_create,
};
static const struct inode_operations ramfs_file_iops = { 0 };
static const struct inode_operations ramfs_link_iops = { .readlink = ramfs_readlink };
static const struct inode_operations ramfs_special_iops = { 0 };

static const struct file_operations ramfs_dir_fops = { .iterate = ramfs_iterate };
static const struct file_operations ramfs_file_fops = {
	.read = ramfs_read,
	.write = ramfs_write,
};
