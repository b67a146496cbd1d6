/* Tests of page tables shared at fork (mm/pt_share.c) and of every path
 * that must unshare them before it changes an entry (mm/pgtable.c).
 *
 * A case maps SPAN-aligned private anonymous memory with huge pages off
 * (so that writes fault in 4 KiB pages and last-level tables exist),
 * writes a distinct word in each page, forks, and looks at both sides'
 * PD entries, the table's reference count, the frames' counts and the
 * data, each side's accesses through the real #PF path (copy_to_user()
 * with the mm active). MM_CASE fails a case that leaks a frame. */
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/memblock.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/pt_share.h>
#include <pagoda/remap.h>
#include <pagoda/rss.h>
#include <pagoda/slab.h>
#include <pagoda/thp.h>
#include <pagoda/uaccess.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

#define BASE 0x0000100000000000UL /* 16 TiB: 1 GiB-aligned */
#define FAR 0x0000200000000000UL  /* another PML4 slot */
#define SPAN (2UL << 20)          /* what one last-level table maps */
#define P PAGE_SIZE
#define NPAGES (2 * SPAN / P)     /* the cases' mapping: two tables */

static uint64_t word_for(uintptr_t va) { return va ^ 0x5a5a000000000000ULL; }

/* The PD entry that maps va (0 if none). */
static pte_t pde_of(struct mm_struct *mm, uintptr_t va)
{
	pte_t *t = phys_to_virt(mm->pgd);

	for (unsigned int l = PT_LEVELS - 1; l > 1; l--) {
		pte_t e = t[(va >> (12 + 9 * l)) & (PT_ENTRIES - 1)];
		if (!(e & PTE_PRESENT) || (e & PTE_PS))
			return 0;
		t = phys_to_virt(e & PTE_ADDR_MASK);
	}
	return t[(va >> 21) & (PT_ENTRIES - 1)];
}

static uint32_t table_refs(pte_t pde)
{
	return pfn_to_page(phys_to_pfn(pde & PTE_ADDR_MASK))->refcount;
}

static pte_t pte_of(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0 ? r.pte : 0;
}

static uint32_t frame_refs(struct mm_struct *mm, uintptr_t va)
{
	struct page *p = pfn_to_page(phys_to_pfn(pte_of(mm, va) & PTE_ADDR_MASK));

	return pte_of(mm, va) && p ? compound_head(p)->refcount : 0;
}

/* [BASE, BASE + 2 SPAN) private, no huge pages, every page written with
 * word_for(its address). */
static bool setup(struct ktest *t, struct mm_struct *mm)
{
	if (do_mmap(mm, BASE, NPAGES * P, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) != (long)BASE ||
	    do_madvise(mm, BASE, NPAGES * P, MADV_NOHUGEPAGE) < 0) {
		ktest_fail(t, __FILE__, __LINE__, "could not map the parent's memory");
		return false;
	}
	for (uintptr_t va = BASE; va < BASE + NPAGES * P; va += P)
		if (ktest_put_word(mm, va, word_for(va)) < 0) {
			ktest_fail(t, __FILE__, __LINE__, "could not write %#lx", va);
			return false;
		}
	return true;
}

/* Does mm read word_for() in every page of [start, end)? */
static bool reads_original(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	for (uintptr_t va = start; va < end; va += P)
		if (ktest_get_word(mm, va) != word_for(va))
			return false;
	return true;
}

static struct mm_struct *fork_or_fail(struct ktest *t, struct mm_struct *mm)
{
	struct mm_struct *child;

	pt_share_set_enabled(true);
	child = mm_fork(mm);
	if (!child)
		ktest_fail(t, __FILE__, __LINE__, "mm_fork() returned NULL");
	return child;
}

static void end_child(struct mm_struct *mm, struct mm_struct *child)
{
	mm_switch(mm);
	mm_destroy(child);
}

