/* Futexes (include/pagoda/futex.h), in the manner of Linux's
 * kernel/futex/: a hash table of wait lists, one spinlock per bucket.
 *
 * A waiter is found by its key: for a private mapping (or with
 * FUTEX_PRIVATE_FLAG), the address space and the virtual address, so that
 * threads of one process meet; for a shared mapping, the physical address
 * of the word, so that processes mapping the same page meet wherever they
 * map it.
 *
 * FUTEX_WAIT must not sleep if the word changed after user space looked
 * at it and before the sleep; a waker changes the word, then calls
 * FUTEX_WAKE. Both take the bucket's lock, and the waiter reads the word
 * and queues itself under it:
 *
 *     waiter                               waker
 *     lock bucket                          *uaddr = new   (user space)
 *     read *uaddr == val? else EAGAIN      lock bucket
 *     queue, mark sleeping; unlock         dequeue, wake; unlock
 *     schedule()
 *
 * so the waker either finds the waiter queued or the waiter sees the new
 * value. The word is read with faults not served (this_cpu()->no_fault_in:
 * serving one takes mmap_lock, which may sleep, and a spinlock is held);
 * if the read faults, the bucket is let go, the page faulted in with a
 * normal read, and the whole step tried again. */
#include <pagoda/errno.h>
#include <pagoda/futex.h>
#include <pagoda/mm.h>
#include <pagoda/pgtable.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/uaccess.h>
#include <pagoda/vma.h>
#include <asm/uaccess.h>

#define FUTEX_HASH_BITS 6
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define ROBUST_LIST_LIMIT 2048 /* Linux's: a loop in the list ends here */
#define ROBUST_LIST_HEAD_SIZE 24

/* Who a word is: (address space, virtual address) for a private futex,
 * (0, physical address) for a shared one. */
struct futex_key {
	uintptr_t space;
	uintptr_t addr;
};

struct futex_bucket;

struct futex_waiter {
	struct list_head node;        /* in bucket, under the bucket's lock */
	struct futex_bucket *bucket;  /* changes (requeue) under both buckets' locks */
	struct task *task;
	struct futex_key key;
	uint32_t bitset;
	bool woken;                   /* set by the waker under the bucket's lock */
};

struct futex_bucket {
	spinlock_t lock;          /* guards waiters and every waiter's node,
				   * key and woken; interrupts off */
	struct list_head waiters;
};

static struct lock_class bucket_class = { "futex_bucket", 0 };
static struct futex_bucket buckets[1 << FUTEX_HASH_BITS];
static bool buckets_ready; /* set once, on the first call (boot CPU, at boot) */

static void buckets_init(void)
{
	if (READ_ONCE(buckets_ready))
		return;
	for (unsigned int i = 0; i < ARRAY_SIZE(buckets); i++) {
		__spin_lock_init(&buckets[i].lock, &bucket_class);
		list_init(&buckets[i].waiters);
	}
	WRITE_ONCE(buckets_ready, true);
}

static struct futex_bucket *bucket_of(const struct futex_key *k)
{
	uint64_t h = (k->space ^ (k->addr >> 2)) * 0x9e3779b97f4a7c15ULL;

	return &buckets[h >> (64 - FUTEX_HASH_BITS)];
}

static bool key_eq(const struct futex_key *a, const struct futex_key *b)
{
	return a->space == b->space && a->addr == b->addr;
}

/* The physical address behind uaddr in a shared mapping, faulting the
 * page in if need be. mmap_lock held. */
static int shared_key_locked(struct mm_struct *mm, uintptr_t uaddr, struct futex_key *key)
{
	struct pt_lookup_result r;
	uint64_t flags;
	int ret;

	for (int tries = 0; tries < 2; tries++) {
		flags = spin_lock_irqsave(&mm->page_table_lock);
		ret = pt_lookup(mm->pgd, uaddr, &r);
		spin_unlock_irqrestore(&mm->page_table_lock, flags);
		if (ret == 0 && (r.pte & PTE_PRESENT)) {
			*key = (struct futex_key){ 0, r.phys };
			return 0;
		}
		if (handle_mm_fault(mm, uaddr, 0) != 0)
			return -EFAULT;
	}
	return -EFAULT;
}

/* Linux's get_futex_key(): -EINVAL for an unaligned word, -EFAULT for one
 * that is not mapped. */
static int futex_get_key(uintptr_t uaddr, bool private, struct futex_key *key)
{
	struct mm_struct *mm = mm_current(); /* current's (the self-tests run in a borrowed one) */
	struct vm_area_struct *vma;
	int ret = 0;

	if (uaddr & 3)
		return -EINVAL;
	if (!mm || !access_ok((const void *)uaddr, sizeof(uint32_t)))
		return -EFAULT;
	*key = (struct futex_key){ (uintptr_t)mm, uaddr };
	if (private)
		return 0;
	down_read(&mm->mmap_lock);
	vma = vma_lookup(mm, uaddr);
	if (!vma)
		ret = -EFAULT;
	else if (vma->vm_flags & VM_SHARED)
		ret = shared_key_locked(mm, uaddr, key);
	up_read(&mm->mmap_lock);
	return ret;
}

