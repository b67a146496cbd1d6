/* Tests of deferred frame-descriptor initialisation: what the boot left
 * for later, a deferred block counted free all along, its descriptors
 * written before any of its frames is handed out, an allocation that
 * finds its zone empty initialising one, and nothing left once
 * pmm_deferred_wait() returns. A block is made deferred again with the
 * test hook pmm_deferred_return_block(), which fills its descriptors with
 * garbage as RAM at boot holds. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/list.h>
#include <pagoda/pmm.h>
#include <pagoda/pmm_deferred.h>
#include <pagoda/slab.h>

#define BLOCK_PAGES (1ULL << MAX_ORDER)

/* Every descriptor of the free block at pfn as a fresh one: the head on
 * a free list with PG_buddy and MAX_ORDER, the others with nothing set;
 * none referenced, all in the block's zone. */
static void expect_fresh_free_block(struct ktest *t, pfn_t pfn)
{
	struct page *p = pfn_to_page(pfn);
	unsigned int bad = 0;

	KEXPECT_EQ(t, p->flags, PG_buddy);
	KEXPECT_EQ(t, p->order, MAX_ORDER);
	for (pfn_t i = 0; i < BLOCK_PAGES; i++)
		bad += p[i].refcount != 0 || p[i].zone != pfn_zone(pfn + i) ||
		       (i && (p[i].flags != 0 || p[i].lru.next != &p[i].lru));
	KEXPECT_EQ(t, bad, 0);
}

static void pmm_deferred_boot_left_most_frames_for_later(struct ktest *t)
{
	struct pmm_deferred_stats st;
	uint64_t total = pmm_total_pages();

	if (total < (512ULL << 20) / PAGE_SIZE) {
		ktest_skip(t, "less than 512 MiB of RAM: the eager part is most of it");
		return;
	}
	pmm_deferred_get_stats(&st);
	/* Beyond 64 MiB a zone and the partly free blocks, all of it. */
	KEXPECT_GE(t, st.blocks_total * BLOCK_PAGES, total / 2);
	ktest_log(t, "%llu of %llu MiB deferred at boot", (unsigned long long)(st.blocks_total * 4),
		  (unsigned long long)(total >> 8));
}

static void pmm_deferred_block_is_free_before_and_after_its_init(struct ktest *t)
{
	struct page *head = alloc_pages(GFP_KERNEL, MAX_ORDER);
	uint64_t free_before, total = pmm_total_pages();
	pfn_t pfn;

	KASSERT_NOT_NULL(t, head);
	pfn = page_to_pfn(head);
	free_before = pmm_free_pages();
	KASSERT_EQ(t, pmm_deferred_return_block(head), 0);
	KEXPECT_EQ(t, pmm_free_pages(), free_before + BLOCK_PAGES);
	pmm_deferred_wait();
	KEXPECT_EQ(t, pmm_deferred_blocks_left(), 0);
	KEXPECT_EQ(t, pmm_free_pages(), free_before + BLOCK_PAGES);
	KEXPECT_EQ(t, pmm_total_pages(), total);
	expect_fresh_free_block(t, pfn);
}

/* Hold every free frame of ZONE_DMA, chained through their descriptors. */
static void hold_zone_dma(struct list_head *held)
{
	struct page *p;

	while ((p = alloc_pages(GFP_DMA | __GFP_NOWARN, 0)))
		list_add(&p->lru, held);
}

static void free_held(struct list_head *held)
{
	struct list_head *pos, *n;

	list_for_each_safe(pos, n, held) {
		struct page *p = list_entry(pos, struct page, lru);
		list_del(&p->lru);
		free_pages(p, p->order);
	}
}

/* ZONE_DMA is small enough to empty: with nothing free there but one
 * deferred block, and the idle CPUs kept out, a GFP_DMA allocation must
 * initialise the block itself and hand out one of its frames. */
