/* rangetest: every memory system call given ranges that wrap past 2^64,
 * start in the kernel half or at the canonical boundary, or cross the top
 * of user space, as KTAP (suite "rangetest"). Each call must fail with
 * Linux's errno and leave the address space as it was: a canary page,
 * mapped at a fixed address and filled, must keep its mapping, its
 * protection and its data after every row.
 *
 * The same binary runs on Linux 6.1 (scripts/linux-test.sh, booted with
 * no5lvl so that user space ends where Pagoda's does, at 2^47 - 4096).
 * The first two cases are the reproducers of a user-reachable panic and
 * of a silent unmap through mremap. */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ktap.h"
#include "maps.h"

#define PG 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define CANARY 0x200000UL
#define CANARY_BYTE 0xca
#define TOP 0x7ffffffff000UL         /* Linux's TASK_SIZE_MAX, 4-level */
#define KPAGE 0xfffffffffffff000UL   /* the last page of the kernel half */
#define NONCANON 0x0000800000000000UL /* the first non-canonical address */
#define TIB128 (1UL << 47)

static int probe_fd[2] = { -1, -1 };

/* Raw system calls: musl's wrappers check some arguments themselves. */
static long sys_mremap(uintptr_t a, size_t ol, size_t nl, long fl, uintptr_t na)
{
	return syscall(SYS_mremap, a, ol, nl, fl, na);
}
static long sys_mmap(uintptr_t a, size_t l, long prot, long fl)
{
	return syscall(SYS_mmap, a, l, prot, fl, -1, 0);
}

/* Is [p, p + len) readable? A write(2) from it fails with EFAULT if not,
 * without a signal. */
static bool readable(uintptr_t p, size_t len)
{
	char sink[64];

	for (size_t off = 0; off < len; off += PG) {
		if (write(probe_fd[1], (void *)(p + off), 1) != 1)
			return false;
		if (read(probe_fd[0], sink, sizeof(sink)) != 1)
			return false;
	}
	return true;
}

/* Is the last page of user space free? Without address randomisation
 * (Pagoda, Linux with norandmaps) the stack ends at TOP. */
static bool top_page_free(void)
{
	if (maps_read() < 0)
		return false;
	if (maps_find(TOP - PG)) {
		ktap_log("the last user page is mapped (the stack): its rows are left out");
		return false;
	}
	return true;
}

static bool canary_map(void)
{
	void *p = mmap((void *)CANARY, PG, RW, ANON | MAP_FIXED, -1, 0);

	if (p != (void *)CANARY)
		return false;
	memset(p, CANARY_BYTE, PG);
	return true;
}

/* The canary: one rw-p mapping, every byte intact. */
static bool canary_intact(void)
{
	const volatile unsigned char *c = (const void *)CANARY;

	if (!readable(CANARY, PG) || maps_read() < 0 || !maps_covers(CANARY, CANARY + PG, "rw-p"))
		return false;
	for (size_t i = 0; i < PG; i++)
		if (c[i] != CANARY_BYTE)
			return false;
	return true;
}

/* Each row records errno at once: the next call would overwrite it. */
#define ROW(desc, call, e)                                                     \
	({                                                                     \
		errno = 0;                                                     \
		long __r = (long)(call);                                       \
		int __e = __r == -1 ? errno : 0;                               \
		if (__e != (e)) {                                              \
			char __m[200];                                         \
			snprintf(__m, sizeof(__m), "%s: got %ld errno %d (%s), expected errno %d (%s)", \
				 desc, __r, __e, strerror(__e), e, strerror(e)); \
			ktap_fail_at(__FILE__, __LINE__, __m);                 \
		}                                                              \
		__r;                                                           \
	})

/* Reproducer 2: an old range in the kernel half that wraps onto
 * [0x1000, 0x201000) must not unmap the page at 0x200000. */
static void mremap_kernel_half_old_range_is_efault(void)
{
	ASSERT_TRUE(canary_map());
	ROW("mremap(KPAGE, 0x202000, 0x2000, MAYMOVE)",
	    sys_mremap(KPAGE, 0x202000, 0x2000, MREMAP_MAYMOVE, 0), EFAULT);
	ROW("mremap(KPAGE, 0x202000, 0x2000, MAYMOVE|FIXED)",
	    sys_mremap(KPAGE, 0x202000, 0x2000, MREMAP_MAYMOVE | MREMAP_FIXED, 0x40000000), EFAULT);
	ROW("mremap(KPAGE, 0x202000, 0x2000, 0)", sys_mremap(KPAGE, 0x202000, 0x2000, 0, 0), EFAULT);
	EXPECT_TRUE(canary_intact());
	munmap((void *)CANARY, PG);
}

