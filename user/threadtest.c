/* threadtest: threads as a program sees them, as KTAP (suite
 * "threadtest"; built against static glibc too, as "glibc-threadtest").
 * pthreads (create, join, detach, mutexes, condition variables,
 * thread-local storage), clone and clone3 as pthread_create uses them,
 * futex, CPU affinity and getcpu, /proc/self/task and "Threads:", exit
 * versus exit_group, signals aimed at one thread, fork and execve from a
 * thread, and the errno of each refused call. The glibc build
 * (LIBC_CASES_ONLY) leaves out the cases made of raw system calls. Every expectation is Linux
 * 6.x behaviour: scripts/linux-test.sh runs the same binary on Debian's
 * kernel at -smp 4.
 *
 * Worker threads never call the EXPECT macros: they record what they saw
 * in their own structures and the main thread judges afterwards. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ktap.h"
#include "threads.h"

#ifndef SUITE
#define SUITE "threadtest"
#endif

#define NTHREADS 4
#define EXEC_CHECK_ARG "--exec-check"

static const char *self_path; /* argv[0]: this program, for execve */

/* ---- pthreads ---- */

static void *return_arg_times_three(void *arg)
{
	return (void *)((uintptr_t)arg * 3);
}

struct ids {
	pid_t pid, tid;
};

static void *record_ids(void *arg)
{
	struct ids *ids = arg;

	ids->pid = getpid();
	ids->tid = thr_gettid();
	return NULL;
}

static void pthread_create_join_returns_each_value(void)
{
	pthread_t th[8];
	struct ids ids[8];

	for (uintptr_t i = 0; i < 8; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, return_arg_times_three, (void *)i), 0);
	for (uintptr_t i = 0; i < 8; i++) {
		void *ret = NULL;
		EXPECT_EQ(pthread_join(th[i], &ret), 0);
		EXPECT_EQ((uintptr_t)ret, i * 3);
	}
	/* One process: the same pid everywhere, a tid of its own each. */
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, record_ids, &ids[i]), 0);
	for (int i = 0; i < 8; i++)
		EXPECT_EQ(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < 8; i++) {
		EXPECT_EQ(ids[i].pid, getpid());
		EXPECT_NE(ids[i].tid, getpid());
		for (int j = 0; j < i; j++)
			EXPECT_NE(ids[i].tid, ids[j].tid);
	}
}

static sem_t detached_done;

static void *post_and_leave(void *arg)
{
	sem_post(&detached_done);
	return NULL;
}

static void pthread_detached_thread_runs_and_leaves(void)
{
	pthread_attr_t attr;
	pthread_t th;
	struct timespec dl;

	ASSERT_EQ(sem_init(&detached_done, 0, 0), 0);
	ASSERT_EQ(pthread_attr_init(&attr), 0);
	ASSERT_EQ(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED), 0);
	ASSERT_EQ(pthread_create(&th, &attr, post_and_leave, NULL), 0);
	pthread_attr_destroy(&attr);
	ASSERT_EQ(pthread_create(&th, NULL, post_and_leave, NULL), 0);
	EXPECT_EQ(pthread_detach(th), 0);
	for (int i = 0; i < 2; i++) {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 5;
		EXPECT_EQ(sem_timedwait(&detached_done, &dl), 0);
	}
	/* Both are gone from /proc/self/task once they have exited. */
	EXPECT_EQ(thr_wait_task_count(1), 1);
	sem_destroy(&detached_done);
}

#define MUTEX_ROUNDS 20000
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;

static void *count_under_mutex(void *arg)
{
	for (int i = 0; i < MUTEX_ROUNDS; i++) {
		pthread_mutex_lock(&counter_lock);
		counter = counter + 1; /* a read and a write: lost without the lock */
		pthread_mutex_unlock(&counter_lock);
	}
	return NULL;
}

static void pthread_mutex_counter_ends_exact(void)
{
	pthread_t th[NTHREADS];

	counter = 0;
	for (int i = 0; i < NTHREADS; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, count_under_mutex, NULL), 0);
	for (int i = 0; i < NTHREADS; i++)
		EXPECT_EQ(pthread_join(th[i], NULL), 0);
	EXPECT_EQ(counter, (long)NTHREADS * MUTEX_ROUNDS);
}

