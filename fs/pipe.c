/* Pipes: a 64 KiB ring buffer (Linux's default capacity) shared by a read
 * end and a write end, two struct files with their own operations.
 *
 *   buf: [ ... head ... head + count ... )   modulo PIPE_SIZE
 *          ^ next byte to read    ^ next byte to write
 *
 * A reader waits while the pipe is empty and some writer is left (none
 * left: end of file). A writer waits while the pipe is full; a write of
 * at most PIPE_BUF bytes waits until it fits whole, so that it is never
 * interleaved with another (POSIX atomicity). Writing with no reader left
 * is -EPIPE and SIGPIPE. Both ends sleep on the pipe and every transfer
 * wakes it. One CPU, no preemption in the kernel: no locks. */
#include <pagoda/errno.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/vfs.h>

#define PIPE_SIZE (64 * 1024)

struct pipe {
	char *buf;           /* PIPE_SIZE bytes */
	size_t head, count;  /* [head, head + count) holds data, modulo PIPE_SIZE */
	unsigned int readers, writers; /* open files of each end */
};

static const struct file_operations pipe_read_fops, pipe_write_fops;

bool file_is_pipe(const struct file *f)
{
	return f->f_op == &pipe_read_fops || f->f_op == &pipe_write_fops;
}

static bool signal_pending(void)
{
	return current && (current->sig_pending & ~current->sig_blocked);
}

static ssize_t pipe_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct pipe *p = f->private_data;
	size_t done = 0;

	if (!n)
		return 0;
	while (!p->count) {
		if (!p->writers)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (signal_pending())
			return -EINTR;
		sleep_on(p);
	}
	n = MIN(n, p->count);
	while (done < n) {
		size_t chunk = MIN(n - done, PIPE_SIZE - p->head);
		memcpy((char *)buf + done, p->buf + p->head, chunk);
		p->head = (p->head + chunk) % PIPE_SIZE;
		p->count -= chunk;
		done += chunk;
	}
	wakeup(p);
	return done;
}

/* Copy as much of buf as fits; returns the byte count. */
static size_t pipe_put(struct pipe *p, const char *buf, size_t n)
{
	size_t done = 0;

	n = MIN(n, PIPE_SIZE - p->count);
	while (done < n) {
		size_t tail = (p->head + p->count) % PIPE_SIZE;
		size_t chunk = MIN(n - done, PIPE_SIZE - tail);
		memcpy(p->buf + tail, buf + done, chunk);
		p->count += chunk;
		done += chunk;
	}
	return done;
}

/* The write end's answer when no reader is left. Kernel tasks (the
 * self-tests) get no signal. */
static ssize_t pipe_broken(size_t done)
{
	if (current && current->mm)
		task_send_signal(current, SIGPIPE);
	return done ? (ssize_t)done : -EPIPE;
}

static ssize_t pipe_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct pipe *p = f->private_data;
	size_t done = 0;

	while (done < n) {
		size_t room = PIPE_SIZE - p->count;

		if (!p->readers)
			return pipe_broken(done);
		if (room && (n > PIPE_BUF || room >= n)) {
			done += pipe_put(p, (const char *)buf + done, n - done);
			wakeup(p);
			continue;
		}
		if (f->flags & O_NONBLOCK)
			return done ? (ssize_t)done : -EAGAIN;
		if (signal_pending())
			return done ? (ssize_t)done : -EINTR;
		sleep_on(p);
	}
	return done;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->private_data;

	if (f->f_op == &pipe_read_fops)
		p->readers--;
	else
		p->writers--;
	if (p->readers || p->writers) {
		wakeup(p);
		return;
	}
	kfree(p->buf);
	kfree(p);
}

int pipe_create(unsigned int flags, struct file **rd, struct file **wr)
{
	struct pipe *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	p->buf = kmalloc(PIPE_SIZE, GFP_KERNEL);
	*rd = p->buf ? file_alloc(&pipe_read_fops, p) : NULL;
	*wr = *rd ? file_alloc(&pipe_write_fops, p) : NULL;
	if (!*wr) {
		kfree(*rd);
		kfree(p->buf);
		kfree(p);
		return -ENOMEM;
	}
	p->readers = p->writers = 1;
	(*rd)->flags = O_RDONLY | (flags & O_NONBLOCK);
	(*wr)->flags = O_WRONLY | (flags & O_NONBLOCK);
	(*rd)->name = (*wr)->name = "pipe";
	snprintf((*rd)->path, sizeof((*rd)->path), "pipe:[%llu]",
		 (unsigned long long)vfs_next_ino());
	memcpy((*wr)->path, (*rd)->path, sizeof((*wr)->path));
	return 0;
}

static const struct file_operations pipe_read_fops = {
	.read = pipe_read,
	.release = pipe_release,
};
static const struct file_operations pipe_write_fops = {
	.write = pipe_write,
	.release = pipe_release,
};
