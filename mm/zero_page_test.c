/* Tests of the shared zero page (mm/zero_page.c, mm/fault.c): a read
 * fault maps it and allocates no frame, a write replaces it, and fork,
 * munmap, mprotect, mremap and madvise treat its entries as entries of no
 * frame of the process (no reference taken or dropped, never writable,
 * never freed). Each case also checks that the page is still all zeroes
 * and that its frame's descriptor was never counted. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/rss.h>
#include <pagoda/uaccess.h>
#include <pagoda/vma.h>
#include <pagoda/zero_page.h>

#define BASE 0x0000100000000000UL
#define P PAGE_SIZE
#define NPAGES 64

static long map_anon(struct mm_struct *mm, uintptr_t addr, size_t len, int prot)
{
	return do_mmap(mm, addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
}

static pte_t pte_of(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0 ? r.pte : 0;
}

static bool maps_zero_page(struct mm_struct *mm, uintptr_t va)
{
	pte_t e = pte_of(mm, va);

	return is_zero_pte(e) && !(e & PTE_WRITE) && (e & PTE_COW) && (e & PTE_USER);
}

static bool zero_page_intact(void)
{
	const struct page *d = pfn_to_page(phys_to_pfn(zero_page_phys()));

	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (empty_zero_page[i])
			return false;
	return d && (d->flags & PG_reserved) && !(d->flags & PG_buddy);
}

/* Read one byte of every page of [BASE, BASE + n pages) through uaccess. */
static int read_pages(struct mm_struct *mm, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint8_t b = 0xff;
		if (copy_from_user(&b, (const void *)(BASE + i * P + 7), 1) < 0 || b != 0)
			return -1;
	}
	return 0;
}

MM_CASE(zero_page_read_faults_map_it_and_allocate_only_tables)
{
	uint64_t frames, tables;
	const struct page *d = pfn_to_page(phys_to_pfn(zero_page_phys()));
	uint32_t refs = d->refcount;
	struct mm_rss rss;

	KASSERT_EQ(t, map_anon(mm, BASE, NPAGES * P, PROT_READ | PROT_WRITE), (long)BASE);
	frames = ktest_free_frames();
	tables = pt_table_pages();
	KEXPECT_EQ(t, read_pages(mm, NPAGES), 0);
	for (unsigned int i = 0; i < NPAGES; i++)
		KEXPECT_TRUE(t, maps_zero_page(mm, BASE + i * P));
	KEXPECT_EQ(t, frames - ktest_free_frames(), pt_table_pages() - tables);
	KEXPECT_EQ(t, d->refcount, refs);
	mm_rss_count(mm, &rss);
	KEXPECT_EQ(t, mm_rss_total(&rss), 0);
	KEXPECT_TRUE(t, zero_page_intact());
}

MM_CASE(zero_page_write_after_read_gets_a_zeroed_frame_of_its_own)
{
	uint64_t v = 0x1122334455667788ULL, back = 0, frames;
	pte_t e;

	KASSERT_EQ(t, map_anon(mm, BASE, 4 * P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, read_pages(mm, 4), 0);
	frames = ktest_free_frames();
	KEXPECT_EQ(t, copy_to_user((void *)(BASE + P + 16), &v, sizeof(v)), 0);
	KEXPECT_EQ(t, frames - ktest_free_frames(), 1);
	e = pte_of(mm, BASE + P);
	KEXPECT_FALSE(t, is_zero_pte(e));
	KEXPECT_TRUE(t, e & PTE_WRITE);
	KEXPECT_FALSE(t, e & (PTE_COW | PTE_SPECIAL));
	KEXPECT_EQ(t, pfn_to_page(phys_to_pfn(e & PTE_ADDR_MASK))->refcount, 1);
	KEXPECT_EQ(t, copy_from_user(&back, (const void *)(BASE + P + 16), sizeof(back)), 0);
	KEXPECT_EQ(t, back, v);
	KEXPECT_EQ(t, copy_from_user(&back, (const void *)(BASE + P + 8), sizeof(back)), 0);
	KEXPECT_EQ(t, back, 0);
	KEXPECT_TRUE(t, maps_zero_page(mm, BASE));
	KEXPECT_TRUE(t, maps_zero_page(mm, BASE + 2 * P));
	KEXPECT_TRUE(t, zero_page_intact());
}

/* Out of memory at the write: the entry stays the zero page. */
MM_CASE(zero_page_write_under_oom_keeps_the_zero_mapping)
{
	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, 0), VM_FAULT_OK);
	pmm_fail_next(1);
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_OOM);
	pmm_fail_next(0);
	KEXPECT_TRUE(t, maps_zero_page(mm, BASE));
	KEXPECT_EQ(t, handle_mm_fault(mm, BASE, FAULT_FLAG_WRITE), VM_FAULT_OK);
	KEXPECT_FALSE(t, is_zero_pte(pte_of(mm, BASE)));
}

