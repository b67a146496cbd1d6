/* Tests of the VMA list (mm/vma.c): ordered insertion, lookup, split,
 * merge, and the bookkeeping (map_count, total_vm) that goes with them.
 *
 * Each case runs in a fresh mm from mm_create() and ends with
 * mm_destroy(); ktest_run_in_mm() then checks that every frame went back (the
 * VMAs are kmalloc objects, so a VMA lost by a split or merge shows up as
 * a frame that never returns once kmalloc_shrink() has dropped the spare
 * slabs). Most cases link VMAs by hand and never touch their memory, so no
 * page table is built; the 10,000-VMA case goes through do_mmap().
 *
 * All addresses are in PML4 slot 32 (16 TiB), far from anything else. */
#include <pagoda/errno.h>
#include <pagoda/file.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/rbtree.h>
#include <pagoda/slab.h>
#include <pagoda/vma.h>

#define BASE 0x0000100000000000UL
#define P(n) ((uintptr_t)(n) * PAGE_SIZE)
#define ANON_FLAGS (VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC)
#define RO_FLAGS (VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC)



/* A case whose body gets a fresh mm: KASSERT_* may return early from the
 * body, and the mm is still destroyed and checked for leaks. */
#define VMA_TEST(name)                                                         \
	static void name##_body(struct ktest *t, struct mm_struct *mm);        \
	static void name(struct ktest *t) { ktest_run_in_mm(t, name##_body, false); } \
	static void name##_body(struct ktest *t, struct mm_struct *mm)

/* A VMA as do_mmap() makes one for private anonymous memory (vm_pgoff is
 * the page number of vm_start), not yet linked. */
static struct vm_area_struct *anon_vma(uintptr_t start, uintptr_t end, unsigned long flags)
{
	struct vm_area_struct *v = vma_alloc();

	if (!v)
		return NULL;
	v->vm_start = start;
	v->vm_end = end;
	v->vm_flags = flags;
	v->vm_page_prot = vm_get_page_prot(flags);
	v->vm_pgoff = start >> PAGE_SHIFT;
	return v;
}

/* Link a new anonymous VMA into mm; NULL (failure recorded) if that fails. */
static struct vm_area_struct *link_anon(struct ktest *t, struct mm_struct *mm, uintptr_t start,
					uintptr_t end, unsigned long flags)
{
	struct vm_area_struct *v = anon_vma(start, end, flags);
	int ret;

	if (!v) {
		ktest_fail(t, __FILE__, __LINE__, "vma_alloc() returned NULL");
		return NULL;
	}
	ret = vma_link(mm, v);
	if (ret < 0) {
		ktest_fail(t, __FILE__, __LINE__, "vma_link([%#lx, %#lx)) returned %d",
			   (unsigned long)start, (unsigned long)end, ret);
		vma_free(v);
		return NULL;
	}
	return v;
}

/* Try to link [start, end) and return vma_link()'s result; a refused VMA
 * is freed here (the caller still owns it after a failure). */
static int try_link(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	struct vm_area_struct *v = anon_vma(start, end, ANON_FLAGS);
	int ret;

	if (!v)
		return -ENOMEM;
	ret = vma_link(mm, v);
	if (ret < 0)
		vma_free(v);
	return ret;
}

/* The number of VMAs on mm's list, checking that they are sorted and do
 * not overlap; -1 if they are not. */
static long count_sorted(struct mm_struct *mm)
{
	struct list_head *pos;
	uintptr_t prev_end = 0;
	long n = 0;

	list_for_each(pos, &mm->vma_list) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_list);
		if (v->vm_start < prev_end || v->vm_start >= v->vm_end)
			return -1;
		prev_end = v->vm_end;
		n++;
	}
	return n;
}

