/* Tests of the page-table walker (mm/pgtable.c).
 *
 * Every case builds its mappings under a private PML4 that is never loaded
 * into CR3, so the physical addresses may be anything below MAXPHYADDR,
 * far above RAM included: nothing ever translates through them. Physical
 * addresses above 4 GiB and just below 1 TiB are used on purpose: a walker
 * that kept a physical address in 32 bits anywhere would hand back a
 * different address. Each case ends by unmapping the whole user half and
 * checking that the root is empty again and that pt_table_pages() is back
 * where it started (no table page leaked). */
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/pgtable.h>
#include <pagoda/pmm.h>

#define KiB4 0x1000ULL
#define MiB2 (2ULL << 20)
#define GiB (1ULL << 30)
#define USER_TOP 0x0000800000000000ULL /* first non-canonical address */
#define TEST_VA 0x0000100000000000ULL  /* PML4 slot 32, 1 GiB aligned */
#define PA_HIGH 0x200000000ULL         /* 8 GiB: above the 32-bit range */
#define PA_NEAR_1T 0xffc0000000ULL     /* 1 TiB - 1 GiB, 1 GiB aligned */

struct pt_fixture {
	struct page *root_page;
	phys_addr_t root;
	uint64_t tables_before;
};

static bool fixture_init(struct ktest *t, struct pt_fixture *f)
{
	f->tables_before = pt_table_pages();
	f->root_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!f->root_page) {
		ktest_fail(t, __FILE__, __LINE__, "no page for a private PML4");
		return false;
	}
	f->root = page_to_phys(f->root_page);
	return true;
}

static bool root_empty(phys_addr_t root)
{
	const pte_t *pml4 = phys_to_virt(root);

	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		if (pml4[i])
			return false;
	return true;
}

/* Unmap everything, then check that every table page went back. */
static void fixture_fini(struct ktest *t, struct pt_fixture *f)
{
	pmm_fail_after(PMM_NO_FAIL);
	KEXPECT_EQ(t, pt_unmap(f->root, 0, USER_TOP, NULL, NULL), 0);
	KEXPECT_TRUE(t, root_empty(f->root));
	KEXPECT_EQ(t, pt_table_pages(), f->tables_before);
	free_pages(f->root_page, 0);
}

/* Expect va to translate to pa through an entry of the given level. */
static void expect_maps_at(struct ktest *t, int line, phys_addr_t root, uintptr_t va,
			   phys_addr_t pa, unsigned int level)
{
	struct pt_lookup_result r;
	int ret = pt_lookup(root, va, &r);

	if (ret < 0)
		ktest_fail(t, __FILE__, line, "va %#lx: pt_lookup returned %d, expected %#llx",
			   (unsigned long)va, ret, (unsigned long long)pa);
	else if (r.phys != pa || r.level != level)
		ktest_fail(t, __FILE__, line,
			   "va %#lx: maps %#llx at level %u, expected %#llx at level %u",
			   (unsigned long)va, (unsigned long long)r.phys, r.level,
			   (unsigned long long)pa, level);
}
#define expect_maps(t, root, va, pa, level) expect_maps_at(t, __LINE__, root, va, pa, level)

static void expect_unmapped_at(struct ktest *t, int line, phys_addr_t root, uintptr_t va)
{
	struct pt_lookup_result r;
	int ret = pt_lookup(root, va, &r);

	if (ret != -ENOENT)
		ktest_fail(t, __FILE__, line, "va %#lx: pt_lookup returned %d (phys %#llx), expected -ENOENT",
			   (unsigned long)va, ret, ret == 0 ? (unsigned long long)r.phys : 0ULL);
}
#define expect_unmapped(t, root, va) expect_unmapped_at(t, __LINE__, root, va)

/* PTE_NX as pt_map() writes it: set when the CPU has NX, never when it
 * has not (without EFER.NXE bit 63 is reserved and would fault). */
#define NX ((pte_t)(cpu.nx ? PTE_NX : 0))

/* The leaf entry for va, or 0 if it is not mapped. */
static pte_t leaf_of(phys_addr_t root, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(root, va, &r) == 0 ? r.pte : 0;
}

