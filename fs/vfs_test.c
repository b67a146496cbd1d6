/* Tests of path lookup, open/read/write, ramfs, device nodes and the fd
 * table. They need no process: files are opened with vfs_open() and read
 * with vfs_read() on kernel buffers, and the fd table tests use a task
 * structure of their own. Each case works in a fresh directory under /tmp. */
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/ktest.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

static char dir[64];

/* A new empty directory /tmp/vtN for one case, in dir. */
static bool fresh_dir(struct ktest *t)
{
	static int n;

	vfs_init();
	snprintf(dir, sizeof(dir), "/tmp/vt%d", n++);
	if (vfs_mkdir(dir, 0755) != 0) {
		ktest_fail(t, __FILE__, __LINE__, "cannot make %s", dir);
		return false;
	}
	return true;
}

/* dir + "/" + rel, in a static buffer. */
static const char *P(const char *rel)
{
	static char buf[2][256];
	static int which;
	char *b = buf[which ^= 1];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, rel);
	return b;
}

static struct inode *lookup(const char *path, bool nofollow, int *err)
{
	struct inode *inode = NULL;

	*err = vfs_lookup(NULL, path, nofollow, &inode);
	return *err ? NULL : inode;
}

static void vfs_lookup_handles_dots_and_repeated_slashes(struct ktest *t)
{
	struct inode *a, *b;
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_mkdir(P("a"), 0755), 0);
	KASSERT_EQ(t, vfs_mkdir(P("a/b"), 0755), 0);
	a = lookup(P("a/b"), false, &err);
	KASSERT_NOT_NULL(t, a);
	b = lookup(P("/./a//../a/b/"), false, &err);
	KEXPECT_EQ(t, b, a);
	KEXPECT_EQ(t, lookup("/../..", false, &err), vfs_root());
	KEXPECT_EQ(t, lookup("///", false, &err), vfs_root());
	KEXPECT_TRUE(t, S_ISDIR(a->mode));
}

static void vfs_lookup_relative_to_cwd(struct ktest *t)
{
	struct inode *a, *b = NULL;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_mkdir(P("a"), 0755), 0);
	KASSERT_EQ(t, vfs_lookup(NULL, P("a"), false, &a), 0);
	KEXPECT_EQ(t, vfs_lookup(dir, "a", false, &b), 0);
	KEXPECT_EQ(t, b, a);
	KEXPECT_EQ(t, vfs_lookup(P("a"), "..", false, &b), 0);
	KEXPECT_EQ(t, b, a->parent);
}

static void vfs_lookup_errors(struct ktest *t)
{
	char *longp;
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_create_file(P("f"), 0644, "x", 1), 0);
	lookup(P("f/x"), false, &err);
	KEXPECT_EQ(t, err, -ENOTDIR);
	lookup(P("f/"), false, &err);
	KEXPECT_EQ(t, err, -ENOTDIR);
	lookup(P("f/."), false, &err);
	KEXPECT_EQ(t, err, -ENOTDIR);
	lookup(P("missing"), false, &err);
	KEXPECT_EQ(t, err, -ENOENT);
	lookup(P("missing/x"), false, &err);
	KEXPECT_EQ(t, err, -ENOENT);
	lookup("", false, &err);
	KEXPECT_EQ(t, err, -ENOENT);

	longp = kmalloc(PATH_MAX + 8, GFP_KERNEL);
	KASSERT_NOT_NULL(t, longp);
	memset(longp, 'n', 256);
	longp[256] = '\0';
	lookup(longp, false, &err);
	KEXPECT_EQ(t, err, -ENAMETOOLONG); /* one component of 256 */
	longp[255] = '\0';
	lookup(longp, false, &err);
	KEXPECT_EQ(t, err, -ENOENT); /* 255 is allowed */
	for (int i = 0; i < PATH_MAX; i++)
		longp[i] = i % 2 ? '/' : '.';
	longp[PATH_MAX] = '\0';
	lookup(longp, false, &err);
	KEXPECT_EQ(t, err, -ENAMETOOLONG); /* 4096 bytes with no room for the NUL */
	longp[PATH_MAX - 1] = '\0';
	KEXPECT_EQ(t, lookup(longp, false, &err), vfs_root()); /* 4095 is fine */
	kfree(longp);
}

