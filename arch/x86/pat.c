/* Programming the page attribute table (see include/pagoda/cache.h for the
 * layout and why it is Linux's). Intel SDM Vol. 3A, 12.12.4: change the PAT
 * with caches flushed, then flush the TLB. */
#include <pagoda/cache.h>
#include <asm/cpu.h>
#include <pagoda/printk.h>
#include <asm/x86.h>

/* PAT memory type encodings (Intel SDM Vol. 3A, Table 12-10). */
#define PAT_UC 0x00ULL
#define PAT_WC 0x01ULL
#define PAT_WT 0x04ULL
#define PAT_WP 0x05ULL
#define PAT_WB 0x06ULL
#define PAT_UC_MINUS 0x07ULL

#define PAT_ENTRY(i, type) ((type) << ((i) * 8))
#define PAGODA_PAT (PAT_ENTRY(0, PAT_WB) | PAT_ENTRY(1, PAT_WC) | \
		    PAT_ENTRY(2, PAT_UC_MINUS) | PAT_ENTRY(3, PAT_UC) | \
		    PAT_ENTRY(4, PAT_WB) | PAT_ENTRY(5, PAT_WP) | \
		    PAT_ENTRY(6, PAT_UC_MINUS) | PAT_ENTRY(7, PAT_WT))

void pat_init(void)
{
	if (!cpu.pat) {
		/* Without a PAT, PWT/PCD still give WB, WT, UC-, UC: WC falls back to WT-ish. */
		pr_warn("pat: CPU has no PAT; write-combining mappings will be uncached\n");
		return;
	}
	__asm__ __volatile__("wbinvd" ::: "memory");
	wrmsr(MSR_IA32_PAT, PAGODA_PAT);
	write_cr3(read_cr3());
}

uint64_t pat_value(void)
{
	return PAGODA_PAT;
}
