/* Open files, the little of them the memory code needs: a driver's mmap
 * operation. The process issue grows this into the whole file table. */
#ifndef PAGODA_FILE_H
#define PAGODA_FILE_H

#include <pagoda/types.h>

struct file;
struct vm_area_struct;

struct file_operations {
	/* Set up vma (its range, flags and vm_pgoff are filled in) for this
	 * file: usually by remap_pfn_range() or by setting vma->vm_ops.
	 * Returns 0 or a negative errno; on failure nothing stays mapped. */
	int (*mmap)(struct file *file, struct vm_area_struct *vma);
};

struct file {
	const struct file_operations *f_op;
	const char *name;   /* shown in /proc/PID/maps */
	void *private_data; /* the driver's */
	uint64_t size;      /* bytes, for mappings past the end */
};

#endif
