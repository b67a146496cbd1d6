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
	down_write(&current->mm->mmap_lock);
	ret = do_mmap(current->mm, ARG(0), ARG(1), (int)ARG(2), flags, f, off >> PAGE_SHIFT);
	up_write(&current->mm->mmap_lock);
	if (f)
		file_put(f);
	return ret;
}

/* The rest change the address space as a whole: each holds mmap_lock for
 * writing, so no fault (which reads the VMAs) runs meanwhile. */
#define WITH_MMAP_WRITE(expr)                                                  \
	({                                                                     \
		struct mm_struct *__mm = current->mm;                          \
		down_write(&__mm->mmap_lock);                                  \
		long __r = (long)(expr);                                       \
		up_write(&__mm->mmap_lock);                                    \
		__r;                                                           \
	})

SYSCALL_DEFINE(SYS_munmap, munmap) { return WITH_MMAP_WRITE(do_munmap(__mm, ARG(0), ARG(1))); }
SYSCALL_DEFINE(SYS_mprotect, mprotect)
{
	return WITH_MMAP_WRITE(do_mprotect(__mm, ARG(0), ARG(1), (int)ARG(2)));
}
SYSCALL_DEFINE(SYS_brk, brk) { return WITH_MMAP_WRITE(do_brk(__mm, ARG(0))); }
SYSCALL_DEFINE(SYS_madvise, madvise)
{
	return WITH_MMAP_WRITE(do_madvise(__mm, ARG(0), ARG(1), (int)ARG(2)));
}

SYSCALL_DEFINE(SYS_mremap, mremap)
{
	return WITH_MMAP_WRITE(do_mremap(__mm, ARG(0), ARG(1), ARG(2), (int)ARG(3), ARG(4)));
}
