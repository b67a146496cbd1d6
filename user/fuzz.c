/* fuzz: a seeded, reproducible fuzzer of the memory system calls.
 *
 *   fuzz [--seed S] [--calls N] [--per-child K] [--check-every C]
 *        [--threads T] [--max-seconds S] [--devmem-rw BASE:SIZE] [--replay S:N]
 *        [--verbose]
 *
 * The parent forks children one after another; child c makes calls
 * [c*K, (c+1)*K) of the run, each drawn from a generator seeded with
 * (S, c), and exits. Call n of seed S is "S:n" wherever it is printed.
 * After each child the parent reads the kernel's exact count of free
 * frames (/proc/pagoda/free_frames, which drains the caches the kernel
 * keeps on purpose first) and requires it to be what it was before the
 * child: a single frame lost or gained is a failure. The parent is a child
 * subreaper (prctl(PR_SET_CHILD_SUBREAPER)): a grandchild that outlives
 * its child comes to it, and is waited for before the count. Every C children it
 * also reads /proc/pagoda/invariants. --replay S:N reruns the child that
 * made call S:N, up to that call, printing every call (with its result),
 * then checks the frame count as usual.
 *
 * The calls are biased toward the memory system: mmap, munmap, mprotect,
 * mremap, madvise, brk, fork, reads and writes through its own mappings
 * (caught by a SIGSEGV/SIGBUS handler with sigsetjmp/siglongjmp), and
 * system calls that take user buffers, with hostile arguments: kernel-half
 * and non-canonical addresses, lengths that overflow, every flag bit,
 * descriptors of every kind (/dev/mem, /dev/fb0, sysfs PCI resources and
 * config space, /proc files, pipes, a directory, an unlinked file of
 * 64 KiB open in each mode, a /dev/shm file, a memfd), and
 * buffers that end inside an unmapped page.
 *
 * What it must never break is its own safety: the devices it opens for
 * writing are only the framebuffer, the ivshmem BAR and the /dev/mem
 * window the harness names with --devmem-rw (RAM kept from the kernel by
 * memmap=). Every other device is opened read-only, and the kernel must
 * then refuse writable shared mappings of it (that is tested, not
 * assumed: see the oracle below). Destructive calls (MAP_FIXED, munmap,
 * mprotect, mremap, madvise) never aim at the fuzzer's own text, data and
 * stack, except on purpose, rarely ("self-harm"), to see the kernel
 * survive a process that destroys itself.
 *
 * Oracles a child checks on the spot (a failure ends the run red): a
 * system call given a kernel-half or non-canonical buffer must not
 * succeed; a read or write at such an address must fault; a successful
 * mmap returns a page-aligned user address (the one asked for with
 * MAP_FIXED); a writable shared mapping of a file opened read-only must
 * be refused.
 *
 * --max-seconds S starts no child once S seconds have passed: make test
 * bounds its run in time, whatever the machine's load.
 *
 * With --threads T, each child also runs T - 1 threads that race mmap
 * (anonymous, and of a memfd as large as the range), munmap, mprotect,
 * mremap, madvise, ftruncate of the memfd, page faults and fork on one
 * 2 MiB range of the child's address space while its main thread makes
 * the calls above (make test runs four threads on four CPUs). Each thread's
 * calls are seeded, their interleaving is not: a failure names the seed,
 * and a replay makes the same calls in a different order.
 *
 * Output is a KTAP suite "fuzz". On Linux (no /proc/pagoda) the frame and
 * invariant cases are skipped; the calls and oracles run the same. */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ktap.h"

#define PAGE 4096UL
#define USER_TOP 0x800000000000UL          /* 128 TiB: 4-level paging's end of user space */
#define ARENA 0x100000000000UL             /* 16 TiB: where MAP_FIXED may aim */
#define ARENA_SIZE (1UL << 30)
#define MAX_REGIONS 64
#define MAX_FDS 112
#define MAX_OWN 64
#define DEVMEM_RW_FD 250                   /* never closed, dup'ed or picked at random */
#define CONSOLE_FD 251                     /* --verbose: lines go out at once (a panic loses none) */
#define LOG_SIZE (60 * 1024)
#define FREE_FRAMES "/proc/pagoda/free_frames"
#define INVARIANTS "/proc/pagoda/invariants"
#define SELF_HARM_ODDS 20000               /* one call in this many aims at itself */
#define HANG_SECONDS 30                    /* a child without progress this long hangs */

/* How a child ended, besides a signal: its exit status. */
#define EXIT_DONE 0
#define EXIT_ORACLE 99      /* the kernel did something it must never do */
#define EXIT_STRAY_FAULT 98 /* a fault outside a wild access, with no self-harm */
#define EXIT_SETUP 97       /* could not set up (out of memory, no fds) */

/* Not every libc header has these. */
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

/* ---- State shared with the parent (a MAP_SHARED page made before fork) ---- */

struct shared {
	uint64_t done;       /* calls the child has finished */
	uint64_t self_harm;  /* calls that aimed at the fuzzer's own memory */
	uint64_t oracle;     /* oracle failures */
	uint64_t known_risk; /* in a call that may trip a known defect (see known_defects) */
	char last[256];      /* the call being made, written before it is made */
	uint32_t log_len;
	char log[LOG_SIZE];  /* the child's lines, printed by the parent */
};

static struct shared *sh;
static int console_fd = -1; /* the child's CONSOLE_FD, in verbose mode */
static uint64_t seed, call_no;   /* the call being made: seed:call_no */
static bool verbose;

/* ---- Raw system calls: the kernel's return value, errno unused ---- */

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			     : "rcx", "r11", "memory");
	return ret;
}

/* ---- Output: every line names seed and call ---- */

static void __attribute__((format(printf, 1, 2))) flog(const char *fmt, ...)
{
	char line[320];
	va_list ap;
	int n = snprintf(line, sizeof(line), "    # fuzz %llu:%llu ", (unsigned long long)seed,
			 (unsigned long long)call_no);

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (verbose && console_fd >= 0) {
		sys6(SYS_write, console_fd, (long)line, n, 0, 0, 0);
		return;
	}
	if (sh->log_len + n <= LOG_SIZE) {
		memcpy(sh->log + sh->log_len, line, n);
		sh->log_len += n;
	}
}

/* Defects the fuzzer found that are being fixed in another branch: their
 * oracle failures are printed as KNOWN and not counted. An entry goes
 * when the fix lands (then the oracle holds the kernel to it). */
static const struct {
	const char *prefix, *why;
} known_defects[] = {
	{ "mremap(", "mm/mremap.c takes no VMA lookup before its shrink shortcut (lead, issue 15)" },
};

static void __attribute__((format(printf, 1, 2))) oracle_fail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < sizeof(known_defects) / sizeof(known_defects[0]); i++) {
		if (!strncmp(msg, known_defects[i].prefix, strlen(known_defects[i].prefix))) {
			flog("KNOWN DEFECT (%s): %s", known_defects[i].why, msg);
			return;
		}
	}
	flog("ORACLE: %s", msg);
	sh->oracle++;
}

/* ---- The generator: splitmix64, one stream per child ---- */

static __thread uint64_t rng; /* each thread draws from its own stream */

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
static bool one_in(uint64_t n) { return below(n) == 0; }
#define PICK(arr) ((arr)[below(sizeof(arr) / sizeof((arr)[0]))])

static void rng_seed(uint64_t s, uint64_t stream)
{
	rng = s * 0x2545f4914f6cdd1dULL ^ (stream + 1) * 0x9e3779b97f4a7c15ULL;
	rnd();
}

/* Make one call, logged in verbose mode. What it is goes to sh->last
 * first: if the call never returns, the parent can say which it was. */
static long call(const char *name, long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;

	snprintf(sh->last, sizeof(sh->last), "%llu:%llu %s[%ld](%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)",
		 (unsigned long long)seed, (unsigned long long)call_no, name, nr, a, b, c, d, e, f);
	if (verbose) /* before the call too: if the kernel dies in it, the line is out */
		flog("%s(%#lx, %#lx, %#lx, %#lx, %#lx, %#lx) ...", name, a, b, c, d, e, f);
	ret = sys6(nr, a, b, c, d, e, f);
	if (verbose)
		flog("%s = %ld", name, ret);
	return ret;
}
#define CALL(name, ...) call(#name, SYS_##name, __VA_ARGS__)

static bool is_err(long r) { return r < 0 && r > -4096; }

/* Where user space ends on this machine: 2^47 with 4-level paging; 2^56
 * where the kernel uses 5-level paging (Linux on a CPU with LA57 hands
 * out addresses above 2^47 when asked for them). The oracles call
 * everything at or above it beyond user space. */
static uintptr_t user_end = USER_TOP;