static void pgtable_maps_4k_pages_above_4gib_without_truncation(struct ktest *t)
{
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA, PA_HIGH + 0x3000, KiB4, PAGE_KERNEL, 0), 0);
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA + KiB4, PA_NEAR_1T + 0x7000, KiB4, PAGE_KERNEL_RO, 0), 0);
	expect_maps(t, f.root, TEST_VA + 0x123, PA_HIGH + 0x3123, 0);
	expect_maps(t, f.root, TEST_VA + 0x1fff, PA_NEAR_1T + 0x7fff, 0);
	KEXPECT_EQ(t, leaf_of(f.root, TEST_VA) & (PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_NX),
		   PTE_PRESENT | PTE_WRITE | NX);
	KEXPECT_EQ(t, leaf_of(f.root, TEST_VA + KiB4) & (PTE_PRESENT | PTE_WRITE | PTE_NX),
		   PTE_PRESENT | NX);
	expect_unmapped(t, f.root, TEST_VA + 2 * KiB4);
	expect_unmapped(t, f.root, TEST_VA - KiB4);
	fixture_fini(t, &f);
}

static void pgtable_huge_flag_maps_2m_entry_at_high_address(struct ktest *t)
{
	const uintptr_t va = TEST_VA + MiB2;
	const phys_addr_t pa = PA_NEAR_1T + 3 * MiB2;
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, pa, MiB2, PAGE_KERNEL, PT_MAP_HUGE), 0);
	expect_maps(t, f.root, va, pa, 1);
	expect_maps(t, f.root, va + 0x12345, pa + 0x12345, 1);
	expect_maps(t, f.root, va + MiB2 - 1, pa + MiB2 - 1, 1);
	KEXPECT_TRUE(t, leaf_of(f.root, va) & PTE_PS);
	/* PDPT and PD only: no page table below a 2 MiB entry. */
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before + 2);
	expect_unmapped(t, f.root, va - KiB4);
	expect_unmapped(t, f.root, va + MiB2);
	fixture_fini(t, &f);
}

static void pgtable_huge_flag_maps_1g_entry_near_1tib(struct ktest *t)
{
	const uintptr_t va = TEST_VA + GiB;
	struct pt_fixture f;

	if (!cpu.gbpages) {
		ktest_skip(t, "CPU has no 1 GiB pages");
		return;
	}
	if (PA_NEAR_1T + GiB > cpu_phys_limit()) {
		ktest_skip(t, "MAXPHYADDR below 1 TiB");
		return;
	}
	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_NEAR_1T, GiB, PAGE_KERNEL, PT_MAP_HUGE), 0);
	KEXPECT_EQ(t, pt_map(f.root, va + GiB, PA_HIGH, GiB, PAGE_KERNEL, PT_MAP_HUGE), 0);
	expect_maps(t, f.root, va, PA_NEAR_1T, 2);
	expect_maps(t, f.root, va + 0x2345678, PA_NEAR_1T + 0x2345678, 2);
	expect_maps(t, f.root, va + GiB - 1, 0xffffffffffULL, 2);
	expect_maps(t, f.root, va + GiB + 0x1000, PA_HIGH + 0x1000, 2);
	/* One PDPT holds both entries. */
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before + 1);
	fixture_fini(t, &f);
}

static void pgtable_without_huge_flag_maps_4k_pages(struct ktest *t)
{
	const uintptr_t va = TEST_VA + MiB2;
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_HIGH, MiB2, PAGE_KERNEL, 0), 0);
	expect_maps(t, f.root, va, PA_HIGH, 0);
	expect_maps(t, f.root, va + MiB2 - KiB4, PA_HIGH + MiB2 - KiB4, 0);
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before + 3); /* PDPT, PD, PT */
	fixture_fini(t, &f);
}

