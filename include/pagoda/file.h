/* Open files and the operations behind them (fs/vfs.c).
 *
 * A struct file is an open instance of an inode: a position, flags and a
 * reference count (dup and fork share one file). Its operations come from
 * the inode: ramfs for ordinary files and directories, a driver for device
 * nodes, procfs for /proc. read and write take KERNEL buffers: the system
 * call layer copies to and from user memory, so a driver never touches a
 * user pointer except in ioctl, whose argument it passes to the uaccess
 * helpers itself. */
#ifndef PAGODA_FILE_H
#define PAGODA_FILE_H

#include <pagoda/mutex.h>
#include <pagoda/types.h>

struct file;
struct inode;
struct poll_table;
struct vm_area_struct;

/* getdents64 callback: emit one entry; returns false when the buffer is
 * full (stop iterating). */
typedef bool (*dir_emit_fn)(void *ctx, const char *name, size_t len, uint64_t ino,
			    unsigned int type);

struct file_operations {
	/* Read up to n bytes at *pos into buf (kernel memory); advance *pos.
	 * Returns the byte count, 0 at end of file, or a negative errno. */
	ssize_t (*read)(struct file *f, void *buf, size_t n, uint64_t *pos);
	ssize_t (*write)(struct file *f, const void *buf, size_t n, uint64_t *pos);
	/* NULL: the generic lseek over inode->size. */
	int64_t (*llseek)(struct file *f, int64_t off, int whence);
	/* arg is a user pointer or a number, as the request says. */
	long (*ioctl)(struct file *f, unsigned int cmd, unsigned long arg);
	/* Set up vma (its range, flags and vm_pgoff are filled in) for this
	 * file: usually by remap_pfn_range() or by setting vma->vm_ops.
	 * Returns 0 or a negative errno; on failure nothing stays mapped. */
	int (*mmap)(struct file *f, struct vm_area_struct *vma);
	/* Directories: emit entries from position f->pos on. */
	int (*iterate)(struct file *f, dir_emit_fn emit, void *ctx);
	int (*open)(struct inode *inode, struct file *f);
	/* The last reference to the file went away. */
	void (*release)(struct file *f);
	/* poll/select: the POLL* bits true now, registering with poll_wait()
	 * the queues a change is announced on (include/pagoda/poll.h). NULL:
	 * always ready to read and write. */
	unsigned int (*poll)(struct file *f, struct poll_table *pt);
	/* A device whose read never blocks nor falls short (/dev/zero): read()
	 * fills the whole count, chunk after chunk, as for a regular file. */
	bool never_blocks;
	/* write() does not look at the bytes (/dev/null, /dev/zero): the
	 * system call passes buf NULL, so a huge or unmapped user buffer costs
	 * nothing, as Linux's write_null() returns the count untouched. */
	bool discards_writes;
};

struct file {
	const struct file_operations *f_op;
	struct inode *inode; /* NULL for a file made by a driver alone */
	const char *name;    /* shown in /proc/PID/maps */
	void *private_data;  /* the driver's */
	uint64_t size;       /* bytes, for mappings past the end */
	uint64_t pos;        /* under pos_lock for a regular file or directory */
	struct mutex pos_lock; /* Linux's f_pos_lock: a read, write, lseek or
				* getdents moves pos as one step, even when
				* threads (or forked processes) share the file */
	unsigned int flags;  /* O_* from open */
	unsigned int refcount;
	bool writer;         /* holds write access to inode: put at release */
	char path[128];      /* the path it was opened by, for /proc */
};

#endif
