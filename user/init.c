/* /sbin/init for make test (and /init for scripts/linux-test.sh): mount
 * what Linux's user space expects, run every test program in /bin (the
 * files whose names end in "test", in name order), forward their KTAP,
 * then the kernel's invariant check, print the totals, power off.
 *
 *   init [--no-tests] [--fuzz ARGS...]
 *
 * --no-tests skips the test programs; --fuzz runs /bin/fuzz with the
 * words after it, after the test programs and before the invariant check
 * (make test's fuzz boot, make fuzz).
 *
 * The output is one KTAP document: a top-level plan with one line per
 * program. Each program prints its own subtest block; init reads it
 * through a pipe, counts its cases, and adds the program's result line
 * ("ok N memtest"), which is "not ok" if any case failed or the program
 * did not exit with status 0 (a crash, a signal). The invariant check is
 * /proc/pagoda/invariants, a KTAP suite the kernel writes when the file
 * is opened; where it does not exist (Linux) the suite is skipped.
 *
 * Other words name the programs to run instead of every test, in that
 * order: "init -- memtest devcheck" (kernel command line init=/sbin/init
 * -- memtest devcheck) runs /bin/memtest, then /bin/devcheck; make grade
 * uses this. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROGS 32
#define TEST_DIR "/bin"
#define TEST_TIMEOUT 120 /* seconds a program may run before SIGALRM ends it */
#define FUZZ "/bin/fuzz"
#define INVARIANTS "/proc/pagoda/invariants"

struct counts {
	int pass, fail, skip;
};

static void out(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	for (int off = 0; off < n;) {
		ssize_t w = write(1, buf + off, n - off);
		if (w <= 0)
			return;
		off += w;
	}
}

/* On Linux, init gets fds 0-2 only if the initramfs has /dev/console; ours
 * does not (cpio without root cannot hold device nodes), so open it from
 * devtmpfs. Pagoda's init already has them. */
static void setup_console(void)
{
	int fd;

	if (fcntl(1, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void mount_filesystems(void)
{
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mkdir("/dev", 0755);
	mkdir("/tmp", 01777);
	/* Errors are fine: Pagoda mounts these itself. */
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	/* shm_open(3)'s directory: a tmpfs, as a Linux distribution mounts
	 * it (Pagoda makes it at boot). */
	mkdir("/dev/shm", 01777);
	mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, NULL);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_test_name(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, "test") == 0;
}

/* Fill progs with the paths of the test programs, sorted; returns the
 * count. Falls back to /bin/memtest if the directory cannot be read. */
static int find_programs(char *progs[], int max)
{
	DIR *d = opendir(TEST_DIR);
	struct dirent *e;
	int n = 0;

	if (!d) {
		out("# init: cannot read " TEST_DIR ": %s\n", strerror(errno));
		progs[n++] = strdup(TEST_DIR "/memtest");
		return n;
	}
	while ((e = readdir(d)) && n < max) {
		char path[300];
		if (!is_test_name(e->d_name))
			continue;
		snprintf(path, sizeof(path), TEST_DIR "/%s", e->d_name);
		progs[n++] = strdup(path);
	}
	closedir(d);
	qsort(progs, n, sizeof(progs[0]), name_cmp);
	return n;
}

/* Count one line of a program's KTAP: its own cases are the lines
 * "    ok N name" and "    not ok N name", "# SKIP" marking a skip. */
static void count_line(const char *line, struct counts *c)
{
	if (strncmp(line, "    ok ", 7) == 0)
		strstr(line, " # SKIP") ? c->skip++ : c->pass++;
	else if (strncmp(line, "    not ok ", 11) == 0)
		c->fail++;
}

/* Lines being forwarded. main() touches all of it first, so that init's
 * memory does not grow while a program runs: /bin/fuzz counts every frame
 * of the machine around its children. */
static char buf[8192];

/* The same for init's stack (64 KiB of it, far more than it ever uses)
 * and for every page of its program, which Pagoda pages in on first use:
 * read each readable private mapping /proc/self/maps lists. */
static void __attribute__((noinline)) touch_memory(void)
{
	volatile char pad[64 * 1024];
	static char maps[8192];
	int fd, n = 0, got;

	for (size_t i = 0; i < sizeof(pad); i += 4096)
		pad[i] = 0;
	if ((fd = open("/proc/self/maps", O_RDONLY)) < 0)
		return;
	while ((got = read(fd, maps + n, sizeof(maps) - 1 - n)) > 0)
		n += got;
	close(fd);
	maps[n] = 0;
	for (char *p = maps, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		unsigned long start = strtoul(p, &p, 16), end = strtoul(p + 1, &p, 16);
		if (p[1] == 'r' && p[4] == 'p' && !strstr(p, "[v") && p < nl)
			for (unsigned long a = start; a < end; a += 4096)
				(void)*(volatile char *)a;
	}
}

/* Copy the program's output from fd to our stdout line by line, counting
 * its cases, until end of file. */
static void forward(int fd, struct counts *c)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		char *line = buf, *nl;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		buf[len] = 0;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			count_line(line, c);
			out("%s\n", line);
			line = nl + 1;
		}
		len -= line - buf;
		memmove(buf, line, len);
		if (len == sizeof(buf) - 1) { /* a line longer than the buffer */
			buf[len] = 0;
			out("%s\n", buf);
			len = 0;
		}
	}
	if (len) {
		buf[len] = 0;
		count_line(buf, c);
		out("%s\n", buf);
	}
}