static void pgtable_huge_flag_uses_4k_when_pa_is_not_2m_aligned(struct ktest *t)
{
	const uintptr_t va = TEST_VA + MiB2;
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_HIGH + KiB4, 2 * MiB2, PAGE_KERNEL, PT_MAP_HUGE), 0);
	expect_maps(t, f.root, va, PA_HIGH + KiB4, 0);
	expect_maps(t, f.root, va + MiB2, PA_HIGH + KiB4 + MiB2, 0);
	expect_maps(t, f.root, va + 2 * MiB2 - 1, PA_HIGH + 2 * MiB2 + KiB4 - 1, 0);
	fixture_fini(t, &f);
}

static void pgtable_map_rejects_unaligned_arguments(struct ktest *t)
{
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA + 0x800, PA_HIGH, KiB4, PAGE_KERNEL, 0), -EINVAL);
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA, PA_HIGH + 0x800, KiB4, PAGE_KERNEL, 0), -EINVAL);
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA, PA_HIGH, 0x800, PAGE_KERNEL, 0), -EINVAL);
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA, PA_HIGH, KiB4 + 0x800, PAGE_KERNEL, 0), -EINVAL);
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA, PA_HIGH, 0, PAGE_KERNEL, 0), -EINVAL);
	KEXPECT_EQ(t, pt_unmap(f.root, TEST_VA + 0x800, KiB4, NULL, NULL), -EINVAL);
	KEXPECT_EQ(t, pt_protect(f.root, TEST_VA, 0x800, PAGE_KERNEL_RO), -EINVAL);
	expect_unmapped(t, f.root, TEST_VA);
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before);
	fixture_fini(t, &f);
}

static void pgtable_map_rejects_noncanonical_and_half_crossing_ranges(struct ktest *t)
{
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, USER_TOP, PA_HIGH, KiB4, PAGE_KERNEL, 0), -EINVAL);
	KEXPECT_EQ(t, pt_map(f.root, 0xffff7ffffffff000ULL, PA_HIGH, KiB4, PAGE_KERNEL, 0), -EINVAL);
	KEXPECT_EQ(t, pt_map(f.root, USER_TOP - KiB4, PA_HIGH, 2 * KiB4, PAGE_KERNEL, 0), -EINVAL);
	KEXPECT_EQ(t, pt_map(f.root, 0xfffffffffffff000ULL, PA_HIGH, 2 * KiB4, PAGE_KERNEL, 0),
		   -EINVAL); /* wraps */
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA, cpu_phys_limit(), KiB4, PAGE_KERNEL, 0), -EINVAL);
	KEXPECT_EQ(t, pt_unmap(f.root, USER_TOP - KiB4, 2 * KiB4, NULL, NULL), -EINVAL);
	KEXPECT_EQ(t, pt_protect(f.root, USER_TOP, KiB4, PAGE_KERNEL_RO), -EINVAL);
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before);
	/* The last canonical user page is fine: the check is not off by one. */
	KEXPECT_EQ(t, pt_map(f.root, USER_TOP - KiB4, PA_HIGH, KiB4, PAGE_KERNEL, 0), 0);
	expect_maps(t, f.root, USER_TOP - 1, PA_HIGH + KiB4 - 1, 0);
	fixture_fini(t, &f);
}

static void pgtable_map_over_mapping_returns_eexist_and_keeps_it(struct ktest *t)
{
	const uintptr_t old_va = TEST_VA + MiB2 + KiB4, huge_va = TEST_VA + 2 * MiB2;
	struct pt_fixture f;
	uint64_t tables;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, old_va, PA_HIGH, KiB4, PAGE_KERNEL, 0), 0);
	KEXPECT_EQ(t, pt_map(f.root, huge_va, PA_NEAR_1T, MiB2, PAGE_KERNEL, PT_MAP_HUGE), 0);
	tables = pt_table_pages();

	/* Builds a whole page table for [TEST_VA, +2 MiB) before it collides. */
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA, PA_NEAR_1T, 2 * MiB2, PAGE_KERNEL, 0), -EEXIST);
	KEXPECT_EQ(t, pt_map(f.root, old_va, PA_NEAR_1T, KiB4, PAGE_KERNEL, 0), -EEXIST);
	/* A 2 MiB entry over a table holding old_va, and 4 KiB inside a 2 MiB entry. */
	KEXPECT_EQ(t, pt_map(f.root, TEST_VA + MiB2, PA_NEAR_1T, MiB2, PAGE_KERNEL, PT_MAP_HUGE),
		   -EEXIST);
	KEXPECT_EQ(t, pt_map(f.root, huge_va + 2 * KiB4, PA_HIGH, KiB4, PAGE_KERNEL, 0), -EEXIST);

	KEXPECT_EQ(t, pt_table_pages(), tables);
	expect_maps(t, f.root, old_va, PA_HIGH, 0);
	expect_maps(t, f.root, huge_va + 2 * KiB4, PA_NEAR_1T + 2 * KiB4, 1);
	expect_unmapped(t, f.root, TEST_VA);
	expect_unmapped(t, f.root, TEST_VA + MiB2 - KiB4);
	expect_unmapped(t, f.root, TEST_VA + MiB2);
	fixture_fini(t, &f);
}

