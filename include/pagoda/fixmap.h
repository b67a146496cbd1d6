/* The early fixmap: mappings of physical ranges made before the frame
 * allocator exists (framebuffer, local APIC, ACPI tables). It hands out
 * 2 MiB slots at FIXMAP_BASE in the boot page tables, so it needs no memory.
 * Mappings are never removed. */
#ifndef PAGODA_FIXMAP_H
#define PAGODA_FIXMAP_H

#include <pagoda/cache.h>
#include <pagoda/types.h>

/* Map [phys, phys + size) with memory type mode. phys may be any address
 * below the CPU's physical-address width (64-bit, not truncated). Returns
 * the virtual address of phys, or NULL when the slots are used up or the
 * range is invalid. */
void *fixmap_map(phys_addr_t phys, size_t size, enum cache_mode mode);

#endif
