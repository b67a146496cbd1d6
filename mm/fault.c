/* Page faults on user addresses: the VMA decides whether the access is
 * allowed, then the page is supplied on demand. */
#include <pagoda/errno.h>
#include <pagoda/ioremap.h>
#include <pagoda/mm.h>
#include <pagoda/oom.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/signal.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/vma.h>
#include <pagoda/x86.h>
#include <pagoda/zero_page.h>

#define STACK_LIMIT (8UL << 20) /* RLIMIT_STACK's Linux default */

static bool access_allowed(const struct vm_area_struct *vma, unsigned int flags)
{
	if (flags & FAULT_FLAG_WRITE)
		return vma->vm_flags & VM_WRITE;
	if (flags & FAULT_FLAG_INSTR)
		return vma->vm_flags & VM_EXEC;
	/* x86 cannot map write-only or exec-only pages: those imply read. */
	return vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC);
}

/* Grow a VM_GROWSDOWN VMA down to cover addr, keeping STACK_GUARD_GAP
 * free above the VMA below it. Lowering vm_start keeps the VMA's place in
 * the tree: no other VMA lies between. Returns 0 or -ENOMEM. */
static int expand_stack(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr)
{
	uintptr_t start = ALIGN_DOWN(addr, PAGE_SIZE);
	struct vm_area_struct *prev = vma_prev(mm, vma);

	if (vma->vm_end - start > STACK_LIMIT || start < USER_SPACE_START)
		return -ENOMEM;
	if (prev && prev->vm_end + STACK_GUARD_GAP > start)
		return -ENOMEM;
	mm->total_vm += (vma->vm_start - start) >> PAGE_SHIFT;
	vma->vm_pgoff -= (vma->vm_start - start) >> PAGE_SHIFT;
	vma->vm_start = start;
	return 0;
}

/* First touch of private anonymous memory: a read maps the shared zero
 * page (only a page-table page may be needed); a write gets a zeroed
 * frame of its own. */
static vm_fault_t do_anonymous_page(struct mm_struct *mm, struct vm_area_struct *vma,
				    uintptr_t addr, unsigned int flags)
{
	struct page *p;

	if (!(flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_SHARED)) {
		if (pt_map(mm->pgd, addr, zero_page_phys(), PAGE_SIZE,
			   zero_page_prot(vma->vm_page_prot), 0) < 0)
			return VM_FAULT_OOM;
		return VM_FAULT_OK;
	}
	p = alloc_page(GFP_KERNEL | __GFP_ZERO);

	if (!p)
		return VM_FAULT_OOM;
	if (pt_map(mm->pgd, addr, page_to_phys(p), PAGE_SIZE, vma->vm_page_prot, 0) < 0) {
		free_pages(p, 0);
		return VM_FAULT_OOM;
	}
	return VM_FAULT_OK;
}

/* Copy the frame at pa (RAM, or device memory with no struct page) into
 * the new page dst. */
static int copy_frame(struct page *dst, phys_addr_t pa, pte_t pte)
{
	struct page *src = pfn_to_page(phys_to_pfn(pa));
	void *from;

	if (src) {
		memcpy(page_address(dst), page_address(src), PAGE_SIZE);
		return 0;
	}
	from = ioremap(pa, PAGE_SIZE, pte_cache_mode(pte, 0));
	if (!from)
		return -ENOMEM;
	memcpy(page_address(dst), from, PAGE_SIZE);
	iounmap(from);
	return 0;
}

/* A write to a private writable mapping of device memory: the process
 * gets an anonymous copy of the page, as Linux does for COW PFN maps. */
static vm_fault_t do_wp_special(struct mm_struct *mm, struct vm_area_struct *vma,
				uintptr_t addr, pte_t pte)
{
	struct page *copy = alloc_page(GFP_KERNEL);
	pgprot_t prot = vm_get_page_prot(vma->vm_flags);

	if (!copy)
		return VM_FAULT_OOM;
	if (copy_frame(copy, pte & PTE_ADDR_MASK, pte) < 0 ||
	    pt_set_leaf(mm->pgd, addr, page_to_phys(copy) | prot.bits) < 0) {
		free_pages(copy, 0);
		return VM_FAULT_OOM;
	}
	return VM_FAULT_OK;
}

/* A write to the zero page: a zeroed frame of its own replaces it in
 * place (nothing to copy, no reference to drop). */
static vm_fault_t do_wp_zero(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr)
{
	struct page *p = alloc_page(GFP_KERNEL | __GFP_ZERO);

	if (!p)
		return VM_FAULT_OOM;
	pt_set_leaf(mm->pgd, addr, page_to_phys(p) | vma->vm_page_prot.bits);
	return VM_FAULT_OK;
}

/* A write to a present, write-protected page of a writable private VMA:
 * copy-on-write. The last holder of the frame just gets it writable. */