static void vfs_symlinks_are_followed_unless_last_and_nofollow(struct ktest *t)
{
	struct inode *b, *l;
	char buf[32];
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_mkdir(P("a"), 0755), 0);
	KASSERT_EQ(t, vfs_mkdir(P("a/b"), 0755), 0);
	KASSERT_EQ(t, vfs_symlink(P("rel"), "a/b"), 0);
	KASSERT_EQ(t, vfs_symlink(P("a/up"), "../a/b"), 0);
	KASSERT_EQ(t, vfs_symlink(P("abs"), P("a")), 0);
	b = lookup(P("a/b"), false, &err);
	KASSERT_NOT_NULL(t, b);
	KEXPECT_EQ(t, lookup(P("rel"), false, &err), b);
	KEXPECT_EQ(t, lookup(P("a/up"), false, &err), b);
	KEXPECT_EQ(t, lookup(P("abs/b"), true, &err), b);
	KEXPECT_EQ(t, lookup(P("rel/"), true, &err), b); /* a trailing slash follows */
	l = lookup(P("rel"), true, &err);
	KASSERT_NOT_NULL(t, l);
	KEXPECT_TRUE(t, S_ISLNK(l->mode));
	KEXPECT_EQ(t, l->size, 3);
	KEXPECT_EQ(t, vfs_readlink_at(NULL, P("rel"), buf, sizeof(buf)), 3);
	KEXPECT_EQ(t, memcmp(buf, "a/b", 3), 0);
	KEXPECT_EQ(t, vfs_readlink_at(NULL, P("a"), buf, sizeof(buf)), -EINVAL);
	KEXPECT_EQ(t, vfs_symlink(P("rel"), "x"), -EEXIST);
}

static void vfs_symlink_loops_are_eloop(struct ktest *t)
{
	char name[16], target[16];
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_symlink(P("l1"), "l2"), 0);
	KASSERT_EQ(t, vfs_symlink(P("l2"), "l1"), 0);
	lookup(P("l1"), false, &err);
	KEXPECT_EQ(t, err, -ELOOP);
	lookup(P("l1/x"), true, &err);
	KEXPECT_EQ(t, err, -ELOOP);
	KEXPECT_NOT_NULL(t, lookup(P("l1"), true, &err));

	/* A chain c0 -> c1 -> ... -> c40 -> d: 41 links is one too many;
	 * starting at c1, 40 links, resolves. */
	KASSERT_EQ(t, vfs_mkdir(P("d"), 0755), 0);
	for (int i = 0; i <= 40; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		if (i == 40)
			strlcpy(target, "d", sizeof(target));
		else
			snprintf(target, sizeof(target), "c%d", i + 1);
		KASSERT_EQ(t, vfs_symlink(P(name), target), 0);
	}
	lookup(P("c0"), false, &err);
	KEXPECT_EQ(t, err, -ELOOP);
	KEXPECT_NOT_NULL(t, lookup(P("c1"), false, &err));
	KEXPECT_EQ(t, err, 0);
}

