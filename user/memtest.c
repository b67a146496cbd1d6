/* memtest: the memory system calls seen from user space, as KTAP (suite
 * "memtest"). Anonymous mmap, munmap, mprotect, brk, mremap, madvise,
 * copy-on-write across fork from both sides, SIGSEGV for bad accesses
 * (judged by the parent from the wait status), stack growth, and
 * /proc/self/maps checked after each step. Every expectation is Linux 6.x
 * behaviour: scripts/linux-test.sh runs this binary on Debian's kernel. */
#include <signal.h>
#include <time.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"
#include "maps.h"

#define PG 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define USER_LIMIT (1UL << 57)

static uintptr_t initial_brk;

/* An anonymous private RW mapping of n pages, or NULL with a diagnostic. */
static char *map_pages(size_t n)
{
	void *p = mmap(NULL, n * PG, RW, ANON, -1, 0);

	if (p == MAP_FAILED) {
		ktap_log("mmap of %zu pages failed: %s", n, strerror(errno));
		return NULL;
	}
	return p;
}

static void fill(char *p, size_t len, char v)
{
	memset(p, v, len);
}

/* Does every byte of [p, p + len) hold v? */
static bool all_equal(const char *p, size_t len, char v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* Children that must die. */
static int touch_read(void *p)
{
	return *(volatile char *)launder(p);
}

static int touch_write(void *p)
{
	*(volatile char *)launder(p) = 1;
	return 0;
}

static int call_address(void *p)
{
	((void (*)(void))launder(p))();
	return 0;
}

static void mmap_anon_private_is_zeroed_and_listed(void)
{
	char *p = map_pages(4);

	ASSERT_TRUE(p != NULL);
	EXPECT_EQ((uintptr_t)p % PG, 0);
	EXPECT_TRUE(all_equal(p, 4 * PG, 0));
	fill(p, 4 * PG, 0x5a);
	EXPECT_TRUE(all_equal(p, 4 * PG, 0x5a));
	EXPECT_MAPPED(p, 4 * PG, "rw-p");
	EXPECT_EQ(munmap(p, 4 * PG), 0);
	EXPECT_UNMAPPED(p, 4 * PG);
}

static void mmap_bad_arguments_fail(void)
{
	EXPECT_ERRNO(mmap(NULL, 0, RW, ANON, -1, 0), EINVAL);
	EXPECT_ERRNO(mmap(NULL, PG, RW, MAP_ANONYMOUS, -1, 0), EINVAL);
	EXPECT_ERRNO(mmap((void *)0x200000001UL, PG, RW, ANON | MAP_FIXED, -1, 0), EINVAL);
	EXPECT_ERRNO(mmap(NULL, PG, RW, MAP_PRIVATE, -1, 0), EBADF);
}

/* Past any user address (2^57: above even 5-level paging's user half,
 * which QEMU's -cpu max offers Linux) MAP_FIXED fails with ENOMEM. */
static void mmap_fixed_past_user_space_enomem(void)
{
	EXPECT_ERRNO(mmap((void *)USER_LIMIT, PG, RW, ANON | MAP_FIXED, -1, 0), ENOMEM);
	EXPECT_ERRNO(mmap((void *)(USER_LIMIT - PG), 2 * PG, RW, ANON | MAP_FIXED, -1, 0), ENOMEM);
	EXPECT_ERRNO(mmap((void *)-PG, PG, RW, ANON | MAP_FIXED, -1, 0), ENOMEM);
}

/* A file opened read-only maps shared for reading only, and mprotect
 * cannot add writing later; a private mapping may be written (it is a
 * copy). A file opened write-only does not map at all. The first page of
 * /dev/mem maps on both kernels (the low 1 MiB is always allowed). */
static void mmap_file_needs_a_matching_open_mode(void)
{
	int ro = open("/dev/mem", O_RDONLY), wo = open("/dev/mem", O_WRONLY);
	void *p;

	if (ro < 0 || wo < 0) {
		ktap_skip("no /dev/mem");
		goto out;
	}
	EXPECT_ERRNO(mmap(NULL, PG, RW, MAP_SHARED, ro, 0), EACCES);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
	EXPECT_TRUE(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		EXPECT_ERRNO(mprotect(p, PG, RW), EACCES);
		munmap(p, PG);
	}
	p = mmap(NULL, PG, RW, MAP_PRIVATE, ro, 0);
	EXPECT_TRUE(p != MAP_FAILED);
	if (p != MAP_FAILED)
		munmap(p, PG);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0), EACCES);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_SHARED, wo, 0), EACCES);