/* Run one program (argv[0] is its path) with its stdout on a pipe;
 * returns its wait status or -1 if it could not be started. */
static int run_program(char *const argv[], struct counts *c)
{
	const char *path = argv[0];
	char *const envp[] = { "PATH=/bin:/sbin", "HOME=/", "TERM=linux", NULL };
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) < 0) {
		out("# init: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		out("# init: fork: %s\n", strerror(errno));
		close(fds[0]), close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]), close(fds[1]);
		if (!strstr(path, "fuzz"))
			alarm(TEST_TIMEOUT); /* the fuzzer's budget is its own */
		execve(path, argv, envp);
		out("# init: execve %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	forward(fds[0], c);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	/* Reap the orphans the program left (reparented to us): as any init
	 * does, so that no zombie keeps its kernel stack. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return status;
}

static void report(int n, const char *path, int status, const struct counts *c)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	if (status != 0) {
		if (status == -1)
			out("# %s: could not be started\n", name);
		else if (WIFSIGNALED(status))
			out("# %s: killed by signal %d (%s)\n", name, WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		else if (WIFEXITED(status) && !c->fail)
			out("# %s: exited with status %d\n", name, WEXITSTATUS(status));
	}
	out("%s %d %s\n", status == 0 && !c->fail ? "ok" : "not ok", n, name);
}

/* The kernel's invariant check: forward /proc/pagoda/invariants as a
 * suite of its own. Returns 0, or -1 when the file does not exist. */
static int run_invariants(struct counts *c)
{
	int fd = open(INVARIANTS, O_RDONLY);

	if (fd < 0) {
		out("    KTAP version 1\n    # Subtest: invariants\n    1..1\n");
		out("    ok 1 kernel_invariants_hold # SKIP no " INVARIANTS " (not Pagoda)\n");
		out("# invariants: pass:0 fail:0 skip:1 total:1\n");
		c->skip++;
		return 0;
	}
	forward(fd, c);
	close(fd);
	return 0;
}

static void add(struct counts *total, const struct counts *c)
{
	total->pass += c->pass;
	total->fail += c->fail;
	total->skip += c->skip;
}

/* The programs named on the command line (the words before any
 * --fuzz that are not options), as paths in TEST_DIR. */
static int named_programs(char *progs[], int max, int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc && n < max; i++) {
		char path[300];

		if (strcmp(argv[i], "--fuzz") == 0)
			break;
		if (argv[i][0] == '-')
			continue;
		snprintf(path, sizeof(path), TEST_DIR "/%s", argv[i]);
		progs[n++] = strdup(path);
	}
	return n;
}

int main(int argc, char **argv)
{
	char *progs[MAX_PROGS];
	char **fuzz_argv = NULL;
	struct counts total = { 0 }, c = { 0 };
	int nr, n, failed_progs = 0, status;
	bool tests = true;

	nr = named_programs(progs, MAX_PROGS, argc, argv); /* before --fuzz's word changes */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-tests") == 0) {
			tests = false;
		} else if (strcmp(argv[i], "--fuzz") == 0) {
			fuzz_argv = &argv[i]; /* argv[i] becomes the program's path */
			fuzz_argv[0] = FUZZ;
			break;
		}
	}
	memset(buf, 0, sizeof(buf));
	mount_filesystems();
	touch_memory();
	setup_console();
	if (nr == 0 && tests)
		nr = find_programs(progs, MAX_PROGS);
	n = nr + (fuzz_argv != NULL) + 1;
	out("KTAP version 1\n");
	out("1..%d\n", n);
	for (int i = 0; i < nr; i++) {
		char *const prog_argv[] = { progs[i], NULL };
		c = (struct counts){ 0 };
		status = run_program(prog_argv, &c);
		report(i + 1, progs[i], status, &c);
		failed_progs += status != 0 || c.fail;
		add(&total, &c);
	}
	if (fuzz_argv) {
		c = (struct counts){ 0 };
		status = run_program(fuzz_argv, &c);
		report(++nr, FUZZ, status, &c);
		failed_progs += status != 0 || c.fail;
		add(&total, &c);
	}
	c = (struct counts){ 0 };
	status = run_invariants(&c);
	report(++nr, "invariants", status, &c);
	failed_progs += status != 0 || c.fail;
	add(&total, &c);
	out("# Totals: pass:%d fail:%d skip:%d total:%d\n", total.pass, total.fail, total.skip,
	    total.pass + total.fail + total.skip);
	out("# init: %d of %d test programs passed; powering off\n", n - failed_progs, n);
	sync();
	reboot(RB_POWER_OFF);
	/* Still here: reboot failed. pid 1 must not exit (Linux panics). */
	out("# init: reboot: %s\n", strerror(errno));
	for (;;)
		pause();
}
