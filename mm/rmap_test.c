/* Tests of the reverse map (mm/rmap.c): the VMAs a file's i_mmap lists
 * through mmap, split, mremap, fork and exit, and truncation taking the
 * pages past the new end out of every address space that maps them,
 * private copies included. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/pmm.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define P PAGE_SIZE
#define BASE 0x0000100000000000UL
#define FAR 0x0000200000000000UL
#define PATH "/tmp/rmap_test"

static struct file *make_file(size_t pages)
{
	static uint8_t page[PAGE_SIZE];
	struct file *f;
	int err;

	if (vfs_create_file(PATH, 0644, NULL, 0) < 0)
		return NULL;
	f = vfs_open("/", PATH, O_RDWR, 0, &err);
	for (size_t i = 0; f && i < pages; i++) {
		memset(page, 0x40 + i, sizeof(page));
		vfs_write(f, page, sizeof(page));
	}
	return f;
}

static void drop_file(struct file *f)
{
	vfs_unlink_at(NULL, PATH, false);
	file_put(f);
}

static bool mapped(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0;
}

static long map(struct mm_struct *mm, uintptr_t at, struct file *f, size_t len, int flags,
		unsigned long pgoff)
{
	return do_mmap(mm, at, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, f, pgoff);
}

static int fault_all(struct mm_struct *mm, uintptr_t at, size_t len, unsigned int flags)
{
	for (uintptr_t a = at; a < at + len; a += P)
		if (handle_mm_fault(mm, a, flags) != VM_FAULT_OK)
			return -EFAULT;
	return 0;
}

MM_CASE(rmap_lists_every_vma_that_maps_the_file)
{
	struct file *f = make_file(4);
	struct address_space *m;

	KASSERT_NOT_NULL(t, f);
	m = f->inode->i_mapping;
	KEXPECT_EQ(t, rmap_count(m), 0);
	KASSERT_EQ(t, map(mm, BASE, f, 4 * P, MAP_SHARED, 0), (long)BASE);
	KASSERT_EQ(t, map(mm, FAR, f, 2 * P, MAP_PRIVATE, 2), (long)FAR);
	KEXPECT_EQ(t, rmap_count(m), 2);
	/* A hole in the middle splits the VMA: both halves map the file. */
	KEXPECT_EQ(t, do_munmap(mm, BASE + P, P), 0);
	KEXPECT_EQ(t, rmap_count(m), 3);
	KEXPECT_EQ(t, do_munmap(mm, FAR, 2 * P), 0);
	KEXPECT_EQ(t, rmap_count(m), 2);
	/* mremap moves the VMA and its place on the list. */
	KEXPECT_EQ(t, do_mremap(mm, BASE + 2 * P, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, FAR),
		   (long)FAR);
	KEXPECT_EQ(t, rmap_count(m), 2);
	KEXPECT_EQ(t, do_munmap(mm, BASE, 4 * P), 0);
	KEXPECT_EQ(t, do_munmap(mm, FAR, 2 * P), 0);
	KEXPECT_EQ(t, rmap_count(m), 0);
	drop_file(f);
}

/* Two processes map the file shared, one of them also privately with a
 * copy of its own of the last page: truncation to a page and a bit takes
 * pages 2 and 3 out of all three mappings, the copy included, and leaves
 * pages 0 and 1; the next touch past the end is SIGBUS. */
