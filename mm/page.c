/* Frame descriptors, one array per run of RAM (see include/pagoda/page.h). */
#include <pagoda/errno.h>
#include <pagoda/memblock.h>
#include <pagoda/page.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>

BUILD_BUG_ON(sizeof(struct page) != 32);

struct mem_section mem_sections[MAX_SECTIONS];
unsigned int nr_mem_sections;

/* Binary search: sections are sorted and disjoint. The last section
 * found is tried first: walks over a range stay in one section. */
static struct mem_section *pfn_section(pfn_t pfn)
{
	static struct mem_section *last;
	unsigned int lo = 0, hi = nr_mem_sections;

	if (last && pfn >= last->start && pfn < last->end)
		return last;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		struct mem_section *s = &mem_sections[mid];
		if (pfn < s->start)
			hi = mid;
		else if (pfn >= s->end)
			lo = mid + 1;
		else
			return last = s;
	}
	return NULL;
}

struct page *pfn_to_page(pfn_t pfn)
{
	struct mem_section *s = pfn_section(pfn);

	return s ? &s->pages[pfn - s->start] : NULL;
}

pfn_t page_to_pfn(const struct page *page)
{
	for (unsigned int i = 0; i < nr_mem_sections; i++) {
		struct mem_section *s = &mem_sections[i];
		if (page >= s->pages && page < s->pages + (s->end - s->start))
			return s->start + (pfn_t)(page - s->pages);
	}
	return (pfn_t)-1;
}

uint64_t page_descriptor_bytes(void)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < nr_mem_sections; i++)
		n += (mem_sections[i].end - mem_sections[i].start) * sizeof(struct page);
	return n;
}

/* Descriptors for one range, from memblock (any address: the direct map
 * exists by now). They are not initialised here: pmm_init() initialises
 * those of the frames early boot needs, mm/pmm_deferred.c the others. */
static int section_init(struct mem_section *s, pfn_t start, pfn_t end)
{
	uint64_t bytes = (end - start) * sizeof(struct page);
	phys_addr_t pa = memblock_alloc(ALIGN_UP(bytes, PAGE_SIZE), PAGE_SIZE, UINT64_MAX);

	if (!pa)
		return -ENOMEM;
	s->start = start;
	s->end = end;
	s->pages = phys_to_virt(pa);
	return 0;
}

/* One loop writing each descriptor whole: four 8-byte stores a frame, where
 * memset() and then a second pass over the same 32 bytes cost twice as
 * many (and rep stosb is one byte per step under QEMU's emulation). */
void page_init_descriptors(pfn_t start, pfn_t end, uint16_t flags, uint8_t zone)
{
	struct page *p = pfn_to_page(start);

	if (!p || start >= end)
		return;
	for (pfn_t n = end - start; n; n--, p++)
		*p = (struct page){ .lru = { &p->lru, &p->lru }, .flags = flags, .zone = zone };
}

int page_init_sections(void)
{
	/* Snapshot first: allocating descriptors changes memblock_reserved, not
	 * memblock_memory, so the ranges are stable. */
	for (unsigned int i = 0; i < memblock_memory.nr; i++) {
		const struct memblock_range *r = &memblock_memory.r[i];
		if (nr_mem_sections == MAX_SECTIONS) {
			pr_warn("page: more than %d RAM ranges; RAM from %#llx unused\n",
				MAX_SECTIONS, (unsigned long long)r->base);
			break;
		}
		if (section_init(&mem_sections[nr_mem_sections], phys_to_pfn(r->base),
				 phys_to_pfn(r->end)) < 0)
			return -ENOMEM;
		nr_mem_sections++;
	}
	return 0;
}
