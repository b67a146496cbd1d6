/* membench: the memory paths of a kernel, timed from user space with
 * clock_gettime(CLOCK_MONOTONIC), in nanoseconds per operation. The same
 * static binary runs on Pagoda and on Linux (scripts/bench.sh boots both
 * under the same QEMU), so the figures compare the two kernels' code paths.
 * Under an emulator they say nothing about hardware speed.
 *
 * Run as pid 1 (init=/bin/membench on Pagoda, rdinit=/bin/membench on
 * Linux): mounts /proc and /sys, prints one line per operation
 * ("membench: NAME NS_PER_OP"), and powers off.
 *
 * With /proc/profile (a profile=N boot; scripts/profile.sh) each row's
 * timed part is also a profile window (user/profile.h), and the rows'
 * profiles are printed at the end; "membench repeat N" runs the rows N
 * times, for more samples. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "profile.h"

#define MiB (1UL << 20)
#define GiB (1UL << 30)
#define PAGE 4096UL
#define TOUCH_SIZE (64 * MiB)
#define MANY_VMAS 10000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The start of a row's timed part: also its profile window's. */
static double row_start(void)
{
	prof_begin();
	return now_ns();
}

static void report(const char *name, double ns_per_op)
{
	prof_end(name);
	printf("membench: %s %.0f\n", name, ns_per_op);
	fflush(stdout);
}

static char *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("membench: mmap");
		exit(1);
	}
	return p;
}

static void touch(char *p, size_t len)
{
	for (size_t off = 0; off < len; off += PAGE)
		p[off] = 1;
}

static void bench_demand_zero(void)
{
	char *p = map_anon(TOUCH_SIZE);
	double t0 = row_start();

	touch(p, TOUCH_SIZE);
	report("demand_zero_fault", (now_ns() - t0) / (TOUCH_SIZE / PAGE));
	munmap(p, TOUCH_SIZE);
}

/* TOUCH_SIZE of private anonymous memory on a 2 MiB boundary (Linux 6.1
 * does not align anonymous mappings itself): exactly that mapping. */
static char *map_anon_aligned(void)
{
	char *raw = map_anon(TOUCH_SIZE + 2 * MiB);
	char *p = (char *)(((uintptr_t)raw + 2 * MiB - 1) & ~(2 * MiB - 1));

	if (p > raw)
		munmap(raw, p - raw);
	munmap(p + TOUCH_SIZE, raw + 2 * MiB - p);
	return p;
}

/* The demand-zero fault with transparent huge pages asked for
 * (MADV_HUGEPAGE: one fault per 2 MiB) and refused (MADV_NOHUGEPAGE: one
 * per 4 KiB), in nanoseconds per 4 KiB page touched either way. */
static void bench_demand_zero_thp(const char *name, int advice)
{
	char *p = map_anon_aligned();
	double t0;

	/* Once untimed, so that the frames the timed pass gets have been
	 * touched by the host already (QEMU backs guest RAM on first use). */
	madvise(p, TOUCH_SIZE, advice);
	touch(p, TOUCH_SIZE);
	munmap(p, TOUCH_SIZE);
	p = map_anon_aligned();
	if (madvise(p, TOUCH_SIZE, advice) < 0)
		perror("membench: madvise");
	t0 = row_start();
	touch(p, TOUCH_SIZE);
	report(name, (now_ns() - t0) / (TOUCH_SIZE / PAGE));
	munmap(p, TOUCH_SIZE);
}

/* Where the time of the THP row goes: the first write to each 2 MiB (the
 * fault: zeroing 2 MiB, one entry) against the other 511 writes (no
 * fault: only the emulator's own TLB misses). A comment line, not a
 * row. */
static void thp_fault_parts(void)
{
	char *p = map_anon_aligned();
	double fault_ns = 0, rest_ns = 0;

	madvise(p, TOUCH_SIZE, MADV_HUGEPAGE);
	for (size_t off = 0; off < TOUCH_SIZE; off += 2 * MiB) {
		double t0 = now_ns(), t1;
		p[off] = 1;
		t1 = now_ns();
		touch(p + off + PAGE, 2 * MiB - PAGE);
		fault_ns += t1 - t0;
		rest_ns += now_ns() - t1;
	}
	printf("membench: # thp_on parts: %.0f ns per 2 MiB fault, %.0f ns per later 4 KiB touch\n",
	       fault_ns / (TOUCH_SIZE / (2 * MiB)), rest_ns / (TOUCH_SIZE / PAGE - TOUCH_SIZE / (2 * MiB)));
	munmap(p, TOUCH_SIZE);
}

