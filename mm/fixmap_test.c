/* Tests of the early fixmap, including a mapping above 4 GiB that would
 * alias low memory if any step truncated the physical address to 32 bits. */
#include <pagoda/bootinfo.h>
#include <asm/cpu.h>
#include <pagoda/fixmap.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/multiboot2.h>

#define GiB (1ULL << 30)
#define FOUR_GIB (4 * GiB)

/* Is [pa, pa + len) inside usable RAM and clear of the boot info? */
static bool usable_ram(phys_addr_t pa, uint64_t len)
{
	for (unsigned int i = 0; i < boot_info.nr_mmap; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];
		if (e->type == MB2_MEMORY_AVAILABLE && pa >= e->base && pa + len <= e->base + e->len)
			return pa >= boot_info.mbi_end || pa + len <= boot_info.mbi_start;
	}
	return false;
}

static void fixmap_high_address_is_not_truncated(struct ktest *t)
{
	const phys_addr_t low = 1 * GiB + 0x5000, high = low + FOUR_GIB;
	volatile uint64_t *hv, *lv;
	uint64_t save_h, save_l;

	if (!usable_ram(high, 8) || !usable_ram(low, 8)) {
		ktest_skip(t, "needs RAM at 1 GiB and at 5 GiB");
		return;
	}
	hv = fixmap_map(high, 8, CACHE_WB);
	lv = phys_to_virt(low); /* the direct map */
	KASSERT_NOT_NULL(t, hv);
	save_h = *hv, save_l = *lv;
	*hv = 0x1111111111111111ULL;
	*lv = 0x2222222222222222ULL;
	KEXPECT_EQ(t, *hv, 0x1111111111111111ULL); /* would read 0x2222... if truncated */
	*hv = save_h, *lv = save_l;
}

static void fixmap_same_range_reuses_slot(struct ktest *t)
{
	void *a = fixmap_map(0xfee00000, 4096, CACHE_UC);
	void *b = fixmap_map(0xfee00010, 4, CACHE_UC);

	KASSERT_NOT_NULL(t, a);
	KEXPECT_EQ(t, (uintptr_t)b, (uintptr_t)a + 0x10);
}

static void fixmap_rejects_bad_ranges(struct ktest *t)
{
	KEXPECT_NULL(t, fixmap_map(0x1000, 0, CACHE_WB));
	KEXPECT_NULL(t, fixmap_map(~0ULL - 10, 100, CACHE_WB));        /* wraps */
	KEXPECT_NULL(t, fixmap_map(cpu_phys_limit(), 4096, CACHE_UC)); /* beyond MAXPHYADDR */
}

static void fixmap_maps_near_top_of_physical_space(struct ktest *t)
{
	/* Mapping (not touching) a page just below MAXPHYADDR must work. */
	void *p = fixmap_map(cpu_phys_limit() - 4096, 4096, CACHE_UC);

	KEXPECT_NOT_NULL(t, p);
}

static const struct ktest_case fixmap_cases[] = {
	KTEST_CASE(fixmap_high_address_is_not_truncated),
	KTEST_CASE(fixmap_same_range_reuses_slot),
	KTEST_CASE(fixmap_rejects_bad_ranges),
	KTEST_CASE(fixmap_maps_near_top_of_physical_space),
};
KTEST_SUITE(fixmap, fixmap_cases);
