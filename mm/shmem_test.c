/* Tests of shared memory as files (mm/shmem.c): shared anonymous memory is
 * a shmem object whose pages come on fault and are counted as Shmem; fork
 * shares them through the object, even those not touched before the fork;
 * mremap with old_len 0 maps the same object again; a memfd-like file
 * maps and grows with truncate. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/layout.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/shmem.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define P PAGE_SIZE
#define BASE 0x0000100000000000UL
#define FAR 0x0000200000000000UL

static long map_shared(struct mm_struct *mm, uintptr_t at, size_t len)
{
	return do_mmap(mm, at, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
}

MM_CASE(shmem_shared_anonymous_memory_comes_on_fault)
{
	uint64_t shmem = filemap_shmem_pages();
	struct vm_area_struct *v;

	KASSERT_EQ(t, map_shared(mm, BASE, 4 * P), (long)BASE);
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, BASE));
	KASSERT_NOT_NULL(t, vma_mapping(v));
	KEXPECT_TRUE(t, vma_mapping(v)->flags & AS_SHMEM);
	KEXPECT_EQ(t, filemap_shmem_pages(), shmem);
	KEXPECT_EQ(t, ktest_user_fill(BASE + 2 * P, 8, 0x5), 0);
	KEXPECT_EQ(t, filemap_shmem_pages(), shmem + 1);
	KEXPECT_EQ(t, v->vm_file->inode->size, 4 * P);
	KEXPECT_EQ(t, do_munmap(mm, BASE, 4 * P), 0);
	KEXPECT_EQ(t, filemap_shmem_pages(), shmem); /* the object went with its mapping */
}

static int put_word(struct mm_struct *mm, uintptr_t va, uint64_t v)
{
	struct pt_lookup_result r;

	if (pt_lookup(mm->pgd, va, &r) < 0 || !(r.pte & PTE_WRITE)) {
		if (handle_mm_fault(mm, va, FAULT_FLAG_WRITE) != VM_FAULT_OK ||
		    pt_lookup(mm->pgd, va, &r) < 0)
			return -EFAULT;
	}
	*(uint64_t *)phys_to_virt(r.phys) = v;
	return 0;
}

static int get_word(struct mm_struct *mm, uintptr_t va, uint64_t *v)
{
	struct pt_lookup_result r;

	if (pt_lookup(mm->pgd, va, &r) < 0) {
		if (handle_mm_fault(mm, va, 0) != VM_FAULT_OK || pt_lookup(mm->pgd, va, &r) < 0)
			return -EFAULT;
	}
	*v = *(uint64_t *)phys_to_virt(r.phys);
	return 0;
}

/* A page nobody touched before the fork is still one page for both. */
MM_CASE(shmem_fork_shares_pages_not_touched_before_it)
{
	struct mm_struct *child;
	uint64_t v = 0;

	KASSERT_EQ(t, map_shared(mm, BASE, 2 * P), (long)BASE);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	KEXPECT_EQ(t, put_word(child, BASE + P, 0xc0ffee), 0);
	KEXPECT_EQ(t, get_word(mm, BASE + P, &v), 0);
	KEXPECT_EQ(t, v, 0xc0ffee);
	KEXPECT_EQ(t, put_word(mm, BASE, 0xabc), 0);
	KEXPECT_EQ(t, get_word(child, BASE, &v), 0);
	KEXPECT_EQ(t, v, 0xabc);
	mm_destroy(child);
}

MM_CASE(shmem_mremap_old_len_zero_maps_the_object_again)
{
	uint64_t v = 0;

	KASSERT_EQ(t, map_shared(mm, BASE, 4 * P), (long)BASE);
	KEXPECT_EQ(t, do_mremap(mm, BASE + P, 0, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, FAR),
		   (long)FAR);
	KEXPECT_NOT_NULL(t, vma_lookup(mm, BASE + P)); /* the original stays */
	KEXPECT_EQ(t, rmap_count(vma_mapping(vma_lookup(mm, FAR))), 2);
	KEXPECT_EQ(t, put_word(mm, FAR + P, 0x1234), 0); /* object page 2 */
	KEXPECT_EQ(t, get_word(mm, BASE + 2 * P, &v), 0);
	KEXPECT_EQ(t, v, 0x1234);
	/* Without MREMAP_MAYMOVE there is nowhere to put it. */
	KEXPECT_EQ(t, do_mremap(mm, BASE, 0, P, 0, 0), -ENOMEM);
	/* A private mapping has no object to duplicate. */
	KASSERT_EQ(t, do_mmap(mm, FAR + 64 * P, P, PROT_READ,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)(FAR + 64 * P));
	KEXPECT_EQ(t, do_mremap(mm, FAR + 64 * P, 0, P, MREMAP_MAYMOVE, 0), -EINVAL);
}

/* A memfd: a shmem file of size 0 that truncate grows and mmap maps;
 * its pages count as Shmem and go with the last reference. */
MM_CASE(shmem_file_grows_with_truncate_and_maps)
{
	uint64_t shmem = filemap_shmem_pages();
	struct file *f;
	uint64_t v = 0;
	int err;

	KASSERT_NOT_NULL(t, f = shmem_file_setup("/memfd:test", 0, &err));
	KEXPECT_EQ(t, f->inode->nlink, 0);
	KEXPECT_EQ(t, do_mmap(mm, BASE, P, PROT_READ, MAP_SHARED | MAP_FIXED, f, 0), (long)BASE);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, 0), VM_FAULT_SIGBUS); /* size 0 */
	KEXPECT_EQ(t, ramfs_truncate(f->inode, 3 * P), 0);
	KEXPECT_EQ(t, vfs_pwrite(f, "\x42", 1, 2 * P), 1);
	KEXPECT_EQ(t, do_mmap(mm, FAR, 3 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 0),
		   (long)FAR);
	KEXPECT_EQ(t, get_word(mm, FAR + 2 * P, &v), 0);
	KEXPECT_EQ(t, v & 0xff, 0x42);
	KEXPECT_EQ(t, filemap_shmem_pages(), shmem + 1);
	file_put(f);
	do_munmap(mm, FAR, 3 * P);
	do_munmap(mm, BASE, P);
	KEXPECT_EQ(t, filemap_shmem_pages(), shmem);
}

static const struct ktest_case shmem_cases[] = {
	KTEST_CASE(shmem_shared_anonymous_memory_comes_on_fault),
	KTEST_CASE(shmem_fork_shares_pages_not_touched_before_it),
	KTEST_CASE(shmem_mremap_old_len_zero_maps_the_object_again),
	KTEST_CASE(shmem_file_grows_with_truncate_and_maps),
};
KTEST_SUITE(shmem, shmem_cases);
