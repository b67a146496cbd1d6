/* Tests of remap_pfn_range(): every check with its errno and no side
 * effect, device memory above 4 GiB and near 1 TiB, huge entries when
 * aligned and smaller ones when not, and the promise that device frames
 * are never reference counted nor freed: the free-frame count is the same
 * before a device mapping and after its address space is gone. */
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/file.h>
#include <pagoda/ioremap.h>
#include <pagoda/ktest.h>
#include <pagoda/memblock.h>
#include <pagoda/memtype.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/remap.h>
#include <pagoda/slab.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define GiB (1UL << 30)
#define MiB (1UL << 20)
#define VA_BASE (64 * GiB)              /* 1 GiB-aligned user address */
#define PROT_DEV __pgprot(PTE_PRESENT | PTE_USER | PTE_WRITE | PTE_NX)

/* Where the cases map "device memory": the last GiB below 1 TiB or below
 * MAXPHYADDR if that is lower, above 4 GiB (a 32-bit address or PFN
 * would truncate it) and far above RAM on the machines QEMU makes. Nothing
 * there is ever touched through these mappings. */
static phys_addr_t pa_dev;
#define PFN_DEV ((unsigned long)(pa_dev >> PAGE_SHIFT))

static uint64_t free_before;

/* A fresh mm, or NULL with the case failed (no memory) or skipped (RAM
 * where the device range would be). */
static struct mm_struct *test_mm(struct ktest *t)
{
	struct mm_struct *mm;

	pa_dev = MIN(cpu_phys_limit(), 1ULL << 40) - GiB;
	if (memblock_overlaps(&memblock_memory, pa_dev, GiB)) {
		ktest_skip(t, "RAM reaches the last GiB below MAXPHYADDR or 1 TiB");
		return NULL;
	}
	kmalloc_shrink();
	free_before = pmm_free_pages();
	mm = mm_create();
	if (!mm)
		ktest_fail(t, __FILE__, __LINE__, "mm_create() failed");
	return mm;
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
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	const unsigned long top_pfn = cpu_phys_limit() >> PAGE_SHIFT;
	const struct {
		const char *what;
		unsigned long addr, pfn, size;
	} rows[] = {
		{ "unaligned addr", VA_BASE + 1, PFN_DEV, PAGE_SIZE },
		{ "addr below the VMA", VA_BASE - PAGE_SIZE, PFN_DEV, PAGE_SIZE },
		{ "end beyond the VMA", VA_BASE, PFN_DEV, 4 * MiB + PAGE_SIZE },
		{ "zero size", VA_BASE, PFN_DEV, 0 },
		{ "size wraps the address space", VA_BASE, PFN_DEV, ~0UL - PAGE_SIZE },
		{ "pfn + pages wraps", VA_BASE, ~0UL - 1, 2 * PAGE_SIZE },
		{ "pfn beyond MAXPHYADDR", VA_BASE, top_pfn, PAGE_SIZE },
		{ "last pages cross MAXPHYADDR", VA_BASE, top_pfn - 1, 2 * PAGE_SIZE },
	};

