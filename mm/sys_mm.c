/* The mmap family as system calls: argument checks that belong to the
 * system-call boundary (fds, offsets), then mm/mmap.c. */
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/mm.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/vfs.h>

SYSCALL_DEFINE(SYS_mmap, mmap)
{
	int flags = (int)ARG(3), fd = (int)ARG(4);
	uint64_t off = ARG(5);
	struct file *f = NULL;
	long ret;

	if (off & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS)) {
		f = fd_get(fd); /* a reference of ours; the VMA takes its own */
		if (!f)
			return -EBADF;
	}
	ret = do_mmap(current->mm, ARG(0), ARG(1), (int)ARG(2), flags, f, off >> PAGE_SHIFT);
	if (f)
		file_put(f);
	return ret;
}

SYSCALL_DEFINE(SYS_munmap, munmap) { return do_munmap(current->mm, ARG(0), ARG(1)); }
SYSCALL_DEFINE(SYS_mprotect, mprotect) { return do_mprotect(current->mm, ARG(0), ARG(1), (int)ARG(2)); }
SYSCALL_DEFINE(SYS_brk, brk) { return (long)do_brk(current->mm, ARG(0)); }
SYSCALL_DEFINE(SYS_madvise, madvise) { return do_madvise(current->mm, ARG(0), ARG(1), (int)ARG(2)); }

SYSCALL_DEFINE(SYS_mremap, mremap)
{
	return do_mremap(current->mm, ARG(0), ARG(1), ARG(2), (int)ARG(3), ARG(4));
}
