/* The current directory of a task (fs/fs_struct.c), shared by the tasks
 * cloned with CLONE_FS (all threads of a process): a chdir in one is
 * seen by the others, as in Linux. It is kept as an absolute path. */
#ifndef PAGODA_FS_STRUCT_H
#define PAGODA_FS_STRUCT_H

#include <pagoda/spinlock.h>
#include <pagoda/types.h>

#define CWD_MAX 256

struct task;

struct fs_struct {
	uint32_t refs;      /* tasks using it; atomic */
	spinlock_t lock;    /* guards cwd */
	char cwd[CWD_MAX];  /* absolute path */
};

/* A new fs_struct with one reference and cwd as given, or NULL. */
struct fs_struct *fs_alloc(const char *cwd);

/* fork: a copy of src, or NULL. */
struct fs_struct *fs_copy(struct fs_struct *src);

/* CLONE_FS: one more user. */
void fs_get(struct fs_struct *fs);

/* Drop t's reference (exit); t->fs is NULL afterwards. */
void fs_exit(struct task *t);

/* Copy t's current directory into buf (CWD_MAX bytes); "/" for a task
 * that has none (exited, or the kernel's). Returns buf. */
char *fs_cwd(struct task *t, char *buf);

/* Make path (absolute, shorter than CWD_MAX) t's current directory:
 * 0, or -ENAMETOOLONG. */
int fs_set_cwd(struct task *t, const char *path);

#endif