VMA_TEST(vma_link_keeps_list_in_address_order)
{
	static const uintptr_t order[] = { P(4), P(0), P(8), P(2) };
	struct vm_area_struct *v[4];

	for (unsigned int i = 0; i < ARRAY_SIZE(order); i++)
		KASSERT_NOT_NULL(t, v[i] = link_anon(t, mm, BASE + order[i],
						      BASE + order[i] + P(1), ANON_FLAGS));
	/* v[1] < v[3] < v[0] < v[2] by address. */
	KEXPECT_EQ(t, list_first_entry(&mm->vma_list, struct vm_area_struct, vm_list), v[1]);
	KEXPECT_EQ(t, vma_next(mm, v[1]), v[3]);
	KEXPECT_EQ(t, vma_next(mm, v[3]), v[0]);
	KEXPECT_EQ(t, vma_next(mm, v[0]), v[2]);
	KEXPECT_NULL(t, vma_next(mm, v[2]));
	KEXPECT_EQ(t, vma_prev(mm, v[2]), v[0]);
	KEXPECT_EQ(t, vma_prev(mm, v[0]), v[3]);
	KEXPECT_EQ(t, vma_prev(mm, v[3]), v[1]);
	KEXPECT_NULL(t, vma_prev(mm, v[1]));
	KEXPECT_EQ(t, count_sorted(mm), 4);
	KEXPECT_EQ(t, mm->map_count, 4);
	KEXPECT_EQ(t, mm->total_vm, 4);
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
}

VMA_TEST(vma_link_overlap_returns_eexist_and_touching_is_allowed)
{
	static const struct {
		const char *what;
		uintptr_t start, end;
	} overlaps[] = {
		{ "the same range", P(2), P(6) },
		{ "over the start", P(0), P(3) },
		{ "over the end", P(5), P(8) },
		{ "inside", P(3), P(4) },
		{ "around", P(0), P(10) },
		{ "last page only", P(5), P(6) },
	};

	KASSERT_NOT_NULL(t, link_anon(t, mm, BASE + P(2), BASE + P(6), ANON_FLAGS));
	for (unsigned int i = 0; i < ARRAY_SIZE(overlaps); i++) {
		int ret = try_link(mm, BASE + overlaps[i].start, BASE + overlaps[i].end);
		if (ret != -EEXIST)
			ktest_fail(t, __FILE__, __LINE__, "link %s: got %d, expected -EEXIST",
				   overlaps[i].what, ret);
	}
	KEXPECT_EQ(t, mm->map_count, 1);
	KEXPECT_EQ(t, mm->total_vm, 4);
	KEXPECT_EQ(t, try_link(mm, BASE + P(0), BASE + P(2)), 0);
	KEXPECT_EQ(t, try_link(mm, BASE + P(6), BASE + P(7)), 0);
	KEXPECT_EQ(t, mm->map_count, 3);
	KEXPECT_EQ(t, mm->total_vm, 7);
	KEXPECT_EQ(t, count_sorted(mm), 3);
}

