/* memblock: the boot-time view of physical memory (mm/memblock.c).
 *
 * From the multiboot2 memory map it keeps two sorted lists of half-open
 * ranges [base, end): "memory" (usable RAM, after mem= and memmap= are
 * applied: a memmap=SIZE$ADDR range leaves memory altogether, as in Linux,
 * and is kept in memblock_memmap) and "reserved" (what is in memory but
 * must never be handed out: the low 1 MiB, the kernel image, the boot
 * information, the boot modules, and everything memblock_alloc() gave
 * away). The buddy allocator is built
 * from memory minus reserved; after that memblock is read-only history. */
#ifndef PAGODA_MEMBLOCK_H
#define PAGODA_MEMBLOCK_H

#include <pagoda/bootinfo.h>
#include <pagoda/types.h>

#define MEMBLOCK_MAX 128

struct memblock_range {
	phys_addr_t base;
	phys_addr_t end; /* exclusive */
};

struct memblock_list {
	unsigned int nr;
	struct memblock_range r[MEMBLOCK_MAX];
};

/* Reservations made by memmap=SIZE$ADDR: they show as "Reserved" in the
 * resource tree and are mappable through /dev/mem later. */
extern struct memblock_list memblock_memory, memblock_reserved, memblock_memmap;

/* Build the lists from bi and the command line (mem=, memmap=). Bad option
 * values are warned about, naming the option, and ignored. */
struct cmdline;
void memblock_init(const struct boot_info *bi, const struct cmdline *cl);

/* Add to mem the usable RAM of a firmware memory map of n entries, in any
 * order, overlapping or not: the whole pages that available entries cover
 * and no other entry touches. Ranges that do not fit are warned about and
 * left out. */
void memblock_add_usable(struct memblock_list *mem, const struct boot_mmap_entry *map,
			 unsigned int n);

/* Add/remove [base, base + size) to/from a list, merging neighbours.
 * Return 0, or -ENOSPC when the list is full, -EINVAL on overflow. */
int memblock_add(struct memblock_list *l, phys_addr_t base, uint64_t size);
int memblock_remove(struct memblock_list *l, phys_addr_t base, uint64_t size);

/* True when [base, base + size) overlaps any range of l. */
bool memblock_overlaps(const struct memblock_list *l, phys_addr_t base, uint64_t size);

/* A page of firmware-usable RAM below 1 MiB, other than page 0, or 0 if
 * none: where a start-up IPI can send the other CPUs. The whole first MiB
 * stays reserved, so the page is never handed out. */
phys_addr_t memblock_low_page(void);

/* Allocate size bytes aligned to align from free memory below limit
 * (highest address first) and reserve them. Returns the physical address
 * or 0 when nothing fits. Only before the buddy allocator takes over. */
phys_addr_t memblock_alloc(uint64_t size, uint64_t align, phys_addr_t limit);

/* Parse one memmap= value ("64M$0x180000000", several comma-separated)
 * into reservations. Returns 0 or -EINVAL (and warns). Exposed for tests. */
int memblock_parse_memmap(struct memblock_list *reserve, const char *opt);

/* Total bytes in a list. */
uint64_t memblock_total(const struct memblock_list *l);

#endif
