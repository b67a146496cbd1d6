/* clonetest: the raw thread system calls under pthreads, as KTAP (suite
 * "clonetest"): clone's and clone3's flag checks and errnos, the tid
 * words (CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID
 * with its futex wake), CLONE_SETTLS, exit versus exit_group and the
 * status a process of several threads ends with, which thread takes a
 * process-directed signal, tgkill, vfork's shared memory, CLONE_FILES and
 * CLONE_FS without threads, one file position shared by two threads, and
 * CPU affinity.
 *
 * Threads here are made with musl's clone() and run only raw system
 * calls (no errno, no stdio: they may not have a thread pointer of
 * their own). The same binary runs on Linux 6.1 (scripts/linux-test.sh). */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"

#define STACK_SIZE (64 * 1024)
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
		      CLONE_SYSVSEM)
#define CLONE_CLEAR_SIGHAND_ 0x100000000ULL

/* Linux's struct clone_args (version 2, 88 bytes). */
struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

static long raw(long nr, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			     : "rcx", "r11", "memory");
	return ret;
}

static void *new_stack(void)
{
	char *s = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return s == MAP_FAILED ? NULL : s + STACK_SIZE;
}

/* Wait until the CLONE_CHILD_CLEARTID word becomes 0 (the thread is gone). */
static void join_tid(volatile pid_t *ctid)
{
	pid_t v;

	while ((v = *ctid) != 0)
		syscall(SYS_futex, ctid, FUTEX_WAIT, v, NULL, NULL, 0);
}

/* ---- flag checks ---- */

static long clone3_raw(const void *args, size_t size)
{
	return syscall(435 /* clone3 */, args, size);
}

static void clone_refuses_the_combinations_linux_refuses(void)
{
	struct clone_args_v2 ca = { 0 };
	char big[128] = { 0 };

	EXPECT_ERRNO(syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_VM | CLONE_THREAD, 0, 0, 0, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_THREAD | CLONE_SIGHAND, 0, 0, 0, 0), EINVAL);
	EXPECT_ERRNO(clone3_raw(&ca, 8), EINVAL);            /* smaller than version 0 */
	EXPECT_ERRNO(clone3_raw(&ca, 8192), E2BIG);          /* more than a page */
	big[100] = 1;
	EXPECT_ERRNO(clone3_raw(big, sizeof(big)), E2BIG);   /* an unknown field set */
	ca.exit_signal = 0x100;
	EXPECT_ERRNO(clone3_raw(&ca, sizeof(ca)), EINVAL);
	ca.exit_signal = 0;
	ca.flags = SIGCHLD;                                  /* CSIGNAL bits in the flags */
	EXPECT_ERRNO(clone3_raw(&ca, sizeof(ca)), EINVAL);
	ca.flags = THREAD_FLAGS;
	ca.exit_signal = SIGCHLD;                            /* a thread signals nobody */
	EXPECT_ERRNO(clone3_raw(&ca, sizeof(ca)), EINVAL);
	ca.flags = CLONE_VM | CLONE_SIGHAND | CLONE_CLEAR_SIGHAND_;
	EXPECT_ERRNO(clone3_raw(&ca, sizeof(ca)), EINVAL);
	ca = (struct clone_args_v2){ .stack = 0x10000, .exit_signal = SIGCHLD }; /* no size */
	EXPECT_ERRNO(clone3_raw(&ca, sizeof(ca)), EINVAL);
	ca = (struct clone_args_v2){ .stack_size = 4096, .exit_signal = SIGCHLD }; /* no stack */
	EXPECT_ERRNO(clone3_raw(&ca, sizeof(ca)), EINVAL);
	EXPECT_ERRNO(clone3_raw((void *)8, sizeof(ca)), EFAULT);
}

