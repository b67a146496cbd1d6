/* /proc: files generated from kernel state when they are opened
 * (fs/procfs.c). See docs/proc.md.
 *
 * Each file is produced in one pass into a kmalloc'd buffer at open (the
 * way Linux's seq_file single_open() works): reads then serve bytes from
 * that snapshot, so a reader sees one consistent picture however small its
 * reads are. Directories are not stored anywhere: /proc lists its fixed
 * entries plus one directory per live task, built from task_list. */
#ifndef PAGODA_PROCFS_H
#define PAGODA_PROCFS_H

#include <pagoda/file.h>
#include <pagoda/mm_types.h>
#include <pagoda/types.h>

/* Serve /proc from this file system (vfs_set_dir_ops()). Call once, after
 * vfs_init(). Returns 0 or the error of vfs_set_dir_ops(). */
int procfs_init(void);

/* Give back the /proc/PID inode sets of tasks that are gone and that no
 * open file points at (a cache: a set is otherwise kept for the next
 * pid). Reading /proc/pagoda/free_frames calls it. */
void procfs_shrink(void);

/* Format mm's VMAs as /proc/PID/maps does (Linux's show_map_vma()), one
 * line per VMA in address order, into buf (NUL-terminated when size > 0).
 * Returns the length the whole text has, as snprintf() does: a return >=
 * size means buf was too small. mm may be NULL (no lines). The caller must
 * keep mm from changing meanwhile. */
int procfs_format_maps(struct mm_struct *mm, char *buf, size_t size);

/* /proc/meminfo, into buf, as procfs_format_maps() does. */
int procfs_format_meminfo(char *buf, size_t size);

/* /proc/mounts, into buf, as procfs_format_maps() does. */
int procfs_format_mounts(char *buf, size_t size);

/* Record a mount for /proc/mounts (mount(2) calls this). target is an
 * absolute path; an entry with the same target and fstype is not added
 * twice. Returns 0, -ENAMETOOLONG or -ENOSPC (the table is full). */
int procfs_mount_add(const char *source, const char *target, const char *fstype,
		     const char *options);

#endif