MM_CASE(rmap_truncate_unmaps_the_pages_past_the_end_from_every_process)
{
	struct mm_struct *other = mm_create();
	struct file *f = make_file(4);
	uint64_t before;

	KASSERT_NOT_NULL(t, other);
	KASSERT_NOT_NULL(t, f);
	KASSERT_EQ(t, map(mm, BASE, f, 4 * P, MAP_SHARED, 0), (long)BASE);
	KASSERT_EQ(t, map(mm, FAR, f, 4 * P, MAP_PRIVATE, 0), (long)FAR);
	KASSERT_EQ(t, map(other, BASE, f, 4 * P, MAP_SHARED, 0), (long)BASE);
	KASSERT_EQ(t, fault_all(mm, BASE, 4 * P, 0), 0);
	KASSERT_EQ(t, fault_all(mm, FAR, 4 * P, 0), 0);
	KASSERT_EQ(t, handle_mm_fault(mm, FAR + 3 * P, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KASSERT_EQ(t, fault_all(other, BASE, 4 * P, FAULT_FLAG_WRITE), 0);
	before = ktest_free_frames();
	KASSERT_EQ(t, ramfs_truncate(f->inode, P + 1), 0);
	for (unsigned int i = 0; i < 4; i++) {
		KEXPECT_EQ(t, mapped(mm, BASE + i * P), i < 2);
		KEXPECT_EQ(t, mapped(mm, FAR + i * P), i < 2);
		KEXPECT_EQ(t, mapped(other, BASE + i * P), i < 2);
	}
	/* Two cache pages and the private copy are free again. */
	KEXPECT_EQ(t, ktest_free_frames(), before + 3);
	KEXPECT_EQ(t, handle_mm_fault(other, BASE + 2 * P, 0), VM_FAULT_SIGBUS);
	KEXPECT_EQ(t, handle_mm_fault(mm, FAR + 3 * P, FAULT_FLAG_WRITE), VM_FAULT_SIGBUS);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + P, 0), VM_FAULT_OK);
	mm_destroy(other);
	KEXPECT_EQ(t, rmap_count(f->inode->i_mapping), 2);
	drop_file(f);
}

MM_CASE(rmap_fork_puts_the_child_on_the_list_and_truncation_reaches_it)
{
	struct file *f = make_file(3);
	struct mm_struct *child;

	KASSERT_NOT_NULL(t, f);
	KASSERT_EQ(t, map(mm, BASE, f, 3 * P, MAP_SHARED, 0), (long)BASE);
	KASSERT_EQ(t, fault_all(mm, BASE, 3 * P, 0), 0);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	KEXPECT_EQ(t, rmap_count(f->inode->i_mapping), 2);
	KEXPECT_TRUE(t, mapped(child, BASE + 2 * P));
	KASSERT_EQ(t, ramfs_truncate(f->inode, P), 0);
	KEXPECT_FALSE(t, mapped(child, BASE + 2 * P));
	KEXPECT_FALSE(t, mapped(child, BASE + P));
	KEXPECT_TRUE(t, mapped(child, BASE));
	mm_destroy(child);
	KEXPECT_EQ(t, rmap_count(f->inode->i_mapping), 1);
	drop_file(f);
}

/* The mapping outlives close() and unlink(): the VMA holds the file. */
MM_CASE(rmap_mapping_survives_close_and_unlink)
{
	struct file *f = make_file(2);
	struct address_space *m;

	KASSERT_NOT_NULL(t, f);
	m = f->inode->i_mapping;
	KASSERT_EQ(t, map(mm, BASE, f, 2 * P, MAP_SHARED, 0), (long)BASE);
	drop_file(f); /* unlinked and closed: the VMA's reference is left */
	KEXPECT_EQ(t, ktest_user_all(BASE + P, P, 0x41), 1);
	KEXPECT_EQ(t, ktest_user_fill(BASE, 8, 0x7), 0);
	KEXPECT_EQ(t, rmap_count(m), 1);
}

static const struct ktest_case rmap_cases[] = {
	KTEST_CASE(rmap_lists_every_vma_that_maps_the_file),
	KTEST_CASE(rmap_truncate_unmaps_the_pages_past_the_end_from_every_process),
	KTEST_CASE(rmap_fork_puts_the_child_on_the_list_and_truncation_reaches_it),
	KTEST_CASE(rmap_mapping_survives_close_and_unlink),
};
KTEST_SUITE(rmap, rmap_cases);