/* The policy the THP rows ran under ("[always] madvise never"). */
static void print_thp_policy(void)
{
	char line[128] = "(none)\n";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			strcpy(line, "(unreadable)\n");
		fclose(f);
	}
	printf("membench: # transparent_hugepage/enabled: %s", line);
}

/* The child writes every page its parent touched: one COW fault each. */
static void bench_cow_fault(void)
{
	char *p = map_anon(TOUCH_SIZE);
	int fds[2];
	double ns = 0;

	touch(p, TOUCH_SIZE);
	if (pipe(fds) < 0)
		return;
	prof_begin(); /* the profile window holds the fork and the exit too */
	if (fork() == 0) {
		double t0 = now_ns();
		touch(p, TOUCH_SIZE);
		t0 = (now_ns() - t0) / (TOUCH_SIZE / PAGE);
		write(fds[1], &t0, sizeof(t0));
		_exit(0);
	}
	read(fds[0], &ns, sizeof(ns));
	wait(NULL);
	close(fds[0]);
	close(fds[1]);
	report("cow_fault_after_fork", ns);
	munmap(p, TOUCH_SIZE);
}

/* fork+exit+wait with 64 MiB touched, in huge pages where THP gives them
 * (name) or in 4 KiB pages (name_4KiB: MADV_NOHUGEPAGE), whose 32 page
 * tables Pagoda shares at fork instead of copying. suffix names the
 * boot: "_share_off" for Pagoda's fork_share_tables=0. */
static void bench_fork_exit_wait(const char *name, int huge, const char *suffix)
{
	char *p = map_anon(TOUCH_SIZE);
	const int rounds = 20;
	char row[96];
	double t0;

	if (!huge)
		madvise(p, TOUCH_SIZE, MADV_NOHUGEPAGE);
	touch(p, TOUCH_SIZE);
	t0 = row_start();
	for (int i = 0; i < rounds; i++) {
		if (fork() == 0)
			_exit(0);
		wait(NULL);
	}
	snprintf(row, sizeof(row), "%s%s%s", name, huge ? "" : "_4KiB", suffix);
	report(row, (now_ns() - t0) / rounds);
	munmap(p, TOUCH_SIZE);
}

/* A 64 MiB file in /tmp (the page cache on both kernels), mapped shared
 * and read a byte per page: the read fault of a file mapping. Then mapped
 * privately and written a byte per page: each first write copies the
 * page. */
#define FILE_PATH "/tmp/membench-file"

static int make_bench_file(void)
{
	int fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0644);
	char *chunk = map_anon(MiB);

	memset(chunk, 0x5a, MiB);
	for (size_t off = 0; fd >= 0 && off < TOUCH_SIZE; off += MiB)
		if (write(fd, chunk, MiB) != (ssize_t)MiB) {
			close(fd);
			fd = -1;
		}
	munmap(chunk, MiB);
	return fd;
}

