/* Tests of mlock and friends (mm/mlock.c): locking splits the VMAs at the
 * range's edges, sets VM_LOCKED and faults every page in (writable where a
 * private mapping would copy); a hole is -ENOMEM with nothing changed;
 * munlock clears; mlockall sets the default for new mappings. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/vma.h>

#define P PAGE_SIZE
#define BASE 0x0000100000000000UL

static long map_anon(struct mm_struct *mm, uintptr_t at, size_t len, int prot)
{
	return do_mmap(mm, at, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
}

static bool writable(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0 && (r.pte & PTE_WRITE);
}

MM_CASE(mlock_splits_locks_and_populates_the_range)
{
	KASSERT_EQ(t, map_anon(mm, BASE, 4 * P, PROT_READ | PROT_WRITE), (long)BASE);
	/* An unaligned start takes its whole page: [BASE, BASE + 3 pages). */
	KEXPECT_EQ(t, do_mlock(mm, BASE + 100, 2 * P, 0), 0);
	ktest_expect_vma(t, mm, BASE, BASE, BASE + 3 * P);
	KEXPECT_TRUE(t, vma_lookup(mm, BASE)->vm_flags & VM_LOCKED);
	KEXPECT_FALSE(t, vma_lookup(mm, BASE + 3 * P)->vm_flags & VM_LOCKED);
	for (unsigned int i = 0; i < 4; i++)
		KEXPECT_EQ(t, writable(mm, BASE + i * P), i < 3);
	KEXPECT_EQ(t, do_munlock(mm, BASE, 3 * P), 0);
	KEXPECT_FALSE(t, vma_lookup(mm, BASE)->vm_flags & VM_LOCKED);
	KEXPECT_EQ(t, do_mlock(mm, BASE, 0, 0), 0);
	KEXPECT_EQ(t, do_mlock(mm, BASE, P, 7), -EINVAL);
}

MM_CASE(mlock_with_a_hole_is_enomem_and_locks_nothing)
{
	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KASSERT_EQ(t, map_anon(mm, BASE + 2 * P, P, PROT_READ | PROT_WRITE), (long)(BASE + 2 * P));
	KEXPECT_EQ(t, do_mlock(mm, BASE, 3 * P, 0), -ENOMEM);
	KEXPECT_FALSE(t, vma_lookup(mm, BASE)->vm_flags & VM_LOCKED);
	KEXPECT_FALSE(t, writable(mm, BASE));
	KEXPECT_EQ(t, do_munlock(mm, BASE, 3 * P), -ENOMEM);
}

/* MLOCK_ONFAULT locks without populating; PROT_NONE is locked, not
 * faulted in. */
MM_CASE(mlock_onfault_and_prot_none_populate_nothing)
{
	struct pt_lookup_result r;

	KASSERT_EQ(t, map_anon(mm, BASE, 2 * P, PROT_READ | PROT_WRITE), (long)BASE);
	KASSERT_EQ(t, map_anon(mm, BASE + 2 * P, P, PROT_NONE), (long)(BASE + 2 * P));
	KEXPECT_EQ(t, do_mlock(mm, BASE, 2 * P, MLOCK_ONFAULT), 0);
	KEXPECT_TRUE(t, vma_lookup(mm, BASE)->vm_flags & VM_LOCKONFAULT);
	KEXPECT_EQ(t, pt_lookup(mm->pgd, BASE, &r), -ENOENT);
	KEXPECT_EQ(t, do_mlock(mm, BASE + 2 * P, P, 0), 0);
	KEXPECT_EQ(t, pt_lookup(mm->pgd, BASE + 2 * P, &r), -ENOENT);
}

MM_CASE(mlockall_future_locks_new_mappings_until_munlockall)
{
	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, do_mlockall(mm, 0), -EINVAL);
	KEXPECT_EQ(t, do_mlockall(mm, MCL_ONFAULT), -EINVAL);
	KEXPECT_EQ(t, do_mlockall(mm, 8), -EINVAL);
	KEXPECT_EQ(t, do_mlockall(mm, MCL_CURRENT | MCL_FUTURE), 0);
	KEXPECT_TRUE(t, vma_lookup(mm, BASE)->vm_flags & VM_LOCKED);
	KEXPECT_TRUE(t, writable(mm, BASE));
	KASSERT_EQ(t, map_anon(mm, BASE + 4 * P, P, PROT_READ), (long)(BASE + 4 * P));
	KEXPECT_TRUE(t, vma_lookup(mm, BASE + 4 * P)->vm_flags & VM_LOCKED);
	KEXPECT_EQ(t, do_munlockall(mm), 0);
	KEXPECT_FALSE(t, vma_lookup(mm, BASE)->vm_flags & VM_LOCKED);
	KASSERT_EQ(t, map_anon(mm, BASE + 8 * P, P, PROT_READ), (long)(BASE + 8 * P));
	KEXPECT_FALSE(t, vma_lookup(mm, BASE + 8 * P)->vm_flags & VM_LOCKED);
}

static const struct ktest_case mlock_cases[] = {
	KTEST_CASE(mlock_splits_locks_and_populates_the_range),
	KTEST_CASE(mlock_with_a_hole_is_enomem_and_locks_nothing),
	KTEST_CASE(mlock_onfault_and_prot_none_populate_nothing),
	KTEST_CASE(mlockall_future_locks_new_mappings_until_munlockall),
};
KTEST_SUITE(mlock, mlock_cases);