MM_CASE(fork_shares_last_level_tables_read_only_without_frame_refs)
{
	struct mm_struct *child;
	uint64_t tables = pt_table_pages();
	struct mm_rss pr, cr;

	if (!setup(t, mm) || !(child = fork_or_fail(t, mm)))
		return;
	ktest_log(t, "fork of %lu pages allocated %llu table pages", NPAGES,
		  (unsigned long long)(pt_table_pages() - tables));
	for (uintptr_t va = BASE; va < BASE + NPAGES * P; va += SPAN) {
		pte_t pp = pde_of(mm, va), cp = pde_of(child, va);
		KEXPECT_EQ(t, pp, cp);
		KEXPECT_TRUE(t, pt_pde_shared(pp));
		KEXPECT_EQ(t, table_refs(pp), 2);
	}
	/* The entries were not touched: the frames are counted once. */
	KEXPECT_EQ(t, frame_refs(mm, BASE + 5 * P), 1);
	KEXPECT_FALSE(t, pte_of(mm, BASE) & PTE_COW);
	KEXPECT_FALSE(t, pte_of(mm, BASE) & PTE_WRITE); /* as the CPU sees it */
	KEXPECT_TRUE(t, reads_original(child, BASE, BASE + NPAGES * P));
	mm_rss_count(mm, &pr);
	mm_rss_count(child, &cr);
	KEXPECT_EQ(t, pr.anon, NPAGES);
	KEXPECT_EQ(t, cr.anon, NPAGES);
	end_child(mm, child);
	KEXPECT_FALSE(t, pt_pde_shared(pde_of(mm, BASE)) && table_refs(pde_of(mm, BASE)) != 1);
	KEXPECT_TRUE(t, reads_original(mm, BASE, BASE + NPAGES * P));
}

MM_CASE(fork_share_off_copies_tables_as_before)
{
	struct mm_struct *child;

	if (!setup(t, mm))
		return;
	pt_share_set_enabled(false);
	child = mm_fork(mm);
	pt_share_set_enabled(true);
	KASSERT_NOT_NULL(t, child);
	KEXPECT_NE(t, pde_of(mm, BASE) & PTE_ADDR_MASK, pde_of(child, BASE) & PTE_ADDR_MASK);
	KEXPECT_TRUE(t, pde_of(mm, BASE) & PTE_WRITE);
	KEXPECT_EQ(t, frame_refs(mm, BASE), 2);
	KEXPECT_TRUE(t, pte_of(child, BASE) & PTE_COW);
	end_child(mm, child);
}

MM_CASE(fork_write_unshares_once_per_side_and_isolates_data)
{
	struct mm_struct *child;
	uint64_t tables;
	pte_t orig;

	if (!setup(t, mm) || !(child = fork_or_fail(t, mm)))
		return;
	orig = pde_of(mm, BASE);
	tables = pt_table_pages();
	KEXPECT_EQ(t, ktest_put_word(mm, BASE, 0xaaaa), 0);
	KEXPECT_EQ(t, pt_table_pages(), tables + 1); /* the parent's copy */
	KEXPECT_EQ(t, ktest_put_word(mm, BASE + 7 * P, 0xbbbb), 0);
	KEXPECT_EQ(t, pt_table_pages(), tables + 1); /* its own now: no second copy */
	KEXPECT_TRUE(t, pde_of(mm, BASE) & PTE_WRITE);
	KEXPECT_NE(t, pde_of(mm, BASE) & PTE_ADDR_MASK, orig & PTE_ADDR_MASK);
	KEXPECT_EQ(t, pde_of(child, BASE), orig); /* still the old one */
	KEXPECT_EQ(t, table_refs(orig), 1);
	KEXPECT_EQ(t, frame_refs(mm, BASE + 3 * P), 2); /* copy + original */
	/* The child, last holder, takes the table back without a copy. */
	KEXPECT_EQ(t, ktest_put_word(child, BASE + P, 0xcccc), 0);
	KEXPECT_EQ(t, pt_table_pages(), tables + 1);
	KEXPECT_EQ(t, pde_of(child, BASE) & PTE_ADDR_MASK, orig & PTE_ADDR_MASK);
	KEXPECT_TRUE(t, pde_of(child, BASE) & PTE_WRITE);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE), 0xaaaa);
	KEXPECT_EQ(t, ktest_get_word(child, BASE), word_for(BASE));
	KEXPECT_EQ(t, ktest_get_word(child, BASE + 7 * P), word_for(BASE + 7 * P));
	KEXPECT_EQ(t, ktest_get_word(child, BASE + P), 0xcccc);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE + P), word_for(BASE + P));
	/* The other table is still shared. */
	KEXPECT_EQ(t, pde_of(mm, BASE + SPAN), pde_of(child, BASE + SPAN));
	end_child(mm, child);
}