VMA_TEST(vma_link_rejects_empty_or_unaligned_range)
{
	static const struct {
		const char *what;
		uintptr_t start, end;
	} bad[] = {
		{ "empty", BASE, BASE },
		{ "inverted", BASE + P(2), BASE },
		{ "unaligned start", BASE + 8, BASE + P(1) },
		{ "unaligned end", BASE, BASE + P(1) + 8 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = try_link(mm, bad[i].start, bad[i].end);
		if (ret != -EINVAL)
			ktest_fail(t, __FILE__, __LINE__, "link %s: got %d, expected -EINVAL",
				   bad[i].what, ret);
	}
	KEXPECT_EQ(t, mm->map_count, 0);
	KEXPECT_EQ(t, mm->total_vm, 0);
	KEXPECT_TRUE(t, list_empty(&mm->vma_list));
	KEXPECT_TRUE(t, RB_EMPTY_ROOT(&mm->vma_tree));
}

/* a covers [BASE+2p, BASE+4p), b covers [BASE+6p, BASE+8p). Every row is
 * asked twice: once with the lookup cache holding a, once holding b, so a
 * cached VMA that does not contain the address cannot answer for it. */
VMA_TEST(vma_find_and_lookup_before_inside_between_and_after)
{
	struct vm_area_struct *a, *b;

	KASSERT_NOT_NULL(t, a = link_anon(t, mm, BASE + P(2), BASE + P(4), ANON_FLAGS));
	KASSERT_NOT_NULL(t, b = link_anon(t, mm, BASE + P(6), BASE + P(8), ANON_FLAGS));

	const struct {
		const char *what;
		uintptr_t addr;
		struct vm_area_struct *find, *lookup;
	} rows[] = {
		{ "address 0", 0, a, NULL },
		{ "before a", BASE, a, NULL },
		{ "a's first byte", BASE + P(2), a, a },
		{ "inside a", BASE + P(3) + 123, a, a },
		{ "a's last byte", BASE + P(4) - 1, a, a },
		{ "a's end (in the gap)", BASE + P(4), b, NULL },
		{ "between", BASE + P(5), b, NULL },
		{ "b's last byte", BASE + P(8) - 1, b, b },
		{ "b's end (after all)", BASE + P(8), NULL, NULL },
		{ "top of user space", USER_SPACE_END - 1, NULL, NULL },
	};
	struct vm_area_struct *primes[] = { a, b };

	for (unsigned int p = 0; p < ARRAY_SIZE(primes); p++) {
		for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
			struct vm_area_struct *f, *l;
			KASSERT_EQ(t, vma_lookup(mm, primes[p]->vm_start), primes[p]);
			f = vma_find(mm, rows[i].addr);
			KASSERT_EQ(t, vma_lookup(mm, primes[p]->vm_start), primes[p]);
			l = vma_lookup(mm, rows[i].addr);
			if (f != rows[i].find || l != rows[i].lookup)
				ktest_fail(t, __FILE__, __LINE__,
					   "%s (cache primed with %s): find %p lookup %p, expected %p %p",
					   rows[i].what, p ? "b" : "a", (void *)f, (void *)l,
					   (void *)rows[i].find, (void *)rows[i].lookup);
		}
	}
}

VMA_TEST(vma_intersect_treats_ranges_as_half_open)
{
	struct vm_area_struct *a, *b;

	KASSERT_NOT_NULL(t, a = link_anon(t, mm, BASE + P(2), BASE + P(4), ANON_FLAGS));
	KASSERT_NOT_NULL(t, b = link_anon(t, mm, BASE + P(6), BASE + P(8), ANON_FLAGS));

	const struct {
		const char *what;
		uintptr_t start, end;
		struct vm_area_struct *expect;
	} rows[] = {
		{ "ending at a's start", BASE, BASE + P(2), NULL },
		{ "over a's start", BASE + P(1), BASE + P(3), a },
		{ "exactly the gap", BASE + P(4), BASE + P(6), NULL },
		{ "inside the gap", BASE + P(4) + 1, BASE + P(5), NULL },
		{ "over both", BASE + P(3), BASE + P(7), a },
		{ "from the gap into b", BASE + P(5), BASE + P(7), b },
		{ "starting at b's end", BASE + P(8), BASE + P(10), NULL },
		{ "all of user space", 0, USER_SPACE_END, a },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		struct vm_area_struct *got = vma_intersect(mm, rows[i].start, rows[i].end);
		if (got != rows[i].expect)
			ktest_fail(t, __FILE__, __LINE__, "%s: got %p, expected %p", rows[i].what,
				   (void *)got, (void *)rows[i].expect);
	}
}

