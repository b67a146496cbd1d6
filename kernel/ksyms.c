/* Symbol lookup for backtraces. The table (build/gen/ksyms2.c) lists text
 * symbols sorted by address; see the three-step link in the Makefile. */
#include <pagoda/ksyms.h>
#include <pagoda/layout.h>
#include <pagoda/string.h>

extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addr[];
extern const uint32_t ksyms_name_off[];
extern const char ksyms_names[];

const char *ksyms_lookup(uintptr_t addr, uintptr_t *offset)
{
	uint64_t lo = 0, hi = ksyms_count;

	if (addr < (uintptr_t)__text_start || addr >= (uintptr_t)__text_end || !hi)
		return NULL;
	/* Find the last symbol at or below addr. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (ksyms_addr[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (ksyms_addr[lo] > addr)
		return NULL;
	if (offset)
		*offset = addr - ksyms_addr[lo];
	return &ksyms_names[ksyms_name_off[lo]];
}

uintptr_t ksyms_address(const char *name)
{
	for (uint64_t i = 0; i < ksyms_count; i++)
		if (strcmp(&ksyms_names[ksyms_name_off[i]], name) == 0)
			return ksyms_addr[i];
	return 0;
}