static void probe_user_end(void)
{
	void *p = mmap((void *)(1UL << 52), PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	if ((uintptr_t)p >= USER_TOP)
		user_end = 1UL << 56;
	munmap(p, PAGE);
}

/* ---- Memory the fuzzer must not destroy by accident ---- */

struct range {
	uintptr_t start, end;
};

static struct range own[MAX_OWN]; /* from /proc/self/maps before the children */
static int nr_own;

static bool overlaps_own(uintptr_t a, uintptr_t len)
{
	uintptr_t end = a + len < a ? UINTPTR_MAX : a + len;

	for (int i = 0; i < nr_own; i++)
		if (a < own[i].end && own[i].start < end)
			return true;
	return false;
}

/* Read (and write, if writable) every page of [start, end): a page of
 * text is paged in from the file on first use, a page of data on first
 * write (copy-on-write after fork). */
static void prefault(uintptr_t start, uintptr_t end, bool write)
{
	for (uintptr_t a = start; a < end; a += PAGE) {
		char v = *(volatile char *)a;
		if (write)
			*(volatile char *)a = v;
	}
}

/* Every mapping at start, with room for the heap to grow and the stack
 * to grow down. Each is touched page by page, and the stack 256 KiB deep,
 * so that the parent's own memory never grows afterwards: its frames are
 * part of the baseline the children are held to. */
static void read_own_ranges(void)
{
	static char buf[16384];
	int fd = open("/proc/self/maps", O_RDONLY), n = 0, got;
	char *p, *nl;

	if (fd < 0)
		return;
	while ((got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += got;
	close(fd);
	buf[n] = 0;
	for (p = buf; (nl = strchr(p, '\n')) && nr_own < MAX_OWN; p = nl + 1) {
		struct range *r = &own[nr_own++];
		*nl = 0;
		r->start = strtoul(p, &p, 16);
		r->end = *p == '-' ? strtoul(p + 1, &p, 16) : r->start;
		if (p[0] == ' ' && p[1] == 'r' && p[4] == 'p' && !strstr(p, "[v"))
			prefault(r->start, r->end, p[2] == 'w');
		if (strstr(p, "[stack]"))
			r->start -= 8UL << 20;
		if (strstr(p, "[heap]"))
			r->end += 64UL << 20;
	}
	if (nr_own < MAX_OWN) { /* the heap may not exist yet: keep room after the image */
		uintptr_t brk_now = (uintptr_t)sbrk(0);
		own[nr_own++] = (struct range){ brk_now, brk_now + (64UL << 20) };
	}
}

static void __attribute__((noinline)) touch_stack(void)
{
	volatile char pad[256 * 1024];

	for (size_t i = 0; i < sizeof(pad); i += PAGE)
		pad[i] = 0;
}

/* ---- What the child has mapped ---- */

enum region_kind { R_ANON, R_SHARED, R_FILE };

struct region {
	uintptr_t start, len;
	uint8_t kind;
};

static struct region regions[MAX_REGIONS];
static int nr_regions;

static void region_forget(uintptr_t a, uintptr_t len)
{
	for (int i = 0; i < nr_regions;) {
		struct region *r = &regions[i];
		if (a <= r->start && r->start + r->len <= a + len)
			regions[i] = regions[--nr_regions];
		else
			i++;
	}
}

static void region_add(uintptr_t a, uintptr_t len, uint8_t kind)
{
	region_forget(a, len);
	if (nr_regions == MAX_REGIONS)
		regions[below(MAX_REGIONS)] = regions[--nr_regions];
	regions[nr_regions++] = (struct region){ a, len, kind };
}

static struct region *any_region(void)
{
	return nr_regions ? &regions[below(nr_regions)] : NULL;
}

/* ---- Descriptors ---- */

enum fd_kind {
	F_ZERO, F_NULL, F_MEM, F_FB, F_PROC, F_DIR, F_PIPE_R, F_PIPE_W, F_TMP, F_EXE,
	F_PCI_CONFIG, F_PCI_RES, F_PCI_RES_RW,
};

struct fdent {
	int fd;
	uint8_t kind;
	bool rw; /* opened for writing */
};

static struct fdent fds[MAX_FDS];
static int nr_fds;
static struct range devmem_rw; /* the --devmem-rw window, physical */
static bool have_devmem_rw;

static void fd_add(const char *path, int flags, uint8_t kind)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return;
	if (nr_fds == MAX_FDS) {
		close(fd);
		return;
	}
	fds[nr_fds++] = (struct fdent){ fd, kind, (flags & O_ACCMODE) != O_RDONLY };
	if (verbose)
		flog("fd %d: %s (%s)", fd, path,
		     (flags & O_ACCMODE) == O_RDONLY ? "read-only" : "read-write");
}

/* A memfd (shared memory as a file) of 64 KiB. */
static void memfd_add(void)
{
	long fd = sys6(SYS_memfd_create, (long)"fuzz", MFD_CLOEXEC, 0, 0, 0, 0);

	if (is_err(fd))
		return;
	if (nr_fds == MAX_FDS) {
		close((int)fd);
		return;
	}
	ftruncate((int)fd, 64 * 1024);
	fds[nr_fds++] = (struct fdent){ (int)fd, F_TMP, true };
}

/* The hex number in a small sysfs file ("0x1af4\n"), or -1. */
static long read_hex(const char *dir, const char *name)
{
	char path[300], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 16);
}

/* The BARs it is safe to write: the display's framebuffer (QEMU's stdvga
 * 1234:1111, BAR 0) and the ivshmem memory (1af4:1110, BAR 2). */
static bool bar_writable(long vendor, long device, int bar)
{
	return (vendor == 0x1234 && device == 0x1111 && bar == 0) ||
	       (vendor == 0x1af4 && device == 0x1110 && bar == 2);
}

static void open_pci_device(const char *name)
{
	char dir[300], path[340];
	long vendor, device;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", name);
	vendor = read_hex(dir, "vendor");
	device = read_hex(dir, "device");
	snprintf(path, sizeof(path), "%s/config", dir);
	fd_add(path, O_RDONLY, F_PCI_CONFIG);
	for (int bar = 0; bar < 6; bar++) {
		snprintf(path, sizeof(path), "%s/resource%d", dir, bar);
		if (bar_writable(vendor, device, bar))
			fd_add(path, O_RDWR, F_PCI_RES_RW);
		fd_add(path, O_RDONLY, F_PCI_RES);
		snprintf(path, sizeof(path), "%s/resource%d_wc", dir, bar);
		fd_add(path, O_RDONLY, F_PCI_RES);
	}
}

static void open_pci(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int n = 0;

	if (!d)
		return;
	while ((e = readdir(d)) && n < 12) {
		if (e->d_name[0] == '.')
			continue;
		open_pci_device(e->d_name);
		n++;
	}
	closedir(d);
}

/* The child's descriptors, in a fixed order (replays see the same). fds
 * 0-2 become /dev/null: nothing a child writes may reach the console. */
static void open_fds(void)
{
	int p[2], null = open("/dev/null", O_RDWR);
	char tmp[64];

	if (verbose) {
		int con = open("/dev/console", O_WRONLY | O_CLOEXEC);
		if (con >= 0 && dup2(con, CONSOLE_FD) == CONSOLE_FD)
			console_fd = CONSOLE_FD;
		if (con >= 0 && con != CONSOLE_FD)
			close(con);
	}
	for (int i = 0; i < 3 && null >= 0; i++)
		dup2(null, i);
	if (null > 2)
		close(null);
	fd_add("/dev/zero", O_RDWR, F_ZERO);
	fd_add("/dev/null", O_RDWR, F_NULL);
	fd_add("/dev/mem", O_RDONLY, F_MEM);
	fd_add("/dev/mem", O_RDONLY | O_DSYNC, F_MEM);
	fd_add("/dev/fb0", O_RDWR, F_FB);
	fd_add("/dev/fb0", O_RDONLY, F_FB);
	fd_add("/proc/self/maps", O_RDONLY, F_PROC);
	fd_add("/proc/meminfo", O_RDONLY, F_PROC);
	fd_add("/", O_RDONLY | O_DIRECTORY, F_DIR);
	fd_add("/proc/self/exe", O_RDONLY, F_EXE);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0 && nr_fds + 2 <= MAX_FDS) {
		fds[nr_fds++] = (struct fdent){ p[0], F_PIPE_R, false };
		fds[nr_fds++] = (struct fdent){ p[1], F_PIPE_W, true };
	}
	snprintf(tmp, sizeof(tmp), "/tmp/fuzz.%d", getpid());
	fd_add(tmp, O_RDWR | O_CREAT | O_EXCL, F_TMP);
	if (nr_fds && fds[nr_fds - 1].kind == F_TMP) /* 64 KiB of data to map */
		ftruncate(fds[nr_fds - 1].fd, 64 * 1024);
	fd_add(tmp, O_RDONLY, F_TMP);
	fd_add(tmp, O_WRONLY, F_TMP);
	unlink(tmp); /* freed when the child exits */
	snprintf(tmp, sizeof(tmp), "/dev/shm/fuzz.%d", getpid());
	fd_add(tmp, O_RDWR | O_CREAT | O_EXCL, F_TMP);
	unlink(tmp);
	memfd_add();
	open_pci();
	if (have_devmem_rw) {
		int fd = open("/dev/mem", O_RDWR | O_CLOEXEC);
		if (fd >= 0 && fd != DEVMEM_RW_FD) {
			dup2(fd, DEVMEM_RW_FD);
			close(fd);
		}
	}
}

/* A table descriptor, or a hostile number: never DEVMEM_RW_FD. */
static int pick_fd(void)
{
	static const int hostile[] = { -1, -100, 3, 255, 256, 1 << 20, 0x7fffffff,
				       (int)0x80000000, 200, 0, 1, 2 };

	if (nr_fds && !one_in(5))
		return fds[below(nr_fds)].fd;
	return PICK(hostile);
}

static const struct fdent *fd_entry(int fd)
{
	for (int i = 0; i < nr_fds; i++)
		if (fds[i].fd == fd)
			return &fds[i];
	return NULL;
}

/* ---- Addresses and lengths ---- */

static bool self_harm;   /* this call may aim at the fuzzer itself */