static void vfs_create_write_seek_read(struct ktest *t)
{
	struct file *f;
	char buf[16] = { 0 };
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	f = vfs_open(dir, "f", O_CREAT | O_RDWR, 0644, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_TRUE(t, S_ISREG(f->inode->mode));
	KEXPECT_EQ(t, f->inode->mode & 07777, 0644);
	KEXPECT_EQ(t, vfs_write(f, "hello", 5), 5);
	KEXPECT_EQ(t, f->inode->size, 5);
	KEXPECT_EQ(t, vfs_lseek(f, 0, SEEK_SET), 0);
	KEXPECT_EQ(t, vfs_read(f, buf, sizeof(buf)), 5);
	KEXPECT_STREQ(t, buf, "hello");
	KEXPECT_EQ(t, vfs_read(f, buf, sizeof(buf)), 0);
	KEXPECT_EQ(t, vfs_lseek(f, -2, SEEK_END), 3);
	KEXPECT_EQ(t, vfs_lseek(f, -4, SEEK_CUR), -EINVAL);
	KEXPECT_EQ(t, vfs_lseek(f, 0, 7), -EINVAL);
	KEXPECT_EQ(t, vfs_pread(f, buf, 2, 1), 2);
	KEXPECT_EQ(t, memcmp(buf, "el", 2), 0);
	KEXPECT_EQ(t, f->pos, 3);
	KEXPECT_STREQ(t, f->path, P("f"));
	file_put(f);
}

static void vfs_open_errors(struct ktest *t)
{
	struct file *f;
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_create_file(P("f"), 0644, "abc", 3), 0);
	KASSERT_EQ(t, vfs_mkdir(P("d"), 0755), 0);
	f = vfs_open(dir, "f", O_CREAT | O_EXCL | O_WRONLY, 0644, &err);
	KEXPECT_NULL(t, f);
	KEXPECT_EQ(t, err, -EEXIST);
	KEXPECT_NULL(t, vfs_open(dir, "nope", O_RDONLY, 0, &err));
	KEXPECT_EQ(t, err, -ENOENT);
	KEXPECT_NULL(t, vfs_open(dir, "nodir/x", O_CREAT | O_WRONLY, 0644, &err));
	KEXPECT_EQ(t, err, -ENOENT);
	KEXPECT_NULL(t, vfs_open(dir, "f", O_RDONLY | O_DIRECTORY, 0, &err));
	KEXPECT_EQ(t, err, -ENOTDIR);
	KEXPECT_NULL(t, vfs_open(dir, "d", O_WRONLY, 0, &err));
	KEXPECT_EQ(t, err, -EISDIR);
	KEXPECT_NULL(t, vfs_open(dir, "d", O_RDONLY | O_CREAT, 0644, &err));
	KEXPECT_EQ(t, err, -EISDIR);
	KEXPECT_NULL(t, vfs_open(dir, "new/", O_RDWR | O_CREAT, 0644, &err));
	KEXPECT_EQ(t, err, -EISDIR);
	KEXPECT_NULL(t, vfs_open(dir, "f/", O_RDONLY, 0, &err));
	KEXPECT_EQ(t, err, -ENOTDIR);
	KASSERT_EQ(t, vfs_symlink(P("lf"), "f"), 0);
	KEXPECT_NULL(t, vfs_open(dir, "lf", O_RDONLY | O_NOFOLLOW, 0, &err));
	KEXPECT_EQ(t, err, -ELOOP);
	KEXPECT_NULL(t, vfs_open(dir, "lf", O_CREAT | O_EXCL | O_RDWR, 0644, &err));
	KEXPECT_EQ(t, err, -EEXIST);

	f = vfs_open(dir, "d", O_RDONLY | O_DIRECTORY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_read(f, &err, 1), -EISDIR);
	file_put(f);
	f = vfs_open(dir, "lf", O_WRONLY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_read(f, &err, 1), -EBADF);
	file_put(f);
	f = vfs_open(dir, "f", O_RDONLY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_write(f, "x", 1), -EBADF);
	file_put(f);
}

static void vfs_append_writes_at_end(struct ktest *t)
{
	struct file *f;
	char buf[16] = { 0 };
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_create_file(P("f"), 0644, "abc", 3), 0);
	f = vfs_open(dir, "f", O_RDWR | O_APPEND, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_write(f, "de", 2), 2);
	vfs_lseek(f, 0, SEEK_SET);
	KEXPECT_EQ(t, vfs_write(f, "f", 1), 1);
	KEXPECT_EQ(t, vfs_pread(f, buf, sizeof(buf), 0), 6);
	KEXPECT_STREQ(t, buf, "abcdef");
	file_put(f);
}

