/* Tests of the page cache (mm/filemap.c): file data through the cache,
 * holes, truncation, fallocate, a 10,000-page file, the fault paths of
 * shared and private file mappings, SIGBUS past the end, the checks of a
 * mapping against the open mode, and allocation failure at every step of
 * a write and of a fault. Files live in /tmp (ramfs); each case removes
 * its file, and the mm cases check that no frame leaked. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define P PAGE_SIZE
#define BASE 0x0000100000000000UL
#define PATH "/tmp/filemap_test"

static uint8_t buf[4 * PAGE_SIZE];

/* A new file at PATH with len bytes of byte, open with flags. */
static struct file *make_file(struct ktest *t, size_t len, uint8_t byte, unsigned int flags)
{
	struct file *f;
	int err;

	memset(buf, byte, sizeof(buf));
	if (vfs_create_file(PATH, 0644, NULL, 0) < 0)
		return NULL;
	f = vfs_open("/", PATH, O_RDWR, 0, &err);
	for (size_t off = 0; f && off < len; off += sizeof(buf))
		if (vfs_write(f, buf, MIN(len - off, sizeof(buf))) < 0)
			ktest_fail(t, __FILE__, __LINE__, "write failed");
	if (f && (flags & O_ACCMODE) != O_RDWR) {
		file_put(f);
		f = vfs_open("/", PATH, flags, 0, &err);
	}
	return f;
}

static void drop_file(struct file *f)
{
	vfs_unlink_at(NULL, PATH, false);
	file_put(f);
}

static struct address_space *mapping_of(struct file *f)
{
	return f->inode->i_mapping;
}

static struct page *cache_page(struct file *f, uint64_t index)
{
	struct page *p;

	mapping_lock(mapping_of(f));
	p = filemap_get_page_locked(mapping_of(f), index, false);
	mapping_unlock(mapping_of(f));
	return p;
}

static phys_addr_t frame_at(struct mm_struct *mm, uintptr_t va, pte_t *pte)
{
	struct pt_lookup_result r;

	if (pt_lookup(mm->pgd, va, &r) < 0)
		return 0;
	if (pte)
		*pte = r.pte;
	return r.phys & PAGE_MASK;
}

static void filemap_write_then_read_goes_through_the_cache(struct ktest *t)
{
	uint64_t cached = filemap_cached_pages();
	struct file *f = make_file(t, 3 * P, 0x5a, O_RDWR);
	uint8_t c = 0;

	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, mapping_of(f)->pages.count, 3);
	KEXPECT_EQ(t, filemap_cached_pages(), cached + 3);
	KEXPECT_EQ(t, ((uint8_t *)page_address(cache_page(f, 2)))[P - 1], 0x5a);
	((uint8_t *)page_address(cache_page(f, 1)))[7] = 0x11;
	KEXPECT_EQ(t, vfs_pread(f, &c, 1, P + 7), 1);
	KEXPECT_EQ(t, c, 0x11);
	drop_file(f);
	KEXPECT_EQ(t, filemap_cached_pages(), cached);
}

static void filemap_hole_reads_zeros_and_takes_no_page(struct ktest *t)
{
	struct file *f = make_file(t, 0, 0, O_RDWR);

	KASSERT_NOT_NULL(t, f);
	KASSERT_EQ(t, ramfs_truncate(f->inode, 10 * P), 0);
	memset(buf, 0xff, sizeof(buf));
	KEXPECT_EQ(t, vfs_pread(f, buf, 2 * P, 4 * P), (ssize_t)(2 * P));
	KEXPECT_EQ(t, buf[0] | buf[2 * P - 1], 0);
	KEXPECT_EQ(t, mapping_of(f)->pages.count, 0);
	KEXPECT_EQ(t, vfs_pwrite(f, "x", 1, 9 * P + 5), 1);
	KEXPECT_EQ(t, mapping_of(f)->pages.count, 1);
	KEXPECT_NOT_NULL(t, cache_page(f, 9));
	drop_file(f);
}

