/* Tests of remap_pfn_range(): every check with its errno and no side
 * effect, device memory above 4 GiB and near 1 TiB, huge entries when
 * aligned and smaller ones when not, and the promise that device frames
 * are never reference counted nor freed: the free-frame count is the same
 * before a device mapping and after its address space is gone. */
#include <pagoda/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/file.h>
#include <pagoda/ktest.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/remap.h>
#include <pagoda/slab.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define GiB (1UL << 30)
#define MiB (1UL << 20)
#define VA_BASE (64 * GiB)              /* 1 GiB-aligned user address */
#define PFN_8G (0x200000000UL >> PAGE_SHIFT)
#define PFN_NEAR_1T (0xffc0000000UL >> PAGE_SHIFT) /* 1 TiB - 1 GiB */
#define PROT_DEV __pgprot(PTE_PRESENT | PTE_USER | PTE_WRITE | PTE_NX)

static uint64_t free_before;

static struct mm_struct *test_mm(void)
{
	kmalloc_shrink();
	free_before = pmm_free_pages();
	return mm_create();
}

/* Destroy mm and report whether every frame came back. */
static bool end_mm_no_leak(struct mm_struct *mm)
{
	mm_destroy(mm);
	kmalloc_shrink();
	return pmm_free_pages() == free_before;
}

/* A bare shared VMA [start, start + len), linked into mm. */
static struct vm_area_struct *dev_vma(struct mm_struct *mm, uintptr_t start, size_t len,
				      unsigned long extra_flags)
{
	struct vm_area_struct *v = vma_alloc();

	if (!v)
		return NULL;
	v->vm_start = start;
	v->vm_end = start + len;
	v->vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_SHARED | VM_MAYSHARE |
		      extra_flags;
	v->vm_page_prot = vm_get_page_prot(v->vm_flags);
	if (vma_link(mm, v) < 0) {
		vma_free(v);
		return NULL;
	}
	return v;
}

static int level_at(struct mm_struct *mm, uintptr_t va, phys_addr_t *pa)
{
	struct pt_lookup_result r;

	if (pt_lookup(mm->pgd, va, &r) < 0)
		return -1;
	if (pa)
		*pa = r.phys;
	return (int)r.level;
}

