/* Tests that page-table changes reach the TLB (mm/pgtable.c): each case
 * maps frames into the active address space, reads through the mapping
 * so that the CPU caches the translation, changes the mapping, and reads
 * again: it must see the new frame, not the one the TLB remembered.
 *
 * A walker that forgot to flush passes every other test: the tables say
 * the right thing, only the CPU does not look at them. Under QEMU (TCG)
 * a stale entry stays until it is flushed or evicted, so these reads do
 * see it; the cases touch few enough pages that nothing is evicted. */
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/string.h>
#include <pagoda/uaccess.h>

#define VA 0x0000100000000000UL /* 16 TiB: no VMA, nothing else maps here */
#define MAX_PAGES (PT_FLUSH_THRESHOLD + 1)

/* Frames old[i] and new[i], each filled with a word naming it. */
struct frames {
	struct page *old[MAX_PAGES], *new[MAX_PAGES];
	unsigned int n;
};

static uint64_t tag(unsigned int i, bool is_new) { return 0x7e57000000000000ULL | i << 1 | is_new; }

static bool frames_alloc(struct ktest *t, struct frames *f, unsigned int n)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	for (unsigned int i = 0; i < n; i++) {
		f->old[i] = alloc_page(GFP_KERNEL);
		f->new[i] = alloc_page(GFP_KERNEL);
		if (!f->old[i] || !f->new[i]) {
			ktest_fail(t, __FILE__, __LINE__, "out of frames");
			return false;
		}
		*(uint64_t *)page_address(f->old[i]) = tag(i, false);
		*(uint64_t *)page_address(f->new[i]) = tag(i, true);
	}
	return true;
}

static void frames_free(struct mm_struct *mm, struct frames *f)
{
	pt_unmap(mm->pgd, VA, (uint64_t)f->n * PAGE_SIZE, NULL, NULL);
	for (unsigned int i = 0; i < f->n; i++) {
		if (f->old[i])
			free_pages(f->old[i], 0);
		if (f->new[i])
			free_pages(f->new[i], 0);
	}
}

/* The word at the start of page i, read through the active mapping. */
static uint64_t read_page(unsigned int i)
{
	uint64_t v = 0;

	if (copy_from_user(&v, (const void *)(VA + (uintptr_t)i * PAGE_SIZE), sizeof(v)) < 0)
		return 0xbadbadbadULL;
	return v;
}

/* Map the old frames and read each once: the TLB now holds them. */
static bool map_old_and_read(struct ktest *t, struct mm_struct *mm, struct frames *f)
{
	pgprot_t prot = vm_get_page_prot(VM_READ | VM_WRITE);

	for (unsigned int i = 0; i < f->n; i++)
		if (pt_map(mm->pgd, VA + (uintptr_t)i * PAGE_SIZE, page_to_phys(f->old[i]), PAGE_SIZE,
			   prot, 0) < 0) {
			ktest_fail(t, __FILE__, __LINE__, "cannot map page %u", i);
			return false;
		}
	for (unsigned int i = 0; i < f->n; i++)
		if (read_page(i) != tag(i, false)) {
			ktest_fail(t, __FILE__, __LINE__, "page %u does not read its frame", i);
			return false;
		}
	return true;
}

/* The leaf entry for va in the tables at root, written behind the API's
 * back (as another CPU's walker or a buggy path would). */
static pte_t *leaf_of(phys_addr_t root, uintptr_t va)
{
	pte_t *table = phys_to_virt(root);

	for (unsigned int level = PT_LEVELS - 1; level > 0; level--) {
		pte_t e = table[(va >> (12 + 9 * level)) & (PT_ENTRIES - 1)];
		if (!(e & PTE_PRESENT) || (e & PTE_PS))
			return NULL;
		table = phys_to_virt(e & PTE_ADDR_MASK);
	}
	return &table[(va >> 12) & (PT_ENTRIES - 1)];
}

MM_CASE(tlb_set_leaf_makes_the_new_frame_visible)
{
	struct frames f;
	pte_t *e;

	if (frames_alloc(t, &f, 1) && map_old_and_read(t, mm, &f)) {
		e = leaf_of(mm->pgd, VA);
		KASSERT_NOT_NULL(t, e);
		KEXPECT_EQ(t, pt_set_leaf(mm->pgd, VA, page_to_phys(f.new[0]) | (*e & ~PTE_ADDR_MASK)),
			   0);
		KEXPECT_EQ(t, read_page(0), tag(0, true));
	}
	frames_free(mm, &f);
}

/* Point n mapped pages at their new frames behind the walker's back, then
 * flush the range: every page must read its new frame. */
static void expect_flush_range_reaches(struct ktest *t, struct mm_struct *mm, unsigned int n)
{
	struct frames f;

	if (frames_alloc(t, &f, n) && map_old_and_read(t, mm, &f)) {
		for (unsigned int i = 0; i < n; i++) {
			pte_t *e = leaf_of(mm->pgd, VA + (uintptr_t)i * PAGE_SIZE);
			KASSERT_NOT_NULL(t, e);
			*e = page_to_phys(f.new[i]) | (*e & ~PTE_ADDR_MASK);
		}
		pt_flush_range(VA, (uint64_t)n * PAGE_SIZE);
		for (unsigned int i = 0; i < n; i++)
			KEXPECT_EQ(t, read_page(i), tag(i, true));
	}
	frames_free(mm, &f);
}

/* Up to PT_FLUSH_THRESHOLD pages, one invlpg each. */
MM_CASE(tlb_flush_range_of_a_few_pages_drops_each_stale_entry)
{
	expect_flush_range_reaches(t, mm, 4);
}

/* Beyond it, the whole TLB is flushed (CR3 reload). */
MM_CASE(tlb_flush_range_beyond_the_threshold_drops_every_stale_entry)
{
	expect_flush_range_reaches(t, mm, PT_FLUSH_THRESHOLD + 1);
}

static const struct ktest_case tlb_cases[] = {
	KTEST_CASE(tlb_set_leaf_makes_the_new_frame_visible),
	KTEST_CASE(tlb_flush_range_of_a_few_pages_drops_each_stale_entry),
	KTEST_CASE(tlb_flush_range_beyond_the_threshold_drops_every_stale_entry),
};
KTEST_SUITE(tlb, tlb_cases);