VMA_TEST(vma_split_gives_both_halves_with_adjusted_pgoff)
{
	struct vm_area_struct *v, *tail = NULL, *tail2 = NULL;

	KASSERT_NOT_NULL(t, v = anon_vma(BASE, BASE + P(4), ANON_FLAGS));
	v->vm_pgoff = 1000;
	KASSERT_EQ(t, vma_link(mm, v), 0);

	KASSERT_EQ(t, vma_split(mm, v, BASE + P(1), &tail), 0);
	KASSERT_NOT_NULL(t, tail);
	KEXPECT_EQ(t, v->vm_start, BASE);
	KEXPECT_EQ(t, v->vm_end, BASE + P(1));
	KEXPECT_EQ(t, v->vm_pgoff, 1000);
	KEXPECT_EQ(t, tail->vm_start, BASE + P(1));
	KEXPECT_EQ(t, tail->vm_end, BASE + P(4));
	KEXPECT_EQ(t, tail->vm_pgoff, 1001);
	KEXPECT_EQ(t, tail->vm_flags, v->vm_flags);
	KEXPECT_EQ(t, tail->vm_page_prot.bits, v->vm_page_prot.bits);
	KEXPECT_EQ(t, tail->vm_mm, mm);
	KEXPECT_EQ(t, vma_lookup(mm, BASE), v);
	KEXPECT_EQ(t, vma_lookup(mm, BASE + P(1) - 1), v);
	KEXPECT_EQ(t, vma_lookup(mm, BASE + P(1)), tail);
	KEXPECT_EQ(t, vma_lookup(mm, BASE + P(4) - 1), tail);
	KEXPECT_EQ(t, vma_next(mm, v), tail);
	KEXPECT_EQ(t, vma_prev(mm, tail), v);
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_EQ(t, mm->total_vm, 4);

	/* Split the tail again: its own pgoff is the base of the next one. */
	KASSERT_EQ(t, vma_split(mm, tail, BASE + P(3), &tail2), 0);
	KEXPECT_EQ(t, tail->vm_end, BASE + P(3));
	KEXPECT_EQ(t, tail2->vm_start, BASE + P(3));
	KEXPECT_EQ(t, tail2->vm_pgoff, 1003);
	KEXPECT_EQ(t, vma_lookup(mm, BASE + P(3)), tail2);
	KEXPECT_EQ(t, mm->map_count, 3);
	KEXPECT_EQ(t, mm->total_vm, 4);
	KEXPECT_EQ(t, count_sorted(mm), 3);
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
}

VMA_TEST(vma_split_at_edge_or_unaligned_fails_and_changes_nothing)
{
	static const struct {
		const char *what;
		uintptr_t addr;
	} bad[] = {
		{ "at vm_start", BASE },
		{ "at vm_end", BASE + P(4) },
		{ "below", BASE - P(1) },
		{ "above", BASE + P(5) },
		{ "unaligned", BASE + P(1) + 1 },
	};
	struct vm_area_struct *v;

	KASSERT_NOT_NULL(t, v = link_anon(t, mm, BASE, BASE + P(4), ANON_FLAGS));
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vm_area_struct *tail = NULL;
		int ret = vma_split(mm, v, bad[i].addr, &tail);
		if (ret != -EINVAL)
			ktest_fail(t, __FILE__, __LINE__, "split %s: got %d, expected -EINVAL",
				   bad[i].what, ret);
	}
	KEXPECT_EQ(t, v->vm_start, BASE);
	KEXPECT_EQ(t, v->vm_end, BASE + P(4));
	KEXPECT_EQ(t, mm->map_count, 1);
	KEXPECT_EQ(t, mm->total_vm, 4);
}

static unsigned int opened;
static struct vm_area_struct *opened_vma;

static void count_open(struct vm_area_struct *vma)
{
	opened++;
	opened_vma = vma;
}

static const struct vm_operations_struct counting_ops = { .open = count_open };

