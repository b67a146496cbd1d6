/* proctest: process groups, kill() by group and to everyone, init's
 * protection, zombies, /proc/PID descriptors that outlive their
 * process, and /proc/interrupts' format, as KTAP (suite "proctest"). Linux 6.1 passes every case
 * (scripts/linux-test.sh). The signals used are SIGUSR1 and SIGUSR2;
 * this process blocks or ignores them while a case could reach it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"
#include "meminfo.h"

/* Sleep until killed, with no signal blocked, caught or ignored (not
 * those of the case that forked it); say so on ready first. */
static void sleep_forever(int ready)
{
	sigset_t none;

	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (ready >= 0 && write(ready, "r", 1) != 1)
		_exit(1);
	for (;;)
		sleep(1000);
}

/* A child that sleeps until killed, in group pgid (0: its own), set on
 * both sides of the fork so that no race decides it. Returns once the
 * child is ready to be killed. */
static pid_t sleeper_in_group(pid_t pgid)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		setpgid(0, pgid);
		sleep_forever(ready[1]);
	}
	close(ready[1]);
	if (pid > 0) {
		setpgid(pid, pgid ? pgid : pid);
		if (read(ready[0], &c, 1) != 1)
			pid = -1;
	}
	close(ready[0]);
	return pid;
}

static bool died_of(pid_t pid, int sig)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == sig;
}

static bool pending(int sig)
{
	sigset_t set;

	return sigpending(&set) == 0 && sigismember(&set, sig);
}

