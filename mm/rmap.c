/* The reverse map of file pages: which VMAs map a file (include/pagoda/
 * pagemap.h). Linux keeps an interval tree per file (i_mmap); a list is
 * enough here, walked once per truncation.
 *
 * A VMA is on its file's list exactly while it is linked into an address
 * space (vma_link() and vma_unlink() call rmap_add()/rmap_del()), so the
 * list never holds a VMA whose mm is gone: mm_destroy() unlinks each VMA
 * before it frees the page tables, and waits on the mapping lock for a
 * truncation that is using the VMA. */
#include <pagoda/file.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/pmm.h>
#include <pagoda/tlb.h>
#include <pagoda/vfs.h>

struct address_space *vma_mapping(const struct vm_area_struct *vma)
{
	return vma->vm_file && vma->vm_file->inode ? vma->vm_file->inode->i_mapping : NULL;
}

void rmap_add(struct vm_area_struct *vma)
{
	struct address_space *m = vma_mapping(vma);

	if (!m)
		return;
	mapping_lock(m);
	list_add_tail(&vma->vm_rmap, &m->i_mmap);
	mapping_unlock(m);
}

void rmap_del(struct vm_area_struct *vma)
{
	struct address_space *m = vma_mapping(vma);

	if (!m || list_empty(&vma->vm_rmap))
		return;
	mapping_lock(m);
	list_del(&vma->vm_rmap);
	list_init(&vma->vm_rmap);
	mapping_unlock(m);
}

unsigned int rmap_count(struct address_space *m)
{
	struct list_head *pos;
	unsigned int n = 0;

	mapping_lock(m);
	list_for_each(pos, &m->i_mmap)
		n++;
	mapping_unlock(m);
	return n;
}

/* Clear the 4 KiB entries of [start, end) in mm (file pages are never
 * mapped huge) and drop their frames once every CPU of mm has flushed.
 * Entries are cleared one by one and no table is freed: the mmap family
 * may be walking mm's tables for another VMA at this moment (it holds
 * mmap_lock, which truncation cannot take), and an empty table costs
 * nothing until munmap or exit frees it. */
static void zap_file_ptes(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	struct mmu_gather tlb;

	tlb_gather_init(&tlb, mm);
	spin_lock(&mm->page_table_lock);
	for (uintptr_t a = start; a < end; a += PAGE_SIZE) {
		struct pt_lookup_result r;
		struct page *p;

		if (pt_lookup(mm->pgd, a, &r) < 0 || r.level != 0)
			continue;
		pt_set_leaf_gather(mm->pgd, a, 0, &tlb);
		p = (r.pte & PTE_SPECIAL) ? NULL : pfn_to_page(phys_to_pfn(pte_leaf_phys(r.pte, 0)));
		if (p)
			tlb_defer_put(&tlb, p);
	}
	tlb_flush(&tlb); /* under the lock: no CPU sees the old entries after it */
	spin_unlock(&mm->page_table_lock);
	tlb_finish(&tlb);
}

void unmap_mapping_range_locked(struct address_space *m, uint64_t start, uint64_t end)
{
	/* LAB mmap: begin, the stub does nothing */
	struct list_head *pos;

	BUG_ON(!mapping_locked(m));
	list_for_each(pos, &m->i_mmap) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_rmap);
		uint64_t first = v->vm_pgoff, last = v->vm_pgoff + vma_pages(v);
		uint64_t s = MAX(start, first), e = MIN(end, last);

		if (s >= e)
			continue;
		zap_file_ptes(v->vm_mm, v->vm_start + ((s - first) << PAGE_SHIFT),
			      v->vm_start + ((e - first) << PAGE_SHIFT));
	}
	/* LAB mmap: end */
}