VMA_TEST(vma_split_calls_open_on_the_new_vma)
{
	struct vm_area_struct *v, *tail = NULL;

	KASSERT_NOT_NULL(t, v = link_anon(t, mm, BASE, BASE + P(2), ANON_FLAGS));
	v->vm_ops = &counting_ops;
	opened = 0;
	opened_vma = NULL;
	KASSERT_EQ(t, vma_split(mm, v, BASE + P(1), &tail), 0);
	KEXPECT_EQ(t, opened, 1);
	KEXPECT_EQ(t, opened_vma, tail);
	KEXPECT_EQ(t, tail->vm_ops, &counting_ops);
}

VMA_TEST(vma_merge_joins_compatible_neighbours_on_both_sides)
{
	struct vm_area_struct *a, *b, *c, *m;

	KASSERT_NOT_NULL(t, a = link_anon(t, mm, BASE, BASE + P(1), ANON_FLAGS));
	KASSERT_NOT_NULL(t, c = link_anon(t, mm, BASE + P(3), BASE + P(5), ANON_FLAGS));
	KASSERT_NOT_NULL(t, b = link_anon(t, mm, BASE + P(1), BASE + P(3), ANON_FLAGS));
	KASSERT_EQ(t, mm->map_count, 3);

	m = vma_merge_neighbours(mm, b);
	KASSERT_EQ(t, m, a);
	KEXPECT_EQ(t, m->vm_start, BASE);
	KEXPECT_EQ(t, m->vm_end, BASE + P(5));
	KEXPECT_EQ(t, m->vm_pgoff, BASE >> PAGE_SHIFT);
	KEXPECT_EQ(t, mm->map_count, 1);
	KEXPECT_EQ(t, mm->total_vm, 5);
	KEXPECT_EQ(t, count_sorted(mm), 1);
	KEXPECT_EQ(t, vma_lookup(mm, BASE + P(2)), m);
	KEXPECT_EQ(t, vma_lookup(mm, BASE + P(5) - 1), m);
	KEXPECT_NULL(t, vma_lookup(mm, BASE + P(5)));
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
}

VMA_TEST(vma_merge_skips_the_neighbour_with_other_flags)
{
	struct vm_area_struct *a, *b, *c, *m;

	KASSERT_NOT_NULL(t, a = link_anon(t, mm, BASE, BASE + P(1), ANON_FLAGS));
	KASSERT_NOT_NULL(t, c = link_anon(t, mm, BASE + P(2), BASE + P(3), RO_FLAGS));
	KASSERT_NOT_NULL(t, b = link_anon(t, mm, BASE + P(1), BASE + P(2), ANON_FLAGS));

	m = vma_merge_neighbours(mm, b);
	KASSERT_EQ(t, m, a);
	KEXPECT_EQ(t, a->vm_end, BASE + P(2));
	KEXPECT_EQ(t, vma_next(mm, a), c);
	KEXPECT_EQ(t, c->vm_start, BASE + P(2));
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_EQ(t, mm->total_vm, 3);
}

/* Device and driver mappings keep their own VMAs even when everything
 * else matches: VM_PFNMAP frames have no descriptor, and a vm_ops close()
 * may free per-VMA state. */
VMA_TEST(vma_merge_leaves_pfnmap_and_vm_ops_vmas_alone)
{
	static const struct vm_operations_struct ops = { 0 };
	struct vm_area_struct *v[3];

	for (unsigned int i = 0; i < 3; i++) {
		KASSERT_NOT_NULL(t, v[i] = link_anon(t, mm, BASE + P(i), BASE + P(i + 1),
						      ANON_FLAGS | VM_PFNMAP | VM_IO));
	}
	KEXPECT_EQ(t, vma_merge_neighbours(mm, v[1]), v[1]);
	KEXPECT_EQ(t, mm->map_count, 3);

	for (unsigned int i = 0; i < 3; i++) {
		KASSERT_NOT_NULL(t, v[i] = link_anon(t, mm, BASE + P(10 + i), BASE + P(11 + i),
						      ANON_FLAGS));
		v[i]->vm_ops = &ops;
	}
	KEXPECT_EQ(t, vma_merge_neighbours(mm, v[1]), v[1]);
	KEXPECT_EQ(t, mm->map_count, 6);
	KEXPECT_EQ(t, mm->total_vm, 6);
}

