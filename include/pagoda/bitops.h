/* Counting bits without the CPU's POPCNT (the kernel is built for any
 * x86-64, and libgcc is not linked in). */
#ifndef PAGODA_BITOPS_H
#define PAGODA_BITOPS_H

#include <pagoda/types.h>

/* The number of set bits in x (the classic SWAR sum of bit fields). */
static inline unsigned int hweight64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned int)((x * 0x0101010101010101ULL) >> 56);
}

#endif
