/* Address spaces: a PML4 per mm whose kernel half (entries 256..511) is a
 * copy of the kernel's, so every mm sees the same kernel; the user half is
 * the mm's own. Kernel-half entries never change after boot (mm/ioremap.c
 * creates its tables up front), so the copies stay valid. */
#include <pagoda/cpu.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/remap.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vma.h>
#include <pagoda/x86.h>

#define MMAP_BASE_GAP (128UL << 20) /* below the stack, as Linux's minimum gap */

static struct mm_struct *active_mm;

struct mm_struct *mm_create(void)
{
	struct mm_struct *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
	struct page *pgd = alloc_page(GFP_KERNEL | __GFP_ZERO);
	pte_t *new, *kern;

	if (!mm || !pgd) {
		kfree(mm);
		if (pgd)
			free_pages(pgd, 0);
		return NULL;
	}
	new = page_address(pgd);
	kern = phys_to_virt(kernel_pml4);
	memcpy(new + PT_ENTRIES / 2, kern + PT_ENTRIES / 2, PT_ENTRIES / 2 * sizeof(pte_t));
	mm->pgd = page_to_phys(pgd);
	list_init(&mm->vma_list);
	mm->vma_tree = RB_ROOT;
	mm->mmap_base = USER_SPACE_END - MMAP_BASE_GAP;
	return mm;
}

/* pt_unmap() callback: drop the reference a user PTE held on its frame.
 * PTE_SPECIAL entries (remap_pfn_range) have no struct page: skip them. */
static void put_user_frame(pte_t old, uintptr_t va, unsigned int level, void *arg)
{
	struct page *p;

	if (old & PTE_SPECIAL)
		return;
	p = pfn_to_page(phys_to_pfn(old & PTE_ADDR_MASK));
	if (p)
		put_page(p);
}

void mm_zap_range(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	if (end > start)
		pt_unmap(mm->pgd, start, end - start, put_user_frame, NULL);
}

void mm_destroy(struct mm_struct *mm)
{
	struct list_head *pos, *n;

	if (!mm)
		return;
	if (active_mm == mm)
		mm_switch(NULL);
	list_for_each_safe(pos, n, &mm->vma_list) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_list);
		untrack_pfn(v);
		mm_zap_range(mm, v->vm_start, v->vm_end);
		vma_unlink(mm, v);
		if (v->vm_ops && v->vm_ops->close)
			v->vm_ops->close(v);
		vma_free(v);
	}
	free_pages(pfn_to_page(phys_to_pfn(mm->pgd)), 0);
	kfree(mm);
}

void mm_switch(struct mm_struct *mm)
{
	active_mm = mm;
	write_cr3(mm ? mm->pgd : kernel_pml4);
}

struct mm_struct *mm_current(void)
{
	return active_mm;
}

/* PROT_NONE pages are not present, so that every access faults, the
 * kernel's through copy_from_user() included, but carry PTE_PROTNONE so
 * that unmap, fork and mprotect still see the frame. */
pgprot_t vm_get_page_prot(unsigned long vm_flags)
{
	uint64_t bits = PTE_PRESENT | PTE_USER;

	if (!(vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		bits = PTE_PROTNONE | PTE_USER;
	if (vm_flags & VM_WRITE)
		bits |= PTE_WRITE;
	if (!(vm_flags & VM_EXEC) && cpu.nx)
		bits |= PTE_NX;
	return __pgprot(bits);
}
