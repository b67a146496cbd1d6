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
 * is -EPIPE and SIGPIPE. Both ends sleep on the pipe's wait queue and
 * every transfer wakes it. The data moves between the ring and the
 * system call's kernel buffer, so the pipe's lock (a spinlock) is never
 * held across a user copy. */
#include <pagoda/errno.h>
#include <pagoda/poll.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/vfs.h>

#define PIPE_SIZE (64 * 1024)

struct pipe {
	spinlock_t lock;     /* guards the four fields below */
	char *buf;           /* PIPE_SIZE bytes */
	size_t head, count;  /* [head, head + count) holds data, modulo PIPE_SIZE */
	unsigned int readers, writers; /* open files of each end */
	struct wait_queue_head wait; /* readers and writers waiting for a change */
};

static const struct file_operations pipe_read_fops, pipe_write_fops;

bool file_is_pipe(const struct file *f)
{
	return f->f_op == &pipe_read_fops || f->f_op == &pipe_write_fops;
}

/* Take up to n bytes into buf; the pipe is locked and not empty. */
static size_t pipe_take_locked(struct pipe *p, char *buf, size_t n)
{
	size_t done = 0;

	assert_spin_locked(&p->lock);
	n = MIN(n, p->count);
	while (done < n) {
		size_t chunk = MIN(n - done, PIPE_SIZE - p->head);
		memcpy(buf + done, p->buf + p->head, chunk);
		p->head = (p->head + chunk) % PIPE_SIZE;
		p->count -= chunk;
		done += chunk;
	}
	return done;
}

static ssize_t pipe_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct pipe *p = f->private_data;
	struct wait_entry w = { 0 };
	ssize_t ret;

	if (!n)
		return 0;
	for (;;) {
		prepare_to_wait(&p->wait, &w);
		spin_lock(&p->lock);
		if (p->count) {
			ret = (ssize_t)pipe_take_locked(p, buf, n);
			break;
		}
		ret = !p->writers ? 0 : (f->flags & O_NONBLOCK) ? -EAGAIN
					: signal_pending(current) ? -EINTR : 1;
		if (ret != 1)
			break;
		spin_unlock(&p->lock);
		schedule();
	}
	spin_unlock(&p->lock);
	finish_wait(&p->wait, &w);
	if (ret > 0)
		wake_up(&p->wait); /* room for writers */
	return ret;
}

/* Copy as much of buf as fits; returns the byte count. */
static size_t pipe_put_locked(struct pipe *p, const char *buf, size_t n)
{
	size_t done = 0;

	assert_spin_locked(&p->lock);
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

/* One step of a write: put what may go in now. Returns the bytes put,
 * 0 to wait for room, or a final answer (-EPIPE, -EAGAIN, -EINTR). */
static ssize_t pipe_write_step_locked(struct pipe *p, struct file *f, const char *buf,
				      size_t n, size_t done)
{
	size_t room = PIPE_SIZE - p->count;

	if (!p->readers)
		return -EPIPE;
	if (room && (n > PIPE_BUF || room >= n - done))
		return (ssize_t)pipe_put_locked(p, buf + done, n - done);
	if (f->flags & O_NONBLOCK)
		return -EAGAIN;
	if (signal_pending(current))
		return -EINTR;
	return 0;
}

static ssize_t pipe_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct pipe *p = f->private_data;
	struct wait_entry w = { 0 };
	size_t done = 0;
	ssize_t r = 0;

	while (done < n) {
		prepare_to_wait(&p->wait, &w);
		spin_lock(&p->lock);
		r = pipe_write_step_locked(p, f, buf, n, done);
		spin_unlock(&p->lock);
		if (r > 0) {
			done += (size_t)r;
			wake_up(&p->wait); /* data for readers */
			continue;
		}
		if (r < 0)
			break;
		schedule();
	}
	finish_wait(&p->wait, &w);
	if (r == -EPIPE)
		return pipe_broken(done);
	return done || r == 0 ? (ssize_t)done : r;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->private_data;
	bool last;

	spin_lock(&p->lock);
	if (f->f_op == &pipe_read_fops)
		p->readers--;
	else
		p->writers--;
	last = !p->readers && !p->writers;
	spin_unlock(&p->lock);
	if (!last) {
		wake_up(&p->wait); /* end of file, or a broken pipe */
		return;
	}
	kfree(p->buf);
	kfree(p);
}

/* Readable with data, or at end of file (POLLHUP: no writer left);
 * writable with room for an atomic write, POLLERR with no reader left. */
static unsigned int pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe *p = f->private_data;
	unsigned int mask = 0;

	poll_wait(&p->wait, pt);
	spin_lock(&p->lock);
	if (f->f_op == &pipe_read_fops) {
		if (p->count)
			mask |= POLLIN | POLLRDNORM;
		if (!p->writers)
			mask |= POLLHUP;
	} else {
		if (PIPE_SIZE - p->count >= PIPE_BUF)
			mask |= POLLOUT | POLLWRNORM;
		if (!p->readers)
			mask |= POLLERR;
	}
	spin_unlock(&p->lock);
	return mask;
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
	spin_lock_init(&p->lock, "pipe");
	wait_queue_init(&p->wait, "pipe.wait");
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
	.poll = pipe_poll,
};
static const struct file_operations pipe_write_fops = {
	.write = pipe_write,
	.release = pipe_release,
	.poll = pipe_poll,
};