/* clone3 with nothing but SIGCHLD is fork. */
static void clone3_plain_is_fork(void)
{
	struct clone_args_v2 ca = { .exit_signal = SIGCHLD };
	int status = -1;
	long pid = clone3_raw(&ca, 64 /* version 0 */);

	if (pid == 0)
		_exit(33);
	ASSERT_TRUE(pid > 0);
	EXPECT_EQ(waitpid((pid_t)pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 33);
}

/* ---- tid words and TLS ---- */

struct tls_block {
	struct tls_block *self; /* %fs:0, as the x86-64 TLS ABI has it */
	long pad[7];
};

static struct tls_block child_tls;
static volatile long seen_tid, seen_pid, seen_ctid, seen_fs0, seen_ppid;
static volatile pid_t ctid_word, ptid_word;

static int tid_child(void *arg)
{
	long fs0;

	__asm__ __volatile__("mov %%fs:0, %0" : "=r"(fs0));
	seen_fs0 = fs0;
	seen_tid = raw(SYS_gettid, 0, 0, 0, 0);
	seen_pid = raw(SYS_getpid, 0, 0, 0, 0);
	seen_ppid = raw(SYS_getppid, 0, 0, 0, 0);
	seen_ctid = ctid_word;
	return 0;
}

static void clone_thread_writes_tid_words_and_gets_its_tls(void)
{
	void *stack = new_stack();
	long tid;

	ASSERT_TRUE(stack != NULL);
	child_tls.self = &child_tls;
	ctid_word = -1; /* until the child's first run stores its tid */
	tid = clone(tid_child, stack,
		    THREAD_FLAGS | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
			    CLONE_CHILD_CLEARTID,
		    NULL, (pid_t *)&ptid_word, &child_tls, (pid_t *)&ctid_word);
	ASSERT_TRUE(tid > 0);
	EXPECT_EQ(ptid_word, tid);
	join_tid(&ctid_word);
	EXPECT_EQ(ctid_word, 0);          /* cleared at exit, and we were woken */
	EXPECT_EQ(seen_tid, tid);
	EXPECT_EQ(seen_ctid, tid);        /* CLONE_CHILD_SETTID before it ran */
	EXPECT_EQ(seen_pid, getpid());    /* one process */
	EXPECT_EQ(seen_ppid, getppid());  /* the process's parent */
	EXPECT_EQ(seen_fs0, (long)&child_tls);
	EXPECT_TRUE(tid != getpid());
	munmap((char *)stack - STACK_SIZE, STACK_SIZE);
}

/* ---- exit and exit_group ---- */

static volatile pid_t exit_ctid;

static int exit_group_child(void *code)
{
	raw(SYS_nanosleep, (long)&(struct timespec){ 0, 10000000 }, 0, 0, 0);
	raw(SYS_exit_group, (long)code, 0, 0, 0);
	return 0;
}

static int exit_thread_child(void *code)
{
	raw(SYS_exit, (long)code, 0, 0, 0);
	return 0;
}

/* A thread's exit_group ends the process with its status. */
static int proc_thread_exit_group(void *arg)
{
	void *stack = new_stack();

	if (!stack || clone(exit_group_child, stack, THREAD_FLAGS, (void *)5L) < 0)
		return 100;
	for (;;)
		pause();
}

/* A thread's exit ends only it: the process goes on and ends with its own. */
static int proc_thread_exit_only(void *arg)
{
	void *stack = new_stack();

	exit_ctid = 1;
	if (!stack || clone(exit_thread_child, stack, THREAD_FLAGS | CLONE_CHILD_CLEARTID, (void *)9L,
			    NULL, NULL, (pid_t *)&exit_ctid) < 0)
		return 100;
	join_tid(&exit_ctid);
	return 3;
}

static int pipe_w;

static int last_thread_child(void *arg)
{
	raw(SYS_nanosleep, (long)&(struct timespec){ 0, 50000000 }, 0, 0, 0);
	raw(SYS_write, pipe_w, (long)"x", 1, 0);
	raw(SYS_exit, 1, 0, 0, 0);
	return 0;
}

/* The leader exits first (exit, not exit_group): the process lives on in
 * its other thread and ends when that one does, with that thread's status
 * (Linux 6.x: the last thread's exit is the process's). */
static int proc_leader_exits_first(void *arg)
{
	void *stack = new_stack();

	if (!stack || clone(last_thread_child, stack, THREAD_FLAGS, NULL) < 0)
		return 100;
	raw(SYS_exit, 7, 0, 0, 0);
	return 101;
}

static void exit_ends_a_thread_exit_group_the_process(void)
{
	int fds[2], st;
	char c;

	st = run_child(proc_thread_exit_group, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 5);
	st = run_child(proc_thread_exit_only, NULL);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ASSERT_EQ(pipe(fds), 0);
	pipe_w = fds[1];
	st = run_child(proc_leader_exits_first, NULL);
	close(fds[1]);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	/* wait4 returned only once the last thread had gone: it wrote first. */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	EXPECT_EQ(read(fds[0], &c, 1), 1);
	close(fds[0]);
}

/* ---- signals and threads ---- */

static volatile long handled_by;

static void record_tid(int sig)
{
	handled_by = raw(SYS_gettid, 0, 0, 0, 0);
}

static volatile int stop_spinning, spinning;
static volatile pid_t spin_ctid;

static int spin_child(void *arg)
{
	uint64_t none = 0;

	raw(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8); /* blocks nothing */
	spinning = 1;
	while (!stop_spinning)
		raw(SYS_sched_yield, 0, 0, 0, 0);
	return 0;
}

/* Wait up to 5 s for a handler to record a thread. */
static void wait_handled(void)
{
	for (int i = 0; i < 500 && !handled_by; i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
}

static void process_signal_goes_to_a_thread_that_takes_it(void)
{
	sigset_t block, old;
	void *stack = new_stack();
	long tid;

	ASSERT_TRUE(stack != NULL);
	signal(SIGUSR1, record_tid);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	stop_spinning = spinning = 0;
	spin_ctid = 1;
	tid = clone(spin_child, stack, THREAD_FLAGS | CLONE_CHILD_CLEARTID, NULL, NULL, NULL,
		    (pid_t *)&spin_ctid);
	ASSERT_TRUE(tid > 0);
	while (!spinning)
		sched_yield();
	handled_by = 0;
	kill(getpid(), SIGUSR1); /* the main thread blocks it: the other takes it */
	wait_handled();
	EXPECT_EQ(handled_by, tid);
	/* tgkill names the thread; a wrong process is -ESRCH. */
	handled_by = 0;
	EXPECT_EQ(syscall(SYS_tgkill, getpid(), tid, SIGUSR1), 0);
	wait_handled();
	EXPECT_EQ(handled_by, tid);
	EXPECT_ERRNO(syscall(SYS_tgkill, getpid() + 100000, tid, 0), ESRCH);
	EXPECT_EQ(syscall(SYS_tgkill, getpid(), tid, 0), 0);
	EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), tid, 99), EINVAL);
	/* A thread-directed signal the thread blocks waits for it, even if
	 * another thread would take it. */
	handled_by = 0;
	EXPECT_EQ(syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1), 0);
	for (int i = 0; i < 100; i++)
		sched_yield();
	EXPECT_EQ(handled_by, 0);
	sigprocmask(SIG_SETMASK, &old, NULL); /* now it is delivered, here */
	EXPECT_EQ(handled_by, getpid());
	stop_spinning = 1;
	join_tid(&spin_ctid);
	signal(SIGUSR1, SIG_DFL);
	munmap((char *)stack - STACK_SIZE, STACK_SIZE);
}

