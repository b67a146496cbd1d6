/* The page cache: a file's pages by index, the data paths through them,
 * truncation, and the fault on a file mapping (include/pagoda/pagemap.h,
 * docs/pagecache.md).
 *
 * A fault on a file VMA with no entry yet comes here (filemap_fault):
 *
 *   past the end of the file            SIGBUS
 *   MAP_SHARED, any access              the cache page itself, with the
 *                                       VMA's protection: a store is the
 *                                       file's data at once
 *   MAP_PRIVATE, read or execute        the cache page, read-only and
 *                                       marked copy-on-write
 *   MAP_PRIVATE, write                  a private copy of the cache page
 *
 * and a later write to a private page that was mapped for reading is an
 * ordinary copy-on-write fault (mm/fault.c): the cache holds a reference,
 * so the page is never "the last holder's" and is always copied. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/file.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/pmm.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

/* Every mapping, for /proc/meminfo's Mapped (the walk takes each one's
 * lock in turn: mappings_mutex -> mapping->lock). */
static struct lock_class mappings_class = { "mappings", 0 };
static struct lock_class mappings_wq_class = { "mappings.wq", 0 };
static struct mutex mappings_mutex = {
	.wq = { __SPINLOCK_INIT(mappings_wq_class), LIST_HEAD_INIT(mappings_mutex.wq.waiters) },
	.class = &mappings_class,
};
static LIST_HEAD(mappings); /* guarded by mappings_mutex */

static uint64_t nr_cached, nr_shmem; /* pages; atomic */

#define PAGES(bytes) (((bytes) + PAGE_SIZE - 1) / PAGE_SIZE)

void mapping_init(struct address_space *m, struct inode *host, unsigned int flags)
{
	mutex_init(&m->lock, "mapping.lock");
	m->depth = 0;
	radix_init(&m->pages);
	list_init(&m->i_mmap);
	m->flags = flags;
	m->host = host;
	mutex_lock(&mappings_mutex);
	list_add_tail(&m->all, &mappings);
	mutex_unlock(&mappings_mutex);
}

void mapping_lock(struct address_space *m)
{
	if (mutex_held(&m->lock)) {
		m->depth++;
		return;
	}
	mutex_lock(&m->lock);
	m->depth = 1;
}

void mapping_unlock(struct address_space *m)
{
	BUG_ON(!mutex_held(&m->lock));
	if (--m->depth == 0)
		mutex_unlock(&m->lock);
}

bool mapping_locked(const struct address_space *m)
{
	return mutex_held(&m->lock);
}

static void account(const struct address_space *m, int64_t pages)
{
	atomic_fetch_add(&nr_cached, (uint64_t)pages);
	if (m->flags & AS_SHMEM)
		atomic_fetch_add(&nr_shmem, (uint64_t)pages);
}

struct page *filemap_get_page_locked(struct address_space *m, uint64_t index, bool create)
{
	struct page *p;

	BUG_ON(!mapping_locked(m));
	p = radix_lookup(&m->pages, index);
	if (p || !create)
		return p;
	if (!(p = alloc_page(GFP_KERNEL | __GFP_ZERO)))
		return NULL;
	if (radix_insert(&m->pages, index, p) < 0) {
		free_pages(p, 0);
		return NULL;
	}
	p->private = 0;
	p->flags |= PG_cache;
	account(m, 1);
	return p; /* the reference alloc_page() gave is the cache's */
}

/* Take page index out of the cache and drop the cache's reference (the
 * page lives on while a page-table entry holds it). */
static void remove_page_locked(struct address_space *m, uint64_t index)
{
	struct page *p;

	BUG_ON(!mapping_locked(m));
	p = radix_delete(&m->pages, index);
	if (p) {
		account(m, -1);
		p->flags &= ~PG_cache;
		put_page(p);
	}
}

/* Drop every cached page from index start on. */
static void remove_pages_from_locked(struct address_space *m, uint64_t start)
{
	for (uint64_t k = start; radix_next(&m->pages, &k, UINT64_MAX); k++)
		remove_page_locked(m, k);
}

void mapping_fini(struct address_space *m)
{
	mutex_lock(&mappings_mutex);
	list_del(&m->all);
	mutex_unlock(&mappings_mutex);
	mapping_lock(m);
	BUG_ON(!list_empty(&m->i_mmap)); /* a VMA holds the file open */
	remove_pages_from_locked(m, 0);
	mapping_unlock(m);
}

bool filemap_page_cached(struct address_space *m, uint64_t index)
{
	bool cached;

	mapping_lock(m);
	cached = radix_lookup(&m->pages, index) != NULL;
	mapping_unlock(m);
	return cached;
}

/* --- read, write, truncate --- */

