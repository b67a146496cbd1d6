/* fork's copy of an address space. Private RAM pages are shared copy-on-
 * write: both PTEs lose PTE_WRITE and gain PTE_COW, and the frame's
 * reference count goes up; the first write in either process copies the
 * page (mm/fault.c). Shared pages stay writable in both. Device pages
 * (PTE_SPECIAL, from remap_pfn_range) are copied as they are: the child
 * sees the same device memory, and no reference count is involved. */
#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/vma.h>

/* Copy one leaf at va (level as found) from old into new. */
static int copy_leaf(struct mm_struct *old, struct mm_struct *new,
		     const struct vm_area_struct *v, uintptr_t va,
		     const struct pt_lookup_result *r)
{
	uint64_t size = pt_level_size(r->level), bits = r->pte & ~PTE_ADDR_MASK;
	phys_addr_t pa = r->phys & ~(size - 1);

	bits &= ~(PTE_PS | PTE_PAT_LARGE); /* pt_map() rebuilds these per level */
	if (r->pte & PTE_PAT_LARGE)
		bits |= PTE_PAT_4K;
	if (!(r->pte & PTE_SPECIAL)) {
		struct page *p = pfn_to_page(phys_to_pfn(pa));
		if (!p)
			return -EFAULT;
		/* Every private page is shared copy-on-write, read-only ones too:
		 * an mprotect(PROT_WRITE) later must not make them shared. */
		if (!(v->vm_flags & VM_SHARED)) {
			bits = (bits & ~PTE_WRITE) | PTE_COW;
			if (pt_protect(old->pgd, va, size, __pgprot(bits)) < 0)
				return -ENOMEM;
		}
		get_page(p);
		if (pt_map(new->pgd, va, pa, size, __pgprot(bits), 0) < 0) {
			put_page(p);
			return -ENOMEM;
		}
		return 0;
	}
	return pt_map(new->pgd, va, pa, size, __pgprot(bits), size > PAGE_SIZE ? PT_MAP_HUGE : 0);
}

static int copy_vma_pages(struct mm_struct *old, struct mm_struct *new,
			  const struct vm_area_struct *v)
{
	for (uintptr_t va = v->vm_start; va < v->vm_end;) {
		struct pt_lookup_result r;
		if (pt_lookup(old->pgd, va, &r) < 0) {
			va += PAGE_SIZE;
			continue;
		}
		int ret = copy_leaf(old, new, v, va, &r);
		if (ret < 0)
			return ret;
		va = ALIGN_DOWN(va, pt_level_size(r.level)) + pt_level_size(r.level);
	}
	return 0;
}

struct mm_struct *mm_fork(struct mm_struct *old)
{
	struct mm_struct *new = mm_create();
	struct list_head *pos;

	if (!new)
		return NULL;
	new->mmap_base = old->mmap_base;
	new->start_brk = old->start_brk;
	new->brk = old->brk;
	new->start_stack = old->start_stack;
	list_for_each(pos, &old->vma_list) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_list);
		struct vm_area_struct *c;
		if (v->vm_flags & VM_DONTCOPY)
			continue;
		if (!(c = vma_dup(v)))
			goto fail;
		vma_link(new, c);
		if (c->vm_ops && c->vm_ops->open)
			c->vm_ops->open(c);
		if (copy_vma_pages(old, new, v) < 0)
			goto fail;
	}
	return new;
fail:
	mm_destroy(new); /* drops every reference taken so far */
	return NULL;
}