static void filemap_truncate_drops_pages_and_zeroes_the_tail(struct ktest *t)
{
	uint64_t before = ktest_free_frames();
	struct file *f = make_file(t, 4 * P, 0x77, O_RDWR);
	uint8_t *last;

	KASSERT_NOT_NULL(t, f);
	KASSERT_EQ(t, ramfs_truncate(f->inode, P + 100), 0);
	KEXPECT_EQ(t, mapping_of(f)->pages.count, 2);
	KEXPECT_EQ(t, f->inode->size, P + 100);
	last = page_address(cache_page(f, 1));
	KEXPECT_EQ(t, last[99], 0x77);
	KEXPECT_EQ(t, last[100] | last[P - 1], 0);
	/* Growing again shows zeros, not the old bytes. */
	KASSERT_EQ(t, ramfs_truncate(f->inode, 3 * P), 0);
	KEXPECT_EQ(t, vfs_pread(f, buf, P, 2 * P), (ssize_t)P);
	KEXPECT_EQ(t, buf[0] | buf[P - 1], 0);
	drop_file(f);
	KEXPECT_EQ(t, ktest_free_frames(), before);
}

/* A file of 10,000 pages (about 40 MiB): every page indexed, read back,
 * and freed by truncation. */
static void filemap_ten_thousand_page_file(struct ktest *t)
{
	uint64_t before = ktest_free_frames();
	struct file *f = make_file(t, 0, 0, O_RDWR);
	uint64_t k;

	KASSERT_NOT_NULL(t, f);
	for (k = 0; k < 10000; k++) {
		uint32_t v = (uint32_t)(k * 2654435761u);
		if (vfs_pwrite(f, &v, sizeof(v), k * P) != sizeof(v))
			break;
	}
	KEXPECT_EQ(t, k, 10000);
	KEXPECT_EQ(t, mapping_of(f)->pages.count, 10000);
	KEXPECT_EQ(t, f->inode->size, 9999 * P + 4);
	for (k = 0; k < 10000; k += 37) {
		uint32_t v = 0;
		vfs_pread(f, &v, sizeof(v), k * P);
		KEXPECT_EQ(t, v, (uint32_t)(k * 2654435761u));
	}
	KEXPECT_EQ(t, ramfs_truncate(f->inode, 0), 0);
	KEXPECT_EQ(t, mapping_of(f)->pages.count, 0);
	drop_file(f);
	KEXPECT_EQ(t, ktest_free_frames(), before);
}

/* Fail the k-th frame allocation of a three-page write into a new file:
 * a short count or -ENOSPC, and exactly the pages written are cached. */
static void filemap_write_failing_at_any_allocation_caches_what_it_wrote(struct ktest *t)
{
	uint64_t before = ktest_free_frames();
	struct file *f = make_file(t, 0, 0, O_RDWR);
	ssize_t r = -ENOSPC;
	unsigned int k;

	KASSERT_NOT_NULL(t, f);
	memset(buf, 0x42, sizeof(buf));
	for (k = 0; k < 16; k++) {
		ramfs_truncate(f->inode, 0);
		pmm_fail_after(k);
		r = vfs_pwrite(f, buf, 3 * P, 0);
		pmm_fail_after(PMM_NO_FAIL);
		if (r == (ssize_t)(3 * P))
			break;
		KASSERT_TRUE(t, r == -ENOSPC || (r > 0 && r % P == 0));
		KEXPECT_EQ(t, mapping_of(f)->pages.count, r > 0 ? (uint64_t)r / P : 0);
		KEXPECT_EQ(t, f->inode->size, r > 0 ? (uint64_t)r : 0);
	}
	KEXPECT_GT(t, k, 0);
	KEXPECT_EQ(t, r, (ssize_t)(3 * P));
	drop_file(f);
	KEXPECT_EQ(t, ktest_free_frames(), before);
}

