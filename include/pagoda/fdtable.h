/* A task's file descriptors (fs/fdtable.c): fd N is task->files[N],
 * a counted reference to an open file, with its close-on-exec bit in
 * task->cloexec. fork copies the table (both tasks then share each open
 * file, position included); execve closes the close-on-exec ones. */
#ifndef PAGODA_FDTABLE_H
#define PAGODA_FDTABLE_H

#include <pagoda/file.h>
#include <pagoda/task.h>

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

/* Close t's fd: 0 or -EBADF. */
int fd_close(struct task *t, int fd);

bool fd_get_cloexec(struct task *t, int fd);
void fd_set_cloexec(struct task *t, int fd, bool on);

/* fork: give dst a copy of src's table (every file gains a reference).
 * Returns 0. */
int files_dup_all(struct task *dst, struct task *src);

/* exit: close every fd of t. */
void files_close_all(struct task *t);

/* execve: close the fds marked close-on-exec. */
void files_close_on_exec(struct task *t);

#endif