out:
	if (ro >= 0)
		close(ro);
	if (wo >= 0)
		close(wo);
}

static void mmap_fixed_noreplace_refuses_overlap(void)
{
	char *p = map_pages(4);
	void *q;

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(munmap(p + 2 * PG, 2 * PG), 0);
	EXPECT_ERRNO(mmap(p, PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
	EXPECT_ERRNO(mmap(p + PG, 2 * PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
	q = mmap(p + 2 * PG, 2 * PG, PROT_READ, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	EXPECT_EQ((uintptr_t)q, (uintptr_t)(p + 2 * PG));
	EXPECT_MAPPED(p, 2 * PG, "rw-p");
	EXPECT_MAPPED(p + 2 * PG, 2 * PG, "r--p");
	munmap(p, 4 * PG);
	EXPECT_UNMAPPED(p, 4 * PG);
}

static void mmap_fixed_replaces_old_contents(void)
{
	char *p = map_pages(3);
	void *q;

	ASSERT_TRUE(p != NULL);
	fill(p, 3 * PG, 0x11);
	q = mmap(p + PG, PG, RW, ANON | MAP_FIXED, -1, 0);
	EXPECT_EQ((uintptr_t)q, (uintptr_t)(p + PG));
	EXPECT_TRUE(all_equal(p, PG, 0x11));
	EXPECT_TRUE(all_equal(p + PG, PG, 0));
	EXPECT_TRUE(all_equal(p + 2 * PG, PG, 0x11));
	EXPECT_MAPPED(p, 3 * PG, "rw-p");
	munmap(p, 3 * PG);
}

static void munmap_bad_arguments_fail(void)
{
	char *p = map_pages(1);

	ASSERT_TRUE(p != NULL);
	EXPECT_ERRNO(munmap(p + 1, PG), EINVAL);
	EXPECT_ERRNO(munmap(p, 0), EINVAL);
	EXPECT_EQ(munmap(p, PG), 0);
	EXPECT_EQ(munmap(p, PG), 0); /* nothing mapped there: still 0 */
	EXPECT_UNMAPPED(p, PG);
}

static void munmap_middle_splits_mapping(void)
{
	char *p = map_pages(3);

	ASSERT_TRUE(p != NULL);
	fill(p, PG, 1);
	fill(p + PG, PG, 2);
	fill(p + 2 * PG, PG, 3);
	ASSERT_EQ(munmap(p + PG, PG), 0);
	EXPECT_MAPPED(p, PG, "rw-p");
	EXPECT_UNMAPPED(p + PG, PG);
	EXPECT_MAPPED(p + 2 * PG, PG, "rw-p");
	EXPECT_TRUE(all_equal(p, PG, 1));
	EXPECT_TRUE(all_equal(p + 2 * PG, PG, 3));
	EXPECT_CHILD_SIGNAL(touch_read, p + PG, SIGSEGV);
	munmap(p, 3 * PG);
}

static void mprotect_read_only_blocks_writes(void)
{
	char *p = map_pages(1);

	ASSERT_TRUE(p != NULL);
	p[0] = 42;
	ASSERT_EQ(mprotect(p, PG, PROT_READ), 0);
	EXPECT_MAPPED(p, PG, "r--p");
	EXPECT_EQ(p[0], 42);
	EXPECT_CHILD_SIGNAL(touch_write, p, SIGSEGV);
	ASSERT_EQ(mprotect(p, PG, RW), 0);
	EXPECT_MAPPED(p, PG, "rw-p");
	p[0] = 43;
	EXPECT_EQ(p[0], 43);
	munmap(p, PG);
}

static void mprotect_none_blocks_reads_keeps_data(void)
{
	char *p = map_pages(1);

	ASSERT_TRUE(p != NULL);
	fill(p, PG, 0x77);
	ASSERT_EQ(mprotect(p, PG, PROT_NONE), 0);
	EXPECT_MAPPED(p, PG, "---p");
	EXPECT_CHILD_SIGNAL(touch_read, p, SIGSEGV);
	ASSERT_EQ(mprotect(p, PG, RW), 0);
	EXPECT_TRUE(all_equal(p, PG, 0x77));
	munmap(p, PG);
}

static void mprotect_middle_splits_mapping(void)
{
	char *p = map_pages(3);

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(mprotect(p + PG, PG, PROT_READ), 0);
	EXPECT_MAPPED(p, PG, "rw-p");
	EXPECT_MAPPED(p + PG, PG, "r--p");
	EXPECT_MAPPED(p + 2 * PG, PG, "rw-p");
	ASSERT_EQ(mprotect(p + PG, PG, RW), 0);
	EXPECT_MAPPED(p, 3 * PG, "rw-p");
	munmap(p, 3 * PG);
}

static void mprotect_bad_arguments_fail(void)
{
	char *p = map_pages(3);

	ASSERT_TRUE(p != NULL);
	/* musl's mprotect() rounds the address down: ask the kernel itself. */
	EXPECT_ERRNO(syscall(SYS_mprotect, p + 1, PG, PROT_READ), EINVAL);
	EXPECT_ERRNO(mprotect(p, PG, 0x40), EINVAL);
	ASSERT_EQ(munmap(p + PG, PG), 0);
	EXPECT_ERRNO(mprotect(p + PG, PG, PROT_READ), ENOMEM);
	EXPECT_ERRNO(mprotect(p, 3 * PG, PROT_READ), ENOMEM);
	munmap(p, 3 * PG);
}

/* The break: grow it, use it, shrink it (the pages go), grow it again (the
 * pages come back zeroed). musl's malloc is not used here, so the break is
 * ours alone. */
static void brk_grows_and_shrinks(void)
{
	uintptr_t cur = syscall(SYS_brk, 0), base = (cur + PG - 1) & ~(PG - 1);
	uintptr_t top = base + 3 * PG;

	ASSERT_EQ(syscall(SYS_brk, top), top);
	fill((char *)cur, top - cur, 0x33);
	EXPECT_MAPPED(base, 3 * PG, "rw-p");
	maps_read();
	const struct map_line *m = maps_find(base);
	if (m && strcmp(m->name, "[heap]") != 0)
		ktap_fail_at(__FILE__, __LINE__, "expected the break's line to be named [heap]");
	ASSERT_EQ(syscall(SYS_brk, base), base);
	EXPECT_UNMAPPED(base, 3 * PG);
	EXPECT_CHILD_SIGNAL(touch_read, (void *)(base + PG), SIGSEGV);
	ASSERT_EQ(syscall(SYS_brk, base + PG), base + PG);
	EXPECT_TRUE(all_equal((char *)base, PG, 0));
	EXPECT_EQ(syscall(SYS_brk, cur), cur);
}

/* Below its start the break does not move: brk() returns the old one. */
static void brk_below_start_is_refused(void)
{
	uintptr_t cur = syscall(SYS_brk, 0);

	EXPECT_EQ(syscall(SYS_brk, initial_brk - PG), cur);
	EXPECT_EQ(syscall(SYS_brk, 0), cur);
}

/* Copy-on-write, the child's side: its writes stay its own. */
static volatile int cow_global = 1;
static char *cow_page;

static int cow_child_writes(void *arg)
{
	volatile int *local = arg;

	cow_global = 2;
	cow_page[0] = 2;
	cow_page[PG - 1] = 2;
	*local = 2;
	if (cow_global != 2 || cow_page[0] != 2 || *local != 2)
		return 1;
	return 0;
}

static void fork_child_writes_stay_private(void)
{
	volatile int local = 1;

	cow_global = 1;
	cow_page = map_pages(1);
	ASSERT_TRUE(cow_page != NULL);
	cow_page[0] = 1;
	EXPECT_CHILD_OK(cow_child_writes, (void *)&local);
	EXPECT_EQ(cow_global, 1);
	EXPECT_EQ(cow_page[0], 1);
	EXPECT_EQ(cow_page[PG - 1], 0);
	EXPECT_EQ(local, 1);
	munmap(cow_page, PG);
}

/* Copy-on-write, the parent's side: the child waits on a pipe while the
 * parent writes, then sends back what it sees. */
static void fork_parent_writes_stay_private(void)
{
	int go[2], back[2], seen[2] = { -1, -1 }, status;
	char *page = map_pages(1);
	pid_t pid;

	ASSERT_TRUE(page != NULL);
	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(back), 0);
	cow_global = 1;
	page[0] = 1;
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		char c;
		int v[2];
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		v[0] = cow_global;
		v[1] = page[0];
		_exit(write(back[1], v, sizeof(v)) == sizeof(v) ? 0 : 2);
	}
	cow_global = 3;
	page[0] = 3;
	EXPECT_EQ(write(go[1], "x", 1), 1);
	EXPECT_EQ(read(back[0], seen, sizeof(seen)), (ssize_t)sizeof(seen));
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(seen[0], 1);
	EXPECT_EQ(seen[1], 1);
	EXPECT_EQ(cow_global, 3);
	close(go[0]), close(go[1]), close(back[0]), close(back[1]);
	munmap(page, PG);
}

/* Does page i of [p, p + n pages) hold seed + i, except that with mod 1
 * the even pages, with mod 2 the odd ones, hold other + i? */
static int words_match(const char *p, size_t n, long seed, int mod, long other)
{
	for (size_t i = 0; i < n; i++) {
		long want = mod && i % 2 == (size_t)mod - 1 ? other + (long)i : seed + (long)i;
		if (*(const long *)(p + i * PG) != want)
			return 0;
	}
	return 1;
}

/* 8 MiB in 4 KiB pages (several whole page tables, which Pagoda shares at
 * fork): parent and child both write every other page at once (on two
 * CPUs where there are two), the child also unmaps and write-protects a
 * part; each then reads its own data, and the parent's survives the
 * child's exit. */
static void fork_both_sides_write_4KiB_pages_at_once(void)
{
	const size_t n = 2048;
	char *p = map_pages(n);
	int status;
	pid_t pid;

	ASSERT_TRUE(p != NULL);
	madvise(p, n * PG, MADV_NOHUGEPAGE); /* 4 KiB pages: page tables to share */
	for (size_t i = 0; i < n; i++)
		*(long *)(p + i * PG) = 1000 + (long)i;
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; i < n; i += 2)
			*(long *)(p + i * PG) = 500000 + (long)i;
		if (!words_match(p, n, 1000, 1, 500000))
			_exit(1);
		if (munmap(p + 600 * PG, 4 * PG) || mprotect(p + 1024 * PG, 512 * PG, PROT_READ))
			_exit(2);
		_exit(words_match(p, 600, 1000, 1, 500000) ? 0 : 3);
	}
	for (size_t i = 1; i < n; i += 2)
		*(long *)(p + i * PG) = 900000 + (long)i;
	EXPECT_TRUE(words_match(p, n, 1000, 2, 900000));
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_TRUE(words_match(p, n, 1000, 2, 900000));
	munmap(p, n * PG);
}

static int shared_child_writes(void *p)
{
	*(volatile int *)p = 7;
	return 0;
}

static void fork_shared_anon_is_shared(void)
{
	int *p = mmap(NULL, PG, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_MAPPED(p, PG, "rw-s");
	*p = 1;
	EXPECT_CHILD_OK(shared_child_writes, p);
	EXPECT_EQ(*(volatile int *)p, 7);
	munmap(p, PG);
}

static void segv_null_write_kills_child(void)
{
	EXPECT_CHILD_SIGNAL(touch_write, NULL, SIGSEGV);
}

static void segv_write_to_text_kills_child(void)
{
	EXPECT_CHILD_SIGNAL(touch_write, (void *)(uintptr_t)&touch_write, SIGSEGV);
}

static void segv_kernel_address_kills_child(void)
{
	EXPECT_CHILD_SIGNAL(touch_read, (void *)0xffffffff80000000UL, SIGSEGV);
}

/* Does the CPU have the NX bit (CPUID 0x80000001 EDX bit 20)? Without it
 * no x86 kernel can keep readable memory from being executed. */
static int cpu_has_nx(void)
{
	unsigned int a, b, c, d;

	__asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000));
	if (a < 0x80000001)
		return 0;
	__asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001));
	return (d >> 20) & 1;
}