/* Reproducer 1: a new length of 2^64 - 4096 on a two-page and on a
 * one-page mapping. */
static void mremap_new_len_near_2_pow_64_is_refused(void)
{
	ASSERT_TRUE(canary_map());
	for (size_t pages = 1; pages <= 2; pages++) {
		char *p = mmap(NULL, pages * PG, RW, ANON, -1, 0);
		ASSERT_TRUE(p != MAP_FAILED);
		memset(p, 0x11, pages * PG);
		ROW("mremap(p, 4096, KPAGE, MAYMOVE)",
		    sys_mremap((uintptr_t)p, PG, KPAGE, MREMAP_MAYMOVE, 0), ENOMEM);
		ROW("mremap(p, 4096, KPAGE, 0)", sys_mremap((uintptr_t)p, PG, KPAGE, 0, 0), ENOMEM);
		EXPECT_TRUE(maps_read() >= 0 && maps_covers((uintptr_t)p, (uintptr_t)p + pages * PG, "rw-p"));
		EXPECT_TRUE(readable((uintptr_t)p, pages * PG) && p[0] == 0x11 && p[pages * PG - 1] == 0x11);
		munmap(p, pages * PG);
	}
	EXPECT_TRUE(canary_intact());
	munmap((void *)CANARY, PG);
}

static void mremap_hostile_ranges(void)
{
	char *s;
	uintptr_t a, dst;

	ASSERT_TRUE(canary_map());
	s = mmap(NULL, 4 * PG, RW, ANON, -1, 0);
	ASSERT_TRUE(s != MAP_FAILED);
	munmap(s + 2 * PG, 2 * PG); /* s: two pages, nothing just above */
	memset(s, 0x5a, 2 * PG);
	a = (uintptr_t)s;
	dst = 0x40000000; /* free: nothing is mapped at 1 GiB in either kernel */
	ROW("addr at NONCANON", sys_mremap(NONCANON, PG, 2 * PG, MREMAP_MAYMOVE, 0), EFAULT);
	ROW("addr at TOP", sys_mremap(TOP, PG, PG, 0, 0), EFAULT);
	ROW("old_len past the mapping", sys_mremap(a, 3 * PG, 4 * PG, MREMAP_MAYMOVE, 0), EFAULT);
	ROW("old_len 2^64-4096, shrink", sys_mremap(a, KPAGE, PG, 0, 0), EINVAL);
	ROW("old_len 2^47, shrink", sys_mremap(a, TIB128, PG, 0, 0), EINVAL);
	ROW("old_len rounds past 2^64", sys_mremap(a, (size_t)-1, PG, 0, 0), EINVAL);
	ROW("old_len 2^64-4096, fixed", sys_mremap(a, KPAGE, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst), EINVAL);
	ROW("new_len 2^64-4096", sys_mremap(a, 2 * PG, KPAGE, MREMAP_MAYMOVE, 0), ENOMEM);
	ROW("new_len 2^47", sys_mremap(a, 2 * PG, TIB128, MREMAP_MAYMOVE, 0), ENOMEM);
	ROW("new_len rounds past 2^64", sys_mremap(a, 2 * PG, (size_t)-1, MREMAP_MAYMOVE, 0), EINVAL);
	ROW("new_len 0", sys_mremap(a, 2 * PG, 0, MREMAP_MAYMOVE, 0), EINVAL);
	ROW("new_addr in the kernel half", sys_mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, KPAGE), EINVAL);
	ROW("new_addr NONCANON", sys_mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, NONCANON), EINVAL);
	ROW("new range crosses TOP", sys_mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, TOP - PG), EINVAL);
	ROW("new range 2^47 long", sys_mremap(a, 2 * PG, TIB128, MREMAP_MAYMOVE | MREMAP_FIXED, dst), EINVAL);
	ROW("new range wraps", sys_mremap(a, 2 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, KPAGE - PG), EINVAL);
	ROW("new range overlaps the old", sys_mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, a + PG), EINVAL);
	ROW("new_addr unaligned", sys_mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 1), EINVAL);
	EXPECT_TRUE(maps_read() >= 0 && maps_covers(a, a + 2 * PG, "rw-p"));
	EXPECT_TRUE(readable(a, 2 * PG) && s[0] == 0x5a && s[2 * PG - 1] == 0x5a);
	EXPECT_TRUE(canary_intact());
	/* And the last page of user space is a legal destination (when it is
	 * free: without address randomisation the stack ends there). */
	if (top_page_free()) {
		EXPECT_EQ(sys_mremap(a, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, TOP - PG), (long)(TOP - PG));
		EXPECT_TRUE(readable(TOP - PG, PG) && *(char *)(TOP - PG) == 0x5a);
		munmap((void *)(TOP - PG), PG);
	}
	munmap(s, 2 * PG);
	munmap((void *)CANARY, PG);
}

