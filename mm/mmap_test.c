/* Tests of the mmap family (mm/mmap.c, mm/mremap.c): mmap, munmap,
 * mprotect, brk, mremap and madvise on a live address space, with Linux
 * 6.x's behaviour and errno as the reference (mm/mmap.c, mm/mprotect.c,
 * mm/mremap.c, mm/madvise.c).
 *
 * Each case runs in a fresh mm made active with mm_switch(), so that
 * copy_to_user()/copy_from_user() fault pages in through handle_mm_fault()
 * as a process's accesses would; user memory is only ever touched through
 * them (SMAP is on). run_in_mm() then destroys the mm and checks that
 * every frame came back: a data page, a page-table page or a VMA lost on
 * any path, failed ones included, fails the case that lost it.
 *
 * Addresses are in PML4 slot 32 (16 TiB), away from where top-down
 * placement puts unhinted mappings (just below mm->mmap_base). */
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pgtable.h>
#include <pagoda/pmm.h>
#include <pagoda/rbtree.h>
#include <pagoda/slab.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define B 0x0000100000000000UL
#define P(n) ((uintptr_t)(n) * PAGE_SIZE)
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)
#define KERNEL_ADDR 0xffff800000000000UL
#define PROT_UNKNOWN 0x10 /* no PROT_* bit, not PROT_SEM (0x8) either */

/* A case whose body gets a fresh, active mm (include/pagoda/ktest_mm.h). */
#define MM_TEST(name) MM_CASE(name)
#define free_frames() ktest_free_frames()

static long map_anon(struct mm_struct *mm, uintptr_t addr, size_t len, int prot, int flags)
{
	return do_mmap(mm, addr, len, prot, PA | flags, NULL, 0);
}

static long map_fixed(struct mm_struct *mm, uintptr_t addr, size_t len, int prot)
{
	return map_anon(mm, addr, len, prot, MAP_FIXED);
}

/* Shared with the other mm suites (include/pagoda/ktest_mm.h). */
#define user_fill ktest_user_fill
#define user_all ktest_user_all
#define expect_vma ktest_expect_vma

static bool ranges_overlap(uintptr_t a, size_t alen, uintptr_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

/* ---- mmap ---- */

MM_TEST(mmap_rejects_bad_arguments_with_linux_errno)
{
	static const struct {
		const char *what;
		uintptr_t addr;
		size_t len;
		int flags;
		long expect;
	} rows[] = {
		{ "len 0", 0, 0, PA, -EINVAL },
		{ "neither MAP_SHARED nor MAP_PRIVATE", 0, P(1), MAP_ANONYMOUS, -EINVAL },
		{ "MAP_SHARED_VALIDATE anonymous", 0, P(1), MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -EINVAL },
		{ "MAP_SHARED|MAP_GROWSDOWN anonymous", 0, P(1),
		  MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -EINVAL },
		{ "MAP_FIXED unaligned", B + P(20) + 1, P(1), PA | MAP_FIXED, -EINVAL },
		{ "MAP_FIXED_NOREPLACE unaligned", B + P(20) + 1, P(1), PA | MAP_FIXED_NOREPLACE, -EINVAL },
		{ "MAP_FIXED ending above user space", USER_SPACE_END - P(1), P(2), PA | MAP_FIXED, -ENOMEM },
		{ "MAP_FIXED at the end of user space", USER_SPACE_END, P(1), PA | MAP_FIXED, -ENOMEM },
		{ "MAP_FIXED at a kernel address", KERNEL_ADDR, P(1), PA | MAP_FIXED, -ENOMEM },
		{ "MAP_FIXED below mmap_min_addr", 0x1000, P(1), PA | MAP_FIXED, -EPERM },
		{ "MAP_FIXED at 0", 0, P(1), PA | MAP_FIXED, -EPERM },
		{ "MAP_FIXED across mmap_min_addr", USER_SPACE_START - P(1), P(2), PA | MAP_FIXED, -EPERM },
		{ "no MAP_ANONYMOUS and no file", 0, P(1), MAP_PRIVATE, -EBADF },
		{ "len rounding up to 0", 0, (size_t)-1, PA, -ENOMEM },
		{ "len above user space", 0, USER_SPACE_END + P(1), PA, -ENOMEM },
		{ "MAP_FIXED_NOREPLACE over a mapping", B + P(2), P(4), PA | MAP_FIXED_NOREPLACE, -EEXIST },
	};

	KASSERT_EQ(t, map_fixed(mm, B, P(4), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(4), 0x5a), 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		long got = do_mmap(mm, rows[i].addr, rows[i].len, RW, rows[i].flags, NULL, 0);
		if (got != rows[i].expect)
			ktest_fail(t, __FILE__, __LINE__, "%s: got %ld (%#lx), expected %ld",
				   rows[i].what, got, (unsigned long)got, rows[i].expect);
	}
	/* Nothing was added, and the mapping NOREPLACE hit is intact. */
	KEXPECT_EQ(t, mm->map_count, 1);
	expect_vma(t, mm, B, B, B + P(4));
	KEXPECT_EQ(t, user_all(B, P(4), 0x5a), 1);
}

/* Linux's do_mmap() never validates prot: calc_vm_prot_bits() keeps the
 * bits it knows and drops the rest (only mprotect() says -EINVAL). */
MM_TEST(mmap_ignores_unknown_prot_bits_as_linux_does)
{
	struct vm_area_struct *v;
	long r = do_mmap(mm, B, P(1), RW | PROT_UNKNOWN, PA | MAP_FIXED, NULL, 0);

	KASSERT_EQ(t, r, (long)B);
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, B));
	KEXPECT_EQ(t, v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC), VM_READ | VM_WRITE);
	KEXPECT_EQ(t, user_fill(B, P(1), 0x12), 0);
}