MM_CASE(fork_child_write_first_unshares_child_only)
{
	struct mm_struct *child;
	uint64_t tables;

	if (!setup(t, mm) || !(child = fork_or_fail(t, mm)))
		return;
	tables = pt_table_pages();
	KEXPECT_EQ(t, ktest_put_word(child, BASE + SPAN, 0x1234), 0);
	KEXPECT_EQ(t, pt_table_pages(), tables + 1);
	KEXPECT_TRUE(t, pt_pde_shared(pde_of(mm, BASE + SPAN)));
	KEXPECT_TRUE(t, reads_original(mm, BASE + SPAN, BASE + 2 * SPAN));
	KEXPECT_EQ(t, ktest_put_word(mm, BASE + SPAN, 0x5678), 0);
	KEXPECT_EQ(t, pt_table_pages(), tables + 1);
	KEXPECT_EQ(t, ktest_get_word(child, BASE + SPAN), 0x1234);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE + SPAN), 0x5678);
	end_child(mm, child);
}

MM_CASE(fork_munmap_in_child_leaves_parent_data)
{
	struct mm_struct *child;
	uint64_t tables;
	pte_t orig;

	if (!setup(t, mm) || !(child = fork_or_fail(t, mm)))
		return;
	orig = pde_of(mm, BASE);
	tables = pt_table_pages();
	/* Whole table: the child just drops it, copying nothing. */
	KEXPECT_EQ(t, do_munmap(child, BASE, SPAN), 0);
	KEXPECT_EQ(t, pt_table_pages(), tables);
	KEXPECT_EQ(t, pde_of(child, BASE), 0);
	KEXPECT_EQ(t, table_refs(orig), 1);
	KEXPECT_EQ(t, frame_refs(mm, BASE + 9 * P), 1);
	KEXPECT_TRUE(t, reads_original(mm, BASE, BASE + SPAN));
	/* Part of one: the child unshares, the parent keeps every page. */
	KEXPECT_EQ(t, do_munmap(child, BASE + SPAN + 4 * P, 2 * P), 0);
	KEXPECT_EQ(t, pte_of(child, BASE + SPAN + 4 * P), 0);
	KEXPECT_TRUE(t, pt_pde_shared(pde_of(mm, BASE + SPAN)));
	KEXPECT_EQ(t, frame_refs(mm, BASE + SPAN + 4 * P), 1);
	KEXPECT_EQ(t, frame_refs(mm, BASE + SPAN + 6 * P), 2);
	KEXPECT_TRUE(t, reads_original(mm, BASE, BASE + NPAGES * P));
	KEXPECT_TRUE(t, reads_original(child, BASE + SPAN + 6 * P, BASE + 2 * SPAN));
	end_child(mm, child);
	KEXPECT_TRUE(t, reads_original(mm, BASE, BASE + NPAGES * P));
}

MM_CASE(fork_mprotect_in_child_leaves_parent_writable)
{
	struct mm_struct *child;

	if (!setup(t, mm) || !(child = fork_or_fail(t, mm)))
		return;
	KEXPECT_EQ(t, do_mprotect(child, BASE, SPAN, PROT_READ), 0);
	KEXPECT_FALSE(t, pt_pde_shared(pde_of(child, BASE)));
	KEXPECT_EQ(t, handle_mm_fault(child, BASE, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(t, ktest_put_word(mm, BASE, 0x77), 0);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE), 0x77);
	KEXPECT_TRUE(t, reads_original(child, BASE, BASE + SPAN));
	/* mprotect of part of the parent's other, still shared, table */
	KEXPECT_EQ(t, do_mprotect(mm, BASE + SPAN + P, P, PROT_NONE), 0);
	KEXPECT_EQ(t, ktest_get_word(child, BASE + SPAN + P), word_for(BASE + SPAN + P));
	KEXPECT_EQ(t, ktest_put_word(child, BASE + SPAN + P, 0x99), 0);
	end_child(mm, child);
}

MM_CASE(fork_mremap_in_child_moves_its_pages_only)
{
	struct mm_struct *child;

	if (!setup(t, mm) || !(child = fork_or_fail(t, mm)))
		return;
	KEXPECT_EQ(t, do_mremap(child, BASE, SPAN, SPAN, MREMAP_MAYMOVE | MREMAP_FIXED, FAR),
		   (long)FAR);
	KEXPECT_EQ(t, pde_of(child, BASE), 0);
	for (uintptr_t off = 0; off < SPAN; off += 64 * P)
		KEXPECT_EQ(t, ktest_get_word(child, FAR + off), word_for(BASE + off));
	KEXPECT_EQ(t, ktest_put_word(child, FAR, 0x42), 0);
	KEXPECT_TRUE(t, reads_original(mm, BASE, BASE + NPAGES * P));
	KEXPECT_EQ(t, frame_refs(mm, BASE + P), 2); /* the parent's and the moved entry */
	end_child(mm, child);
	KEXPECT_EQ(t, frame_refs(mm, BASE + P), 1);
}