int futex_key_of(uintptr_t uaddr, bool private, uintptr_t key[2])
{
	struct futex_key k;
	int ret = futex_get_key(uaddr, private, &k);

	key[0] = k.space;
	key[1] = k.addr;
	return ret;
}

/* Read the word with the bucket locked: 0, or -EFAULT if it would have
 * to be faulted in. */
static int read_word_locked(uintptr_t uaddr, uint32_t *val)
{
	int err;

	this_cpu()->no_fault_in = true;
	err = copy_from_user(val, (const void *)uaddr, sizeof(*val));
	this_cpu()->no_fault_in = false;
	return err;
}

/* The CLOCK_MONOTONIC time a timeout ends at, in ns: FUTEX_WAIT's is
 * relative, FUTEX_WAIT_BITSET's absolute on CLOCK_MONOTONIC or
 * (FUTEX_CLOCK_REALTIME) CLOCK_REALTIME. 0 with *deadline = 0 for no
 * timeout; -EFAULT, -EINVAL for a bad timespec. */
static int timeout_deadline(uintptr_t uts, bool absolute, bool realtime, uint64_t *deadline)
{
	int64_t ts[2];
	uint64_t now, when, ns;

	*deadline = 0;
	if (!uts)
		return 0;
	if (copy_from_user(ts, (const void *)uts, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts[0] < 0 || ts[1] < 0 || (uint64_t)ts[1] >= NSEC_PER_SEC)
		return -EINVAL;
	now = realtime ? clock_realtime_ns() : clock_monotonic_ns();
	when = (uint64_t)ts[0] * NSEC_PER_SEC + (uint64_t)ts[1];
	if (!absolute)
		when += now;
	ns = when > now ? when - now : 0;
	*deadline = ns ? clock_monotonic_ns() + ns : 1; /* 1: already over, it ends at once */
	return 0;
}

/* Queue w on b if the word still holds val: 0 (queued, current marked
 * sleeping), -EAGAIN, or -EFAULT. */
static int wait_setup(struct futex_bucket *b, struct futex_waiter *w, uintptr_t uaddr, uint32_t val)
{
	for (;;) {
		uint32_t cur;
		uint64_t flags = spin_lock_irqsave(&b->lock);
		int err = read_word_locked(uaddr, &cur);

		if (err == 0 && cur == val) {
			w->bucket = b;
			list_add_tail(&w->node, &b->waiters);
			sched_set_sleeping(current);
		}
		spin_unlock_irqrestore(&b->lock, flags);
		if (err == 0)
			return cur == val ? 0 : -EAGAIN;
		if (copy_from_user(&cur, (const void *)uaddr, sizeof(cur)) < 0)
			return -EFAULT; /* faulting it in failed: it is not there */
	}
}

static long futex_wait(uintptr_t uaddr, bool private, uint32_t val, uint64_t deadline,
		       uint32_t bitset)
{
	struct futex_waiter w = { .task = current, .bitset = bitset };
	struct futex_bucket *b;
	long ret;
	uint64_t flags;

	if (!bitset)
		return -EINVAL;
	if ((ret = futex_get_key(uaddr, private, &w.key)) < 0)
		return ret;
	b = bucket_of(&w.key);
	if ((ret = wait_setup(b, &w, uaddr, val)) < 0)
		return ret;
	WRITE_ONCE(current->wake_ns, deadline);
	for (;;) {
		if (READ_ONCE(w.woken)) {
			ret = 0;
			break;
		}
		if (deadline && clock_monotonic_ns() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		schedule();
		sched_set_sleeping(current);
	}
	sched_set_running(current);
	WRITE_ONCE(current->wake_ns, 0);
	/* Off the queue, under the lock of the bucket it is in now (a
	 * requeue may have moved it). The waker holds that lock until it is
	 * done with w, so w may go once it is taken. */
	for (;;) {
		b = READ_ONCE(w.bucket);
		flags = spin_lock_irqsave(&b->lock);
		if (READ_ONCE(w.bucket) == b)
			break;
		spin_unlock_irqrestore(&b->lock, flags);
	}
	if (w.woken)
		ret = 0; /* a wake that came with the timeout or signal counts */
	else
		list_del(&w.node);
	spin_unlock_irqrestore(&b->lock, flags);
	return ret;
}

/* Wake up to n waiters on key whose bitset meets bitset. b locked. */
static int wake_locked(struct futex_bucket *b, const struct futex_key *key, int n, uint32_t bitset)
{
	struct list_head *pos, *next;
	int woken = 0;

	assert_spin_locked(&b->lock);
	list_for_each_safe(pos, next, &b->waiters) {
		struct futex_waiter *w = list_entry(pos, struct futex_waiter, node);
		struct task *t = w->task;
		if (woken >= n)
			break;
		if (!key_eq(&w->key, key) || !(w->bitset & bitset))
			continue;
		list_del(&w->node);
		/* woken before the wakeup, so that a waiter that checks in
		 * between does not go back to sleep; it cannot leave (and
		 * take w with it) before this lock is let go. */
		WRITE_ONCE(w->woken, true);
		sched_wake(t);
		woken++;
	}
	return woken;
}

static long futex_wake(uintptr_t uaddr, bool private, int n, uint32_t bitset)
{
	struct futex_key key;
	struct futex_bucket *b;
	uint64_t flags;
	long ret;

	if (!bitset)
		return -EINVAL;
	if ((ret = futex_get_key(uaddr, private, &key)) < 0)
		return ret;
	b = bucket_of(&key);
	flags = spin_lock_irqsave(&b->lock);
	ret = wake_locked(b, &key, n, bitset);
	spin_unlock_irqrestore(&b->lock, flags);
	return ret;
}

long futex_wake_address(uintptr_t uaddr, int n)
{
	buckets_init();
	return futex_wake(uaddr, false, n, FUTEX_BITSET_MATCH_ANY);
}

/* Two buckets locked in address order (the same class nests: this order
 * is what keeps two requeues from deadlocking). */
static uint64_t lock_two(struct futex_bucket *a, struct futex_bucket *b)
{
	uint64_t flags;

	if (a == b)
		return spin_lock_irqsave(&a->lock);
	if (a > b) {
		struct futex_bucket *t = a;
		a = b;
		b = t;
	}
	flags = spin_lock_irqsave(&a->lock);
	spin_lock(&b->lock);
	return flags;
}

static void unlock_two(struct futex_bucket *a, struct futex_bucket *b, uint64_t flags)
{
	if (a != b)
		spin_unlock(&b->lock);
	spin_unlock_irqrestore(&a->lock, flags);
}

/* FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wake nr_wake waiters on uaddr, move
 * up to nr_requeue others to uaddr2 (if cmp, only if *uaddr is still
 * cmpval: else -EAGAIN). Returns woken plus moved. */
static long futex_requeue(uintptr_t uaddr, uintptr_t uaddr2, bool private, int nr_wake,
			  int nr_requeue, bool cmp, uint32_t cmpval)
{
	struct futex_key k1, k2;
	struct futex_bucket *b1, *b2;
	struct list_head *pos, *next;
	long ret, moved = 0;
	uint64_t flags;

	if (nr_wake < 0 || nr_requeue < 0)
		return -EINVAL;
	if ((ret = futex_get_key(uaddr, private, &k1)) < 0 ||
	    (ret = futex_get_key(uaddr2, private, &k2)) < 0)
		return ret;
	b1 = bucket_of(&k1);
	b2 = bucket_of(&k2);
	for (;;) {
		uint32_t cur = 0;
		flags = lock_two(b1, b2);
		if (!cmp)
			break;
		if (read_word_locked(uaddr, &cur) == 0) {
			if (cur == cmpval)
				break;
			unlock_two(b1, b2, flags);
			return -EAGAIN;
		}
		unlock_two(b1, b2, flags);
		if (copy_from_user(&cur, (const void *)uaddr, sizeof(cur)) < 0)
			return -EFAULT;
	}
	ret = wake_locked(b1, &k1, nr_wake, FUTEX_BITSET_MATCH_ANY);
	list_for_each_safe(pos, next, &b1->waiters) {
		struct futex_waiter *w = list_entry(pos, struct futex_waiter, node);
		if (moved >= nr_requeue)
			break;
		if (!key_eq(&w->key, &k1))
			continue;
		list_del(&w->node);
		w->key = k2;
		WRITE_ONCE(w->bucket, b2);
		list_add_tail(&w->node, &b2->waiters);
		moved++;
	}
	unlock_two(b1, b2, flags);
	return ret + moved;
}

long futex_op(uintptr_t uaddr, int op, uint32_t val, uintptr_t timeout_or_val2,
	      uintptr_t uaddr2, uint32_t val3)
{
	bool private = op & FUTEX_PRIVATE_FLAG, realtime = op & FUTEX_CLOCK_REALTIME;
	int cmd = op & FUTEX_CMD_MASK;
	uint64_t deadline;
	int err;

	buckets_init();
	if (realtime && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS; /* as Linux: only the absolute waits take a clock */
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		err = timeout_deadline(timeout_or_val2, cmd == FUTEX_WAIT_BITSET, realtime, &deadline);
		if (err)
			return err;
		return futex_wait(uaddr, private, val, deadline,
				  cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3);
	case FUTEX_WAKE:
		return futex_wake(uaddr, private, (int)val, FUTEX_BITSET_MATCH_ANY);
	case FUTEX_WAKE_BITSET:
		return futex_wake(uaddr, private, (int)val, val3);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(uaddr, uaddr2, private, (int)val, (int)timeout_or_val2,
				     cmd == FUTEX_CMP_REQUEUE, val3);
	default:
		/* FUTEX_WAKE_OP and the priority-inheritance operations are
		 * not built, as in a Linux whose futex_cmpxchg is off. */
		return -ENOSYS;
	}
}

SYSCALL_DEFINE(202 /* SYS_futex */, futex)
{
	return futex_op(ARG(0), (int)ARG(1), (uint32_t)ARG(2), ARG(3), ARG(4), (uint32_t)ARG(5));
}

unsigned int futex_waiters(void)
{
	unsigned int n = 0;

	buckets_init();
	for (unsigned int i = 0; i < ARRAY_SIZE(buckets); i++) {
		uint64_t flags = spin_lock_irqsave(&buckets[i].lock);
		struct list_head *pos;
		list_for_each(pos, &buckets[i].waiters)
			n++;
		spin_unlock_irqrestore(&buckets[i].lock, flags);
	}
	return n;
}

/* ---- robust futexes ---- */

/* Linux's struct robust_list_head on x86-64. */
struct robust_list_head {
	uint64_t next;          /* first entry; the list ends at the head itself */
	int64_t futex_offset;   /* from an entry to its futex word */
	uint64_t list_op_pending;
};

/* The owner t died holding the futex at uaddr (Linux's handle_futex_death()):
 * if its tid is in the word, mark it FUTEX_OWNER_DIED (keeping
 * FUTEX_WAITERS) and wake one waiter. A pending entry (mid-lock) whose
 * word is 0 just wakes one. */
static void futex_owner_died(struct task *t, uintptr_t uaddr, bool pending)
{
	uint32_t val, cur;

	if (uaddr & 3 || !access_ok((const void *)uaddr, sizeof(uint32_t)))
		return;
	for (int tries = 0; tries < 16; tries++) {
		if (copy_from_user(&val, (const void *)uaddr, sizeof(val)) < 0)
			return;
		if (pending && val == 0) {
			futex_wake(uaddr, false, 1, FUTEX_BITSET_MATCH_ANY);
			return;
		}
		if ((val & FUTEX_TID_MASK) != (uint32_t)t->pid)
			return;
		if (raw_cmpxchg_user_u32((uint32_t *)uaddr, val,
					 (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED, &cur) < 0)
			return;
		if (cur != val)
			continue; /* changed under us: look again */
		if (val & FUTEX_WAITERS)
			futex_wake(uaddr, false, 1, FUTEX_BITSET_MATCH_ANY);
		return;
	}
}

void futex_exit_robust_list(struct task *t)
{
	struct robust_list_head head;
	uintptr_t entry, headp = t->robust_list;
	unsigned int limit = ROBUST_LIST_LIMIT;

	if (!headp || !t->mm)
		return;
	buckets_init();
	t->robust_list = 0;
	if (copy_from_user(&head, (const void *)headp, sizeof(head)) < 0)
		return;
	entry = head.next;
	while (entry != headp && limit--) {
		uint64_t next;
		/* Bit 0 marks a priority-inheritance futex: not built here. */
		if (copy_from_user(&next, (const void *)(entry & ~1UL), sizeof(next)) < 0)
			return;
		if (entry != head.list_op_pending && !(entry & 1))
			futex_owner_died(t, entry + head.futex_offset, false);
		entry = next;
	}
	if (head.list_op_pending && !(head.list_op_pending & 1))
		futex_owner_died(t, head.list_op_pending + head.futex_offset, true);
}

SYSCALL_DEFINE(SYS_set_robust_list, set_robust_list)
{
	if (ARG(1) != ROBUST_LIST_HEAD_SIZE)
		return -EINVAL;
	current->robust_list = ARG(0);
	return 0;
}

/* get_robust_list(pid, &head, &len): the caller's (pid 0) or another's. */
SYSCALL_DEFINE(274 /* SYS_get_robust_list */, get_robust_list)
{
	uint64_t head, len = ROBUST_LIST_HEAD_SIZE;
	struct task *t = ARG(0) ? task_get_pid((pid_t)ARG(0)) : current;

	if (!t)
		return -ESRCH;
	head = t->robust_list;
	if (ARG(0))
		task_put(t);
	if (copy_to_user((void *)ARG(2), &len, sizeof(len)) < 0 ||
	    copy_to_user((void *)ARG(1), &head, sizeof(head)) < 0)
		return -EFAULT;
	return 0;
}
