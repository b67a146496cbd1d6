/* memblock: sorted lists of physical ranges for the time before the buddy
 * allocator exists. See include/pagoda/memblock.h. */
#include <pagoda/cmdline.h>
#include <pagoda/errno.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <pagoda/multiboot2.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>

#define LOW_RESERVED_END 0x100000 /* BIOS data, real-mode IVT, EBDA, ROMs */

struct memblock_list memblock_memory, memblock_reserved, memblock_memmap;

static void remove_at(struct memblock_list *l, unsigned int i)
{
	memmove(&l->r[i], &l->r[i + 1], (l->nr - i - 1) * sizeof(l->r[0]));
	l->nr--;
}

int memblock_add(struct memblock_list *l, phys_addr_t base, uint64_t size)
{
	phys_addr_t end = base + size;
	unsigned int i = 0;

	if (end < base)
		return -EINVAL;
	if (!size)
		return 0;
	/* Absorb every range that overlaps or touches [base, end). */
	while (i < l->nr) {
		if (l->r[i].end < base || l->r[i].base > end) {
			i++;
			continue;
		}
		base = MIN(base, l->r[i].base);
		end = MAX(end, l->r[i].end);
		remove_at(l, i);
	}
	if (l->nr == MEMBLOCK_MAX)
		return -ENOSPC;
	for (i = 0; i < l->nr && l->r[i].base < base; i++)
		;
	memmove(&l->r[i + 1], &l->r[i], (l->nr - i) * sizeof(l->r[0]));
	l->r[i] = (struct memblock_range){ base, end };
	l->nr++;
	return 0;
}

int memblock_remove(struct memblock_list *l, phys_addr_t base, uint64_t size)
{
	phys_addr_t end = base + size;

	if (end < base)
		return -EINVAL;
	for (unsigned int i = 0; i < l->nr; i++) {
		struct memblock_range *r = &l->r[i];
		if (r->end <= base || r->base >= end)
			continue;
		if (r->base < base && r->end > end) { /* split in two */
			if (l->nr == MEMBLOCK_MAX)
				return -ENOSPC;
			memmove(&l->r[i + 1], &l->r[i], (l->nr - i) * sizeof(l->r[0]));
			l->nr++;
			l->r[i].end = base;
			l->r[i + 1].base = end;
			return 0;
		}
		if (r->base < base) {
			r->end = base;
		} else if (r->end > end) {
			r->base = end;
		} else {
			remove_at(l, i--);
		}
	}
	return 0;
}

bool memblock_overlaps(const struct memblock_list *l, phys_addr_t base, uint64_t size)
{
	for (unsigned int i = 0; i < l->nr; i++)
		if (l->r[i].base < base + size && base < l->r[i].end)
			return true;
	return false;
}

uint64_t memblock_total(const struct memblock_list *l)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < l->nr; i++)
		sum += l->r[i].end - l->r[i].base;
	return sum;
}

phys_addr_t memblock_alloc(uint64_t size, uint64_t align, phys_addr_t limit)
{
	static struct memblock_list free; /* memory minus reserved */

	free = memblock_memory;
	for (unsigned int i = 0; i < memblock_reserved.nr; i++)
		memblock_remove(&free, memblock_reserved.r[i].base,
				memblock_reserved.r[i].end - memblock_reserved.r[i].base);
	for (unsigned int i = free.nr; i-- > 0;) {
		phys_addr_t end = MIN(free.r[i].end, limit);
		if (end < size || end - size < free.r[i].base)
			continue;
		phys_addr_t pa = ALIGN_DOWN(end - size, align);
		if (pa < free.r[i].base || pa == 0)
			continue;
		if (memblock_add(&memblock_reserved, pa, size))
			return 0;
		return pa;
	}
	return 0;
}

phys_addr_t memblock_low_page(void)
{
	for (unsigned int i = memblock_memory.nr; i-- > 0;) {
		phys_addr_t end = MIN(memblock_memory.r[i].end, (phys_addr_t)LOW_RESERVED_END);
		phys_addr_t pa = ALIGN_DOWN(end, PAGE_SIZE) - PAGE_SIZE;
		if (end >= 2 * PAGE_SIZE && pa >= memblock_memory.r[i].base && pa >= PAGE_SIZE)
			return pa;
	}
	return 0;
}

/* memmap=SIZE$ADDR[,SIZE$ADDR...]: reserve [ADDR, ADDR + SIZE), as Linux
 * does (Documentation/admin-guide/kernel-parameters.txt): the range leaves
 * usable memory and becomes "Reserved". Page-aligned outward. */
static int parse_one_memmap(struct memblock_list *reserve, const char *s, const char **end)
{
	uint64_t size, addr;

	if (cmdline_parse_size(s, end, &size) < 0 || size == 0)
		return -EINVAL;
	if (**end != '$') /* SIZE@ADDR, SIZE#ADDR, SIZE!ADDR: not supported */
		return -EINVAL;
	if (cmdline_parse_size(*end + 1, end, &addr) < 0 || addr + size < addr)
		return -EINVAL;
	if (**end && **end != ',')
		return -EINVAL;
	phys_addr_t base = ALIGN_DOWN(addr, PAGE_SIZE);
	return memblock_add(reserve, base, ALIGN_UP(addr + size, PAGE_SIZE) - base);
}

