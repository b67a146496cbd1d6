/* exectest: execve(2) seen from user space, as KTAP (suite "exectest").
 * Its errors, and what the new program finds: argv, envp and the auxiliary
 * vector, a fresh address space, O_CLOEXEC descriptors closed, caught
 * signals reset. The new program is this one again (through
 * /proc/self/exe, as busybox runs its applets, or as the static PIE build
 * /bin/exectest-pie) started in a "child-*" mode, which checks what it
 * was given and reports through its exit status: 0 when everything held,
 * N when check N failed. Every expectation holds on Linux 6.x. */
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"
#include "maps.h"

#define PG 4096UL
#define FAR_AWAY ((void *)0x300000000000UL) /* a mapping exec must remove */
#define KEPT_FD 20

extern char _start[]; /* musl's crt1.o / rcrt1.o: the ELF entry point */

/* --- The child side: checks in the freshly executed program. --------- */

static const char *const test_envp[] = { "A=1", "B=two words", "", NULL };

/* Each check has a number, the child's exit status when it fails. */
#define CHECK(n, cond)                                                         \
	do {                                                                   \
		if (!(cond))                                                   \
			return (n);                                            \
	} while (0)

static int check_args(int argc, char **argv, char **envp, const char *execfn)
{
	int n = 0;

	CHECK(10, argc == 4);
	CHECK(11, strcmp(argv[2], "arg one") == 0 && strcmp(argv[3], "") == 0);
	CHECK(12, argv[argc] == NULL);
	CHECK(13, envp == argv + argc + 1);
	while (envp[n] && test_envp[n] && strcmp(envp[n], test_envp[n]) == 0)
		n++;
	CHECK(14, envp[n] == NULL && test_envp[n] == NULL);
	CHECK(15, strcmp((char *)getauxval(AT_EXECFN), execfn) == 0);
	return 0;
}

static int check_auxv(void)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	const char *platform = (const char *)getauxval(AT_PLATFORM);
	unsigned long phnum = getauxval(AT_PHNUM), loads = 0;

	CHECK(20, getauxval(AT_PAGESZ) == PG);
	CHECK(21, getauxval(AT_PHENT) == sizeof(Elf64_Phdr));
	CHECK(22, ph != NULL && phnum > 0);
	for (unsigned long i = 0; i < phnum; i++)
		loads += ph[i].p_type == PT_LOAD;
	CHECK(23, loads > 0);
	CHECK(24, getauxval(AT_ENTRY) == (unsigned long)_start);
	CHECK(25, getauxval(AT_BASE) == 0); /* static: no interpreter */
	CHECK(26, getauxval(AT_UID) == 0 && getauxval(AT_EUID) == 0);
	CHECK(27, getauxval(AT_GID) == 0 && getauxval(AT_EGID) == 0);
	CHECK(28, getauxval(AT_SECURE) == 0);
	CHECK(29, rnd != NULL && (rnd[0] | rnd[15] | 1));
	CHECK(30, platform && strcmp(platform, "x86_64") == 0);
	CHECK(31, getauxval(AT_HWCAP) & 1); /* CPUID.1:EDX.FPU */
	CHECK(32, getauxval(AT_CLKTCK) == 100);
	return 0;
}

/* The new address space: the old mapping is gone, the stack and the text
 * are listed, and the break works. */
static int check_address_space(const char *self)
{
	volatile int local = 0;
	const struct map_line *m;
	uintptr_t brk0 = syscall(SYS_brk, 0);
	size_t len = strlen(self);

	CHECK(40, maps_read() > 0);
	CHECK(41, maps_absent((uintptr_t)FAR_AWAY, PG));
	m = maps_find((uintptr_t)&local);
	CHECK(42, m && strcmp(m->name, "[stack]") == 0);
	m = maps_find((uintptr_t)&check_address_space);
	CHECK(43, m && strcmp(m->perms, "r-xp") == 0);
	CHECK(44, strlen(m->name) >= len && strcmp(m->name + strlen(m->name) - len, self) == 0);
	/* musl's sbrk() refuses to move the break (its malloc owns it). */
	CHECK(45, syscall(SYS_brk, brk0 + PG) == (long)(brk0 + PG));
	((volatile char *)brk0)[0] = 1;
	((volatile char *)brk0)[PG - 1] = 1;
	CHECK(46, syscall(SYS_brk, brk0) == (long)brk0);
	return 0;
}

static int check_fds(int cloexec_fd)
{
	errno = 0;
	CHECK(50, fcntl(cloexec_fd, F_GETFD) == -1 && errno == EBADF);
	CHECK(51, fcntl(KEPT_FD, F_GETFD) == 0);
	return 0;
}