static void filemap_fallocate_gives_pages_and_undoes_on_failure(struct ktest *t)
{
	struct file *f = make_file(t, P, 0x31, O_RDWR);
	unsigned int k;
	int r = -ENOSPC;

	KASSERT_NOT_NULL(t, f);
	for (k = 0; k < 16 && r == -ENOSPC; k++) {
		pmm_fail_after(k);
		r = ramfs_fallocate(f->inode, P / 2, 4 * P);
		pmm_fail_after(PMM_NO_FAIL);
		if (r == -ENOSPC) {
			KEXPECT_EQ(t, mapping_of(f)->pages.count, 1); /* only the old page */
			KEXPECT_EQ(t, f->inode->size, P);
		}
	}
	KEXPECT_GT(t, k, 1);
	KEXPECT_EQ(t, r, 0);
	KEXPECT_EQ(t, mapping_of(f)->pages.count, 5);
	KEXPECT_EQ(t, f->inode->size, P / 2 + 4 * P);
	KEXPECT_EQ(t, vfs_pread(f, buf, P, 0), (ssize_t)P);
	KEXPECT_EQ(t, buf[P - 1], 0x31); /* the data stays */
	KEXPECT_EQ(t, ramfs_fallocate(f->inode, 0, 2ULL << 30), -EFBIG);
	drop_file(f);
}

/* ---- faults on file mappings ---- */

static long map_file(struct mm_struct *mm, struct file *f, size_t len, int prot, int flags,
		     unsigned long pgoff)
{
	return do_mmap(mm, BASE, len, prot, flags | MAP_FIXED, f, pgoff);
}

MM_CASE(filemap_shared_store_is_the_file_data_at_once)
{
	struct file *f = make_file(t, 2 * P, 0x10, O_RDWR);
	pte_t pte = 0;

	KASSERT_NOT_NULL(t, f);
	KASSERT_EQ(t, map_file(mm, f, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, 0), (long)BASE);
	KEXPECT_EQ(t, ktest_user_all(BASE, 2 * P, 0x10), 1);
	KEXPECT_EQ(t, ktest_user_fill(BASE + P, P, 0xee), 0);
	KEXPECT_EQ(t, vfs_pread(f, buf, 1, P + 3), 1);
	KEXPECT_EQ(t, buf[0], 0xee);
	KEXPECT_EQ(t, frame_at(mm, BASE + P, &pte), page_to_phys(cache_page(f, 1)));
	KEXPECT_TRUE(t, pte & PTE_WRITE);
	KEXPECT_EQ(t, atomic_load(&cache_page(f, 1)->refcount), 2); /* cache + entry */
	/* write() is seen through the mapping too. */
	KEXPECT_EQ(t, vfs_pwrite(f, "\x99", 1, 0), 1);
	KEXPECT_EQ(t, ktest_user_all(BASE, 1, 0x99), 1);
	drop_file(f);
}

MM_CASE(filemap_private_read_shares_the_page_and_write_copies_it)
{
	struct file *f = make_file(t, 2 * P, 0x20, O_RDONLY);
	pte_t pte = 0;

	KASSERT_NOT_NULL(t, f);
	KASSERT_EQ(t, map_file(mm, f, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0), (long)BASE);
	KEXPECT_EQ(t, ktest_user_all(BASE, P, 0x20), 1);
	KEXPECT_EQ(t, frame_at(mm, BASE, &pte), page_to_phys(cache_page(f, 0)));
	KEXPECT_FALSE(t, pte & PTE_WRITE);
	KEXPECT_TRUE(t, pte & PTE_COW);
	/* The first write copies; the file does not change. */
	KEXPECT_EQ(t, ktest_user_fill(BASE, P, 0x21), 0);
	KEXPECT_NE(t, frame_at(mm, BASE, NULL), page_to_phys(cache_page(f, 0)));
	KEXPECT_EQ(t, atomic_load(&cache_page(f, 0)->refcount), 1);
	/* A write with no entry yet copies at once. */
	KEXPECT_EQ(t, ktest_user_fill(BASE + P, P, 0x22), 0);
	KEXPECT_NE(t, frame_at(mm, BASE + P, NULL), page_to_phys(cache_page(f, 1)));
	KEXPECT_EQ(t, vfs_pread(f, buf, 2 * P, 0), (ssize_t)(2 * P));
	KEXPECT_EQ(t, buf[0], 0x20);
	KEXPECT_EQ(t, buf[2 * P - 1], 0x20);
	drop_file(f);
}

