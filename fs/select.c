/* poll(2), ppoll(2), select(2) and pselect6(2), with Linux's arguments,
 * errno values and results (fs/select.c in Linux; include/pagoda/poll.h).
 *
 * All four come down to one loop over a list of (file, wanted bits):
 *
 *   mark current sleeping            so that a wake-up from here on is
 *   look at every file               not lost: it makes us runnable again
 *   (the first look also queues us on each file's wait queues)
 *   anything ready, time up, signal?  -> stop
 *   schedule()                       until a queue, the timer or a signal
 *                                    wakes us; then look again
 *
 * The user's arrays are copied in before and out after: nothing here
 * touches user memory while it waits or holds a lock. */
#include <pagoda/errno.h>
#include <pagoda/fdtable.h>
#include <pagoda/poll.h>
#include <pagoda/sched.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <asm/x86.h>

#define SYS_select 23
#define SYS_pselect6 270
#define SYS_ppoll 271

#define POLLIN_SET (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define POLLEX_SET POLLPRI
#define WAIT_FOREVER UINT64_MAX
#define NSEC_PER_TICK (NSEC_PER_SEC / TIMER_HZ)

struct pollfd {
	int fd;
	short events, revents;
};

struct timespec64 {
	int64_t tv_sec, tv_nsec;
};

void poll_wait(struct wait_queue_head *wq, struct poll_table *pt)
{
	if (!pt || !pt->register_)
		return;
	if (pt->nr == POLL_MAX_QUEUES) {
		pt->tick = true; /* no room to sleep on it: look every tick */
		return;
	}
	/* Another thread may close the file while we sleep: hold it, or its
	 * release could free the queue we are on (Linux's __pollwait()). */
	file_get(pt->polling);
	pt->files[pt->nr] = pt->polling;
	pt->heads[pt->nr] = wq;
	prepare_to_wait(wq, &pt->entries[pt->nr]);
	pt->nr++;
}

void poll_tick(struct poll_table *pt)
{
	if (pt)
		pt->tick = true;
}

/* What fd is ready for now, among wanted (POLL* bits), registering its
 * queues on the first look. POLLNVAL for a closed fd. */
static unsigned int poll_one(int fd, unsigned int wanted, struct poll_table *pt)
{
	struct file *f = fd_get(fd);
	unsigned int mask;

	if (!f)
		return POLLNVAL;
	if (pt)
		pt->polling = f;
	mask = f->f_op && f->f_op->poll ? f->f_op->poll(f, pt) : DEFAULT_POLLMASK;
	file_put(f);
	return mask & wanted;
}

/* One look at every entry: revents set, and the number of ready ones.
 * events holds the bits each entry counts as ready (fd < 0: none). */
static int poll_scan(struct pollfd *fds, unsigned int n, struct poll_table *pt)
{
	int ready = 0;

	for (unsigned int i = 0; i < n; i++) {
		fds[i].revents = fds[i].fd < 0 ? 0 : poll_one(fds[i].fd, (uint16_t)fds[i].events, pt);
		ready += fds[i].revents != 0;
	}
	return ready;
}

/* When to wake for a deadline (ns of CLOCK_MONOTONIC), as the tick
 * handler reads task->wake_ns: the deadline itself, or the next tick for
 * an entry that must be looked at every tick; 0 (no timed wake) for
 * WAIT_FOREVER. The waiter looks at the clock again when it wakes. */
static uint64_t wake_ns_for(const struct poll_table *pt, uint64_t deadline)
{
	if (pt->tick)
		return clock_monotonic_ns() + NSEC_PER_TICK;
	return deadline == WAIT_FOREVER ? 0 : deadline;
}

/* Wait until an entry is ready, the clock reaches deadline (ns; 0: do
 * not wait, WAIT_FOREVER), or a signal comes (-EINTR). Returns the number
 * of ready entries, 0 when the time ran out, or -EINTR, -ENOMEM. */
static int do_poll(struct pollfd *fds, unsigned int n, uint64_t deadline)
{
	struct poll_table *pt = kzalloc(sizeof(*pt), GFP_KERNEL);
	int ready;

	if (!pt)
		return -ENOMEM;
	pt->register_ = deadline != 0;
	for (;;) {
		sched_set_sleeping(current);
		ready = poll_scan(fds, n, pt);
		pt->register_ = false;
		if (ready || clock_monotonic_ns() >= deadline)
			break;
		if (signal_pending(current)) {
			ready = -EINTR;
			break;
		}
		WRITE_ONCE(current->wake_ns, wake_ns_for(pt, deadline));
		schedule();
	}
	WRITE_ONCE(current->wake_ns, 0);
	for (unsigned int i = 0; i < pt->nr; i++)
		finish_wait(pt->heads[i], &pt->entries[i]);
	sched_set_running(current);
	for (unsigned int i = 0; i < pt->nr; i++)
		file_put(pt->files[i]);
	kfree(pt);
	return ready;
}

