/* msync(2) and mincore(2): what a mapping says about the file and the
 * pages behind it (Linux's mm/msync.c, mm/mincore.c).
 *
 * Pagoda's files live in RAM, in the page cache that MAP_SHARED maps
 * directly: a store through a shared mapping is the file's data at once,
 * so msync has nothing to write back. It still checks what Linux checks,
 * in Linux's order, and reports unmapped parts of the range as -ENOMEM. */
#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/vma.h>

int do_msync(struct mm_struct *mm, uintptr_t start, size_t len, int flags)
{
	struct vm_area_struct *v;
	uintptr_t end;
	int unmapped = 0;

	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if ((start & (PAGE_SIZE - 1)) || ((flags & MS_ASYNC) && (flags & MS_SYNC)))
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	end = start + len;
	if (end < start)
		return -ENOMEM;
	if (end == start)
		return 0;
	for (v = vma_find(mm, start); ; v = vma_find(mm, start)) {
		if (!v)
			return -ENOMEM;
		if (start < v->vm_start) {
			if (flags == MS_ASYNC)
				return -ENOMEM; /* Linux gives up at once here */
			start = v->vm_start;
			if (start >= end)
				return -ENOMEM;
			unmapped = -ENOMEM;
		}
		if ((flags & MS_INVALIDATE) && (v->vm_flags & VM_LOCKED))
			return -EBUSY;
		start = v->vm_end;
		if (start >= end)
			return unmapped;
	}
}

/* One byte per page of [start, start + pages pages) within the VMA at
 * start: 1 when the page is resident. An entry in the page table counts
 * (the zero page and PROT_NONE pages too, as Linux's pte_present()); a
 * file page with no entry counts if it is in the page cache. Returns the
 * pages done (up to the VMA's end), or -ENOMEM if no VMA holds start. */
long do_mincore(struct mm_struct *mm, uintptr_t start, size_t pages, unsigned char *vec)
{
	struct vm_area_struct *v = vma_lookup(mm, start);
	struct address_space *m;
	size_t n;

	if (!v)
		return -ENOMEM;
	m = vma_mapping(v);
	n = MIN(pages, (size_t)((v->vm_end - start) >> PAGE_SHIFT));
	for (size_t i = 0; i < n; i++) {
		uintptr_t a = start + i * PAGE_SIZE;
		struct pt_lookup_result r;

		if (pt_lookup(mm->pgd, a, &r) == 0)
			vec[i] = 1;
		else
			vec[i] = m && filemap_page_cached(m, v->vm_pgoff + ((a - v->vm_start) >> PAGE_SHIFT));
	}
	return n;
}
