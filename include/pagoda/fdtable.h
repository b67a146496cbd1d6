/* File descriptor tables (fs/fdtable.c): fd N of a task is
 * t->files->fd[N], a counted reference to an open file, with its
 * close-on-exec bit in t->files->cloexec. fork copies the table (both
 * processes then share each open file, position included); clone with
 * CLONE_FILES (threads) shares the table itself; execve unshares it and
 * closes the close-on-exec ones. */
#ifndef PAGODA_FDTABLE_H
#define PAGODA_FDTABLE_H

#include <pagoda/file.h>
#include <pagoda/task.h>

struct files_struct {
	uint32_t refs;      /* tasks using the table; atomic */
	spinlock_t lock;    /* guards fd[] and cloexec[]; never held across
			     * file_put() (a release may sleep) */
	struct file *fd[TASK_MAX_FDS];
	uint64_t cloexec[TASK_MAX_FDS / 64];
};

/* A new empty table with one reference, or NULL. */
struct files_struct *files_alloc(void);

/* fork: a copy of src (every file gains a reference), or NULL. */
struct files_struct *files_dup(struct files_struct *src);

/* CLONE_FILES: one more user of the table. */
void files_get(struct files_struct *files);

/* Drop t's reference to its table (exit); the last one closes every fd.
 * t->files is NULL afterwards. */
void files_exit(struct task *t);

/* execve: give t a private copy if its table is shared, then close the
 * fds marked close-on-exec. 0 or -ENOMEM (t's table unchanged). */
int files_exec(struct task *t);

/* Put f in t's lowest free slot, taking over the caller's reference.
 * Returns the fd, or -EMFILE (the caller still owns f then). */
int fd_install(struct task *t, struct file *f);

/* The same at the lowest free slot >= min, with the close-on-exec bit as
 * given (F_DUPFD, open with O_CLOEXEC). -EINVAL for min out of range. */
int fd_install_from(struct task *t, struct file *f, int min, bool cloexec);

/* Put f at exactly fd, closing what was there (dup2). Takes the caller's
 * reference. Returns fd or -EBADF for fd out of range. */
int fd_install_at(struct task *t, int fd, struct file *f, bool cloexec);

/* The open file behind the current task's fd, with a new reference the
 * caller drops with file_put(); NULL for a bad fd. */
struct file *fd_get(int fd);

/* The file at t's fd without a reference, for tests; NULL if none. */
struct file *fd_peek(struct task *t, int fd);

/* Close t's fd: 0 or -EBADF. */
int fd_close(struct task *t, int fd);

bool fd_get_cloexec(struct task *t, int fd);
void fd_set_cloexec(struct task *t, int fd, bool on);

#endif
