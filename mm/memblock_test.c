/* Tests of memblock's range lists and of memmap= parsing, on private lists
 * (the global ones are history once the buddy allocator runs), plus checks
 * of what memblock_init() made of the real boot. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <pagoda/multiboot2.h>
#include <pagoda/string.h>

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

/* --- a firmware memory map of 512 entries, as a UEFI machine hands over:
 * RAM in many pieces that overlap and repeat, reserved, ACPI and bad
 * ranges on top of it, empty entries, ends on 1 KiB boundaries rather
 * than pages, everything shuffled, 256 GiB up. The expected result comes
 * from a map of the span in 1 KiB cells, not from memblock: a page is RAM
 * when all its cells are covered by available entries and none by any
 * other entry. */

#define MAP_ENTRIES 512
#define MAP_REGIONS 8
#define PIECES 55 /* available entries a region is cut into */
#define SPAN_BASE 0x4000000000ULL
#define SPAN (16ULL << 20)
#define CELL 1024ULL
#define CELLS (SPAN / CELL)
#define CELLS_PER_PAGE (PAGE_SIZE / CELL)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint8_t avail[CELLS], other[CELLS];
static struct mb2_mmap_entry map[MAP_ENTRIES];
static uint8_t mbi[16 + 16 + sizeof(map) + 8] __aligned(8);
static struct boot_info map_bi;

static uint64_t rnd(uint64_t n) /* xorshift64 */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static void put_entry(unsigned int i, uint64_t cell, uint64_t cells, uint32_t type)
{
	cell = MIN(cell, CELLS);
	cells = MIN(cells, CELLS - cell);
	map[i] = (struct mb2_mmap_entry){ .base_addr = SPAN_BASE + cell * CELL,
					  .length = cells * CELL, .type = type };
	for (uint64_t c = cell; c < cell + cells; c++)
		(type == MB2_MEMORY_AVAILABLE ? avail : other)[c] = 1;
}

/* 440 pieces of 8 RAM regions, 66 other entries, 6 empty ones; shuffled.
 * Returns the number of empty entries. */
static unsigned int make_map(void)
{
	static const uint32_t others[] = { MB2_MEMORY_RESERVED, MB2_MEMORY_ACPI_RECLAIMABLE,
					   MB2_MEMORY_NVS, MB2_MEMORY_BADRAM };
	unsigned int n = 0, empty = 6;

	memset(avail, 0, sizeof(avail));
	memset(other, 0, sizeof(other));
	for (unsigned int r = 0; r < MAP_REGIONS; r++) {
		uint64_t start = r * (CELLS / MAP_REGIONS) + rnd(64), len = CELLS / MAP_REGIONS - 200;
		uint64_t piece = (len + PIECES - 1) / PIECES;
		for (unsigned int p = 0; p < PIECES; p++) {
			uint64_t a = start + p * piece, b = MIN(a + piece, start + len);
			a -= MIN(a - start, rnd(12)); /* overlap the piece before */
			put_entry(n++, a, b - a, MB2_MEMORY_AVAILABLE);
		}
	}
	while (n < MAP_ENTRIES - empty)
		put_entry(n++, rnd(CELLS), 1 + rnd(40), others[rnd(ARRAY_SIZE(others))]);
	while (n < MAP_ENTRIES)
		put_entry(n++, rnd(CELLS), 0, MB2_MEMORY_AVAILABLE);
	for (unsigned int i = MAP_ENTRIES - 1; i > 0; i--) { /* Fisher-Yates */
		unsigned int j = rnd(i + 1);
		struct mb2_mmap_entry e = map[i];
		map[i] = map[j];
		map[j] = e;
	}
	return empty;
}

/* The info GRUB would pass: one memory map tag, then the end tag. */
static int parse_map(char *err, size_t errlen)
{
	struct mb2_tag_mmap *m = (void *)(mbi + sizeof(struct mb2_info_header));
	size_t tag = sizeof(*m) + sizeof(map);
	struct mb2_tag *end = (void *)((uint8_t *)m + ALIGN_UP(tag, 8));

	memset(mbi, 0, sizeof(mbi));
	m->tag = (struct mb2_tag){ .type = MB2_TAG_MMAP, .size = tag };
	m->entry_size = sizeof(struct mb2_mmap_entry);
	memcpy(m->entries, map, sizeof(map));
	*end = (struct mb2_tag){ .type = MB2_TAG_END, .size = 8 };
	((struct mb2_info_header *)mbi)->total_size = (uint8_t *)(end + 1) - mbi;
	return mb2_parse(mbi, &map_bi, err, errlen);
}

static bool page_is_ram(uint64_t page)
{
	for (uint64_t c = page * CELLS_PER_PAGE; c < (page + 1) * CELLS_PER_PAGE; c++)
		if (!avail[c] || other[c])
			return false;
	return true;
}

static void memblock_usable_ram_of_512_unsorted_overlapping_entries(struct ktest *t)
{
	unsigned int empty = make_map(), ri = 0, wrong = 0;
	uint64_t want = 0;
	char err[160];

	KASSERT_EQ(t, parse_map(err, sizeof(err)), 0);
	KEXPECT_EQ(t, map_bi.nr_mmap, MAP_ENTRIES - empty); /* empty ones dropped */
	l.nr = 0;
	memblock_add_usable(&l, map_bi.mmap, map_bi.nr_mmap);
	ktest_log(t, "%u entries -> %u RAM ranges", map_bi.nr_mmap, l.nr);
	for (unsigned int i = 0; i < l.nr; i++) {
		KEXPECT_TRUE(t, IS_ALIGNED(l.r[i].base, PAGE_SIZE) && IS_ALIGNED(l.r[i].end, PAGE_SIZE));
		KEXPECT_LT(t, l.r[i].base, l.r[i].end);
		if (i)
			KEXPECT_LT(t, l.r[i - 1].end, l.r[i].base); /* sorted, merged */
	}
	for (uint64_t p = 0; p < SPAN / PAGE_SIZE; p++) {
		phys_addr_t pa = SPAN_BASE + p * PAGE_SIZE;
		while (ri < l.nr && l.r[ri].end <= pa)
			ri++;
		bool listed = ri < l.nr && l.r[ri].base <= pa;
		want += page_is_ram(p) ? PAGE_SIZE : 0;
		if (listed != page_is_ram(p) && wrong++ < 3)
			ktest_log(t, "page %#llx: listed %d, RAM %d", (unsigned long long)pa, listed,
				  page_is_ram(p));
	}
	KEXPECT_EQ(t, wrong, 0U);
	KEXPECT_EQ(t, memblock_total(&l), want);
	KEXPECT_GT(t, want, SPAN / 2); /* the map is mostly RAM: the test tests something */
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
	KTEST_CASE(memblock_usable_ram_of_512_unsorted_overlapping_entries),
};
KTEST_SUITE(memblock, memblock_cases);
