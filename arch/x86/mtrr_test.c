/* Tests of the MTRR lookup (arch/x86/mtrr.c) on synthetic MTRR tables shaped
 * like the ones SeaBIOS and OVMF program (printed at every boot), of the
 * page-table code's refusal to write a huge page over mixed types, and of
 * the real direct map against the real MTRRs. The expected types come
 * from the SDM's rules (Vol. 3A, 12.11), not from the code. */
#include <asm/cpu.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <asm/mtrr.h>
#include <pagoda/pgtable.h>
#include <pagoda/pmm.h>
#include <pagoda/string.h>

#define KiB4 0x1000ULL
#define MiB2 (2ULL << 20)
#define GiB (1ULL << 30)
#define TEST_VA 0x0000100000000000ULL /* 1 GiB-aligned, in a private PML4 */
#define PA_TEST 0x7fc0000000ULL       /* 511 GiB, 1 GiB-aligned: no RAM there here */

static struct mtrr_state st;

/* A contiguous variable range [base, base + size), size a power of two. */
static void add_var(phys_addr_t base, uint64_t size, uint8_t type)
{
	uint64_t limit = ((1ULL << st.phys_bits) - 1) & PAGE_MASK;

	st.var[st.nr_var++] = (struct mtrr_var){ .base = base, .mask = limit & ~(size - 1),
						  .type = type };
}

/* SeaBIOS's table: WB by default, the 32-bit PCI hole [3 GiB, 4 GiB) UC,
 * and the fixed ranges below 1 MiB; 40 physical address bits. */
static void seabios_like_bits(unsigned int phys_bits)
{
	memset(&st, 0, sizeof(st));
	st.enabled = st.fixed_enabled = true;
	st.def_type = MTRR_TYPE_WB;
	st.phys_bits = phys_bits;
	for (unsigned int i = 0; i < MTRR_NR_FIXED; i++) /* 64K x 8, 16K x 16, 4K x 64 */
		st.fixed[i] = i < 16 ? MTRR_TYPE_WB : i < 24 ? MTRR_TYPE_UC : MTRR_TYPE_WP;
	add_var(0xc0000000ULL, GiB, MTRR_TYPE_UC);
}

static void seabios_like(void)
{
	seabios_like_bits(40);
}

static uint8_t lookup(phys_addr_t start, phys_addr_t end, bool *uniform)
{
	return mtrr_type_lookup(&st, start, end, uniform);
}

static void mtrr_lookup_gives_default_type_outside_every_range(struct ktest *t)
{
	bool u;

	seabios_like();
	KEXPECT_EQ(t, lookup(4 * GiB, 8 * GiB, &u), MTRR_TYPE_WB);
	KEXPECT_TRUE(t, u);
	KEXPECT_EQ(t, lookup(GiB, 2 * GiB, &u), MTRR_TYPE_WB);
	KEXPECT_TRUE(t, u);
	st.def_type = MTRR_TYPE_UC;
	KEXPECT_EQ(t, lookup(4 * GiB, 5 * GiB, &u), MTRR_TYPE_UC);
}

static void mtrr_lookup_range_edge_inside_makes_it_mixed(struct ktest *t)
{
	bool u;

	seabios_like();
	KEXPECT_EQ(t, lookup(0xc0000000ULL, 4 * GiB, &u), MTRR_TYPE_UC);
	KEXPECT_TRUE(t, u);
	KEXPECT_EQ(t, lookup(0xc0000000ULL - MiB2, 0xc0000000ULL + MiB2, &u), MTRR_TYPE_WB);
	KEXPECT_FALSE(t, u);
	KEXPECT_EQ(t, lookup(4 * GiB - MiB2, 4 * GiB + MiB2, &u), MTRR_TYPE_UC);
	KEXPECT_FALSE(t, u);
	/* ending exactly at an edge is not mixed */
	lookup(2 * GiB, 0xc0000000ULL, &u);
	KEXPECT_TRUE(t, u);
}

static void mtrr_lookup_reads_fixed_ranges_below_1mib(struct ktest *t)
{
	bool u;

	seabios_like();
	KEXPECT_EQ(t, lookup(0, 0xa0000, &u), MTRR_TYPE_WB);
	KEXPECT_TRUE(t, u);
	KEXPECT_EQ(t, lookup(0xb8000, 0xb9000, &u), MTRR_TYPE_UC); /* the text buffer */
	KEXPECT_TRUE(t, u);
	KEXPECT_EQ(t, lookup(0xf0000, 0xf1000, &u), MTRR_TYPE_WP);
	KEXPECT_EQ(t, lookup(0, MiB2, &u), MTRR_TYPE_WB); /* the first 2 MiB page */
	KEXPECT_FALSE(t, u);
	/* without FE the variable ranges and the default apply below 1 MiB */
	st.fixed_enabled = false;
	KEXPECT_EQ(t, lookup(0xb8000, 0xb9000, &u), MTRR_TYPE_WB);
	lookup(0, MiB2, &u);
	KEXPECT_TRUE(t, u);
}

/* SDM 12.11.4.1: UC wins over anything; WT wins over WB. */
static void mtrr_lookup_combines_overlapping_ranges(struct ktest *t)
{
	bool u;

	seabios_like();
	add_var(0, 64 * GiB, MTRR_TYPE_WB);
	add_var(8 * GiB, GiB, MTRR_TYPE_WT);
	add_var(8 * GiB + MiB2, MiB2, MTRR_TYPE_UC);
	KEXPECT_EQ(t, lookup(8 * GiB, 8 * GiB + MiB2, &u), MTRR_TYPE_WT);
	KEXPECT_TRUE(t, u);
	KEXPECT_EQ(t, lookup(8 * GiB + MiB2, 8 * GiB + 2 * MiB2, &u), MTRR_TYPE_UC);
	KEXPECT_TRUE(t, u);
	lookup(8 * GiB, 9 * GiB, &u);
	KEXPECT_FALSE(t, u);
	KEXPECT_EQ(t, lookup(0xc0000000ULL, 0xc0001000ULL, &u), MTRR_TYPE_UC); /* UC over WB */
}