VMA_TEST(vma_can_merge_requires_every_attribute_to_match)
{
	static const struct vm_operations_struct ops = { 0 };
	static struct file other_file;
	struct vm_area_struct a, b;

	for (unsigned int row = 0; row < 9; row++) {
		const char *what = "compatible";
		bool expect = false;

		memset(&a, 0, sizeof(a));
		a.vm_start = BASE;
		a.vm_end = BASE + P(2);
		a.vm_flags = ANON_FLAGS;
		a.vm_page_prot = vm_get_page_prot(ANON_FLAGS);
		a.vm_pgoff = 50;
		b = a;
		b.vm_start = BASE + P(2);
		b.vm_end = BASE + P(3);
		b.vm_pgoff = 52;
		switch (row) {
		case 0: expect = true; break;
		case 1: what = "different flags"; b.vm_flags = RO_FLAGS; break;
		case 2: what = "different protection"; b.vm_page_prot.bits |= PTE_PCD; break;
		case 3: what = "both VM_PFNMAP"; a.vm_flags = b.vm_flags |= VM_PFNMAP; break;
		case 4: what = "ops below"; a.vm_ops = &ops; break;
		case 5: what = "ops above"; b.vm_ops = &ops; break;
		case 6: what = "pgoff not contiguous"; b.vm_pgoff = 53; break;
		case 7: what = "not touching"; b.vm_start += P(1); b.vm_end += P(1); b.vm_pgoff++; break;
		case 8: what = "different file"; b.vm_file = &other_file; break;
		}
		if (vma_can_merge(&a, &b) != expect)
			ktest_fail(t, __FILE__, __LINE__, "%s: vma_can_merge() is %d, expected %d",
				   what, !expect, expect);
	}
}

VMA_TEST(vma_unlink_updates_map_count_and_total_vm)
{
	struct vm_area_struct *a, *b, *c;

	KASSERT_NOT_NULL(t, a = link_anon(t, mm, BASE, BASE + P(1), ANON_FLAGS));
	KASSERT_NOT_NULL(t, b = link_anon(t, mm, BASE + P(2), BASE + P(4), ANON_FLAGS));
	KASSERT_NOT_NULL(t, c = link_anon(t, mm, BASE + P(5), BASE + P(8), ANON_FLAGS));
	KASSERT_EQ(t, mm->total_vm, 6);
	KEXPECT_EQ(t, vma_lookup(mm, BASE + P(3)), b); /* b is now the cached VMA */

	vma_unlink(mm, b);
	vma_free(b);
	KEXPECT_EQ(t, mm->map_count, 2);
	KEXPECT_EQ(t, mm->total_vm, 4);
	KEXPECT_NULL(t, vma_lookup(mm, BASE + P(3)));
	KEXPECT_EQ(t, vma_find(mm, BASE + P(2)), c);
	KEXPECT_EQ(t, vma_next(mm, a), c);
	KEXPECT_EQ(t, vma_prev(mm, c), a);
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
}

/* 10,000 VMAs of two pages with a one-page gap after each (so none merge):
 * VMA i covers [BASE + 3i pages, BASE + 3i + 2 pages). */
#define MANY 10000
#define MANY_START(i) (BASE + P(3 * (uintptr_t)(i)))

/* Count the VMAs in [first, last) that lookup does not find at their
 * start, middle and last byte, or that answer for their gap. */