/* A queue of numbers handed from the main thread to NTHREADS consumers
 * through one condition variable, then a broadcast that ends them all. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int items[64], head, tail;
	bool closed;
	long sum[NTHREADS];
} q = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *consume(void *arg)
{
	int me = (int)(uintptr_t)arg;

	pthread_mutex_lock(&q.lock);
	for (;;) {
		while (q.head == q.tail && !q.closed)
			pthread_cond_wait(&q.cond, &q.lock);
		if (q.head == q.tail)
			break;
		q.sum[me] += q.items[q.head++ % 64];
	}
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

static void pthread_cond_signal_and_broadcast_wake_waiters(void)
{
	pthread_t th[NTHREADS];
	struct timespec dl;
	long total = 0;

	for (int i = 0; i < NTHREADS; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, consume, (void *)(uintptr_t)i), 0);
	for (int v = 1; v <= 200; v++) {
		pthread_mutex_lock(&q.lock);
		while (q.tail - q.head == 64) { /* full: let a consumer run */
			pthread_mutex_unlock(&q.lock);
			sched_yield();
			pthread_mutex_lock(&q.lock);
		}
		q.items[q.tail++ % 64] = v;
		pthread_cond_signal(&q.cond);
		pthread_mutex_unlock(&q.lock);
	}
	pthread_mutex_lock(&q.lock);
	q.closed = true;
	pthread_cond_broadcast(&q.cond);
	pthread_mutex_unlock(&q.lock);
	for (int i = 0; i < NTHREADS; i++) {
		EXPECT_EQ(pthread_join(th[i], NULL), 0);
		total += q.sum[i];
	}
	EXPECT_EQ(total, 200 * 201 / 2);
	/* Nobody signals: a timed wait ends with ETIMEDOUT. */
	pthread_mutex_lock(&q.lock);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 20 * 1000000L;
	if (dl.tv_nsec >= 1000000000L)
		dl.tv_sec++, dl.tv_nsec -= 1000000000L;
	EXPECT_EQ(pthread_cond_timedwait(&q.cond, &q.lock, &dl), ETIMEDOUT);
	pthread_mutex_unlock(&q.lock);
}

static __thread int tls_init = 42;      /* .tdata */
static __thread char tls_zero[256];     /* .tbss */
static pthread_barrier_t tls_barrier;

struct tls_seen {
	int idx;
	bool init_ok, zero_ok, kept_ok;
	uintptr_t addr;
};

static void *use_tls(void *arg)
{
	struct tls_seen *s = arg;
	bool zero = true;

	for (int i = 0; i < 256; i++)
		zero &= tls_zero[i] == 0;
	s->init_ok = tls_init == 42;
	s->zero_ok = zero;
	s->addr = (uintptr_t)&tls_init;
	tls_init = 100 + s->idx;
	memset(tls_zero, s->idx + 1, sizeof(tls_zero));
	pthread_barrier_wait(&tls_barrier); /* everyone has written */
	s->kept_ok = tls_init == 100 + s->idx;
	for (int i = 0; i < 256; i++)
		s->kept_ok &= tls_zero[i] == s->idx + 1;
	return NULL;
}