static void pgtable_unmap_4k_inside_2m_entry_splits_it(struct ktest *t)
{
	const uintptr_t va = TEST_VA + MiB2, hole = va + 5 * KiB4;
	const phys_addr_t pa = PA_NEAR_1T + MiB2;
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, pa, MiB2, PAGE_KERNEL, PT_MAP_HUGE), 0);
	KEXPECT_EQ(t, pt_unmap(f.root, hole, KiB4, NULL, NULL), 0);
	expect_unmapped(t, f.root, hole);
	expect_unmapped(t, f.root, hole + KiB4 - 1);
	expect_maps(t, f.root, hole - KiB4, pa + 4 * KiB4, 0);
	expect_maps(t, f.root, hole + KiB4, pa + 6 * KiB4, 0);
	expect_maps(t, f.root, va, pa, 0);
	expect_maps(t, f.root, va + MiB2 - 1, pa + MiB2 - 1, 0);
	KEXPECT_EQ(t, leaf_of(f.root, hole + KiB4) & (PTE_WRITE | PTE_NX | PTE_PS),
		   PTE_WRITE | NX);
	fixture_fini(t, &f);
}

static void pgtable_unmap_2m_inside_1g_entry_splits_it(struct ktest *t)
{
	const uintptr_t va = TEST_VA + GiB, hole = va + 2 * MiB2;
	struct pt_fixture f;

	if (!cpu.gbpages) {
		ktest_skip(t, "CPU has no 1 GiB pages");
		return;
	}
	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_NEAR_1T, GiB, PAGE_KERNEL, PT_MAP_HUGE), 0);
	KEXPECT_EQ(t, pt_unmap(f.root, hole, MiB2, NULL, NULL), 0);
	expect_unmapped(t, f.root, hole);
	expect_unmapped(t, f.root, hole + MiB2 - 1);
	expect_maps(t, f.root, hole - 1, PA_NEAR_1T + 2 * MiB2 - 1, 1);
	expect_maps(t, f.root, hole + MiB2, PA_NEAR_1T + 3 * MiB2, 1);
	expect_maps(t, f.root, va, PA_NEAR_1T, 1);
	expect_maps(t, f.root, va + GiB - 1, PA_NEAR_1T + GiB - 1, 1);
	fixture_fini(t, &f);
}

struct leaf_record {
	unsigned int n;
	struct {
		pte_t old;
		uintptr_t va;
		unsigned int level;
	} leaf[8];
};

static void record_leaf(pte_t old, uintptr_t va, unsigned int level, void *arg)
{
	struct leaf_record *rec = arg;

	if (rec->n < ARRAY_SIZE(rec->leaf)) {
		rec->leaf[rec->n].old = old;
		rec->leaf[rec->n].va = va;
		rec->leaf[rec->n].level = level;
	}
	rec->n++;
}

