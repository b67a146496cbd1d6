/* Tests of mremap's range checks and its move (mm/mremap.c): the two
 * reproducers of a user-reachable panic and of a silent unmap, a table of
 * hostile ranges for each of the three ranges mremap handles, and an
 * allocation failure at every step of a move, which must leave the
 * original mapping and its data as they were. The ordinary cases (grow,
 * shrink, move) are in the mmap suite.
 *
 * Each case runs in a fresh active mm (MM_CASE) that is checked for leaked
 * frames afterwards. A canary mapping at CANARY must survive every
 * refused call with its data. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/vma.h>

#define B 0x0000100000000000UL /* 16 TiB: PML4 slot 32 */
#define P(n) ((uintptr_t)(n) * PAGE_SIZE)
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)
#define CANARY 0x200000UL
#define CANARY_BYTE 0xca
#define KERNEL_TOP_PAGE 0xfffffffffffff000UL
#define NONCANONICAL 0x0000800000000000UL
#define MM (MREMAP_MAYMOVE)
#define MF (MREMAP_MAYMOVE | MREMAP_FIXED)

static long map_at(struct mm_struct *mm, uintptr_t addr, size_t len, int flags)
{
	return do_mmap(mm, addr, len, RW, flags | MAP_FIXED, NULL, 0);
}

/* Map the canary page and fill it. */
static bool canary_map(struct ktest *t, struct mm_struct *mm)
{
	return map_at(mm, CANARY, P(1), PA) == (long)CANARY &&
	       ktest_user_fill(CANARY, P(1), CANARY_BYTE) == 0;
}

/* Is the canary still mapped, one VMA, with its data? */
#define EXPECT_CANARY(t, mm)                                                   \
	do {                                                                   \
		ktest_expect_vma(t, mm, CANARY, CANARY, CANARY + P(1));        \
		KEXPECT_EQ(t, ktest_user_all(CANARY, P(1), CANARY_BYTE), 1);   \
	} while (0)

/* Reproducer 2 of the issue: an old range that starts in the kernel half
 * and wraps past 2^64 onto [0x1000, 0x201000) used to unmap the page at
 * 0x200000 and return 0xfffffffffffff000. Linux: -EFAULT, nothing changes. */
MM_CASE(mremap_kernel_half_old_range_is_efault_and_unmaps_nothing)
{
	KASSERT_TRUE(t, canary_map(t, mm));
	KEXPECT_EQ(t, do_mremap(mm, KERNEL_TOP_PAGE, 0x202000, 0x2000, MM, 0), -EFAULT);
	KEXPECT_EQ(t, do_mremap(mm, KERNEL_TOP_PAGE, 0x202000, 0x2000, MF, B), -EFAULT);
	KEXPECT_EQ(t, do_mremap(mm, KERNEL_TOP_PAGE, 0x202000, 0x2000, 0, 0), -EFAULT);
	EXPECT_CANARY(t, mm);
	KEXPECT_EQ(t, mm->map_count, 1);
}

/* Reproducer 1: a new length of 2^64 - 4096 used to pass every check and
 * panic in mremap_move() (two pages) or leave a reversed VMA (one page). */
MM_CASE(mremap_new_len_near_2_pow_64_is_refused_and_changes_nothing)
{
	KASSERT_TRUE(t, canary_map(t, mm));
	for (size_t pages = 1; pages <= 2; pages++) {
		uintptr_t a = B + P(16 * pages);
		KASSERT_EQ(t, map_at(mm, a, P(pages), PA), (long)a);
		KASSERT_EQ(t, ktest_user_fill(a, P(pages), 0x11), 0);
		KEXPECT_EQ(t, do_mremap(mm, a, P(1), KERNEL_TOP_PAGE, MM, 0), -ENOMEM);
		KEXPECT_EQ(t, do_mremap(mm, a, P(1), KERNEL_TOP_PAGE, 0, 0), -ENOMEM);
		ktest_expect_vma(t, mm, a, a, a + P(pages));
		KEXPECT_EQ(t, ktest_user_all(a, P(pages), 0x11), 1);
	}
	EXPECT_CANARY(t, mm);
	KEXPECT_EQ(t, mm->map_count, 3);
}