static void tls_variables_distinct_per_thread(void)
{
	pthread_t th[NTHREADS];
	struct tls_seen seen[NTHREADS] = { 0 };

	ASSERT_EQ(pthread_barrier_init(&tls_barrier, NULL, NTHREADS), 0);
	for (int i = 0; i < NTHREADS; i++) {
		seen[i].idx = i;
		ASSERT_EQ(pthread_create(&th[i], NULL, use_tls, &seen[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		EXPECT_EQ(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		EXPECT_TRUE(seen[i].init_ok);
		EXPECT_TRUE(seen[i].zero_ok);
		EXPECT_TRUE(seen[i].kept_ok);
		EXPECT_NE(seen[i].addr, (uintptr_t)&tls_init);
		for (int j = 0; j < i; j++)
			EXPECT_NE(seen[i].addr, seen[j].addr);
	}
	EXPECT_EQ(tls_init, 42);
	pthread_barrier_destroy(&tls_barrier);
}

/* ---- clone and clone3, raw ---- */

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
		      CLONE_SYSVSEM)
#define CHILD_STACK (64 * 1024)

static long raw_gettid(void)
{
	long r = SYS_gettid;

	__asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
	return r;
}

/* What a raw thread (no TLS of its own: it must not touch errno) saw. */
static struct {
	_Atomic long tid;
	_Atomic uintptr_t stack_addr;
} raw_seen;

static int raw_thread_fn(void *arg)
{
	volatile int here;

	atomic_store(&raw_seen.stack_addr, (uintptr_t)&here);
	atomic_store(&raw_seen.tid, raw_gettid());
	return 0;
}

/* Wait until the kernel clears *ctid at the thread's exit (with a wake on
 * a shared futex, as Linux's clear_child_tid does); false after 5 s. */
static bool wait_tid_cleared(_Atomic pid_t *ctid)
{
	struct timespec ts = { 0, 10 * 1000000L };

	for (int i = 0; i < 500; i++) {
		pid_t v = atomic_load(ctid);
		if (v == 0)
			return true;
		thr_futex((void *)ctid, FUTEX_WAIT, v, &ts, NULL, 0);
	}
	return false;
}

static void clone_thread_sets_parent_tid_and_clears_child_tid(void)
{
	static _Atomic pid_t ptid, ctid;
	char *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int tid;

	ASSERT_TRUE(stack != MAP_FAILED);
	memset(&raw_seen, 0, sizeof(raw_seen));
	ptid = 0;
	ctid = -1;
	tid = clone(raw_thread_fn, stack + CHILD_STACK,
		    THREAD_FLAGS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID, NULL,
		    (pid_t *)&ptid, NULL, (pid_t *)&ctid);
	ASSERT_TRUE(tid > 0);
	EXPECT_TRUE(wait_tid_cleared(&ctid));
	EXPECT_EQ(atomic_load(&ptid), tid);
	EXPECT_EQ(atomic_load(&raw_seen.tid), tid);
	EXPECT_NE(tid, getpid());
	EXPECT_TRUE(raw_seen.stack_addr >= (uintptr_t)stack &&
		    raw_seen.stack_addr < (uintptr_t)stack + CHILD_STACK);
	EXPECT_EQ(thr_wait_task_count(1), 1);
	munmap(stack, CHILD_STACK);
}

/* struct clone_args of <linux/sched.h>, its first version (64 bytes). */
struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static long raw_clone3(struct clone_args_v0 *ca, size_t size)
{
	return syscall(SYS_clone3, ca, size);
}

/* clone3 with a stack: the child starts on the new stack at the system
 * call's return, so it is started here in assembly: call fn(arg), then
 * exit the thread with fn's value. Returns the tid or -errno. */
static long clone3_thread(struct clone_args_v0 *ca, int (*fn)(void *), void *arg)
{
	register long rax __asm__("rax") = SYS_clone3;
	register void *rdi __asm__("rdi") = ca;
	register long rsi __asm__("rsi") = sizeof(*ca);
	register void *r12 __asm__("r12") = (void *)fn;
	register void *r13 __asm__("r13") = arg;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $60, %%eax\n\t" /* SYS_exit: this thread alone */
			 "syscall\n\t"
			 "ud2\n"
			 "1:"
			 : "+r"(rax)
			 : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13)
			 : "rcx", "r11", "memory");
	return rax;
}

static void clone3_thread_runs_on_its_stack(void)
{
	static _Atomic pid_t ptid, ctid;
	char *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct clone_args_v0 ca = {
		.flags = THREAD_FLAGS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
		.child_tid = (uintptr_t)&ctid,
		.parent_tid = (uintptr_t)&ptid,
		.stack = (uintptr_t)stack,
		.stack_size = CHILD_STACK,
	};
	long tid;

	ASSERT_TRUE(stack != MAP_FAILED);
	memset(&raw_seen, 0, sizeof(raw_seen));
	ptid = 0;
	ctid = -1;
	tid = clone3_thread(&ca, raw_thread_fn, NULL);
	if (tid < 0)
		ktap_log("clone3 failed: %s", strerror((int)-tid));
	ASSERT_TRUE(tid > 0);
	EXPECT_TRUE(wait_tid_cleared(&ctid));
	EXPECT_EQ(atomic_load(&ptid), tid);
	EXPECT_EQ(atomic_load(&raw_seen.tid), tid);
	EXPECT_TRUE(raw_seen.stack_addr >= (uintptr_t)stack &&
		    raw_seen.stack_addr < (uintptr_t)stack + CHILD_STACK);
	EXPECT_EQ(thr_wait_task_count(1), 1);
	munmap(stack, CHILD_STACK);
}

/* A clone that must be refused. Should the kernel accept it, the child
 * (which has no stack of its own, but no shared memory either) leaves at
 * once through SYS_exit, which cannot end the rest of a thread group, and
 * a child process is reaped. */
static long refused_clone(unsigned long flags)
{
	long r = syscall(SYS_clone, flags, 0, NULL, NULL, 0);

	if (r == 0)
		syscall(SYS_exit, 0);
	if (r > 0)
		waitpid(r, NULL, __WALL);
	return r;
}

static void clone_sighand_without_vm_einval(void)
{
	EXPECT_ERRNO(refused_clone(CLONE_SIGHAND | SIGCHLD), EINVAL);
}

static void clone_thread_without_sighand_einval(void)
{
	EXPECT_ERRNO(refused_clone(CLONE_THREAD), EINVAL);
	EXPECT_ERRNO(refused_clone(CLONE_THREAD | CLONE_VM), EINVAL);
}

static long refused_clone3(struct clone_args_v0 *ca, size_t size)
{
	long r = raw_clone3(ca, size);

	if (r == 0)
		syscall(SYS_exit, 0);
	if (r > 0)
		waitpid(r, NULL, __WALL);
	return r;
}

static void clone3_bad_arguments_einval(void)
{
	static char big[2 * PG];
	struct clone_args_v0 ca = { .exit_signal = SIGCHLD };
	char stack[64];

	EXPECT_ERRNO(refused_clone3(&ca, 0), EINVAL);
	EXPECT_ERRNO(refused_clone3(&ca, sizeof(ca) - 8), EINVAL);
	EXPECT_ERRNO(refused_clone3((struct clone_args_v0 *)big, PG + 8), E2BIG);
	ca.flags = CLONE_THREAD;
	EXPECT_ERRNO(refused_clone3(&ca, sizeof(ca)), EINVAL);
	ca.flags = CLONE_SIGHAND;
	EXPECT_ERRNO(refused_clone3(&ca, sizeof(ca)), EINVAL);
	ca.flags = 0;
	ca.exit_signal = 65; /* no such signal */
	EXPECT_ERRNO(refused_clone3(&ca, sizeof(ca)), EINVAL);
	ca.exit_signal = SIGCHLD;
	ca.stack = (uintptr_t)stack; /* a stack without a size */
	EXPECT_ERRNO(refused_clone3(&ca, sizeof(ca)), EINVAL);
	ca.stack = 0;
	ca.stack_size = sizeof(stack); /* a size without a stack */
	EXPECT_ERRNO(refused_clone3(&ca, sizeof(ca)), EINVAL);
}

static void clone3_fork_like_child_exits(void)
{
	struct clone_args_v0 ca = { .exit_signal = SIGCHLD };
	int status = 0;
	long pid = raw_clone3(&ca, sizeof(ca));

	if (pid == 0)
		_exit(42);
	if (pid < 0)
		ktap_log("clone3 failed: %s", strerror(errno));
	ASSERT_TRUE(pid > 0);
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42);
}

