/* Page faults on user addresses: the VMA decides whether the access is
 * allowed, then the page is supplied on demand. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/ioremap.h>
#include <pagoda/mm.h>
#include <pagoda/oom.h>
#include <pagoda/percpu.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/pt_share.h>
#include <pagoda/signal.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/thp.h>
#include <pagoda/tlb.h>
#include <pagoda/vma.h>
#include <pagoda/zero_page.h>
#include <asm/trap.h>
#include <asm/uaccess.h>
#include <asm/x86.h>


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
 * the tree: no other VMA lies between. Faults run at once under the read
 * side of mmap_lock, so the change is made under the page-table lock.
 * Returns 0 or -ENOMEM. */
static int expand_stack(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr)
{
	uintptr_t start = ALIGN_DOWN(addr, PAGE_SIZE);
	struct vm_area_struct *prev = vma_prev(mm, vma);

	if (vma->vm_end - start > STACK_LIMIT_DEFAULT || start < USER_SPACE_START)
		return -ENOMEM;
	if (prev && prev->vm_end + STACK_GUARD_GAP > start)
		return -ENOMEM;
	spin_lock(&mm->page_table_lock);
	if (start < vma->vm_start) { /* another thread may have grown it already */
		mm->total_vm += (vma->vm_start - start) >> PAGE_SHIFT;
		vma->vm_pgoff -= (vma->vm_start - start) >> PAGE_SHIFT;
		WRITE_ONCE(vma->vm_start, start);
	}
	spin_unlock(&mm->page_table_lock);
	return 0;
}

int mm_install_page(struct mm_struct *mm, uintptr_t addr, struct page *p, pgprot_t prot)
{
	int ret;

	spin_lock(&mm->page_table_lock);
	ret = pt_map(mm->pgd, addr, page_to_phys(p), PAGE_SIZE, prot, 0);
	spin_unlock(&mm->page_table_lock);
	return ret;
}

/* A fault that lost a race to another thread of mm is resolved: the entry
 * it wanted is there. Any other failure is a lack of memory. */
static vm_fault_t install_result(int ret, struct page *p)
{
	if (ret == 0)
		return VM_FAULT_OK;
	free_pages(p, 0);
	return ret == -EEXIST ? VM_FAULT_OK : VM_FAULT_OOM;
}

/* First touch of private anonymous memory: a read maps the shared zero
 * page (only a page-table page may be needed); a write gets a zeroed
 * frame of its own. */
