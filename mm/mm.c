/* Address spaces: a PML4 per mm whose kernel half (entries 256..511) is a
 * copy of the kernel's, so every mm sees the same kernel; the user half is
 * the mm's own. Kernel-half entries never change after boot (mm/ioremap.c
 * creates its tables up front), so the copies stay valid. */
#include <pagoda/atomic.h>
#include <asm/cpu.h>
#include <pagoda/mm.h>
#include <pagoda/percpu.h>
#include <pagoda/pmm.h>
#include <pagoda/remap.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/smp.h>
#include <pagoda/string.h>
#include <pagoda/tlb.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

#define MMAP_BASE_GAP (128UL << 20) /* below the stack, as Linux's minimum gap */

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
	rwsem_init(&mm->mmap_lock, "mmap_lock");
	spin_lock_init(&mm->page_table_lock, "page_table_lock");
	list_init(&mm->vma_list);
	mm->vma_tree = RB_ROOT;
	mm->mmap_base = USER_SPACE_END - MMAP_BASE_GAP;
	mm->users = 1;
	return mm;
}

void mm_get(struct mm_struct *mm)
{
	atomic_inc(&mm->users);
}

void mm_put(struct mm_struct *mm)
{
	if (mm && atomic_sub_return(&mm->users, 1) == 0)
		mm_destroy(mm);
}

void mm_zap_range_gather(struct mm_struct *mm, uintptr_t start, uintptr_t end,
			 struct mmu_gather *tlb)
{
	mm_zap_gap_gather(mm, start, end, 0, 0, tlb); /* no gap known */
}

void mm_zap_gap_gather(struct mm_struct *mm, uintptr_t start, uintptr_t end, uintptr_t floor,
		       uintptr_t ceiling, struct mmu_gather *tlb)
{
	if (end <= start)
		return;
	spin_lock(&mm->page_table_lock);
	pt_unmap_gap_gather(mm->pgd, start, end - start, floor, ceiling, tlb);
	spin_unlock(&mm->page_table_lock);
}

void mm_zap_vma(struct mm_struct *mm, struct vm_area_struct *v)
{
	struct mmu_gather tlb;
	uintptr_t floor, ceiling;

	vma_gap_around(mm, v, &floor, &ceiling);
	tlb_gather_init(&tlb, mm);
	tlb.drop_frames = true;
	mm_zap_gap_gather(mm, v->vm_start, v->vm_end, floor, ceiling, &tlb);
	tlb_finish(&tlb);
}

void mm_zap_range(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	struct mmu_gather tlb;

	tlb_gather_init(&tlb, mm);
	tlb.drop_frames = true;
	mm_zap_range_gather(mm, start, end, &tlb);
	tlb_finish(&tlb);
}

/* From the IPI: a CPU that keeps mm loaded lazily (its idle task ran
 * after mm's last task) lets go of it. */
static void leave_mm(void *arg)
{
	struct mm_struct *mm = arg;

	if (READ_ONCE(this_cpu()->active_mm) == mm)
		mm_switch(NULL);
}

void mm_destroy(struct mm_struct *mm)
{
	struct list_head *pos, *n;
	struct mmu_gather tlb;

	if (!mm)
		return;
	/* No CPU may go on using the tables we are about to free, lazily or
	 * not (a task using mm would hold a reference). */
	smp_call_mask(atomic_load(&mm->cpumask), leave_mm, mm);
	tlb_gather_init(&tlb, mm);
	tlb.drop_frames = true;
	/* Each VMA leaves its file's reverse map before its pages go, and
	 * the tables change under page_table_lock: a truncation may be
	 * clearing entries of this mm's other file VMAs meanwhile. */
	list_for_each_safe(pos, n, &mm->vma_list) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_list);
		uintptr_t floor, ceiling;
		untrack_pfn(v);
		vma_gap_around(mm, v, &floor, &ceiling);
		vma_unlink(mm, v);
		mm_zap_gap_gather(mm, v->vm_start, v->vm_end, floor, ceiling, &tlb);
		if (v->vm_ops && v->vm_ops->close)
			v->vm_ops->close(v);
		vma_free(v);
	}
	tlb_finish(&tlb);
	free_pages(pfn_to_page(phys_to_pfn(mm->pgd)), 0);
	kfree(mm);
}

/* Load mm's tables on this CPU (NULL: the kernel's alone). This CPU joins
 * mm's mask before CR3 points at it, so a shootdown from then on reaches
 * it; it leaves the old mask after, when it no longer can hold the old
 * translations (the CR3 write dropped them). Another task of the mm
 * already loaded here needs nothing: every shootdown reached this CPU.
 * Coming back from lazy mode to the same mm, it may have missed some, so
 * CR3 is written anyway. */
void mm_switch(struct mm_struct *mm)
{
	struct percpu *c = this_cpu();
	struct mm_struct *old = c->active_mm;

	if (mm && mm == old && !c->tlb_lazy)
		return;
	if (mm)
		atomic_set_bit(&mm->cpumask, c->id);
	/* Out of lazy mode before CR3 is written, with a full barrier (a
	 * sequentially consistent store): a shootdown that reads tlb_lazy
	 * after this store interrupts us as usual; one that read it before
	 * had changed its entries already, and the CR3 write below drops
	 * every translation, the stale ones with the rest. */
	atomic_store(&c->tlb_lazy, false);
	write_cr3(mm ? mm->pgd : kernel_pml4);
	WRITE_ONCE(c->active_mm, mm);
	if (old && old != mm)
		atomic_clear_bit(&old->cpumask, c->id);
}

void mm_enter_lazy(void)
{
	struct percpu *c = this_cpu();

	if (c->active_mm)
		WRITE_ONCE(c->tlb_lazy, true);
}

struct mm_struct *mm_current(void)
{
	return READ_ONCE(this_cpu()->active_mm);
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
