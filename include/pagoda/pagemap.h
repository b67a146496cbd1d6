/* The page cache (mm/filemap.c) and the reverse map of file mappings
 * (mm/rmap.c). See docs/pagecache.md.
 *
 * A regular file's data lives in page-cache pages: page i holds bytes
 * [i * PAGE_SIZE, (i + 1) * PAGE_SIZE) of the file, found through the
 * file's address_space, a radix tree from page index to struct page
 * (include/pagoda/radix.h). The cache holds one reference on each of its
 * pages; every page-table entry that maps one holds another. A hole (a
 * page never written) has no page and reads as zeros. ramfs keeps its
 * files there and nowhere else, as Linux's ramfs and tmpfs do: read(),
 * write(), truncate() and a fault on a mapping all reach the same pages,
 * so a store through MAP_SHARED is seen by read() at once.
 *
 * The reverse map: each address_space lists the VMAs that map its file
 * (i_mmap), so that truncation can take the pages past the new end out
 * of every process that maps them.
 *
 * Locking. mapping->lock, a mutex, guards the tree, the file's size
 * (inode->size, for the writers: readers outside it see an aligned
 * 64-bit value, old or new) and i_mmap. It is recursive for its holder
 * (mapping_lock()), because the VMA code that links a VMA into i_mmap is
 * reached both with and without it. Order:
 *
 *   mmap_lock -> mapping->lock -> page_table_lock
 *   vfs_lock  -> mapping->lock
 *
 * so a fault (which holds mmap_lock) may take it, and truncation (which
 * may hold vfs_lock) may take it and then each mm's page_table_lock, but
 * nothing that holds it takes an mmap_lock or vfs_lock. */
#ifndef PAGODA_PAGEMAP_H
#define PAGODA_PAGEMAP_H

#include <pagoda/list.h>
#include <pagoda/mm_types.h>
#include <pagoda/mutex.h>
#include <pagoda/radix.h>
#include <pagoda/types.h>

struct inode;
struct page;

#define AS_SHMEM 0x1 /* shmem: tmpfs, memfd, shared anonymous (counted as Shmem) */

struct address_space {
	struct mutex lock;         /* guards the fields below and the owner's size */
	unsigned int depth;        /* the holder's nesting (mapping_lock()) */
	struct radix_tree pages;   /* page index -> struct page *, one reference each */
	struct list_head i_mmap;   /* VMAs that map the file: vm_area_struct.vm_rmap */
	unsigned int flags;        /* AS_* */
	struct inode *host;
	struct list_head all;      /* on the list of every mapping (mappings_mutex) */
};

/* Set up m for host (the page cache of one file) and register it for
 * /proc/meminfo. */
void mapping_init(struct address_space *m, struct inode *host, unsigned int flags);
/* The file is gone (no name, no open file, no VMA: its files hold it):
 * give back every page. */
void mapping_fini(struct address_space *m);

void mapping_lock(struct address_space *m);
void mapping_unlock(struct address_space *m);
bool mapping_locked(const struct address_space *m); /* by the current task */

/* The cached page at index (no new reference), or NULL. With create, a
 * hole gets a zeroed page first. NULL with create means no memory. The
 * caller holds the mapping lock. */
struct page *filemap_get_page_locked(struct address_space *m, uint64_t index, bool create);

/* Is page index of m in the cache (mincore)? Takes the lock. */
bool filemap_page_cached(struct address_space *m, uint64_t index);

/* File data through the cache. inode must have a mapping (i_mapping).
 * read: up to n bytes at pos, not past the file's size; the count.
 * write: n bytes at pos, growing the file; the count (short when memory
 * runs out after some bytes), or -EFBIG (pos at or past max), -ENOSPC. */
ssize_t filemap_read(struct inode *inode, void *buf, size_t n, uint64_t pos);
ssize_t filemap_write(struct inode *inode, const void *buf, size_t n, uint64_t pos,
		      uint64_t max);

/* Set the file's size. Shrinking unmaps the pages past the new end from
 * every process (private copies too, as Linux's truncate does), drops them
 * from the cache and zeroes the tail of the new last page; growing adds
 * holes. 0 or -EFBIG (size above max). */
int filemap_truncate(struct inode *inode, uint64_t size, uint64_t max);

/* fallocate(mode 0): give [off, off + len) pages (zeroed where they were
 * holes) and grow the size to off + len if it is below. 0, -EFBIG or
 * -ENOSPC (the pages given before the failure are taken back). */
int filemap_fallocate(struct inode *inode, uint64_t off, uint64_t len, uint64_t max);

/* The mmap operation of page-cache files: the VMA gets filemap_vm_ops. */
int filemap_mmap(struct file *f, struct vm_area_struct *vma);
extern const struct vm_operations_struct filemap_vm_ops;

/* /proc/meminfo: pages in every page cache, those of shmem files, and
 * those mapped by at least one page-table entry. */
uint64_t filemap_cached_pages(void);
uint64_t filemap_shmem_pages(void);
uint64_t filemap_mapped_pages(void);

/* --- the reverse map (mm/rmap.c) --- */

/* The page cache vma maps, or NULL (anonymous memory, a device). */
struct address_space *vma_mapping(const struct vm_area_struct *vma);

/* Add vma to / remove it from its file's i_mmap (takes the mapping
 * lock). vma_link() and vma_unlink() call these: every VMA in an address
 * space that maps a page-cache file is on that file's list. */
void rmap_add(struct vm_area_struct *vma);
void rmap_del(struct vm_area_struct *vma);

/* Remove every page-table entry that maps pages [start, end) of m's file,
 * from every VMA on i_mmap, private copies of those pages included; each
 * mm's TLBs are shot down before the frames' references go. Page tables
 * themselves stay (walkers of other VMAs may be in them). The caller
 * holds the mapping lock. */
void unmap_mapping_range_locked(struct address_space *m, uint64_t start, uint64_t end);

/* VMAs on m's i_mmap (tests). */
unsigned int rmap_count(struct address_space *m);

#endif