static void mtrr_lookup_without_mtrrs_is_invalid_and_uniform(struct ktest *t)
{
	bool u = false;

	seabios_like();
	st.enabled = false;
	KEXPECT_EQ(t, lookup(0, 1ULL << 39, &u), MTRR_TYPE_INVALID);
	KEXPECT_TRUE(t, u);
}

/* A mask with a hole matches stripes that cannot be listed: no range
 * larger than a page is taken as uniform near one. */
static void mtrr_lookup_striped_mask_is_never_uniform(struct ktest *t)
{
	bool u;

	seabios_like();
	st.var[st.nr_var++] = (struct mtrr_var){ .base = 0x100000000ULL,
						  .mask = 0xff00fff000ULL, .type = MTRR_TYPE_UC };
	lookup(16 * GiB, 16 * GiB + MiB2, &u);
	KEXPECT_FALSE(t, u);
	lookup(16 * GiB, 16 * GiB + KiB4, &u);
	KEXPECT_TRUE(t, u);
}

static bool level_at(phys_addr_t root, uintptr_t va, unsigned int *level)
{
	struct pt_lookup_result r;

	if (pt_lookup(root, va, &r) < 0)
		return false;
	*level = r.level;
	return true;
}

/* A 4 KiB UC range in the second 2 MiB of an otherwise WB GiB: pt_map()
 * with huge pages uses no 1 GiB entry, 4 KiB entries for that 2 MiB, and
 * 2 MiB entries for the rest, as Linux's pud/pmd_set_huge() refusals do. */
static void mtrr_huge_page_over_mixed_types_is_split(struct ktest *t)
{
	struct page *root_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	const struct mtrr_state *old;
	phys_addr_t root;
	unsigned int l0 = 9, l1 = 9, l2 = 9, l3 = 9;

	KASSERT_NOT_NULL(t, root_page);
	root = page_to_phys(root_page);
	seabios_like_bits(cpu.phys_addr_bits);
	add_var(PA_TEST + MiB2 + 5 * KiB4, KiB4, MTRR_TYPE_UC);
	old = mtrr_use_state(&st);
	KEXPECT_EQ(t, pt_map(root, TEST_VA, PA_TEST, GiB, PAGE_KERNEL, PT_MAP_HUGE), 0);
	mtrr_use_state(old);
	KEXPECT_TRUE(t, level_at(root, TEST_VA, &l0));
	KEXPECT_TRUE(t, level_at(root, TEST_VA + MiB2, &l1));
	KEXPECT_TRUE(t, level_at(root, TEST_VA + MiB2 + 5 * KiB4, &l2));
	KEXPECT_TRUE(t, level_at(root, TEST_VA + GiB - MiB2, &l3));
	KEXPECT_EQ(t, l0, 1U);
	KEXPECT_EQ(t, l1, 0U);
	KEXPECT_EQ(t, l2, 0U);
	KEXPECT_EQ(t, l3, 1U);
	KEXPECT_EQ(t, pt_unmap(root, 0, 1ULL << 47, NULL, NULL), 0);
	free_pages(root_page, 0);
}

/* Every huge entry of the real direct map covers one MTRR type. */
static void mtrr_direct_map_huge_entries_have_one_type(struct ktest *t)
{
	const struct mtrr_state *s = mtrr_kernel_state();
	unsigned int huge = 0;

	if (!s->enabled) {
		ktest_skip(t, "no MTRRs enabled on this CPU");
		return;
	}
	for (unsigned int i = 0; i < memblock_memory.nr; i++) {
		const struct memblock_range *r = &memblock_memory.r[i];
		for (phys_addr_t pa = r->base; pa < r->end && pa < DIRECT_MAP_SIZE;) {
			struct pt_lookup_result res;
			bool u;
			if (pt_lookup(kernel_pml4, (uintptr_t)phys_to_virt(pa), &res) < 0) {
				pa += KiB4;
				continue;
			}
			uint64_t size = pt_level_size(res.level);
			phys_addr_t base = ALIGN_DOWN(pa, size);
			mtrr_type_lookup(s, base, base + size, &u);
			if (!u)
				ktest_log(t, "direct map entry [%#llx, +%#llx) is mixed",
					  (unsigned long long)base, (unsigned long long)size);
			KEXPECT_TRUE(t, u);
			huge += res.level > 0;
			pa = base + size;
		}
	}
	ktest_log(t, "%u huge entries checked", huge);
}

static const struct ktest_case mtrr_cases[] = {
	KTEST_CASE(mtrr_lookup_gives_default_type_outside_every_range),
	KTEST_CASE(mtrr_lookup_range_edge_inside_makes_it_mixed),
	KTEST_CASE(mtrr_lookup_reads_fixed_ranges_below_1mib),
	KTEST_CASE(mtrr_lookup_combines_overlapping_ranges),
	KTEST_CASE(mtrr_lookup_without_mtrrs_is_invalid_and_uniform),
	KTEST_CASE(mtrr_lookup_striped_mask_is_never_uniform),
	KTEST_CASE(mtrr_huge_page_over_mixed_types_is_split),
	KTEST_CASE(mtrr_direct_map_huge_entries_have_one_type),
};
KTEST_SUITE(mtrr, mtrr_cases);
