/* Tests of the memory-type list (mm/memtype.c): what a second mapping of a
 * range gets, what is refused and logged, pieces given back on their own,
 * System RAM and the ISA range. They use a physical range where this
 * machine has nothing (no RAM, no resource in /proc/iomem), so nothing
 * else reserves it while they run; every case leaves the list as it found
 * it. The expected types come from Linux's arch/x86/mm/pat/memtype.c. */
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/memblock.h>
#include <pagoda/memtype.h>
#include <asm/mtrr.h>
#include <pagoda/resource.h>

#define KiB4 0x1000ULL
#define GiB (1ULL << 30)
#define SPAN (64 * KiB4)

/* A free physical range of SPAN bytes, 16 GiB above the end of RAM, or 0
 * (and the case skipped) when this machine has something there. */
static phys_addr_t free_range(struct ktest *t)
{
	const struct memblock_list *m = &memblock_memory;
	phys_addr_t pa = ALIGN_UP(m->r[m->nr - 1].end, GiB) + 16 * GiB;
	enum cache_mode type;

	if (pa + SPAN > cpu_phys_limit()) {
		ktest_skip(t, "no physical address space above RAM");
		return 0;
	}
	for (const struct resource *r = iomem_resource.child; r; r = r->sibling)
		if (r->start < pa + SPAN && pa < r->end) {
			ktest_skip(t, "a resource lies 16 GiB above the end of RAM");
			return 0;
		}
	if (memtype_lookup(pa, pa + SPAN, &type) != -ENOENT) {
		ktest_skip(t, "16 GiB above the end of RAM is mapped already");
		return 0;
	}
	return pa;
}

/* What a WB request for [pa, pa + KiB4) becomes: WB where the MTRRs say
 * so (or there are none), UC- elsewhere. */
static enum cache_mode wb_there(phys_addr_t pa)
{
	bool u;
	uint8_t t = mtrr_type_lookup(mtrr_kernel_state(), pa, pa + KiB4, &u);

	return t == MTRR_TYPE_INVALID || t == MTRR_TYPE_WB ? CACHE_WB : CACHE_UC_MINUS;
}

static void memtype_second_mapping_gets_the_type_already_there(struct ktest *t)
{
	phys_addr_t a = free_range(t);
	unsigned int before = memtype_count();
	enum cache_mode got = CACHE_WB;

	if (!a)
		return;
	KASSERT_EQ(t, memtype_reserve(a, a + 2 * KiB4, CACHE_WC, &got), 0);
	KEXPECT_EQ(t, got, CACHE_WC);
	/* overlapping, asking for UC-: WC is compatible and is what it gets */
	KEXPECT_EQ(t, memtype_reserve(a + KiB4, a + 3 * KiB4, CACHE_UC_MINUS, &got), 0);
	KEXPECT_EQ(t, got, CACHE_WC);
	KEXPECT_EQ(t, memtype_lookup(a + 2 * KiB4, a + 3 * KiB4, &got), 0);
	KEXPECT_EQ(t, got, CACHE_WC);
	/* with no say in the type (got NULL), a different one is refused */
	KEXPECT_EQ(t, memtype_reserve(a, a + KiB4, CACHE_UC, NULL), -EINVAL);
	KEXPECT_EQ(t, memtype_free(a, a + 2 * KiB4), 0);
	KEXPECT_EQ(t, memtype_lookup(a, a + KiB4, &got), -ENOENT);
	KEXPECT_EQ(t, memtype_lookup(a + KiB4, a + 2 * KiB4, &got), 0);
	KEXPECT_EQ(t, memtype_free(a + KiB4, a + 3 * KiB4), 0);
	KEXPECT_EQ(t, memtype_lookup(a, a + 3 * KiB4, &got), -ENOENT);
	KEXPECT_EQ(t, memtype_count(), before);
}

/* An uncached or write-combining mapping over a write-back one would
 * alias it: refused (Linux's is_new_memtype_allowed()). */