MM_TEST(mmap_hint_is_used_when_free)
{
	KEXPECT_EQ(t, map_anon(mm, B + P(10), P(2), RW, 0), (long)(B + P(10)));
	/* An unaligned hint is rounded down to its page, as Linux's
	 * round_hint_to_min() does (hint &= PAGE_MASK). */
	KEXPECT_EQ(t, map_anon(mm, B + P(20) + 5, P(1), RW, 0), (long)(B + P(20)));
	expect_vma(t, mm, B + P(10), B + P(10), B + P(12));
}

MM_TEST(mmap_hint_is_ignored_when_taken)
{
	long r;

	KASSERT_EQ(t, map_fixed(mm, B, P(4), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(4), 0x61), 0);
	r = map_anon(mm, B + P(1), P(2), RW, 0);
	KASSERT_GT(t, r, 0);
	KEXPECT_NE(t, r, (long)(B + P(1)));
	KEXPECT_TRUE(t, IS_ALIGNED((uintptr_t)r, PAGE_SIZE));
	KEXPECT_FALSE(t, ranges_overlap(r, P(2), B, P(4)));
	expect_vma(t, mm, B, B, B + P(4));
	KEXPECT_EQ(t, user_all(B, P(4), 0x61), 1);
	KEXPECT_EQ(t, mm->map_count, 2);
}

/* Linux's round_hint_to_min(): a hint below mmap_min_addr is raised to
 * mmap_min_addr rather than thrown away. */
MM_TEST(mmap_hint_below_mmap_min_addr_is_raised_to_it)
{
	KEXPECT_EQ(t, map_anon(mm, 0x1000, P(1), RW, 0), (long)USER_SPACE_START);
}

MM_TEST(mmap_without_hint_places_top_down)
{
	long a = map_anon(mm, 0, P(2), RW, 0), b = map_anon(mm, 0, P(2), RW, 0);

	KASSERT_GT(t, a, 0);
	KASSERT_GT(t, b, 0);
	KEXPECT_LE(t, (uintptr_t)a + P(2), mm->mmap_base);
	KEXPECT_LE(t, (uintptr_t)b + P(2), (uintptr_t)a);
	KEXPECT_GE(t, (uintptr_t)b, USER_SPACE_START);
}

/* A mapping that straddles mmap_base: the free area below mmap_base ends
 * at its start, not at mmap_base. */
MM_TEST(mmap_without_hint_avoids_a_mapping_across_mmap_base)
{
	uintptr_t s = mm->mmap_base - P(2);
	long r;

	KASSERT_EQ(t, map_fixed(mm, s, P(4), PROT_READ), (long)s);
	r = map_anon(mm, 0, P(1), RW, 0);
	KASSERT_GT(t, r, 0);
	KEXPECT_FALSE(t, ranges_overlap(r, P(1), s, P(4)));
	KEXPECT_LT(t, (uintptr_t)r, s);
	KEXPECT_EQ(t, mm->map_count, 2);
}

static int fake_mmap(struct file *f, struct vm_area_struct *vma) { return 0; }
static const struct file_operations fake_fops = { .mmap = fake_mmap };

/* As Linux: a file opened read-only maps shared for reading only (and
 * mprotect cannot add writing), privately for anything; a file opened
 * write-only does not map. A BAR or /dev/mem opened read-only relies on
 * it. */
MM_TEST(mmap_of_a_file_needs_a_matching_open_mode)
{
	struct file ro = { .f_op = &fake_fops, .flags = O_RDONLY, .refcount = 1 };
	struct file wo = { .f_op = &fake_fops, .flags = O_WRONLY, .refcount = 1 };

	KEXPECT_EQ(t, do_mmap(mm, B, P(1), RW, MAP_SHARED | MAP_FIXED, &ro, 0), -EACCES);
	KEXPECT_EQ(t, do_mmap(mm, B, P(1), PROT_READ, MAP_SHARED | MAP_FIXED, &ro, 0), (long)B);
	KEXPECT_EQ(t, do_mprotect(mm, B, P(1), RW), -EACCES);
	KEXPECT_EQ(t, do_mmap(mm, B + P(2), P(1), RW, MAP_PRIVATE | MAP_FIXED, &ro, 0),
		   (long)(B + P(2)));
	KEXPECT_EQ(t, do_mmap(mm, B + P(4), P(1), PROT_READ, MAP_PRIVATE | MAP_FIXED, &wo, 0),
		   -EACCES);
	KEXPECT_EQ(t, do_munmap(mm, B, P(4)), 0);
	KEXPECT_EQ(t, ro.refcount, 1); /* the VMAs' references went with them */
}

/* mremap's move looks for room with do_mmap_find_area(): a length no
 * address space holds must find none (found by user/fuzz.c: with a length
 * of 2^64 - 4096 the search wrapped around and returned an address). */