ssize_t filemap_read(struct inode *inode, void *buf, size_t n, uint64_t pos)
{
	struct address_space *m = inode->i_mapping;
	size_t done = 0;

	mapping_lock(m);
	n = pos >= inode->size ? 0 : MIN((uint64_t)n, inode->size - pos);
	while (done < n) {
		uint64_t off = pos + done;
		size_t in_page = off % PAGE_SIZE, chunk = MIN(n - done, PAGE_SIZE - in_page);
		struct page *p = radix_lookup(&m->pages, off / PAGE_SIZE);

		if (p)
			memcpy((char *)buf + done, (char *)page_address(p) + in_page, chunk);
		else
			memset((char *)buf + done, 0, chunk); /* a hole */
		done += chunk;
	}
	mapping_unlock(m);
	return done;
}

ssize_t filemap_write(struct inode *inode, const void *buf, size_t n, uint64_t pos,
		      uint64_t max)
{
	struct address_space *m = inode->i_mapping;
	size_t done = 0;

	if (pos >= max)
		return n ? -EFBIG : 0;
	n = MIN((uint64_t)n, max - pos);
	mapping_lock(m);
	while (done < n) {
		uint64_t off = pos + done;
		size_t in_page = off % PAGE_SIZE, chunk = MIN(n - done, PAGE_SIZE - in_page);
		struct page *p = filemap_get_page_locked(m, off / PAGE_SIZE, true);

		if (!p)
			break;
		memcpy((char *)page_address(p) + in_page, (const char *)buf + done, chunk);
		done += chunk;
	}
	if (pos + done > inode->size)
		WRITE_ONCE(inode->size, pos + done);
	mapping_unlock(m);
	return done || !n ? (ssize_t)done : -ENOSPC;
}

int filemap_truncate(struct inode *inode, uint64_t size, uint64_t max)
{
	struct address_space *m = inode->i_mapping;
	uint64_t old;

	if (size > max)
		return -EFBIG;
	mapping_lock(m);
	old = inode->size;
	WRITE_ONCE(inode->size, size);
	if (size < old) {
		/* Size first, so that no fault maps a page past it any more;
		 * then out of every process, then out of the cache. */
		unmap_mapping_range_locked(m, PAGES(size), UINT64_MAX);
		remove_pages_from_locked(m, PAGES(size));
		if (size % PAGE_SIZE) {
			struct page *p = radix_lookup(&m->pages, size / PAGE_SIZE);
			if (p)
				memset((char *)page_address(p) + size % PAGE_SIZE, 0,
				       PAGE_SIZE - size % PAGE_SIZE);
		}
	}
	mapping_unlock(m);
	return 0;
}

/* fallocate's pages are marked while the call runs, so that a failure
 * takes back exactly the ones it added. */
#define FALLOC_NEW 1

int filemap_fallocate(struct inode *inode, uint64_t off, uint64_t len, uint64_t max)
{
	struct address_space *m = inode->i_mapping;
	uint64_t first = off / PAGE_SIZE, end = PAGES(off + len), k;
	int err = 0;

	if (off + len < off || off + len > max)
		return -EFBIG;
	mapping_lock(m);
	for (k = first; k < end; k++) {
		struct page *p = radix_lookup(&m->pages, k);
		if (p)
			continue;
		if (!(p = filemap_get_page_locked(m, k, true))) {
			err = -ENOSPC;
			break;
		}
		p->private = FALLOC_NEW;
	}
	for (uint64_t i = first; i < k; i++) {
		struct page *p = radix_lookup(&m->pages, i);
		if (p && p->private == FALLOC_NEW) {
			p->private = 0;
			if (err)
				remove_page_locked(m, i);
		}
	}
	if (!err && off + len > inode->size)
		WRITE_ONCE(inode->size, off + len);
	mapping_unlock(m);
	return err;
}

/* --- faults on file mappings --- */

/* The entry's bits for a cache page: see map_cached_page(). */
static pgprot_t cached_page_prot(const struct vm_area_struct *v)
{
	pgprot_t prot = v->vm_page_prot;

	if (!(v->vm_flags & VM_SHARED))
		prot = __pgprot((prot.bits & ~PTE_WRITE) | PTE_COW);
	return prot;
}

/* Map the cache page p at addr: the VMA's protection when shared; for a
 * private mapping, read-only and copy-on-write whatever the VMA allows,
 * so that a write (now, or after mprotect) copies it. The entry takes a
 * reference of its own. */
static vm_fault_t map_cached_page(struct vm_area_struct *v, uintptr_t addr, struct page *p)
{
	int ret;

	get_page(p);
	ret = mm_install_page(v->vm_mm, addr, p, cached_page_prot(v));
	if (ret == 0)
		return VM_FAULT_OK;
	put_page(p);
	return ret == -EEXIST ? VM_FAULT_OK : VM_FAULT_OOM;
}

/* Fault-around (Linux's do_fault_around()): a read fault also maps the
 * cached pages around it, FAULT_AROUND_PAGES aligned, within the VMA and
 * the file, that have no entry yet, under one hold of the page-table
 * lock. A program that reads its file sequentially then takes one fault
 * per 64 KiB. Nothing is allocated for the neighbours (a hole stays one)
 * but page tables, and a failure only ends the attempt. */