/* ---- futex ---- */

struct waiter {
	_Atomic uint32_t *word;
	int op;
	uint32_t bitset;
	long ret;
	int err;
	_Atomic int done;
};

static void *futex_waiter(void *arg)
{
	struct waiter *w = arg;

	w->ret = thr_futex((void *)w->word, w->op, 0, NULL, NULL, w->bitset);
	w->err = errno;
	atomic_store(&w->done, 1);
	return NULL;
}

/* Repeat a wake (a CMP_REQUEUE too) until it reports n tasks, the sign
 * that the waiter has gone to sleep; false after 3 s. */
static bool wake_until(long n, void *uaddr, int op, uint32_t nr, uint32_t nr2, void *uaddr2,
		       uint32_t val3)
{
	for (int i = 0; i < 3000; i++) {
		long r = thr_futex(uaddr, op, nr, (struct timespec *)(uintptr_t)nr2, uaddr2, val3);
		if (r == n)
			return true;
		if (r != 0) {
			ktap_log("futex op %d returned %ld (errno %d), not 0 or %ld", op, r, errno, n);
			return false;
		}
		sleep_ms(1);
	}
	ktap_log("futex op %d never reported %ld waiter(s)", op, n);
	return false;
}

static void futex_wake_wakes_a_waiter(void)
{
	static _Atomic uint32_t word;
	struct waiter w = { .word = &word, .op = FUTEX_WAIT | FUTEX_PRIVATE_FLAG };
	pthread_t th;

	ASSERT_EQ(pthread_create(&th, NULL, futex_waiter, &w), 0);
	EXPECT_TRUE(wake_until(1, &word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, NULL, 0));
	EXPECT_EQ(pthread_join(th, NULL), 0);
	EXPECT_EQ(w.ret, 0);
	/* Nobody waits now. */
	EXPECT_EQ(futex_wake_private(&word, 1), 0);
}

static void futex_cmp_requeue_moves_waiter(void)
{
	static _Atomic uint32_t from, to;
	struct waiter w = { .word = &from, .op = FUTEX_WAIT | FUTEX_PRIVATE_FLAG };
	const int op = FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG;
	pthread_t th;

	ASSERT_EQ(pthread_create(&th, NULL, futex_waiter, &w), 0);
	/* Wake none, move one: reports 1 once the waiter sleeps on "from". */
	EXPECT_TRUE(wake_until(1, &from, op, 0, 1, &to, 0));
	/* The value check: *from is 0, not 5. */
	EXPECT_ERRNO(thr_futex((void *)&from, op, 0, (struct timespec *)1, (void *)&to, 5), EAGAIN);
	EXPECT_EQ(futex_wake_private(&from, 1), 0);
	sleep_ms(20);
	EXPECT_EQ(atomic_load(&w.done), 0);
	EXPECT_EQ(futex_wake_private(&to, 1), 1);
	EXPECT_EQ(pthread_join(th, NULL), 0);
	EXPECT_EQ(w.ret, 0);
}

static void futex_bitset_wakes_matching_waiter_only(void)
{
	static _Atomic uint32_t word;
	const int wait_op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG;
	const int wake_op = FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG;
	struct waiter a = { .word = &word, .op = wait_op, .bitset = 1 };
	struct waiter b = { .word = &word, .op = wait_op, .bitset = 2 };
	pthread_t ta, tb;

	ASSERT_EQ(pthread_create(&ta, NULL, futex_waiter, &a), 0);
	ASSERT_EQ(pthread_create(&tb, NULL, futex_waiter, &b), 0);
	EXPECT_TRUE(wake_until(1, &word, wake_op, INT32_MAX, 0, NULL, 1));
	EXPECT_EQ(pthread_join(ta, NULL), 0);
	EXPECT_EQ(a.ret, 0);
	sleep_ms(20);
	EXPECT_EQ(atomic_load(&b.done), 0);
	EXPECT_TRUE(wake_until(1, &word, wake_op, INT32_MAX, 0, NULL, 2));
	EXPECT_EQ(pthread_join(tb, NULL), 0);
	EXPECT_EQ(b.ret, 0);
	EXPECT_ERRNO(thr_futex((void *)&word, wait_op, 0, NULL, NULL, 0), EINVAL);
}

/* A shared futex (no FUTEX_PRIVATE_FLAG) in a MAP_SHARED page: the key is
 * the page, not the address space, so a wake in the parent reaches a
 * waiter in the child. */
static int wait_on_shared(void *word)
{
	long r = thr_futex(word, FUTEX_WAIT, 0, NULL, NULL, 0);

	return r == 0 ? 0 : 10 + errno % 100;
}

