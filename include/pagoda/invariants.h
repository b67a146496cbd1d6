/* The memory system's invariants, checked on demand (mm/invariants.c).
 *
 * A check walks every address space given to it, and optionally every
 * frame of RAM, and counts what breaks one of the rules below. User space
 * runs it by reading /proc/pagoda/invariants (a KTAP suite, one case per
 * rule); init does after the test programs and after fuzzing. See
 * docs/reliability.md.
 *
 * The rules hold between system calls. The checker takes no lock: it
 * runs inside one system call on one CPU, where nothing else changes the
 * structures it reads (once SMP lands, it needs every mm's lock and the
 * allocator's). */
#ifndef PAGODA_INVARIANTS_H
#define PAGODA_INVARIANTS_H

#include <pagoda/mm_types.h>
#include <pagoda/types.h>

enum inv_kind {
	INV_FRAME_STATES,      /* each frame: in one free block, one allocated block, or reserved */
	INV_FREE_LISTS,        /* free lists agree with the zone counts; no unmerged buddies */
	INV_SLABS,             /* a slab's count is 1 + its objects in use; cache totals agree */
	INV_TABLES,            /* a page-table page is an allocated (or boot) frame, reached once */
	INV_REFCOUNTS,         /* a mapped RAM frame's count is the number of PTEs mapping it */
	INV_NO_FREE_MAPPED,    /* no PTE, user or kernel, maps a free frame */
	INV_DEVICE_UNCOUNTED,  /* special PTEs map no counted frame; others map only counted ones */
	INV_PRIVATE_EXCLUSIVE, /* a writable private page has one holder; a COW PTE is read-only */
	INV_PTES_IN_VMAS,      /* each user PTE lies in a VMA that allows what the PTE grants */
	INV_VMA_LISTS,         /* VMAs sorted, disjoint, list = tree, map_count and total_vm right */
	INV_KERNEL_HALF,       /* every PML4's kernel half equals the kernel's own */
	NR_INV,
};

/* One address space to check, and the pid its messages name; the check
 * fills in how many user PTEs map RAM in it (its resident pages). */
struct inv_space {
	struct mm_struct *mm;
	int pid;
	uint64_t resident;
};

#define INV_MAX_LINES 4 /* messages kept per rule; the rest are counted */
#define INV_LINE 128

/* Where the frames of RAM are, as the check found them (a frame counts
 * once, in the first class that holds it): a leak shows as a frame moving
 * from free to "other". */
enum inv_census {
	CENSUS_FREE,     /* in free blocks */
	CENSUS_USER,     /* mapped by user PTEs (each frame once) */
	CENSUS_TABLE,    /* page-table pages reached from a PML4 */
	CENSUS_KSTACK,   /* kernel stack pages */
	CENSUS_SLAB,     /* kmalloc slabs */
	CENSUS_OTHER,    /* allocated, held by none of the above */
	CENSUS_RESERVED, /* never given to the allocator */
	NR_CENSUS,
};

struct inv_report {
	uint64_t census[NR_CENSUS]; /* with INV_ALL_FRAMES only */
	uint64_t violations[NR_INV];
	const char *skip[NR_INV]; /* why a rule could not be checked, or NULL */
	char lines[NR_INV][INV_MAX_LINES][INV_LINE];
};

#define INV_ALL_FRAMES 0x1 /* also scan every frame of RAM and every slab */

/* Check spaces[0..nr) (and with INV_ALL_FRAMES every frame) into *r,
 * which the caller zeroes first. Frames mapped by an address space not in
 * the list look over-counted, so pass them all (inv_check_all() does) or
 * only ones whose frames nobody else maps (a test's scratch mm).
 * Allocates a buffer for the duration: with too little memory the rules
 * that need it are skipped. */
void inv_check(struct inv_space *spaces, unsigned int nr, unsigned int flags,
	       struct inv_report *r);

/* The name of a rule, as its KTAP case is called. */
const char *inv_name(enum inv_kind k);

/* Check every task's address space and every frame, and write the outcome
 * as a KTAP suite "invariants" into buf (snprintf-style: returns the
 * length the whole text needs). Violations are also logged. */
int inv_ktap(char *buf, size_t size);

#endif
