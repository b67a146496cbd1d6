/* remap_pfn_range(): map device memory (or reserved RAM) by page frame
 * number into a user VMA (mm/remap.c). The PFN is 64-bit: the reason the
 * function exists (LWN, 2004) is that its predecessor took a 32-bit
 * physical address and could not reach memory above 4 GiB.
 * See docs/remap_pfn_range.md. */
#ifndef PAGODA_REMAP_H
#define PAGODA_REMAP_H

#include <pagoda/mm_types.h>

/* Map [addr, addr + size) of vma to the frames from pfn, with prot.
 * Checks first, changing nothing when one fails (-EINVAL): addr
 * page-aligned; [addr, addr + PAGE_ALIGN(size)) non-empty, inside the VMA,
 * no overflow; pfn + pages no overflow and below MAXPHYADDR; a private
 * writable (copy-on-write) mapping covered whole. Then sets VM_IO |
 * VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP and installs PTE_SPECIAL entries,
 * 1 GiB and 2 MiB ones where the address, the PFN and the remaining size
 * allow. If a page-table page cannot be allocated part-way, what was
 * mapped is removed and -ENOMEM returned. Caller: the driver's mmap(),
 * with the mm not in use by anyone else. */
int remap_pfn_range(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn,
		    unsigned long size, pgprot_t prot);

/* The same for I/O memory; on x86 there is no difference. */
int io_remap_pfn_range(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn,
		       unsigned long size, pgprot_t prot);

/* Map the whole VMA onto [start, start + len) of physical memory, with
 * vma->vm_pgoff as the page offset into it (Linux's helper for drivers).
 * -EINVAL if the VMA reaches past len, or on overflow. */
int vm_iomap_memory(struct vm_area_struct *vma, phys_addr_t start, unsigned long len);

/* For benchmarks and tests: map with 4 KiB entries only, as Linux does. */
extern bool remap_force_small_pages;

#endif