struct mremap_row {
	const char *what;
	uintptr_t addr;
	size_t old_len, new_len;
	int flags;
	uintptr_t new_addr;
	long expect;
};

#define SRC (B + P(16)) /* a two-page source mapping */
static const struct mremap_row mremap_rows[] = {
	/* [addr, addr + old_len): no mapping there is -EFAULT on every path. */
	{ "addr in the kernel half", KERNEL_TOP_PAGE, P(1), P(2), MM, 0, -EFAULT },
	{ "addr at the canonical boundary", NONCANONICAL, P(1), P(2), MM, 0, -EFAULT },
	{ "addr at the last user page", USER_SPACE_END - P(1), P(1), P(2), MM, 0, -EFAULT },
	{ "addr at USER_SPACE_END", USER_SPACE_END, P(1), P(1), 0, 0, -EFAULT },
	{ "old_len past the mapping (grow)", SRC, P(3), P(4), MM, 0, -EFAULT },
	{ "old_len 2^64-4096 (shrink)", SRC, KERNEL_TOP_PAGE, P(1), 0, 0, -EINVAL },
	{ "old_len 2^47 (shrink)", SRC, 1UL << 47, P(1), 0, 0, -EINVAL },
	{ "old_len rounds past 2^64", SRC, (size_t)-1, P(1), 0, 0, -EINVAL },
	{ "old_len 2^64-4096 (fixed)", SRC, KERNEL_TOP_PAGE, P(2), MF, B + P(64), -EINVAL },
	/* [addr, addr + new_len). */
	{ "new_len 2^64-4096", SRC, P(2), KERNEL_TOP_PAGE, MM, 0, -ENOMEM },
	{ "new_len -4096", SRC, P(2), (size_t)-4096, MM, 0, -ENOMEM },
	{ "new_len 2^47", SRC, P(2), 1UL << 47, MM, 0, -ENOMEM },
	{ "new_len rounds past 2^64", SRC, P(2), (size_t)-1, MM, 0, -EINVAL },
	{ "new_len 0", SRC, P(2), 0, MM, 0, -EINVAL },
	/* [new_addr, new_addr + new_len). */
	{ "new_addr in the kernel half", SRC, P(2), P(2), MF, KERNEL_TOP_PAGE, -EINVAL },
	{ "new_addr at the canonical boundary", SRC, P(2), P(2), MF, NONCANONICAL, -EINVAL },
	{ "new range crosses USER_SPACE_END", SRC, P(2), P(2), MF, USER_SPACE_END - P(1), -EINVAL },
	{ "new range 2^47 long", SRC, P(2), 1UL << 47, MF, B + P(64), -EINVAL },
	{ "new range wraps past 2^64", SRC, P(2), P(4), MF, KERNEL_TOP_PAGE - P(1), -EINVAL },
	{ "new range overlaps the old", SRC, P(2), P(2), MF, SRC + P(1), -EINVAL },
	{ "new_addr unaligned", SRC, P(2), P(2), MF, B + P(64) + 1, -EINVAL },
	{ "new_addr below mmap_min_addr", SRC, P(2), P(2), MF, P(1), -EPERM },
};

/* Every hostile range of the table is refused with Linux's errno, before
 * anything changes: the source and the canary keep their data. */
MM_CASE(mremap_hostile_ranges_fail_with_linux_errno_and_change_nothing)
{
	KASSERT_TRUE(t, canary_map(t, mm));
	KASSERT_EQ(t, map_at(mm, SRC, P(2), PA), (long)SRC);
	KASSERT_EQ(t, ktest_user_fill(SRC, P(2), 0x5a), 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(mremap_rows); i++) {
		const struct mremap_row *r = &mremap_rows[i];
		long got = do_mremap(mm, r->addr, r->old_len, r->new_len, r->flags, r->new_addr);
		if (got != r->expect)
			ktest_fail(t, __FILE__, __LINE__, "%s: got %ld (%#lx), expected %ld",
				   r->what, got, (unsigned long)got, r->expect);
	}
	ktest_expect_vma(t, mm, SRC, SRC, SRC + P(2));
	KEXPECT_EQ(t, ktest_user_all(SRC, P(2), 0x5a), 1);
	EXPECT_CANARY(t, mm);
	KEXPECT_EQ(t, mm->map_count, 2);
}