static uintptr_t addr_hostile(void)
{
	static const uintptr_t list[] = {
		0, 1, 0xfff, 0x1000, 0xf000, USER_TOP - PAGE, USER_TOP, USER_TOP + PAGE,
		0x8000000000000000UL, 0xffff800000000000UL, 0xffff888000000000UL,
		0xffffc90000000000UL, 0xffffcc0000000000UL, 0xffffffff80000000UL,
		0xffffffff80100000UL, 0xfffffffffffff000UL, ~0UL, 0x00007ffffffff000UL,
	};

	return one_in(8) ? rnd() | USER_TOP : PICK(list);
}

/* An address inside a region, or on its edges. */
static uintptr_t addr_region(void)
{
	struct region *r = any_region();
	uintptr_t pages;

	if (!r)
		return ARENA + PAGE * below(64);
	pages = r->len / PAGE;
	switch (below(8)) {
	case 0: return r->start - PAGE;
	case 1: return r->start + r->len - PAGE;
	case 2: return r->start + r->len;
	case 3: return r->start + below(r->len); /* unaligned */
	default: return r->start + PAGE * below(pages ? pages : 1);
	}
}

static uintptr_t addr_arena(void)
{
	uintptr_t a = ARENA + PAGE * below(ARENA_SIZE / PAGE);

	return one_in(4) ? a & ~((2UL << 20) - 1) : a;
}

static uintptr_t addr_own(void)
{
	struct range *r = &own[below(nr_own)];

	return (r->start + below(r->end - r->start)) & ~(PAGE - 1);
}

/* An address to change mappings at: regions, the arena, hostile values,
 * and the fuzzer itself only when self_harm is on. */
static uintptr_t pick_addr(void)
{
	if (self_harm && nr_own)
		return addr_own();
	switch (below(10)) {
	case 0 ... 4: return addr_region();
	case 5 ... 7: return addr_arena();
	default: return addr_hostile();
	}
}

static size_t len_hostile(void)
{
	static const size_t list[] = { 0, 1, PAGE - 1, PAGE + 1, 1UL << 47, (1UL << 47) - PAGE,
				       1UL << 63, -PAGE, ~0UL, USER_TOP + PAGE };

	return one_in(6) ? rnd() : PICK(list);
}

static size_t pick_len(void)
{
	struct region *r;

	switch (below(10)) {
	case 0 ... 3: return PAGE * (1 + below(16));
	case 4:
		r = any_region();
		return r ? r->len + PAGE * (below(3) - 1) : PAGE;
	case 5: return 1 + below(3 * PAGE);
	case 6: return (PAGE << 9) << below(7); /* 2 MiB to 128 MiB */
	case 7: return PAGE * (1 + below(1024));
	default: return len_hostile();
	}
}

/* Destructive range: keep it off the fuzzer's own memory unless this is
 * a self-harm call. Returns false when no safe version exists. */
static bool safe_range(uintptr_t *a, size_t len)
{
	if (self_harm || !overlaps_own(*a, len))
		return true;
	*a = addr_arena();
	return !overlaps_own(*a, len);
}

/* ---- Wild reads, writes and jumps, caught by the signal handler ---- */

static __thread sigjmp_buf wild_jb; /* per thread: racing threads fault too */
static __thread volatile sig_atomic_t in_wild;

/* A fault inside a wild access goes back to it; any other one is a
 * stray fault: expected after self-harm, a finding otherwise. */