static void pgtable_unmap_calls_back_for_each_removed_leaf(struct ktest *t)
{
	const uintptr_t va = TEST_VA + MiB2, split_va = TEST_VA + GiB;
	struct leaf_record rec = { 0 };
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	/* One 2 MiB entry and two 4 KiB entries. */
	KEXPECT_EQ(t, pt_map(f.root, va, PA_HIGH, MiB2 + 2 * KiB4, PAGE_KERNEL, PT_MAP_HUGE), 0);
	KEXPECT_EQ(t, pt_unmap(f.root, va, MiB2 + 2 * KiB4, record_leaf, &rec), 0);
	KEXPECT_EQ(t, rec.n, 3);
	KEXPECT_EQ(t, rec.leaf[0].va, va);
	KEXPECT_EQ(t, rec.leaf[0].level, 1);
	KEXPECT_EQ(t, rec.leaf[0].old & PTE_ADDR_MASK & ~(MiB2 - 1), PA_HIGH);
	KEXPECT_EQ(t, rec.leaf[1].va, va + MiB2);
	KEXPECT_EQ(t, rec.leaf[1].level, 0);
	KEXPECT_EQ(t, rec.leaf[1].old & PTE_ADDR_MASK, PA_HIGH + MiB2);
	KEXPECT_EQ(t, rec.leaf[2].va, va + MiB2 + KiB4);
	KEXPECT_EQ(t, rec.leaf[2].level, 0);
	KEXPECT_EQ(t, rec.leaf[2].old & PTE_ADDR_MASK, PA_HIGH + MiB2 + KiB4);

	/* A hole punched in a 2 MiB entry is reported as the one 4 KiB page. */
	rec.n = 0;
	KEXPECT_EQ(t, pt_map(f.root, split_va, PA_NEAR_1T, MiB2, PAGE_KERNEL, PT_MAP_HUGE), 0);
	KEXPECT_EQ(t, pt_unmap(f.root, split_va + 3 * KiB4, KiB4, record_leaf, &rec), 0);
	KEXPECT_EQ(t, rec.n, 1);
	KEXPECT_EQ(t, rec.leaf[0].va, split_va + 3 * KiB4);
	KEXPECT_EQ(t, rec.leaf[0].level, 0);
	KEXPECT_EQ(t, rec.leaf[0].old & PTE_ADDR_MASK, PA_NEAR_1T + 3 * KiB4);
	fixture_fini(t, &f);
}

static void pgtable_unmap_frees_tables_that_become_empty(struct ktest *t)
{
	const uintptr_t a = TEST_VA, b = TEST_VA + GiB + KiB4, c = TEST_VA + 512 * GiB;
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, a, PA_HIGH, KiB4, PAGE_KERNEL, 0), 0);
	KEXPECT_EQ(t, pt_map(f.root, b, PA_HIGH, KiB4, PAGE_KERNEL, 0), 0);
	KEXPECT_EQ(t, pt_map(f.root, c, PA_HIGH, KiB4, PAGE_KERNEL, 0), 0);
	/* a: PDPT, PD, PT; b: PD, PT (same PDPT); c: PDPT, PD, PT. */
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before + 8);
	KEXPECT_EQ(t, pt_unmap(f.root, a, KiB4, NULL, NULL), 0);
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before + 6); /* a's PT and PD */
	KEXPECT_EQ(t, pt_unmap(f.root, c, KiB4, NULL, NULL), 0);
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before + 3); /* c's PDPT too */
	KEXPECT_EQ(t, pt_unmap(f.root, b, KiB4, NULL, NULL), 0);
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before);
	KEXPECT_TRUE(t, root_empty(f.root));
	fixture_fini(t, &f);
}