/* ---- vfork, CLONE_FILES, CLONE_FS ---- */

static volatile int vfork_mark;

static void vfork_shares_memory_until_exit(void)
{
	int status = -1;
	pid_t pid;

	vfork_mark = 0;
	pid = vfork();
	if (pid == 0) {
		vfork_mark = 42; /* the parent's memory: it sleeps until we exit */
		_exit(4);
	}
	ASSERT_TRUE(pid > 0);
	EXPECT_EQ(vfork_mark, 42);
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 4);
}

static volatile int opened_fd;

static int open_and_chdir_child(void *arg)
{
	opened_fd = (int)raw(SYS_open, (long)"/proc/self/status", O_RDONLY, 0, 0);
	raw(SYS_chdir, (long)"/proc", 0, 0, 0);
	return 0;
}

/* clone(CLONE_FILES | CLONE_FS) without threads: a new process sharing
 * the fd table and the cwd; without them, copies. */
static void clone_files_and_fs_share_the_table_and_cwd(void)
{
	char cwd[64], old[64];
	void *stack = new_stack();
	int status;
	long pid;

	ASSERT_TRUE(stack != NULL && getcwd(old, sizeof(old)) != NULL);
	pid = clone(open_and_chdir_child, stack, CLONE_VM | CLONE_FILES | CLONE_FS | SIGCHLD, NULL);
	ASSERT_TRUE(pid > 0);
	ASSERT_EQ(waitpid((pid_t)pid, &status, 0), pid);
	ASSERT_TRUE(opened_fd >= 0);
	EXPECT_TRUE(fcntl(opened_fd, F_GETFD) >= 0); /* its open is ours */
	EXPECT_TRUE(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/proc") == 0);
	close(opened_fd);
	chdir(old);
	pid = clone(open_and_chdir_child, stack, CLONE_VM | SIGCHLD, NULL);
	ASSERT_TRUE(pid > 0);
	ASSERT_EQ(waitpid((pid_t)pid, &status, 0), pid);
	ASSERT_TRUE(opened_fd >= 0);
	EXPECT_ERRNO(fcntl(opened_fd, F_GETFD), EBADF); /* its table was a copy */
	EXPECT_TRUE(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, old) == 0);
	munmap((char *)stack - STACK_SIZE, STACK_SIZE);
}

/* ---- one open file, two threads ---- */

#define RECORDS 1024
#define RECORD_SIZE 4096 /* long enough a copy for two reads to overlap */
static int shared_fd;
static volatile uint8_t seen[RECORDS];
static volatile long records_read;
static volatile pid_t reader_ctid[2];
static volatile int readers_ready;