static void vfs_trunc_empties_file(struct ktest *t)
{
	struct file *f;
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_create_file(P("f"), 0644, "abc", 3), 0);
	f = vfs_open(dir, "f", O_WRONLY | O_TRUNC, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, f->inode->size, 0);
	file_put(f);
	/* O_CREAT on an existing file keeps it (no O_EXCL, no O_TRUNC). */
	KASSERT_EQ(t, vfs_create_file(P("g"), 0644, "abc", 3), 0);
	f = vfs_open(dir, "g", O_WRONLY | O_CREAT, 0644, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, f->inode->size, 3);
	KEXPECT_EQ(t, ramfs_truncate(f->inode, 10000), 0);
	KEXPECT_EQ(t, f->inode->size, 10000);
	file_put(f);
}

static void vfs_large_file_with_hole_reads_back(struct ktest *t)
{
	const size_t len = 3 * PAGE_SIZE + 5;
	uint8_t *wbuf = kmalloc(len, GFP_KERNEL), *rbuf = kmalloc(len, GFP_KERNEL);
	struct file *f = NULL;
	bool same = true;
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	if (!wbuf || !rbuf)
		goto out;
	for (size_t i = 0; i < len; i++)
		wbuf[i] = i * 7 + 1;
	f = vfs_open(dir, "big", O_CREAT | O_RDWR, 0644, &err);
	KEXPECT_NOT_NULL(t, f);
	if (!f)
		goto out;
	KEXPECT_EQ(t, vfs_lseek(f, 10000, SEEK_SET), 10000);
	KEXPECT_EQ(t, vfs_write(f, wbuf, len), (ssize_t)len);
	KEXPECT_EQ(t, f->inode->size, 10000 + len);
	KEXPECT_EQ(t, vfs_pread(f, rbuf, 10000, 0), 10000);
	for (size_t i = 0; i < 10000; i++)
		same &= rbuf[i] == 0;
	KEXPECT_TRUE(t, same);
	KEXPECT_EQ(t, vfs_pread(f, rbuf, len + 100, 10000), (ssize_t)len);
	KEXPECT_EQ(t, memcmp(rbuf, wbuf, len), 0);
	/* Cutting it mid-page zeroes the rest of that page. */
	KEXPECT_EQ(t, ramfs_truncate(f->inode, 10001), 0);
	KEXPECT_EQ(t, ramfs_truncate(f->inode, 10010), 0);
	KEXPECT_EQ(t, vfs_pread(f, rbuf, 10, 10000), 10);
	KEXPECT_EQ(t, rbuf[0], wbuf[0]);
	KEXPECT_EQ(t, rbuf[1], 0);
out:
	file_put(f);
	kfree(wbuf);
	kfree(rbuf);
}

struct listing {
	char names[8][16];
	unsigned int types[8];
	int nr, limit;
};

static bool collect(void *ctx, const char *name, size_t len, uint64_t ino, unsigned int type)
{
	struct listing *l = ctx;

	if (l->nr >= l->limit || len >= 16)
		return false;
	memcpy(l->names[l->nr], name, len);
	l->names[l->nr][len] = '\0';
	l->types[l->nr++] = type;
	return true;
}

static void vfs_iterate_lists_entries_and_resumes(struct ktest *t)
{
	struct listing l = { .limit = 3 };
	struct file *f;
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_create_file(P("x"), 0644, "", 0), 0);
	KASSERT_EQ(t, vfs_mkdir(P("y"), 0755), 0);
	KASSERT_EQ(t, vfs_symlink(P("z"), "x"), 0);
	f = vfs_open(dir, ".", O_RDONLY | O_DIRECTORY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_iterate(f, collect, &l), 0);
	KEXPECT_EQ(t, l.nr, 3); /* stopped by a full buffer */
	l.limit = 8;
	KEXPECT_EQ(t, vfs_iterate(f, collect, &l), 0);
	KEXPECT_EQ(t, vfs_iterate(f, collect, &l), 0); /* at the end: nothing */
	KASSERT_EQ(t, l.nr, 5);
	KEXPECT_STREQ(t, l.names[0], ".");
	KEXPECT_STREQ(t, l.names[1], "..");
	KEXPECT_STREQ(t, l.names[2], "x");
	KEXPECT_EQ(t, l.types[2], DT_REG);
	KEXPECT_STREQ(t, l.names[3], "y");
	KEXPECT_EQ(t, l.types[3], DT_DIR);
	KEXPECT_STREQ(t, l.names[4], "z");
	KEXPECT_EQ(t, l.types[4], DT_LNK);
	KEXPECT_EQ(t, vfs_lseek(f, 0, SEEK_SET), 0);
	l.nr = 0;
	KEXPECT_EQ(t, vfs_iterate(f, collect, &l), 0);
	KEXPECT_EQ(t, l.nr, 5);
	file_put(f);
	f = vfs_open(dir, "x", O_RDONLY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_iterate(f, collect, &l), -ENOTDIR);
	file_put(f);
}