MM_CASE(fork_madvise_dontneed_in_child_leaves_parent_data)
{
	struct mm_struct *child;

	if (!setup(t, mm) || !(child = fork_or_fail(t, mm)))
		return;
	KEXPECT_EQ(t, do_madvise(child, BASE + P, 2 * P, MADV_DONTNEED), 0);
	KEXPECT_EQ(t, ktest_get_word(child, BASE + P), 0);
	KEXPECT_EQ(t, ktest_get_word(child, BASE + 3 * P), word_for(BASE + 3 * P));
	KEXPECT_EQ(t, do_madvise(child, BASE + SPAN, SPAN, MADV_DONTNEED), 0);
	KEXPECT_EQ(t, ktest_get_word(child, BASE + SPAN + 8 * P), 0);
	KEXPECT_TRUE(t, reads_original(mm, BASE, BASE + NPAGES * P));
	end_child(mm, child);
}

MM_CASE(fork_fault_into_empty_entry_of_shared_table_stays_private)
{
	struct mm_struct *child;
	uintptr_t hole = BASE + 100 * P;

	if (!setup(t, mm))
		return;
	KASSERT_EQ(t, do_madvise(mm, hole, 2 * P, MADV_DONTNEED), 0);
	KASSERT_EQ(t, pte_of(mm, hole), 0);
	if (!(child = fork_or_fail(t, mm)))
		return;
	KASSERT_TRUE(t, pt_pde_shared(pde_of(child, hole)));
	KEXPECT_EQ(t, ktest_get_word(child, hole), 0); /* a read maps the zero page */
	KEXPECT_NE(t, pte_of(child, hole), 0);
	KEXPECT_EQ(t, pte_of(mm, hole), 0);
	KEXPECT_EQ(t, ktest_put_word(mm, hole + P, 0xfeed), 0); /* a write maps a page */
	KEXPECT_EQ(t, pte_of(child, hole + P), 0);
	KEXPECT_EQ(t, ktest_get_word(child, hole + P), 0);
	KEXPECT_EQ(t, ktest_get_word(mm, hole + P), 0xfeed);
	end_child(mm, child);
}

MM_CASE(fork_huge_pmd_leaf_is_not_shared_and_keeps_thp_cow)
{
	struct mm_struct *child;
	pte_t pde;

	if (thp_policy_get() == THP_NEVER) {
		ktest_skip(t, "transparent huge pages are off");
		return;
	}
	KASSERT_EQ(t, do_mmap(mm, BASE, SPAN, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)BASE);
	KASSERT_EQ(t, do_madvise(mm, BASE, SPAN, MADV_HUGEPAGE), 0);
	KASSERT_EQ(t, ktest_put_word(mm, BASE, 0x4747), 0);
	pde = pde_of(mm, BASE);
	if (!(pde & PTE_PS)) {
		ktest_skip(t, "no 2 MiB block free for a huge page");
		return;
	}
	KASSERT_NOT_NULL(t, child = fork_or_fail(t, mm));
	KEXPECT_TRUE(t, pde_of(child, BASE) & PTE_PS);
	KEXPECT_FALSE(t, pde_of(mm, BASE) & PTE_WRITE);
	KEXPECT_EQ(t, frame_refs(mm, BASE), 2); /* the THP fork: one more PMD mapping */
	KEXPECT_EQ(t, ktest_put_word(child, BASE, 0x4848), 0);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE), 0x4747);
	end_child(mm, child);
}

