/* fork's copy of an address space. Private RAM pages are shared copy-on-
 * write: both PTEs lose PTE_WRITE and gain PTE_COW, and the frame's
 * reference count goes up; the first write in either process copies the
 * page (mm/fault.c). Shared pages stay writable in both. Device pages
 * (PTE_SPECIAL, from remap_pfn_range) are copied as they are: the child
 * sees the same device memory, and no reference count is involved. */
#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/remap.h>
#include <pagoda/vma.h>
#include <pagoda/x86.h>

/* pt_copy_range() callback: the entry the child gets for one leaf.
 * Private RAM pages become copy-on-write on both sides (the source entry
 * is rewritten in place; mm_fork() flushes the parent's TLB once at the
 * end) and the frame gains a reference; shared pages keep their entry
 * and gain a reference; device entries are copied as they are. */
static pte_t fork_leaf(pte_t *src, unsigned int level, uintptr_t va, void *arg)
{
	const struct vm_area_struct *v = arg;
	pte_t e = *src;
	struct page *p;

	if (e & PTE_SPECIAL)
		return e;
	p = pfn_to_page(phys_to_pfn(e & PTE_ADDR_MASK & ~(pt_level_size(level) - 1)));
	if (!p)
		return e;
	if (!(v->vm_flags & VM_SHARED)) {
		e = (e & ~PTE_WRITE) | PTE_COW;
		*src = e;
	}
	get_page(p);
	return e;
}

static int copy_vma_pages(struct mm_struct *old, struct mm_struct *new,
			  const struct vm_area_struct *v)
{
	return pt_copy_range(new->pgd, old->pgd, v->vm_start, v->vm_end, fork_leaf, (void *)v);
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
		c->vm_flags &= ~VM_PAT; /* the child reserves its own, below */
		vma_link(new, c);
		if (c->vm_ops && c->vm_ops->open)
			c->vm_ops->open(c);
		if (copy_vma_pages(old, new, v) < 0 || track_pfn_copy(c, v) < 0)
			goto fail;
	}
	write_cr3(read_cr3()); /* the parent's entries lost PTE_WRITE */
	return new;
fail:
	write_cr3(read_cr3());
	mm_destroy(new); /* drops every reference taken so far */
	return NULL;
}
