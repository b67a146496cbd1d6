/* mm_init: from GRUB's memory map to a kernel that can allocate. The order
 * matters: the direct map needs page tables (from memblock, below 4 GiB
 * where the boot identity map reaches them); the frame descriptors need
 * the direct map; the buddy allocator needs the descriptors; everything
 * after needs the buddy allocator. */
#include <pagoda/ioremap.h>
#include <pagoda/kstack.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <pagoda/mm_init.h>
#include <pagoda/panic.h>
#include <pagoda/pgtable.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/resource.h>
#include <pagoda/slab.h>
#include <pagoda/uaccess.h>
#include <asm/uaccess.h>
#include <asm/x86.h>

extern pte_t boot_pml4[PT_ENTRIES];
extern uint64_t kmain_tsc;
uint64_t mm_init_cycles;

static void print_memory_summary(void)
{
	uint64_t frames = pmm_total_pages(), desc = page_descriptor_bytes();

	pr_info("mm: %llu MiB managed, %llu MiB free; %llu frame descriptors of %zu bytes "
		"= %llu KiB (%llu.%02llu%% of RAM)\n",
		(unsigned long long)(frames >> 8), (unsigned long long)(pmm_free_pages() >> 8),
		(unsigned long long)(desc / sizeof(struct page)), sizeof(struct page),
		(unsigned long long)(desc >> 10),
		(unsigned long long)(desc * 100 / (frames * PAGE_SIZE + 1)),
		(unsigned long long)(desc * 10000 / (frames * PAGE_SIZE + 1) % 100));
	pmm_print_stats();
}

void mm_init(const struct boot_info *bi, const struct cmdline *cl)
{
	int ret;

	kernel_pml4 = kernel_virt_to_phys(boot_pml4);
	memblock_init(bi, cl);
	if (!memblock_memory.nr)
		panic("mm: the memory map lists no usable RAM");
	if ((ret = directmap_init()) < 0)
		panic("mm: cannot build the direct map (error %d)", ret);
	if (page_init_sections() < 0)
		panic("mm: out of memory for frame descriptors");
	pmm_init();
	pt_use_pmm();
	if ((ret = kernel_protect_image()) < 0)
		panic("mm: cannot protect the kernel image (error %d)", ret);
	directmap_drop_identity();
	if (ioremap_init() < 0 || kstack_init() < 0)
		panic("mm: out of memory for the ioremap and kernel-stack tables");
	kmalloc_init();
	uaccess_init();
	resource_init_boot();
	mm_init_cycles = rdtsc() - kmain_tsc;
	print_memory_summary();
	resource_print();
}