static void vfs_device_nodes_work(struct ktest *t)
{
	char buf[8];
	struct file *f;
	struct inode *inode;
	int err;

	vfs_init();
	f = vfs_open(NULL, "/dev/null", O_RDWR, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_read(f, buf, sizeof(buf)), 0);
	KEXPECT_EQ(t, vfs_write(f, "abc", 3), 3);
	file_put(f);
	f = vfs_open(NULL, "/dev/zero", O_RDONLY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	memset(buf, 0x55, sizeof(buf));
	KEXPECT_EQ(t, vfs_read(f, buf, sizeof(buf)), 8);
	KEXPECT_EQ(t, buf[0] | buf[7], 0);
	file_put(f);
	KASSERT_EQ(t, vfs_lookup(NULL, "/dev/console", false, &inode), 0);
	KEXPECT_EQ(t, inode->mode & S_IFMT, S_IFCHR);
	KEXPECT_EQ(t, inode->rdev, 5 << 8 | 1);
	KEXPECT_EQ(t, vfs_lookup(NULL, "/proc", false, &inode), 0);
	KEXPECT_EQ(t, vfs_lookup(NULL, "/sys", false, &inode), 0);
	KEXPECT_EQ(t, vfs_lookup(NULL, "/tmp", false, &inode), 0);
	KEXPECT_TRUE(t, S_ISDIR(inode->mode));
}

static void vfs_mknod_without_driver_opens_enxio(struct ktest *t)
{
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_mknod(P("nodev"), S_IFCHR | 0600, NULL, NULL), 0);
	KEXPECT_NULL(t, vfs_open(dir, "nodev", O_RDONLY, 0, &err));
	KEXPECT_EQ(t, err, -ENXIO);
	KEXPECT_EQ(t, vfs_mkdir(P("nodev"), 0755), -EEXIST);
	KEXPECT_EQ(t, vfs_mkdir("/", 0755), -EEXIST);
	KEXPECT_EQ(t, vfs_mkdir(P("nodev/x"), 0755), -ENOTDIR);
}

static void vfs_inode_path_names_a_directory(struct ktest *t)
{
	struct inode *d;
	char buf[64];

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_mkdir(P("sub"), 0755), 0);
	KASSERT_EQ(t, vfs_lookup(NULL, P("sub"), false, &d), 0);
	KEXPECT_EQ(t, vfs_inode_path(d, buf, sizeof(buf)), (int)strlen(P("sub")));
	KEXPECT_STREQ(t, buf, P("sub"));
	KEXPECT_EQ(t, vfs_inode_path(vfs_root(), buf, sizeof(buf)), 1);
	KEXPECT_STREQ(t, buf, "/");
	KEXPECT_EQ(t, vfs_inode_path(d, buf, 5), -ENAMETOOLONG);
}

/* A stand-in for procfs: every name looks up to one inode. */
static struct inode fake_child = { .mode = S_IFREG | 0444, .ino = 999999 };

static struct inode *fake_lookup(struct inode *d, const char *name, size_t len)
{
	fake_child.parent = d;
	return &fake_child;
}

static const struct inode_operations fake_iops = { .lookup = fake_lookup };
static const struct file_operations fake_fops = { 0 };