static void pmm_deferred_alloc_in_an_empty_zone_initialises_a_block(struct ktest *t)
{
	struct list_head held = LIST_HEAD_INIT(held);
	bool poison = pmm_set_poison(false), idle;
	struct pmm_deferred_stats st0, st1;
	struct page *block, *p;
	uint64_t free_before;
	pfn_t pfn;

	pmm_deferred_wait();
	kmalloc_shrink();
	free_before = pmm_free_pages();
	block = alloc_pages(GFP_DMA, MAX_ORDER);
	if (!block) {
		pmm_set_poison(poison);
		ktest_skip(t, "no free 4 MiB block in ZONE_DMA");
		return;
	}
	pfn = page_to_pfn(block);
	idle = pmm_deferred_set_idle(false);
	hold_zone_dma(&held);
	KEXPECT_EQ(t, pmm_deferred_return_block(block), 0);
	pmm_deferred_get_stats(&st0);
	p = alloc_page(GFP_DMA);
	pmm_deferred_get_stats(&st1);
	pmm_deferred_set_idle(idle);
	KEXPECT_NOT_NULL(t, p);
	if (p) {
		KEXPECT_GE(t, page_to_pfn(p), pfn);
		KEXPECT_LT(t, page_to_pfn(p), pfn + BLOCK_PAGES);
		KEXPECT_EQ(t, p->refcount, 1);
		KEXPECT_EQ(t, p->flags, 0);
		KEXPECT_EQ(t, st1.by_grow, st0.by_grow + 1);
		list_add(&p->lru, &held);
	}
	free_held(&held);
	pmm_set_poison(poison);
	KEXPECT_EQ(t, pmm_free_pages(), free_before);
}

static void pmm_deferred_blocks_are_known_until_initialised(struct ktest *t)
{
	struct page *head = alloc_pages(GFP_KERNEL, MAX_ORDER);
	bool idle;
	pfn_t pfn;

	KASSERT_NOT_NULL(t, head);
	pfn = page_to_pfn(head);
	pmm_deferred_wait();
	KEXPECT_FALSE(t, pmm_deferred_overlaps(pfn, MAX_ORDER));
	idle = pmm_deferred_set_idle(false);
	KEXPECT_EQ(t, pmm_deferred_return_block(head), 0);
	KEXPECT_TRUE(t, pmm_deferred_overlaps(pfn, 0));
	KEXPECT_TRUE(t, pmm_deferred_overlaps(pfn + BLOCK_PAGES - 1, 0));
	KEXPECT_TRUE(t, pmm_deferred_overlaps(pfn & ~(pfn_t)((1ULL << 4) - 1), 4));
	KEXPECT_FALSE(t, pmm_deferred_overlaps(pfn + BLOCK_PAGES, 0));
	KEXPECT_FALSE(t, pmm_deferred_overlaps(pfn - 1, 0));
	KEXPECT_EQ(t, pmm_deferred_blocks_left(), 1);
	pmm_deferred_set_idle(idle);
	pmm_deferred_wait();
	KEXPECT_FALSE(t, pmm_deferred_overlaps(pfn, MAX_ORDER));
}

/* Once pmm_deferred_wait() returns, every free frame is on a list: the
 * free count is exactly what the buddy lists and the CPUs' lists hold. */
static void pmm_deferred_wait_leaves_every_free_frame_on_a_list(struct ktest *t)
{
	uint64_t on_lists = 0;

	pmm_deferred_wait();
	pmm_drain_all();
	for (unsigned int z = 0; z < NR_ZONES; z++) {
		KEXPECT_EQ(t, zones[z].deferred_pages, 0);
		for (unsigned int o = 0; o <= MAX_ORDER; o++)
			on_lists += pmm_zone_free_blocks(z, o) << o;
	}
	KEXPECT_EQ(t, pmm_deferred_blocks_left(), 0);
	KEXPECT_EQ(t, on_lists, pmm_free_pages());
}

static void pmm_deferred_return_block_refuses_other_blocks(struct ktest *t)
{
	struct page *small = alloc_pages(GFP_KERNEL, MAX_ORDER - 1);

	KASSERT_NOT_NULL(t, small);
	KEXPECT_EQ(t, pmm_deferred_return_block(small), -EINVAL);
	KEXPECT_EQ(t, pmm_deferred_return_block(NULL), -EINVAL);
	KEXPECT_EQ(t, free_pages(small, MAX_ORDER - 1), 0);
}

static const struct ktest_case pmm_deferred_cases[] = {
	KTEST_CASE(pmm_deferred_boot_left_most_frames_for_later),
	KTEST_CASE(pmm_deferred_block_is_free_before_and_after_its_init),
	KTEST_CASE(pmm_deferred_alloc_in_an_empty_zone_initialises_a_block),
	KTEST_CASE(pmm_deferred_blocks_are_known_until_initialised),
	KTEST_CASE(pmm_deferred_wait_leaves_every_free_frame_on_a_list),
	KTEST_CASE(pmm_deferred_return_block_refuses_other_blocks),
};
KTEST_SUITE(pmm_deferred, pmm_deferred_cases);
