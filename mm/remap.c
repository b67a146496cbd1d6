/* remap_pfn_range(): device memory into a user VMA, by frame number.
 *
 * The entries it installs are "special" (PTE_SPECIAL): the frame behind
 * them may have no struct page at all (a BAR near 1 TiB, a framebuffer, a
 * memmap= hole), and even where it has one, the mapping holds no reference
 * on it. So unmap, exit and fork never touch a reference count for them,
 * and never free device memory (see put_user_frame() in mm/mm.c and
 * fork_leaf() in mm/fork.c). Unlike Linux, which maps 4 KiB at a time, a
 * 1 GiB BAR aligned in both spaces takes one 1 GiB entry. */
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/remap.h>

bool remap_force_small_pages;

/* A private mapping that may be written: writes must copy (Linux's
 * is_cow_mapping()). */
static bool is_cow_mapping(unsigned long vm_flags)
{
	return (vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

static int remap_check(const struct vm_area_struct *vma, unsigned long addr, unsigned long pfn,
		       unsigned long size)
{
	/* LAB remap: begin, the stub returns -ENOSYS */
	unsigned long end = addr + ALIGN_UP(size, PAGE_SIZE), pages;

	if (!IS_ALIGNED(addr, PAGE_SIZE) || !size || end <= addr)
		return -EINVAL;
	if (addr < vma->vm_start || end > vma->vm_end)
		return -EINVAL;
	pages = (end - addr) >> PAGE_SHIFT;
	if (pfn + pages < pfn || pfn + pages > (cpu_phys_limit() >> PAGE_SHIFT))
		return -EINVAL;
	if (is_cow_mapping(vma->vm_flags) && (addr != vma->vm_start || end != vma->vm_end))
		return -EINVAL;
	return 0;
	/* LAB remap: end */
}

int remap_pfn_range(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn,
		    unsigned long size, pgprot_t prot)
{
	/* LAB remap: begin, the stub returns -ENOSYS */
	uint64_t bits = prot.bits | PTE_SPECIAL;
	unsigned int flags = remap_force_small_pages ? 0 : PT_MAP_HUGE;
	int ret = remap_check(vma, addr, pfn, size);

	if (ret < 0)
		return ret;
	size = ALIGN_UP(size, PAGE_SIZE);
	if (is_cow_mapping(vma->vm_flags)) {
		/* Writes copy the device page into an anonymous one
		 * (mm/fault.c): map read-only, 4 KiB at a time. */
		vma->vm_pgoff = pfn;
		bits = (bits & ~PTE_WRITE) | PTE_COW;
		flags = 0;
	}
	vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
	/* pt_map() removes whatever it mapped before failing. */
	return pt_map(vma->vm_mm->pgd, addr, pfn_to_phys(pfn), size, __pgprot(bits), flags);
	/* LAB remap: end */
}

int io_remap_pfn_range(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn,
		       unsigned long size, pgprot_t prot)
{
	return remap_pfn_range(vma, addr, pfn, size, prot);
}

int vm_iomap_memory(struct vm_area_struct *vma, phys_addr_t start, unsigned long len)
{
	unsigned long vm_len, pfn, pages;

	if (start + len < start)
		return -EINVAL;
	/* The mapping starts at the page holding start: count from there. */
	len += start & (PAGE_SIZE - 1);
	pfn = start >> PAGE_SHIFT;
	pages = (len + PAGE_SIZE - 1) >> PAGE_SHIFT;
	if (pfn + pages < pfn || vma->vm_pgoff > pages)
		return -EINVAL;
	pfn += vma->vm_pgoff;
	pages -= vma->vm_pgoff;
	vm_len = vma->vm_end - vma->vm_start;
	if (vm_len >> PAGE_SHIFT > pages)
		return -EINVAL;
	return io_remap_pfn_range(vma, vma->vm_start, pfn, vm_len, vma->vm_page_prot);
}