static void vfs_set_dir_ops_hands_over_a_directory(struct ktest *t)
{
	struct inode *inode;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_mkdir(P("p"), 0555), 0);
	KASSERT_EQ(t, vfs_set_dir_ops(P("p"), &fake_iops, &fake_fops), 0);
	KEXPECT_EQ(t, vfs_lookup(NULL, P("p/anything"), false, &inode), 0);
	KEXPECT_EQ(t, inode, &fake_child);
	KEXPECT_EQ(t, vfs_mkdir(P("p/new"), 0755), -EEXIST); /* the lookup finds it */
	KEXPECT_EQ(t, vfs_set_dir_ops(P("p/anything"), &fake_iops, &fake_fops), -ENOTDIR);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("p"), true), -EBUSY); /* a mount point */
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("p/anything"), false), -EPERM);
}

static void vfs_unlink_keeps_open_files_readable(struct ktest *t)
{
	struct inode *inode;
	struct file *f;
	char buf[8] = { 0 };
	int err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_create_file(P("f"), 0644, "data", 4), 0);
	f = vfs_open(dir, "f", O_RDWR, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("f"), false), 0);
	KEXPECT_EQ(t, vfs_lookup(NULL, P("f"), false, &inode), -ENOENT);
	KEXPECT_EQ(t, f->inode->nlink, 0);
	KEXPECT_EQ(t, vfs_read(f, buf, sizeof(buf)), 4);
	KEXPECT_STREQ(t, buf, "data");
	file_put(f); /* frees the inode */
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("f"), false), -ENOENT);
	/* The name can be used again. */
	KEXPECT_EQ(t, vfs_create_file(P("f"), 0644, "x", 1), 0);
}

static void vfs_unlink_and_rmdir_errors(struct ktest *t)
{
	struct inode *d;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_mkdir(P("d"), 0755), 0);
	KASSERT_EQ(t, vfs_create_file(P("d/f"), 0644, "", 0), 0);
	KASSERT_EQ(t, vfs_lookup(NULL, dir, false, &d), 0);
	KEXPECT_EQ(t, d->nlink, 3);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("d"), true), -ENOTEMPTY);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("d"), false), -EISDIR);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("d/f"), true), -ENOTDIR);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("d/f/"), false), -ENOTDIR);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("d/."), true), -EINVAL);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("nope"), false), -ENOENT);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, "/", true), -EBUSY);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("d/f"), false), 0);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, P("d/"), true), 0);
	KEXPECT_EQ(t, d->nlink, 2);
	KEXPECT_EQ(t, vfs_lookup(NULL, P("d"), false, &d), -ENOENT);
}

static bool unlink_as_listed(void *ctx, const char *name, size_t len, uint64_t ino,
			     unsigned int type)
{
	int *seen = ctx, bit;
	char path[64];

	if (name[0] == '.')
		return true;
	bit = 1 << (name[0] - 'a'); /* after the check: '.' - 'a' is a negative shift */
	snprintf(path, sizeof(path), "%s/%.*s", dir, (int)len, name);
	if (vfs_unlink_at(NULL, path, false) == 0) /* frees name: do not use it after */
		*seen |= bit;
	return false; /* one entry per call, as a tiny getdents buffer would */
}

static void vfs_listing_survives_deleting_as_it_goes(struct ktest *t)
{
	struct file *f;
	int seen = 0, err;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_create_file(P("a"), 0644, "", 0), 0);
	KASSERT_EQ(t, vfs_create_file(P("b"), 0644, "", 0), 0);
	KASSERT_EQ(t, vfs_create_file(P("c"), 0644, "", 0), 0);
	f = vfs_open(dir, ".", O_RDONLY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	for (int i = 0; i < 10; i++) {
		vfs_iterate(f, unlink_as_listed, &seen);
		f->pos++; /* what getdents does after an entry was taken */
	}
	KEXPECT_EQ(t, seen, 7);
	file_put(f);
	KEXPECT_EQ(t, vfs_unlink_at(NULL, dir, true), 0); /* empty now */
}

