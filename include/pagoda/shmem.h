/* Shared memory as files (mm/shmem.c): MAP_SHARED|MAP_ANONYMOUS memory,
 * memfd_create(2), and the tmpfs at /dev/shm that shm_open(3) uses.
 *
 * Each is a regular file of ramfs's kind with no name (or, under
 * /dev/shm, a name), whose pages live in its page cache and are counted
 * as Shmem: so shared anonymous memory is populated on fault, shared
 * across fork by the file, and can be mapped again elsewhere (mremap with
 * old_len 0) as Linux's shmem is. */
#ifndef PAGODA_SHMEM_H
#define PAGODA_SHMEM_H

#include <pagoda/types.h>

struct file;
struct vm_area_struct;

/* An unnamed shmem file of size bytes, open for reading and writing;
 * /proc shows it as name. NULL with *err (-ENOMEM). */
struct file *shmem_file_setup(const char *name, uint64_t size, int *err);

/* Back a new MAP_SHARED|MAP_ANONYMOUS VMA with a shmem file as long as
 * the VMA ("/dev/zero (deleted)" in /proc/PID/maps, as on Linux): the VMA
 * holds the file, and its pages come in on fault. 0 or -ENOMEM. */
int shmem_zero_setup(struct vm_area_struct *vma);

/* Make /dev/shm (a directory whose files are shmem) and list it in
 * /proc/mounts as a tmpfs. After vfs_init() and procfs_init(). */
void shmem_init(void);

#endif
