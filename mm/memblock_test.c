/* Tests of memblock's range lists and of memmap= parsing, on private lists
 * (the global ones are history once the buddy allocator runs), plus checks
 * of what memblock_init() made of the real boot. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>

static struct memblock_list l;

static void memblock_add_merges_touching_and_overlapping(struct ktest *t)
{
	l.nr = 0;
	KEXPECT_EQ(t, memblock_add(&l, 0x3000, 0x1000), 0);
	KEXPECT_EQ(t, memblock_add(&l, 0x1000, 0x1000), 0);
	KEXPECT_EQ(t, memblock_add(&l, 0x2000, 0x1000), 0); /* touches both */
	KEXPECT_EQ(t, memblock_add(&l, 0x10000, 0x1000), 0);
	KASSERT_EQ(t, l.nr, 2);
	KEXPECT_EQ(t, l.r[0].base, 0x1000);
	KEXPECT_EQ(t, l.r[0].end, 0x4000);
	KEXPECT_EQ(t, l.r[1].base, 0x10000);
	KEXPECT_EQ(t, memblock_total(&l), 0x4000);
}

static void memblock_remove_splits_a_range(struct ktest *t)
{
	l.nr = 0;
	memblock_add(&l, 0x100000, 0x100000);
	KEXPECT_EQ(t, memblock_remove(&l, 0x140000, 0x10000), 0);
	KASSERT_EQ(t, l.nr, 2);
	KEXPECT_EQ(t, l.r[0].end, 0x140000);
	KEXPECT_EQ(t, l.r[1].base, 0x150000);
	KEXPECT_TRUE(t, memblock_overlaps(&l, 0x13f000, 0x2000));
	KEXPECT_FALSE(t, memblock_overlaps(&l, 0x140000, 0x10000));
}

static void memblock_rejects_wrapping_range(struct ktest *t)
{
	l.nr = 0;
	KEXPECT_EQ(t, memblock_add(&l, UINT64_MAX - 0xfff, 0x2000), -EINVAL);
	KEXPECT_EQ(t, l.nr, 0);
}

static void memblock_memmap_parses_linux_syntax(struct ktest *t)
{
	l.nr = 0;
	KEXPECT_EQ(t, memblock_parse_memmap(&l, "64M$0x180000000"), 0);
	KASSERT_EQ(t, l.nr, 1);
	KEXPECT_EQ(t, l.r[0].base, 0x180000000ULL);
	KEXPECT_EQ(t, l.r[0].end, 0x180000000ULL + (64ULL << 20));
	KEXPECT_EQ(t, memblock_parse_memmap(&l, "4K$0x2000,8K$0x10000"), 0);
	KEXPECT_EQ(t, l.nr, 3);
}

static void memblock_memmap_rounds_out_to_pages(struct ktest *t)
{
	l.nr = 0;
	KEXPECT_EQ(t, memblock_parse_memmap(&l, "100$0x1010"), 0);
	KASSERT_EQ(t, l.nr, 1);
	KEXPECT_EQ(t, l.r[0].base, 0x1000);
	KEXPECT_EQ(t, l.r[0].end, 0x2000);
}

static void memblock_memmap_bad_values_change_nothing(struct ktest *t)
{
	static const char *const bad[] = {
		"", "64M", "$0x1000", "64M$", "abc$0x1000", "0$0x1000", "64M$xyz",
		"64M@0x1000", "16E$0x0", "1G$0xffffffffffffff00", "64M$0x1000junk",
		"4K$0x2000,bad",
	};

	l.nr = 0;
	memblock_add(&l, 0x5000, 0x1000);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
		KEXPECT_EQ(t, memblock_parse_memmap(&l, bad[i]), -EINVAL);
	KEXPECT_EQ(t, l.nr, 1); /* all or nothing: the good half of the last one is not kept */
}

static void memblock_boot_reserves_kernel_and_low_memory(struct ktest *t)
{
	phys_addr_t kstart = kernel_virt_to_phys(__kernel_start);

	KEXPECT_TRUE(t, memblock_overlaps(&memblock_reserved, 0, PAGE_SIZE));
	KEXPECT_TRUE(t, memblock_overlaps(&memblock_reserved, 0xff000, PAGE_SIZE));
	KEXPECT_TRUE(t, memblock_overlaps(&memblock_reserved, kstart, PAGE_SIZE));
	KEXPECT_TRUE(t, memblock_overlaps(&memblock_reserved,
					  kernel_virt_to_phys(__kernel_end) - PAGE_SIZE, PAGE_SIZE));
}

static void memblock_boot_memmap_leaves_usable_memory(struct ktest *t)
{
	if (!memblock_memmap.nr) {
		ktest_skip(t, "no memmap= on the command line");
		return;
	}
	for (unsigned int i = 0; i < memblock_memmap.nr; i++) {
		const struct memblock_range *r = &memblock_memmap.r[i];
		KEXPECT_FALSE(t, memblock_overlaps(&memblock_memory, r->base, r->end - r->base));
	}
}

static const struct ktest_case memblock_cases[] = {
	KTEST_CASE(memblock_add_merges_touching_and_overlapping),
	KTEST_CASE(memblock_remove_splits_a_range),
	KTEST_CASE(memblock_rejects_wrapping_range),
	KTEST_CASE(memblock_memmap_parses_linux_syntax),
	KTEST_CASE(memblock_memmap_rounds_out_to_pages),
	KTEST_CASE(memblock_memmap_bad_values_change_nothing),
	KTEST_CASE(memblock_boot_reserves_kernel_and_low_memory),
	KTEST_CASE(memblock_boot_memmap_leaves_usable_memory),
};
KTEST_SUITE(memblock, memblock_cases);