MM_CASE(fork_shared_anon_table_is_copied_not_shared)
{
	struct mm_struct *child;

	KASSERT_EQ(t, do_mmap(mm, BASE, SPAN, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)BASE);
	KASSERT_EQ(t, ktest_put_word(mm, BASE, 0x3030), 0); /* shmem: a page, so a table */
	KASSERT_NOT_NULL(t, child = fork_or_fail(t, mm));
	KEXPECT_NE(t, pde_of(child, BASE), 0);
	KEXPECT_NE(t, pde_of(mm, BASE) & PTE_ADDR_MASK, pde_of(child, BASE) & PTE_ADDR_MASK);
	KEXPECT_TRUE(t, pde_of(mm, BASE) & PTE_WRITE);
	KEXPECT_EQ(t, ktest_put_word(child, BASE + P, 0x3131), 0);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE + P), 0x3131);
	end_child(mm, child);
}

MM_CASE(fork_table_over_device_memory_is_copied_not_shared)
{
	phys_addr_t pa_dev = MIN(cpu_phys_limit(), 1ULL << 40) - (1ULL << 30);
	struct vm_area_struct *v = vma_alloc();
	struct mm_struct *child;

	KASSERT_NOT_NULL(t, v);
	if (memblock_overlaps(&memblock_memory, pa_dev, SPAN)) {
		vma_free(v);
		ktest_skip(t, "RAM reaches the last GiB below MAXPHYADDR or 1 TiB");
		return;
	}
	v->vm_start = BASE;
	v->vm_end = BASE + SPAN;
	v->vm_flags = VM_READ | VM_MAYREAD; /* private, read-only */
	v->vm_page_prot = vm_get_page_prot(v->vm_flags);
	KASSERT_EQ(t, vma_link(mm, v), 0);
	/* pa one page off 2 MiB: 4 KiB entries in a table, not a huge leaf */
	KASSERT_EQ(t, remap_pfn_range(v, BASE, phys_to_pfn(pa_dev) + 1, SPAN, v->vm_page_prot), 0);
	KASSERT_NOT_NULL(t, child = fork_or_fail(t, mm));
	KEXPECT_NE(t, pde_of(mm, BASE) & PTE_ADDR_MASK, pde_of(child, BASE) & PTE_ADDR_MASK);
	KEXPECT_FALSE(t, pt_pde_shared(pde_of(mm, BASE)));
	KEXPECT_EQ(t, pte_of(child, BASE + 5 * P), pte_of(mm, BASE + 5 * P));
	KEXPECT_EQ(t, pte_of(child, BASE) & PTE_ADDR_MASK, pa_dev + P);
	end_child(mm, child);
}

/* Parent and child with shared tables, some unshared, some taken back;
 * destroyed in either order: every frame and table comes back. */
static void destroy_in_order(struct ktest *t, bool parent_first)
{
	struct mm_struct *parent, *child;
	uint64_t before;

	kmalloc_shrink();
	before = pmm_free_pages();
	parent = mm_create();
	if (!parent || !setup(t, parent) || !(child = fork_or_fail(t, parent))) {
		mm_switch(NULL);
		mm_destroy(parent);
		return;
	}
	KEXPECT_EQ(t, ktest_put_word(child, BASE + 3 * P, 1), 0); /* child copies table 1 */
	KEXPECT_EQ(t, ktest_put_word(parent, BASE + 4 * P, 2), 0); /* parent takes it back */
	mm_switch(NULL);
	mm_destroy(parent_first ? parent : child);
	KEXPECT_TRUE(t, reads_original(parent_first ? child : parent, BASE + SPAN,
				       BASE + 2 * SPAN));
	mm_switch(NULL);
	mm_destroy(parent_first ? child : parent);
	kmalloc_shrink();
	KEXPECT_EQ(t, pmm_free_pages(), before);
	KEXPECT_EQ(t, pt_share_nr_tables(), 0);
}

static void fork_destroy_parent_then_child_returns_every_frame(struct ktest *t)
{
	destroy_in_order(t, true);
}

static void fork_destroy_child_then_parent_returns_every_frame(struct ktest *t)
{
	destroy_in_order(t, false);
}

