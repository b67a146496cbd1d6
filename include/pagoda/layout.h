/* The kernel's virtual address layout (x86-64, 4-level paging, 48-bit
 * virtual addresses):
 *
 *   0x0000000000000000 - 0x00007fffffffffff   user half (128 TiB); user
 *                                             space proper ends one page
 *                                             lower (USER_SPACE_END)
 *   0x0000800000000000 - 0xffff7fffffffffff   non-canonical: the CPU
 *                                             faults on any access
 *   0xffff888000000000 - ...                  direct map of all RAM (mm/)
 *   0xffffc90000000000 - 0xffffcaffffffffff   ioremap space (mm/ioremap.c)
 *   0xffffcc0000000000 - 0xffffcc003fffffff   task kernel stacks, each with
 *                                             an unmapped guard page below
 *                                             (mm/kstack.c)
 *   0xffffffff80000000 - 0xffffffffbfffffff   kernel image (linked here, at
 *                                             KERNEL_VIRT_BASE + physical)
 *   0xffffffffc0000000 - 0xffffffffffffffff   early fixmap: 2 MiB slots used
 *                                             before the allocator exists
 *
 * The kernel is loaded by GRUB at physical 1 MiB and runs at
 * KERNEL_VIRT_BASE + 1 MiB, so kernel-image addresses convert to physical
 * by subtracting KERNEL_VIRT_BASE ("-mcmodel=kernel" needs the image in the
 * top 2 GiB). */
#ifndef PAGODA_LAYOUT_H
#define PAGODA_LAYOUT_H

#define USER_HALF_END 0x0000800000000000ULL     /* PML4 entries 0..255 */
#define KERNEL_HALF_START 0xffff800000000000ULL /* PML4 entries 256..511 */
#define DIRECT_MAP_BASE 0xffff888000000000
#define DIRECT_MAP_SIZE (64ULL << 40) /* up to 64 TiB of physical addresses */
#define IOREMAP_BASE 0xffffc90000000000
#define IOREMAP_END (IOREMAP_BASE + (2ULL << 40)) /* 2 TiB */
#define KSTACK_AREA_BASE 0xffffcc0000000000
#define KSTACK_AREA_END (KSTACK_AREA_BASE + (1ULL << 30)) /* 1 GiB of slots */
#define KERNEL_VIRT_BASE 0xffffffff80000000
#define KERNEL_PHYS_BASE 0x100000
#define FIXMAP_BASE 0xffffffffc0000000
#define FIXMAP_SLOT_SIZE 0x200000
#define FIXMAP_SLOTS 512

#ifndef __ASSEMBLER__
#include <pagoda/types.h>

extern char __kernel_start[], __kernel_end[];
extern char __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_start[], __bss_end[];

static inline phys_addr_t kernel_virt_to_phys(const void *va)
{
	return (phys_addr_t)((uintptr_t)va - KERNEL_VIRT_BASE);
}

/* The direct map shows all RAM at DIRECT_MAP_BASE + physical (mm/directmap.c). */
static inline void *phys_to_virt(phys_addr_t pa)
{
	return (void *)(uintptr_t)(DIRECT_MAP_BASE + pa);
}

/* Physical address of a direct-map or kernel-image address. */
static inline phys_addr_t virt_to_phys(const void *va)
{
	uintptr_t v = (uintptr_t)va;

	return v >= KERNEL_VIRT_BASE ? v - KERNEL_VIRT_BASE : v - DIRECT_MAP_BASE;
}
#endif

#endif