static void pgtable_protect_changes_bits_but_keeps_frame_and_special(struct ktest *t)
{
	const uintptr_t va = TEST_VA, huge_va = TEST_VA + MiB2;
	const pgprot_t rwx_special = __pgprot(PTE_PRESENT | PTE_WRITE | PTE_SPECIAL);
	struct pt_fixture f;
	pte_t e;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_NEAR_1T + 0x3000, KiB4, rwx_special, 0), 0);
	KEXPECT_EQ(t, pt_map(f.root, huge_va, PA_HIGH, MiB2, rwx_special, PT_MAP_HUGE), 0);
	KEXPECT_EQ(t, pt_protect(f.root, va, 2 * MiB2, __pgprot(PTE_PRESENT | PTE_NX)), 0);

	e = leaf_of(f.root, va);
	KEXPECT_EQ(t, e & (PTE_PRESENT | PTE_WRITE | PTE_NX | PTE_SPECIAL),
		   PTE_PRESENT | NX | PTE_SPECIAL);
	expect_maps(t, f.root, va + 0x10, PA_NEAR_1T + 0x3010, 0);
	/* A fully covered 2 MiB entry is rewritten in place, not split. */
	e = leaf_of(f.root, huge_va);
	KEXPECT_EQ(t, e & (PTE_PRESENT | PTE_WRITE | PTE_NX | PTE_SPECIAL | PTE_PS),
		   PTE_PRESENT | NX | PTE_SPECIAL | PTE_PS);
	expect_maps(t, f.root, huge_va + 0x1234, PA_HIGH + 0x1234, 1);
	fixture_fini(t, &f);
}

static void pgtable_protect_keeps_cow_pages_read_only(struct ktest *t)
{
	const uintptr_t va = TEST_VA;
	struct pt_fixture f;
	pte_t e;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_HIGH, KiB4, __pgprot(PTE_PRESENT | PTE_USER | PTE_COW), 0),
		   0);
	KEXPECT_EQ(t, pt_map(f.root, va + KiB4, PA_HIGH + KiB4, KiB4, PAGE_KERNEL_RO, 0), 0);
	KEXPECT_EQ(t, pt_protect(f.root, va, 2 * KiB4, __pgprot(PTE_PRESENT | PTE_WRITE | PTE_USER)),
		   0);
	e = leaf_of(f.root, va);
	KEXPECT_EQ(t, e & (PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_COW),
		   PTE_PRESENT | PTE_USER | PTE_COW);
	KEXPECT_EQ(t, e & PTE_ADDR_MASK, PA_HIGH);
	/* Its non-COW neighbour did become writable. */
	KEXPECT_TRUE(t, leaf_of(f.root, va + KiB4) & PTE_WRITE);
	KEXPECT_FALSE(t, leaf_of(f.root, va + KiB4) & PTE_COW);
	fixture_fini(t, &f);
}

static void pgtable_protect_splits_straddled_huge_entry(struct ktest *t)
{
	const uintptr_t va = TEST_VA + MiB2;
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_HIGH, MiB2, PAGE_KERNEL, PT_MAP_HUGE), 0);
	KEXPECT_EQ(t, pt_protect(f.root, va + KiB4, 2 * KiB4, PAGE_KERNEL_RO), 0);
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before + 3); /* the split made a PT */
	expect_maps(t, f.root, va, PA_HIGH, 0);
	expect_maps(t, f.root, va + KiB4, PA_HIGH + KiB4, 0);
	expect_maps(t, f.root, va + 2 * KiB4, PA_HIGH + 2 * KiB4, 0);
	expect_maps(t, f.root, va + 3 * KiB4, PA_HIGH + 3 * KiB4, 0);
	expect_maps(t, f.root, va + MiB2 - 1, PA_HIGH + MiB2 - 1, 0);
	KEXPECT_TRUE(t, leaf_of(f.root, va) & PTE_WRITE);
	KEXPECT_FALSE(t, leaf_of(f.root, va + KiB4) & PTE_WRITE);
	KEXPECT_FALSE(t, leaf_of(f.root, va + 2 * KiB4) & PTE_WRITE);
	KEXPECT_TRUE(t, leaf_of(f.root, va + 3 * KiB4) & PTE_WRITE);
	fixture_fini(t, &f);
}

static void expect_cache_mode_at(struct ktest *t, int line, phys_addr_t root, uintptr_t va,
				 unsigned int level, enum cache_mode mode)
{
	struct pt_lookup_result r;

	if (pt_lookup(root, va, &r) < 0 || r.level != level || pte_cache_mode(r.pte, r.level) != mode)
		ktest_fail(t, __FILE__, line, "va %#lx: expected cache mode %d at level %u",
			   (unsigned long)va, mode, level);
}
#define expect_cache_mode(t, root, va, level, mode) \
	expect_cache_mode_at(t, __LINE__, root, va, level, mode)

