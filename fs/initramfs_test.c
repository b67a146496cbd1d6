/* Tests of the cpio newc unpacker: archives are built here, entry by
 * entry, then unpacked whole, cut short, or with one field spoiled. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

static char arch[4096];

/* Append one newc entry at *off (header, name and data, each padded to 4
 * bytes). namesize 0 means strlen(name) + 1; filesize is len. */
static void newc_add(size_t *off, const char *name, uint32_t mode, const void *data,
		     size_t len, uint32_t namesize)
{
	char *h = arch + *off;

	if (!namesize)
		namesize = strlen(name) + 1;
	snprintf(h, sizeof(arch) - *off,
		 "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		 1, mode, 0, 0, 1, 1234, (unsigned int)len, 0, 0, 0, 0, namesize, 0);
	*off += 110;
	memcpy(arch + *off, name, strlen(name) + 1);
	*off = ALIGN_UP(*off + strlen(name) + 1, (size_t)4);
	memcpy(arch + *off, data, len);
	*off = ALIGN_UP(*off + len, (size_t)4);
}

static size_t newc_trailer(size_t off)
{
	newc_add(&off, "TRAILER!!!", 0, "", 0, 0);
	return off;
}

static void initramfs_unpacks_dirs_files_and_symlinks(struct ktest *t)
{
	struct inode *inode;
	struct file *f;
	char buf[8] = { 0 };
	size_t off = 0;
	int err;

	vfs_init();
	memset(arch, 0, sizeof(arch));
	newc_add(&off, ".", S_IFDIR | 0755, "", 0, 0);
	newc_add(&off, "./tmp/irt", S_IFDIR | 0700, "", 0, 0);
	newc_add(&off, "tmp/irt/hello", S_IFREG | 0755, "hello", 5, 0);
	newc_add(&off, "tmp/irt/link", S_IFLNK | 0777, "hello", 5, 0);
	newc_add(&off, "tmp/irt/deep/er/file", S_IFREG | 0644, "", 0, 0);
	off = newc_trailer(off);
	KASSERT_EQ(t, initramfs_unpack(arch, off), 5);

	KASSERT_EQ(t, vfs_lookup(NULL, "/tmp/irt", false, &inode), 0);
	KEXPECT_EQ(t, inode->mode, S_IFDIR | 0700);
	KASSERT_EQ(t, vfs_lookup(NULL, "/tmp/irt/hello", true, &inode), 0);
	KEXPECT_EQ(t, inode->mode, S_IFREG | 0755);
	KEXPECT_EQ(t, inode->size, 5);
	KEXPECT_EQ(t, inode->mtime, 1234);
	f = vfs_open(NULL, "/tmp/irt/link", O_RDONLY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_read(f, buf, sizeof(buf)), 5);
	KEXPECT_STREQ(t, buf, "hello");
	file_put(f);
	KEXPECT_EQ(t, vfs_lookup(NULL, "/tmp/irt/deep/er/file", false, &inode), 0);

	/* Unpacking again replaces files and keeps directories. */
	KEXPECT_EQ(t, initramfs_unpack(arch, off), 5);
}

static void initramfs_accepts_padding_between_archives(struct ktest *t)
{
	struct inode *inode;
	size_t off = 0;

	vfs_init();
	memset(arch, 0, sizeof(arch));
	off = newc_trailer(off); /* an empty archive */
	off += 16;               /* NUL padding */
	newc_add(&off, "tmp/irt2", S_IFDIR | 0755, "", 0, 0);
	off = newc_trailer(off);
	KEXPECT_EQ(t, initramfs_unpack(arch, off), 1);
	KEXPECT_EQ(t, vfs_lookup(NULL, "/tmp/irt2", false, &inode), 0);
	KEXPECT_EQ(t, initramfs_unpack(arch, 0), 0);
}

/* Unpack a spoiled archive with the error messages kept off the screen. */
static int unpack_bad(size_t len)
{
	bool was = printk_set_quiet(true);
	int r = initramfs_unpack(arch, len);

	printk_set_quiet(was);
	return r;
}

static void initramfs_rejects_malformed_archives(struct ktest *t)
{
	size_t off = 0, end;

	vfs_init();
	memset(arch, 0, sizeof(arch));
	newc_add(&off, "tmp/irt3", S_IFREG | 0644, "data", 4, 0);
	end = newc_trailer(off);

	KEXPECT_EQ(t, unpack_bad(50), -EINVAL);        /* truncated header */
	KEXPECT_EQ(t, unpack_bad(off + 20), -EINVAL);  /* truncated trailer header */
	KEXPECT_EQ(t, unpack_bad(112), -EINVAL);       /* name cut off */
	KEXPECT_EQ(t, unpack_bad(off - 2), -EINVAL);   /* data cut off */

	arch[5] = '9'; /* magic */
	KEXPECT_EQ(t, unpack_bad(end), -EINVAL);
	arch[5] = '1';
	arch[6 + 8 * 6 + 3] = 'g'; /* a non-hex digit in filesize */
	KEXPECT_EQ(t, unpack_bad(end), -EINVAL);

	off = 0;
	newc_add(&off, "tmp/irt3", S_IFREG | 0644, "data", 4, 0x7000); /* namesize too big */
	KEXPECT_EQ(t, unpack_bad(off), -EINVAL);
	off = 0;
	newc_add(&off, "tmp/irt3", S_IFREG | 0644, "data", 4, 3); /* no NUL within namesize */
	KEXPECT_EQ(t, unpack_bad(off), -EINVAL);
	off = 0;
	newc_add(&off, "tmp/irt3", S_IFREG | 0644, "data", 4, 0);
	memcpy(arch + 6 + 8 * 6, "7fffffff", 8); /* filesize past the end */
	KEXPECT_EQ(t, unpack_bad(off), -EINVAL);
	memcpy(arch + 6 + 8 * 11, "ffffffff", 8); /* namesize near 4 GiB */
	KEXPECT_EQ(t, unpack_bad(off), -EINVAL);
}

static const struct ktest_case initramfs_cases[] = {
	KTEST_CASE(initramfs_unpacks_dirs_files_and_symlinks),
	KTEST_CASE(initramfs_accepts_padding_between_archives),
	KTEST_CASE(initramfs_rejects_malformed_archives),
};
KTEST_SUITE(initramfs, initramfs_cases);