MM_CASE(fork_unshare_out_of_memory_fails_cleanly_everywhere)
{
	struct mm_struct *child;
	struct vm_area_struct *v;
	pte_t orig;

	if (!setup(t, mm) || !(child = fork_or_fail(t, mm)))
		return;
	orig = pde_of(mm, BASE);
	pmm_fail_next(1);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_OOM);
	pmm_fail_next(1);
	KEXPECT_EQ(t, do_munmap(child, BASE + P, P), -ENOMEM);
	pmm_fail_next(1);
	KEXPECT_EQ(t, do_mprotect(child, BASE + P, P, PROT_READ), -ENOMEM);
	pmm_fail_next(1);
	KEXPECT_EQ(t, do_mprotect(child, BASE, SPAN, PROT_READ), -ENOMEM);
	pmm_fail_next(1);
	KEXPECT_EQ(t, do_madvise(child, BASE + P, P, MADV_DONTNEED), -ENOMEM);
	pmm_fail_next(0);
	v = vma_lookup(child, BASE);
	KEXPECT_TRUE(t, v && v->vm_start == BASE && v->vm_end == BASE + NPAGES * P &&
			(v->vm_flags & VM_WRITE));
	/* mremap splits the VMA at 2 MiB first (harmless: equal halves). */
	pmm_fail_next(1);
	KEXPECT_LT(t, do_mremap(child, BASE, SPAN, SPAN, MREMAP_MAYMOVE | MREMAP_FIXED, FAR), 0);
	pmm_fail_next(0);
	KEXPECT_EQ(t, vma_lookup(child, FAR), NULL);
	/* Nothing changed: one table, shared, the data. */
	KEXPECT_EQ(t, pde_of(mm, BASE), orig);
	KEXPECT_EQ(t, pde_of(child, BASE), orig);
	KEXPECT_EQ(t, table_refs(orig), 2);
	KEXPECT_EQ(t, frame_refs(mm, BASE + P), 1);
	KEXPECT_TRUE(t, reads_original(child, BASE, BASE + NPAGES * P));
	KEXPECT_TRUE(t, reads_original(mm, BASE, BASE + NPAGES * P));
	KEXPECT_EQ(t, ktest_put_word(mm, BASE, 5), 0); /* and with memory it works */
	KEXPECT_EQ(t, ktest_get_word(child, BASE), word_for(BASE));
	end_child(mm, child);
}

MM_CASE(fork_of_fork_shares_one_table_three_ways)
{
	struct mm_struct *child, *grandchild;
	pte_t orig;

	if (!setup(t, mm) || !(child = fork_or_fail(t, mm)))
		return;
	orig = pde_of(mm, BASE);
	grandchild = mm_fork(child);
	if (!grandchild) {
		ktest_fail(t, __FILE__, __LINE__, "second mm_fork() returned NULL");
		end_child(mm, child);
		return;
	}
	KEXPECT_EQ(t, pde_of(grandchild, BASE), orig);
	KEXPECT_EQ(t, table_refs(orig), 3);
	KEXPECT_EQ(t, ktest_put_word(child, BASE, 0xc1), 0);
	KEXPECT_EQ(t, table_refs(orig), 2);
	KEXPECT_EQ(t, frame_refs(mm, BASE + P), 2);
	KEXPECT_EQ(t, ktest_put_word(grandchild, BASE + P, 0xc2), 0);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE), word_for(BASE));
	KEXPECT_EQ(t, ktest_get_word(mm, BASE + P), word_for(BASE + P));
	KEXPECT_EQ(t, ktest_get_word(child, BASE + P), word_for(BASE + P));
	KEXPECT_EQ(t, ktest_get_word(grandchild, BASE), word_for(BASE));
	KEXPECT_EQ(t, ktest_get_word(child, BASE), 0xc1);
	KEXPECT_EQ(t, ktest_get_word(grandchild, BASE + P), 0xc2);
	mm_switch(mm);
	mm_destroy(grandchild);
	KEXPECT_TRUE(t, reads_original(mm, BASE, BASE + NPAGES * P));
	end_child(mm, child);
}

/* A fork that runs out of memory after sharing some tables gives every
 * reference back: the parent's tables are its own again on its next
 * write, its data and frame counts as before, and nothing leaks. */
