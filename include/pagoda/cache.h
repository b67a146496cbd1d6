/* Memory types a mapping can ask for, and the page-table bits that select
 * them. The kernel programs IA32_PAT (Intel SDM Vol. 3A, 12.12 "Page
 * Attribute Table") with Linux's layout, so that the PAT index formed by a
 * 4 KiB PTE's PAT (bit 7), PCD (bit 4) and PWT (bit 3) picks:
 *
 *   index 0 WB   1 WC   2 UC-   3 UC   4 WB   5 WP   6 UC-   7 WT
 *
 * WB, WC, UC- and UC therefore need only PCD and PWT, the same bits in 4 KiB,
 * 2 MiB and 1 GiB entries (the PAT bit moves to bit 12 in large entries). */
#ifndef PAGODA_CACHE_H
#define PAGODA_CACHE_H

#include <pagoda/types.h>

enum cache_mode {
	CACHE_WB = 0,       /* write-back: ordinary RAM */
	CACHE_WC = 1,       /* write-combining: framebuffers, prefetchable BARs */
	CACHE_UC_MINUS = 2, /* uncached, but an MTRR may make it WC */
	CACHE_UC = 3,       /* strongly uncached: device registers */
};

#define PTE_PWT (1UL << 3)
#define PTE_PCD (1UL << 4)

/* The PWT/PCD bits selecting mode under our PAT layout. */
static inline uint64_t cache_mode_pte_bits(enum cache_mode mode)
{
	return ((mode & 1) ? PTE_PWT : 0) | ((mode & 2) ? PTE_PCD : 0);
}

/* Program IA32_PAT with the layout above. Called once per CPU at boot. */
void pat_init(void);

/* The IA32_PAT value pat_init() programs. */
uint64_t pat_value(void);

#endif
