/* Bringing up memory management at boot (mm/mm_init.c, mm/directmap.c). */
#ifndef PAGODA_MM_INIT_H
#define PAGODA_MM_INIT_H

#include <pagoda/bootinfo.h>
#include <pagoda/cmdline.h>

/* From the boot memory map to a working kernel heap: memblock, the direct
 * map, frame descriptors, the buddy allocator, W^X for the kernel image,
 * kmalloc, ioremap, the resource tree. Panics only if the kernel cannot
 * run at all (no memory for its own tables). */
void mm_init(const struct boot_info *bi, const struct cmdline *cl);

/* Map every memblock memory range at DIRECT_MAP_BASE + physical with the
 * largest pages that fit. Returns 0 or -ENOMEM. */
int directmap_init(void);

/* Kernel image protections: text RX, rodata R, data and bss RW+NX, in the
 * image mapping and in the direct map's alias of it. */
int kernel_protect_image(void);

/* Remove the boot identity map of the low 4 GiB. */
void directmap_drop_identity(void);

/* TSC cycles from kmain's start to the end of mm_init(). */
extern uint64_t mm_init_cycles;

/* The ioremap virtual space (mm/ioremap.c). */
int ioremap_init(void);

#endif