/* Shared anonymous memory is never the zero page: both sides of a fork
 * must see one frame. */
MM_CASE(zero_page_never_backs_shared_memory)
{
	KASSERT_EQ(t, do_mmap(mm, BASE, P, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)BASE);
	KEXPECT_EQ(t, read_pages(mm, 1), 0);
	KEXPECT_FALSE(t, is_zero_pte(pte_of(mm, BASE)));
}

MM_CASE(zero_page_fork_shares_entries_and_takes_no_reference)
{
	const struct page *d = pfn_to_page(phys_to_pfn(zero_page_phys()));
	uint32_t refs = d->refcount;
	struct mm_struct *child;
	uint64_t v = 99;

	KASSERT_EQ(t, map_anon(mm, BASE, 4 * P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, read_pages(mm, 4), 0);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	for (unsigned int i = 0; i < 4; i++)
		KEXPECT_TRUE(t, maps_zero_page(child, BASE + i * P));
	KEXPECT_EQ(t, d->refcount, refs);
	mm_switch(child);
	KEXPECT_EQ(t, copy_to_user((void *)(BASE + 8), &v, sizeof(v)), 0);
	mm_switch(mm);
	KEXPECT_TRUE(t, maps_zero_page(mm, BASE));
	KEXPECT_EQ(t, read_pages(mm, 4), 0);
	mm_destroy(child);
	KEXPECT_EQ(t, d->refcount, refs);
	KEXPECT_TRUE(t, zero_page_intact());
}

/* munmap and MADV_DONTNEED drop the entries; the page itself is never
 * given to the allocator (the leak check of the case would see a frame
 * too many, the intact check a free one). */
MM_CASE(zero_page_munmap_and_dontneed_never_free_it)
{
	uint64_t frames;

	KASSERT_EQ(t, map_anon(mm, BASE, 8 * P, PROT_READ | PROT_WRITE), (long)BASE);
	frames = ktest_free_frames();
	KEXPECT_EQ(t, read_pages(mm, 8), 0);
	KEXPECT_EQ(t, do_madvise(mm, BASE, 4 * P, MADV_DONTNEED), 0);
	KEXPECT_EQ(t, pte_of(mm, BASE), 0);
	KEXPECT_TRUE(t, maps_zero_page(mm, BASE + 4 * P));
	KEXPECT_EQ(t, do_munmap(mm, BASE, 8 * P), 0);
	KEXPECT_EQ(t, ktest_free_frames(), frames);
	KEXPECT_TRUE(t, zero_page_intact());
}

/* mprotect to writable must not make the shared page writable. */
MM_CASE(zero_page_stays_read_only_through_mprotect)
{
	uint64_t v = 5;

	KASSERT_EQ(t, map_anon(mm, BASE, 2 * P, PROT_READ), (long)BASE);
	KEXPECT_EQ(t, read_pages(mm, 2), 0);
	KEXPECT_TRUE(t, maps_zero_page(mm, BASE));
	KEXPECT_EQ(t, do_mprotect(mm, BASE, 2 * P, PROT_READ | PROT_WRITE), 0);
	KEXPECT_TRUE(t, maps_zero_page(mm, BASE));
	KEXPECT_TRUE(t, maps_zero_page(mm, BASE + P));
	KEXPECT_EQ(t, copy_to_user((void *)BASE, &v, sizeof(v)), 0);
	KEXPECT_FALSE(t, is_zero_pte(pte_of(mm, BASE)));
	KEXPECT_TRUE(t, maps_zero_page(mm, BASE + P));
	KEXPECT_EQ(t, do_mprotect(mm, BASE, 2 * P, PROT_NONE), 0);
	KEXPECT_TRUE(t, is_zero_pte(pte_of(mm, BASE + P)));
	KEXPECT_TRUE(t, zero_page_intact());
}

MM_CASE(zero_page_entries_move_with_mremap)
{
	long to;
	uint64_t v = 7;

	KASSERT_EQ(t, map_anon(mm, BASE, 2 * P, PROT_READ | PROT_WRITE), (long)BASE);
	KASSERT_EQ(t, map_anon(mm, BASE + 2 * P, P, PROT_READ), (long)(BASE + 2 * P));
	KEXPECT_EQ(t, read_pages(mm, 2), 0);
	to = do_mremap(mm, BASE, 2 * P, 4 * P, MREMAP_MAYMOVE, 0);
	KASSERT_GT(t, to, 0);
	KEXPECT_NE(t, to, (long)BASE);
	KEXPECT_TRUE(t, maps_zero_page(mm, to));
	KEXPECT_TRUE(t, maps_zero_page(mm, to + P));
	KEXPECT_EQ(t, copy_to_user((void *)(to + P), &v, sizeof(v)), 0);
	KEXPECT_FALSE(t, is_zero_pte(pte_of(mm, to + P)));
	KEXPECT_EQ(t, do_munmap(mm, to, 4 * P), 0);
	KEXPECT_TRUE(t, zero_page_intact());
}

/* The kernel reading untouched user memory (write(2) from a fresh
 * buffer) maps the zero page too: no frame per page read. */
MM_CASE(zero_page_backs_kernel_reads_of_untouched_memory)
{
	static uint8_t buf[4 * PAGE_SIZE];
	uint64_t frames, tables;

	KASSERT_EQ(t, map_anon(mm, BASE, 512 * P, PROT_READ | PROT_WRITE), (long)BASE);
	frames = ktest_free_frames();
	tables = pt_table_pages();
	for (unsigned int i = 0; i < 512; i += 4)
		KEXPECT_EQ(t, copy_from_user(buf, (const void *)(BASE + i * P), sizeof(buf)), 0);
	KEXPECT_EQ(t, frames - ktest_free_frames(), pt_table_pages() - tables);
	KEXPECT_LE(t, pt_table_pages() - tables, 3);
}

static const struct ktest_case zero_page_cases[] = {
	KTEST_CASE(zero_page_read_faults_map_it_and_allocate_only_tables),
	KTEST_CASE(zero_page_write_after_read_gets_a_zeroed_frame_of_its_own),
	KTEST_CASE(zero_page_write_under_oom_keeps_the_zero_mapping),
	KTEST_CASE(zero_page_never_backs_shared_memory),
	KTEST_CASE(zero_page_fork_shares_entries_and_takes_no_reference),
	KTEST_CASE(zero_page_munmap_and_dontneed_never_free_it),
	KTEST_CASE(zero_page_stays_read_only_through_mprotect),
	KTEST_CASE(zero_page_entries_move_with_mremap),
	KTEST_CASE(zero_page_backs_kernel_reads_of_untouched_memory),
};
KTEST_SUITE(zero_page, zero_page_cases);
