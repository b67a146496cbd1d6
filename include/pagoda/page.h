/* Frame descriptors: one struct page per frame of RAM (mm/page.c).
 *
 * Descriptors are allocated per RAM range ("section"), so a hole in the
 * physical address space (the PCI hole below 4 GiB, or a terabyte gap)
 * costs nothing. A PFN that is not RAM has no descriptor: pfn_to_page()
 * returns NULL for it. That is also why device memory mapped by
 * remap_pfn_range() is never reference counted: there is nothing to count.
 *
 * Most descriptors of a large machine are written after boot
 * (include/pagoda/pmm_deferred.h): the descriptor of a free frame in a
 * deferred block holds garbage until the allocator initialises the block,
 * and nothing but the allocator may look at it before then.
 *
 * 32 bytes each (checked at compile time): 0.78% of RAM. */
#ifndef PAGODA_PAGE_H
#define PAGODA_PAGE_H

#include <pagoda/layout.h>
#include <pagoda/list.h>
#include <pagoda/types.h>

/* page->flags */
#define PG_reserved (1U << 0) /* never handed out: kernel, boot data, memmap= */
#define PG_buddy (1U << 1)    /* the head of a free block in a buddy free list */
#define PG_slab (1U << 2)     /* a kmalloc slab (mm/slab.c) */
#define PG_head (1U << 3)     /* the head of an allocated block of order > 0 */
#define PG_thp (1U << 4)      /* with PG_head: a transparent huge page (mm/thp.c) */
#define PG_tail (1U << 5)     /* a tail of a transparent huge page: ->private is
			       * its head, which holds the reference count */
#define PG_pcp (1U << 6)      /* free, on a CPU's list of order-0 frames (mm/pmm.c) */
#define PG_cache (1U << 7)    /* in a page cache, which holds one reference (mm/filemap.c) */
#define PG_pgshared (1U << 8) /* a page table fork shared (mm/pt_share.c): its
			       * refcount counts the mms that point at it */

struct page {
	struct list_head lru; /* free list (PG_buddy), slab list (PG_slab) */
	uint32_t refcount;    /* 0 when free */
	uint16_t flags;
	uint8_t order;        /* the block's order while PG_buddy or PG_head */
	uint8_t zone;         /* enum zone_type */
	union {
		void *freelist;   /* PG_slab: first free object */
		uint64_t private; /* free for the owner's use */
	};
};

/* The descriptor that holds p's reference count: the head for a tail of
 * a transparent huge page, p itself for any other. */
static inline struct page *compound_head(struct page *p)
{
	return (p->flags & PG_tail) ? (struct page *)(uintptr_t)p->private : p;
}

/* A run of RAM with descriptors: PFNs [start, end). */
struct mem_section {
	pfn_t start, end;
	struct page *pages;
};

#define MAX_SECTIONS 64
extern struct mem_section mem_sections[MAX_SECTIONS];
extern unsigned int nr_mem_sections;

/* The descriptor of pfn, or NULL if pfn is not RAM. */
struct page *pfn_to_page(pfn_t pfn);
pfn_t page_to_pfn(const struct page *page);

static inline phys_addr_t page_to_phys(const struct page *page)
{
	return pfn_to_phys(page_to_pfn(page));
}

/* Where the direct map shows the frame's memory. */
static inline void *page_address(const struct page *page)
{
	return phys_to_virt(page_to_phys(page));
}

static inline struct page *virt_to_page(const void *va)
{
	return pfn_to_page(phys_to_pfn(virt_to_phys(va)));
}

/* Allocate the descriptors for every memblock memory range (from memblock),
 * uninitialised. Returns 0 or -ENOMEM. */
int page_init_sections(void);

/* Initialise the descriptors of PFNs [start, end), which lie in one
 * section: no list, no reference, these flags, this zone. Until it has
 * been called for a frame, the frame's descriptor holds whatever the RAM
 * held: pmm_init() calls it for the frames early boot needs and
 * mm/pmm_deferred.c for the rest, before any of them is handed out. */
void page_init_descriptors(pfn_t start, pfn_t end, uint16_t flags, uint8_t zone);

/* Bytes spent on descriptors, for the boot log and the tests. */
uint64_t page_descriptor_bytes(void);

#endif
