/* fork's copy of an address space. Private RAM pages are shared copy-on-
 * write: both PTEs lose PTE_WRITE and gain PTE_COW, and the frame's
 * reference count goes up; the first write in either process copies the
 * page (mm/fault.c). Shared pages stay writable in both. Device pages
 * (PTE_SPECIAL, from remap_pfn_range) are copied as they are: the child
 * sees the same device memory, and no reference count is involved.
 * Last-level tables of private anonymous memory are shared instead of
 * copied (include/pagoda/pt_share.h). */
#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/tlb.h>
#include <pagoda/pmm.h>
#include <pagoda/pt_share.h>
#include <pagoda/remap.h>
#include <pagoda/thp.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

/* pt_copy_range() callback: the entry the child gets for one leaf.
 * Private RAM pages become copy-on-write on both sides (the source entry
 * is rewritten in place; mm_fork() flushes the parent's TLB once at the
 * end) and the frame gains a reference; shared pages keep their entry
 * and gain a reference; device entries are copied as they are. */
static pte_t fork_leaf(pte_t *src, unsigned int level, uintptr_t va, void *arg)
{
	/* LAB cow: begin, the stub returns 0 (the child gets no entry) */
	const struct vm_area_struct *v = arg;
	pte_t e = *src;
	struct page *p;

	if (e & PTE_SPECIAL)
		return e;
	p = pfn_to_page(phys_to_pfn(pte_leaf_phys(e, level)));
	if (!p)
		return e;
	if (!(v->vm_flags & VM_SHARED)) {
		e = (e & ~PTE_WRITE) | PTE_COW;
		*src = e;
	}
	get_page(p);
	return e;
	/* LAB cow: end */
}

/* fork_leaf(), and an anonymous huge page copied whole (as Linux's
 * copy_huge_pmd()) counts one more PMD mapping. */
static pte_t fork_any_leaf(pte_t *src, unsigned int level, uintptr_t va, void *arg)
{
	pte_t e = fork_leaf(src, level, va, arg);

	if (e && thp_is_huge_leaf(e, level))
		thp_pmd_mapped(pfn_to_page(phys_to_pfn(pte_leaf_phys(e, level))));
	return e;
}

/* Private anonymous memory shares its last-level tables whole where it
 * can (mm/pt_share.c): no entry is copied and no frame counted now. */
static int copy_vma_pages(struct mm_struct *old, struct mm_struct *new,
			  const struct vm_area_struct *v)
{
	unsigned int flags = pt_share_enabled() && pt_share_vma_ok(v) ? PT_COPY_SHARE : 0;

	return pt_copy_range(new->pgd, old->pgd, v->vm_start, v->vm_end, fork_any_leaf,
			     (void *)v, flags);
}

/* Give new a copy of v and of its pages. A file VMA's copy goes on the
 * file's reverse map and takes its pages under the mapping lock, so that
 * a truncation sees either neither or both. 0 or -ENOMEM (c, if made, is
 * in new: mm_destroy() takes it back). */
static int fork_vma(struct mm_struct *old, struct mm_struct *new, struct vm_area_struct *v)
{
	struct address_space *m = vma_mapping(v);
	struct vm_area_struct *c = vma_dup(v);
	int err = -ENOMEM;

	if (!c)
		return -ENOMEM;
	c->vm_flags &= ~(VM_PAT | VM_LOCKED | VM_LOCKONFAULT); /* the child reserves its own
								   * memtype, below; locks are
								   * not inherited (Linux) */
	if (m)
		mapping_lock(m);
	vma_link(new, c);
	if (c->vm_ops && c->vm_ops->open)
		c->vm_ops->open(c);
	if (copy_vma_pages(old, new, v) == 0 && track_pfn_copy(c, v) == 0)
		err = 0;
	if (m)
		mapping_unlock(m);
	return err;
}

struct mm_struct *mm_fork(struct mm_struct *old)
{
	struct mm_struct *new = mm_create();
	struct list_head *pos;

	if (!new)
		return NULL;
	/* No other thread of the parent may change its VMAs or fault in its
	 * pages while they are shared; its tables are write-protected here. */
	down_write(&old->mmap_lock);
	new->mmap_base = old->mmap_base;
	new->start_brk = old->start_brk;
	new->brk = old->brk;
	new->start_stack = old->start_stack;
	list_for_each(pos, &old->vma_list) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_list);
		if (v->vm_flags & VM_DONTCOPY)
			continue;
		if (fork_vma(old, new, v) < 0)
			goto fail;
	}
	flush_tlb_mm(old); /* the parent's entries lost PTE_WRITE, on every CPU */
	up_write(&old->mmap_lock);
	return new;
fail:
	flush_tlb_mm(old);
	up_write(&old->mmap_lock);
	mm_destroy(new); /* drops every reference taken so far */
	return NULL;
}
