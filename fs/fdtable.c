/* File descriptor tables: the files[] array and cloexec bitmap inside
 * struct task. Only the task itself changes its table (tasks share no
 * tables: fork copies), and it is never preempted in the kernel: no lock. */
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/vfs.h>

static bool fd_valid(int fd)
{
	return fd >= 0 && fd < TASK_MAX_FDS;
}

bool fd_get_cloexec(struct task *t, int fd)
{
	return fd_valid(fd) && (t->cloexec[fd / 64] >> (fd % 64) & 1);
}

void fd_set_cloexec(struct task *t, int fd, bool on)
{
	if (!fd_valid(fd))
		return;
	if (on)
		t->cloexec[fd / 64] |= 1ULL << (fd % 64);
	else
		t->cloexec[fd / 64] &= ~(1ULL << (fd % 64));
}

int fd_install_from(struct task *t, struct file *f, int min, bool cloexec)
{
	if (!fd_valid(min))
		return -EINVAL;
	for (int fd = min; fd < TASK_MAX_FDS; fd++) {
		if (t->files[fd])
			continue;
		t->files[fd] = f;
		fd_set_cloexec(t, fd, cloexec);
		return fd;
	}
	return -EMFILE;
}

int fd_install(struct task *t, struct file *f)
{
	return fd_install_from(t, f, 0, false);
}

int fd_install_at(struct task *t, int fd, struct file *f, bool cloexec)
{
	struct file *old;

	if (!fd_valid(fd))
		return -EBADF;
	old = t->files[fd];
	t->files[fd] = f;
	fd_set_cloexec(t, fd, cloexec);
	file_put(old); /* last: its release may sleep */
	return fd;
}

struct file *fd_get(int fd)
{
	struct file *f;

	if (!current || !fd_valid(fd) || !(f = current->files[fd]))
		return NULL;
	file_get(f);
	return f;
}

int fd_close(struct task *t, int fd)
{
	struct file *f;

	if (!fd_valid(fd) || !(f = t->files[fd]))
		return -EBADF;
	t->files[fd] = NULL;
	fd_set_cloexec(t, fd, false);
	file_put(f);
	return 0;
}

int files_dup_all(struct task *dst, struct task *src)
{
	for (int fd = 0; fd < TASK_MAX_FDS; fd++) {
		dst->files[fd] = src->files[fd];
		if (dst->files[fd])
			file_get(dst->files[fd]);
	}
	for (size_t i = 0; i < TASK_MAX_FDS / 64; i++)
		dst->cloexec[i] = src->cloexec[i];
	return 0;
}

void files_close_all(struct task *t)
{
	for (int fd = 0; fd < TASK_MAX_FDS; fd++)
		if (t->files[fd])
			fd_close(t, fd);
}

void files_close_on_exec(struct task *t)
{
	for (int fd = 0; fd < TASK_MAX_FDS; fd++)
		if (t->files[fd] && fd_get_cloexec(t, fd))
			fd_close(t, fd);
}