static void block(int sig, bool on)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(on ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static void kill_minus_pgid_reaches_exactly_that_group(void)
{
	pid_t a, b, other;
	int st;

	block(SIGUSR1, true);
	a = sleeper_in_group(0);
	b = sleeper_in_group(a);
	other = sleeper_in_group(0);
	ASSERT_TRUE(a > 0 && b > 0 && other > 0);
	EXPECT_EQ(getpgid(a), a);
	EXPECT_EQ(getpgid(b), a);
	EXPECT_EQ(getpgid(other), other);
	EXPECT_EQ(kill(-a, SIGUSR1), 0);
	EXPECT_TRUE(died_of(a, SIGUSR1));
	EXPECT_TRUE(died_of(b, SIGUSR1));
	EXPECT_EQ(waitpid(other, &st, WNOHANG), 0); /* still running */
	EXPECT_TRUE(!pending(SIGUSR1));
	/* Everyone of the group reaped: there is no such group. */
	EXPECT_ERRNO(kill(-a, SIGUSR1), ESRCH);
	EXPECT_ERRNO(kill(-a, 0), ESRCH);
	EXPECT_ERRNO(kill(-999999, 0), ESRCH);
	kill(other, SIGKILL);
	EXPECT_TRUE(died_of(other, SIGKILL));
	block(SIGUSR1, false);
}

static volatile int usr_count;

static void count_usr(int sig)
{
	usr_count++;
}

/* In its own group, a child signals the group with kill(0): its sibling
 * in the group dies, and it gets the signal itself. */
static int signal_own_group(void *arg)
{
	pid_t sib;

	if (setpgid(0, 0) < 0)
		return 1;
	signal(SIGUSR1, count_usr);
	sib = sleeper_in_group(getpid());
	if (sib < 0 || kill(0, SIGUSR1) < 0)
		return 2;
	if (!died_of(sib, SIGUSR1))
		return 3;
	return usr_count == 1 ? 0 : 4;
}

static void kill_zero_reaches_the_callers_own_group(void)
{
	EXPECT_CHILD_OK(signal_own_group, NULL);
}

/* kill(-1): every process but init and the caller. This process ignores
 * the signal meanwhile; the caller counts whether it was hit. */
static int signal_everyone(void *arg)
{
	pid_t victim;

	signal(SIGUSR2, count_usr);
	victim = sleeper_in_group(0);
	if (victim < 0 || kill(-1, SIGUSR2) < 0)
		return 1;
	if (!died_of(victim, SIGUSR2))
		return 2;
	return usr_count == 0 ? 0 : 3;
}

static void kill_minus_one_spares_init_and_the_caller(void)
{
	signal(SIGUSR2, SIG_IGN);
	EXPECT_CHILD_OK(signal_everyone, NULL);
	signal(SIGUSR2, SIG_DFL);
	EXPECT_EQ(kill(1, 0), 0);
}

/* Init takes no signal it has no handler for, SIGKILL included. */
static void kill_of_init_with_sigkill_is_ignored(void)
{
	EXPECT_EQ(kill(1, SIGKILL), 0);
	EXPECT_EQ(kill(1, SIGSTOP), 0);
	EXPECT_EQ(kill(1, 0), 0);
	EXPECT_EQ(getppid(), 1);
}

/* A zombie still exists for kill() until it is reaped. */
static void kill_of_a_zombie_succeeds_until_it_is_reaped(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(0);
	ASSERT_TRUE(pid > 0);
	for (int i = 0; i < 200 && proc_state(pid) != 'Z'; i++)
		usleep(5000);
	EXPECT_EQ(proc_state(pid), 'Z');
	EXPECT_EQ(kill(pid, 0), 0);
	EXPECT_EQ(kill(pid, SIGKILL), 0);
	EXPECT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	EXPECT_ERRNO(kill(pid, 0), ESRCH);
}

static int exec_and_wait(void *arg)
{
	char *const argv[] = { "/bin/proctest", "--sleep", NULL }, *const envp[] = { NULL };

	return execve(argv[0], argv, envp);
}

static void setpgid_follows_linux_rules(void)
{
	pid_t child = fork(), leader;
	int st;

	if (child == 0)
		exec_and_wait(NULL);
	ASSERT_TRUE(child > 0);
	for (int i = 0; i < 200; i++) { /* until it has exec'd */
		char path[64], link[64] = "";
		snprintf(path, sizeof(path), "/proc/%d/cmdline", child);
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, link, sizeof(link) - 1) : -1;
		close(fd);
		if (n > 0 && strstr(link + strlen(link) + 1, "--sleep"))
			break;
		usleep(5000);
	}
	EXPECT_ERRNO(setpgid(child, child), EACCES);
	EXPECT_ERRNO(setpgid(0, 999999), EPERM);
	EXPECT_ERRNO(setpgid(0, -1), EINVAL);
	EXPECT_ERRNO(setpgid(999999, 0), ESRCH);
	kill(child, SIGKILL);
	EXPECT_TRUE(died_of(child, SIGKILL));
	/* A session leader can change neither its group nor start a session. */
	leader = fork();
	if (leader == 0) {
		pid_t sid = setsid();
		if (sid != getpid() || getsid(0) != sid || getpgrp() != sid)
			_exit(1);
		if (setsid() != -1 || errno != EPERM)
			_exit(2);
		if (setpgid(0, 0) != -1 || errno != EPERM)
			_exit(3);
		_exit(0);
	}
	ASSERT_TRUE(leader > 0);
	EXPECT_EQ(waitpid(leader, &st, 0), leader);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Descriptors on /proc/PID of a process that was reaped: reads and opens
 * through them say ESRCH, listings ENOENT, and a new process's /proc/PID
 * is another inode. */
static void proc_descriptor_of_a_reaped_process_reports_esrch(void)
{
	pid_t old = sleeper_in_group(0), young;
	char path[64], buf[64];
	struct stat st_old, st_young;
	int dir, status, fd;

	ASSERT_TRUE(old > 0);
	snprintf(path, sizeof(path), "/proc/%d", old);
	dir = open(path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "/proc/%d/status", old);
	status = open(path, O_RDONLY);
	ASSERT_TRUE(dir >= 0 && status >= 0);
	kill(old, SIGKILL);
	EXPECT_TRUE(died_of(old, SIGKILL));
	young = sleeper_in_group(0);
	ASSERT_TRUE(young > 0);
	EXPECT_ERRNO(read(status, buf, sizeof(buf)), ESRCH);
	EXPECT_ERRNO(openat(dir, "status", O_RDONLY), ESRCH);
	EXPECT_ERRNO(syscall(SYS_getdents64, dir, buf, sizeof(buf)), ENOENT);
	EXPECT_EQ(fstat(dir, &st_old), 0);
	snprintf(path, sizeof(path), "/proc/%d", young);
	EXPECT_EQ(stat(path, &st_young), 0);
	EXPECT_NE(st_old.st_ino, st_young.st_ino);
	snprintf(path, sizeof(path), "/proc/%d/status", young);
	fd = open(path, O_RDONLY);
	EXPECT_TRUE(fd >= 0 && read(fd, buf, sizeof(buf)) > 0);
	close(fd);
	close(status);
	close(dir);
	kill(young, SIGKILL);
	EXPECT_TRUE(died_of(young, SIGKILL));
}

static void out_of_range_system_call_is_enosys(void)
{
	EXPECT_ERRNO(syscall(100000), ENOSYS);
	EXPECT_ERRNO(syscall(-1L), ENOSYS);
}

/* A child subreaper adopts the orphans of its descendants, as Linux's
 * prctl(PR_SET_CHILD_SUBREAPER): the grandchild outlives its parent and
 * its exit status comes to us, not to init. The flag reads back, and is
 * not inherited by the child. */
static void orphans_go_to_the_nearest_child_subreaper(void)
{
	int flag = -1, status = 0;
	int pid_pipe[2], go_pipe[2];
	pid_t child, grandchild, got;

	ASSERT_EQ(pipe(pid_pipe), 0);
	ASSERT_EQ(pipe(go_pipe), 0);
	ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	EXPECT_EQ(prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&flag, 0, 0, 0), 0);
	EXPECT_EQ(flag, 1);
	EXPECT_ERRNO(prctl(PR_GET_CHILD_SUBREAPER, 8UL, 0, 0, 0), EFAULT);
	child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0) {
		int inherited = -1;
		prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&inherited, 0, 0, 0);
		grandchild = fork();
		if (grandchild == 0) {
			char c;
			read(go_pipe[0], &c, 1); /* until its parent is gone */
			_exit(42);
		}
		write(pid_pipe[1], &grandchild, sizeof(grandchild));
		_exit(inherited == 0 ? 0 : 1);
	}
	EXPECT_EQ(waitpid(child, &status, 0), child);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* not inherited */
	ASSERT_EQ(read(pid_pipe[0], &grandchild, sizeof(grandchild)), (ssize_t)sizeof(grandchild));
	ASSERT_EQ(write(go_pipe[1], "x", 1), 1); /* the orphan may end now */
	got = waitpid(-1, &status, 0);
	EXPECT_EQ(got, grandchild);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42);
	for (int i = 0; i < 2; i++) {
		close(pid_pipe[i]);
		close(go_pipe[i]);
	}
	EXPECT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
}