static void vfs_rename_moves_and_replaces(struct ktest *t)
{
	struct inode *a, *sub, *inode;

	KASSERT_TRUE(t, fresh_dir(t));
	KASSERT_EQ(t, vfs_create_file(P("f"), 0644, "1", 1), 0);
	KASSERT_EQ(t, vfs_create_file(P("g"), 0644, "22", 2), 0);
	KASSERT_EQ(t, vfs_mkdir(P("a"), 0755), 0);
	KASSERT_EQ(t, vfs_mkdir(P("a/sub"), 0755), 0);
	KASSERT_EQ(t, vfs_mkdir(P("b"), 0755), 0);
	KASSERT_EQ(t, vfs_create_file(P("b/x"), 0644, "", 0), 0);
	KASSERT_EQ(t, vfs_lookup(NULL, P("a"), false, &a), 0);
	KASSERT_EQ(t, vfs_lookup(NULL, P("a/sub"), false, &sub), 0);

	KEXPECT_EQ(t, vfs_rename_at(NULL, P("f"), NULL, P("g"), RENAME_NOREPLACE), -EEXIST);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("f"), NULL, P("g"), 0), 0);
	KEXPECT_EQ(t, vfs_lookup(NULL, P("f"), false, &inode), -ENOENT);
	KASSERT_EQ(t, vfs_lookup(NULL, P("g"), false, &inode), 0);
	KEXPECT_EQ(t, inode->size, 1);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("g"), NULL, P("a"), 0), -EISDIR);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("a"), NULL, P("g"), 0), -ENOTDIR);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("a"), NULL, P("b"), 0), -ENOTEMPTY);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("a"), NULL, P("a/sub/in"), 0), -EINVAL);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("a/."), NULL, P("c"), 0), -EBUSY);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("g/"), NULL, P("h"), 0), -ENOTDIR);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("nope"), NULL, P("h"), 0), -ENOENT);
	/* A directory moves with its contents; ".." follows it. */
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("a/sub"), NULL, P("b/moved"), 0), 0);
	KEXPECT_EQ(t, vfs_lookup(NULL, P("b/moved/.."), false, &inode), 0);
	KEXPECT_EQ(t, vfs_lookup(NULL, P("b/moved"), false, &inode), 0);
	KEXPECT_EQ(t, inode, sub);
	KEXPECT_EQ(t, a->nlink, 2);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("a"), NULL, P("b/moved"), 0), 0); /* over an empty dir */
	KEXPECT_EQ(t, vfs_lookup(NULL, P("b/moved"), false, &inode), 0);
	KEXPECT_EQ(t, inode, a);
	KEXPECT_EQ(t, vfs_rename_at(NULL, P("b/x"), NULL, "/dev/x", 0), 0); /* same ramfs */
	KEXPECT_EQ(t, vfs_unlink_at(NULL, "/dev/x", false), 0);
}

static void fdtable_installs_lowest_and_closes_on_exec(struct ktest *t)
{
	struct task *a = kzalloc(sizeof(*a), GFP_KERNEL), *b = kzalloc(sizeof(*a), GFP_KERNEL);
	struct file *f = file_alloc(NULL, NULL);
	struct file *g = file_alloc(NULL, NULL);

	if (!a || !b || !f || !g || !(a->files = files_alloc())) {
		ktest_fail(t, __FILE__, __LINE__, "no memory");
		goto out;
	}
	KEXPECT_EQ(t, fd_install(a, f), 0);
	KEXPECT_EQ(t, fd_install_from(a, g, 5, true), 5);
	file_get(f);
	KEXPECT_EQ(t, fd_install(a, f), 1);
	KEXPECT_EQ(t, f->refcount, 2);
	KEXPECT_EQ(t, fd_close(a, 0), 0);
	KEXPECT_EQ(t, fd_close(a, 0), -EBADF);
	KEXPECT_EQ(t, fd_close(a, TASK_MAX_FDS), -EBADF);
	KEXPECT_EQ(t, f->refcount, 1);
	KEXPECT_TRUE(t, fd_get_cloexec(a, 5));
	KASSERT_NOT_NULL(t, b->files = files_dup(a->files)); /* fork */
	KEXPECT_EQ(t, g->refcount, 2);
	KEXPECT_TRUE(t, fd_get_cloexec(b, 5));
	KEXPECT_EQ(t, files_exec(b), 0);
	KEXPECT_NULL(t, fd_peek(b, 5));
	KEXPECT_EQ(t, fd_peek(b, 1), f);
	KEXPECT_EQ(t, g->refcount, 1);
	files_exit(b);
	KEXPECT_NULL(t, b->files);
	KEXPECT_EQ(t, f->refcount, 1);
	files_exit(a); /* frees f and g */
out:
	kfree(a);
	kfree(b);
}