static unsigned int many_lookup_errors(struct ktest *t, struct mm_struct *mm, unsigned int first,
				       unsigned int last)
{
	unsigned int bad = 0;

	for (unsigned int i = first; i < last; i++) {
		uintptr_t s = MANY_START(i);
		struct vm_area_struct *v = vma_lookup(mm, s);
		bool ok = v && v->vm_start == s && v->vm_end == s + P(2) &&
			  vma_lookup(mm, s + P(1)) == v && vma_lookup(mm, s + P(2) - 1) == v &&
			  !vma_lookup(mm, s + P(2)) && !vma_lookup(mm, s + P(3) - 1) &&
			  vma_find(mm, s + P(2)) == vma_next(mm, v);
		if (!ok && bad++ == 0)
			ktest_log(t, "first bad VMA: index %u at %#lx", i, (unsigned long)s);
	}
	return bad;
}

VMA_TEST(vma_lookup_finds_each_of_10000_vmas_and_nothing_in_gaps)
{
	uintptr_t hole_start = MANY_START(100), hole_end = MANY_START(1100);

	for (unsigned int i = 0; i < MANY; i++) {
		long r = do_mmap(mm, MANY_START(i), P(2), PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
		if (r != (long)MANY_START(i)) {
			ktest_fail(t, __FILE__, __LINE__, "mmap %u returned %ld", i, r);
			return;
		}
	}
	KEXPECT_EQ(t, mm->map_count, MANY);
	KEXPECT_EQ(t, mm->total_vm, 2 * MANY);
	KEXPECT_EQ(t, count_sorted(mm), MANY);
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
	KEXPECT_EQ(t, many_lookup_errors(t, mm, 0, MANY), 0);
	KEXPECT_NULL(t, vma_lookup(mm, MANY_START(MANY)));
	KEXPECT_NULL(t, vma_find(mm, MANY_START(MANY)));

	/* Unmap VMAs 100..1099 and their gaps in one call. */
	KASSERT_EQ(t, do_munmap(mm, hole_start, hole_end - hole_start), 0);
	KEXPECT_EQ(t, mm->map_count, MANY - 1000);
	KEXPECT_EQ(t, mm->total_vm, 2 * (MANY - 1000));
	KEXPECT_EQ(t, count_sorted(mm), MANY - 1000);
	KEXPECT_GE(t, rb_validate(&mm->vma_tree), 0);
	KEXPECT_NULL(t, vma_intersect(mm, hole_start, hole_end));
	KEXPECT_EQ(t, vma_find(mm, hole_start)->vm_start, hole_end);
	KEXPECT_EQ(t, many_lookup_errors(t, mm, 0, 100), 0);
	KEXPECT_EQ(t, many_lookup_errors(t, mm, 1100, MANY), 0);
}

static const struct ktest_case vma_cases[] = {
	KTEST_CASE(vma_link_keeps_list_in_address_order),
	KTEST_CASE(vma_link_overlap_returns_eexist_and_touching_is_allowed),
	KTEST_CASE(vma_link_rejects_empty_or_unaligned_range),
	KTEST_CASE(vma_find_and_lookup_before_inside_between_and_after),
	KTEST_CASE(vma_intersect_treats_ranges_as_half_open),
	KTEST_CASE(vma_split_gives_both_halves_with_adjusted_pgoff),
	KTEST_CASE(vma_split_at_edge_or_unaligned_fails_and_changes_nothing),
	KTEST_CASE(vma_split_calls_open_on_the_new_vma),
	KTEST_CASE(vma_merge_joins_compatible_neighbours_on_both_sides),
	KTEST_CASE(vma_merge_skips_the_neighbour_with_other_flags),
	KTEST_CASE(vma_merge_leaves_pfnmap_and_vm_ops_vmas_alone),
	KTEST_CASE(vma_can_merge_requires_every_attribute_to_match),
	KTEST_CASE(vma_unlink_updates_map_count_and_total_vm),
	KTEST_CASE(vma_lookup_finds_each_of_10000_vmas_and_nothing_in_gaps),
};
KTEST_SUITE(vma, vma_cases);
