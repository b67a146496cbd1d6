/* Write access versus execution: inode->writecount counts the open files
 * that may write the inode (positive) or the processes running it
 * (negative), never both, as Linux's i_writecount. Opening a running
 * program for writing, truncating it, or running a file open for writing
 * fails with -ETXTBSY, so that no process ever sees its text change
 * under it (Pagoda pages program text in from the file on demand).
 *
 * Shared data: the inode's writecount. One CPU, and none of these
 * sleeps; with SMP the count wants to be atomic (Linux's atomic_t). */
#include <pagoda/errno.h>
#include <pagoda/vfs.h>

int get_write_access(struct inode *inode)
{
	if (inode->writecount < 0)
		return -ETXTBSY;
	inode->writecount++;
	return 0;
}

void put_write_access(struct inode *inode)
{
	inode->writecount--;
}

int deny_write_access(struct file *f)
{
	if (f->inode->writecount > 0)
		return -ETXTBSY;
	f->inode->writecount--;
	return 0;
}

void allow_write_access(struct file *f)
{
	f->inode->writecount++;
}