MM_TEST(mmap_find_area_refuses_a_length_larger_than_user_space)
{
	KEXPECT_EQ(t, do_mmap_find_area(mm, USER_SPACE_END + P(1)), -ENOMEM);
	KEXPECT_EQ(t, do_mmap_find_area(mm, (size_t)-P(1)), -ENOMEM);
	KEXPECT_EQ(t, do_mmap_find_area(mm, ~(size_t)0 & ~(P(1) - 1)), -ENOMEM);
	KEXPECT_GT(t, do_mmap_find_area(mm, P(1)), 0);
}

MM_TEST(mmap_fixed_replaces_part_of_a_mapping_with_zero_pages)
{
	uint64_t before;

	KASSERT_EQ(t, map_fixed(mm, B, P(4), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(4), 0xaa), 0);
	before = free_frames();
	KASSERT_EQ(t, map_fixed(mm, B + P(1), P(2), RW), (long)(B + P(1)));
	KEXPECT_EQ(t, free_frames(), before + 2); /* the two old frames */
	KEXPECT_EQ(t, user_all(B + P(1), P(2), 0), 1);
	KEXPECT_EQ(t, user_all(B, P(1), 0xaa), 1);
	KEXPECT_EQ(t, user_all(B + P(3), P(1), 0xaa), 1);
	KEXPECT_EQ(t, mm->total_vm, 4);
}

MM_TEST(mmap_shared_anonymous_is_readable_and_writable)
{
	long r = do_mmap(mm, 0, P(2), RW, MAP_SHARED | MAP_ANONYMOUS, NULL, 0);
	struct vm_area_struct *v;

	KASSERT_GT(t, r, 0);
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, r));
	KEXPECT_TRUE(t, v->vm_flags & VM_SHARED);
	KEXPECT_EQ(t, user_all(r, P(2), 0), 1);
	KEXPECT_EQ(t, user_fill(r, P(2), 0x5c), 0);
	KEXPECT_EQ(t, user_all(r, P(2), 0x5c), 1);
}

MM_TEST(mmap_adjacent_compatible_mappings_merge_into_one_vma)
{
	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	KASSERT_EQ(t, map_fixed(mm, B + P(2), P(2), RW), (long)(B + P(2)));
	KEXPECT_EQ(t, mm->map_count, 1);
	expect_vma(t, mm, B, B, B + P(4));
	/* The same with the upper one mapped first. */
	KASSERT_EQ(t, map_fixed(mm, B + P(12), P(2), RW), (long)(B + P(12)));
	KASSERT_EQ(t, map_fixed(mm, B + P(10), P(2), RW), (long)(B + P(10)));
	KEXPECT_EQ(t, mm->map_count, 2);
	expect_vma(t, mm, B + P(13), B + P(10), B + P(14));
	KEXPECT_EQ(t, mm->total_vm, 8);
}

MM_TEST(mmap_adjacent_mappings_with_other_prot_stay_apart)
{
	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	KASSERT_EQ(t, map_fixed(mm, B + P(2), P(2), PROT_READ), (long)(B + P(2)));
	KEXPECT_EQ(t, mm->map_count, 2);
	expect_vma(t, mm, B, B, B + P(2));
	expect_vma(t, mm, B + P(2), B + P(2), B + P(4));
}

/* The single forced failure lands on the first vma_alloc() that needs a
 * new slab frame: each mapping before it takes a free object of the slab
 * kmalloc already has, without asking the frame allocator. */
MM_TEST(mmap_vma_allocation_failure_returns_enomem_and_leaves_nothing)
{
	unsigned int i, count = 0;
	uint64_t before = 0;
	long r = 0;

	kmalloc_shrink();
	pmm_fail_next(1);
	for (i = 0; i < 4096; i++) {
		count = mm->map_count;
		before = free_frames();
		r = map_anon(mm, B + P(2 * i), P(1), RW, MAP_FIXED_NOREPLACE);
		if (r < 0)
			break;
	}
	pmm_fail_next(0);
	KASSERT_EQ(t, r, -ENOMEM);
	KEXPECT_EQ(t, mm->map_count, count);
	KEXPECT_NULL(t, vma_lookup(mm, B + P(2 * i)));
	KEXPECT_EQ(t, free_frames(), before);
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
	/* Nothing half-done is in the way of a retry. */
	KEXPECT_EQ(t, map_anon(mm, B + P(2 * i), P(1), RW, MAP_FIXED_NOREPLACE), (long)(B + P(2 * i)));
}

/* Shared anonymous memory is a shmem object whose pages come on fault
 * (mm/shmem.c): mmap itself takes no page. Its first touch, out of memory
 * at each allocation in turn (the page, then each page table), must be
 * VM_FAULT_OOM and leave no entry and no page, until it succeeds. */
MM_TEST(mmap_shared_first_touch_oom_at_any_allocation_leaves_nothing)
{
	struct pt_lookup_result res;
	vm_fault_t ret = VM_FAULT_OOM;
	unsigned int k;

	KASSERT_EQ(t, do_mmap(mm, B, P(4), RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			      NULL, 0), (long)B);
	KASSERT_EQ(t, pt_lookup(mm->pgd, B, &res), -ENOENT);
	for (k = 0; k < 16; k++) {
		uint64_t before = free_frames();
		pmm_fail_after(k);
		ret = handle_mm_fault(mm, B + P(1), FAULT_FLAG_WRITE);
		pmm_fail_after(PMM_NO_FAIL);
		if (ret == VM_FAULT_OK)
			break;
		KASSERT_EQ(t, ret, VM_FAULT_OOM);
		KASSERT_EQ(t, pt_lookup(mm->pgd, B + P(1), &res), -ENOENT);
		KASSERT_EQ(t, free_frames(), before);
	}
	KEXPECT_EQ(t, ret, VM_FAULT_OK);
	KEXPECT_GT(t, k, 1); /* the page, then the page tables */
	KEXPECT_EQ(t, user_all(B, P(4), 0), 1);
}

