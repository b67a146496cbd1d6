/* The VMA list of an mm: lookup, insertion, split and merge (mm/vma.c).
 * See include/pagoda/mm_types.h for the structures and docs/vma.md. */
#ifndef PAGODA_VMA_H
#define PAGODA_VMA_H

#include <pagoda/mm_types.h>

/* A zeroed VMA from kmalloc, or NULL; freed with vma_free(). */
struct vm_area_struct *vma_alloc(void);
void vma_free(struct vm_area_struct *vma); /* drops its file reference */

/* A copy of vma, unlinked, with its own file reference; or NULL. */
struct vm_area_struct *vma_dup(const struct vm_area_struct *vma);

/* The first VMA that ends above addr (it may start above addr, too), or
 * NULL: Linux's find_vma(). O(log n). */
struct vm_area_struct *vma_find(struct mm_struct *mm, uintptr_t addr);

/* The VMA containing addr, or NULL. */
struct vm_area_struct *vma_lookup(struct mm_struct *mm, uintptr_t addr);

/* The first VMA that overlaps [start, end), or NULL. */
struct vm_area_struct *vma_intersect(struct mm_struct *mm, uintptr_t start, uintptr_t end);

/* Neighbours in address order, or NULL. */
struct vm_area_struct *vma_next(struct mm_struct *mm, struct vm_area_struct *vma);
struct vm_area_struct *vma_prev(struct mm_struct *mm, struct vm_area_struct *vma);

/* The gap vma would leave between its neighbours: [*floor, *ceiling),
 * from the end of the one before (0 if none) to the start of the one
 * after (USER_HALF_END if none). */
void vma_gap_around(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t *floor,
		    uintptr_t *ceiling);

/* Link vma (vm_start/vm_end set) into mm. Returns 0, or -EEXIST if it
 * overlaps a VMA already there, -EINVAL for an empty or unaligned range.
 * mm owns vma afterwards. */
int vma_link(struct mm_struct *mm, struct vm_area_struct *vma);

/* Take vma out of mm's list and tree; the caller owns it again. */
void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma);

/* Split vma at addr (page-aligned, strictly inside): vma keeps
 * [vm_start, addr) and a new VMA, returned in *tail, gets [addr, vm_end)
 * with the same flags, ops (open() is called) and an adjusted vm_pgoff.
 * Page tables are not touched, except that a transparent huge page
 * straddling addr is split first (mm/thp.c). Returns 0 or -ENOMEM (the
 * VMA is as it was; a huge page split maps the same memory). */
int vma_split(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr,
	      struct vm_area_struct **tail);

/* Split the VMAs that straddle start or end (page-aligned), so that every
 * VMA lies wholly inside or outside [start, end). 0 or -ENOMEM (a split
 * already made is harmless: the two halves are equal). */
int vma_split_at_edges(struct mm_struct *mm, uintptr_t start, uintptr_t end);

/* Can a and b (a just below b, touching) be one VMA? Same flags,
 * protection, file and ops, contiguous vm_pgoff, and neither is VM_PFNMAP
 * or has ops (driver mappings keep their own VMAs). */
bool vma_can_merge(const struct vm_area_struct *a, const struct vm_area_struct *b);

/* Merge vma with its neighbours where vma_can_merge() allows. Returns the
 * VMA that now covers vma's range (vma itself or the one below it). */
struct vm_area_struct *vma_merge_neighbours(struct mm_struct *mm, struct vm_area_struct *vma);

#endif