static int reader_child(void *arg)
{
	uint32_t *rec = arg;

	__atomic_fetch_add(&readers_ready, 1, __ATOMIC_RELAXED);
	while (readers_ready < 2)
		; /* start together */

	while (raw(SYS_read, shared_fd, (long)rec, RECORD_SIZE, 0) == RECORD_SIZE) {
		if (rec[0] < RECORDS)
			__atomic_fetch_add(&seen[rec[0]], 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&records_read, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

/* Two threads read one fd of a regular file: each read moves the shared
 * position as one step (Linux's f_pos_lock), so every record is read by
 * exactly one of them. */
static void threads_sharing_a_file_read_each_record_once(void)
{
	static uint32_t rec[RECORD_SIZE / 4], bufs[2][RECORD_SIZE / 4];
	void *stacks[2] = { new_stack(), new_stack() };
	int dups = 0;

	ASSERT_TRUE(stacks[0] && stacks[1]);
	shared_fd = open("/tmp/clonetest-records", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_TRUE(shared_fd >= 0);
	for (uint32_t i = 0; i < RECORDS; i++) {
		rec[0] = i;
		ASSERT_EQ(write(shared_fd, rec, RECORD_SIZE), RECORD_SIZE);
	}
	ASSERT_EQ(lseek(shared_fd, 0, SEEK_SET), 0);
	memset((void *)seen, 0, sizeof(seen));
	records_read = readers_ready = 0;
	for (int i = 0; i < 2; i++) {
		reader_ctid[i] = 1;
		ASSERT_TRUE(clone(reader_child, stacks[i], THREAD_FLAGS | CLONE_CHILD_CLEARTID, bufs[i],
				  NULL, NULL, (pid_t *)&reader_ctid[i]) > 0);
	}
	join_tid(&reader_ctid[0]);
	join_tid(&reader_ctid[1]);
	for (int i = 0; i < RECORDS; i++)
		dups += seen[i] != 1;
	EXPECT_EQ(dups, 0);
	EXPECT_EQ(records_read, RECORDS);
	close(shared_fd);
	unlink("/tmp/clonetest-records");
	for (int i = 0; i < 2; i++)
		munmap((char *)stacks[i] - STACK_SIZE, STACK_SIZE);
}

/* ---- affinity ---- */

static void affinity_pins_and_refuses_offline_masks(void)
{
	uint64_t mask = 0, one = 1, none_online = 1ULL << 63, got = 0;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int cpu = 99;

	ASSERT_TRUE(syscall(SYS_sched_getaffinity, 0, sizeof(mask), &mask) > 0);
	EXPECT_EQ(__builtin_popcountll(mask), online);
	EXPECT_ERRNO(syscall(SYS_sched_getaffinity, 0, 4, &got), EINVAL);
	if (online < 64)
		EXPECT_ERRNO(syscall(SYS_sched_setaffinity, 0, sizeof(none_online), &none_online), EINVAL);
	EXPECT_ERRNO(syscall(SYS_sched_setaffinity, 0, sizeof(one), (void *)8), EFAULT);
	ASSERT_EQ(syscall(SYS_sched_setaffinity, 0, sizeof(one), &one), 0);
	EXPECT_EQ(syscall(SYS_getcpu, &cpu, NULL, NULL), 0);
	EXPECT_EQ(cpu, 0);
	EXPECT_TRUE(syscall(SYS_sched_getaffinity, 0, sizeof(got), &got) > 0);
	EXPECT_EQ(got, 1);
	EXPECT_EQ(syscall(SYS_sched_setaffinity, 0, sizeof(mask), &mask), 0);
	EXPECT_ERRNO(syscall(SYS_sched_getaffinity, 999999, sizeof(got), &got), ESRCH);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(clone_refuses_the_combinations_linux_refuses),
	KTAP_CASE(clone3_plain_is_fork),
	KTAP_CASE(clone_thread_writes_tid_words_and_gets_its_tls),
	KTAP_CASE(exit_ends_a_thread_exit_group_the_process),
	KTAP_CASE(process_signal_goes_to_a_thread_that_takes_it),
	KTAP_CASE(vfork_shares_memory_until_exit),
	KTAP_CASE(clone_files_and_fs_share_the_table_and_cwd),
	KTAP_CASE(threads_sharing_a_file_read_each_record_once),
	KTAP_CASE(affinity_pins_and_refuses_offline_masks),
};

int main(void)
{
	return ktap_run_suite("clonetest", cases, KTAP_ARRAY_SIZE(cases));
}
