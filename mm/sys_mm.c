/* The mmap family as system calls: argument checks that belong to the
 * system-call boundary (fds, offsets), then mm/mmap.c. */
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/mm.h>
#include <pagoda/slab.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define SYS_msync 26
#define SYS_mincore 27
#define SYS_mlock 149
#define SYS_munlock 150
#define SYS_mlockall 151
#define SYS_munlockall 152
#define SYS_mlock2 325

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
	/* MAP_POPULATE and locked mappings come in at once (errors ignored,
	 * as Linux's mm_populate() after mmap). */
	if (ret >= 0 && ((flags & (MAP_POPULATE | MAP_LOCKED)) ||
			 (vma_lookup(current->mm, ret)->vm_flags & VM_LOCKED)))
		mm_populate_locked(current->mm, ret, ret + ALIGN_UP(ARG(1), PAGE_SIZE));
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

SYSCALL_DEFINE(SYS_mlock, mlock) { return WITH_MMAP_WRITE(do_mlock(__mm, ARG(0), ARG(1), 0)); }
SYSCALL_DEFINE(SYS_mlock2, mlock2)
{
	return WITH_MMAP_WRITE(do_mlock(__mm, ARG(0), ARG(1), (unsigned int)ARG(2)));
}
SYSCALL_DEFINE(SYS_munlock, munlock) { return WITH_MMAP_WRITE(do_munlock(__mm, ARG(0), ARG(1))); }
SYSCALL_DEFINE(SYS_mlockall, mlockall) { return WITH_MMAP_WRITE(do_mlockall(__mm, (int)ARG(0))); }
SYSCALL_DEFINE(SYS_munlockall, munlockall) { return WITH_MMAP_WRITE(do_munlockall(__mm)); }

SYSCALL_DEFINE(SYS_msync, msync)
{
	struct mm_struct *mm = current->mm;
	int r;

	down_read(&mm->mmap_lock);
	r = do_msync(mm, ARG(0), ARG(1), (int)ARG(2));
	up_read(&mm->mmap_lock);
	return r;
}

/* Linux's order: the start aligned (EINVAL), the range inside user space
 * (ENOMEM), the vector writable (EFAULT); then a page of results at a
 * time, filled under mmap_lock and copied out without it. */
SYSCALL_DEFINE(SYS_mincore, mincore)
{
	struct mm_struct *mm = current->mm;
	uintptr_t start = ARG(0);
	size_t len = ARG(1), pages = (len >> PAGE_SHIFT) + !!(len & (PAGE_SIZE - 1));
	unsigned char *vec = (unsigned char *)ARG(2), *tmp;
	long r = 0;

	if (start & (PAGE_SIZE - 1))
		return -EINVAL;
	if (len > USER_SPACE_END || start > USER_SPACE_END - len)
		return -ENOMEM;
	if (!access_ok(vec, pages))
		return -EFAULT;
	if (!(tmp = kmalloc(PAGE_SIZE, GFP_KERNEL)))
		return -EAGAIN;
	while (pages) {
		down_read(&mm->mmap_lock);
		r = do_mincore(mm, start, MIN(pages, (size_t)PAGE_SIZE), tmp);
		up_read(&mm->mmap_lock);
		if (r <= 0)
			break;
		if (copy_to_user(vec, tmp, r)) {
			r = -EFAULT;
			break;
		}
		pages -= r;
		vec += r;
		start += r * PAGE_SIZE;
		r = 0;
	}
	kfree(tmp);
	return r;
}
