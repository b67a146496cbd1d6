/* remap_pfn_range(): map device memory (or reserved RAM) by page frame
 * number into a user VMA (mm/remap.c). The PFN is 64-bit: the reason the
 * function exists (LWN, 2004) is that its predecessor took a 32-bit
 * physical address and could not reach memory above 4 GiB.
 * See docs/remap_pfn_range.md. */
#ifndef PAGODA_REMAP_H
#define PAGODA_REMAP_H

#include <pagoda/mm_types.h>

/* Map [addr, addr + size) of vma to the frames from pfn, with prot.
 * The memory type of prot is the one asked for; where the frames are
 * mapped already the type there is used if compatible (memtype_reserve()),
 * else the call fails with -EINVAL (or -EBUSY) and maps nothing.
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

/* Memory types of device mappings (Linux's x86 PAT hooks): a remap of
 * a whole VMA reserves its frames' range with the memory type in
 * include/pagoda/memtype.h and marks the VMA VM_PAT. Whoever takes a
 * VM_PAT VMA's entries away gives the type back first, while they are
 * still there: untrack_pfn() for the whole VMA, untrack_pfn_range() for
 * [start, end) of it. fork calls track_pfn_copy() for the child's copy
 * (0, or the error of memtype_reserve(); the child is VM_PAT only on 0). */
void untrack_pfn(struct vm_area_struct *vma);
void untrack_pfn_range(struct vm_area_struct *vma, uintptr_t start, uintptr_t end);
int track_pfn_copy(struct vm_area_struct *child, const struct vm_area_struct *parent);

/* For benchmarks and tests: map with 4 KiB entries only, as Linux does. */
extern bool remap_force_small_pages;

#endif