/* The numbers on line "NAME:" of /proc/interrupts (text: the whole
 * file): how many, and their sum; -1 without such a line. */
static int interrupt_row(const char *text, const char *name, unsigned long long *sum)
{
	const char *p = strstr(text, name);
	int n = 0;

	if (!p || (p != text && p[-1] != ' ' && p[-1] != '\n'))
		return -1;
	p += strlen(name);
	*sum = 0;
	for (;;) {
		char *end;
		unsigned long long v;
		while (*p == ' ')
			p++;
		v = strtoull(p, &end, 10);
		if (end == p)
			return n;
		*sum += v;
		n++;
		p = end;
	}
}

/* Linux's format: a CPUn column per online CPU, and the x86 rows of
 * local timer ticks, rescheduling and call interrupts and shootdowns,
 * one count per CPU each. */
static void proc_interrupts_has_a_column_per_cpu_and_the_x86_rows(void)
{
	static char text[16384];
	static const char *const rows[] = { "LOC:", "RES:", "CAL:", "TLB:" };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long long sum = 0;
	int fd = open("/proc/interrupts", O_RDONLY), columns = 0;
	ssize_t n;

	ASSERT_TRUE(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	ASSERT_TRUE(n > 0);
	text[n] = 0;
	for (const char *p = text; *p && *p != '\n'; p++)
		if (strncmp(p, "CPU", 3) == 0)
			columns++;
	EXPECT_EQ(columns, cpus);
	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		EXPECT_EQ(interrupt_row(text, rows[i], &sum), cpus);
		if (i == 0)
			EXPECT_TRUE(sum > 0); /* the timer has ticked */
	}
}