/* ---- munmap ---- */

MM_TEST(munmap_rejects_bad_arguments_with_linux_errno)
{
	static const struct {
		const char *what;
		uintptr_t addr;
		size_t len;
		int expect;
	} rows[] = {
		{ "unaligned address", B + 1, P(1), -EINVAL },
		{ "len 0", B, 0, -EINVAL },
		{ "range ending above user space", USER_SPACE_END - P(1), P(2), -EINVAL },
		{ "kernel address", KERNEL_ADDR, P(1), -EINVAL },
		{ "len rounding up to 0", B, (size_t)-1, -EINVAL },
		{ "nothing mapped there (not an error)", B + P(100), P(3), 0 },
	};

	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		int got = do_munmap(mm, rows[i].addr, rows[i].len);
		if (got != rows[i].expect)
			ktest_fail(t, __FILE__, __LINE__, "%s: got %d, expected %d", rows[i].what,
				   got, rows[i].expect);
	}
	KEXPECT_EQ(t, mm->map_count, 1);
	expect_vma(t, mm, B, B, B + P(2));
}

MM_TEST(munmap_middle_splits_mapping_in_two)
{
	KASSERT_EQ(t, map_fixed(mm, B, P(4), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(4), 0x7e), 0);
	KASSERT_EQ(t, do_munmap(mm, B + P(1), P(2)), 0);
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_EQ(t, mm->total_vm, 2);
	expect_vma(t, mm, B, B, B + P(1));
	expect_vma(t, mm, B + P(3), B + P(3), B + P(4));
	KEXPECT_NULL(t, vma_intersect(mm, B + P(1), B + P(3)));
	KEXPECT_EQ(t, vma_lookup(mm, B + P(3))->vm_pgoff, (B + P(3)) >> PAGE_SHIFT);
	KEXPECT_EQ(t, user_all(B, P(1), 0x7e), 1);
	KEXPECT_EQ(t, user_all(B + P(3), P(1), 0x7e), 1);
	KEXPECT_EQ(t, user_all(B + P(1), 1, 0), -EFAULT);
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
}

/* [B+1p, B+3p) RW, hole, [B+4p, B+6p) R, hole, [B+7p, B+9p) RW; unmap
 * [B+2p, B+8p): one page of the first and of the last stay. */
MM_TEST(munmap_across_several_mappings_and_holes_removes_all_of_it)
{
	KASSERT_EQ(t, map_fixed(mm, B + P(1), P(2), RW), (long)(B + P(1)));
	KASSERT_EQ(t, map_fixed(mm, B + P(4), P(2), PROT_READ), (long)(B + P(4)));
	KASSERT_EQ(t, map_fixed(mm, B + P(7), P(2), RW), (long)(B + P(7)));
	KASSERT_EQ(t, user_fill(B + P(1), P(2), 0xd1), 0);
	KASSERT_EQ(t, user_all(B + P(4), P(2), 0), 1);
	KASSERT_EQ(t, user_fill(B + P(7), P(2), 0xd2), 0);
	KASSERT_EQ(t, mm->map_count, 3);

	KASSERT_EQ(t, do_munmap(mm, B + P(2), P(6)), 0);
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_EQ(t, mm->total_vm, 2);
	expect_vma(t, mm, B + P(1), B + P(1), B + P(2));
	expect_vma(t, mm, B + P(8), B + P(8), B + P(9));
	KEXPECT_NULL(t, vma_intersect(mm, B + P(2), B + P(8)));
	KEXPECT_EQ(t, user_all(B + P(1), P(1), 0xd1), 1);
	KEXPECT_EQ(t, user_all(B + P(8), P(1), 0xd2), 1);
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
}

MM_TEST(munmap_gives_back_every_frame_and_page_table)
{
	uint64_t before = free_frames();

	KASSERT_EQ(t, map_fixed(mm, B, P(8), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(8), 0x3f), 0);
	KEXPECT_LE(t, free_frames() + 8, before);
	KASSERT_EQ(t, do_munmap(mm, B, P(8)), 0);
	KEXPECT_EQ(t, free_frames(), before);
	KEXPECT_EQ(t, mm->map_count, 0);
	KEXPECT_EQ(t, mm->total_vm, 0);
}

/* munmap frees the page tables a VMA used alone, judged by the gap it
 * leaves between its neighbours (Linux's floor and ceiling), not by
 * their entries: a table the VMA shares with the one next door, below or
 * above, must stay with the neighbour's pages in it. The neighbour is
 * executable too, so that the two do not merge. */