	if (!mm)
		return;
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
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, 4 * PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	v->vm_flags &= ~(VM_SHARED | VM_MAYSHARE); /* private, writable: COW */
	KEXPECT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, PAGE_SIZE, PROT_DEV), -EINVAL);
	KEXPECT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, 4 * PAGE_SIZE, PROT_DEV), 0);
	KEXPECT_EQ(t, v->vm_pgoff, PFN_DEV);
	struct pt_lookup_result r;
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE, &r), 0);
	KEXPECT_FALSE(t, r.pte & PTE_WRITE); /* writes must fault and copy */
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_maps_pfn_above_4g_exactly(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	struct pt_lookup_result r;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, 2 * PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, 2 * PAGE_SIZE, PROT_DEV), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE + PAGE_SIZE + 0x10, &r), 0);
	KEXPECT_EQ(t, r.phys, pa_dev + 0x1010); /* + 4 KiB + 16: no truncation */
	KEXPECT_TRUE(t, r.pte & PTE_SPECIAL);
	KEXPECT_TRUE(t, r.pte & PTE_USER);
	unsigned long want = VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
	KEXPECT_EQ(t, v->vm_flags & want, want);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_uses_1g_entry_near_1tib_when_aligned(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	phys_addr_t pa = 0;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, GiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, GiB, PROT_DEV), 0);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 123 * PAGE_SIZE, &pa), cpu.gbpages ? 2 : 1);
	KEXPECT_EQ(t, pa, pa_dev + 123 * PAGE_SIZE);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_falls_back_to_smaller_entries_when_unaligned(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	phys_addr_t pa = 0;

	if (!mm)
		return;
	/* The PFN is 4 KiB past a 2 MiB boundary, the address too: the first
	 * 2 MiB - 4 KiB go in 4 KiB entries, then 2 MiB entries, then the
	 * tail in 4 KiB entries again. */
	v = dev_vma(mm, VA_BASE + PAGE_SIZE, 8 * MiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE + PAGE_SIZE, PFN_DEV + 1, 8 * MiB, PROT_DEV), 0);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + PAGE_SIZE, &pa), 0);
	KEXPECT_EQ(t, pa, pa_dev + 0x1000);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 2 * MiB, &pa), 1);
	KEXPECT_EQ(t, pa, pa_dev + 0x200000);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 8 * MiB, &pa), 0);
	KEXPECT_EQ(t, pa, pa_dev + 0x800000);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 8 * MiB + PAGE_SIZE, NULL), -1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_honours_memory_type(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	struct pt_lookup_result r;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, 4 * MiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, 2 * MiB, pgprot_writecombine(PROT_DEV)), 0);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE + 2 * MiB, PFN_DEV + 512, PAGE_SIZE,
				      pgprot_uncached(PROT_DEV)), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE, &r), 0);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_WC);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE + 2 * MiB, &r), 0);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_UC);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_partial_failure_unmaps_and_returns_enomem(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE - 4 * MiB, 8 * MiB, 0); /* crosses a 1 GiB boundary */
	KASSERT_NOT_NULL(t, v);
	remap_force_small_pages = true;
	pmm_fail_after(3); /* a few page-table pages, then nothing */
	int ret = remap_pfn_range(v, VA_BASE - 4 * MiB, PFN_DEV, 8 * MiB, PROT_DEV);
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
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	phys_addr_t pa = 0;
	const uintptr_t hole = VA_BASE + 301 * MiB; /* inside the 2 MiB block at 300 MiB */

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, GiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, GiB, PROT_DEV), 0);
	KASSERT_EQ(t, do_munmap(mm, hole, PAGE_SIZE), 0);
	KEXPECT_EQ(t, level_at(mm, hole, NULL), -1);
	KEXPECT_EQ(t, level_at(mm, hole - PAGE_SIZE, &pa), 0);
	KEXPECT_EQ(t, pa, pa_dev + 301 * MiB - PAGE_SIZE);
	KEXPECT_EQ(t, level_at(mm, hole + PAGE_SIZE, &pa), 0);
	KEXPECT_EQ(t, pa, pa_dev + 301 * MiB + PAGE_SIZE);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 900 * MiB, &pa), 1); /* untouched 2 MiB parts */
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_mprotect_of_part_keeps_frames_and_type(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	struct pt_lookup_result r;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, 4 * MiB, 0);
	KASSERT_NOT_NULL(t, v);
	v->vm_page_prot = pgprot_writecombine(v->vm_page_prot);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, 4 * MiB, v->vm_page_prot), 0);
	KASSERT_EQ(t, do_mprotect(mm, VA_BASE + MiB, PAGE_SIZE, PROT_READ), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE + MiB, &r), 0);
	KEXPECT_FALSE(t, r.pte & PTE_WRITE);
	KEXPECT_TRUE(t, r.pte & PTE_SPECIAL);
	KEXPECT_EQ(t, r.phys, pa_dev + MiB);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_WC);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE + MiB + PAGE_SIZE, &r), 0);
	KEXPECT_TRUE(t, r.pte & PTE_WRITE);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_fork_copies_device_mapping_without_refcounts(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t), *child;
	struct vm_area_struct *v;
	phys_addr_t pa = 0;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, GiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, GiB, PROT_DEV), 0);
	child = mm_fork(mm);
	KASSERT_NOT_NULL(t, child);
	KEXPECT_EQ(t, level_at(child, VA_BASE + 5 * MiB, &pa), cpu.gbpages ? 2 : 1);
	KEXPECT_EQ(t, pa, pa_dev + 5 * MiB);
	KEXPECT_TRUE(t, vma_lookup(child, VA_BASE)->vm_flags & VM_PFNMAP);
	mm_destroy(child);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 5 * MiB, &pa), cpu.gbpages ? 2 : 1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void remap_device_vma_refuses_growth_and_dontneed(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, 4 * MiB, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, 4 * MiB, PROT_DEV), 0);
	KEXPECT_EQ(t, do_mremap(mm, VA_BASE, 4 * MiB, 8 * MiB, MREMAP_MAYMOVE, 0), -EFAULT);
	KEXPECT_EQ(t, do_madvise(mm, VA_BASE, PAGE_SIZE, MADV_DONTNEED), -EINVAL);
	KEXPECT_EQ(t, do_mremap(mm, VA_BASE, 4 * MiB, 2 * MiB, 0, 0), (long)VA_BASE); /* shrink */
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 2 * MiB, NULL), -1);
	KEXPECT_EQ(t, level_at(mm, VA_BASE, NULL), 1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

/* mremap moves a huge device entry whole, and with every bit it had: the
 * PAT bit lives in bit 12 of a 2 MiB entry, not bit 7, and must survive.
 * No memory type of Pagoda's PAT layout uses that bit (remap_pfn_range()
 * would clear it), so the entries are made with pt_map() in a VMA marked
 * as a device mapping. A move of 4 KiB out of the middle of a huge entry
 * splits it first, and the page keeps the bit (bit 7 in a 4 KiB entry). */
static void remap_mremap_moves_huge_entry_with_its_pat_bit(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	struct pt_lookup_result before, after;
	const uintptr_t to = VA_BASE + GiB;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, 4 * MiB, VM_PFNMAP | VM_IO | VM_DONTEXPAND);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, pt_map(mm->pgd, VA_BASE, pa_dev, 4 * MiB,
			     __pgprot(PROT_DEV.bits | PTE_PAT_4K | PTE_SPECIAL), PT_MAP_HUGE), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, VA_BASE, &before), 0);
	KASSERT_EQ(t, before.level, 1);
	KEXPECT_TRUE(t, before.pte & PTE_PAT_LARGE);
	KASSERT_EQ(t, do_mremap(mm, VA_BASE, 2 * MiB, 2 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, to),
		   (long)to);
	KASSERT_EQ(t, pt_lookup(mm->pgd, to, &after), 0);
	KEXPECT_EQ(t, after.level, 1);
	KEXPECT_EQ(t, after.pte, before.pte);
	KEXPECT_EQ(t, level_at(mm, VA_BASE, NULL), -1);
	KASSERT_EQ(t, do_mremap(mm, VA_BASE + 3 * MiB, PAGE_SIZE, PAGE_SIZE,
				MREMAP_MAYMOVE | MREMAP_FIXED, to + 4 * MiB), (long)(to + 4 * MiB));
	KASSERT_EQ(t, pt_lookup(mm->pgd, to + 4 * MiB, &after), 0);
	KEXPECT_EQ(t, after.level, 0);
	KEXPECT_EQ(t, after.phys, pa_dev + 3 * MiB);
	KEXPECT_TRUE(t, after.pte & PTE_PAT_4K);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 3 * MiB, NULL), -1);
	KEXPECT_EQ(t, level_at(mm, VA_BASE + 3 * MiB + PAGE_SIZE, NULL), 0);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