static void memtype_uncached_request_over_write_back_is_refused(struct ktest *t)
{
	phys_addr_t a = free_range(t);
	unsigned int before = memtype_count();
	enum cache_mode got = CACHE_UC, wb;

	if (!a)
		return;
	wb = wb_there(a);
	KASSERT_EQ(t, memtype_reserve(a, a + KiB4, CACHE_WB, &got), 0);
	KEXPECT_EQ(t, got, wb);
	if (wb != CACHE_WB) {
		ktest_log(t, "the MTRRs make %#llx uncached: WB became UC-", (unsigned long long)a);
		KEXPECT_EQ(t, memtype_free(a, a + KiB4), 0);
		return;
	}
	KEXPECT_EQ(t, memtype_reserve(a, a + KiB4, CACHE_UC_MINUS, &got), -EINVAL);
	KEXPECT_EQ(t, memtype_reserve(a, a + KiB4, CACHE_WC, &got), -EINVAL);
	KEXPECT_EQ(t, memtype_check(a, a + KiB4, CACHE_UC, &got), -EINVAL);
	/* the refusals reserved nothing: one free empties the range */
	KEXPECT_EQ(t, memtype_free(a, a + KiB4), 0);
	KEXPECT_EQ(t, memtype_lookup(a, a + KiB4, &got), -ENOENT);
	KEXPECT_EQ(t, memtype_count(), before);
}

static void memtype_range_holding_two_types_is_busy(struct ktest *t)
{
	phys_addr_t a = free_range(t);
	unsigned int before = memtype_count();
	enum cache_mode got;

	if (!a)
		return;
	KASSERT_EQ(t, memtype_reserve(a, a + KiB4, CACHE_WC, &got), 0);
	KASSERT_EQ(t, memtype_reserve(a + KiB4, a + 2 * KiB4, CACHE_UC, &got), 0);
	KEXPECT_EQ(t, memtype_reserve(a, a + 2 * KiB4, CACHE_UC_MINUS, &got), -EBUSY);
	KEXPECT_EQ(t, memtype_lookup(a, a + 2 * KiB4, &got), -EBUSY);
	KEXPECT_EQ(t, memtype_free(a, a + KiB4), 0);
	KEXPECT_EQ(t, memtype_free(a + KiB4, a + 2 * KiB4), 0);
	KEXPECT_EQ(t, memtype_count(), before);
}

/* munmap of the middle of a device mapping gives back just that part. */
static void memtype_free_of_a_middle_piece_keeps_both_ends(struct ktest *t)
{
	phys_addr_t a = free_range(t);
	unsigned int before = memtype_count();
	enum cache_mode got;

	if (!a)
		return;
	KASSERT_EQ(t, memtype_reserve(a, a + 4 * KiB4, CACHE_UC, &got), 0);
	KEXPECT_EQ(t, memtype_free(a + KiB4, a + 2 * KiB4), 0);
	KEXPECT_EQ(t, memtype_lookup(a + KiB4, a + 2 * KiB4, &got), -ENOENT);
	KEXPECT_EQ(t, memtype_lookup(a, a + KiB4, &got), 0);
	KEXPECT_EQ(t, got, CACHE_UC);
	KEXPECT_EQ(t, memtype_lookup(a + 3 * KiB4, a + 4 * KiB4, &got), 0);
	/* freeing the hole again is a caller's mistake: refused, nothing changes */
	KEXPECT_EQ(t, memtype_free(a, a + 2 * KiB4), -EINVAL);
	KEXPECT_EQ(t, memtype_lookup(a, a + KiB4, &got), 0);
	KEXPECT_EQ(t, memtype_free(a, a + KiB4), 0);
	KEXPECT_EQ(t, memtype_free(a + 2 * KiB4, a + 4 * KiB4), 0);
	KEXPECT_EQ(t, memtype_count(), before);
}

/* Two reservations of one range take two frees; the type stays until
 * the last one. Unaligned ends are rounded out to pages. */
static void memtype_counts_reservations_of_one_range(struct ktest *t)
{
	phys_addr_t a = free_range(t);
	unsigned int before = memtype_count();
	enum cache_mode got;

	if (!a)
		return;
	KASSERT_EQ(t, memtype_reserve(a + 0x10, a + KiB4 + 1, CACHE_WC, &got), 0);
	KASSERT_EQ(t, memtype_reserve(a, a + 2 * KiB4, CACHE_WC, &got), 0);
	KEXPECT_EQ(t, memtype_count(), before + 1); /* one piece: same type and count */
	KEXPECT_EQ(t, memtype_free(a, a + 2 * KiB4), 0);
	KEXPECT_EQ(t, memtype_lookup(a + KiB4, a + 2 * KiB4, &got), 0);
	KEXPECT_EQ(t, memtype_free(a + 0x10, a + KiB4 + 1), 0);
	KEXPECT_EQ(t, memtype_lookup(a, a + 2 * KiB4, &got), -ENOENT);
	KEXPECT_EQ(t, memtype_count(), before);
}

/* RAM is mapped write-back by the direct map: any other type would alias
 * it; write-back is granted without a reservation. */