static int check_signals(void)
{
	struct sigaction sa;
	sigset_t mask;

	CHECK(60, sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL);
	CHECK(61, sigaction(SIGUSR2, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN);
	CHECK(62, sigprocmask(SIG_BLOCK, NULL, &mask) == 0 && sigismember(&mask, SIGPIPE));
	return 0;
}

/* argv: exectest MODE [ARGS]. */
static int child_main(int argc, char **argv, char **envp)
{
	const char *mode = argv[1];

	if (strcmp(mode, "child-args") == 0) {
		int r = check_args(argc, argv, envp, "/proc/self/exe");
		return r ? r : check_auxv();
	}
	if (strcmp(mode, "child-pie") == 0) {
		int r = check_args(argc, argv, envp, "/bin/exectest-pie");
		r = r ? r : check_auxv();
		return r ? r : check_address_space("/bin/exectest-pie");
	}
	if (strcmp(mode, "child-mm") == 0)
		return check_address_space("/exectest");
	if (strcmp(mode, "child-fds") == 0 && argc == 3)
		return check_fds(atoi(argv[2]));
	if (strcmp(mode, "child-signals") == 0)
		return check_signals();
	return 99;
}

/* --- The parent side: the KTAP cases. -------------------------------- */

/* The error a failed execve returns (0 if it returned without errno:
 * impossible). Runs in a child, in case the kernel wrongly succeeds. */
struct exec_req {
	const char *path;
	char *const *argv;
	char *const *envp;
};

static int exec_errno(void *arg)
{
	struct exec_req *r = arg;

	execve(r->path, r->argv, r->envp);
	return errno;
}

#define EXPECT_EXEC_ERRNO(path_, argv_, e)                                     \
	do {                                                                   \
		struct exec_req __r = { path_, argv_, NULL };                  \
		int __st = run_child(exec_errno, &__r);                        \
		char __s[96], __m[320];                                        \
		if (__st == -1 || !WIFEXITED(__st) || WEXITSTATUS(__st) != (e)) { \
			snprintf(__m, sizeof(__m), "expected execve(%s) to fail with %s, " \
				 "but the child %s", #path_, #e,               \
				 wait_status_str(__st, __s, sizeof(__s)));     \
			ktap_fail_at(__FILE__, __LINE__, __m);                 \
		}                                                              \
	} while (0)

/* Run this program again as "exectest MODE ...", after setup (in the
 * child, before execve) if given; expect exit status 0. */
struct reexec {
	const char *path;
	char *const *argv;
	void (*setup)(void);
};

static int reexec_child(void *arg)
{
	struct reexec *r = arg;

	if (r->setup)
		r->setup();
	execve(r->path, r->argv, (char *const *)test_envp);
	return 98;
}

#define EXPECT_REEXEC_OK(path_, argv_, setup_)                                 \
	do {                                                                   \
		struct reexec __r = { path_, argv_, setup_ };                  \
		int __st = run_child(reexec_child, &__r);                      \
		char __s[96], __m[320];                                        \
		if (__st == -1 || !WIFEXITED(__st) || WEXITSTATUS(__st) != 0) { \
			snprintf(__m, sizeof(__m), "expected %s to pass its checks, but it %s " \
				 "(a number is the check that failed, in exectest.c)", \
				 path_, wait_status_str(__st, __s, sizeof(__s))); \
			ktap_fail_at(__FILE__, __LINE__, __m);                 \
		}                                                              \
	} while (0)

/* Make a file with the given bytes and mode (main() cleared the umask);
 * false with a log if not. */
static bool make_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	if (!ok)
		ktap_log("cannot make %s: %s", path, strerror(errno));
	return ok;
}

static char *const plain_argv[] = { "prog", NULL };

static void execve_missing_file_enoent(void)
{
	EXPECT_EXEC_ERRNO("/nonexistent/prog", plain_argv, ENOENT);
	EXPECT_EXEC_ERRNO("/bin/no-such-program", plain_argv, ENOENT);
}

static void execve_directory_eacces(void)
{
	EXPECT_EXEC_ERRNO("/tmp", plain_argv, EACCES);
	EXPECT_EXEC_ERRNO("/bin/", plain_argv, EACCES);
}

static void execve_file_without_x_bit_eacces(void)
{
	ASSERT_TRUE(make_file("/tmp/exectest-noexec", "\177ELF", 4, 0644));
	EXPECT_EXEC_ERRNO("/tmp/exectest-noexec", plain_argv, EACCES);
	unlink("/tmp/exectest-noexec");
}

static void execve_not_elf_enoexec(void)
{
	static const char junk[] = "\177ELX this is not an executable\n";

	ASSERT_TRUE(make_file("/tmp/exectest-junk", junk, sizeof(junk), 0755));
	EXPECT_EXEC_ERRNO("/tmp/exectest-junk", plain_argv, ENOEXEC);
	unlink("/tmp/exectest-junk");
}