static void unmap_beside_a_neighbour(struct ktest *t, struct mm_struct *mm, uintptr_t gone,
				     uintptr_t kept)
{
	KASSERT_EQ(t, map_fixed(mm, kept, P(1), RW | PROT_EXEC), (long)kept);
	KASSERT_EQ(t, map_fixed(mm, gone, P(1), RW), (long)gone);
	KASSERT_EQ(t, mm->map_count, 2);
	KASSERT_EQ(t, user_fill(kept, P(1), 0x5c), 0);
	KASSERT_EQ(t, user_fill(gone, P(1), 0x77), 0);
	KASSERT_EQ(t, do_munmap(mm, gone, P(1)), 0);
	KEXPECT_EQ(t, user_all(kept, P(1), 0x5c), 1); /* a freed table would read zeros */
}

MM_TEST(munmap_keeps_the_page_table_of_the_neighbour_below)
{
	unmap_beside_a_neighbour(t, mm, B + P(1), B);
}

MM_TEST(munmap_keeps_the_page_table_of_the_neighbour_above)
{
	unmap_beside_a_neighbour(t, mm, B, B + P(1));
}

/* ---- mprotect ---- */

MM_TEST(mprotect_rejects_bad_arguments_with_linux_errno)
{
	static const struct {
		const char *what;
		uintptr_t addr;
		size_t len;
		int prot;
		int expect;
	} rows[] = {
		{ "unaligned address", B + 1, P(1), PROT_READ, -EINVAL },
		{ "unknown prot bit", B, P(1), PROT_READ | PROT_UNKNOWN, -EINVAL },
		{ "hole inside the range", B, P(4), RW, -ENOMEM },
		{ "nothing mapped", B + P(10), P(1), PROT_READ, -ENOMEM },
		{ "range ending above user space", USER_SPACE_END - P(1), P(2), PROT_READ, -ENOMEM },
		{ "len 0 (not an error)", B, 0, PROT_READ, 0 },
	};

	/* [B, B+2p) and [B+3p, B+4p), a hole between. */
	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	KASSERT_EQ(t, map_fixed(mm, B + P(3), P(1), RW), (long)(B + P(3)));
	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		int got = do_mprotect(mm, rows[i].addr, rows[i].len, rows[i].prot);
		if (got != rows[i].expect)
			ktest_fail(t, __FILE__, __LINE__, "%s: got %d, expected %d", rows[i].what,
				   got, rows[i].expect);
	}
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_TRUE(t, vma_lookup(mm, B)->vm_flags & VM_WRITE);
}

MM_TEST(mprotect_middle_splits_in_three_and_restoring_merges_back)
{
	struct vm_area_struct *mid;

	KASSERT_EQ(t, map_fixed(mm, B, P(4), RW), (long)B);
	KASSERT_EQ(t, do_mprotect(mm, B + P(1), P(2), PROT_READ), 0);
	KEXPECT_EQ(t, mm->map_count, 3);
	KEXPECT_EQ(t, mm->total_vm, 4);
	expect_vma(t, mm, B, B, B + P(1));
	expect_vma(t, mm, B + P(1), B + P(1), B + P(3));
	expect_vma(t, mm, B + P(3), B + P(3), B + P(4));
	KASSERT_NOT_NULL(t, mid = vma_lookup(mm, B + P(1)));
	KEXPECT_EQ(t, mid->vm_flags & (VM_READ | VM_WRITE | VM_EXEC), VM_READ);
	KEXPECT_EQ(t, mid->vm_pgoff, (B + P(1)) >> PAGE_SHIFT);
	KEXPECT_TRUE(t, vma_lookup(mm, B)->vm_flags & VM_WRITE);
	KEXPECT_TRUE(t, vma_lookup(mm, B + P(3))->vm_flags & VM_WRITE);

	KASSERT_EQ(t, do_mprotect(mm, B + P(1), P(2), RW), 0);
	KEXPECT_EQ(t, mm->map_count, 1);
	KEXPECT_EQ(t, mm->total_vm, 4);
	expect_vma(t, mm, B + P(2), B, B + P(4));
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
}

MM_TEST(mprotect_sets_pte_write_and_nx_from_prot)
{
	static const struct {
		int prot;
		bool write, nx;
	} rows[] = {
		{ PROT_READ, false, true },
		{ PROT_READ | PROT_EXEC, false, false },
		{ RW, true, true },
		{ RW | PROT_EXEC, true, false },
	};
	struct pt_lookup_result r;
	phys_addr_t frame;

	KASSERT_EQ(t, map_fixed(mm, B, P(1), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(1), 0x01), 0);
	KASSERT_EQ(t, pt_lookup(mm->pgd, B, &r), 0);
	frame = r.phys;
	KEXPECT_TRUE(t, r.pte & PTE_WRITE);
	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		KASSERT_EQ(t, do_mprotect(mm, B, P(1), rows[i].prot), 0);
		KASSERT_EQ(t, pt_lookup(mm->pgd, B, &r), 0);
		KEXPECT_EQ(t, r.phys, frame);
		KEXPECT_TRUE(t, r.pte & PTE_USER);
		if (!!(r.pte & PTE_WRITE) != rows[i].write)
			ktest_fail(t, __FILE__, __LINE__, "prot %#x: PTE_WRITE is %d, expected %d",
				   rows[i].prot, !rows[i].write, rows[i].write);
		if (cpu.nx && !!(r.pte & PTE_NX) != rows[i].nx)
			ktest_fail(t, __FILE__, __LINE__, "prot %#x: PTE_NX is %d, expected %d",
				   rows[i].prot, !rows[i].nx, rows[i].nx);
	}
}

