/* poll(2), ppoll(2), select(2), pselect6(2) (fs/select.c): waiting for
 * any of several files to become ready.
 *
 * A file says how ready it is through its poll operation, which returns
 * POLL* bits and registers the wait queues on which a change will be
 * announced with poll_wait(). The waiter sleeps on all of them at once
 * (one wait entry per queue, all for the same task) until one wakes it,
 * a signal comes, or the timeout ends. A file whose readiness nobody
 * announces (the console, which is polled once per tick) asks for
 * poll_tick(): the waiter then looks again at every tick. A file with no
 * poll operation is always ready to read and write, as Linux's
 * DEFAULT_POLLMASK says of regular files. */
#ifndef PAGODA_POLL_H
#define PAGODA_POLL_H

#include <pagoda/types.h>
#include <pagoda/wait.h>

#define POLLIN 0x0001
#define POLLPRI 0x0002
#define POLLOUT 0x0004
#define POLLERR 0x0008
#define POLLHUP 0x0010
#define POLLNVAL 0x0020
#define POLLRDNORM 0x0040
#define POLLRDBAND 0x0080
#define POLLWRNORM 0x0100
#define POLLWRBAND 0x0200
#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

#define POLL_MAX_QUEUES 64 /* wait queues one call can sleep on; beyond, ticks */

struct poll_table {
	struct wait_queue_head *heads[POLL_MAX_QUEUES];
	struct wait_entry entries[POLL_MAX_QUEUES];
	struct file *files[POLL_MAX_QUEUES]; /* pinned: a queue lives as long as its file */
	struct file *polling; /* the file whose ->poll runs now */
	unsigned int nr;
	bool tick;     /* someone is polled per tick: sleep one tick at most */
	bool register_; /* first pass: record queues; later passes only look */
};

/* From a poll operation: current will wait on wq (pt may be NULL: a
 * look without waiting). */
void poll_wait(struct wait_queue_head *wq, struct poll_table *pt);
/* From a poll operation: readiness changes with nothing to wake us. */
void poll_tick(struct poll_table *pt);

#endif
