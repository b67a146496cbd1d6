/* Basic kernel types. Physical addresses and frame numbers are 64-bit
 * everywhere, on purpose: the seed of this project is a driver API that
 * truncated a physical address to 32 bits (see docs/remap_pfn_range.md). */
#ifndef PAGODA_TYPES_H
#define PAGODA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t phys_addr_t;   /* a physical (bus) address */
typedef uint64_t pfn_t;         /* a physical frame number: phys >> PAGE_SHIFT */
typedef int64_t ssize_t;

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

static inline pfn_t phys_to_pfn(phys_addr_t pa) { return pa >> PAGE_SHIFT; }
static inline phys_addr_t pfn_to_phys(pfn_t pfn) { return (phys_addr_t)pfn << PAGE_SHIFT; }

#endif