MM_TEST(mprotect_read_only_makes_copy_to_user_fail)
{
	static const uint8_t zeros[16];

	KASSERT_EQ(t, map_fixed(mm, B, P(1), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(1), 0x3c), 0);
	KASSERT_EQ(t, do_mprotect(mm, B, P(1), PROT_READ), 0);
	KEXPECT_EQ(t, copy_to_user((void *)B, zeros, sizeof(zeros)), -EFAULT);
	KEXPECT_EQ(t, user_all(B, P(1), 0x3c), 1);
}

/* PROT_NONE must stop the kernel's accesses too (copy_from_user is how a
 * syscall reads a buffer), while the frame and its data stay. */
MM_TEST(mprotect_none_makes_user_copies_fail_and_keeps_data)
{
	static const uint8_t zeros[16];
	uint8_t got[16];

	KASSERT_EQ(t, map_fixed(mm, B, P(1), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(1), 0x5e), 0);
	KASSERT_EQ(t, do_mprotect(mm, B, P(1), PROT_NONE), 0);
	KEXPECT_EQ(t, copy_from_user(got, (const void *)B, sizeof(got)), -EFAULT);
	KEXPECT_EQ(t, copy_to_user((void *)B, zeros, sizeof(zeros)), -EFAULT);
	KASSERT_EQ(t, do_mprotect(mm, B, P(1), RW), 0);
	KEXPECT_EQ(t, user_all(B, P(1), 0x5e), 1);
}

/* ---- brk ---- */

MM_TEST(brk_grows_with_zeroed_writable_memory)
{
	uintptr_t want = B + P(3) + 100;

	mm->start_brk = mm->brk = B;
	KASSERT_EQ(t, do_brk(mm, want), want);
	KEXPECT_EQ(t, mm->brk, want);
	KEXPECT_EQ(t, do_brk(mm, 0), want); /* brk(0) asks for the break */
	expect_vma(t, mm, B, B, B + P(4));
	KEXPECT_EQ(t, user_all(B, P(4), 0), 1);
	KEXPECT_EQ(t, user_fill(B, P(4), 0x33), 0);
	KEXPECT_EQ(t, user_all(B, P(4), 0x33), 1);
}

MM_TEST(brk_shrinks_and_gives_back_the_pages)
{
	uint64_t before;

	mm->start_brk = mm->brk = B;
	KASSERT_EQ(t, do_brk(mm, B + P(4)), B + P(4));
	KASSERT_EQ(t, user_fill(B, P(4), 0x34), 0);
	before = free_frames();
	KASSERT_EQ(t, do_brk(mm, B + P(1)), B + P(1));
	KEXPECT_EQ(t, mm->brk, B + P(1));
	KEXPECT_EQ(t, free_frames(), before + 3);
	KEXPECT_NULL(t, vma_lookup(mm, B + P(1)));
	expect_vma(t, mm, B, B, B + P(1));
	KEXPECT_EQ(t, user_all(B, P(1), 0x34), 1);
}

MM_TEST(brk_below_start_brk_returns_old_brk)
{
	mm->start_brk = mm->brk = B + P(2);
	KEXPECT_EQ(t, do_brk(mm, B + P(1)), B + P(2));
	KEXPECT_EQ(t, do_brk(mm, B + P(2) - 1), B + P(2));
	KEXPECT_EQ(t, mm->brk, B + P(2));
	KEXPECT_EQ(t, mm->map_count, 0);
}

/* Linux keeps a page free between the break and the next mapping. */
MM_TEST(brk_into_another_mapping_returns_old_brk)
{
	mm->start_brk = mm->brk = B;
	KASSERT_EQ(t, map_fixed(mm, B + P(4), P(1), RW), (long)(B + P(4)));
	KASSERT_EQ(t, user_fill(B + P(4), P(1), 0x77), 0);

	KEXPECT_EQ(t, do_brk(mm, B + P(8)), B);
	KEXPECT_EQ(t, do_brk(mm, B + P(4)), B);
	KEXPECT_EQ(t, mm->brk, B);
	KEXPECT_EQ(t, mm->map_count, 1);
	expect_vma(t, mm, B + P(4), B + P(4), B + P(5));
	KEXPECT_EQ(t, user_all(B + P(4), P(1), 0x77), 1);
	/* Up to one page short of it is fine. */
	KEXPECT_EQ(t, do_brk(mm, B + P(3)), B + P(3));
	expect_vma(t, mm, B, B, B + P(3));
}

/* ---- mremap ---- */

MM_TEST(mremap_shrink_unmaps_the_tail)
{
	uint64_t before;

	KASSERT_EQ(t, map_fixed(mm, B, P(4), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(4), 0x11), 0);
	before = free_frames();
	KASSERT_EQ(t, do_mremap(mm, B, P(4), P(2), 0, 0), (long)B);
	expect_vma(t, mm, B, B, B + P(2));
	KEXPECT_NULL(t, vma_lookup(mm, B + P(2)));
	KEXPECT_EQ(t, free_frames(), before + 2);
	KEXPECT_EQ(t, mm->total_vm, 2);
	KEXPECT_EQ(t, user_all(B, P(2), 0x11), 1);
}