/* A move to the last page of user space is legal. */
MM_CASE(mremap_fixed_to_the_last_user_page_works)
{
	uintptr_t top = USER_SPACE_END - P(1);

	KASSERT_EQ(t, map_at(mm, SRC, P(1), PA), (long)SRC);
	KASSERT_EQ(t, ktest_user_fill(SRC, P(1), 0x7e), 0);
	KASSERT_EQ(t, do_mremap(mm, SRC, P(1), P(1), MF, top), (long)top);
	ktest_expect_vma(t, mm, top, top, USER_SPACE_END);
	KEXPECT_EQ(t, ktest_user_all(top, P(1), 0x7e), 1);
	KEXPECT_NULL(t, vma_lookup(mm, SRC));
}

/* Fail the k-th frame allocation of a move, for every k until the move
 * succeeds: each failure is -ENOMEM with the source mapped at its address
 * with its data, and nothing at the destination. The destination is in
 * another PML4 slot, so the move needs a PDPT, a PD and a PT. */
static void sweep_move(struct ktest *t, struct mm_struct *mm, int map_flags, size_t old_len,
		       size_t new_len, int flags, uintptr_t dest)
{
	unsigned int k;
	long r = -ENOMEM;

	KASSERT_EQ(t, map_at(mm, SRC, old_len, map_flags), (long)SRC);
	KASSERT_EQ(t, ktest_user_fill(SRC, old_len, 0x3c), 0);
	KASSERT_EQ(t, map_at(mm, SRC + old_len, P(1), PA | MAP_FIXED), (long)(SRC + old_len));
	for (k = 0; k < 32; k++) {
		pmm_fail_after(k);
		r = do_mremap(mm, SRC, old_len, new_len, flags, dest);
		pmm_fail_after(PMM_NO_FAIL);
		if (r >= 0)
			break;
		KASSERT_EQ(t, r, -ENOMEM);
		KASSERT_EQ(t, ktest_user_all(SRC, old_len, 0x3c), 1);
		KASSERT_NULL(t, vma_intersect(mm, dest, dest + new_len));
	}
	KASSERT_GT(t, k, 0); /* the first allocation's failure was seen */
	KASSERT_GT(t, r, 0);
	KEXPECT_EQ(t, ktest_user_all(r, old_len, 0x3c), 1);
	/* Private memory grows with zeros; a shmem object does not grow with
	 * its mapping: past its end there is nothing (SIGBUS, as Linux). */
	KEXPECT_EQ(t, ktest_user_all(r + old_len, new_len - old_len, 0),
		   (map_flags & MAP_SHARED) ? -EFAULT : 1);
	KEXPECT_NULL(t, vma_lookup(mm, SRC));
}

MM_CASE(mremap_fixed_move_failing_at_any_allocation_keeps_the_data)
{
	sweep_move(t, mm, PA, P(4), P(4), MF, 0x0000200000000000UL);
}

MM_CASE(mremap_growing_shared_move_failing_at_any_allocation_keeps_the_data)
{
	sweep_move(t, mm, MAP_SHARED | MAP_ANONYMOUS, P(2), P(6), MF, 0x0000200000000000UL);
}

static const struct ktest_case mremap_cases[] = {
	KTEST_CASE(mremap_kernel_half_old_range_is_efault_and_unmaps_nothing),
	KTEST_CASE(mremap_new_len_near_2_pow_64_is_refused_and_changes_nothing),
	KTEST_CASE(mremap_hostile_ranges_fail_with_linux_errno_and_change_nothing),
	KTEST_CASE(mremap_fixed_to_the_last_user_page_works),
	KTEST_CASE(mremap_fixed_move_failing_at_any_allocation_keeps_the_data),
	KTEST_CASE(mremap_growing_shared_move_failing_at_any_allocation_keeps_the_data),
};
KTEST_SUITE(mremap, mremap_cases);