static void pgtable_cache_modes_hold_in_4k_and_2m_entries(struct ktest *t)
{
	const uintptr_t va = TEST_VA;
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_NEAR_1T, KiB4, pgprot_writecombine(PAGE_KERNEL), 0), 0);
	KEXPECT_EQ(t, pt_map(f.root, va + KiB4, PA_NEAR_1T, KiB4, pgprot_uncached(PAGE_KERNEL), 0), 0);
	KEXPECT_EQ(t, pt_map(f.root, va + 2 * KiB4, PA_NEAR_1T, KiB4, PAGE_KERNEL, 0), 0);
	KEXPECT_EQ(t, pt_map(f.root, va + MiB2, PA_HIGH, MiB2, pgprot_writecombine(PAGE_KERNEL),
			     PT_MAP_HUGE), 0);
	KEXPECT_EQ(t, pt_map(f.root, va + 2 * MiB2, PA_HIGH + MiB2, MiB2,
			     pgprot_uncached(PAGE_KERNEL), PT_MAP_HUGE), 0);
	expect_cache_mode(t, f.root, va, 0, CACHE_WC);
	expect_cache_mode(t, f.root, va + KiB4, 0, CACHE_UC);
	expect_cache_mode(t, f.root, va + 2 * KiB4, 0, CACHE_WB);
	expect_cache_mode(t, f.root, va + MiB2, 1, CACHE_WC);
	expect_cache_mode(t, f.root, va + 2 * MiB2, 1, CACHE_UC);
	expect_maps(t, f.root, va + 2 * MiB2 + 0x1000, PA_HIGH + MiB2 + 0x1000, 1);

	/* Splitting keeps the memory type of every piece. */
	KEXPECT_EQ(t, pt_unmap(f.root, va + MiB2 + KiB4, KiB4, NULL, NULL), 0);
	expect_cache_mode(t, f.root, va + MiB2, 0, CACHE_WC);
	expect_cache_mode(t, f.root, va + MiB2 + 2 * KiB4, 0, CACHE_WC);
	fixture_fini(t, &f);
}

/* In a 2 MiB entry bit 7 is PS and the PAT bit is bit 12, inside what would
 * be the address field of a 4 KiB entry: it must not leak into the address. */
static void pgtable_pat_bit_moves_to_bit_12_in_2m_entries(struct ktest *t)
{
	const uintptr_t va = TEST_VA + MiB2;
	const pgprot_t pat = __pgprot(PTE_PRESENT | PTE_WRITE | PTE_NX | PTE_PAT_4K);
	struct pt_fixture f;
	pte_t e;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_HIGH, MiB2, pat, PT_MAP_HUGE), 0);
	e = leaf_of(f.root, va);
	KEXPECT_TRUE(t, e & PTE_PS);
	KEXPECT_TRUE(t, e & PTE_PAT_LARGE);
	expect_maps(t, f.root, va + 0x1000, PA_HIGH + 0x1000, 1);
	/* Split: the 4 KiB pieces carry PAT in bit 7 again. */
	KEXPECT_EQ(t, pt_unmap(f.root, va, KiB4, NULL, NULL), 0);
	e = leaf_of(f.root, va + KiB4);
	KEXPECT_TRUE(t, e & PTE_PAT_4K);
	KEXPECT_EQ(t, e & PTE_ADDR_MASK, PA_HIGH + KiB4);
	expect_maps(t, f.root, va + MiB2 - KiB4, PA_HIGH + MiB2 - KiB4, 0);
	fixture_fini(t, &f);
}

/* 8 MiB of 4 KiB pages across a 1 GiB boundary needs seven tables on an
 * empty root: PDPT, PD + 2 PTs below the boundary, PD + 2 PTs above. */
#define OOM_TABLES 7

