/* ioremap: device memory into kernel virtual space.
 *
 * Virtual space comes from [IOREMAP_BASE, IOREMAP_END), handed out first
 * fit with a one-page guard gap after each area. An area's virtual address
 * is chosen congruent to its physical address modulo the largest page size
 * it can use (va % 1 GiB == pa % 1 GiB for a 1 GiB BAR), so pt_map() can
 * use huge entries: a 1 GiB BAR costs one entry, not 262,144. */
#include <asm/cpu.h>
#include <pagoda/spinlock.h>
#include <pagoda/errno.h>
#include <pagoda/ioremap.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <pagoda/memtype.h>
#include <pagoda/mm_init.h>
#include <pagoda/page.h>
#include <pagoda/pgtable.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <asm/x86.h>

#define MAX_AREAS 256
#define GiB (1ULL << 30)
#define MiB2 (2ULL << 20)

struct io_area {
	uintptr_t va;   /* page-aligned start */
	uint64_t size;  /* page-aligned length */
	phys_addr_t pa; /* what it maps, reserved in the memtype list */
};

/* Guards areas and their page-table entries (the unmap flushes every CPU
 * while holding it). Sorted by va. */
DEFINE_STATIC_SPINLOCK(ioremap_lock);
static struct io_area areas[MAX_AREAS];
static unsigned int nr_areas;

int ioremap_init(void)
{
	/* Create the PDPTs for the whole space now: kernel-half PML4 entries
	 * are copied into every address space when it is created, so they
	 * must never change afterwards. */
	for (uintptr_t va = IOREMAP_BASE; va < IOREMAP_END; va += 512 * GiB) {
		int ret = pt_map(kernel_pml4, va, 0, PAGE_SIZE, PAGE_KERNEL, 0);
		if (ret < 0)
			return ret;
		pt_unmap(kernel_pml4, va, PAGE_SIZE, NULL, NULL);
	}
	return 0;
}

static uint64_t area_align(uint64_t size)
{
	if (size >= GiB && cpu.gbpages)
		return GiB;
	return size >= MiB2 ? MiB2 : PAGE_SIZE;
}

/* Find room for size bytes at va == pa (mod align); insert the area.
 * Returns the va or 0. */
static uintptr_t area_alloc(phys_addr_t pa, uint64_t size)
{
	uint64_t align = area_align(size), off = pa & (align - 1);
	uintptr_t gap_start = IOREMAP_BASE;

	if (nr_areas == MAX_AREAS)
		return 0;
	for (unsigned int i = 0; i <= nr_areas; i++) {
		uintptr_t gap_end = i < nr_areas ? areas[i].va : IOREMAP_END;
		uintptr_t va = ALIGN_UP(gap_start, align) + off;
		if (va >= gap_start && va + size + PAGE_SIZE <= gap_end) {
			memmove(&areas[i + 1], &areas[i], (nr_areas - i) * sizeof(areas[0]));
			areas[i] = (struct io_area){ va, size, pa & PAGE_MASK };
			nr_areas++;
			return va;
		}
		if (i < nr_areas)
			gap_start = areas[i].va + areas[i].size + PAGE_SIZE;
	}
	return 0;
}

static void area_remove(unsigned int i)
{
	memmove(&areas[i], &areas[i + 1], (nr_areas - i - 1) * sizeof(areas[0]));
	nr_areas--;
}

void *ioremap(phys_addr_t phys, size_t size, enum cache_mode mode)
{
	phys_addr_t start = ALIGN_DOWN(phys, PAGE_SIZE), end = phys + size;
	uint64_t len, flags;
	uintptr_t va;

	if (!size || end < phys || end > cpu_phys_limit())
		return NULL;
	end = ALIGN_UP(end, PAGE_SIZE);
	len = end - start;
	if (memblock_overlaps(&memblock_memory, start, len)) {
		pr_warn("ioremap: [%#llx-%#llx) is System RAM; refused\n",
			(unsigned long long)start, (unsigned long long)end);
		return NULL;
	}
	/* The range may be mapped already, here or in a process: take the
	 * type it has there, or give up rather than alias it. */
	if (memtype_reserve(start, end, mode, &mode) < 0)
		return NULL;
	flags = spin_lock_irqsave(&ioremap_lock);
	va = area_alloc(start, len);
	if (va && pt_map(kernel_pml4, va, start, len, pgprot_cache(PAGE_KERNEL, mode),
			 PT_MAP_HUGE) < 0) {
		for (unsigned int i = 0; i < nr_areas; i++)
			if (areas[i].va == va)
				area_remove(i);
		va = 0;
	}
	spin_unlock_irqrestore(&ioremap_lock, flags);
	if (!va)
		memtype_free(start, end);
	return va ? (void *)(va + (phys - start)) : NULL;
}

int iounmap(void *addr)
{
	uintptr_t va = ALIGN_DOWN((uintptr_t)addr, PAGE_SIZE);
	uint64_t flags = spin_lock_irqsave(&ioremap_lock);

	for (unsigned int i = 0; i < nr_areas; i++) {
		if (areas[i].va != va)
			continue;
		struct io_area a = areas[i];
		pt_unmap(kernel_pml4, va, a.size, NULL, NULL);
		area_remove(i);
		spin_unlock_irqrestore(&ioremap_lock, flags);
		memtype_free(a.pa, a.pa + a.size);
		return 0;
	}
	spin_unlock_irqrestore(&ioremap_lock, flags);
	pr_warn("iounmap: %p was not returned by ioremap; ignored\n", addr);
	return -EINVAL;
}