static void futex_shared_wakes_across_fork(void)
{
	uint32_t *word = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;
	int st;

	ASSERT_TRUE(word != MAP_FAILED);
	*word = 0;
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(wait_on_shared(word));
	EXPECT_TRUE(wake_until(1, word, FUTEX_WAKE, 1, 0, NULL, 0));
	st = thr_wait_child(pid, 3000);
	EXPECT_TRUE(st >= 0 && WIFEXITED(st));
	EXPECT_EQ(WEXITSTATUS(st), 0);
	munmap(word, PG);
}

static void futex_bad_address_efault(void)
{
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_EQ(munmap(p, PG), 0);
	EXPECT_ERRNO(thr_futex(p, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0), EFAULT);
	EXPECT_ERRNO(thr_futex(p, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
	EXPECT_ERRNO(thr_futex(NULL, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
	/* A shared wake looks the page up; there is none. */
	EXPECT_ERRNO(thr_futex(p, FUTEX_WAKE, 1, NULL, NULL, 0), EFAULT);
}

static void futex_unaligned_einval(void)
{
	static _Atomic uint32_t words[2];
	char *odd = (char *)words + 1;

	EXPECT_ERRNO(thr_futex(odd, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0), EINVAL);
	EXPECT_ERRNO(thr_futex(odd, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0), EINVAL);
	EXPECT_ERRNO(thr_futex(odd + 1, FUTEX_WAIT, 0, NULL, NULL, 0), EINVAL);
	EXPECT_ERRNO(thr_futex((void *)words, 99, 0, NULL, NULL, 0), ENOSYS);
}

static void futex_timeout_expires_etimedout(void)
{
	static _Atomic uint32_t word;
	struct timespec zero = { 0, 0 }, ten_ms = { 0, 10 * 1000000L }, past, bad = { 0, 1000000000L };
	double t0;

	EXPECT_ERRNO(futex_wait_private(&word, 0, &zero), ETIMEDOUT);
	t0 = thr_now_ns();
	EXPECT_ERRNO(futex_wait_private(&word, 0, &ten_ms), ETIMEDOUT);
	t0 = thr_now_ns() - t0;
	if (t0 < 10 * 1e6)
		ktap_log("a 10 ms timeout ended after %.3f ms of CLOCK_MONOTONIC", t0 / 1e6);
	EXPECT_TRUE(t0 >= 10 * 1e6);
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
	clock_gettime(CLOCK_MONOTONIC, &past);
	past.tv_sec -= 1;
	EXPECT_ERRNO(thr_futex((void *)&word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &past, NULL,
			       FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	EXPECT_ERRNO(futex_wait_private(&word, 0, &bad), EINVAL);
	bad.tv_sec = -1, bad.tv_nsec = 0;
	EXPECT_ERRNO(futex_wait_private(&word, 0, &bad), EINVAL);
}

static void futex_value_mismatch_eagain(void)
{
	static _Atomic uint32_t word = 7;

	EXPECT_ERRNO(futex_wait_private(&word, 8, NULL), EAGAIN);
	EXPECT_ERRNO(thr_futex((void *)&word, FUTEX_WAIT, 0, NULL, NULL, 0), EAGAIN);
}

#define PINGPONG_ROUNDS 200
static _Atomic uint32_t pingpong_word;

struct player {
	int cpu, side;
	int pin_err, misplaced;
};

/* side 0 moves the word from even to odd values, side 1 back. */
static void *play(void *arg)
{
	struct player *p = arg;

	if (thr_pin(p->cpu) < 0) {
		p->pin_err = errno;
		return NULL;
	}
	for (uint32_t i = 0; i < PINGPONG_ROUNDS; i++) {
		uint32_t want = 2 * i + p->side, v;
		while ((v = atomic_load(&pingpong_word)) != want)
			futex_wait_private(&pingpong_word, v, NULL);
		if (sched_getcpu() != p->cpu)
			p->misplaced++;
		atomic_store(&pingpong_word, want + 1);
		futex_wake_private(&pingpong_word, 1);
	}
	return NULL;
}

static void futex_ping_pong_on_two_pinned_cpus(void)
{
	struct player pl[2] = { { .side = 0 }, { .side = 1 } };
	pthread_t th[2];
	cpu_set_t set;

	if (thr_cpus(&set) < 2)
		return ktap_skip("one CPU online: no second CPU to wake across");
	pl[0].cpu = thr_nth_cpu(&set, 0);
	pl[1].cpu = thr_nth_cpu(&set, 1);
	atomic_store(&pingpong_word, 0);
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, play, &pl[i]), 0);
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(pthread_join(th[i], NULL), 0);
		EXPECT_EQ(pl[i].pin_err, 0);
		EXPECT_EQ(pl[i].misplaced, 0);
	}
	EXPECT_EQ(atomic_load(&pingpong_word), 2 * PINGPONG_ROUNDS);
}

/* ---- CPUs ---- */

/* The processor numbers /proc/cpuinfo lists, as a set; -1 if unreadable. */
static int cpuinfo_cpus(cpu_set_t *set)
{
	static char buf[256 * 1024];
	int fd = open("/proc/cpuinfo", O_RDONLY), n = 0;
	ssize_t len = 0, r;

	CPU_ZERO(set);
	if (fd < 0)
		return -1;
	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += r;
	close(fd);
	buf[len] = 0;
	for (char *p = buf; (p = strstr(p, "processor\t: ")); p++) {
		if (p != buf && p[-1] != '\n')
			continue;
		CPU_SET(atoi(p + strlen("processor\t: ")), set);
		n++;
	}
	return n;
}

static void affinity_mask_holds_every_cpu_of_cpuinfo(void)
{
	cpu_set_t mine, listed;
	int n = thr_cpus(&mine);
	long r;

	ASSERT_TRUE(n >= 1);
	EXPECT_EQ(cpuinfo_cpus(&listed), n);
	EXPECT_TRUE(CPU_EQUAL(&mine, &listed));
	/* The raw call returns the bytes it wrote: whole longs, at most len. */
	r = syscall(SYS_sched_getaffinity, 0, sizeof(mine), &mine);
	EXPECT_TRUE(r > 0 && r % sizeof(long) == 0 && r <= (long)sizeof(mine));
}

struct getcpu_run {
	cpu_set_t set;
	int tried, wrong, pin_err;
	unsigned last_node;
};

static void *visit_each_cpu(void *arg)
{
	struct getcpu_run *g = arg;

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		unsigned got = ~0u, node = ~0u;
		if (!CPU_ISSET(cpu, &g->set))
			continue;
		g->tried++;
		if (thr_pin(cpu) < 0) {
			g->pin_err = errno;
			continue;
		}
		if (syscall(SYS_getcpu, &got, &node, NULL) < 0 || got != (unsigned)cpu)
			g->wrong++;
		if (sched_getcpu() != cpu)
			g->wrong++;
		g->last_node = node;
	}
	return NULL;
}

static void getcpu_follows_pinning(void)
{
	struct getcpu_run g = { 0 };
	pthread_t th;
	int n = thr_cpus(&g.set);

	ASSERT_TRUE(n >= 1);
	ASSERT_EQ(pthread_create(&th, NULL, visit_each_cpu, &g), 0);
	EXPECT_EQ(pthread_join(th, NULL), 0);
	EXPECT_EQ(g.tried, n);
	EXPECT_EQ(g.pin_err, 0);
	EXPECT_EQ(g.wrong, 0);
	EXPECT_EQ(g.last_node, 0); /* one NUMA node */
}

static void sched_affinity_bad_masks_fail(void)
{
	cpu_set_t set, mine;
	long r;

	thr_cpus(&mine);
	CPU_ZERO(&set);
	EXPECT_ERRNO(sched_setaffinity(0, sizeof(set), &set), EINVAL);
	CPU_SET(CPU_SETSIZE - 1, &set); /* CPU 1023: not online on any test machine */
	ASSERT_TRUE(!CPU_ISSET(CPU_SETSIZE - 1, &mine));
	EXPECT_ERRNO(sched_setaffinity(0, sizeof(set), &set), EINVAL);
	EXPECT_ERRNO(sched_setaffinity(0x3fffffff, sizeof(mine), &mine), ESRCH);
	/* A length that is not a whole number of longs. */
	r = syscall(SYS_sched_getaffinity, 0, 4, &set);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EINVAL);
	/* Still allowed everywhere it was. */
	CPU_ZERO(&set);
	thr_cpus(&set);
	EXPECT_TRUE(CPU_EQUAL(&set, &mine));
}

/* ---- /proc, exit, signals ---- */

struct holder {
	pthread_barrier_t *release;
	_Atomic pid_t tid;
	_Atomic int *arrived;
};

static void *hold(void *arg)
{
	struct holder *h = arg;

	atomic_store(&h->tid, thr_gettid());
	atomic_fetch_add(h->arrived, 1);
	pthread_barrier_wait(h->release);
	return NULL;
}

static bool tid_listed(pid_t tid, const pid_t *tids, int n)
{
	for (int i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

static void proc_task_lists_every_thread(void)
{
	pthread_barrier_t release;
	_Atomic int arrived = 0;
	struct holder h[3];
	pthread_t th[3];
	pid_t tids[16];
	char path[64];
	struct stat st;
	int n;

	ASSERT_EQ(pthread_barrier_init(&release, NULL, 4), 0);
	for (int i = 0; i < 3; i++) {
		h[i] = (struct holder){ .release = &release, .arrived = &arrived };
		ASSERT_EQ(pthread_create(&th[i], NULL, hold, &h[i]), 0);
	}
	while (atomic_load(&arrived) < 3)
		sched_yield();
	n = thr_task_list(tids, 16);
	EXPECT_EQ(n, 4);
	EXPECT_TRUE(tid_listed(getpid(), tids, n));
	for (int i = 0; i < 3; i++) {
		EXPECT_TRUE(tid_listed(h[i].tid, tids, n));
		snprintf(path, sizeof(path), "/proc/self/task/%d", (int)h[i].tid);
		EXPECT_TRUE(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	}
	EXPECT_EQ(thr_status_threads(), 4);
	pthread_barrier_wait(&release);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(pthread_join(th[i], NULL), 0);
	EXPECT_EQ(thr_wait_task_count(1), 1);
	EXPECT_EQ(thr_status_threads(), 1);
	pthread_barrier_destroy(&release);
}

static int exit_pipe[2];

static void *report_alive_then_exit(void *arg)
{
	sleep_ms(30); /* the main thread has gone by now (or soon) */
	write(exit_pipe[1], "alive", 5);
	_exit(7); /* exit_group: the process's status */
}

static int main_thread_exits_alone(void *arg)
{
	pthread_t th;

	if (pthread_create(&th, NULL, report_alive_then_exit, NULL) != 0)
		return 1;
	syscall(SYS_exit, 3); /* this thread only */
	return 2;
}

static void main_thread_exit_leaves_process_running(void)
{
	char buf[8] = "";
	pid_t pid;
	int st;

	ASSERT_EQ(pipe(exit_pipe), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(main_thread_exits_alone(NULL));
	close(exit_pipe[1]);
	EXPECT_EQ(read(exit_pipe[0], buf, 5), 5);
	EXPECT_EQ(memcmp(buf, "alive", 5), 0);
	close(exit_pipe[0]);
	st = thr_wait_child(pid, 3000);
	EXPECT_TRUE(st >= 0 && WIFEXITED(st));
	EXPECT_EQ(WEXITSTATUS(st), 7);
}

/* A thread that waits for a signal that never comes. */
static void *park(void *arg)
{
	for (;;)
		pause();
	return arg;
}

static void *exit_group_soon(void *arg)
{
	sleep_ms(10);
	syscall(SYS_exit_group, 9);
	return NULL;
}

static void exit_group_from_thread_ends_every_thread(void)
{
	pid_t pid = fork();
	int st;

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		pthread_t th[3];
		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, park, NULL);
		pthread_create(&th[2], NULL, exit_group_soon, NULL);
		for (;;)
			pause();
	}
	st = thr_wait_child(pid, 3000);
	EXPECT_TRUE(st >= 0 && WIFEXITED(st));
	EXPECT_EQ(WEXITSTATUS(st), 9);
}

static _Atomic pid_t handled_by;

static void note_tid(int sig)
{
	atomic_store(&handled_by, thr_gettid());
}

static pid_t wait_handled(void)
{
	for (int i = 0; i < 1000 && !atomic_load(&handled_by); i++)
		sleep_ms(2);
	return atomic_exchange(&handled_by, 0);
}

struct sleeper {
	_Atomic int stop;
	_Atomic pid_t tid;
	bool block_usr2;
};

static void *sleep_until_stopped(void *arg)
{
	struct sleeper *s = arg;

	if (s->block_usr2) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	atomic_store(&s->tid, thr_gettid());
	while (!atomic_load(&s->stop))
		sleep_ms(1);
	return NULL;
}

static void start_sleepers(struct sleeper *s, pthread_t *th, int n)
{
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, sleep_until_stopped, &s[i]);
	for (int i = 0; i < n; i++)
		while (!atomic_load(&s[i].tid))
			sched_yield();
}

static void stop_sleepers(struct sleeper *s, pthread_t *th, int n)
{
	for (int i = 0; i < n; i++)
		atomic_store(&s[i].stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static void tgkill_reaches_named_thread(void)
{
	struct sleeper s[2] = { 0 };
	pthread_t th[2];

	ASSERT_TRUE(signal(SIGUSR1, note_tid) != SIG_ERR);
	start_sleepers(s, th, 2);
	for (int i = 1; i >= 0; i--) {
		EXPECT_EQ(syscall(SYS_tgkill, getpid(), s[i].tid, SIGUSR1), 0);
		EXPECT_EQ(wait_handled(), s[i].tid);
	}
	EXPECT_EQ(syscall(SYS_tkill, s[0].tid, SIGUSR1), 0);
	EXPECT_EQ(wait_handled(), s[0].tid);
	stop_sleepers(s, th, 2);
	signal(SIGUSR1, SIG_DFL);
}

/* kill() aims at the process: the one thread that does not block the
 * signal takes it. */
static void kill_reaches_thread_not_blocking(void)
{
	struct sleeper s[2] = { { .block_usr2 = true }, { .block_usr2 = false } };
	sigset_t set, old;
	pthread_t th[2];

	ASSERT_TRUE(signal(SIGUSR2, note_tid) != SIG_ERR);
	start_sleepers(s, th, 2);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(kill(getpid(), SIGUSR2), 0);
		EXPECT_EQ(wait_handled(), s[1].tid);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	stop_sleepers(s, th, 2);
	signal(SIGUSR2, SIG_DFL);
}

static void tgkill_bad_arguments_fail(void)
{
	pid_t me = thr_gettid();

	EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), 0x3fffffff, 0), ESRCH);
	EXPECT_ERRNO(syscall(SYS_tgkill, 1, me, 0), ESRCH); /* not in group 1 */
	EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), me, 65), EINVAL);
	EXPECT_ERRNO(syscall(SYS_tgkill, 0, me, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), 0, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_tkill, 0, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_tkill, 0x3fffffff, 0), ESRCH);
}