/* A driver whose mmap maps a fixed device window with vm_iomap_memory(). */
static int fake_bar_mmap(struct file *file, struct vm_area_struct *vma)
{
	vma->vm_page_prot = pgprot_uncached(vma->vm_page_prot);
	return vm_iomap_memory(vma, pa_dev, 16 * MiB);
}

static const struct file_operations fake_bar_fops = { .mmap = fake_bar_mmap };

static void remap_through_driver_mmap_and_vm_iomap_memory(struct ktest *t)
{
	/* The test holds one reference; each VMA takes its own. */
	struct file f = { .f_op = &fake_bar_fops, .name = "fakebar", .refcount = 1,
			  .flags = O_RDWR }; /* a shared writable map needs a writer */
	struct mm_struct *mm = test_mm(t);
	long addr;
	phys_addr_t pa = 0;

	if (!mm)
		return;
	addr = do_mmap(mm, 0, 8 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, &f, 2);
	KASSERT_GT(t, addr, 0);
	KEXPECT_GE(t, level_at(mm, addr, &pa), 0);
	KEXPECT_EQ(t, pa, pa_dev + 2 * PAGE_SIZE); /* vm_pgoff counts pages into the BAR */
	KEXPECT_TRUE(t, vma_lookup(mm, addr)->vm_flags & VM_PFNMAP);
	/* Past the end of the BAR: the driver refuses and nothing is left. */
	KEXPECT_EQ(t, do_mmap(mm, 0, 16 * MiB, PROT_READ, MAP_SHARED, &f, 1), -EINVAL);
	KEXPECT_EQ(t, mm->map_count, 1);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

static void vm_iomap_memory_checks_length_and_offset(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, 4 * PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	KEXPECT_EQ(t, vm_iomap_memory(v, pa_dev, 3 * PAGE_SIZE), -EINVAL); /* too short */
	v->vm_pgoff = 5;
	KEXPECT_EQ(t, vm_iomap_memory(v, pa_dev, 4 * PAGE_SIZE), -EINVAL); /* offset past */
	KEXPECT_EQ(t, vm_iomap_memory(v, ~0ULL - 10, 100), -EINVAL);               /* wraps */
	v->vm_pgoff = 0;
	/* A start inside a page counts from that page. */
	KEXPECT_EQ(t, vm_iomap_memory(v, pa_dev + 0x800, 4 * PAGE_SIZE - 0x800), 0);
	KEXPECT_EQ(t, level_at(mm, VA_BASE, NULL), 0);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

/* --- memory types (mm/memtype.c) --- */

static int type_of(phys_addr_t pa, enum cache_mode *mode)
{
	return memtype_lookup(pa, pa + PAGE_SIZE, mode);
}

static enum cache_mode pte_mode_at(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0 ? pte_cache_mode(r.pte, r.level) : (enum cache_mode)-1;
}

/* A remap of a whole VMA reserves its frames with its type: a second
 * mapping of them gets that type or, if it cannot, is refused; the type
 * is given back piece by piece as the VMAs go. */
static void remap_second_mapping_of_frames_gets_their_type(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *a, *b, *c;
	unsigned int types = memtype_count();
	enum cache_mode m = CACHE_UC;

	if (!mm)
		return;
	a = dev_vma(mm, VA_BASE, 2 * PAGE_SIZE, 0);
	b = dev_vma(mm, VA_BASE + MiB, 2 * PAGE_SIZE, 0);
	c = dev_vma(mm, VA_BASE + 2 * MiB, PAGE_SIZE, 0);
	KASSERT_TRUE(t, a && b && c);
	KASSERT_EQ(t, remap_pfn_range(a, a->vm_start, PFN_DEV, 2 * PAGE_SIZE,
				      pgprot_writecombine(PROT_DEV)), 0);
	KEXPECT_TRUE(t, a->vm_flags & VM_PAT);
	KEXPECT_EQ(t, type_of(pa_dev, &m), 0);
	KEXPECT_EQ(t, m, CACHE_WC);
	/* UC- asked: WC is compatible, and what it gets, PTE and VMA alike */
	KASSERT_EQ(t, remap_pfn_range(b, b->vm_start, PFN_DEV, 2 * PAGE_SIZE,
				      pgprot_noncached(PROT_DEV)), 0);
	KEXPECT_EQ(t, pte_mode_at(mm, b->vm_start + PAGE_SIZE), CACHE_WC);
	KEXPECT_EQ(t, pte_cache_mode(b->vm_page_prot.bits, 0), CACHE_WC);
	/* UC asked: the WC there is not write-back, so it is what UC gets */
	KEXPECT_EQ(t, remap_pfn_range(c, c->vm_start, PFN_DEV + 1, PAGE_SIZE,
				      pgprot_uncached(PROT_DEV)), 0);
	KEXPECT_EQ(t, pte_mode_at(mm, c->vm_start), CACHE_WC);
	KEXPECT_EQ(t, do_munmap(mm, a->vm_start, 2 * PAGE_SIZE), 0);
	KEXPECT_EQ(t, type_of(pa_dev, &m), 0); /* b still maps both frames */
	KEXPECT_EQ(t, do_munmap(mm, VA_BASE + MiB + PAGE_SIZE, PAGE_SIZE), 0);
	KEXPECT_EQ(t, type_of(pa_dev + PAGE_SIZE, &m), 0); /* c holds the second */
	KEXPECT_EQ(t, do_munmap(mm, VA_BASE + 2 * MiB, PAGE_SIZE), 0);
	KEXPECT_EQ(t, type_of(pa_dev + PAGE_SIZE, &m), -ENOENT);
	KEXPECT_EQ(t, type_of(pa_dev, &m), 0);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
	KEXPECT_EQ(t, type_of(pa_dev, &m), -ENOENT);
	KEXPECT_EQ(t, memtype_count(), types);
}

/* The kernel's own mapping counts: a user mapping of the frames takes its
 * type, and a kernel one over a user mapping is refused if incompatible. */
static void remap_and_ioremap_of_one_range_agree_on_the_type(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	enum cache_mode there = CACHE_UC;
	void *k;

	if (!mm)
		return;
	k = ioremap_wc(pa_dev, PAGE_SIZE);
	KASSERT_NOT_NULL(t, k);
	v = dev_vma(mm, VA_BASE, PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	KEXPECT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, PAGE_SIZE, PROT_DEV), 0);
	KEXPECT_EQ(t, pte_mode_at(mm, VA_BASE), CACHE_WC); /* WB asked, WC there */
	KEXPECT_EQ(t, do_munmap(mm, VA_BASE, PAGE_SIZE), 0);
	KEXPECT_EQ(t, iounmap(k), 0);

	v = dev_vma(mm, VA_BASE, PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, PAGE_SIZE, PROT_DEV), 0);
	KEXPECT_EQ(t, type_of(pa_dev, &there), 0); /* WB, or UC- if the MTRRs say UC */
	k = ioremap_wc(pa_dev, PAGE_SIZE);
	if (there == CACHE_WB) {
		KEXPECT_NULL(t, k);
	} else {
		KEXPECT_NOT_NULL(t, k);
		if (k)
			iounmap(k);
	}
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
}