MM_CASE(filemap_fault_past_the_end_is_sigbus_and_the_tail_reads_zeros)
{
	struct file *f = make_file(t, P + 10, 0x30, O_RDWR);

	KASSERT_NOT_NULL(t, f);
	KASSERT_EQ(t, map_file(mm, f, 3 * P, PROT_READ, MAP_SHARED, 0), (long)BASE);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + P, 0), VM_FAULT_OK);
	KEXPECT_EQ(t, ktest_user_all(BASE + P, 10, 0x30), 1);
	KEXPECT_EQ(t, ktest_user_all(BASE + P + 10, P - 10, 0), 1);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + 2 * P, 0), VM_FAULT_SIGBUS);
	KEXPECT_EQ(t, ktest_user_all(BASE + 2 * P, 1, 0), -EFAULT);
	/* An offset past the end: nothing to read at all. */
	KASSERT_EQ(t, do_mmap(mm, BASE + 8 * P, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, f, 5),
		   (long)(BASE + 8 * P));
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE + 8 * P, 0), VM_FAULT_SIGBUS);
	drop_file(f);
}

/* Linux's rules: a shared writable map needs a writer (EACCES), every map
 * a reader (EACCES for O_WRONLY), a shared map of a read-only file can
 * never be made writable (mprotect EACCES); a directory has no mmap. */
MM_CASE(filemap_mmap_checks_the_open_mode)
{
	struct file *ro = make_file(t, P, 1, O_RDONLY), *wo, *dir;
	int err;

	KASSERT_NOT_NULL(t, ro);
	wo = vfs_open("/", PATH, O_WRONLY, 0, &err);
	dir = vfs_open("/", "/tmp", O_RDONLY, 0, &err);
	KASSERT_NOT_NULL(t, wo);
	KASSERT_NOT_NULL(t, dir);
	KEXPECT_EQ(t, map_file(mm, ro, P, PROT_READ | PROT_WRITE, MAP_SHARED, 0), -EACCES);
	KEXPECT_EQ(t, map_file(mm, wo, P, PROT_READ, MAP_PRIVATE, 0), -EACCES);
	KEXPECT_EQ(t, map_file(mm, wo, P, PROT_WRITE, MAP_SHARED, 0), -EACCES);
	KEXPECT_EQ(t, map_file(mm, dir, P, PROT_READ, MAP_PRIVATE, 0), -ENODEV);
	KEXPECT_EQ(t, mm->map_count, 0);
	KEXPECT_EQ(t, map_file(mm, ro, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0), (long)BASE);
	KEXPECT_EQ(t, do_munmap(mm, BASE, P), 0);
	KASSERT_EQ(t, map_file(mm, ro, P, PROT_READ, MAP_SHARED, 0), (long)BASE);
	KEXPECT_EQ(t, do_mprotect(mm, BASE, P, PROT_READ | PROT_WRITE), -EACCES);
	KEXPECT_TRUE(t, vma_lookup(mm, BASE)->vm_flags & VM_MAYSHARE);
	file_put(wo);
	file_put(dir);
	drop_file(ro);
}

/* Fail the k-th frame allocation of a fault on a hole of a shared file
 * mapping, for every k: VM_FAULT_OOM with no entry and no new page in
 * the cache, until the fault succeeds. */
