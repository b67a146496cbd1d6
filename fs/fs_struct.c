/* Current directories (include/pagoda/fs_struct.h). The path is copied
 * out under the lock, so a reader on one CPU never sees half of a chdir
 * made by a thread on another. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/fs_struct.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/task.h>

static struct lock_class fs_lock_class = { "fs_struct.lock", 0 };

/* The idle tasks' (the kernel's self-tests resolve paths from it). */
struct fs_struct init_fs = {
	.refs = 1,
	.lock = __SPINLOCK_INIT(fs_lock_class),
	.cwd = "/",
};

struct fs_struct *fs_alloc(const char *cwd)
{
	struct fs_struct *fs = kzalloc(sizeof(*fs), GFP_KERNEL);

	if (!fs)
		return NULL;
	fs->refs = 1;
	__spin_lock_init(&fs->lock, &fs_lock_class);
	strlcpy(fs->cwd, cwd, sizeof(fs->cwd));
	return fs;
}

struct fs_struct *fs_copy(struct fs_struct *src)
{
	char cwd[CWD_MAX];
	uint64_t flags = spin_lock_irqsave(&src->lock);

	memcpy(cwd, src->cwd, sizeof(cwd));
	spin_unlock_irqrestore(&src->lock, flags);
	return fs_alloc(cwd);
}

void fs_get(struct fs_struct *fs)
{
	atomic_inc(&fs->refs);
}

void fs_exit(struct task *t)
{
	struct fs_struct *fs = t->fs;
	uint64_t flags;

	if (!fs)
		return;
	flags = spin_lock_irqsave(&tasklist_lock);
	t->fs = NULL;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (atomic_sub_return(&fs->refs, 1) == 0 && fs != &init_fs)
		kfree(fs);
}

char *fs_cwd(struct task *t, char *buf)
{
	struct fs_struct *fs;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock); /* t->fs stays */

	fs = t ? t->fs : NULL;
	if (fs) {
		spin_lock(&fs->lock);
		memcpy(buf, fs->cwd, CWD_MAX);
		spin_unlock(&fs->lock);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (!fs || !buf[0])
		strlcpy(buf, "/", CWD_MAX);
	return buf;
}

int fs_set_cwd(struct task *t, const char *path)
{
	uint64_t flags;

	if (strlen(path) >= CWD_MAX)
		return -ENAMETOOLONG;
	flags = spin_lock_irqsave(&t->fs->lock);
	strlcpy(t->fs->cwd, path, CWD_MAX);
	spin_unlock_irqrestore(&t->fs->lock, flags);
	return 0;
}