#define FAULT_AROUND_PAGES 16

static void fault_around_locked(struct address_space *m, struct vm_area_struct *v,
				uintptr_t addr, uint64_t pgoff)
{
	uintptr_t start = MAX(v->vm_start, ALIGN_DOWN(addr, FAULT_AROUND_PAGES * PAGE_SIZE));
	uintptr_t end = MIN(v->vm_end, start + FAULT_AROUND_PAGES * PAGE_SIZE);
	uint64_t last = PAGES(m->host->size); /* first index past the file */
	struct mm_struct *mm = v->vm_mm;
	pgprot_t prot = cached_page_prot(v);

	BUG_ON(!mapping_locked(m));
	spin_lock(&mm->page_table_lock);
	for (uintptr_t a = start; a < end; a += PAGE_SIZE) {
		uint64_t index = pgoff + ((int64_t)(a - addr) >> PAGE_SHIFT);
		struct page *p;
		int ret;

		if (a == addr || index >= last || !(p = radix_lookup(&m->pages, index)))
			continue;
		get_page(p);
		ret = pt_map(mm->pgd, a, page_to_phys(p), PAGE_SIZE, prot, 0);
		if (ret < 0)
			put_page(p);
		if (ret < 0 && ret != -EEXIST)
			break;
	}
	spin_unlock(&mm->page_table_lock);
}

/* A write to a private mapping with no entry: a copy of the cache page. */
static vm_fault_t map_private_copy(struct vm_area_struct *v, uintptr_t addr, struct page *p)
{
	struct page *copy = alloc_page(GFP_KERNEL);
	int ret;

	if (!copy)
		return VM_FAULT_OOM;
	memcpy(page_address(copy), page_address(p), PAGE_SIZE);
	ret = mm_install_page(v->vm_mm, addr, copy, v->vm_page_prot);
	if (ret == 0)
		return VM_FAULT_OK;
	free_pages(copy, 0);
	return ret == -EEXIST ? VM_FAULT_OK : VM_FAULT_OOM;
}

/* Under the mapping lock: truncation, which holds it, cannot shrink the
 * file between the size check and the new entry, and it unmaps what was
 * mapped before. A page past the end has no data: SIGBUS, as Linux; a
 * hole inside the file gets a zeroed page in the cache, which goes again
 * if the fault fails for lack of memory (a failed fault leaves nothing). */
static vm_fault_t filemap_fault(struct vm_fault *vmf)
{
	/* LAB mmap: begin, the stub returns VM_FAULT_SIGBUS */
	struct vm_area_struct *v = vmf->vma;
	struct address_space *m = vma_mapping(v);
	vm_fault_t ret;
	struct page *p;
	bool hole;

	mapping_lock(m);
	if (vmf->pgoff >= PAGES(m->host->size)) {
		mapping_unlock(m);
		return VM_FAULT_SIGBUS;
	}
	hole = !radix_lookup(&m->pages, vmf->pgoff);
	if (!(p = filemap_get_page_locked(m, vmf->pgoff, true)))
		ret = VM_FAULT_OOM;
	else if ((vmf->flags & FAULT_FLAG_WRITE) && !(v->vm_flags & VM_SHARED))
		ret = map_private_copy(v, vmf->address, p);
	else
		ret = map_cached_page(v, vmf->address, p);
	if (ret == VM_FAULT_OOM && hole && p)
		remove_page_locked(m, vmf->pgoff);
	if (ret == VM_FAULT_OK && !(vmf->flags & FAULT_FLAG_WRITE))
		fault_around_locked(m, v, vmf->address, vmf->pgoff);
	mapping_unlock(m);
	return ret;
	/* LAB mmap: end */
}

const struct vm_operations_struct filemap_vm_ops = {
	.fault = filemap_fault,
};

int filemap_mmap(struct file *f, struct vm_area_struct *vma)
{
	if (!f->inode || !f->inode->i_mapping)
		return -ENODEV;
	vma->vm_ops = &filemap_vm_ops;
	return 0;
}

/* --- /proc/meminfo --- */

uint64_t filemap_cached_pages(void)
{
	return atomic_load(&nr_cached);
}

uint64_t filemap_shmem_pages(void)
{
	return atomic_load(&nr_shmem);
}

/* A cached page is mapped when a page-table entry holds a reference
 * besides the cache's own (Linux counts pages with a mapcount). */
uint64_t filemap_mapped_pages(void)
{
	struct list_head *pos;
	uint64_t mapped = 0;

	mutex_lock(&mappings_mutex);
	list_for_each(pos, &mappings) {
		struct address_space *m = list_entry(pos, struct address_space, all);
		struct page *p;

		mapping_lock(m);
		for (uint64_t k = 0; (p = radix_next(&m->pages, &k, UINT64_MAX)); k++)
			mapped += atomic_load(&p->refcount) > 1;
		mapping_unlock(m);
	}
	mutex_unlock(&mappings_mutex);
	return mapped;
}