int memblock_parse_memmap(struct memblock_list *reserve, const char *opt)
{
	const char *p = opt, *end;
	struct memblock_list tmp = *reserve;

	do {
		if (parse_one_memmap(&tmp, p, &end) < 0) {
			pr_warn("memmap=%s: not SIZE$ADDR[,SIZE$ADDR] (like 64M$0x180000000; "
				"only the reserve form is supported); ignored\n", opt);
			return -EINVAL;
		}
		p = *end == ',' ? end + 1 : end;
	} while (*p);
	*reserve = tmp; /* all or nothing */
	return 0;
}

static void apply_mem_limit(const char *opt)
{
	const char *end;
	uint64_t limit;

	if (!opt)
		return;
	if (cmdline_parse_size(opt, &end, &limit) < 0 || *end || limit < (16ULL << 20)) {
		pr_warn("mem=%s: not a size of at least 16M (like mem=512M); ignored\n", opt);
		return;
	}
	/* Like Linux: RAM above the limit is dropped, whatever the holes below. */
	memblock_remove(&memblock_memory, limit, UINT64_MAX - limit);
	pr_info("memblock: mem=%s: RAM limited to [0, %#llx)\n", opt, (unsigned long long)limit);
}

static void reserve_page_aligned(phys_addr_t start, phys_addr_t end)
{
	phys_addr_t base = ALIGN_DOWN(start, PAGE_SIZE);

	memblock_add(&memblock_reserved, base, ALIGN_UP(end, PAGE_SIZE) - base);
}

/* Keep only the whole pages of every range of l. */
static void trim_to_pages(struct memblock_list *l)
{
	for (unsigned int i = 0; i < l->nr; i++) {
		struct memblock_range *r = &l->r[i];
		r->base = ALIGN_UP(r->base, PAGE_SIZE);
		r->end = ALIGN_DOWN(r->end, PAGE_SIZE);
		if (r->end <= r->base)
			remove_at(l, i--);
	}
}

/* Take [base, base + size) out of mem; if the list has no room for the
 * split that needs, every range it touches goes whole: RAM lost, never
 * reserved memory handed out. */
static void remove_or_drop(struct memblock_list *mem, phys_addr_t base, uint64_t size)
{
	if (memblock_remove(mem, base, size) == 0)
		return;
	pr_warn("memblock: too many memory ranges; RAM around %#llx unused\n",
		(unsigned long long)base);
	for (unsigned int i = 0; i < mem->nr; i++)
		if (mem->r[i].base < base + size && base < mem->r[i].end)
			remove_at(mem, i--);
}

void memblock_add_usable(struct memblock_list *mem, const struct boot_mmap_entry *map,
			 unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (map[i].type == MB2_MEMORY_AVAILABLE &&
		    memblock_add(mem, map[i].base, map[i].len) < 0)
			pr_warn("memblock: too many memory ranges; RAM at %#llx unused\n",
				(unsigned long long)map[i].base);
	/* A firmware map may list RAM twice, out of order, or overlap it with
	 * a reserved entry: reserved wins, byte for byte, as in Linux's
	 * e820__update_table(); then only whole pages are RAM, as after
	 * Linux's memblock_trim_memory(). */
	for (unsigned int i = 0; i < n; i++)
		if (map[i].type != MB2_MEMORY_AVAILABLE)
			remove_or_drop(mem, map[i].base, map[i].len);
	trim_to_pages(mem);
}

void memblock_init(const struct boot_info *bi, const struct cmdline *cl)
{
	memblock_add_usable(&memblock_memory, bi->mmap, bi->nr_mmap);
	for (unsigned int i = 0; i < cl->nr; i++)
		if (strcmp(cl->key[i], "memmap") == 0 && cl->value[i])
			memblock_parse_memmap(&memblock_memmap, cl->value[i]);
	for (unsigned int i = 0; i < memblock_memmap.nr; i++) {
		const struct memblock_range *r = &memblock_memmap.r[i];
		memblock_remove(&memblock_memory, r->base, r->end - r->base);
		pr_info("memblock: memmap: [%#llx-%#llx) reserved\n", (unsigned long long)r->base,
			(unsigned long long)r->end);
	}
	apply_mem_limit(cmdline_get(cl, "mem"));

	reserve_page_aligned(0, LOW_RESERVED_END);
	reserve_page_aligned(kernel_virt_to_phys(__kernel_start), kernel_virt_to_phys(__kernel_end));
	reserve_page_aligned(bi->mbi_start, bi->mbi_end);
	for (unsigned int i = 0; i < bi->nr_modules; i++)
		reserve_page_aligned(bi->modules[i].start, bi->modules[i].end);
}