/* Code placed in a RW (no-exec) page must not run: NX. */
static void segv_exec_from_data_page_kills_child(void)
{
	char *p;

	if (!cpu_has_nx()) {
		ktap_skip("the CPU has no NX bit: readable pages are executable");
		return;
	}
	p = map_pages(1);
	ASSERT_TRUE(p != NULL);
	p[0] = (char)0xc3; /* ret: the child would exit 0 if it ran */
	EXPECT_CHILD_SIGNAL(call_address, p, SIGSEGV);
	munmap(p, PG);
}

/* The stack grows on demand: 1 MiB of frames in a child, then its
 * [stack] line reaches down that far. */
static __attribute__((noinline)) uintptr_t dig(int depth)
{
	volatile char buf[16384];
	uintptr_t low;

	buf[0] = (char)depth;
	if (depth == 0)
		return (uintptr_t)buf;
	low = dig(depth - 1);
	buf[1] = buf[0]; /* keep the frame alive: no tail call */
	return low;
}

static int stack_child(void *arg)
{
	uintptr_t low = dig(64);
	const struct map_line *m;

	if (maps_read() < 0)
		return 1;
	m = maps_find(low);
	if (!m)
		return 2;
	if (strcmp(m->name, "[stack]") != 0 || strcmp(m->perms, "rw-p") != 0)
		return 3;
	return 0;
}

