/* memtype: the memory type every mapped range of physical memory is
 * mapped with (mm/memtype.c), Linux's PAT memtype tree
 * (arch/x86/mm/pat/memtype.c).
 *
 * Two mappings of one physical page with different memory types (one
 * write-back, one uncached) are undefined behaviour (Intel SDM Vol. 3A,
 * 12.12.4, "Programming the PAT": the processor may keep stale lines or
 * lose writes). So every mapping of device memory, by ioremap() in the
 * kernel or remap_pfn_range() into a process, first reserves its range
 * with the type it wants; a later mapping of any part of it gets the type
 * already there when that is compatible, and is refused otherwise.
 *
 * What is not tracked, as in Linux: the legacy ISA range [0xa0000,
 * 0x100000), which the firmware's fixed MTRRs type and which is always
 * mapped write-back; and System RAM, which the direct map maps write-back:
 * a write-back mapping of RAM is always granted, any other refused (Linux
 * would change the direct map first, set_memory_uc(); Pagoda has no such
 * thing). Ranges are page-granular, half-open [start, end). */
#ifndef PAGODA_MEMTYPE_H
#define PAGODA_MEMTYPE_H

#include <pagoda/cache.h>
#include <pagoda/types.h>

#define ISA_START 0xa0000ULL
#define ISA_END 0x100000ULL

/* Reserve [start, end) (rounded out to pages) with type req. A write-back
 * request where the MTRRs do not say write-back becomes UC-, as Linux's
 * pat_x_mtrr_type(). Where the range, or part of it, is reserved already
 * with another type, that type is granted instead, unless got is NULL or
 * the request is uncached or write-combining and the type there is
 * write-back (Linux's is_new_memtype_allowed()). Returns 0 with the type
 * to map with in *got; -EINVAL, logged, for a refused type (or a range
 * that is partly System RAM, wraps or is empty); -EBUSY, logged, when the
 * range already holds two types; -ENOMEM. Each successful call needs one
 * memtype_free() of the same range, or of pieces adding up to it.
 * Touches the memtype list (no lock yet: one CPU; SMP will add one). */
int memtype_reserve(phys_addr_t start, phys_addr_t end, enum cache_mode req,
		    enum cache_mode *got);

/* Give back one reservation of [start, end), or of a piece of one.
 * Returns 0; -EINVAL, logged, when part of the range is not reserved
 * (nothing changes then); -ENOMEM, logged, when splitting a reservation
 * needs memory there is none of (the range then stays reserved). */
int memtype_free(phys_addr_t start, phys_addr_t end);

/* The type a mapping of [start, end) that reserves nothing must use: the
 * reserve rules above without the reservation. Returns 0 with *got, or
 * -EINVAL / -EBUSY as memtype_reserve(). */
int memtype_check(phys_addr_t start, phys_addr_t end, enum cache_mode req,
		  enum cache_mode *got);

/* The type [start, end) is reserved with: 0 and *type when some part of
 * it is (write-back for System RAM and the ISA range); -ENOENT when none
 * is; -EBUSY when it holds two types. */
int memtype_lookup(phys_addr_t start, phys_addr_t end, enum cache_mode *type);

/* Reserved ranges now (after merging neighbours of one type and count),
 * for the self-tests and /proc. */
unsigned int memtype_count(void);

/* "write-back", "write-combining", "uncached-minus", "uncached". */
const char *cache_mode_name(enum cache_mode mode);

#endif
