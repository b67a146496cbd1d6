/* Resident memory of an address space, counted from its page tables (see
 * include/pagoda/rss.h). Used by the OOM killer to choose and report its
 * victim, and by /proc/PID/status and statm. */
#include <pagoda/mm.h>
#include <pagoda/page.h>
#include <pagoda/pagemap.h>
#include <pagoda/rss.h>
#include <pagoda/vma.h>

/* pt_walk() callback: count a leaf mapping RAM into *counter. A special
 * entry (device memory, the zero page) has no frame of the process's own. */
static void count_leaf(pte_t pte, uintptr_t va, unsigned int level, void *arg)
{
	uint64_t *counter = arg;

	if (pte & PTE_SPECIAL)
		return;
	if (pfn_to_page(phys_to_pfn(pte_leaf_phys(pte, level))))
		*counter += pt_level_size(level) >> PAGE_SHIFT;
}

static uint64_t *vma_counter(const struct vm_area_struct *v, struct mm_rss *rss)
{
	const struct address_space *m = vma_mapping(v);

	if (m && (m->flags & AS_SHMEM))
		return &rss->shmem; /* shared anonymous memory, memfd, /dev/shm */
	if (v->vm_file)
		return &rss->file;
	return (v->vm_flags & VM_SHARED) ? &rss->shmem : &rss->anon;
}

void mm_rss_count(struct mm_struct *mm, struct mm_rss *rss)
{
	struct list_head *pos;
	long tables;

	*rss = (struct mm_rss){ 0 };
	if (!mm)
		return;
	list_for_each(pos, &mm->vma_list) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_list);
		if (v->vm_flags & VM_PFNMAP)
			continue;
		pt_walk(mm->pgd, v->vm_start, v->vm_end - v->vm_start, count_leaf, vma_counter(v, rss));
	}
	tables = pt_walk(mm->pgd, 0, USER_SPACE_END, NULL, NULL);
	rss->pgtables = tables > 0 ? (uint64_t)tables : 0;
}