/* Block in read() with RBP pointing into the kernel half, where nothing
 * is mapped: the kernel must not follow it when it walks this task's
 * stack. Below the red zone, so the compiler's data there survives. */
static int sleep_with_a_hostile_rbp(void *arg)
{
	int fd = *(int *)arg;
	char c;
	long ret;

	__asm__ volatile("sub $128, %%rsp\n\t"
			 "push %%rbp\n\t"
			 "mov %[bad], %%rbp\n\t"
			 "syscall\n\t"
			 "pop %%rbp\n\t"
			 "add $128, %%rsp"
			 : "=a"(ret)
			 : "a"((long)SYS_read), "D"((long)fd), "S"(&c), "d"(1L),
			   [bad] "r"(0xffffff7fffff0000UL)
			 : "rcx", "r11", "memory");
	return (int)ret;
}

/* /proc/sysrq-trigger, as Linux's: write-only (0200; a read is EIO), a
 * write of 't' reports every task's state and call chain on the console
 * and takes the whole write; and the report survives a sleeper whose
 * user RBP points at unmapped kernel memory. */
static void sysrq_trigger_t_reports_tasks_and_survives_a_hostile_rbp(void)
{
	struct stat st;
	int pipefd[2], fd, status = 0;
	pid_t pid;
	char c;

	ASSERT_EQ(stat("/proc/sysrq-trigger", &st), 0);
	EXPECT_EQ(st.st_mode, S_IFREG | 0200);
	ASSERT_EQ(pipe(pipefd), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(sleep_with_a_hostile_rbp(&pipefd[0]));
	for (int i = 0; i < 200 && proc_state(pid) != 'S'; i++)
		usleep(10000);
	EXPECT_EQ(proc_state(pid), 'S');
	fd = open("/proc/sysrq-trigger", O_RDWR);
	ASSERT_TRUE(fd >= 0);
	EXPECT_EQ(write(fd, "t", 1), 1);
	EXPECT_EQ(write(fd, "t-and-more\n", 11), 11);
	errno = 0;
	EXPECT_EQ(read(fd, &c, 1), -1);
	EXPECT_EQ(errno, EIO);
	close(fd);
	EXPECT_EQ(write(pipefd[1], "x", 1), 1); /* the sleeper wakes and exits */
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	close(pipefd[0]);
	close(pipefd[1]);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(kill_minus_pgid_reaches_exactly_that_group),
	KTAP_CASE(kill_zero_reaches_the_callers_own_group),
	KTAP_CASE(kill_minus_one_spares_init_and_the_caller),
	KTAP_CASE(kill_of_init_with_sigkill_is_ignored),
	KTAP_CASE(kill_of_a_zombie_succeeds_until_it_is_reaped),
	KTAP_CASE(setpgid_follows_linux_rules),
	KTAP_CASE(proc_descriptor_of_a_reaped_process_reports_esrch),
	KTAP_CASE(out_of_range_system_call_is_enosys),
	KTAP_CASE(proc_interrupts_has_a_column_per_cpu_and_the_x86_rows),
	KTAP_CASE(orphans_go_to_the_nearest_child_subreaper),
	KTAP_CASE(sysrq_trigger_t_reports_tasks_and_survives_a_hostile_rbp),
};

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--sleep") == 0)
		sleep_forever(-1);
	return ktap_run_suite("proctest", cases, KTAP_ARRAY_SIZE(cases));
}