static void remap_rejects_bad_arguments_without_side_effects(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;
	const unsigned long top_pfn = cpu_phys_limit() >> PAGE_SHIFT;
	const struct {
		const char *what;
		unsigned long addr, pfn, size;
	} rows[] = {
		{ "unaligned addr", VA_BASE + 1, PFN_8G, PAGE_SIZE },
		{ "addr below the VMA", VA_BASE - PAGE_SIZE, PFN_8G, PAGE_SIZE },
		{ "end beyond the VMA", VA_BASE, PFN_8G, 4 * MiB + PAGE_SIZE },
		{ "zero size", VA_BASE, PFN_8G, 0 },
		{ "size wraps the address space", VA_BASE, PFN_8G, ~0UL - PAGE_SIZE },
		{ "pfn + pages wraps", VA_BASE, ~0UL - 1, 2 * PAGE_SIZE },
		{ "pfn beyond MAXPHYADDR", VA_BASE, top_pfn, PAGE_SIZE },
		{ "last pages cross MAXPHYADDR", VA_BASE, top_pfn - 1, 2 * PAGE_SIZE },
	};

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, 4 * MiB, 0);
	KASSERT_NOT_NULL(t, v);
	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		int ret = remap_pfn_range(v, rows[i].addr, rows[i].pfn, rows[i].size, PROT_DEV);
		if (ret != -EINVAL)
			ktest_log(t, "row \"%s\" returned %d", rows[i].what, ret);
		KEXPECT_EQ(t, ret, -EINVAL);
	}
	KEXPECT_FALSE(t, v->vm_flags & (VM_PFNMAP | VM_IO)); /* nothing changed */
	KEXPECT_EQ(t, level_at(mm, VA_BASE, NULL), -1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_cow_mapping_must_cover_whole_vma(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, 4 * PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	v->vm_flags &= ~(VM_SHARED | VM_MAYSHARE); /* private, writable: COW */
	KEXPECT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_8G, PAGE_SIZE, PROT_DEV), -EINVAL);
	KEXPECT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_8G, 4 * PAGE_SIZE, PROT_DEV), 0);
	KEXPECT_EQ(t, v->vm_pgoff, PFN_8G);
	struct pt_lookup_result r;
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE, &r), 0);
	KEXPECT_FALSE(t, r.pte & PTE_WRITE); /* writes must fault and copy */
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_maps_pfn_above_4g_exactly(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;
	struct pt_lookup_result r;

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, 2 * PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_8G, 2 * PAGE_SIZE, PROT_DEV), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE + PAGE_SIZE + 0x10, &r), 0);
	KEXPECT_EQ(t, r.phys, 0x200001010ULL); /* 8 GiB + 4 KiB + 16: no truncation */
	KEXPECT_TRUE(t, r.pte & PTE_SPECIAL);
	KEXPECT_TRUE(t, r.pte & PTE_USER);
	unsigned long want = VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
	KEXPECT_EQ(t, v->vm_flags & want, want);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_uses_1g_entry_near_1tib_when_aligned(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;
	phys_addr_t pa = 0;

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, GiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_NEAR_1T, GiB, PROT_DEV), 0);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 123 * PAGE_SIZE, &pa), cpu.gbpages ? 2 : 1);
	KEXPECT_EQ(t, pa, 0xffc0000000ULL + 123 * PAGE_SIZE);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_falls_back_to_smaller_entries_when_unaligned(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;
	phys_addr_t pa = 0;

	KASSERT_NOT_NULL(t, mm);
	/* The PFN is 4 KiB past a 2 MiB boundary, the address too: the first
	 * 2 MiB - 4 KiB go in 4 KiB entries, then 2 MiB entries, then the
	 * tail in 4 KiB entries again. */
	v = dev_vma(mm, VA_BASE + PAGE_SIZE, 8 * MiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE + PAGE_SIZE, PFN_8G + 1, 8 * MiB, PROT_DEV), 0);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + PAGE_SIZE, &pa), 0);
	KEXPECT_EQ(t, pa, 0x200001000ULL);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 2 * MiB, &pa), 1);
	KEXPECT_EQ(t, pa, 0x200200000ULL);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 8 * MiB, &pa), 0);
	KEXPECT_EQ(t, pa, 0x200800000ULL);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 8 * MiB + PAGE_SIZE, NULL), -1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_honours_memory_type(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;
	struct pt_lookup_result r;

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, 4 * MiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_8G, 2 * MiB, pgprot_writecombine(PROT_DEV)), 0);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE + 2 * MiB, PFN_8G + 512, PAGE_SIZE,
				      pgprot_uncached(PROT_DEV)), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE, &r), 0);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_WC);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE + 2 * MiB, &r), 0);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_UC);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_partial_failure_unmaps_and_returns_enomem(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE - 4 * MiB, 8 * MiB, 0); /* crosses a 1 GiB boundary */
	KASSERT_NOT_NULL(t, v);
	remap_force_small_pages = true;
	pmm_fail_after(3); /* a few page-table pages, then nothing */
	int ret = remap_pfn_range(v, VA_BASE - 4 * MiB, PFN_8G, 8 * MiB, PROT_DEV);
	pmm_fail_after(PMM_NO_FAIL);
	remap_force_small_pages = false;
	KEXPECT_EQ(t, ret, -ENOMEM);
	KEXPECT_EQ(t, level_at(mm, VA_BASE - 4 * MiB, NULL), -1);
	KEXPECT_EQ(t, level_at(mm, VA_BASE - PAGE_SIZE, NULL), -1);
	KEXPECT_EQ(t, level_at(mm, VA_BASE, NULL), -1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_munmap_of_part_splits_huge_entry(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;
	phys_addr_t pa = 0;
	const uintptr_t hole = VA_BASE + 301 * MiB; /* inside the 2 MiB block at 300 MiB */

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, GiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_NEAR_1T, GiB, PROT_DEV), 0);
	KASSERT_EQ(t, do_munmap(mm, hole, PAGE_SIZE), 0);
	KEXPECT_EQ(t, level_at(mm, hole, NULL), -1);
	KEXPECT_EQ(t, level_at(mm, hole - PAGE_SIZE, &pa), 0);
	KEXPECT_EQ(t, pa, 0xffc0000000ULL + 301 * MiB - PAGE_SIZE);
	KEXPECT_EQ(t, level_at(mm, hole + PAGE_SIZE, &pa), 0);
	KEXPECT_EQ(t, pa, 0xffc0000000ULL + 301 * MiB + PAGE_SIZE);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 900 * MiB, &pa), 1); /* untouched 2 MiB parts */
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_mprotect_of_part_keeps_frames_and_type(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;
	struct pt_lookup_result r;

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, 4 * MiB, 0);
	KASSERT_NOT_NULL(t, v);
	v->vm_page_prot = pgprot_writecombine(v->vm_page_prot);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_8G, 4 * MiB, v->vm_page_prot), 0);
	KASSERT_EQ(t, do_mprotect(mm, VA_BASE + MiB, PAGE_SIZE, PROT_READ), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE + MiB, &r), 0);
	KEXPECT_FALSE(t, r.pte & PTE_WRITE);
	KEXPECT_TRUE(t, r.pte & PTE_SPECIAL);
	KEXPECT_EQ(t, r.phys, 0x200000000ULL + MiB);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_WC);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE + MiB + PAGE_SIZE, &r), 0);
	KEXPECT_TRUE(t, r.pte & PTE_WRITE);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_fork_copies_device_mapping_without_refcounts(struct ktest *t)
{
	struct mm_struct *mm = test_mm(), *child;
	struct vm_area_struct *v;
	phys_addr_t pa = 0;

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, GiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_NEAR_1T, GiB, PROT_DEV), 0);
	child = mm_fork(mm);
	KASSERT_NOT_NULL(t, child);
	KEXPECT_EQ(t, level_at(child, VA_BASE + 5 * MiB, &pa), cpu.gbpages ? 2 : 1);
	KEXPECT_EQ(t, pa, 0xffc0000000ULL + 5 * MiB);
	KEXPECT_TRUE(t, vma_lookup(child, VA_BASE)->vm_flags & VM_PFNMAP);
	mm_destroy(child);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 5 * MiB, &pa), cpu.gbpages ? 2 : 1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_device_vma_refuses_growth_and_dontneed(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, 4 * MiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_8G, 4 * MiB, PROT_DEV), 0);
	KEXPECT_EQ(t, do_mremap(mm, VA_BASE, 4 * MiB, 8 * MiB, MREMAP_MAYMOVE, 0), -EFAULT);
	KEXPECT_EQ(t, do_madvise(mm, VA_BASE, PAGE_SIZE, MADV_DONTNEED), -EINVAL);
	KEXPECT_EQ(t, do_mremap(mm, VA_BASE, 4 * MiB, 2 * MiB, 0, 0), (long)VA_BASE); /* shrink */
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 2 * MiB, NULL), -1);
	KEXPECT_EQ(t, level_at(mm, VA_BASE, NULL), 1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

/* A driver whose mmap maps a fixed device window with vm_iomap_memory(). */
static phys_addr_t fake_bar = 0xe000000000ULL; /* where OVMF puts 64-bit BARs */

static int fake_bar_mmap(struct file *file, struct vm_area_struct *vma)
{
	vma->vm_page_prot = pgprot_uncached(vma->vm_page_prot);
	return vm_iomap_memory(vma, fake_bar, 16 * MiB);
}

static const struct file_operations fake_bar_fops = { .mmap = fake_bar_mmap };

static void remap_through_driver_mmap_and_vm_iomap_memory(struct ktest *t)
{
	/* The test holds one reference; each VMA takes its own. */
	struct file f = { .f_op = &fake_bar_fops, .name = "fakebar", .flags = O_RDWR,
			  .refcount = 1 };
	struct mm_struct *mm = test_mm();
	long addr;
	phys_addr_t pa = 0;

	KASSERT_NOT_NULL(t, mm);
	addr = do_mmap(mm, 0, 8 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, &f, 2);
	KASSERT_GT(t, addr, 0);
	KEXPECT_GE(t, level_at(mm, addr, &pa), 0);
	KEXPECT_EQ(t, pa, fake_bar + 2 * PAGE_SIZE); /* vm_pgoff counts pages into the BAR */
	KEXPECT_TRUE(t, vma_lookup(mm, addr)->vm_flags & VM_PFNMAP);
	/* Past the end of the BAR: the driver refuses and nothing is left. */
	KEXPECT_EQ(t, do_mmap(mm, 0, 16 * MiB, PROT_READ, MAP_SHARED, &f, 1), -EINVAL);
	KEXPECT_EQ(t, mm->map_count, 1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void vm_iomap_memory_checks_length_and_offset(struct ktest *t)
{
	struct mm_struct *mm = test_mm();
	struct vm_area_struct *v;

	KASSERT_NOT_NULL(t, mm);
	v = dev_vma(mm, VA_BASE, 4 * PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	KEXPECT_EQ(t, vm_iomap_memory(v, 0x200000000ULL, 3 * PAGE_SIZE), -EINVAL); /* too short */
	v->vm_pgoff = 5;
	KEXPECT_EQ(t, vm_iomap_memory(v, 0x200000000ULL, 4 * PAGE_SIZE), -EINVAL); /* offset past */
	KEXPECT_EQ(t, vm_iomap_memory(v, ~0ULL - 10, 100), -EINVAL);               /* wraps */
	v->vm_pgoff = 0;
	/* A start inside a page counts from that page. */
	KEXPECT_EQ(t, vm_iomap_memory(v, 0x200000800ULL, 4 * PAGE_SIZE - 0x800), 0);
	KEXPECT_EQ(t, level_at(mm, VA_BASE, NULL), 0);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static const struct ktest_case remap_cases[] = {
	KTEST_CASE(remap_rejects_bad_arguments_without_side_effects),
	KTEST_CASE(remap_cow_mapping_must_cover_whole_vma),
	KTEST_CASE(remap_maps_pfn_above_4g_exactly),
	KTEST_CASE(remap_uses_1g_entry_near_1tib_when_aligned),
	KTEST_CASE(remap_falls_back_to_smaller_entries_when_unaligned),
	KTEST_CASE(remap_honours_memory_type),
	KTEST_CASE(remap_partial_failure_unmaps_and_returns_enomem),
	KTEST_CASE(remap_munmap_of_part_splits_huge_entry),
	KTEST_CASE(remap_mprotect_of_part_keeps_frames_and_type),
	KTEST_CASE(remap_fork_copies_device_mapping_without_refcounts),
	KTEST_CASE(remap_device_vma_refuses_growth_and_dontneed),
	KTEST_CASE(remap_through_driver_mmap_and_vm_iomap_memory),
	KTEST_CASE(vm_iomap_memory_checks_length_and_offset),
};
KTEST_SUITE(remap, remap_cases);
