/* Tests of ioremap (mm/ioremap.c): what it maps, with which entries and
 * memory types, what it refuses, and that the mapping reaches the memory
 * it names (two mappings of one memmap= range see each other's writes, one
 * of another type is refused; a pixel of the boot framebuffer reads back). */
#include <pagoda/bootfb.h>
#include <pagoda/bootinfo.h>
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/ioremap.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <pagoda/multiboot2.h>
#include <pagoda/pgtable.h>
#include <pagoda/printk.h>

#define KiB4 0x1000ULL
#define GiB (1ULL << 30)
#define PA_896G 0xe000000000ULL /* where OVMF puts 64-bit BARs: 896 GiB */

/* Is [pa, pa + len) RAM according to the firmware's memory map? */
static bool firmware_ram(phys_addr_t pa, uint64_t len)
{
	for (unsigned int i = 0; i < boot_info.nr_mmap; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];
		if (e->type == MB2_MEMORY_AVAILABLE && pa >= e->base && pa + len <= e->base + e->len)
			return true;
	}
	return false;
}

static void ioremap_maps_1g_near_1tib_with_largest_entry(struct ktest *t)
{
	struct pt_lookup_result r;
	uint64_t tables = pt_table_pages();
	uintptr_t va;
	void *p;

	if (PA_896G + GiB > cpu_phys_limit()) {
		ktest_skip(t, "MAXPHYADDR below 897 GiB");
		return;
	}
	p = ioremap(PA_896G, GiB, CACHE_UC);
	KASSERT_NOT_NULL(t, p);
	va = (uintptr_t)p;
	KEXPECT_GE(t, va, IOREMAP_BASE);
	KEXPECT_LE(t, va + GiB, IOREMAP_END);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, va, &r), 0);
	KEXPECT_EQ(t, r.phys, PA_896G);
	KEXPECT_EQ(t, r.level, cpu.gbpages ? 2 : 1);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_UC);
	if (cpu.nx)
		KEXPECT_TRUE(t, r.pte & PTE_NX); /* device memory is never code */
	KEXPECT_FALSE(t, r.pte & PTE_USER);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, va + GiB - 1, &r), 0);
	KEXPECT_EQ(t, r.phys, PA_896G + GiB - 1);

	KEXPECT_EQ(t, iounmap(p), 0);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, va, &r), -ENOENT);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, va + GiB - 1, &r), -ENOENT);
	KEXPECT_EQ(t, pt_table_pages(), tables);
}

static void ioremap_unaligned_address_keeps_page_offset(struct ktest *t)
{
	const phys_addr_t pa = PA_896G + 0x1234;
	struct pt_lookup_result r;
	uint64_t tables = pt_table_pages();
	uint8_t *p;

	p = ioremap(pa, 0x2000, CACHE_UC); /* spans three pages */
	KASSERT_NOT_NULL(t, p);
	KEXPECT_EQ(t, (uintptr_t)p & (KiB4 - 1), 0x234);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)p, &r), 0);
	KEXPECT_EQ(t, r.phys, pa);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)p + 0x1fff, &r), 0);
	KEXPECT_EQ(t, r.phys, pa + 0x1fff);
	/* iounmap takes the address ioremap returned, offset and all. */
	KEXPECT_EQ(t, iounmap(p), 0);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)p, &r), -ENOENT);
	KEXPECT_EQ(t, pt_table_pages(), tables); /* the tables it built went back */
}

static void ioremap_rejects_empty_wrapping_and_out_of_range(struct ktest *t)
{
	const phys_addr_t limit = cpu_phys_limit();
	void *p;

	KEXPECT_NULL(t, ioremap(PA_896G, 0, CACHE_UC));
	KEXPECT_NULL(t, ioremap(~0ULL - 0xfff, 0x2000, CACHE_UC)); /* wraps */
	KEXPECT_NULL(t, ioremap(limit, KiB4, CACHE_UC));
	KEXPECT_NULL(t, ioremap(limit - KiB4, 2 * KiB4, CACHE_UC));
	KEXPECT_NULL(t, ioremap(limit - 1, 2, CACHE_UC));
	/* The last page below MAXPHYADDR is fine. */
	p = ioremap(limit - KiB4, KiB4, CACHE_UC);
	KEXPECT_NOT_NULL(t, p);
	if (p)
		KEXPECT_EQ(t, iounmap(p), 0);
}

static void ioremap_refuses_system_ram(struct ktest *t)
{
	const struct memblock_range *r;

	KASSERT_GT(t, memblock_memory.nr, 0);
	r = &memblock_memory.r[memblock_memory.nr - 1];
	KEXPECT_NULL(t, ioremap(r->base, KiB4, CACHE_UC));
	KEXPECT_NULL(t, ioremap(r->end - KiB4, KiB4, CACHE_WB));
	KEXPECT_NULL(t, ioremap(r->base + 0x10, 4, CACHE_UC));
	/* Straddling the end of RAM is refused too. */
	KEXPECT_NULL(t, ioremap(r->end - KiB4, 2 * KiB4, CACHE_UC));
	KEXPECT_NULL(t, ioremap(kernel_virt_to_phys(__text_start), KiB4, CACHE_UC));
}