static void on_fault(int sig)
{
	if (in_wild)
		siglongjmp(wild_jb, sig);
	_exit(sh->self_harm || sh->known_risk ? 128 + sig : EXIT_STRAY_FAULT);
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

static uint64_t access_mem(uintptr_t a, unsigned int size, bool write, uint64_t v)
{
	switch (size) {
	case 1: if (write) *(volatile uint8_t *)a = v; return *(volatile uint8_t *)a;
	case 2: if (write) *(volatile uint16_t *)a = v; return *(volatile uint16_t *)a;
	case 4: if (write) *(volatile uint32_t *)a = v; return *(volatile uint32_t *)a;
	default: if (write) *(volatile uint64_t *)a = v; return *(volatile uint64_t *)a;
	}
}

/* Does the access touch memory no user access may reach? */
static bool beyond_user(uintptr_t a, unsigned int size)
{
	return a >= user_end || a + size - 1 >= user_end || a + size - 1 < a;
}

/* Access memory at a; true if it faulted (the handler jumped back). */
static bool try_access(uintptr_t a, unsigned int size, bool write, uint64_t v)
{
	volatile uintptr_t va = a;
	volatile unsigned int vsize = size;
	volatile bool vwrite = write, faulted = true;

	in_wild = 1;
	if (sigsetjmp(wild_jb, 1) == 0) {
		access_mem(va, vsize, vwrite, v);
		faulted = false;
	}
	in_wild = 0;
	return faulted;
}

static void wild_access(void)
{
	unsigned int size = 1U << below(4);
	bool write = one_in(2);
	uint64_t v = rnd();
	uintptr_t a = below(10) < 8 ? addr_region() + below(64) : below(2) ? addr_arena() :
									    addr_hostile();

	snprintf(sh->last, sizeof(sh->last), "%llu:%llu %s%u %#lx", (unsigned long long)seed,
		 (unsigned long long)call_no, write ? "write" : "read", size * 8, a);
	if (verbose)
		flog("%s%u %#lx", write ? "write" : "read", size * 8, a);
	if (!try_access(a, size, write, v) && beyond_user(a, size))
		oracle_fail("%s of %u bytes at %#lx did not fault", write ? "write" : "read", size, a);
}

/* A jump: to a hostile address it must fault; into a region, only to a
 * byte that reads back as RET (0xc3), so that nothing else runs. */
static bool try_jump(uintptr_t a, bool hostile)
{
	volatile uintptr_t va = a;
	volatile bool faulted = true;

	in_wild = 1;
	if (sigsetjmp(wild_jb, 1) == 0) {
		if (!hostile) {
			*(volatile uint8_t *)va = 0xc3;
			if (*(volatile uint8_t *)va != 0xc3)
				siglongjmp(wild_jb, 1);
		}
		((void (*)(void))va)();
		faulted = false;
	}
	in_wild = 0;
	return faulted;
}

static void wild_jump(void)
{
	uintptr_t a = one_in(2) ? addr_region() : addr_hostile();
	bool hostile = beyond_user(a, 1);

	if (verbose)
		flog("jump %#lx", a);
	if (!try_jump(a, hostile) && hostile)
		oracle_fail("a jump to %#lx did not fault", a);
}

/* ---- Memory system calls ---- */

static int pick_prot(void)
{
	if (one_in(10))
		return (int)rnd();
	return (int)below(8) | (one_in(10) ? 0x8 : 0) | (one_in(20) ? 0x01000000 : 0) |
	       (one_in(20) ? 0x02000000 : 0);
}

static long pick_offset(const struct fdent *fe)
{
	static const long dev[] = {
		0, 0xa0000, 0xb8000, 0xc0000, 0xf0000, 0x100000, 0x7ffdf000, 0xb0000000,
		0xc0000000, 0xfd000000, 0xfebf0000, 0xfec00000, 0xfed00000, 0xfee00000,
		0x100000000, 0x180000000, 0x280000000, 1L << 40, 0xe000000000, 1L << 46,
		(1L << 52) - (long)PAGE,
	};
	static const long hostile[] = { 1, PAGE - 1, -(long)PAGE, (long)(1UL << 63),
					0x7ffffffffffff000, 1L << 47 };

	if (one_in(5))
		return PICK(hostile);
	if (fe && fe->kind == F_MEM)
		return PICK(dev) + (one_in(3) ? (long)(PAGE * below(16)) : 0);
	if (one_in(2))
		return 0;
	return (long)(PAGE * below(1UL << (5 * below(4))));
}

static int pick_map_flags(void)
{
	static const int extra[] = { MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_DENYWRITE,
				     MAP_EXECUTABLE, MAP_LOCKED, MAP_NORESERVE, MAP_POPULATE,
				     MAP_NONBLOCK, MAP_STACK, MAP_HUGETLB, 0x80000 /* SYNC */,
				     MAP_UNINITIALIZED, 0x40 /* 32BIT */ };
	int flags = one_in(8) ? (int)below(16) : one_in(2) ? MAP_PRIVATE : MAP_SHARED;

	if (one_in(10))
		flags = MAP_SHARED_VALIDATE;
	for (unsigned int i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (one_in(12))
			flags |= extra[i];
	if (one_in(50))
		flags |= (int)rnd();
	if (one_in(2))
		flags |= MAP_ANONYMOUS;
	return flags;
}

static bool is_shared_type(int flags)
{
	return (flags & 0xf) == MAP_SHARED || (flags & 0xf) == MAP_SHARED_VALIDATE;
}

/* What a successful mmap must look like. */
static void check_mmap_result(long ret, uintptr_t addr, size_t len, int prot, int flags,
			      const struct fdent *fe)
{
	size_t alen = (len + PAGE - 1) & ~(PAGE - 1);

	/* Below mmap_min_addr is allowed to root on Linux (CAP_SYS_RAWIO). */
	if ((ret & (PAGE - 1)) || (uintptr_t)ret + alen > user_end ||
	    (uintptr_t)ret + alen < (uintptr_t)ret)
		oracle_fail("mmap returned %#lx for %zu bytes", ret, len);
	if ((flags & MAP_FIXED) && (uintptr_t)ret != addr)
		oracle_fail("mmap MAP_FIXED at %#lx returned %#lx", addr, ret);
	if (fe && !fe->rw && !(flags & MAP_ANONYMOUS) && is_shared_type(flags) &&
	    (prot & PROT_WRITE))
		oracle_fail("writable shared mmap of fd %d, opened read-only, succeeded", fe->fd);
}

static void gen_mmap(void)
{
	size_t len = pick_len();
	int flags = pick_map_flags(), prot = pick_prot(), fd = -1;
	uintptr_t addr = below(4) == 0 ? 0 : below(2) ? pick_addr() : addr_arena();
	const struct fdent *fe = NULL;
	long off = 0, ret;

	if (!(flags & MAP_ANONYMOUS) || one_in(10)) {
		fd = pick_fd();
		fe = fd_entry(fd);
		off = pick_offset(fe);
	}
	if ((flags & MAP_FIXED) && !safe_range(&addr, len))
		flags &= ~MAP_FIXED;
	/* Memory that is populated at once stays small, but for a rare try. */
	if (((flags & MAP_POPULATE) || (is_shared_type(flags) && (flags & MAP_ANONYMOUS))) &&
	    len > (64UL << 20) && !one_in(500))
		len = PAGE * (1 + below(16384));
	ret = CALL(mmap, addr, len, prot, flags, fd, off);
	if (is_err(ret))
		return;
	check_mmap_result(ret, addr, len, prot, flags, fe);
	region_add(ret, (len + PAGE - 1) & ~(PAGE - 1),
		   fe && !(flags & MAP_ANONYMOUS) ? R_FILE : is_shared_type(flags) ? R_SHARED : R_ANON);
}

static void gen_munmap(void)
{
	uintptr_t a = pick_addr();
	size_t len = pick_len();
	long ret;

	if (!safe_range(&a, len))
		return;
	ret = CALL(munmap, a, len, 0, 0, 0, 0);
	if (!is_err(ret) && a >= user_end)
		oracle_fail("munmap(%#lx, %#zx) of kernel memory succeeded", a, len);
	if (!is_err(ret))
		region_forget(a, (len + PAGE - 1) & ~(PAGE - 1));
}

static void gen_mprotect(void)
{
	uintptr_t a = pick_addr();
	size_t len = pick_len();
	long ret;

	if (!safe_range(&a, len))
		return;
	ret = CALL(mprotect, a, len, pick_prot(), 0, 0, 0);
	if (!is_err(ret) && a >= user_end && len)
		oracle_fail("mprotect(%#lx, %#zx) of kernel memory succeeded", a, len);
}

static void gen_mremap(void)
{
	uintptr_t old = pick_addr(), new_addr = below(2) ? addr_arena() : pick_addr();
	size_t old_len = one_in(8) ? 0 : pick_len(), new_len = pick_len();
	long flags = (long)below(8) | (one_in(20) ? (long)rnd() : 0), ret;

	if (!safe_range(&old, old_len) || ((flags & 2) && !safe_range(&new_addr, new_len)))
		return;
	/* Known defect: with a kernel-half address, Pagoda's mremap unmaps at
	 * old + new_len, wrapped around: possibly the fuzzer's own text. */
	sh->known_risk = old >= user_end;
	ret = CALL(mremap, old, old_len, new_len, flags, new_addr, 0);
	sh->known_risk = 0;
	if (is_err(ret))
		return;
	if ((ret & (PAGE - 1)) || (uintptr_t)ret >= user_end || old >= user_end)
		oracle_fail("mremap(%#lx, %#zx, %#zx, %#lx, %#lx) = %#lx", old, old_len, new_len, flags,
			    new_addr, ret);
	if ((uintptr_t)ret != old && !(flags & MREMAP_DONTUNMAP))
		region_forget(old, old_len);
	region_add(ret, (new_len + PAGE - 1) & ~(PAGE - 1), R_ANON);
}

static void gen_madvise(void)
{
	static const int advice[] = { 0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
				      19, 20, 21, 22, 23, 24, 25, -1, 1000 };
	uintptr_t a = pick_addr();
	size_t len = pick_len();
	int adv = PICK(advice);

	if (!safe_range(&a, len))
		return;
	CALL(madvise, a, len, adv, 0, 0, 0); /* 100, 101 (poison, offline) never */
}

static void gen_brk(void)
{
	uintptr_t cur = (uintptr_t)sys6(SYS_brk, 0, 0, 0, 0, 0, 0);
	uintptr_t to;

	switch (below(5)) {
	case 0: to = cur + PAGE * below(64); break;
	case 1: to = cur - PAGE * below(64); break;
	case 2: to = cur + (1UL << (20 + below(12))); break;
	case 3: to = addr_hostile(); break;
	default: to = cur + below(3 * PAGE); break;
	}
	if (!self_harm && overlaps_own(to < cur ? to : cur, to < cur ? cur - to : to - cur) &&
	    to < cur)
		return; /* shrinking into the image's own data */
	CALL(brk, to, 0, 0, 0, 0, 0);
}

/* ---- Buffers handed to the kernel ---- */

static char iobuf[65536]; /* the fuzzer's own buffer: lengths into it are bounded */

/* Where system calls with lengths the fuzzer does not bound may write:
 * 64 KiB past the end of the arena, between two PROT_NONE guard pages,
 * so that a write running past it faults instead of reaching the
 * fuzzer's own data. */
#define SCRATCH (ARENA + ARENA_SIZE + PAGE)
#define SCRATCH_SIZE (64 * 1024UL)

static void map_scratch(void)
{
	sys6(SYS_mmap, SCRATCH - PAGE, SCRATCH_SIZE + 2 * PAGE, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	sys6(SYS_mprotect, SCRATCH, SCRATCH_SIZE, PROT_READ | PROT_WRITE, 0, 0, 0);
}

struct buf {
	uintptr_t p;
	size_t len;
	bool kernel; /* starts beyond user space: the kernel must refuse it */
};

static struct buf pick_buf(void)
{
	struct region *r = any_region();
	struct buf b = { (uintptr_t)iobuf, 1 + below(sizeof(iobuf)), false };
	size_t k;

	switch (below(10)) {
	case 0 ... 3:
		if (r) {
			k = below(r->len);
			b = (struct buf){ r->start + k, 1 + below(r->len - k < (1 << 20) ? r->len - k :
									  (1 << 20)), false };
		}
		break;
	case 4: /* ends inside whatever follows the region: often nothing */
		if (r) {
			k = 1 + below(PAGE);
			b = (struct buf){ r->start + r->len - k, k + 1 + below(2 * PAGE), false };
		}
		break;
	case 5: break;
	case 6: case 7:
		b.p = addr_hostile();
		b.len = one_in(4) ? len_hostile() : 1 + below(2 * PAGE);
		break;
	case 8: b = (struct buf){ 0, 1 + below(PAGE), false }; break;
	default: if (r) b = (struct buf){ r->start, len_hostile(), false }; break;
	}
	b.kernel = b.p >= user_end;
	return b;
}

/* Kinds whose write() must read the caller's buffer (so a kernel-half
 * buffer must fail); /dev/null, for one, never looks at it. */
static bool write_reads_buffer(const struct fdent *fe)
{
	return fe && (fe->kind == F_TMP || fe->kind == F_PIPE_W || fe->kind == F_FB ||
		      fe->kind == F_PCI_RES_RW);
}

static void check_io(const char *what, long ret, const struct buf *b, bool reads_user,
		     const struct fdent *fe)
{
	if (!b->kernel || is_err(ret) || ret == 0 || b->len == 0)
		return;
	if (!reads_user || write_reads_buffer(fe))
		oracle_fail("%s with buffer %#lx (fd %d) returned %ld", what, b->p, fe ? fe->fd : -1,
			    ret);
}

static long pick_pos(void)
{
	static const long hostile[] = { -1, -(long)PAGE, 1L << 40, 1L << 62, 0x7fffffffffffffff };

	return one_in(5) ? PICK(hostile) : (long)below(one_in(2) ? 4 * PAGE : 1UL << 24);
}

/* The vector lives in a static array longer than any count the kernel
 * accepts (IOV_MAX 1024), zeroed past the n entries in use: an entry the
 * kernel reads beyond them is empty, never a stale pointer into the
 * fuzzer's own memory. */
static struct iovec iov[1100];

static void gen_iov(bool write, int fd, const struct fdent *fe)
{
	static const long counts[] = { 0, -1, 1024, 1025, 1L << 31, 1L << 32 };
	int n = 1 + (int)below(8);
	long cnt = one_in(10) ? PICK(counts) : n + (long)below(2), ret;
	uintptr_t vec = one_in(10) ? addr_hostile() : (uintptr_t)iov;
	struct buf b = pick_buf();

	memset(iov, 0, sizeof(iov));
	iov[0] = (struct iovec){ (void *)b.p, b.len };
	for (int i = 1; i < n; i++) {
		struct buf bi = pick_buf();
		iov[i] = (struct iovec){ (void *)bi.p, bi.len };
	}
	ret = write ? CALL(writev, fd, vec, cnt, 0, 0, 0) : CALL(readv, fd, vec, cnt, 0, 0, 0);
	if (n == 1 && cnt == 1 && vec == (uintptr_t)iov)
		check_io(write ? "writev" : "readv", ret, &b, write, fe);
}

static void gen_io(void)
{
	int fd = pick_fd();
	const struct fdent *fe = fd_entry(fd);
	struct buf b = pick_buf();
	long ret;

	switch (below(8)) {
	case 0: ret = CALL(read, fd, b.p, b.len, 0, 0, 0); check_io("read", ret, &b, false, fe); break;
	case 1: ret = CALL(write, fd, b.p, b.len, 0, 0, 0); check_io("write", ret, &b, true, fe); break;
	case 2:
		ret = CALL(pread64, fd, b.p, b.len, pick_pos(), 0, 0);
		check_io("pread64", ret, &b, false, fe);
		break;
	case 3:
		ret = CALL(pwrite64, fd, b.p, b.len, pick_pos(), 0, 0);
		check_io("pwrite64", ret, &b, true, fe);
		break;
	case 4: gen_iov(false, fd, fe); break;
	case 5: gen_iov(true, fd, fe); break;
	default: CALL(lseek, fd, pick_pos(), one_in(8) ? (long)rnd() : (long)below(5), 0, 0, 0); break;
	}
}

/* /dev/mem through the window the harness gave (RAM kept from the
 * kernel by memmap=): the only writable /dev/mem. */
static void gen_devmem_rw(void)
{
	uintptr_t pages = (devmem_rw.end - devmem_rw.start) / PAGE, first, n, a;
	struct buf b = { (uintptr_t)iobuf, 0, false };
	long off, ret;

	if (!have_devmem_rw || !pages)
		return;
	first = below(pages);
	n = 1 + below(pages - first < 64 ? pages - first : 64);
	off = (long)(devmem_rw.start + first * PAGE);
	b.len = 1 + below(n * PAGE < sizeof(iobuf) ? n * PAGE : sizeof(iobuf));
	switch (below(3)) {
	case 0:
		a = one_in(2) ? 0 : addr_arena();
		ret = CALL(mmap, a, n * PAGE, pick_prot() & 7, (one_in(2) ? MAP_SHARED : MAP_PRIVATE) |
			   (a ? MAP_FIXED : 0), DEVMEM_RW_FD, off);
		if (!is_err(ret))
			region_add(ret, n * PAGE, R_FILE);
		break;
	case 1: CALL(pread64, DEVMEM_RW_FD, b.p, b.len, off, 0, 0); break;
	default: CALL(pwrite64, DEVMEM_RW_FD, b.p, b.len, off, 0, 0); break;
	}
}

/* ---- System calls that take pointers ---- */

/* The kernel must not report success writing to a kernel-half buffer. */
static void expect_efault(const char *what, long ret, uintptr_t p)
{
	if (p >= user_end && !is_err(ret))
		oracle_fail("%s with buffer %#lx returned %ld", what, p, ret);
}

/* Where a call may write results of any length: a region, the scratch
 * area, a hostile address or NULL; never the fuzzer's own memory. */
static uintptr_t out_ptr(void)
{
	switch (below(4)) {
	case 0: return addr_hostile();
	case 1: return addr_region();
	case 2: return 0;
	default: return SCRATCH + below(SCRATCH_SIZE / 2);
	}
}

static void close_pipe_fds(uintptr_t p)
{
	int fd[2];

	if (try_access(p, 8, false, 0))
		return;
	memcpy(fd, (void *)p, sizeof(fd));
	for (int i = 0; i < 2; i++)
		if (fd[i] > 2 && fd[i] != DEVMEM_RW_FD && !fd_entry(fd[i]))
			sys6(SYS_close, fd[i], 0, 0, 0, 0, 0);
}

static void gen_ptr_a(uintptr_t p)
{
	long ret;

	switch (below(8)) {
	case 0: ret = CALL(uname, p, 0, 0, 0, 0, 0); expect_efault("uname", ret, p); break;
	case 1:
		ret = CALL(clock_gettime, one_in(4) ? (long)rnd() : (long)below(12), p, 0, 0, 0, 0);
		expect_efault("clock_gettime", ret, p);
		break;
	case 2: ret = CALL(fstat, pick_fd(), p, 0, 0, 0, 0); expect_efault("fstat", ret, p); break;
	case 3: ret = CALL(getcwd, p, pick_len(), 0, 0, 0, 0); expect_efault("getcwd", ret, p); break;
	case 4:
		ret = CALL(readlink, (long)"/proc/self/exe", p, pick_len(), 0, 0, 0);
		expect_efault("readlink", ret, p);
		break;
	case 5:
		ret = CALL(getrandom, p, one_in(4) ? len_hostile() : below(4096), below(8), 0, 0, 0);
		if (p >= user_end && ret > 0)
			oracle_fail("getrandom into %#lx returned %ld", p, ret);
		break;
	case 6:
		ret = CALL(pipe2, p, one_in(4) ? (long)rnd() : O_NONBLOCK, 0, 0, 0, 0);
		expect_efault("pipe2", ret, p);
		if (!is_err(ret))
			close_pipe_fds(p);
		break;
	default:
		ret = CALL(getdents64, pick_fd(), p, pick_len(), 0, 0, 0);
		if (p >= user_end && ret > 0)
			oracle_fail("getdents64 into %#lx returned %ld", p, ret);
		break;
	}
}

static void gen_ptr_b(uintptr_t p)
{
	static const long ioctls[] = { 0x4600, 0x4601, 0x4602, 0x4604, 0x4605, 0x4606, 0x4611,
				       0x5401, 0x5413, 0x541b, 0x5421 };
	uint64_t mask = rnd() & ~((1ULL << (SIGSEGV - 1)) | (1ULL << (SIGBUS - 1)));
	static const long sigs[] = { SIGUSR1, SIGUSR2, 40, 64, 0, 65, SIGKILL, SIGSTOP };
	long ret;

	switch (below(8)) {
	case 0: {
		static const int one = 1;
		long cmd = one_in(5) ? (long)rnd() : PICK(ioctls);
		/* FIONBIO with a zero would make the fuzzer's own pipe blocking */
		if ((cmd & 0xffffffff) == 0x5421)
			p = one_in(2) ? (uintptr_t)&one : addr_hostile();
		CALL(ioctl, pick_fd(), cmd, p, 0, 0, 0);
		break;
	}
	case 1: /* never blocks SIGSEGV or SIGBUS: the wild accesses need them */
		CALL(rt_sigprocmask, below(4), one_in(2) ? (long)&mask : (long)addr_hostile(), p,
		     one_in(8) ? (long)rnd() : 8, 0, 0);
		break;
	case 2: /* only signals nobody sends the child */
		CALL(rt_sigaction, PICK(sigs), one_in(2) ? (long)addr_hostile() : 0, p,
		     one_in(8) ? (long)rnd() : 8, 0, 0);
		break;
	case 3: CALL(sigaltstack, one_in(2) ? (long)addr_hostile() : 0, p, 0, 0, 0, 0); break;
	case 4: CALL(wait4, -1, p, 1 /* WNOHANG */ | (long)(rnd() & 0x61000000), p, 0, 0); break;
	case 5:
		ret = CALL(prlimit64, 0, one_in(4) ? (long)rnd() : (long)below(16), 0, p, 0, 0);
		expect_efault("prlimit64", ret, p);
		break;
	case 6: ret = CALL(sysinfo, p, 0, 0, 0, 0, 0); expect_efault("sysinfo", ret, p); break;
	default: /* never a path that exists: a region may hold "/bin/fuzz" */
		ret = CALL(execve, one_in(2) ? (long)addr_hostile() : (long)"/nonexistent/fuzz",
			   (long)out_ptr(), (long)out_ptr(), 0, 0, 0);
		if (!is_err(ret))
			oracle_fail("execve of a missing path returned %ld", ret);
		break;
	}
}

static void gen_ptr_call(void)
{
	uintptr_t p = out_ptr();

	if (one_in(2))
		gen_ptr_a(p);
	else
		gen_ptr_b(p);
}

/* ---- Descriptor operations: new descriptors land in [200, 220) ---- */

#define SCRATCH_FD 200
#define NR_SCRATCH 20

static void gen_fd_op(void)
{
	int fd = pick_fd(), scratch = SCRATCH_FD + (int)below(NR_SCRATCH);
	long ret;

	switch (below(5)) {
	case 0:
		ret = CALL(dup, fd, 0, 0, 0, 0, 0);
		if (!is_err(ret) && ret > 2 && !fd_entry(ret) && ret != DEVMEM_RW_FD)
			sys6(SYS_close, ret, 0, 0, 0, 0, 0);
		break;
	case 1: CALL(dup3, fd, one_in(8) ? (long)PICK(((int[]){ -1, 256, 1 << 20 })) : scratch,
		     one_in(4) ? (long)rnd() : O_CLOEXEC, 0, 0, 0); break;
	case 2: CALL(close, one_in(2) ? scratch : (long)PICK(((int[]){ -1, 256, 221, 1 << 20 })),
		     0, 0, 0, 0, 0); break;
	case 3: /* O_NONBLOCK stays: the fuzzer is its pipe's only reader and
		 * writer (also through a dup in the scratch range), so a
		 * blocking read or write would wait forever */
		CALL(fcntl, fd, PICK(((int[]){ F_GETFD, F_SETFD, F_GETFL, F_SETFL })),
		     (long)rnd() | O_NONBLOCK, 0, 0, 0);
		break;
	default:
		ret = CALL(fcntl, fd, F_DUPFD, SCRATCH_FD + NR_SCRATCH, 0, 0, 0);
		if (!is_err(ret) && ret != DEVMEM_RW_FD && !fd_entry(ret))
			sys6(SYS_close, ret, 0, 0, 0, 0, 0);
		break;
	}
}

/* ---- Any system call number, with any arguments ---- */

/* Implemented on both kernels, and unable to block, kill, exec, or change
 * the fuzzer's mappings or signal handling behind its back. */
static const long safe_nrs[] = {
	SYS_read, SYS_write, SYS_stat, SYS_fstat, SYS_lstat, SYS_lseek, SYS_ioctl, SYS_pread64,
	SYS_pwrite64, SYS_readv, SYS_writev, SYS_access, SYS_sched_yield, SYS_getpid, SYS_uname,
	SYS_getcwd, SYS_readlink, SYS_umask, SYS_getuid, SYS_getgid, SYS_geteuid, SYS_getegid,
	SYS_getppid, SYS_getpgrp, SYS_sigaltstack, SYS_sync, SYS_gettid, SYS_time, SYS_getdents64,
	SYS_clock_gettime, SYS_clock_getres, SYS_newfstatat, SYS_readlinkat, SYS_faccessat,
	SYS_getrandom, SYS_sysinfo, SYS_sched_getaffinity, SYS_getpgid, SYS_getsid,
};
/* Numbers no kernel implements (the x32 bit, beyond the table, negative). */
static const long bad_nrs[] = { -1, 335, 450, 511, 512, 1000, 0x40000027, 1L << 40,
				(long)0x8000000000000000UL };

static long any_arg(void)
{
	switch (below(6)) {
	case 0: return (long)pick_addr();
	case 1: return (long)pick_len();
	case 2: return pick_fd();
	case 3: return (long)(SCRATCH + below(SCRATCH_SIZE / 2));
	case 4: return (long)below(300);
	default: return (long)rnd();
	}
}

static void gen_any_syscall(void)
{
	long nr = one_in(4) ? PICK(bad_nrs) : PICK(safe_nrs), a[6];

	for (int i = 0; i < 6; i++) {
		a[i] = any_arg();
		if (a[i] == DEVMEM_RW_FD || a[i] == CONSOLE_FD)
			a[i] = 252; /* nor is either reached by chance */
	}
	if (verbose)
		flog("syscall number %ld:", nr);
	call("syscall", nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Memory system calls Pagoda does not implement yet: on Linux they run. */
static void gen_other_mm(void)
{
	uintptr_t a = pick_addr();
	size_t len = pick_len();

	if (!safe_range(&a, len))
		return;
	switch (below(4)) {
	case 0: call("mincore", SYS_mincore, a, len, (long)out_ptr(), 0, 0, 0); break;
	case 1: call("msync", SYS_msync, a, len, (long)below(8), 0, 0, 0); break;
	case 2: call("mlock", SYS_mlock, a, len < (16UL << 20) ? len : PAGE, 0, 0, 0, 0); break;
	default: call("munlock", SYS_munlock, a, len, 0, 0, 0, 0); break;
	}
}

/* ---- Racing threads: the memory calls and faults of one range, at once ---- */

#define RACE (ARENA + ARENA_SIZE + (16UL << 20)) /* 2 MiB that no other call aims at */
#define RACE_PAGES 512
#define RACER_STACK (128 * 1024UL)

static unsigned int nr_threads = 1; /* --threads: the main one and T - 1 racers */
static volatile int racers_stop;
static int race_fd = -1; /* a memfd as large as the range, mapped and truncated at once */

/* A page-aligned part of the race range: [*a, *a + *len). */
static void race_pick(uintptr_t *a, size_t *len)
{
	uint64_t first = below(RACE_PAGES), n = 1 + below(one_in(8) ? RACE_PAGES : 16);

	if (first + n > RACE_PAGES)
		n = RACE_PAGES - first;
	*a = RACE + first * PAGE;
	*len = n * PAGE;
}

static const int race_prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE };

/* A forked child of a racer touches the range (its own copy) and exits. */
static void race_fork(uintptr_t a, size_t len)
{
	long pid = sys6(SYS_fork, 0, 0, 0, 0, 0, 0);
	int status;

	if (pid == 0) {
		for (size_t off = 0; off < len; off += PAGE)
			try_access(a + off, 8, one_in(2), off);
		sys6(SYS_exit, 0, 0, 0, 0, 0, 0);
	}
	if (!is_err(pid))
		while (sys6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0) == -EINTR)
			;
}

/* One racing call. The only oracle here is MAP_FIXED's address; what
 * matters is the kernel surviving and every frame coming back. */
static void race_call(void)
{
	uintptr_t a, b;
	size_t len, blen;
	long ret;

	race_pick(&a, &len);
	switch (below(12)) {
	case 0:
		ret = sys6(SYS_mmap, a, len, PICK(race_prots), MAP_FIXED | MAP_ANONYMOUS |
			   (one_in(4) ? MAP_SHARED : MAP_PRIVATE), -1, 0);
		if (!is_err(ret) && (uintptr_t)ret != a) {
			__atomic_add_fetch(&sh->oracle, 1, __ATOMIC_RELAXED);
			flog("race: mmap(MAP_FIXED %#lx) returned %#lx", (long)a, ret);
		}
		break;
	case 1: sys6(SYS_munmap, a, len, 0, 0, 0, 0); break;
	case 2: sys6(SYS_mprotect, a, len, PICK(race_prots), 0, 0, 0); break;
	case 3:
		race_pick(&b, &blen);
		sys6(SYS_mremap, a, len, blen, one_in(2) ? MREMAP_MAYMOVE | MREMAP_FIXED : 0, b, 0);
		break;
	case 4: sys6(SYS_madvise, a, len, one_in(2) ? MADV_DONTNEED : MADV_WILLNEED, 0, 0, 0); break;
	case 7: /* the file: mapped shared or private at its own offset */
		if (race_fd < 0)
			break;
		ret = sys6(SYS_mmap, a, len, PICK(race_prots), MAP_FIXED |
			   (one_in(2) ? MAP_SHARED : MAP_PRIVATE), race_fd, (long)(a - RACE));
		if (!is_err(ret) && (uintptr_t)ret != a) {
			__atomic_add_fetch(&sh->oracle, 1, __ATOMIC_RELAXED);
			flog("race: mmap(MAP_FIXED %#lx, file) returned %#lx", (long)a, ret);
		}
		break;
	case 8: /* truncation unmaps the file's pages from every mapping */
		if (race_fd >= 0 && one_in(4))
			sys6(SYS_ftruncate, race_fd, (long)(below(RACE_PAGES + 1) * PAGE), 0, 0, 0, 0);
		break;
	case 5:
		if (one_in(8))
			race_fork(a, len < 8 * PAGE ? len : 8 * PAGE);
		break;
	default:
		for (size_t off = 0; off < len; off += PAGE)
			try_access(a + off, 8, one_in(2), rnd());
		break;
	}
}

static void *racer(void *arg)
{
	rng_seed(seed ^ 0x7ace, (uintptr_t)arg); /* the child's stream number and the thread's */
	while (!__atomic_load_n(&racers_stop, __ATOMIC_RELAXED))
		race_call();
	return NULL;
}

/* Start the racers of child c; returns how many run. Their stacks sit
 * above the race range and count as the fuzzer's own memory, which
 * destructive calls leave alone (but for self-harm). */
static unsigned int racers_start(pthread_t *ids, uint64_t c)
{
	uintptr_t stacks = RACE + RACE_PAGES * PAGE + (2UL << 20);
	size_t size = RACER_STACK * (nr_threads - 1);
	pthread_attr_t attr;
	unsigned int n = 0;

	racers_stop = 0;
	race_fd = (int)sys6(SYS_memfd_create, (long)"race", MFD_CLOEXEC, 0, 0, 0, 0);
	if (race_fd >= 0)
		sys6(SYS_ftruncate, race_fd, RACE_PAGES * PAGE, 0, 0, 0, 0);
	if (nr_threads < 2 || nr_own == MAX_OWN ||
	    sys6(SYS_mmap, stacks, size, PROT_READ | PROT_WRITE,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != (long)stacks)
		return 0;
	own[nr_own++] = (struct range){ stacks, stacks + size };
	for (unsigned int i = 1; i < nr_threads; i++) {
		pthread_attr_init(&attr);
		pthread_attr_setstack(&attr, (void *)(stacks + (i - 1) * RACER_STACK), RACER_STACK);
		if (pthread_create(&ids[n], &attr, racer, (void *)(uintptr_t)(c * 64 + i)) == 0)
			n++;
		pthread_attr_destroy(&attr);
	}
	return n;
}

static void racers_join(pthread_t *ids, unsigned int n)
{
	__atomic_store_n(&racers_stop, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(ids[i], NULL);
}

/* ---- fork: a grandchild writes to copy-on-write memory and exits ---- */

static void one_call(bool in_grandchild);

static void gen_fork(void)
{
	long pid = CALL(fork, 0, 0, 0, 0, 0, 0);
	int status = 0;

	if (is_err(pid))
		return;
	if (pid == 0) {
		rng_seed(rnd(), call_no);
		for (int i = 0; i < 8; i++)
			one_call(true);
		_exit(sh->oracle ? EXIT_ORACLE : EXIT_DONE);
	}
	while (sys6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0) == -EINTR)
		;
	if (WIFSIGNALED(status) && !sh->self_harm)
		flog("the forked grandchild died of signal %d", WTERMSIG(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_STRAY_FAULT)
		flog("the forked grandchild took a stray fault");
}

/* ---- One call: choose by weight ---- */

struct gen {
	void (*fn)(void);
	unsigned int weight;
	bool in_grandchild; /* allowed in a forked grandchild */
};

static const struct gen gens[] = {
	{ wild_access, 250, true }, { gen_mmap, 120, true },	  { gen_munmap, 80, true },
	{ gen_mprotect, 80, true }, { gen_mremap, 80, true },	  { gen_madvise, 50, true },
	{ gen_brk, 20, false },	    { gen_io, 120, true },	  { gen_ptr_call, 100, false },
	{ gen_fd_op, 40, false },   { gen_fork, 10, false },	  { gen_devmem_rw, 20, true },
	{ gen_any_syscall, 15, false }, { gen_other_mm, 10, true }, { wild_jump, 5, true },
};

static void one_call(bool in_grandchild)
{
	unsigned int total = 0, pick;

	for (unsigned int i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
		total += gens[i].weight;
	self_harm = one_in(SELF_HARM_ODDS);
	if (self_harm) {
		sh->self_harm++;
		flog("self-harm: this call may aim at the fuzzer's own memory");
	}
	pick = (unsigned int)below(total);
	for (unsigned int i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		if (pick < gens[i].weight) {
			if (!in_grandchild || gens[i].in_grandchild)
				gens[i].fn();
			return;
		}
		pick -= gens[i].weight;
	}
}

static void close_parent_fds(void);

/* Calls [first, first + count) of the run, stopping after call stop. */
static int child_main(uint64_t child, uint64_t first, uint64_t count, uint64_t stop)
{
	close_parent_fds(); /* the console above all: a random write must not reach it */
	rng_seed(seed, child);
	install_handlers();
	map_scratch();
	open_fds();
	pthread_t ids[64];
	unsigned int racing = racers_start(ids, child);
	for (call_no = first; call_no < first + count && call_no <= stop; call_no++) {
		one_call(false);
		sh->done = call_no - first + 1;
	}
	racers_join(ids, racing);
	return sh->oracle ? EXIT_ORACLE : EXIT_DONE;
}

/* ---- The parent: run the children, hold the kernel to its frame count ---- */

/* Where the parent's lines go while children run: the console, not its
 * stdout. Its stdout is init's pipe, and a line there wakes init, which
 * then holds a bounce buffer in read() or write() while the frames are
 * counted. Kept quiet, init stays asleep in read() for the whole run. The
 * KTAP lines (plan, results) still go to stdout, before and after. */
static int diag_fd = 1;
static int frames_fd = -1; /* /proc/pagoda/free_frames, kept open */

/* In a child: close what only the parent uses (fork keeps O_CLOEXEC
 * descriptors: there is no exec). */
static void close_parent_fds(void)
{
	if (diag_fd > 2)
		close(diag_fd);
	if (frames_fd >= 0)
		close(frames_fd);
	diag_fd = 1;
	frames_fd = -1;
}

static void __attribute__((format(printf, 1, 2))) dprint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktap_vdprint(diag_fd, fmt, ap);
	va_end(ap);
}

struct run {
	uint64_t calls, per_child, check_every, replay_call;
	double max_seconds; /* --max-seconds: start no child after this long (0: no limit) */
	bool replay;
	/* what happened */
	uint64_t children, done, frame_diffs, oracles, stray, signalled, invariant_fails, hangs;
	bool have_frames, have_invariants;
};

/* The exact free-frame count, or -1 where the kernel has no such file.
 * The file stays open and is reread at offset 0 with a page-sized buffer:
 * the measurement itself then takes nothing from the slab caches. */
static long long free_frames(void)
{
	static char buf[PAGE];
	long n;

	if (frames_fd < 0 && (frames_fd = open(FREE_FRAMES, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = pread(frames_fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return -1;
	buf[n < (long)sizeof(buf) ? n : (long)sizeof(buf) - 1] = 0;
	return strtoll(buf, NULL, 10);
}

/* The count once the machine is quiet: read until two reads 10 ms apart
 * agree. What moves meanwhile is another process in the middle of a
 * system call: init, woken by the lines the parent just printed, holds a
 * bounce buffer while it waits in read() on its pipe and frees it while
 * it writes them out. A frame the child really lost stays lost. */
static long long settled_free_frames(void)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	long long prev = free_frames(), now = prev;

	for (int i = 0; i < 20; i++) {
		nanosleep(&pause, NULL);
		now = free_frames();
		if (now == prev)
			break;
		prev = now;
	}
	return now;
}

static char inv_text[65536];
static char meminfo_base[4096], meminfo_now[4096];
static char census_base[256], census_now[256];

/* /proc/meminfo's Slab and KernelStack lines, to say where a difference in
 * the frame count sits. */
static void read_meminfo(char *out, size_t size)
{
	char buf[4096], *p;
	int fd = open("/proc/meminfo", O_RDONLY), n;
	size_t len = 0;

	out[0] = 0;
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"))
		if (!strncmp(p, "Slab:", 5) || !strncmp(p, "KernelStack:", 12) ||
		    !strncmp(p, "MemFree:", 8))
			len += snprintf(out + len, size - len, "%s; ", p);
}

/* Read /proc/pagoda/invariants; print the lines of failed rules. Returns
 * the number of failed rules, or -1 without the file. */
static int check_invariants(uint64_t at)
{
	int fd = open(INVARIANTS, O_RDONLY), n = 0, got, fails = 0;
	char *line, *nl;

	if (fd < 0)
		return -1;
	while (n < (int)sizeof(inv_text) - 1 && (got = read(fd, inv_text + n,
							    sizeof(inv_text) - 1 - n)) > 0)
		n += got;
	close(fd);
	inv_text[n] = 0;
	for (line = inv_text; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = 0;
		if (strncmp(line, "    # census: ", 14) == 0)
			snprintf(census_now, sizeof(census_now), "%s", line + 14);
		if (strncmp(line, "    not ok ", 11) == 0)
			fails++;
		if (strncmp(line, "    not ok ", 11) == 0 ||
		    (strncmp(line, "    # ", 6) == 0 && strncmp(line, "    # census", 12) != 0 &&
		     strncmp(line, "    # resident", 14) != 0) || (verbose && strstr(line, "resident")))
			dprint("    # fuzz %llu:%llu invariants: %s\n", (unsigned long long)seed,
				   (unsigned long long)at, line + 4);
	}
	return fails;
}

static void print_child_log(void)
{
	uint32_t len = sh->log_len < LOG_SIZE ? sh->log_len : LOG_SIZE;

	if (len)
		for (int off = 0; off < (int)len;) {
			ssize_t w = write(diag_fd, sh->log + off, len - off);
			if (w <= 0)
				break;
			off += w;
		}
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What a hung child's threads are doing, before it is killed: each
 * one's state and signals (/proc/PID/task/TID/status), and the kernel's
 * report of every task with the calls it sleeps in (sysrq 't', on the
 * console): a lost wakeup shows as a sleeper whose event came, a livelock
 * as threads that keep running. pid 0: only the kernel's report. */
static void report_hang(pid_t pid)
{
	static const char *const keys[] = { "State:", "SigPnd:", "ShdPnd:", "SigBlk:" };
	char path[320], buf[1024];
	struct dirent *e;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (pid > 0 && (d = opendir(path))) {
		while ((e = readdir(d))) {
			ssize_t n;
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, e->d_name);
			if ((fd = open(path, O_RDONLY)) < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			buf[n > 0 ? n : 0] = '\0';
			for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
				for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
					if (!strncmp(line, keys[k], strlen(keys[k])))
						dprint("    # fuzz hang: thread %s %s\n", e->d_name, line);
		}
		closedir(d);
	}
	if ((fd = open("/proc/sysrq-trigger", O_WRONLY)) >= 0) {
		if (write(fd, "t", 1) != 1)
			dprint("    # fuzz hang: sysrq-trigger refused the write\n");
		close(fd);
	}
}

/* Wait for the child, watching its progress: a child that finishes no
 * call for HANG_SECONDS is reported with the call it is in and what its
 * threads are doing, and killed. */
static int wait_child(struct run *r, pid_t pid)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	uint64_t last_done = 0;
	double since = seconds();
	int status = 0;
	pid_t w;

	while ((w = waitpid(pid, &status, WNOHANG)) != pid) {
		if (w < 0 && errno != EINTR)
			return -1;
		if (sh->done != last_done) {
			last_done = sh->done;
			since = seconds();
		} else if (seconds() - since > HANG_SECONDS) {
			dprint("    # fuzz %s: HANG: no progress for %d s; killing the child\n",
				   sh->last, HANG_SECONDS);
			report_hang(pid);
			r->hangs++;
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return status;
		}
		nanosleep(&tick, NULL);
	}
	return status;
}

/* The page shared with the children, between PROT_NONE guard pages: a
 * child's call that writes past one of its own mappings faults there
 * instead of running into the report. */
static bool map_shared(void)
{
	size_t len = (sizeof(*sh) + PAGE - 1) & ~(PAGE - 1);
	char *p = mmap(NULL, len + 2 * PAGE, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + PAGE, len, PROT_READ | PROT_WRITE) < 0)
		return false;
	sh = (struct shared *)(p + PAGE);
	return true;
}

/* Judge how a child ended; returns the wait status. */
/* The child's own children that outlived it (a grandchild a racer
 * forked while the child died) came to us, a child subreaper: wait for
 * them too, HANG_SECONDS at most, so that the frame count that follows
 * sees every descendant gone. (Left to init, they were reaped only after
 * the fuzzer, and each one counted as frames lost.) */
static void reap_orphans(struct run *r)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	double since = seconds();
	pid_t w;

	for (;;) {
		w = waitpid(-1, NULL, WNOHANG);
		if (w > 0 || (w < 0 && errno == EINTR))
			continue;
		if (w < 0)
			return; /* ECHILD: no descendant left */
		if (seconds() - since > HANG_SECONDS) {
			dprint("    # fuzz %s: HANG: a grandchild outlived the child by %d s\n",
			       sh->last, HANG_SECONDS);
			report_hang(0);
			r->hangs++;
			return;
		}
		nanosleep(&tick, NULL);
	}
}

static int run_one_child(struct run *r, uint64_t child, uint64_t first, uint64_t count,
			 uint64_t stop)
{
	int status = 0;
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(child_main(child, first, count, stop));
	status = wait_child(r, pid);
	reap_orphans(r);
	print_child_log();
	r->children++;
	r->done += sh->done;
	r->oracles += sh->oracle;
	if (WIFSIGNALED(status))
		r->signalled++;
	if (sh->known_risk && !WIFEXITED(status))
		dprint("    # fuzz %s: died in a call with a known defect (see known_defects)\n",
			   sh->last);
	else if ((WIFEXITED(status) && WEXITSTATUS(status) == EXIT_STRAY_FAULT) ||
		 (WIFSIGNALED(status) && !sh->self_harm && WTERMSIG(status) != SIGKILL))
		r->stray++;
	return status;
}

static void describe(char *buf, size_t size, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "status %#x", status);
}

/* One child, then the frame count and, every check_every, the invariants. */
static void step(struct run *r, uint64_t child, long long *base)
{
	uint64_t first = child * r->per_child, count = r->per_child, stop = UINT64_MAX;
	long long now;
	char how[32];
	int status;

	if (r->replay)
		stop = r->replay_call;
	else if (first + count > r->calls)
		count = r->calls - first;
	status = run_one_child(r, child, first, count, stop);
	describe(how, sizeof(how), status);
	now = r->have_frames ? settled_free_frames() : -1;
	dprint("    # fuzz %llu:%llu child %llu: %llu calls, %s, free frames %+lld\n",
		   (unsigned long long)seed, (unsigned long long)(first + sh->done),
		   (unsigned long long)child, (unsigned long long)sh->done, how,
		   r->have_frames ? now - *base : 0LL);
	if (r->have_frames && now != *base) {
		read_meminfo(meminfo_now, sizeof(meminfo_now));
		dprint("    # fuzz %llu:%llu before: %s\n", (unsigned long long)seed,
			   (unsigned long long)(first + sh->done), meminfo_base);
		dprint("    # fuzz %llu:%llu after:  %s\n", (unsigned long long)seed,
			   (unsigned long long)(first + sh->done), meminfo_now);
		if (r->have_invariants && check_invariants(first + sh->done) >= 0)
			dprint("    # fuzz %llu:%llu census before: %s; after: %s\n",
				   (unsigned long long)seed, (unsigned long long)(first + sh->done),
				   census_base, census_now);
		r->frame_diffs++;
		*base = now; /* report each difference once */
	}
	read_meminfo(meminfo_base, sizeof(meminfo_base));
	memcpy(census_base, census_now, sizeof(census_base));
	if (r->have_invariants && (r->replay || (child + 1) % r->check_every == 0) &&
	    check_invariants(first + sh->done) > 0)
		r->invariant_fails++;
}

/* Before the baseline: every page the parent will use is touched, and a
 * first child has opened everything once (first-use growth such as a
 * directory's entry array is not a leak). */
static void warm_up(struct run *r)
{
	pid_t pid;

	read_meminfo(meminfo_now, sizeof(meminfo_now));
	memset(sh, 0, sizeof(*sh));
	pid = fork();
	if (pid == 0) {
		close_parent_fds();
		open_fds();
		if (fork() == 0)
			_exit(0);
		wait(NULL);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	free_frames();
	if (r->have_invariants)
		check_invariants(0);
}

static void result(int *n, int *fails, bool ok, const char *missing, const char *name)
{
	++*n;
	if (missing)
		ktap_print("    ok %d %s # SKIP no %s (not Pagoda)\n", *n, name, missing);
	else
		ktap_print("    %s %d %s\n", ok ? "ok" : "not ok", *n, name);
	*fails += !ok && !missing;
}

static void report(const struct run *r)
{
	int n = 0, fails = 0;

	ktap_print("    # fuzz %llu:%llu done: %llu calls in %llu children; %llu oracle failures, "
		   "%llu stray deaths, %llu killed by signals, %llu frame differences\n",
		   (unsigned long long)seed, (unsigned long long)r->done, (unsigned long long)r->done,
		   (unsigned long long)r->children, (unsigned long long)r->oracles,
		   (unsigned long long)r->stray, (unsigned long long)r->signalled,
		   (unsigned long long)r->frame_diffs);
	result(&n, &fails, r->frame_diffs == 0, r->have_frames ? NULL : FREE_FRAMES,
	       "every_child_gives_back_every_frame");
	result(&n, &fails, r->oracles == 0, NULL, "kernel_refuses_what_it_must");
	result(&n, &fails, r->stray == 0, NULL, "children_die_only_of_self_harm");
	result(&n, &fails, r->invariant_fails == 0, r->have_invariants ? NULL : INVARIANTS,
	       "invariants_hold_between_children");
	result(&n, &fails, r->hangs == 0, NULL, "no_call_hangs");
	ktap_print("# fuzz: pass:%d fail:%d skip:%d total:%d\n",
		   n - fails - !r->have_frames - !r->have_invariants, fails,
		   !r->have_frames + !r->have_invariants, n);
}

static bool parse_args(struct run *r, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--verbose") == 0) {
			verbose = true;
			continue;
		}
		if (!v)
			return false;
		if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(v, NULL, 0);
		else if (strcmp(argv[i], "--calls") == 0)
			r->calls = strtoull(v, NULL, 0);
		else if (strcmp(argv[i], "--per-child") == 0)
			r->per_child = strtoull(v, NULL, 0);
		else if (strcmp(argv[i], "--check-every") == 0)
			r->check_every = strtoull(v, NULL, 0);
		else if (strcmp(argv[i], "--max-seconds") == 0)
			r->max_seconds = strtod(v, NULL);
		else if (strcmp(argv[i], "--threads") == 0)
			nr_threads = (unsigned int)strtoul(v, NULL, 0);
		else if (strcmp(argv[i], "--replay") == 0 && strchr(v, ':')) {
			seed = strtoull(v, NULL, 0);
			r->replay_call = strtoull(strchr(v, ':') + 1, NULL, 0);
			r->replay = verbose = true;
		} else if (strcmp(argv[i], "--devmem-rw") == 0 && strchr(v, ':')) {
			devmem_rw.start = strtoull(v, NULL, 0) & ~(PAGE - 1);
			devmem_rw.end = devmem_rw.start + (strtoull(strchr(v, ':') + 1, NULL, 0) & ~(PAGE - 1));
			have_devmem_rw = devmem_rw.end > devmem_rw.start;
		} else
			return false;
		i++;
	}
	return r->per_child && r->check_every && nr_threads >= 1 && nr_threads <= 64;
}

int main(int argc, char **argv)
{
	struct run r = { .calls = 20000, .per_child = 1000, .check_every = 10 };
	double start = seconds();
	long long base;

	seed = 1;
	if (!parse_args(&r, argc, argv)) {
		fprintf(stderr, "usage: fuzz [--seed S] [--calls N] [--per-child K] [--check-every C]"
				" [--threads T] [--max-seconds S] [--devmem-rw BASE:SIZE] [--replay S:N]"
				" [--verbose]\n");
		return 2;
	}
	if (!map_shared())
		return EXIT_SETUP;
	/* Orphans of the children come here, not to init (reap_orphans()). */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if ((diag_fd = open("/dev/console", O_WRONLY | O_CLOEXEC)) < 0)
		diag_fd = 1;
	touch_stack();
	probe_user_end();
	read_own_ranges();
	r.have_frames = free_frames() >= 0;
	r.have_invariants = access(INVARIANTS, R_OK) == 0;
	ktap_print(KTAP_INDENT "KTAP version 1\n" KTAP_INDENT "# Subtest: fuzz\n" KTAP_INDENT "1..5\n");
	ktap_print("    # fuzz %llu:0 %s %llu calls, %llu per child, %u threads%s\n",
		   (unsigned long long)seed, r.replay ? "replaying up to call" : "running",
		   (unsigned long long)(r.replay ? r.replay_call : r.calls),
		   (unsigned long long)r.per_child, nr_threads,
		   have_devmem_rw ? ", /dev/mem window writable" : "");
	warm_up(&r);
	base = r.have_frames ? settled_free_frames() : 0;
	read_meminfo(meminfo_base, sizeof(meminfo_base));
	memcpy(census_base, census_now, sizeof(census_base));
	if (r.replay)
		step(&r, r.replay_call / r.per_child, &base);
	else
		for (uint64_t c = 0; c * r.per_child < r.calls; c++) {
			if (r.max_seconds && seconds() - start > r.max_seconds) {
				ktap_print("    # fuzz %llu:%llu time is up after %.0f s: %llu of %llu "
					   "calls made\n", (unsigned long long)seed,
					   (unsigned long long)(c * r.per_child), seconds() - start,
					   (unsigned long long)r.done, (unsigned long long)r.calls);
				break;
			}
			step(&r, c, &base);
		}
	if (r.have_invariants && !r.replay && check_invariants(r.done) > 0)
		r.invariant_fails++;
	report(&r);
	return r.frame_diffs || r.oracles || r.stray || r.invariant_fails || r.hangs;
}
