/* Write access versus execution: inode->writecount counts the open files
 * that may write the inode (positive) or the processes running it
 * (negative), never both, as Linux's i_writecount. Opening a running
 * program for writing, truncating it, or running a file open for writing
 * fails with -ETXTBSY, so that no process ever sees its text change
 * under it (Pagoda pages program text in from the file on demand).
 *
 * Shared data: the inode's writecount, changed with compare-and-swap (as
 * Linux's atomic_t), so that a check and its change are one step on any
 * CPU. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/vfs.h>

int get_write_access(struct inode *inode)
{
	int v = atomic_load(&inode->writecount);

	do {
		if (v < 0)
			return -ETXTBSY;
	} while (!atomic_cmpxchg(&inode->writecount, &v, v + 1));
	return 0;
}

void put_write_access(struct inode *inode)
{
	atomic_fetch_sub(&inode->writecount, 1);
}

int deny_write_access(struct file *f)
{
	int v = atomic_load(&f->inode->writecount);

	do {
		if (v > 0)
			return -ETXTBSY;
	} while (!atomic_cmpxchg(&f->inode->writecount, &v, v - 1));
	return 0;
}

void allow_write_access(struct file *f)
{
	atomic_fetch_add(&f->inode->writecount, 1);
}