MM_TEST(mremap_grows_in_place_when_the_space_is_free)
{
	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(2), 0x22), 0);
	KASSERT_EQ(t, do_mremap(mm, B, P(2), P(4), 0, 0), (long)B);
	expect_vma(t, mm, B, B, B + P(4));
	KEXPECT_EQ(t, mm->map_count, 1);
	KEXPECT_EQ(t, mm->total_vm, 4);
	KEXPECT_EQ(t, user_all(B, P(2), 0x22), 1);
	KEXPECT_EQ(t, user_all(B + P(2), P(2), 0), 1);
	KEXPECT_EQ(t, user_fill(B + P(2), P(2), 0x23), 0);
}

MM_TEST(mremap_maymove_moves_a_blocked_mapping_with_its_data)
{
	long r;

	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(2), 0x44), 0);
	KASSERT_EQ(t, map_fixed(mm, B + P(2), P(1), PROT_READ), (long)(B + P(2)));

	r = do_mremap(mm, B, P(2), P(4), MREMAP_MAYMOVE, 0);
	KASSERT_GT(t, r, 0);
	KEXPECT_NE(t, r, (long)B);
	KEXPECT_TRUE(t, IS_ALIGNED((uintptr_t)r, PAGE_SIZE));
	KEXPECT_FALSE(t, ranges_overlap(r, P(4), B, P(3)));
	expect_vma(t, mm, r, r, r + P(4));
	KEXPECT_EQ(t, user_all(r, P(2), 0x44), 1);
	KEXPECT_EQ(t, user_all(r + P(2), P(2), 0), 1);
	KEXPECT_EQ(t, user_fill(r, P(4), 0x45), 0);
	KEXPECT_NULL(t, vma_lookup(mm, B));
	expect_vma(t, mm, B + P(2), B + P(2), B + P(3));
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_EQ(t, mm->total_vm, 5);
}

MM_TEST(mremap_without_maymove_fails_when_blocked)
{
	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(2), 0x46), 0);
	KASSERT_EQ(t, map_fixed(mm, B + P(2), P(1), PROT_READ), (long)(B + P(2)));
	KEXPECT_EQ(t, do_mremap(mm, B, P(2), P(4), 0, 0), -ENOMEM);
	expect_vma(t, mm, B, B, B + P(2));
	KEXPECT_EQ(t, user_all(B, P(2), 0x46), 1);
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_EQ(t, mm->total_vm, 3);
}

MM_TEST(mremap_fixed_moves_to_the_given_address)
{
	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(2), 0x66), 0);
	KASSERT_EQ(t, do_mremap(mm, B, P(2), P(2), MREMAP_MAYMOVE | MREMAP_FIXED, B + P(100)),
		   (long)(B + P(100)));
	expect_vma(t, mm, B + P(100), B + P(100), B + P(102));
	KEXPECT_NULL(t, vma_lookup(mm, B));
	KEXPECT_EQ(t, user_all(B + P(100), P(2), 0x66), 1);
	KEXPECT_EQ(t, mm->map_count, 1);
}

MM_TEST(mremap_rejects_bad_arguments_with_linux_errno)
{
	static const struct {
		const char *what;
		uintptr_t addr;
		size_t old_len, new_len;
		int flags;
		uintptr_t new_addr;
		long expect;
	} rows[] = {
		{ "MREMAP_FIXED without MREMAP_MAYMOVE", B, P(2), P(2), MREMAP_FIXED, B + P(100), -EINVAL },
		{ "unknown flag", B, P(2), P(4), 0x40, 0, -EINVAL },
		{ "unaligned address", B + 1, P(1), P(2), MREMAP_MAYMOVE, 0, -EINVAL },
		{ "new_len 0", B, P(2), 0, MREMAP_MAYMOVE, 0, -EINVAL },
		{ "old range not mapped", B + P(10), P(1), P(2), MREMAP_MAYMOVE, 0, -EFAULT },
		{ "old range past the end of its mapping", B, P(3), P(4), MREMAP_MAYMOVE, 0, -EFAULT },
	};

	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(2), 0x67), 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		long got = do_mremap(mm, rows[i].addr, rows[i].old_len, rows[i].new_len,
				     rows[i].flags, rows[i].new_addr);
		if (got != rows[i].expect)
			ktest_fail(t, __FILE__, __LINE__, "%s: got %ld (%#lx), expected %ld",
				   rows[i].what, got, (unsigned long)got, rows[i].expect);
	}
	KEXPECT_EQ(t, mm->map_count, 1);
	expect_vma(t, mm, B, B, B + P(2));
	KEXPECT_EQ(t, user_all(B, P(2), 0x67), 1);
}

/* ---- madvise ---- */

MM_TEST(madvise_dontneed_private_memory_reads_back_zero)
{
	uint64_t before;

	KASSERT_EQ(t, map_fixed(mm, B, P(4), RW), (long)B);
	KASSERT_EQ(t, user_fill(B, P(4), 0x99), 0);
	before = free_frames();
	KASSERT_EQ(t, do_madvise(mm, B, P(4), MADV_DONTNEED), 0);
	KEXPECT_GE(t, free_frames(), before + 4);
	KEXPECT_EQ(t, mm->map_count, 1);
	expect_vma(t, mm, B, B, B + P(4));
	KEXPECT_EQ(t, user_all(B, P(4), 0), 1);
}

