/* The initramfs: a cpio archive in the "newc" format (Linux's
 * Documentation/driver-api/early-userspace/buffer-format.rst), unpacked
 * into the ramfs root at boot. Each entry is
 *
 *   offset 0    "070701" (or "070702": the same with a checksum we ignore)
 *          6    13 fields of 8 hex digits: ino mode uid gid nlink mtime
 *               filesize devmajor devminor rdevmajor rdevminor namesize check
 *          110  the name, namesize bytes with its NUL, padded so that the
 *               data starts at a multiple of 4 (from the archive's start)
 *               the data, filesize bytes, padded to a multiple of 4
 *
 * and an entry named "TRAILER!!!" ends an archive. Archives may follow
 * one another, with NUL padding between them. The archive comes from
 * outside the kernel: every length is checked against the buffer before
 * it is used, and a bad entry stops the unpacking with -EINVAL and a
 * message naming its offset. */
#include <pagoda/bootinfo.h>
#include <pagoda/compiler.h>
#include <pagoda/errno.h>
#include <pagoda/layout.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

#define NEWC_HDR_LEN 110
#define NEWC_NR_FIELDS 13
#define NEWC_TRAILER "TRAILER!!!"

enum newc_field {
	F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_DEVMAJOR, F_DEVMINOR,
	F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK,
};

static const char *const newc_field_names[NEWC_NR_FIELDS] = {
	"ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor",
	"rdevmajor", "rdevminor", "namesize", "check",
};

/* One parsed entry; name and data point into the archive. */
struct cpio_entry {
	uint32_t f[NEWC_NR_FIELDS];
	const char *name; /* NUL-terminated: checked */
	const uint8_t *data;
	size_t next;      /* offset of the next header */
};

static int hex8(const char *s, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* Parse and check the entry at off. 0, or -EINVAL after saying why. */
static int newc_parse(const uint8_t *buf, size_t len, size_t off, struct cpio_entry *e)
{
	const char *h = (const char *)buf + off;
	size_t name_off = off + NEWC_HDR_LEN, data_off;

	if (len - off < NEWC_HDR_LEN) {
		pr_err("initramfs: truncated header at offset %zu: %zu bytes left, need %d\n",
		       off, len - off, NEWC_HDR_LEN);
		return -EINVAL;
	}
	if (memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2')) {
		pr_err("initramfs: bad magic at offset %zu (not a newc cpio header)\n", off);
		return -EINVAL;
	}
	for (int i = 0; i < NEWC_NR_FIELDS; i++) {
		if (hex8(h + 6 + 8 * i, &e->f[i])) {
			pr_err("initramfs: bad hex digit in field %s of the header at offset %zu\n",
			       newc_field_names[i], off);
			return -EINVAL;
		}
	}
	if (e->f[F_NAMESIZE] == 0 || e->f[F_NAMESIZE] > PATH_MAX) {
		pr_err("initramfs: bad name size %u in the header at offset %zu\n",
		       e->f[F_NAMESIZE], off);
		return -EINVAL;
	}
	if (e->f[F_NAMESIZE] > len - name_off) {
		pr_err("initramfs: name of %u bytes at offset %zu overruns the archive (%zu bytes)\n",
		       e->f[F_NAMESIZE], name_off, len);
		return -EINVAL;
	}
	e->name = (const char *)buf + name_off;
	if (e->name[e->f[F_NAMESIZE] - 1] != '\0') {
		pr_err("initramfs: name at offset %zu is not NUL-terminated\n", name_off);
		return -EINVAL;
	}
	data_off = ALIGN_UP(name_off + e->f[F_NAMESIZE], (size_t)4);
	if (data_off > len || e->f[F_FILESIZE] > len - data_off) {
		pr_err("initramfs: data of %u bytes for \"%s\" (header at offset %zu) overruns the archive (%zu bytes)\n",
		       e->f[F_FILESIZE], e->name, off, len);
		return -EINVAL;
	}
	e->data = buf + data_off;
	e->next = ALIGN_UP(data_off + e->f[F_FILESIZE], (size_t)4);
	return 0;
}

/* mkdir every directory above path, as "mkdir -p" would. */
static void make_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		vfs_mkdir(path, 0755);
		*p = '/';
	}
}