MM_CASE(fork_out_of_memory_after_sharing_returns_the_tables)
{
	struct mm_struct *child = NULL;
	unsigned int k, after_sharing = 0;

	/* A page far away, copied after the tables were shared: its own
	 * PDPT, PD and PT are allocation points that come later. */
	if (!setup(t, mm) || do_mmap(mm, FAR, P, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) != (long)FAR)
		return;
	KASSERT_EQ(t, ktest_put_word(mm, FAR, 0x99), 0);
	pt_share_set_enabled(true);
	for (k = 0; k < 64; k++) {
		uint64_t before = ktest_free_frames();
		pmm_fail_after(k);
		child = mm_fork(mm);
		pmm_fail_after(PMM_NO_FAIL);
		if (child)
			break;
		KEXPECT_EQ(t, ktest_free_frames(), before);
		after_sharing += pt_pde_shared(pde_of(mm, BASE));
		KEXPECT_TRUE(t, !pt_pde_shared(pde_of(mm, BASE)) || table_refs(pde_of(mm, BASE)) == 1);
		KEXPECT_EQ(t, frame_refs(mm, BASE + P), 1);
		KEXPECT_EQ(t, frame_refs(mm, FAR), 1);
	}
	ktest_log(t, "mm_fork failed cleanly at %u allocation points, %u after sharing", k,
		  after_sharing);
	KEXPECT_GT(t, after_sharing, 0);
	KASSERT_NOT_NULL(t, child);
	KEXPECT_EQ(t, table_refs(pde_of(mm, BASE)), 2);
	end_child(mm, child);
	KEXPECT_EQ(t, ktest_put_word(mm, BASE + P, 0x66), 0);
	KEXPECT_EQ(t, frame_refs(mm, BASE + P), 1);
	KEXPECT_TRUE(t, reads_original(mm, BASE + SPAN, BASE + 2 * SPAN));
}

/* The walker unshares for callers that did not: pt_map() into an empty
 * entry, pt_set_leaf() over a full one. */
MM_CASE(pt_map_and_set_leaf_unshare_a_shared_table_themselves)
{
	struct mm_struct *child;
	struct page *p = NULL;
	uintptr_t hole = BASE + 100 * P;

	if (!setup(t, mm))
		return;
	KASSERT_EQ(t, do_madvise(mm, hole, P, MADV_DONTNEED), 0);
	if (!(child = fork_or_fail(t, mm)))
		return;
	KASSERT_NOT_NULL(t, p = alloc_page(GFP_KERNEL | __GFP_ZERO));
	KEXPECT_EQ(t, mm_install_page(child, hole, p, vma_lookup(child, hole)->vm_page_prot), 0);
	KEXPECT_EQ(t, pte_of(mm, hole), 0);
	KEXPECT_NE(t, pte_of(child, hole), 0);
	KEXPECT_TRUE(t, pt_pde_shared(pde_of(mm, BASE))); /* the parent's alone now */
	KEXPECT_EQ(t, pt_set_leaf(mm->pgd, BASE + SPAN, pte_of(mm, BASE + SPAN + P)), 0);
	KEXPECT_EQ(t, ktest_get_word(mm, BASE + SPAN), word_for(BASE + SPAN + P));
	KEXPECT_EQ(t, ktest_get_word(child, BASE + SPAN), word_for(BASE + SPAN));
	KEXPECT_EQ(t, pt_set_leaf(mm->pgd, BASE + SPAN, pte_of(child, BASE + SPAN)), 0);
	end_child(mm, child);
}

static const struct ktest_case pt_share_cases[] = {
	KTEST_CASE(fork_shares_last_level_tables_read_only_without_frame_refs),
	KTEST_CASE(fork_share_off_copies_tables_as_before),
	KTEST_CASE(fork_write_unshares_once_per_side_and_isolates_data),
	KTEST_CASE(fork_child_write_first_unshares_child_only),
	KTEST_CASE(fork_munmap_in_child_leaves_parent_data),
	KTEST_CASE(fork_mprotect_in_child_leaves_parent_writable),
	KTEST_CASE(fork_mremap_in_child_moves_its_pages_only),
	KTEST_CASE(fork_madvise_dontneed_in_child_leaves_parent_data),
	KTEST_CASE(fork_fault_into_empty_entry_of_shared_table_stays_private),
	KTEST_CASE(fork_huge_pmd_leaf_is_not_shared_and_keeps_thp_cow),
	KTEST_CASE(fork_shared_anon_table_is_copied_not_shared),
	KTEST_CASE(fork_table_over_device_memory_is_copied_not_shared),
	KTEST_CASE(fork_destroy_parent_then_child_returns_every_frame),
	KTEST_CASE(fork_destroy_child_then_parent_returns_every_frame),
	KTEST_CASE(fork_unshare_out_of_memory_fails_cleanly_everywhere),
	KTEST_CASE(fork_of_fork_shares_one_table_three_ways),
	KTEST_CASE(fork_out_of_memory_after_sharing_returns_the_tables),
	KTEST_CASE(pt_map_and_set_leaf_unshare_a_shared_table_themselves),
};

KTEST_SUITE(pt_share, pt_share_cases);
