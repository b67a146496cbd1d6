/* Shared memory as files: shared anonymous mappings, memfd_create and
 * /dev/shm (include/pagoda/shmem.h). The files are ramfs's (fs/ramfs.c),
 * their pages the page cache's (mm/filemap.c) with AS_SHMEM. */
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/printk.h>
#include <pagoda/procfs.h>
#include <pagoda/shmem.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>

#define SYS_memfd_create 319
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#define MFD_HUGETLB 0x0004U
#define MFD_NAME_MAX_LEN 249 /* NAME_MAX minus strlen("memfd:") */

struct file *shmem_file_setup(const char *name, uint64_t size, int *err)
{
	struct file *f = ramfs_open_unlinked(S_IFREG | 0777, AS_SHMEM, name, O_RDWR, err);

	if (f && (*err = ramfs_truncate(f->inode, size)) < 0) {
		file_put(f);
		return NULL;
	}
	return f;
}

int shmem_zero_setup(struct vm_area_struct *vma)
{
	int err;
	struct file *f = shmem_file_setup("/dev/zero", vma->vm_end - vma->vm_start, &err);

	if (!f)
		return err;
	vma->vm_file = f; /* the open file's reference is the VMA's */
	vma->vm_pgoff = 0;
	vma->vm_ops = &filemap_vm_ops;
	return 0;
}

void shmem_init(void)
{
	struct inode *dir;
	int err = vfs_mkdir("/dev/shm", 01777);

	if (!err)
		err = vfs_lookup("/", "/dev/shm", false, &dir);
	if (!err)
		err = ramfs_set_shmem_dir(dir);
	if (!err)
		err = procfs_mount_add("tmpfs", "/dev/shm", "tmpfs", "rw,nosuid,nodev");
	if (err)
		pr_err("shmem: /dev/shm: error %d\n", err);
}

/* memfd_create(2): an unnamed shmem file of size 0, shown in /proc as
 * "/memfd:NAME (deleted)", open for reading and writing. Sealing is
 * accepted and not enforced: no seal can be added (fcntl has none). */
SYSCALL_DEFINE(SYS_memfd_create, memfd_create)
{
	unsigned int flags = ARG(1);
	char *name = kmalloc(NAME_MAX + 2, GFP_KERNEL);
	struct file *f = NULL;
	long len, ret;
	int err;

	if (!name)
		return -ENOMEM;
	ret = -EINVAL;
	if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING))
		goto out; /* MFD_HUGETLB and the rest: no hugetlbfs here */
	strlcpy(name, "/memfd:", NAME_MAX + 2);
	len = strncpy_from_user(name + 7, (const char *)ARG(0), MFD_NAME_MAX_LEN + 1);
	ret = len < 0 ? -EFAULT : len > MFD_NAME_MAX_LEN ? -EINVAL : 0;
	if (ret)
		goto out;
	if (!(f = shmem_file_setup(name, 0, &err))) {
		ret = err;
		goto out;
	}
	ret = fd_install_from(current, f, 0, flags & MFD_CLOEXEC);
	if (ret < 0)
		file_put(f);
out:
	kfree(name);
	return ret;
}
