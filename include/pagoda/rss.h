/* Resident memory of an address space (mm/rss.c): what Linux's RSS
 * counters hold, counted from the page tables when asked, so that no
 * path that maps or unmaps a page has a counter to keep right. */
#ifndef PAGODA_RSS_H
#define PAGODA_RSS_H

#include <pagoda/types.h>

struct mm_struct;

/* Pages, as Linux's MM_ANONPAGES, MM_FILEPAGES and MM_SHMEMPAGES count
 * them: RAM frames mapped in private VMAs with no file (anon), in VMAs of
 * a file, such as a program's segments (file), and in shared anonymous
 * VMAs (shmem). Device memory and the shared zero page are not resident
 * memory of the process and are not counted. pgtables: the page-table
 * pages below the PML4. */
struct mm_rss {
	uint64_t anon, file, shmem;
	uint64_t pgtables;
};

/* Count mm's resident pages into *rss. mm must not change meanwhile (one
 * CPU: the caller does not sleep in between). O(pages mapped). */
void mm_rss_count(struct mm_struct *mm, struct mm_rss *rss);

static inline uint64_t mm_rss_total(const struct mm_rss *rss)
{
	return rss->anon + rss->file + rss->shmem;
}

#endif