static void bench_file_faults(void)
{
	int fd = make_bench_file();
	volatile char *p;
	double t0;
	long sum = 0;

	if (fd < 0) {
		perror("membench: bench file");
		return;
	}
	p = mmap(NULL, TOUCH_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	t0 = row_start();
	for (size_t off = 0; p != MAP_FAILED && off < TOUCH_SIZE; off += PAGE)
		sum += p[off];
	report("file_shared_read_fault", (now_ns() - t0) / (TOUCH_SIZE / PAGE));
	munmap((void *)p, TOUCH_SIZE);
	p = mmap(NULL, TOUCH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	t0 = row_start();
	for (size_t off = 0; p != MAP_FAILED && off < TOUCH_SIZE; off += PAGE)
		p[off] = 1;
	report("file_private_first_write", (now_ns() - t0) / (TOUCH_SIZE / PAGE));
	munmap((void *)p, TOUCH_SIZE);
	close(fd);
	unlink(FILE_PATH);
	if (sum != 0x5aL * (TOUCH_SIZE / PAGE))
		printf("membench: # file_shared_read_fault read the wrong bytes\n");
}

/* fork, execve of a program that exits at once, wait: dash -c true
 * (Debian's, dynamically linked: its dynamic linker maps libc) and this
 * program itself, static, told to exit. */
static void bench_spawn(const char *name, char *const argv[])
{
	const int rounds = 20;
	char *const envp[] = { NULL };
	double t0 = row_start();

	for (int i = 0; i < rounds; i++) {
		int st = 0;
		pid_t pid = fork();
		if (pid == 0) {
			execve(argv[0], argv, envp);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("membench: # %s: %s did not run (status 0x%x)\n", name, argv[0], st);
			return;
		}
	}
	report(name, (now_ns() - t0) / rounds);
}

static void bench_mmap_munmap(void)
{
	const int rounds = 20000;
	double t0 = row_start();

	for (int i = 0; i < rounds; i++) {
		void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		munmap(p, PAGE);
	}
	report("mmap_munmap_4KiB", (now_ns() - t0) / rounds);
}

/* 10,000 one-page mappings that cannot merge (alternating protections),
 * then a write fault at each, in pseudo-random order: the cost of finding
 * the VMA among many, plus the fault itself. */
static void bench_many_vmas(void)
{
	const uintptr_t base = 0x200000000000UL;
	uint64_t seed = 12345;
	static unsigned order[MANY_VMAS];
	double t0;

	for (unsigned i = 0; i < MANY_VMAS; i++) {
		int prot = PROT_READ | PROT_WRITE | ((i & 1) ? PROT_EXEC : 0);
		if (mmap((void *)(base + 2 * i * PAGE), PAGE, prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
			perror("membench: mmap many");
			return;
		}
		order[i] = i;
	}
	for (unsigned i = MANY_VMAS - 1; i > 0; i--) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned j = (seed >> 33) % (i + 1), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	t0 = row_start();
	for (unsigned i = 0; i < MANY_VMAS; i++)
		*(volatile char *)(base + 2 * order[i] * PAGE) = 1;
	report("fault_among_10000_vmas", (now_ns() - t0) / MANY_VMAS);
	munmap((void *)base, 2 * MANY_VMAS * PAGE);
}

/* The ivshmem device's 1 GiB BAR: its sysfs resource2, or NULL. */
static int open_bar(char *path, size_t size)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int fd = -1;

	while (d && (e = readdir(d))) {
		char vendor[16] = "";
		snprintf(path, size, "/sys/bus/pci/devices/%s/vendor", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		fgets(vendor, sizeof(vendor), f);
		fclose(f);
		if (strncmp(vendor, "0x1af4", 6) != 0)
			continue;
		snprintf(path, size, "/sys/bus/pci/devices/%s/resource2", e->d_name);
		if ((fd = open(path, O_RDWR | O_SYNC)) >= 0)
			break;
	}
	if (d)
		closedir(d);
	return fd;
}

/* One write every 2 MiB of the BAR's 1 GiB. */
static void touch_every_2mib(volatile uint64_t *p)
{
	for (size_t off = 0; off < GiB; off += 2 * MiB)
		p[off / 8] = off;
}

/* Map the BAR, write every 2 MiB of it, unmap it: the round trip as one
 * row and its three parts as rows of their own (medians of 21 rounds:
 * the first pays the host's first touch of the device memory, and a
 * mean of a few rounds was mostly that).
 * The first five rounds also print their parts and a second pass of
 * writes over the still-mapped BAR, not in any row: the second pass
 * shows what the writes cost once the emulator's TLB holds the pages.
 * "membench bar N"
 * runs this row alone, N rounds (make profile ROW=bar: the map and unmap
 * take tens of microseconds, a few rounds get no tick). */
static int bar_rounds = 21;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void bench_bar(void)
{
	char path[300];
	int fd = open_bar(path, sizeof(path));
	struct stat st;
	const int rounds = bar_rounds;
	double *map_ns, *touch_ns, *unmap_ns, *all_ns;

	if (fd < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size < GiB) {
		printf("membench: # no 1 GiB ivshmem BAR: bar_1GiB_map_touch_unmap skipped\n");
		return;
	}
	map_ns = calloc(4 * (size_t)rounds, sizeof(double));
	if (!map_ns) {
		perror("membench: calloc");
		return;
	}
	touch_ns = map_ns + rounds, unmap_ns = touch_ns + rounds, all_ns = unmap_ns + rounds;
	for (int r = 0; r < rounds; r++) {
		double t1 = row_start(), t2, t2_touch, t3, t4, t5;
		volatile uint64_t *p = mmap(NULL, GiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			perror("membench: mmap BAR");
			return;
		}
		t2 = now_ns();
		prof_end("bar_1GiB_map"); /* each part a profile window */
		t2_touch = row_start();
		touch_every_2mib(p);
		t3 = now_ns();
		prof_end("bar_1GiB_touch_every_2MiB");
		touch_every_2mib(p);
		t4 = row_start();
		munmap((void *)p, GiB);
		t5 = now_ns();
		prof_end("bar_1GiB_unmap");
		map_ns[r] = t2 - t1;
		touch_ns[r] = t3 - t2_touch;
		unmap_ns[r] = t5 - t4;
		all_ns[r] = map_ns[r] + touch_ns[r] + unmap_ns[r];
		if (r < 5)
			printf("membench: # bar_1GiB round %d at %p: map %.0f, touch %.0f, touch again "
			       "%.0f, unmap %.0f ns\n", r + 1, (void *)p, t2 - t1, t3 - t2, t4 - t3,
			       t5 - t4);
	}
	report("bar_1GiB_map_touch_unmap", median(all_ns, rounds));
	report("bar_1GiB_map", median(map_ns, rounds));
	report("bar_1GiB_touch_every_2MiB", median(touch_ns, rounds));
	report("bar_1GiB_unmap", median(unmap_ns, rounds));
	free(map_ns);
	close(fd);
}

/* Every row but boot_to_init, once. */
static void bench_rows(void)
{
	char *dash[] = { "/bin/dash", "-c", "true", NULL };
	char *self[] = { "/bin/membench", "--exit", NULL };

	bench_demand_zero();
	print_thp_policy();
	bench_demand_zero_thp("demand_zero_fault_thp_on", MADV_HUGEPAGE);
	thp_fault_parts(); /* on the frames the row above warmed */
	bench_demand_zero_thp("demand_zero_fault_thp_off", MADV_NOHUGEPAGE);
	bench_cow_fault();
	bench_fork_exit_wait("fork_exit_wait_64MiB", 1, "");
	bench_fork_exit_wait("fork_exit_wait_64MiB", 0, "");
	bench_mmap_munmap();
	bench_many_vmas();
	bench_file_faults();
	bench_spawn("fork_execve_wait_dynamic_dash", dash);
	bench_spawn("fork_execve_wait_static", self);
	bench_bar();
}

int main(int argc, char **argv)
{
	struct timespec boot;

	if (argc > 1 && !strcmp(argv[1], "--exit"))
		return 0; /* bench_spawn's static program */

	/* First thing: how long the kernel took to get here (both kernels
	 * count CLOCK_BOOTTIME from their own start, not from power-on). */
	clock_gettime(CLOCK_BOOTTIME, &boot);
	report("boot_to_init", boot.tv_sec * 1e9 + boot.tv_nsec);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	if (argc > 2 && !strcmp(argv[1], "repeat")) {
		/* "membench repeat N": the rows N times (profile windows add up) */
		for (int n = atoi(argv[2]); n > 1; n--)
			bench_rows();
	}
	if (argc > 2 && !strcmp(argv[1], "bar")) {
		bar_rounds = atoi(argv[2]) > 0 ? atoi(argv[2]) : bar_rounds;
		bench_bar();
		goto done;
	}
	if (argc > 1 && !strcmp(argv[1], "fork")) {
		/* "membench fork SUFFIX": the fork rows alone, named apart */
		bench_fork_exit_wait("fork_exit_wait_64MiB", 1, argc > 2 ? argv[2] : "");
		bench_fork_exit_wait("fork_exit_wait_64MiB", 0, argc > 2 ? argv[2] : "");
		goto done;
	}
	bench_rows();
done:
	prof_dump();
	printf("membench: done\n");
	fflush(stdout);
	if (getpid() == 1)
		reboot(RB_POWER_OFF);
	return 0;
}