/* --- timeouts: user time to a deadline, and back --- */

/* A timeout of ns nanoseconds from now, as a deadline. */
static uint64_t deadline_in(uint64_t ns)
{
	return ns == 0 ? 0 : clock_monotonic_ns() + ns;
}

static uint64_t remaining_ns(uint64_t deadline)
{
	uint64_t now = clock_monotonic_ns();

	return deadline == WAIT_FOREVER || deadline <= now ? 0 : deadline - now;
}

/* Read a struct timespec (NULL: forever) into a deadline: 0 or -EFAULT,
 * -EINVAL for a negative or unnormalised one. */
static int timespec_deadline(uint64_t uts, uint64_t *deadline)
{
	struct timespec64 ts;

	*deadline = WAIT_FOREVER;
	if (!uts)
		return 0;
	if (copy_from_user(&ts, (const void *)uts, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
		return -EINVAL;
	*deadline = (uint64_t)ts.tv_sec > UINT64_MAX / 1000000000 / 2
			    ? WAIT_FOREVER
			    : deadline_in((uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	return 0;
}

/* Linux writes the time left back (a timeval for select, a timespec for
 * the others); a failure to do so is not an error of the call. */
static void timeout_write_back(uint64_t uts, uint64_t deadline, bool timeval)
{
	uint64_t ns = remaining_ns(deadline);
	struct timespec64 ts = { ns / 1000000000, ns % 1000000000 };

	if (!uts || deadline == WAIT_FOREVER)
		return;
	if (timeval)
		ts.tv_nsec /= 1000;
	copy_to_user((void *)uts, &ts, sizeof(ts));
}

/* Run do_poll() with the blocked signals set to *mask (ppoll, pselect6).
 * The caller's mask comes back at once, unless a signal ended the wait:
 * then the handler runs with *mask still in force and its frame restores
 * the caller's (Linux's set_restore_sigmask(), as rt_sigsuspend does). */
static int poll_with_mask(struct pollfd *fds, unsigned int n, uint64_t deadline,
			  const uint64_t *mask)
{
	uint64_t old = current->sig_blocked;
	int r;

	if (mask)
		current->sig_blocked = *mask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	r = do_poll(fds, n, deadline);
	if (mask && r == -EINTR) {
		current->sig_saved_mask = old;
		current->sig_restore_mask = true;
	} else {
		current->sig_blocked = old;
	}
	return r;
}

/* ppoll and pselect6's signal mask argument: 0, or -EINVAL, -EFAULT. */
static int sigmask_from_user(uint64_t umask, size_t size, uint64_t *mask, bool *have)
{
	*have = umask != 0;
	if (!umask)
		return 0;
	if (size != sizeof(uint64_t))
		return -EINVAL;
	return copy_from_user(mask, (const void *)umask, sizeof(*mask)) ? -EFAULT : 0;
}

/* --- poll and ppoll --- */

static long poll_common(uint64_t ufds, uint64_t nfds, uint64_t deadline, const uint64_t *mask)
{
	struct pollfd *fds;
	long r;

	if (nfds > TASK_MAX_FDS)
		return -EINVAL; /* Linux: more than RLIMIT_NOFILE */
	fds = kmalloc(MAX(nfds, (uint64_t)1) * sizeof(*fds), GFP_KERNEL);
	if (!fds)
		return -ENOMEM;
	if (copy_from_user(fds, (const void *)ufds, nfds * sizeof(*fds))) {
		kfree(fds);
		return -EFAULT;
	}
	for (uint64_t i = 0; i < nfds; i++)
		fds[i].events |= POLLERR | POLLHUP | POLLNVAL; /* always reported */
	r = poll_with_mask(fds, nfds, deadline, mask);
	for (uint64_t i = 0; r >= 0 && i < nfds; i++)
		if (copy_to_user(&((struct pollfd *)ufds)[i].revents, &fds[i].revents, sizeof(short)))
			r = -EFAULT;
	kfree(fds);
	return r;
}

SYSCALL_DEFINE(SYS_poll, poll)
{
	int ms = (int)ARG(2);

	return poll_common(ARG(0), (unsigned int)ARG(1),
			   ms < 0 ? WAIT_FOREVER : deadline_in((uint64_t)ms * 1000000), NULL);
}

SYSCALL_DEFINE(SYS_ppoll, ppoll)
{
	uint64_t deadline, mask;
	bool have_mask;
	long r;

	if ((r = timespec_deadline(ARG(2), &deadline)) < 0 ||
	    (r = sigmask_from_user(ARG(3), ARG(4), &mask, &have_mask)) < 0)
		return r;
	r = poll_common(ARG(0), (unsigned int)ARG(1), deadline, have_mask ? &mask : NULL);
	timeout_write_back(ARG(2), deadline, false);
	return r;
}

/* --- select and pselect6 --- */

#define FDSET_WORDS ((TASK_MAX_FDS + 63) / 64)

struct fd_sets {
	uint64_t in[FDSET_WORDS], out[FDSET_WORDS], ex[FDSET_WORDS];
};

static int fdset_from_user(uint64_t *set, uint64_t uset, unsigned int n)
{
	memset(set, 0, FDSET_WORDS * 8);
	if (!uset)
		return 0;
	return copy_from_user(set, (const void *)uset, (n + 7) / 8) ? -EFAULT : 0;
}

static bool bit(const uint64_t *set, unsigned int i)
{
	return set[i / 64] & (1ULL << (i % 64));
}

/* Turn the sets into poll entries (-EBADF for a closed fd in a set), poll,
 * and turn the results back into the sets; the count of bits set. */
static long select_sets(struct fd_sets *s, unsigned int n, uint64_t deadline,
			const uint64_t *mask)
{
	struct pollfd *fds = kmalloc(MAX(n, 1U) * sizeof(*fds), GFP_KERNEL);
	long r, count = 0;

	if (!fds)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		struct file *f = NULL;
		fds[i].fd = -1;
		if (!bit(s->in, i) && !bit(s->out, i) && !bit(s->ex, i))
			continue;
		if (!(f = fd_get(i))) {
			kfree(fds);
			return -EBADF;
		}
		file_put(f);
		fds[i].fd = i;
		fds[i].events = (bit(s->in, i) ? POLLIN_SET : 0) | (bit(s->out, i) ? POLLOUT_SET : 0) |
				(bit(s->ex, i) ? POLLEX_SET : 0);
	}
	r = poll_with_mask(fds, n, deadline, mask);
	memset(s, 0, sizeof(*s));
	for (unsigned int i = 0; r > 0 && i < n; i++) {
		uint64_t b = 1ULL << (i % 64);
		if (fds[i].revents & POLLIN_SET & fds[i].events)
			s->in[i / 64] |= b, count++;
		if (fds[i].revents & POLLOUT_SET & fds[i].events)
			s->out[i / 64] |= b, count++;
		if (fds[i].revents & POLLEX_SET & fds[i].events)
			s->ex[i / 64] |= b, count++;
	}
	kfree(fds);
	return r < 0 ? r : count;
}

static long select_common(int nfds, uint64_t uin, uint64_t uout, uint64_t uex,
			  uint64_t deadline, const uint64_t *mask)
{
	struct fd_sets *s;
	unsigned int n;
	long r;

	if (nfds < 0)
		return -EINVAL;
	n = MIN((unsigned int)nfds, (unsigned int)TASK_MAX_FDS);
	if (!(s = kmalloc(sizeof(*s), GFP_KERNEL)))
		return -ENOMEM;
	if ((r = fdset_from_user(s->in, uin, n)) < 0 || (r = fdset_from_user(s->out, uout, n)) < 0 ||
	    (r = fdset_from_user(s->ex, uex, n)) < 0)
		goto out;
	r = select_sets(s, n, deadline, mask);
	if (r >= 0 && ((uin && copy_to_user((void *)uin, s->in, (n + 7) / 8)) ||
		       (uout && copy_to_user((void *)uout, s->out, (n + 7) / 8)) ||
		       (uex && copy_to_user((void *)uex, s->ex, (n + 7) / 8))))
		r = -EFAULT;
out:
	kfree(s);
	return r;
}

SYSCALL_DEFINE(SYS_select, select)
{
	struct { int64_t tv_sec, tv_usec; } tv;
	uint64_t deadline = WAIT_FOREVER;
	long r;

	if (ARG(4)) {
		if (copy_from_user(&tv, (const void *)ARG(4), sizeof(tv)))
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0)
			return -EINVAL;
		/* Linux normalises a large tv_usec instead of refusing it. */
		deadline = (uint64_t)tv.tv_sec > UINT64_MAX / 1000000000 / 2
				   ? WAIT_FOREVER
				   : deadline_in((uint64_t)tv.tv_sec * 1000000000 +
						 (uint64_t)tv.tv_usec * 1000);
	}
	r = select_common((int)ARG(0), ARG(1), ARG(2), ARG(3), deadline, NULL);
	timeout_write_back(ARG(4), deadline, true);
	return r;
}

/* pselect6's sixth argument points at { const sigset_t *ss; size_t ss_len; }. */
SYSCALL_DEFINE(SYS_pselect6, pselect6)
{
	struct { uint64_t ss, len; } sig = { 0, 0 };
	uint64_t deadline, mask;
	bool have_mask = false;
	long r;

	if ((r = timespec_deadline(ARG(4), &deadline)) < 0)
		return r;
	if (ARG(5) && copy_from_user(&sig, (const void *)ARG(5), sizeof(sig)))
		return -EFAULT;
	if ((r = sigmask_from_user(sig.ss, sig.len, &mask, &have_mask)) < 0)
		return r;
	r = select_common((int)ARG(0), ARG(1), ARG(2), ARG(3), deadline, have_mask ? &mask : NULL);
	timeout_write_back(ARG(4), deadline, false);
	return r;
}
