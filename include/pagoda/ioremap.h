/* ioremap: map a physical range (device memory: BARs, framebuffers, APIC
 * registers) into kernel virtual space with a chosen memory type
 * (mm/ioremap.c). Any physical address below the CPU's MAXPHYADDR works,
 * far above RAM included: under OVMF QEMU puts 64-bit BARs near 896 GiB. */
#ifndef PAGODA_IOREMAP_H
#define PAGODA_IOREMAP_H

#include <pagoda/cache.h>
#include <pagoda/types.h>

/* Map [phys, phys + size). Returns the virtual address of phys, or NULL if
 * size is 0, the range wraps or passes MAXPHYADDR, it is System RAM owned
 * by the kernel, it is mapped already with a type mode cannot become (see
 * memtype_reserve(): a type there that is compatible is used instead of
 * mode), or memory ran out (nothing is left mapped then). Uses 2 MiB and
 * 1 GiB entries where the alignment and the MTRRs allow. */
void *ioremap(phys_addr_t phys, size_t size, enum cache_mode mode);
static inline void *ioremap_uc(phys_addr_t p, size_t s) { return ioremap(p, s, CACHE_UC); }
static inline void *ioremap_wc(phys_addr_t p, size_t s) { return ioremap(p, s, CACHE_WC); }

/* Undo ioremap(); addr is what ioremap() returned. Unknown addresses are
 * reported and ignored. Returns 0 or -EINVAL. */
int iounmap(void *addr);

#endif