MM_TEST(madvise_rejects_bad_arguments_with_linux_errno)
{
	static const struct {
		const char *what;
		uintptr_t addr;
		size_t len;
		int advice;
		int expect;
	} rows[] = {
		{ "unknown advice", B, P(1), 12345, -EINVAL },
		{ "unaligned address", B + 1, P(1), MADV_DONTNEED, -EINVAL },
		{ "len rounding up to 0", B, (size_t)-1, MADV_NORMAL, -EINVAL },
		{ "nothing mapped", B + P(10), P(1), MADV_DONTNEED, -ENOMEM },
		{ "range past the end of the mapping", B, P(3), MADV_WILLNEED, -ENOMEM },
		{ "len 0 (not an error)", B, 0, MADV_DONTNEED, 0 },
	};

	KASSERT_EQ(t, map_fixed(mm, B, P(2), RW), (long)B);
	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		int got = do_madvise(mm, rows[i].addr, rows[i].len, rows[i].advice);
		if (got != rows[i].expect)
			ktest_fail(t, __FILE__, __LINE__, "%s: got %d, expected %d", rows[i].what,
				   got, rows[i].expect);
	}
	KEXPECT_EQ(t, mm->map_count, 1);
}

/* Linux's madvise_walk_vmas() applies the advice to every mapped part of
 * the range and only then reports the hole with -ENOMEM. */
MM_TEST(madvise_dontneed_across_a_hole_drops_both_sides_and_returns_enomem)
{
	KASSERT_EQ(t, map_fixed(mm, B, P(1), RW), (long)B);
	KASSERT_EQ(t, map_fixed(mm, B + P(2), P(1), RW), (long)(B + P(2)));
	KASSERT_EQ(t, user_fill(B, P(1), 0xa1), 0);
	KASSERT_EQ(t, user_fill(B + P(2), P(1), 0xa2), 0);
	KEXPECT_EQ(t, do_madvise(mm, B, P(3), MADV_DONTNEED), -ENOMEM);
	KEXPECT_EQ(t, user_all(B, P(1), 0), 1);
	KEXPECT_EQ(t, user_all(B + P(2), P(1), 0), 1);
}

static const struct ktest_case mmap_cases[] = {
	KTEST_CASE(mmap_rejects_bad_arguments_with_linux_errno),
	KTEST_CASE(mmap_ignores_unknown_prot_bits_as_linux_does),
	KTEST_CASE(mmap_hint_is_used_when_free),
	KTEST_CASE(mmap_hint_is_ignored_when_taken),
	KTEST_CASE(mmap_hint_below_mmap_min_addr_is_raised_to_it),
	KTEST_CASE(mmap_without_hint_places_top_down),
	KTEST_CASE(mmap_without_hint_avoids_a_mapping_across_mmap_base),
	KTEST_CASE(mmap_of_a_file_needs_a_matching_open_mode),
	KTEST_CASE(mmap_find_area_refuses_a_length_larger_than_user_space),
	KTEST_CASE(mmap_fixed_replaces_part_of_a_mapping_with_zero_pages),
	KTEST_CASE(mmap_shared_anonymous_is_readable_and_writable),
	KTEST_CASE(mmap_adjacent_compatible_mappings_merge_into_one_vma),
	KTEST_CASE(mmap_adjacent_mappings_with_other_prot_stay_apart),
	KTEST_CASE(mmap_vma_allocation_failure_returns_enomem_and_leaves_nothing),
	KTEST_CASE(mmap_shared_first_touch_oom_at_any_allocation_leaves_nothing),
	KTEST_CASE(munmap_rejects_bad_arguments_with_linux_errno),
	KTEST_CASE(munmap_middle_splits_mapping_in_two),
	KTEST_CASE(munmap_across_several_mappings_and_holes_removes_all_of_it),
	KTEST_CASE(munmap_gives_back_every_frame_and_page_table),
	KTEST_CASE(munmap_keeps_the_page_table_of_the_neighbour_below),
	KTEST_CASE(munmap_keeps_the_page_table_of_the_neighbour_above),
	KTEST_CASE(mprotect_rejects_bad_arguments_with_linux_errno),
	KTEST_CASE(mprotect_middle_splits_in_three_and_restoring_merges_back),
	KTEST_CASE(mprotect_sets_pte_write_and_nx_from_prot),
	KTEST_CASE(mprotect_read_only_makes_copy_to_user_fail),
	KTEST_CASE(mprotect_none_makes_user_copies_fail_and_keeps_data),
	KTEST_CASE(brk_grows_with_zeroed_writable_memory),
	KTEST_CASE(brk_shrinks_and_gives_back_the_pages),
	KTEST_CASE(brk_below_start_brk_returns_old_brk),
	KTEST_CASE(brk_into_another_mapping_returns_old_brk),
	KTEST_CASE(mremap_shrink_unmaps_the_tail),
	KTEST_CASE(mremap_grows_in_place_when_the_space_is_free),
	KTEST_CASE(mremap_maymove_moves_a_blocked_mapping_with_its_data),
	KTEST_CASE(mremap_without_maymove_fails_when_blocked),
	KTEST_CASE(mremap_fixed_moves_to_the_given_address),
	KTEST_CASE(mremap_rejects_bad_arguments_with_linux_errno),
	KTEST_CASE(madvise_dontneed_private_memory_reads_back_zero),
	KTEST_CASE(madvise_rejects_bad_arguments_with_linux_errno),
	KTEST_CASE(madvise_dontneed_across_a_hole_drops_both_sides_and_returns_enomem),
};
KTEST_SUITE(mmap, mmap_cases);
