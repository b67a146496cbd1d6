/* The shared zero page (mm/zero_page.c): Linux's ZERO_PAGE.
 *
 * A read fault on private anonymous memory that was never written maps
 * this one page of zeroes, read-only, instead of allocating a frame, so
 * that reading a large untouched mapping (or handing it to write(2))
 * costs page tables only. The first write to such a page is a
 * copy-on-write fault that puts a fresh zeroed frame in its place.
 *
 * Its entries carry PTE_SPECIAL and PTE_COW: special, so that unmap,
 * fork, RSS counting and the frame accounting never count it or drop a
 * reference to it (its frame is part of the kernel image: reserved, never
 * freed); copy-on-write, so that mprotect() never makes it writable. */
#ifndef PAGODA_ZERO_PAGE_H
#define PAGODA_ZERO_PAGE_H

#include <pagoda/layout.h>
#include <pagoda/pgtable.h>

extern const uint8_t empty_zero_page[PAGE_SIZE];

static inline phys_addr_t zero_page_phys(void)
{
	return kernel_virt_to_phys(empty_zero_page);
}

/* Does this leaf map the zero page? */
static inline bool is_zero_pte(pte_t pte)
{
	return (pte & PTE_SPECIAL) && (pte & PTE_ADDR_MASK) == zero_page_phys();
}

/* The protection bits for a zero-page entry in a VMA whose pages get
 * prot: read-only, special, copy-on-write. */
static inline pgprot_t zero_page_prot(pgprot_t prot)
{
	return __pgprot((prot.bits & ~PTE_WRITE) | PTE_SPECIAL | PTE_COW);
}

#endif
