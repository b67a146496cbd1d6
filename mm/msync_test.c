/* Tests of msync and mincore (mm/msync.c): msync's checks in Linux's order
 * (-EINVAL, -ENOMEM for a hole, -EBUSY for a locked page to invalidate);
 * mincore's residency: a mapped page, a cached page of a file, nothing for
 * anonymous memory never touched, -ENOMEM where no VMA is. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define P PAGE_SIZE
#define BASE 0x0000100000000000UL
#define PATH "/tmp/msync_test"

static long map_anon(struct mm_struct *mm, uintptr_t at, size_t len)
{
	return do_mmap(mm, at, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
}

MM_CASE(msync_checks_arguments_holes_and_locks_as_linux)
{
	KASSERT_EQ(t, map_anon(mm, BASE, 2 * P), (long)BASE);
	KASSERT_EQ(t, map_anon(mm, BASE + 3 * P, P), (long)(BASE + 3 * P));
	KEXPECT_EQ(t, do_msync(mm, BASE, 2 * P, MS_SYNC), 0);
	KEXPECT_EQ(t, do_msync(mm, BASE, 0, MS_SYNC), 0);
	KEXPECT_EQ(t, do_msync(mm, BASE + 1, P, MS_SYNC), -EINVAL);
	KEXPECT_EQ(t, do_msync(mm, BASE, P, MS_SYNC | MS_ASYNC), -EINVAL);
	KEXPECT_EQ(t, do_msync(mm, BASE, P, 8), -EINVAL);
	KEXPECT_EQ(t, do_msync(mm, BASE, 4 * P, MS_SYNC), -ENOMEM);   /* the hole */
	KEXPECT_EQ(t, do_msync(mm, BASE, 4 * P, MS_ASYNC), -ENOMEM);
	KEXPECT_EQ(t, do_msync(mm, BASE + 8 * P, P, MS_SYNC), -ENOMEM); /* nothing at all */
	KEXPECT_EQ(t, do_mlock(mm, BASE, P, 0), 0);
	KEXPECT_EQ(t, do_msync(mm, BASE, P, MS_INVALIDATE), -EBUSY);
	KEXPECT_EQ(t, do_msync(mm, BASE + P, P, MS_INVALIDATE), 0);
}

MM_CASE(mincore_counts_entries_and_cached_file_pages)
{
	unsigned char vec[4] = { 9, 9, 9, 9 };
	struct file *f;
	int err;

	KASSERT_EQ(t, map_anon(mm, BASE, 3 * P), (long)BASE);
	KASSERT_EQ(t, handle_mm_fault(mm, BASE + P, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KEXPECT_EQ(t, do_mincore(mm, BASE, 3, vec), 3);
	KEXPECT_EQ(t, vec[0], 0);
	KEXPECT_EQ(t, vec[1], 1);
	KEXPECT_EQ(t, vec[2], 0);
	KEXPECT_EQ(t, vec[3], 9);
	KEXPECT_EQ(t, do_mincore(mm, BASE + 2 * P, 4, vec), 1); /* up to the VMA's end */
	KEXPECT_EQ(t, do_mincore(mm, BASE + 3 * P, 1, vec), -ENOMEM);
	/* A file page that is cached counts before any fault. */
	KASSERT_EQ(t, vfs_create_file(PATH, 0644, "abc", 3), 0);
	KASSERT_NOT_NULL(t, f = vfs_open("/", PATH, O_RDONLY, 0, &err));
	KASSERT_EQ(t, ramfs_truncate(f->inode, 3 * P), 0); /* pages 1, 2: holes */
	KASSERT_EQ(t, do_mmap(mm, BASE + 8 * P, 3 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, f, 0),
		   (long)(BASE + 8 * P));
	KEXPECT_EQ(t, do_mincore(mm, BASE + 8 * P, 3, vec), 3);
	KEXPECT_EQ(t, vec[0], 1);
	KEXPECT_EQ(t, vec[1], 0);
	vfs_unlink_at(NULL, PATH, false);
	file_put(f);
}

static const struct ktest_case msync_cases[] = {
	KTEST_CASE(msync_checks_arguments_holes_and_locks_as_linux),
	KTEST_CASE(mincore_counts_entries_and_cached_file_pages),
};
KTEST_SUITE(msync, msync_cases);