MM_CASE(filemap_fault_failing_at_any_allocation_leaves_no_page_and_no_entry)
{
	struct file *f = make_file(t, 0, 0, O_RDWR);
	struct pt_lookup_result r;
	vm_fault_t ret = VM_FAULT_OOM;
	unsigned int k;

	KASSERT_NOT_NULL(t, f);
	KASSERT_EQ(t, ramfs_truncate(f->inode, 4 * P), 0);
	KASSERT_EQ(t, map_file(mm, f, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, 0), (long)BASE);
	for (k = 0; k < 16 && ret == VM_FAULT_OOM; k++) {
		uint64_t before = ktest_free_frames();
		pmm_fail_after(k);
		ret = handle_mm_fault(mm, BASE + 2 * P, FAULT_FLAG_WRITE);
		pmm_fail_after(PMM_NO_FAIL);
		if (ret != VM_FAULT_OOM)
			break;
		KEXPECT_EQ(t, pt_lookup(mm->pgd, BASE + 2 * P, &r), -ENOENT);
		KEXPECT_EQ(t, mapping_of(f)->pages.count, 0);
		KEXPECT_EQ(t, ktest_free_frames(), before);
	}
	KEXPECT_GT(t, k, 1); /* the page, then the page tables */
	KEXPECT_EQ(t, ret, VM_FAULT_OK);
	KEXPECT_EQ(t, mapping_of(f)->pages.count, 1);
	drop_file(f);
}

/* The same for a private write: the copy fails, and so may the page
 * tables; the cache page the copy was made from goes too when the fault
 * made it. */
MM_CASE(filemap_private_write_fault_failing_leaves_no_copy)
{
	struct file *f = make_file(t, 2 * P, 0x61, O_RDWR);
	vm_fault_t ret = VM_FAULT_OOM;
	unsigned int k;

	KASSERT_NOT_NULL(t, f);
	KASSERT_EQ(t, map_file(mm, f, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0), (long)BASE);
	for (k = 0; k < 16 && ret == VM_FAULT_OOM; k++) {
		uint64_t before = ktest_free_frames();
		pmm_fail_after(k);
		ret = handle_mm_fault(mm, BASE + P, FAULT_FLAG_WRITE);
		pmm_fail_after(PMM_NO_FAIL);
		if (ret == VM_FAULT_OOM)
			KEXPECT_EQ(t, ktest_free_frames(), before);
	}
	KEXPECT_GT(t, k, 1);
	KEXPECT_EQ(t, ret, VM_FAULT_OK);
	KEXPECT_EQ(t, ktest_user_all(BASE + P, P, 0x61), 1);
	KEXPECT_NE(t, frame_at(mm, BASE + P, NULL), page_to_phys(cache_page(f, 1)));
	drop_file(f);
}

static const struct ktest_case filemap_cases[] = {
	KTEST_CASE(filemap_write_then_read_goes_through_the_cache),
	KTEST_CASE(filemap_hole_reads_zeros_and_takes_no_page),
	KTEST_CASE(filemap_truncate_drops_pages_and_zeroes_the_tail),
	KTEST_CASE(filemap_ten_thousand_page_file),
	KTEST_CASE(filemap_write_failing_at_any_allocation_caches_what_it_wrote),
	KTEST_CASE(filemap_fallocate_gives_pages_and_undoes_on_failure),
	KTEST_CASE(filemap_shared_store_is_the_file_data_at_once),
	KTEST_CASE(filemap_private_read_shares_the_page_and_write_copies_it),
	KTEST_CASE(filemap_fault_past_the_end_is_sigbus_and_the_tail_reads_zeros),
	KTEST_CASE(filemap_mmap_checks_the_open_mode),
	KTEST_CASE(filemap_fault_failing_at_any_allocation_leaves_no_page_and_no_entry),
	KTEST_CASE(filemap_private_write_fault_failing_leaves_no_copy),
};
KTEST_SUITE(filemap, filemap_cases);
