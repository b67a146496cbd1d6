/* mlock(2), munlock(2), mlockall(2), munlockall(2), mlock2(2) and the
 * population of a range (Linux's mm/mlock.c, mm/gup.c's __mm_populate).
 *
 * Pagoda never reclaims or swaps, so a locked page is simply a present
 * one: locking sets VM_LOCKED on the VMAs (splitting them at the range's
 * edges, as mprotect does) and faults every page in, which is what a
 * program asks of mlock: no fault later. msync(MS_INVALIDATE) refuses
 * locked pages (-EBUSY), as Linux. */
#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/oom.h>
#include <pagoda/vma.h>

#define VM_LOCKED_MASK (VM_LOCKED | VM_LOCKONFAULT)
#define VM_SPECIAL (VM_IO | VM_PFNMAP | VM_DONTEXPAND)

/* Fault in every page of [start, end) that the VMAs there allow, writing
 * where a private writable mapping would copy on write (Linux's
 * populate_vma_page_range()). A page past a file's end or a PROT_NONE
 * VMA is left alone. 0, or -ENOMEM when memory ran out. The caller holds
 * mmap_lock (for writing or reading). */
int mm_populate_locked(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a < end;) {
		struct vm_area_struct *v = vma_find(mm, a);
		unsigned int flags = FAULT_FLAG_USER;

		if (!v || v->vm_start >= end)
			break;
		a = MAX(a, v->vm_start);
		if (!(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) || (v->vm_flags & VM_SPECIAL)) {
			a = v->vm_end;
			continue;
		}
		if ((v->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE)
			flags |= FAULT_FLAG_WRITE;
		for (; a < MIN(end, v->vm_end); a += PAGE_SIZE) {
			struct pt_lookup_result r;
			if (pt_lookup(mm->pgd, a, &r) == 0 &&
			    (!(flags & FAULT_FLAG_WRITE) || (r.pte & PTE_WRITE)))
				continue;
			if (handle_mm_fault(mm, a, flags) == VM_FAULT_OOM)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Set or clear the lock bits on every VMA of [start, end), which must be
 * mapped without holes (-ENOMEM). Device mappings keep none (Linux's
 * VM_SPECIAL). */
static int apply_lock_flags(struct mm_struct *mm, uintptr_t start, uintptr_t end,
			    unsigned long set)
{
	struct vm_area_struct *v = vma_lookup(mm, start);
	uintptr_t covered = start;
	int err;

	for (; v && v->vm_start < end; v = vma_next(mm, v)) {
		if (v->vm_start > covered)
			return -ENOMEM;
		covered = v->vm_end;
	}
	if (!vma_lookup(mm, start) || covered < end)
		return -ENOMEM;
	if ((err = vma_split_at_edges(mm, start, end)) < 0)
		return err;
	for (v = vma_lookup(mm, start); v && v->vm_start < end; v = vma_next(mm, v))
		if (!(v->vm_flags & VM_SPECIAL))
			v->vm_flags = (v->vm_flags & ~VM_LOCKED_MASK) | set;
	return 0;
}

/* The range mlock and munlock act on: whole pages around [start, start +
 * len). 0 with *s and *e set, or -EINVAL when it wraps. */
static int lock_range(uintptr_t start, size_t len, uintptr_t *s, uintptr_t *e)
{
	size_t off = start & (PAGE_SIZE - 1);

	if (len > SIZE_MAX - off - PAGE_SIZE)
		return -EINVAL;
	*s = start - off;
	*e = *s + ALIGN_UP(len + off, PAGE_SIZE);
	return *e < *s ? -EINVAL : 0;
}

int do_mlock(struct mm_struct *mm, uintptr_t start, size_t len, unsigned int flags)
{
	uintptr_t s, e;
	int err;

	if (flags & ~MLOCK_ONFAULT)
		return -EINVAL;
	if ((err = lock_range(start, len, &s, &e)) < 0 || s == e)
		return err;
	err = apply_lock_flags(mm, s, e, VM_LOCKED | (flags ? VM_LOCKONFAULT : 0));
	if (err == 0 && !flags && mm_populate_locked(mm, s, e) < 0)
		err = -EAGAIN; /* Linux's answer when the pages cannot be had */
	return err;
}

int do_munlock(struct mm_struct *mm, uintptr_t start, size_t len)
{
	uintptr_t s, e;
	int err;

	if ((err = lock_range(start, len, &s, &e)) < 0 || s == e)
		return err;
	return apply_lock_flags(mm, s, e, 0);
}

int do_mlockall(struct mm_struct *mm, int flags)
{
	unsigned long set = VM_LOCKED | ((flags & MCL_ONFAULT) ? VM_LOCKONFAULT : 0);
	struct list_head *pos;

	if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
		return -EINVAL;
	mm->def_flags = (flags & MCL_FUTURE) ? set : 0;
	if (!(flags & MCL_CURRENT))
		return 0;
	list_for_each(pos, &mm->vma_list) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_list);
		if (!(v->vm_flags & VM_SPECIAL))
			v->vm_flags = (v->vm_flags & ~VM_LOCKED_MASK) | set;
	}
	if (!(flags & MCL_ONFAULT))
		mm_populate_locked(mm, USER_SPACE_START, USER_SPACE_END); /* best effort, as Linux */
	return 0;
}

int do_munlockall(struct mm_struct *mm)
{
	struct list_head *pos;

	mm->def_flags = 0;
	list_for_each(pos, &mm->vma_list)
		list_entry(pos, struct vm_area_struct, vm_list)->vm_flags &= ~VM_LOCKED_MASK;
	return 0;
}
