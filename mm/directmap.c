/* The direct map: all RAM at DIRECT_MAP_BASE + physical address, so the
 * kernel can reach any frame without mapping it first (Linux's "physmap").
 * 1 GiB entries where the CPU has them and the range allows, 2 MiB
 * otherwise, 4 KiB at unaligned edges; never executable. */
#include <pagoda/errno.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <pagoda/mm_init.h>
#include <pagoda/pgtable.h>
#include <pagoda/printk.h>
#include <asm/x86.h>

extern pte_t boot_pml4[PT_ENTRIES];

int directmap_init(void)
{
	for (unsigned int i = 0; i < memblock_memory.nr; i++) {
		const struct memblock_range *r = &memblock_memory.r[i];
		if (r->end > DIRECT_MAP_SIZE) {
			pr_warn("directmap: RAM above %llu TiB is not mapped\n", DIRECT_MAP_SIZE >> 40);
			break;
		}
		int ret = pt_map(kernel_pml4, (uintptr_t)phys_to_virt(r->base), r->base,
				 r->end - r->base, PAGE_KERNEL, PT_MAP_HUGE);
		if (ret < 0)
			return ret;
	}
	pt_set_direct_map_ready();
	return 0;
}

/* Protect [start, end) of the image and the direct map's view of it. */
static int protect_both(const char *start, const char *end, pgprot_t prot)
{
	uintptr_t s = ALIGN_DOWN((uintptr_t)start, PAGE_SIZE), e = ALIGN_UP((uintptr_t)end, PAGE_SIZE);
	int ret;

	if (e == s)
		return 0;
	ret = pt_protect(kernel_pml4, s, e - s, prot);
	if (ret == 0)
		ret = pt_protect(kernel_pml4, (uintptr_t)phys_to_virt(kernel_virt_to_phys((void *)s)),
				 e - s, prot.bits & PTE_NX ? prot : PAGE_KERNEL_RO);
	return ret;
}

int kernel_protect_image(void)
{
	/* Everything below .text (the low 1 MiB and the 32-bit boot code) is
	 * done with: read-only, not executable. The direct map keeps the low
	 * 1 MiB writable for firmware-table users, so only the image side. */
	int ret = pt_protect(kernel_pml4, KERNEL_VIRT_BASE,
			     (uintptr_t)__text_start - KERNEL_VIRT_BASE, PAGE_KERNEL_RO);

	if (ret == 0)
		ret = protect_both(__text_start, __text_end, PAGE_KERNEL_RX);
	if (ret == 0)
		ret = protect_both(__rodata_start, __rodata_end, PAGE_KERNEL_RO);
	if (ret == 0)
		ret = pt_protect(kernel_pml4, (uintptr_t)__data_start,
				 (uintptr_t)__kernel_end - (uintptr_t)__data_start, PAGE_KERNEL);
	return ret;
}

void directmap_drop_identity(void)
{
	boot_pml4[0] = 0;
	write_cr3(read_cr3());
}