/* CLONE_FILES: two tasks, one table. An fd one opens the other sees; the
 * table lives until both let go; execve in one gives it a copy of its
 * own, leaving the other's fds alone. */
static void fdtable_shared_by_clone_files_until_exec(struct ktest *t)
{
	struct task *a = kzalloc(sizeof(*a), GFP_KERNEL), *b = kzalloc(sizeof(*a), GFP_KERNEL);
	struct file *f = file_alloc(NULL, NULL), *g = file_alloc(NULL, NULL);

	if (!a || !b || !f || !g || !(a->files = files_alloc())) {
		ktest_fail(t, __FILE__, __LINE__, "no memory");
		goto out;
	}
	files_get(a->files);
	b->files = a->files;
	KEXPECT_EQ(t, fd_install(a, f), 0);
	KEXPECT_EQ(t, fd_peek(b, 0), f);
	KEXPECT_EQ(t, fd_install_from(b, g, 3, true), 3);
	KEXPECT_EQ(t, fd_peek(a, 3), g);
	KEXPECT_EQ(t, files_exec(b), 0); /* b's copy, without the close-on-exec fd 3 */
	KEXPECT_TRUE(t, a->files != b->files);
	KEXPECT_EQ(t, fd_peek(a, 3), g);
	KEXPECT_NULL(t, fd_peek(b, 3));
	KEXPECT_EQ(t, fd_peek(b, 0), f);
	KEXPECT_EQ(t, f->refcount, 2);
	KEXPECT_EQ(t, g->refcount, 1);
	files_exit(b);
	KEXPECT_EQ(t, f->refcount, 1);
	KEXPECT_EQ(t, fd_peek(a, 0), f);
	files_exit(a);
	f = g = NULL;
out:
	kfree(a);
	kfree(b);
}

static const struct ktest_case vfs_cases[] = {
	KTEST_CASE(vfs_lookup_handles_dots_and_repeated_slashes),
	KTEST_CASE(vfs_lookup_relative_to_cwd),
	KTEST_CASE(vfs_lookup_errors),
	KTEST_CASE(vfs_symlinks_are_followed_unless_last_and_nofollow),
	KTEST_CASE(vfs_symlink_loops_are_eloop),
	KTEST_CASE(vfs_create_write_seek_read),
	KTEST_CASE(vfs_open_errors),
	KTEST_CASE(vfs_append_writes_at_end),
	KTEST_CASE(vfs_trunc_empties_file),
	KTEST_CASE(vfs_large_file_with_hole_reads_back),
	KTEST_CASE(vfs_iterate_lists_entries_and_resumes),
	KTEST_CASE(vfs_device_nodes_work),
	KTEST_CASE(vfs_mknod_without_driver_opens_enxio),
	KTEST_CASE(vfs_inode_path_names_a_directory),
	KTEST_CASE(vfs_set_dir_ops_hands_over_a_directory),
	KTEST_CASE(vfs_unlink_keeps_open_files_readable),
	KTEST_CASE(vfs_unlink_and_rmdir_errors),
	KTEST_CASE(vfs_listing_survives_deleting_as_it_goes),
	KTEST_CASE(vfs_rename_moves_and_replaces),
	KTEST_CASE(fdtable_installs_lowest_and_closes_on_exec),
	KTEST_CASE(fdtable_shared_by_clone_files_until_exec),
};
KTEST_SUITE(vfs, vfs_cases);