/* fork reserves for the child: the type stays while either maps it. */
static void remap_fork_child_holds_its_own_reservation(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t), *child;
	struct vm_area_struct *v;
	enum cache_mode m;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, 4 * PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, 4 * PAGE_SIZE,
				      pgprot_writecombine(PROT_DEV)), 0);
	child = mm_fork(mm);
	KASSERT_NOT_NULL(t, child);
	KEXPECT_TRUE(t, vma_lookup(child, VA_BASE)->vm_flags & VM_PAT);
	mm_destroy(mm);
	KEXPECT_EQ(t, type_of(pa_dev + 3 * PAGE_SIZE, &m), 0);
	KEXPECT_EQ(t, m, CACHE_WC);
	KEXPECT_TRUE(t, end_mm_no_leak(child));
	KEXPECT_EQ(t, type_of(pa_dev, &m), -ENOENT);
}

/* mremap: a moved mapping keeps the type; a shrunk one gives its tail back. */
static void remap_mremap_keeps_type_and_shrink_gives_back_the_tail(struct ktest *t)
{
	struct mm_struct *mm = test_mm(t);
	struct vm_area_struct *v;
	enum cache_mode m;
	long to;

	if (!mm)
		return;
	v = dev_vma(mm, VA_BASE, 4 * PAGE_SIZE, 0);
	KASSERT_NOT_NULL(t, v);
	KASSERT_EQ(t, remap_pfn_range(v, VA_BASE, PFN_DEV, 4 * PAGE_SIZE,
				      pgprot_writecombine(PROT_DEV)), 0);
	to = do_mremap(mm, VA_BASE, 4 * PAGE_SIZE, 4 * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED,
		       VA_BASE + GiB);
	KASSERT_EQ(t, to, (long)(VA_BASE + GiB));
	KEXPECT_EQ(t, type_of(pa_dev + 3 * PAGE_SIZE, &m), 0);
	KEXPECT_EQ(t, do_mremap(mm, to, 4 * PAGE_SIZE, PAGE_SIZE, 0, 0), to);
	KEXPECT_EQ(t, type_of(pa_dev, &m), 0);
	KEXPECT_EQ(t, type_of(pa_dev + PAGE_SIZE, &m), -ENOENT);
	KEXPECT_EQ(t, type_of(pa_dev + 3 * PAGE_SIZE, &m), -ENOENT);
	KEXPECT_TRUE(t, end_mm_no_leak(mm));
	KEXPECT_EQ(t, type_of(pa_dev, &m), -ENOENT);
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
	KTEST_CASE(remap_mremap_moves_huge_entry_with_its_pat_bit),
	KTEST_CASE(remap_through_driver_mmap_and_vm_iomap_memory),
	KTEST_CASE(vm_iomap_memory_checks_length_and_offset),
	KTEST_CASE(remap_second_mapping_of_frames_gets_their_type),
	KTEST_CASE(remap_and_ioremap_of_one_range_agree_on_the_type),
	KTEST_CASE(remap_fork_child_holds_its_own_reservation),
	KTEST_CASE(remap_mremap_keeps_type_and_shrink_gives_back_the_tail),
};
KTEST_SUITE(remap, remap_cases);