static int extract_symlink(const char *path, const struct cpio_entry *e)
{
	struct inode *inode;
	char *target;
	int err;

	if (e->f[F_FILESIZE] == 0 || e->f[F_FILESIZE] >= PATH_MAX)
		return -ENAMETOOLONG;
	target = kmalloc(e->f[F_FILESIZE] + 1, GFP_KERNEL);
	if (!target)
		return -ENOMEM;
	memcpy(target, e->data, e->f[F_FILESIZE]);
	target[e->f[F_FILESIZE]] = '\0';
	err = vfs_symlink(path, target);
	if (err == -EEXIST && vfs_lookup_at(NULL, path, true, &inode) == 0 &&
	    S_ISLNK(inode->mode) && ramfs_owns(inode))
		err = ramfs_set_link(inode, target, e->f[F_FILESIZE]); /* replace it */
	kfree(target);
	return err;
}

/* Create what the entry describes at path. 0 or a negative errno. */
static int extract_at(const char *path, const struct cpio_entry *e)
{
	uint32_t mode = e->f[F_MODE], rdev = e->f[F_RDEVMAJOR] << 8 | e->f[F_RDEVMINOR];
	struct inode *inode;
	int err;

	switch (mode & S_IFMT) {
	case S_IFDIR:
		err = vfs_mkdir(path, mode);
		if (err == -EEXIST && vfs_lookup_at(NULL, path, false, &inode) == 0 &&
		    S_ISDIR(inode->mode)) {
			inode->mode = S_IFDIR | (mode & 07777);
			err = 0;
		}
		break;
	case S_IFREG:
		err = vfs_create_file(path, mode, e->data, e->f[F_FILESIZE]);
		break;
	case S_IFLNK:
		err = extract_symlink(path, e);
		break;
	case S_IFCHR:
	case S_IFBLK:
		err = vfs_mknod_rdev(path, mode, rdev, chardev_fops(rdev), NULL);
		if (err == -EEXIST)
			err = 0; /* keep the node the kernel made */
		break;
	default:
		pr_warn("initramfs: %s: type %#o not supported, skipped\n", path, mode & S_IFMT);
		return 0;
	}
	if (!err && vfs_lookup_at(NULL, path, true, &inode) == 0)
		inode->mtime = e->f[F_MTIME];
	return err;
}

/* Make the entry's file. A failure here (no memory, a name clash) is
 * reported and the unpacking goes on, as Linux's does. */
static void newc_extract(const struct cpio_entry *e)
{
	const char *name = e->name;
	char *path;
	int err;

	while (name[0] == '/' || (name[0] == '.' && name[1] == '/'))
		name += name[0] == '/' ? 1 : 2;
	if (!name[0] || strcmp(name, ".") == 0)
		return; /* the root itself */
	path = kmalloc(PATH_MAX + 1, GFP_KERNEL);
	if (!path) {
		pr_err("initramfs: %s: no memory\n", name);
		return;
	}
	path[0] = '/';
	strlcpy(path + 1, name, PATH_MAX);
	make_parents(path);
	err = extract_at(path, e);
	if (err)
		pr_warn("initramfs: %s: error %d\n", path, err);
	kfree(path);
}

int initramfs_unpack(const void *data, size_t len)
{
	const uint8_t *buf = data;
	struct cpio_entry e;
	size_t off = 0;
	int count = 0, err;

	if (!vfs_root())
		return -ENOENT;
	while (off < len) {
		if (buf[off] == 0) { /* padding between archives */
			off++;
			continue;
		}
		err = newc_parse(buf, len, off, &e);
		if (err)
			return err;
		off = e.next;
		if (strcmp(e.name, NEWC_TRAILER) == 0)
			continue;
		newc_extract(&e);
		count++;
	}
	return count;
}

int initramfs_load_boot_module(void)
{
	const struct boot_module *m = &boot_info.modules[0];
	int n;

	if (boot_info.nr_modules == 0) {
		pr_info("initramfs: no boot module\n");
		return 0;
	}
	if (m->end <= m->start) {
		pr_err("initramfs: module [%#llx-%#llx) is empty\n", (unsigned long long)m->start,
		       (unsigned long long)m->end);
		return -EINVAL;
	}
	vfs_init();
	n = initramfs_unpack(phys_to_virt(m->start), m->end - m->start);
	if (n >= 0)
		pr_info("initramfs: %d entries from %llu bytes\n", n,
			(unsigned long long)(m->end - m->start));
	return n;
}