/* ---- fork and execve from a thread ---- */

static void *nothing(void *arg)
{
	return arg;
}

/* In the child of a fork from a thread: one thread, the caller, whose tid
 * is the new pid; and it can start threads of its own. */
static int check_single_thread_child(void)
{
	pthread_t th;
	void *ret = NULL;

	if (thr_gettid() != getpid())
		return 1;
	if (thr_task_list(NULL, 0) != 1)
		return 2;
	if (thr_status_threads() != 1)
		return 3;
	if (pthread_create(&th, NULL, nothing, (void *)5) != 0 || pthread_join(th, &ret) != 0)
		return 4;
	if (ret != (void *)5)
		return 5;
	return 0;
}

static void *fork_here(void *arg)
{
	int *status = arg;
	pid_t pid = fork();

	if (pid == 0)
		_exit(check_single_thread_child());
	*status = pid < 0 ? -1 : thr_wait_child(pid, 5000);
	return NULL;
}

static void fork_from_thread_child_has_one_thread(void)
{
	struct sleeper s = { 0 };
	pthread_t sl, forker;
	int status = -1;

	start_sleepers(&s, &sl, 1);
	ASSERT_EQ(pthread_create(&forker, NULL, fork_here, &status), 0);
	EXPECT_EQ(pthread_join(forker, NULL), 0);
	stop_sleepers(&s, &sl, 1);
	if (!(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0))
		ktap_log("child wait status %d (exit code N: check N of "
			 "check_single_thread_child failed)", status);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0);
}