/* This program's own ELF header with one field changed. */
static void execve_wrong_machine_or_class_enoexec(void)
{
	Elf64_Ehdr eh;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(read(fd, &eh, sizeof(eh)), (ssize_t)sizeof(eh));
	close(fd);
	eh.e_machine = EM_AARCH64;
	ASSERT_TRUE(make_file("/tmp/exectest-arm", &eh, sizeof(eh), 0755));
	EXPECT_EXEC_ERRNO("/tmp/exectest-arm", plain_argv, ENOEXEC);
	eh.e_machine = EM_X86_64;
	eh.e_type = ET_REL;
	ASSERT_TRUE(make_file("/tmp/exectest-rel", &eh, sizeof(eh), 0755));
	EXPECT_EXEC_ERRNO("/tmp/exectest-rel", plain_argv, ENOEXEC);
	unlink("/tmp/exectest-arm");
	unlink("/tmp/exectest-rel");
}

/* One string longer than Linux's MAX_ARG_STRLEN (32 pages) and Pagoda's
 * whole 128 KiB budget. */
static void execve_huge_argument_e2big(void)
{
	static char big[200 * 1024];
	char *argv[] = { "prog", big, NULL };

	memset(big, 'x', sizeof(big) - 1);
	EXPECT_EXEC_ERRNO("/proc/self/exe", argv, E2BIG);
}

static void execve_bad_pointers_efault(void)
{
	char *bad_argv[] = { "prog", (char *)1, NULL };

	EXPECT_EXEC_ERRNO((const char *)1, plain_argv, EFAULT);
	EXPECT_EXEC_ERRNO("/proc/self/exe", (char *const *)1, EFAULT);
	EXPECT_EXEC_ERRNO("/proc/self/exe", bad_argv, EFAULT);
}

static void execve_passes_argv_envp_auxv(void)
{
	static char *const argv[] = { "exectest", "child-args", "arg one", "", NULL };

	EXPECT_REEXEC_OK("/proc/self/exe", argv, NULL);
}

static void execve_static_pie_runs(void)
{
	static char *const argv[] = { "exectest-pie", "child-pie", "arg one", "", NULL };

	if (access("/bin/exectest-pie", X_OK) < 0) {
		ktap_skip("no /bin/exectest-pie");
		return;
	}
	EXPECT_REEXEC_OK("/bin/exectest-pie", argv, NULL);
}

static void map_far_away(void)
{
	if (mmap(FAR_AWAY, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != FAR_AWAY)
		_exit(97);
}

static void execve_replaces_address_space(void)
{
	static char *const argv[] = { "exectest", "child-mm", NULL };

	EXPECT_REEXEC_OK("/bin/exectest", argv, map_far_away);
}

static int cloexec_fd = -1;

static void open_fds(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0 || dup2(p[1], KEPT_FD) != KEPT_FD)
		_exit(96);
	cloexec_fd = p[0];
}

static void execve_closes_cloexec_fds(void)
{
	char num[16];
	char *argv[] = { "exectest", "child-fds", num, NULL };
	int p[2];

	/* The child's pipe2() will return the lowest free descriptors: find
	 * them here the same way, then close them again. */
	ASSERT_EQ(pipe(p), 0);
	close(p[0]), close(p[1]);
	snprintf(num, sizeof(num), "%d", p[0]);
	EXPECT_REEXEC_OK("/bin/exectest", argv, open_fds);
}

static void handler(int sig)
{
}

static void set_signals(void)
{
	struct sigaction sa = { .sa_handler = handler };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGPIPE);
	if (sigaction(SIGUSR1, &sa, NULL) < 0 || signal(SIGUSR2, SIG_IGN) == SIG_ERR ||
	    sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		_exit(95);
}

static void execve_resets_caught_signals(void)
{
	static char *const argv[] = { "exectest", "child-signals", NULL };

	EXPECT_REEXEC_OK("/bin/exectest", argv, set_signals);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(execve_missing_file_enoent),
	KTAP_CASE(execve_directory_eacces),
	KTAP_CASE(execve_file_without_x_bit_eacces),
	KTAP_CASE(execve_not_elf_enoexec),
	KTAP_CASE(execve_wrong_machine_or_class_enoexec),
	KTAP_CASE(execve_huge_argument_e2big),
	KTAP_CASE(execve_bad_pointers_efault),
	KTAP_CASE(execve_passes_argv_envp_auxv),
	KTAP_CASE(execve_static_pie_runs),
	KTAP_CASE(execve_replaces_address_space),
	KTAP_CASE(execve_closes_cloexec_fds),
	KTAP_CASE(execve_resets_caught_signals),
};

int main(int argc, char **argv, char **envp)
{
	if (argc >= 2 && strncmp(argv[1], "child-", 6) == 0) {
		ktap_cur.name = argv[1]; /* names its diagnostics, if any */
		return child_main(argc, argv, envp);
	}
	umask(0);
	return ktap_run_suite("exectest", cases, KTAP_ARRAY_SIZE(cases));
}
