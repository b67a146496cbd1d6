/* File descriptor tables (include/pagoda/fdtable.h).
 *
 * The threads of a process share one table, so two of them may open,
 * close or dup2 at once on different CPUs: every change and every lookup
 * is made under the table's spinlock. A file leaves the table under the
 * lock and is put after it is dropped, since its release may sleep (a
 * pipe wakes its other end, a file's last writer lets go of a mapping). */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

static struct lock_class files_lock_class = { "files_struct.lock", 0 };

/* The idle tasks' table (the kernel's self-tests open files through it). */
struct files_struct init_files = {
	.refs = 1,
	.lock = __SPINLOCK_INIT(files_lock_class),
};

static bool fd_valid(int fd)
{
	return fd >= 0 && fd < TASK_MAX_FDS;
}

struct files_struct *files_alloc(void)
{
	struct files_struct *files = kzalloc(sizeof(*files), GFP_KERNEL);

	if (!files)
		return NULL;
	files->refs = 1;
	__spin_lock_init(&files->lock, &files_lock_class);
	return files;
}

struct files_struct *files_dup(struct files_struct *src)
{
	struct files_struct *files = files_alloc();
	uint64_t flags;

	if (!files)
		return NULL;
	flags = spin_lock_irqsave(&src->lock);
	for (int fd = 0; fd < TASK_MAX_FDS; fd++) {
		files->fd[fd] = src->fd[fd];
		if (files->fd[fd])
			file_get(files->fd[fd]);
	}
	memcpy(files->cloexec, src->cloexec, sizeof(files->cloexec));
	spin_unlock_irqrestore(&src->lock, flags);
	return files;
}

void files_get(struct files_struct *files)
{
	atomic_inc(&files->refs);
}

static void files_free(struct files_struct *files)
{
	for (int fd = 0; fd < TASK_MAX_FDS; fd++)
		if (files->fd[fd])
			file_put(files->fd[fd]);
	if (files != &init_files)
		kfree(files);
}

void files_exit(struct task *t)
{
	struct files_struct *files = t->files;
	uint64_t flags;

	if (!files)
		return;
	flags = spin_lock_irqsave(&tasklist_lock);
	t->files = NULL;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (atomic_sub_return(&files->refs, 1) == 0)
		files_free(files);
}

/* The close-on-exec bit of fd in files, under files->lock. */
static void cloexec_set_locked(struct files_struct *files, int fd, bool on)
{
	assert_spin_locked(&files->lock);
	if (on)
		files->cloexec[fd / 64] |= 1ULL << (fd % 64);
	else
		files->cloexec[fd / 64] &= ~(1ULL << (fd % 64));
}

int files_exec(struct task *t)
{
	struct files_struct *files = t->files;
	uint64_t flags;

	if (READ_ONCE(files->refs) > 1) {
		struct files_struct *copy = files_dup(files);
		if (!copy)
			return -ENOMEM;
		flags = spin_lock_irqsave(&tasklist_lock);
		t->files = copy;
		spin_unlock_irqrestore(&tasklist_lock, flags);
		if (atomic_sub_return(&files->refs, 1) == 0)
			files_free(files); /* the others exited meanwhile */
		files = copy;
	}
	for (int fd = 0; fd < TASK_MAX_FDS; fd++) {
		struct file *f = NULL;
		flags = spin_lock_irqsave(&files->lock);
		if (files->fd[fd] && (files->cloexec[fd / 64] >> (fd % 64) & 1)) {
			f = files->fd[fd];
			files->fd[fd] = NULL;
			cloexec_set_locked(files, fd, false);
		}
		spin_unlock_irqrestore(&files->lock, flags);
		file_put(f);
	}
	return 0;
}

bool fd_get_cloexec(struct task *t, int fd)
{
	return fd_valid(fd) && (READ_ONCE(t->files->cloexec[fd / 64]) >> (fd % 64) & 1);
}

void fd_set_cloexec(struct task *t, int fd, bool on)
{
	uint64_t flags;

	if (!fd_valid(fd))
		return;
	flags = spin_lock_irqsave(&t->files->lock);
	cloexec_set_locked(t->files, fd, on);
	spin_unlock_irqrestore(&t->files->lock, flags);
}

int fd_install_from(struct task *t, struct file *f, int min, bool cloexec)
{
	struct files_struct *files = t->files;
	uint64_t flags;
	int ret = -EMFILE;

	if (!fd_valid(min))
		return -EINVAL;
	flags = spin_lock_irqsave(&files->lock);
	for (int fd = min; fd < TASK_MAX_FDS; fd++) {
		if (files->fd[fd])
			continue;
		files->fd[fd] = f;
		cloexec_set_locked(files, fd, cloexec);
		ret = fd;
		break;
	}
	spin_unlock_irqrestore(&files->lock, flags);
	return ret;
}

int fd_install(struct task *t, struct file *f)
{
	return fd_install_from(t, f, 0, false);
}

int fd_install_at(struct task *t, int fd, struct file *f, bool cloexec)
{
	struct files_struct *files = t->files;
	struct file *old;
	uint64_t flags;

	if (!fd_valid(fd))
		return -EBADF;
	flags = spin_lock_irqsave(&files->lock);
	old = files->fd[fd];
	files->fd[fd] = f;
	cloexec_set_locked(files, fd, cloexec);
	spin_unlock_irqrestore(&files->lock, flags);
	file_put(old); /* last: its release may sleep */
	return fd;
}

struct file *fd_get(int fd)
{
	struct files_struct *files = current ? current->files : NULL;
	struct file *f;
	uint64_t flags;

	if (!files || !fd_valid(fd))
		return NULL;
	flags = spin_lock_irqsave(&files->lock);
	f = files->fd[fd];
	if (f)
		file_get(f);
	spin_unlock_irqrestore(&files->lock, flags);
	return f;
}

struct file *fd_peek(struct task *t, int fd)
{
	return fd_valid(fd) ? READ_ONCE(t->files->fd[fd]) : NULL;
}

int fd_close(struct task *t, int fd)
{
	struct files_struct *files = t->files;
	struct file *f;
	uint64_t flags;

	if (!fd_valid(fd))
		return -EBADF;
	flags = spin_lock_irqsave(&files->lock);
	f = files->fd[fd];
	files->fd[fd] = NULL;
	cloexec_set_locked(files, fd, false);
	spin_unlock_irqrestore(&files->lock, flags);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}