static void stack_grows_on_demand(void)
{
	EXPECT_CHILD_OK(stack_child, NULL);
}

static void maps_names_stack_and_program(void)
{
	volatile int local;
	const struct map_line *m;

	ASSERT_TRUE(maps_read() > 0);
	m = maps_find((uintptr_t)&local);
	EXPECT_TRUE(m && strcmp(m->name, "[stack]") == 0 && strcmp(m->perms, "rw-p") == 0);
	if (m)
		ktap_log("stack line: %lx-%lx %s %s", (unsigned long)m->start,
			 (unsigned long)m->end, m->perms, m->name);
	m = maps_find((uintptr_t)&maps_names_stack_and_program);
	EXPECT_TRUE(m && strcmp(m->perms, "r-xp") == 0);
	EXPECT_TRUE(m && strlen(m->name) >= 7 &&
		    strcmp(m->name + strlen(m->name) - 7, "memtest") == 0);
	if (m)
		ktap_log("text line: %lx-%lx %s %s", (unsigned long)m->start,
			 (unsigned long)m->end, m->perms, m->name);
}

/* Grow where the next page is taken: without MREMAP_MAYMOVE it fails,
 * with it the mapping moves and keeps its bytes. */
static void mremap_grow_moves_and_keeps_data(void)
{
	char *p = map_pages(3), *q;

	ASSERT_TRUE(p != NULL);
	fill(p, 2 * PG, 0x44);
	ASSERT_EQ(mprotect(p + 2 * PG, PG, PROT_READ), 0);
	EXPECT_ERRNO(mremap(p, 2 * PG, 4 * PG, 0), ENOMEM);
	q = mremap(p, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_NE((uintptr_t)q, (uintptr_t)p);
	EXPECT_TRUE(all_equal(q, 2 * PG, 0x44));
	EXPECT_TRUE(all_equal(q + 2 * PG, 2 * PG, 0));
	EXPECT_MAPPED(q, 4 * PG, "rw-p");
	EXPECT_UNMAPPED(p, 2 * PG);
	EXPECT_MAPPED(p + 2 * PG, PG, "r--p");
	munmap(q, 4 * PG);
	munmap(p + 2 * PG, PG);
}

static void mremap_grow_in_place(void)
{
	char *p = map_pages(4), *q;

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(munmap(p + 2 * PG, 2 * PG), 0);
	fill(p, 2 * PG, 0x55);
	q = mremap(p, 2 * PG, 4 * PG, 0);
	ASSERT_EQ((uintptr_t)q, (uintptr_t)p);
	EXPECT_TRUE(all_equal(p, 2 * PG, 0x55));
	EXPECT_TRUE(all_equal(p + 2 * PG, 2 * PG, 0));
	EXPECT_MAPPED(p, 4 * PG, "rw-p");
	munmap(p, 4 * PG);
}

static void mremap_shrink_unmaps_tail(void)
{
	char *p = map_pages(4), *q;

	ASSERT_TRUE(p != NULL);
	fill(p, 4 * PG, 0x66);
	q = mremap(p, 4 * PG, PG, 0);
	ASSERT_EQ((uintptr_t)q, (uintptr_t)p);
	EXPECT_TRUE(all_equal(p, PG, 0x66));
	EXPECT_MAPPED(p, PG, "rw-p");
	EXPECT_UNMAPPED(p + PG, 3 * PG);
	munmap(p, PG);
}

static void mremap_fixed_moves_to_address(void)
{
	char *p = map_pages(2), *dst = map_pages(4), *q;

	ASSERT_TRUE(p != NULL && dst != NULL);
	fill(p, 2 * PG, 0x21);
	fill(dst, 4 * PG, 0x22);
	q = mremap(p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PG);
	ASSERT_EQ((uintptr_t)q, (uintptr_t)(dst + PG));
	EXPECT_TRUE(all_equal(dst, PG, 0x22));
	EXPECT_TRUE(all_equal(dst + PG, 2 * PG, 0x21));
	EXPECT_TRUE(all_equal(dst + 3 * PG, PG, 0x22));
	EXPECT_UNMAPPED(p, 2 * PG);
	EXPECT_MAPPED(dst, 4 * PG, "rw-p");
	munmap(dst, 4 * PG);
}

static void mremap_bad_arguments_fail(void)
{
	char *p = map_pages(2);

	ASSERT_TRUE(p != NULL);
	EXPECT_ERRNO(mremap(p + 1, PG, 2 * PG, MREMAP_MAYMOVE), EINVAL);
	EXPECT_ERRNO(mremap(p, PG, 0, MREMAP_MAYMOVE), EINVAL);
	EXPECT_ERRNO(mremap(p, PG, PG, MREMAP_FIXED, p + PG), EINVAL);
	ASSERT_EQ(munmap(p, 2 * PG), 0);
	EXPECT_ERRNO(mremap(p, PG, 2 * PG, MREMAP_MAYMOVE), EFAULT);
}

/* The scheduler is preemptive: a child spinning in user mode forever
 * does not keep its parent from running. The parent sleeps, wakes on the
 * timer, kills the child and reaps it; without preemption it would never
 * run again. */
static void sched_preempts_a_spinning_child(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int status = 0;
	pid_t pid = fork();

	if (pid == 0)
		for (volatile unsigned long i = 0;; i++)
			;
	EXPECT_TRUE(pid > 0);
	if (pid <= 0)
		return;
	nanosleep(&ts, NULL);
	EXPECT_EQ(kill(pid, SIGKILL), 0);
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void madvise_dontneed_zeroes_private_pages(void)
{
	char *p = map_pages(2);

	ASSERT_TRUE(p != NULL);
	fill(p, 2 * PG, 0x7e);
	ASSERT_EQ(madvise(p, PG, MADV_DONTNEED), 0);
	EXPECT_TRUE(all_equal(p, PG, 0));
	EXPECT_TRUE(all_equal(p + PG, PG, 0x7e));
	EXPECT_MAPPED(p, 2 * PG, "rw-p");
	munmap(p, 2 * PG);
}

/* Many small mappings at once, each listed, all gone afterwards. */
static void mmap_many_then_unmap_all(void)
{
	static char *pages[64];
	int listed = 0;

	for (int i = 0; i < 64; i++) {
		pages[i] = mmap(NULL, PG, i % 2 ? RW : PROT_READ, ANON, -1, 0);
		ASSERT_TRUE(pages[i] != MAP_FAILED);
		if (i % 2)
			pages[i][0] = (char)i;
	}
	maps_read();
	for (int i = 0; i < 64; i++) {
		const struct map_line *m = maps_find((uintptr_t)pages[i]);
		listed += m && strcmp(m->perms, i % 2 ? "rw-p" : "r--p") == 0;
		if (i % 2)
			EXPECT_EQ(pages[i][0], i);
	}
	EXPECT_EQ(listed, 64);
	for (int i = 0; i < 64; i++)
		EXPECT_EQ(munmap(pages[i], PG), 0);
	for (int i = 0; i < 64; i++)
		EXPECT_UNMAPPED(pages[i], PG);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(mmap_anon_private_is_zeroed_and_listed),
	KTAP_CASE(mmap_bad_arguments_fail),
	KTAP_CASE(mmap_fixed_past_user_space_enomem),
	KTAP_CASE(mmap_fixed_noreplace_refuses_overlap),
	KTAP_CASE(mmap_file_needs_a_matching_open_mode),
	KTAP_CASE(mmap_fixed_replaces_old_contents),
	KTAP_CASE(mmap_many_then_unmap_all),
	KTAP_CASE(munmap_bad_arguments_fail),
	KTAP_CASE(munmap_middle_splits_mapping),
	KTAP_CASE(mprotect_read_only_blocks_writes),
	KTAP_CASE(mprotect_none_blocks_reads_keeps_data),
	KTAP_CASE(mprotect_middle_splits_mapping),
	KTAP_CASE(mprotect_bad_arguments_fail),
	KTAP_CASE(brk_grows_and_shrinks),
	KTAP_CASE(brk_below_start_is_refused),
	KTAP_CASE(fork_child_writes_stay_private),
	KTAP_CASE(fork_parent_writes_stay_private),
	KTAP_CASE(fork_shared_anon_is_shared),
	KTAP_CASE(fork_both_sides_write_4KiB_pages_at_once),
	KTAP_CASE(segv_null_write_kills_child),
	KTAP_CASE(segv_write_to_text_kills_child),
	KTAP_CASE(segv_kernel_address_kills_child),
	KTAP_CASE(segv_exec_from_data_page_kills_child),
	KTAP_CASE(stack_grows_on_demand),
	KTAP_CASE(maps_names_stack_and_program),
	KTAP_CASE(mremap_grow_moves_and_keeps_data),
	KTAP_CASE(mremap_grow_in_place),
	KTAP_CASE(mremap_shrink_unmaps_tail),
	KTAP_CASE(mremap_fixed_moves_to_address),
	KTAP_CASE(mremap_bad_arguments_fail),
	KTAP_CASE(madvise_dontneed_zeroes_private_pages),
	KTAP_CASE(sched_preempts_a_spinning_child),
};

int main(void)
{
	initial_brk = syscall(SYS_brk, 0);
	return ktap_run_suite("memtest", cases, KTAP_ARRAY_SIZE(cases));
}