static vm_fault_t do_wp_page(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr,
			     pte_t pte)
{
	struct page *old = pfn_to_page(phys_to_pfn(pte & PTE_ADDR_MASK)), *copy;

	if (!(pte & PTE_COW))
		return VM_FAULT_SIGSEGV;
	if (is_zero_pte(pte))
		return do_wp_zero(mm, vma, addr);
	if (pte & PTE_SPECIAL)
		return do_wp_special(mm, vma, addr, pte);
	if (!old)
		return VM_FAULT_SIGSEGV;
	/* The last holder reuses the frame: writable again, in place. */
	if (old->refcount == 1) {
		pt_set_leaf(mm->pgd, addr, page_to_phys(old) | vma->vm_page_prot.bits);
		return VM_FAULT_OK;
	}
	copy = alloc_page(GFP_KERNEL);
	if (!copy)
		return VM_FAULT_OOM;
	memcpy(page_address(copy), page_address(old), PAGE_SIZE);
	/* Replace the entry in place: no table page is freed or needed, so
	 * nothing here can fail half-way. */
	pt_set_leaf(mm->pgd, addr, page_to_phys(copy) | vma->vm_page_prot.bits);
	put_page(old);
	return VM_FAULT_OK;
}

vm_fault_t handle_mm_fault(struct mm_struct *mm, uintptr_t addr, unsigned int flags)
{
	struct vm_area_struct *vma = vma_find(mm, addr);
	struct pt_lookup_result r;

	if (!vma || addr >= USER_SPACE_END)
		return VM_FAULT_SIGSEGV;
	if (addr < vma->vm_start &&
	    (!(vma->vm_flags & VM_GROWSDOWN) || expand_stack(mm, vma, addr) < 0))
		return VM_FAULT_SIGSEGV;
	if (!access_allowed(vma, flags))
		return VM_FAULT_SIGSEGV;
	addr = ALIGN_DOWN(addr, PAGE_SIZE);
	if (pt_lookup(mm->pgd, addr, &r) == 0) {
		/* One CPU and TLBs flushed on every change: a fault on a present
		 * page is copy-on-write or a real violation (SMAP, NX, user bit).
		 * Calling it resolved would fault again forever. */
		if ((flags & FAULT_FLAG_WRITE) && !(r.pte & PTE_WRITE))
			return do_wp_page(mm, vma, addr, r.pte);
		return VM_FAULT_SIGSEGV;
	}
	if (vma->vm_ops && vma->vm_ops->fault) {
		struct vm_fault vmf = { vma, addr, flags,
					vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT) };
		return vma->vm_ops->fault(&vmf);
	}
	if (vma->vm_flags & VM_PFNMAP)
		return VM_FAULT_SIGBUS; /* remap_pfn_range() maps all of it up front */
	return do_anonymous_page(mm, vma, addr, flags);
}

vm_fault_t mm_fault_user_address(struct trap_frame *tf, uintptr_t addr)
{
	struct mm_struct *mm = mm_current();
	unsigned int flags = 0;

	if (!mm || addr >= USER_SPACE_END)
		return VM_FAULT_SIGSEGV;
	if (tf->error_code & PF_WRITE)
		flags |= FAULT_FLAG_WRITE;
	if (tf->error_code & PF_INSTR)
		flags |= FAULT_FLAG_INSTR;
	if (tf->error_code & PF_USER)
		flags |= FAULT_FLAG_USER;
	return handle_mm_fault(mm, addr, flags);
}

int mm_fault_signal(struct mm_struct *mm, uintptr_t addr, vm_fault_t result, int *code)
{
	switch (result) {
	case VM_FAULT_SIGBUS:
		*code = BUS_ADRERR;
		return SIGBUS;
	case VM_FAULT_SIGSEGV:
		/* Linux's bad_area() versus bad_area_access_error(): is there a
		 * mapping at all (stack growth already tried)? */
		*code = mm && addr < USER_SPACE_END && vma_lookup(mm, addr) ? SEGV_ACCERR : SEGV_MAPERR;
		return SIGSEGV;
	default:
		*code = 0;
		return 0;
	}
}

size_t fault_in_writeable(uintptr_t uaddr, size_t n)
{
	struct mm_struct *mm = mm_current();
	uintptr_t end = uaddr + n, a = ALIGN_DOWN(uaddr, PAGE_SIZE);

	if (!mm || !n || end < uaddr || end > USER_SPACE_END)
		return 0;
	while (a < end) {
		struct pt_lookup_result r;
		vm_fault_t f = VM_FAULT_OK;

		if (pt_lookup(mm->pgd, a, &r) < 0 || !(r.pte & PTE_PRESENT) || !(r.pte & PTE_WRITE))
			f = handle_mm_fault(mm, a, FAULT_FLAG_WRITE | FAULT_FLAG_USER);
		if (f == VM_FAULT_OOM && out_of_memory())
			continue; /* memory was made: the same page again */
		if (f != VM_FAULT_OK)
			break;
		a += PAGE_SIZE;
	}
	return a > uaddr ? MIN(a, end) - uaddr : 0;
}