static void mmap_hostile_ranges(void)
{
	long r;

	ASSERT_TRUE(canary_map());
	ROW("MAP_FIXED at KPAGE", sys_mmap(KPAGE, PG, RW, ANON | MAP_FIXED), ENOMEM);
	ROW("MAP_FIXED at NONCANON", sys_mmap(NONCANON, PG, RW, ANON | MAP_FIXED), ENOMEM);
	ROW("MAP_FIXED across TOP", sys_mmap(TOP - PG, 2 * PG, RW, ANON | MAP_FIXED), ENOMEM);
	ROW("MAP_FIXED wrapping past 2^64", sys_mmap(KPAGE - PG, 4 * PG, RW, ANON | MAP_FIXED), ENOMEM);
	ROW("MAP_FIXED len 2^47", sys_mmap(CANARY, TIB128, RW, ANON | MAP_FIXED), ENOMEM);
	ROW("MAP_FIXED_NOREPLACE at KPAGE", sys_mmap(KPAGE, PG, RW, ANON | MAP_FIXED_NOREPLACE), ENOMEM);
	ROW("len 2^64-4096", sys_mmap(0, KPAGE, RW, ANON), ENOMEM);
	ROW("len rounds past 2^64", sys_mmap(0, (size_t)-4095, RW, ANON), ENOMEM);
	ROW("len 2^47", sys_mmap(0, TIB128, RW, ANON), ENOMEM);
	/* A hint that cannot be honoured is a hint: the mapping goes elsewhere. */
	r = ROW("hint at KPAGE", sys_mmap(KPAGE, PG, RW, ANON), 0);
	EXPECT_TRUE(r != -1 && (uintptr_t)r < TOP);
	if (r != -1)
		munmap((void *)r, PG);
	r = ROW("hint across TOP", sys_mmap(TOP - PG, 2 * PG, RW, ANON), 0);
	EXPECT_TRUE(r != -1 && (uintptr_t)r + 2 * PG <= TOP);
	if (r != -1)
		munmap((void *)r, 2 * PG);
	/* An unaligned free hint is rounded down to its page. */
	r = ROW("unaligned hint", sys_mmap(0x40000000 + 5, PG, RW, ANON), 0);
	EXPECT_EQ(r, 0x40000000L);
	if (r != -1)
		munmap((void *)r, PG);
	/* The last page below TOP is user memory (when free, as above). */
	if (top_page_free()) {
		r = ROW("MAP_FIXED at the last user page", sys_mmap(TOP - PG, PG, RW, ANON | MAP_FIXED), 0);
		EXPECT_EQ(r, (long)(TOP - PG));
		if (r != -1)
			munmap((void *)r, PG);
	}
	EXPECT_TRUE(canary_intact());
	munmap((void *)CANARY, PG);
}

static void munmap_hostile_ranges(void)
{
	ASSERT_TRUE(canary_map());
	ROW("at KPAGE", munmap((void *)KPAGE, PG), EINVAL);
	ROW("at NONCANON", munmap((void *)NONCANON, PG), EINVAL);
	ROW("across TOP", munmap((void *)(TOP - PG), 2 * PG), EINVAL);
	ROW("len 2^64-4096 from the canary", munmap((void *)CANARY, KPAGE), EINVAL);
	ROW("len rounds past 2^64", munmap((void *)CANARY, (size_t)-1), EINVAL);
	ROW("len 2^47 from the canary", munmap((void *)CANARY, TIB128), EINVAL);
	ROW("wrapping onto the canary", munmap((void *)KPAGE, 0x202000), EINVAL);
	EXPECT_TRUE(canary_intact());
	munmap((void *)CANARY, PG);
}