static void ioremap_unmap_of_unknown_address_fails(struct ktest *t)
{
	struct pt_lookup_result r;
	static int not_io;
	uint8_t *p;

	KEXPECT_EQ(t, iounmap(&not_io), -EINVAL);
	KEXPECT_EQ(t, iounmap((void *)(uintptr_t)IOREMAP_END - KiB4), -EINVAL);
	p = ioremap(PA_896G, 4 * KiB4, CACHE_UC);
	KASSERT_NOT_NULL(t, p);
	/* A page inside an area is not the area: refused, the area stays. */
	KEXPECT_EQ(t, iounmap(p + KiB4), -EINVAL);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)p + KiB4, &r), 0);
	KEXPECT_EQ(t, iounmap(p), 0);
	KEXPECT_EQ(t, iounmap(p), -EINVAL); /* twice */
}

/* Two mappings of one memmap= range: a second one of the same type shares
 * the memory; one of another type would alias the first (undefined, SDM
 * 12.12.4) and is refused until the first is gone. */
static void ioremap_second_mapping_shares_memory_or_is_refused(struct ktest *t)
{
	volatile uint64_t *wb, *wb2 = NULL, *uc;
	struct pt_lookup_result r;
	phys_addr_t pa;

	if (!memblock_memmap.nr) {
		ktest_skip(t, "no memmap= range (boot with memmap=64M$0x180000000)");
		return;
	}
	pa = memblock_memmap.r[0].base + 0x10000;
	if (!firmware_ram(pa, KiB4)) {
		ktest_skip(t, "the memmap= range is not RAM on this machine");
		return;
	}
	wb = ioremap(pa, KiB4, CACHE_WB);
	KASSERT_NOT_NULL(t, wb);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)wb, &r), 0);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_WB); /* the MTRRs say WB for RAM */
	KEXPECT_NULL(t, ioremap(pa, KiB4, CACHE_UC));
	KEXPECT_NULL(t, ioremap(pa - KiB4, 2 * KiB4, CACHE_WC)); /* overlapping counts too */
	wb2 = ioremap(pa, KiB4, CACHE_WB);
	KEXPECT_NOT_NULL(t, wb2);
	if (wb2) {
		KEXPECT_NE(t, (uintptr_t)wb, (uintptr_t)wb2);
		wb2[7] = 0x5a5aa5a5c3c33c3cULL;
		KEXPECT_EQ(t, wb[7], 0x5a5aa5a5c3c33c3cULL);
		KEXPECT_EQ(t, iounmap((void *)wb2), 0);
	}
	KEXPECT_NULL(t, ioremap(pa, KiB4, CACHE_UC)); /* wb still maps it */
	KEXPECT_EQ(t, iounmap((void *)wb), 0);
	uc = ioremap(pa, KiB4, CACHE_UC); /* nothing maps it now */
	KASSERT_NOT_NULL(t, uc);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)uc, &r), 0);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_UC);
	KEXPECT_EQ(t, iounmap((void *)uc), 0);
}

/* The bottom-right pixel: drawn last by a console, so the least visible. */
static void ioremap_wc_framebuffer_pixel_reads_back(struct ktest *t)
{
	const struct boot_framebuffer *fb = bootfb_rgb();
	struct pt_lookup_result r;
	volatile uint8_t *px;
	unsigned int bytes;
	uint8_t saved[4];
	char why[160];

	if (!fb) {
		snprintf(why, sizeof(why), "no linear framebuffer: %s", bootfb_why_not_rgb());
		ktest_skip(t, why);
		return;
	}
	bytes = fb->bpp / 8;
	KASSERT_TRUE(t, bytes >= 1 && bytes <= 4);
	px = ioremap_wc(fb->addr + (uint64_t)(fb->height - 1) * fb->pitch +
				(uint64_t)(fb->width - 1) * bytes, bytes);
	KASSERT_NOT_NULL(t, px);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)px, &r), 0);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_WC);
	for (unsigned int i = 0; i < bytes; i++)
		saved[i] = px[i];
	for (unsigned int i = 0; i < bytes; i++)
		px[i] = (uint8_t)(saved[i] ^ (0xa5 + i));
	__asm__ __volatile__("sfence" ::: "memory"); /* drain the WC buffer */
	for (unsigned int i = 0; i < bytes; i++)
		KEXPECT_EQ(t, px[i], (uint8_t)(saved[i] ^ (0xa5 + i)));
	for (unsigned int i = 0; i < bytes; i++)
		px[i] = saved[i];
	__asm__ __volatile__("sfence" ::: "memory");
	KEXPECT_EQ(t, iounmap((void *)px), 0);
}

static const struct ktest_case ioremap_cases[] = {
	KTEST_CASE(ioremap_maps_1g_near_1tib_with_largest_entry),
	KTEST_CASE(ioremap_unaligned_address_keeps_page_offset),
	KTEST_CASE(ioremap_rejects_empty_wrapping_and_out_of_range),
	KTEST_CASE(ioremap_refuses_system_ram),
	KTEST_CASE(ioremap_unmap_of_unknown_address_fails),
	KTEST_CASE(ioremap_second_mapping_shares_memory_or_is_refused),
	KTEST_CASE(ioremap_wc_framebuffer_pixel_reads_back),
};
KTEST_SUITE(ioremap, ioremap_cases);