/* The program execve'd by a thread: argv[2] is the pid it must keep. */
static int exec_check(const char *pid_arg)
{
	if (getpid() != atoi(pid_arg))
		return 11;
	if (thr_gettid() != getpid())
		return 12;
	if (thr_task_list(NULL, 0) != 1)
		return 13;
	if (thr_status_threads() != 1)
		return 14;
	return 0;
}

static void *exec_self(void *arg)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	char *argv[] = { (char *)self_path, EXEC_CHECK_ARG, pid, NULL };
	execve(self_path, argv, (char *[]){ NULL });
	_exit(20); /* execve failed */
}

static void execve_from_thread_ends_others_keeps_pid(void)
{
	pid_t pid = fork();
	int st;

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		pthread_t th[3];
		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, park, NULL);
		pthread_create(&th[2], NULL, exec_self, NULL);
		for (;;)
			pause();
	}
	st = thr_wait_child(pid, 5000);
	if (!(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
		ktap_log("child wait status %d (exit code 11-14: check of exec_check, "
			 "20: execve failed)", st);
	EXPECT_TRUE(st >= 0 && WIFEXITED(st));
	EXPECT_EQ(WEXITSTATUS(st), 0);
}

/* The glibc build runs the cases that go through the C library's threads
 * (its pthread_create uses clone3, its fork and exec handle threads
 * themselves); the raw system calls are the same under either library. */
#ifdef LIBC_CASES_ONLY
#define RAW_CASE(fn)
#else
#define RAW_CASE(fn) KTAP_CASE(fn),
#endif

static const struct ktap_case cases[] = {
	KTAP_CASE(pthread_create_join_returns_each_value),
	KTAP_CASE(pthread_detached_thread_runs_and_leaves),
	KTAP_CASE(pthread_mutex_counter_ends_exact),
	KTAP_CASE(pthread_cond_signal_and_broadcast_wake_waiters),
	KTAP_CASE(tls_variables_distinct_per_thread),
	RAW_CASE(clone_thread_sets_parent_tid_and_clears_child_tid)
	RAW_CASE(clone3_thread_runs_on_its_stack)
	RAW_CASE(clone3_fork_like_child_exits)
	RAW_CASE(clone_sighand_without_vm_einval)
	RAW_CASE(clone_thread_without_sighand_einval)
	RAW_CASE(clone3_bad_arguments_einval)
	RAW_CASE(futex_wake_wakes_a_waiter)
	RAW_CASE(futex_cmp_requeue_moves_waiter)
	RAW_CASE(futex_bitset_wakes_matching_waiter_only)
	RAW_CASE(futex_shared_wakes_across_fork)
	RAW_CASE(futex_bad_address_efault)
	RAW_CASE(futex_unaligned_einval)
	RAW_CASE(futex_timeout_expires_etimedout)
	RAW_CASE(futex_value_mismatch_eagain)
	KTAP_CASE(futex_ping_pong_on_two_pinned_cpus),
	RAW_CASE(affinity_mask_holds_every_cpu_of_cpuinfo)
	RAW_CASE(getcpu_follows_pinning)
	RAW_CASE(sched_affinity_bad_masks_fail)
	KTAP_CASE(proc_task_lists_every_thread),
	KTAP_CASE(main_thread_exit_leaves_process_running),
	KTAP_CASE(exit_group_from_thread_ends_every_thread),
	RAW_CASE(tgkill_reaches_named_thread)
	KTAP_CASE(kill_reaches_thread_not_blocking),
	RAW_CASE(tgkill_bad_arguments_fail)
	KTAP_CASE(fork_from_thread_child_has_one_thread),
	KTAP_CASE(execve_from_thread_ends_others_keeps_pid),
};

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], EXEC_CHECK_ARG) == 0)
		return exec_check(argv[2]);
	self_path = argv[0];
	thr_watchdog(SUITE, 100);
	return ktap_run_suite(SUITE, cases, KTAP_ARRAY_SIZE(cases));
}