static void pgtable_map_out_of_memory_part_way_leaves_nothing(struct ktest *t)
{
	const uintptr_t va = TEST_VA + GiB - (4ULL << 20);
	const uint64_t size = 8ULL << 20;
	const uintptr_t probes[] = { va, va + size / 2 - KiB4, va + size / 2, va + size - KiB4 };
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	for (unsigned int k = 0; k < OOM_TABLES; k++) {
		pmm_fail_after(k);
		int ret = pt_map(f.root, va, PA_HIGH, size, PAGE_KERNEL, 0);
		pmm_fail_after(PMM_NO_FAIL);
		if (ret != -ENOMEM || pt_table_pages() != f.tables_before || !root_empty(f.root))
			ktest_log(t, "with pmm_fail_after(%u):", k);
		KEXPECT_EQ(t, ret, -ENOMEM);
		KEXPECT_EQ(t, pt_table_pages(), f.tables_before);
		KEXPECT_TRUE(t, root_empty(f.root));
		for (unsigned int i = 0; i < ARRAY_SIZE(probes); i++)
			expect_unmapped(t, f.root, probes[i]);
	}
	pmm_fail_after(OOM_TABLES);
	KEXPECT_EQ(t, pt_map(f.root, va, PA_HIGH, size, PAGE_KERNEL, 0), 0);
	pmm_fail_after(PMM_NO_FAIL);
	KEXPECT_EQ(t, pt_table_pages(), f.tables_before + OOM_TABLES);
	for (unsigned int i = 0; i < ARRAY_SIZE(probes); i++)
		expect_maps(t, f.root, probes[i], PA_HIGH + (probes[i] - va), 0);
	fixture_fini(t, &f);
}

static void pgtable_unmap_out_of_memory_for_split_keeps_huge_entry(struct ktest *t)
{
	const uintptr_t va = TEST_VA + MiB2;
	struct pt_fixture f;

	if (!fixture_init(t, &f))
		return;
	KEXPECT_EQ(t, pt_map(f.root, va, PA_NEAR_1T, MiB2, PAGE_KERNEL, PT_MAP_HUGE), 0);
	pmm_fail_next(1);
	KEXPECT_EQ(t, pt_unmap(f.root, va + KiB4, KiB4, NULL, NULL), -ENOMEM);
	pmm_fail_next(0);
	expect_maps(t, f.root, va + KiB4, PA_NEAR_1T + KiB4, 1);
	fixture_fini(t, &f);
}

static const struct ktest_case pgtable_cases[] = {
	KTEST_CASE(pgtable_maps_4k_pages_above_4gib_without_truncation),
	KTEST_CASE(pgtable_huge_flag_maps_2m_entry_at_high_address),
	KTEST_CASE(pgtable_huge_flag_maps_1g_entry_near_1tib),
	KTEST_CASE(pgtable_without_huge_flag_maps_4k_pages),
	KTEST_CASE(pgtable_huge_flag_uses_4k_when_pa_is_not_2m_aligned),
	KTEST_CASE(pgtable_map_rejects_unaligned_arguments),
	KTEST_CASE(pgtable_map_rejects_noncanonical_and_half_crossing_ranges),
	KTEST_CASE(pgtable_map_over_mapping_returns_eexist_and_keeps_it),
	KTEST_CASE(pgtable_unmap_4k_inside_2m_entry_splits_it),
	KTEST_CASE(pgtable_unmap_2m_inside_1g_entry_splits_it),
	KTEST_CASE(pgtable_unmap_calls_back_for_each_removed_leaf),
	KTEST_CASE(pgtable_unmap_frees_tables_that_become_empty),
	KTEST_CASE(pgtable_protect_changes_bits_but_keeps_frame_and_special),
	KTEST_CASE(pgtable_protect_keeps_cow_pages_read_only),
	KTEST_CASE(pgtable_protect_splits_straddled_huge_entry),
	KTEST_CASE(pgtable_cache_modes_hold_in_4k_and_2m_entries),
	KTEST_CASE(pgtable_pat_bit_moves_to_bit_12_in_2m_entries),
	KTEST_CASE(pgtable_map_out_of_memory_part_way_leaves_nothing),
	KTEST_CASE(pgtable_unmap_out_of_memory_for_split_keeps_huge_entry),
};
KTEST_SUITE(pgtable, pgtable_cases);