/* Linux's mprotect changes every mapping from the start of the range up
 * to the first hole and only then fails, where Pagoda checks the whole
 * range first; POSIX allows both. So the rows that reach the canary ask
 * for the protection it already has. musl's mprotect() rounds the range
 * itself: the raw call is used. */
static long sys_mprotect(uintptr_t a, size_t l, long prot)
{
	return syscall(SYS_mprotect, a, l, prot);
}

static void mprotect_hostile_ranges(void)
{
	ASSERT_TRUE(canary_map());
	ROW("at KPAGE", sys_mprotect(KPAGE, PG, PROT_READ), ENOMEM);
	ROW("at NONCANON", sys_mprotect(NONCANON, PG, PROT_READ), ENOMEM);
	ROW("across TOP", sys_mprotect(TOP - PG, 2 * PG, PROT_READ), ENOMEM);
	ROW("len 2^64-4096 from the canary", sys_mprotect(CANARY, KPAGE, PROT_NONE), ENOMEM);
	ROW("len rounds past 2^64", sys_mprotect(CANARY, (size_t)-1, PROT_NONE), ENOMEM);
	ROW("len 2^47 from the canary", sys_mprotect(CANARY, TIB128, RW), ENOMEM);
	ROW("wrapping onto the canary", sys_mprotect(KPAGE, 0x202000, PROT_NONE), ENOMEM);
	EXPECT_TRUE(canary_intact());
	munmap((void *)CANARY, PG);
}

/* madvise applies the advice to every mapped part before it reports a
 * hole, so the rows that reach the canary use advice that keeps data. */
static void madvise_hostile_ranges(void)
{
	ASSERT_TRUE(canary_map());
	ROW("at KPAGE (wraps)", madvise((void *)KPAGE, PG, MADV_DONTNEED), EINVAL);
	ROW("in the kernel half", madvise((void *)0xffff800000000000UL, PG, MADV_DONTNEED), ENOMEM);
	ROW("at NONCANON", madvise((void *)NONCANON, PG, MADV_DONTNEED), ENOMEM);
	ROW("across TOP", madvise((void *)(TOP - PG), 2 * PG, MADV_DONTNEED), ENOMEM);
	ROW("len 2^64-4096 from the canary", madvise((void *)CANARY, KPAGE, MADV_NORMAL), EINVAL);
	ROW("len rounds past 2^64", madvise((void *)CANARY, (size_t)-1, MADV_NORMAL), EINVAL);
	ROW("len 2^47 from the canary", madvise((void *)CANARY, TIB128, MADV_NORMAL), ENOMEM);
	ROW("wrapping onto the canary", madvise((void *)KPAGE, 0x202000, MADV_DONTNEED), EINVAL);
	EXPECT_TRUE(canary_intact());
	munmap((void *)CANARY, PG);
}

/* brk(2) never fails: a break it cannot set leaves the old one. */
static void brk_hostile_values(void)
{
	long cur = syscall(SYS_brk, 0);

	ASSERT_TRUE(canary_map());
	EXPECT_EQ(syscall(SYS_brk, KPAGE), cur);
	EXPECT_EQ(syscall(SYS_brk, NONCANON), cur);
	EXPECT_EQ(syscall(SYS_brk, TOP + 1), cur);
	EXPECT_EQ(syscall(SYS_brk, (long)-1), cur);
	EXPECT_EQ(syscall(SYS_brk, 0), cur);
	EXPECT_TRUE(canary_intact());
	munmap((void *)CANARY, PG);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(mremap_kernel_half_old_range_is_efault),
	KTAP_CASE(mremap_new_len_near_2_pow_64_is_refused),
	KTAP_CASE(mremap_hostile_ranges),
	KTAP_CASE(mmap_hostile_ranges),
	KTAP_CASE(munmap_hostile_ranges),
	KTAP_CASE(mprotect_hostile_ranges),
	KTAP_CASE(madvise_hostile_ranges),
	KTAP_CASE(brk_hostile_values),
};

int main(void)
{
	if (pipe(probe_fd) < 0)
		return 1;
	return ktap_run_suite("rangetest", cases, KTAP_ARRAY_SIZE(cases));
}