static void memtype_system_ram_is_write_back_only(struct ktest *t)
{
	const struct memblock_range *r = &memblock_memory.r[memblock_memory.nr - 1];
	unsigned int before = memtype_count();
	enum cache_mode got = CACHE_UC;
	phys_addr_t a = r->end - KiB4;

	KEXPECT_EQ(t, memtype_reserve(a, a + KiB4, CACHE_WB, &got), 0);
	KEXPECT_EQ(t, got, CACHE_WB);
	KEXPECT_EQ(t, memtype_count(), before);
	KEXPECT_EQ(t, memtype_free(a, a + KiB4), 0);
	KEXPECT_EQ(t, memtype_reserve(a, a + KiB4, CACHE_UC_MINUS, &got), -EINVAL);
	KEXPECT_EQ(t, memtype_reserve(a, a + KiB4, CACHE_WC, NULL), -EINVAL);
	/* half RAM, half not: refused whatever the type */
	KEXPECT_EQ(t, memtype_reserve(a, a + 2 * KiB4, CACHE_WB, &got), -EINVAL);
	KEXPECT_EQ(t, memtype_lookup(a, a + KiB4, &got), 0);
	KEXPECT_EQ(t, got, CACHE_WB);
	KEXPECT_EQ(t, memtype_count(), before);
}

/* The legacy VGA window is not tracked and always write-back (Linux): the
 * fixed MTRRs make it uncached underneath. */
static void memtype_isa_range_is_untracked_write_back(struct ktest *t)
{
	unsigned int before = memtype_count();
	enum cache_mode got = CACHE_UC;

	KEXPECT_EQ(t, memtype_reserve(0xb8000, 0xb9000, CACHE_UC, &got), 0);
	KEXPECT_EQ(t, got, CACHE_WB);
	KEXPECT_EQ(t, memtype_reserve(0xb8000, 0xb9000, CACHE_WC, &got), 0);
	KEXPECT_EQ(t, memtype_count(), before);
	KEXPECT_EQ(t, memtype_free(0xb8000, 0xb9000), 0);
}

static void memtype_rejects_empty_and_wrapping_ranges(struct ktest *t)
{
	enum cache_mode got;

	KEXPECT_EQ(t, memtype_reserve(0x100000000ULL, 0x100000000ULL, CACHE_UC, &got), -EINVAL);
	KEXPECT_EQ(t, memtype_reserve(0x200000000ULL, 0x100000000ULL, CACHE_UC, &got), -EINVAL);
	KEXPECT_EQ(t, memtype_reserve(~0ULL - 0x10, ~0ULL, CACHE_UC, &got), -EINVAL);
	KEXPECT_EQ(t, memtype_free(~0ULL - 0x10, ~0ULL), -EINVAL);
}

/* Where the firmware's MTRRs say uncached, a write-back request is given
 * UC- (Linux's pat_x_mtrr_type()). */
static void memtype_write_back_request_follows_uncached_mtrr(struct ktest *t)
{
	const struct mtrr_state *s = mtrr_kernel_state();
	enum cache_mode got = CACHE_WB;
	phys_addr_t a = 0;

	for (unsigned int i = 0; i < s->nr_var && !a; i++)
		if (s->var[i].type == MTRR_TYPE_UC && (s->var[i].base & s->var[i].mask) >= ISA_END)
			a = s->var[i].base & s->var[i].mask;
	if (!s->enabled || !a) {
		ktest_skip(t, "no uncached variable MTRR range on this machine");
		return;
	}
	if (memtype_lookup(a, a + KiB4, &got) != -ENOENT) {
		ktest_skip(t, "the first page of the uncached MTRR range is mapped already");
		return;
	}
	KEXPECT_EQ(t, memtype_check(a, a + KiB4, CACHE_WB, &got), 0);
	KEXPECT_EQ(t, got, CACHE_UC_MINUS);
}

static const struct ktest_case memtype_cases[] = {
	KTEST_CASE(memtype_second_mapping_gets_the_type_already_there),
	KTEST_CASE(memtype_uncached_request_over_write_back_is_refused),
	KTEST_CASE(memtype_range_holding_two_types_is_busy),
	KTEST_CASE(memtype_free_of_a_middle_piece_keeps_both_ends),
	KTEST_CASE(memtype_counts_reservations_of_one_range),
	KTEST_CASE(memtype_system_ram_is_write_back_only),
	KTEST_CASE(memtype_isa_range_is_untracked_write_back),
	KTEST_CASE(memtype_rejects_empty_and_wrapping_ranges),
	KTEST_CASE(memtype_write_back_request_follows_uncached_mtrr),
};
KTEST_SUITE(memtype, memtype_cases);