static vm_fault_t do_anonymous_page(struct mm_struct *mm, struct vm_area_struct *vma,
				    uintptr_t addr, unsigned int flags)
{
	struct page *p;

	if (!(flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_SHARED)) {
		int ret;

		spin_lock(&mm->page_table_lock);
		ret = pt_map(mm->pgd, addr, zero_page_phys(), PAGE_SIZE,
			     zero_page_prot(vma->vm_page_prot), 0);
		spin_unlock(&mm->page_table_lock);
		return ret == 0 || ret == -EEXIST ? VM_FAULT_OK : VM_FAULT_OOM;
	}
	p = alloc_page(GFP_KERNEL | __GFP_ZERO);

	if (!p)
		return VM_FAULT_OOM;
	return install_result(mm_install_page(mm, addr, p, vma->vm_page_prot), p);
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

/* Replace the COW entry for addr, if it is still what we copied from,
 * with new (a frame and bits), and flush it from every CPU of mm before
 * the old frame's reference (if old) is dropped. Returns false if another
 * thread changed the entry first. */
static bool replace_cow_entry(struct mm_struct *mm, uintptr_t addr, pte_t expect, pte_t new,
			      struct page *old)
{
	struct pt_lookup_result r;
	struct mmu_gather tlb;
	bool done = false;

	tlb_gather_init(&tlb, mm);
	spin_lock(&mm->page_table_lock);
	if (pt_lookup(mm->pgd, addr, &r) == 0 && r.level == 0 && r.pte == expect &&
	    pt_set_leaf_gather(mm->pgd, addr, new, &tlb) == 0) {
		if (old)
			tlb_defer_put(&tlb, old);
		done = true;
	}
	tlb_flush(&tlb); /* under the lock: no CPU sees the old entry after it */
	spin_unlock(&mm->page_table_lock);
	tlb_finish(&tlb);
	return done;
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
	if (copy_frame(copy, pte_leaf_phys(pte, 0), pte) < 0) {
		free_pages(copy, 0);
		return VM_FAULT_OOM;
	}
	if (!replace_cow_entry(mm, addr, pte, page_to_phys(copy) | prot.bits, NULL))
		free_pages(copy, 0); /* another thread got there first */
	return VM_FAULT_OK;
}

/* A write to the zero page: a zeroed frame of its own replaces it in
 * place (nothing to copy, no reference to drop). */
static vm_fault_t do_wp_zero(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr,
			     pte_t pte)
{
	struct page *p = alloc_page(GFP_KERNEL | __GFP_ZERO);

	if (!p)
		return VM_FAULT_OOM;
	if (!replace_cow_entry(mm, addr, pte, page_to_phys(p) | vma->vm_page_prot.bits, NULL))
		free_pages(p, 0); /* another thread got there first */
	return VM_FAULT_OK;
}

/* A write to a present, write-protected page of a writable private VMA:
 * copy-on-write. The last holder of the frame just gets it writable: with
 * the page-table lock held and the count at 1, no other address space
 * maps the frame (fork holds our mmap_lock to share it), and no other
 * thread of ours can be replacing this entry. */
static vm_fault_t do_wp_page(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr,
			     pte_t pte)
{
	/* LAB cow: begin, the stub returns VM_FAULT_SIGBUS */
	struct page *old = pfn_to_page(phys_to_pfn(pte_leaf_phys(pte, 0))), *copy;

	if (!(pte & PTE_COW))
		return VM_FAULT_SIGSEGV;
	if (is_zero_pte(pte))
		return do_wp_zero(mm, vma, addr, pte);
	if (pte & PTE_SPECIAL)
		return do_wp_special(mm, vma, addr, pte);
	if (!old)
		return VM_FAULT_SIGSEGV;
	if (atomic_load(&old->refcount) == 1 &&
	    replace_cow_entry(mm, addr, pte, page_to_phys(old) | vma->vm_page_prot.bits, NULL))
		return VM_FAULT_OK;
	copy = alloc_page(GFP_KERNEL);
	if (!copy)
		return VM_FAULT_OOM;
	memcpy(page_address(copy), page_address(old), PAGE_SIZE);
	/* Replace the entry in place: no table page is freed or needed, so
	 * nothing here can fail half-way. */
	if (!replace_cow_entry(mm, addr, pte, page_to_phys(copy) | vma->vm_page_prot.bits, old))
		free_pages(copy, 0);
	return VM_FAULT_OK;
	/* LAB cow: end */
}

/* Does a present entry allow the access? */
static bool pte_allows(pte_t pte, unsigned int flags)
{
	if (!(pte & PTE_PRESENT))
		return false; /* PROT_NONE */
	if ((flags & FAULT_FLAG_WRITE) && !(pte & PTE_WRITE))
		return false;
	if ((flags & FAULT_FLAG_INSTR) && (pte & PTE_NX))
		return false;
	return !(flags & FAULT_FLAG_USER) || (pte & PTE_USER);
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
	/* A fault that will change the table behind addr gets a table of its
	 * own first, so that the lookup below sees the entry's real rights. */
	if (mm_unshare_fault(mm, addr, flags) < 0)
		return VM_FAULT_OOM;
	if (pt_lookup(mm->pgd, addr, &r) == 0) {
		/* TLBs are flushed on every change: a fault on a present page
		 * is copy-on-write, or it lost a race with another thread that
		 * mapped the page (or copied it) since, or it is a real
		 * violation (NX, PROT_NONE), which must not be called resolved
		 * or it would fault again forever. */
		if ((flags & FAULT_FLAG_WRITE) && !(r.pte & PTE_WRITE) &&
		    thp_is_huge_leaf(r.pte, r.level))
			return thp_wp_fault(mm, vma, addr, flags, r.pte);
		if ((flags & FAULT_FLAG_WRITE) && !(r.pte & PTE_WRITE))
			return do_wp_page(mm, vma, addr, r.pte);
		return pte_allows(r.pte, flags) ? VM_FAULT_OK : VM_FAULT_SIGSEGV;
	}
	if (vma->vm_ops && vma->vm_ops->fault) {
		struct vm_fault vmf = { vma, addr, flags,
					vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT) };
		return vma->vm_ops->fault(&vmf);
	}
	if (vma->vm_flags & VM_PFNMAP)
		return VM_FAULT_SIGBUS; /* remap_pfn_range() maps all of it up front */
	if (thp_do_anonymous_page(mm, vma, addr, flags) == VM_FAULT_OK)
		return VM_FAULT_OK;
	return do_anonymous_page(mm, vma, addr, flags);
}

vm_fault_t mm_fault_user_address(struct trap_frame *tf, uintptr_t addr)
{
	struct mm_struct *mm = mm_current();
	unsigned int flags = 0;

	vm_fault_t ret;

	if (!mm || addr >= USER_SPACE_END)
		return VM_FAULT_SIGSEGV;
	/* The kernel touching a present user page outside a user copy (AC
	 * clear with SMAP on) is a kernel bug, not a fault to resolve. */
	if (!(tf->error_code & PF_USER) && (tf->error_code & PF_PRESENT) &&
	    !(tf->rflags & X86_RFLAGS_AC) && uaccess_smap_on())
		return VM_FAULT_SIGSEGV;
	if (this_cpu()->no_fault_in)
		return VM_FAULT_SIGSEGV; /* a probe that must not fault pages in (tests) */
	if (tf->error_code & PF_WRITE)
		flags |= FAULT_FLAG_WRITE;
	if (tf->error_code & PF_INSTR)
		flags |= FAULT_FLAG_INSTR;
	if (tf->error_code & PF_USER)
		flags |= FAULT_FLAG_USER;
	down_read(&mm->mmap_lock);
	ret = handle_mm_fault(mm, addr, flags);
	up_read(&mm->mmap_lock);
	return ret;
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
		*code = SEGV_MAPERR;
		if (mm && addr < USER_SPACE_END) {
			down_read(&mm->mmap_lock); /* another thread may be unmapping */
			if (vma_lookup(mm, addr))
				*code = SEGV_ACCERR;
			up_read(&mm->mmap_lock);
		}
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

		/* Under the read side of mmap_lock, as every fault: another
		 * thread's munmap cannot free the tables meanwhile. */
		down_read(&mm->mmap_lock);
		if (pt_lookup(mm->pgd, a, &r) < 0 || !(r.pte & PTE_PRESENT) || !(r.pte & PTE_WRITE))
			f = handle_mm_fault(mm, a, FAULT_FLAG_WRITE | FAULT_FLAG_USER);
		up_read(&mm->mmap_lock);
		if (f == VM_FAULT_OOM && out_of_memory())
			continue; /* memory was made: the same page again */
		if (f != VM_FAULT_OK)
			break;
		a += PAGE_SIZE;
	}
	return a > uaddr ? MIN(a, end) - uaddr : 0;
}
