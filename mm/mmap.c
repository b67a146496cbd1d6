/* The mmap family on an mm: mmap, munmap, mprotect, brk. Checks and
 * errno values follow Linux 6.x (mm/mmap.c, mm/mprotect.c); mremap and
 * madvise live in mm/mremap.c. */
#include <pagoda/errno.h>
#include <pagoda/file.h>
#include <pagoda/vfs.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/pt_share.h>
#include <pagoda/remap.h>
#include <pagoda/shmem.h>
#include <pagoda/string.h>
#include <pagoda/thp.h>
#include <pagoda/tlb.h>
#include <pagoda/vma.h>

#define PROT_ALL (PROT_READ | PROT_WRITE | PROT_EXEC)
#define PROT_SEM 0x8
#define PROT_GROWS (0x01000000 | 0x02000000) /* PROT_GROWSDOWN | PROT_GROWSUP */

/* The highest free gap of len bytes below mm->mmap_base (top-down, as
 * Linux places unhinted mappings), keeping STACK_GUARD_GAP below a stack.
 * Walks the list down from the top: O(VMAs above the gap). Returns the
 * address, or 0 if there is no room. */
static uintptr_t unmapped_area_topdown(struct mm_struct *mm, size_t len, uint64_t align,
					uint64_t phase)
{
	uintptr_t ceiling = mm->mmap_base;
	struct vm_area_struct *v = vma_find(mm, ceiling);

	/* A VMA across mmap_base ends the first gap at its start. */
	if (v && v->vm_start < ceiling) {
		ceiling = v->vm_start;
		v = vma_prev(mm, v);
	} else {
		v = v ? vma_prev(mm, v) : (list_empty(&mm->vma_list) ? NULL :
			list_entry(mm->vma_list.prev, struct vm_area_struct, vm_list));
	}
	if (len > USER_SPACE_END - USER_SPACE_START)
		return 0;
	for (;;) {
		uintptr_t floor = v ? v->vm_end : USER_SPACE_START;
		/* ceiling - floor cannot wrap; floor + len could. */
		if (ceiling >= floor && ceiling - floor >= len && ceiling - len >= phase) {
			/* The highest start in the gap with start % align == phase. */
			uintptr_t a = ALIGN_DOWN(ceiling - len - phase, align) + phase;
			if (a >= floor)
				return a;
		}
		if (!v)
			return 0;
		ceiling = v->vm_start;
		if (v->vm_flags & VM_GROWSDOWN)
			ceiling = ceiling > STACK_GUARD_GAP ? ceiling - STACK_GUARD_GAP : 0;
		v = vma_prev(mm, v);
	}
}

/* The alignment that lets a mapping of len bytes use huge page-table
 * entries: device memory behind a file (a BAR, a framebuffer) is aligned
 * to its size, so a 1 GiB BAR mapped at a 1 GiB-aligned address takes one
 * entry (as Linux's thp_get_unmapped_area() does for files). Private
 * anonymous memory of whole 2 MiB units with no hint is 2 MiB-aligned
 * for transparent huge pages, as Linux 6.12's __get_unmapped_area(). */
static uint64_t huge_align(size_t len, bool file, int flags, uintptr_t hint)
{
	if (!file)
		return !hint && (flags & MAP_TYPE) == MAP_PRIVATE && IS_ALIGNED(len, HPAGE_PMD_SIZE) ?
			       HPAGE_PMD_SIZE : PAGE_SIZE;
	if (len < (2UL << 20))
		return PAGE_SIZE;
	return len >= (1UL << 30) ? (1UL << 30) : (2UL << 20);
}

/* Where a new mapping of len bytes goes: a free hint is honoured; else the
 * highest free gap, at an address whose offset within align matches the
 * file offset's (pgoff, in pages; none for anonymous memory). */
static long get_unmapped_area(struct mm_struct *mm, uintptr_t hint, size_t len, bool file,
			      int flags, unsigned long pgoff)
{
	uint64_t align = huge_align(len, file, flags, hint);
	uintptr_t addr;

	if (!file)
		pgoff = 0;

	hint = ALIGN_DOWN(hint, PAGE_SIZE);
	if (hint && hint < USER_SPACE_START)
		hint = USER_SPACE_START; /* Linux's round_hint_to_min() */
	if (hint && user_range_check(hint, len, NULL) == URANGE_OK &&
	    !vma_intersect(mm, hint, hint + len))
		return hint;
	addr = unmapped_area_topdown(mm, len, align, (pgoff << PAGE_SHIFT) & (align - 1));
	if (!addr && align > PAGE_SIZE)
		addr = unmapped_area_topdown(mm, len, PAGE_SIZE, 0);
	return addr ? (long)addr : -ENOMEM;
}

unsigned long calc_vm_flags(int prot, int flags)
{
	unsigned long vf = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

	if (prot & PROT_READ)
		vf |= VM_READ;
	if (prot & PROT_WRITE)
		vf |= VM_WRITE;
	if (prot & PROT_EXEC)
		vf |= VM_EXEC;
	if ((flags & MAP_TYPE) != MAP_PRIVATE)
		vf |= VM_SHARED | VM_MAYSHARE;
	if (flags & MAP_GROWSDOWN)
		vf |= VM_GROWSDOWN;
	if (flags & MAP_STACK)
		vf |= VM_NOHUGEPAGE; /* Linux 6.7 on: no huge pages for thread stacks */
	if (flags & MAP_LOCKED)
		vf |= VM_LOCKED;
	return vf;
}

long do_mmap_find_area(struct mm_struct *mm, size_t len)
{
	uintptr_t addr;

	addr = unmapped_area_topdown(mm, len, PAGE_SIZE, 0);

	return addr ? (long)addr : -ENOMEM;
}

static int check_mmap_args(uintptr_t addr, size_t *len, int prot, int flags,
			   struct file *file, unsigned long pgoff)
{
	int type = flags & MAP_TYPE;

	if (!*len)
		return -EINVAL;
	/* Linux: MAP_SHARED_VALIDATE only for files; no shared stacks. Unknown
	 * prot bits are not an error for mmap (calc_vm_prot_bits drops them). */
	if (type != MAP_SHARED && type != MAP_PRIVATE &&
	    (type != MAP_SHARED_VALIDATE || (flags & MAP_ANONYMOUS)))
		return -EINVAL;
	if (type != MAP_PRIVATE && (flags & MAP_GROWSDOWN))
		return -EINVAL;
	*len = ALIGN_UP(*len, PAGE_SIZE);
	if (!*len)
		return -ENOMEM; /* the length rounds up past 2^64 */
	if (pgoff + (*len >> PAGE_SHIFT) < pgoff)
		return -EOVERFLOW;
	if (*len > USER_SPACE_END)
		return -ENOMEM;
	if (!file && !(flags & MAP_ANONYMOUS))
		return -EBADF;
	return 0;
}

/* The checks of a file mapping against the file's open mode, in Linux's
 * order (mm/mmap.c do_mmap()): a shared writable mapping needs a file
 * open for writing, every mapping one open for reading, and the file an
 * mmap operation. A shared mapping of a file not open for writing can
 * never become writable (no VM_MAYWRITE, so mprotect says EACCES); it
 * behaves as a private one that cannot be written (no VM_SHARED) and is
 * still shown shared (VM_MAYSHARE). 0 or -EACCES, -ENODEV, -EINVAL. */
static int file_mmap_check(struct file *file, int prot, int flags, unsigned long *vf)
{
	unsigned int acc = file->flags & O_ACCMODE;
	bool readable = acc == O_RDONLY || acc == O_RDWR, writable = acc == O_WRONLY || acc == O_RDWR;

	if ((flags & MAP_TYPE) != MAP_PRIVATE) {
		if ((prot & PROT_WRITE) && !writable)
			return -EACCES;
		if (!writable)
			*vf &= ~(VM_MAYWRITE | VM_SHARED);
	}
	if (!readable)
		return -EACCES;
	if (!file->f_op || !file->f_op->mmap)
		return -ENODEV;
	if (flags & MAP_GROWSDOWN)
		return -EINVAL;
	return 0;
}

/* Choose the range: MAP_FIXED will replace what is there (the caller
 * unmaps it once every check has passed), MAP_FIXED_NOREPLACE refuses
 * to, a hint is taken when free. */
static long choose_range(struct mm_struct *mm, uintptr_t addr, size_t len, int flags,
			 struct file *file, unsigned long pgoff)
{
	if (!(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)))
		return get_unmapped_area(mm, addr, len, file != NULL, flags, pgoff);
	/* Linux's order: a range past the top, then alignment, then the
	 * floor (mmap_min_addr). */
	switch (user_range_check(addr, len, NULL)) {
	case URANGE_WRAPS: case URANGE_BEYOND: return -ENOMEM;
	case URANGE_UNALIGNED:
		if (user_range_check(ALIGN_DOWN(addr, PAGE_SIZE), len, NULL) != URANGE_OK)
			return -ENOMEM;
		return -EINVAL;
	default: break;
	}
	if (addr < USER_SPACE_START)
		return -EPERM;
	if ((flags & MAP_FIXED_NOREPLACE) && vma_intersect(mm, addr, addr + len))
		return -EEXIST;
	return addr;
}

/* Let the file's driver set up the new VMA; undo its mappings on failure. */
static int call_driver_mmap(struct mm_struct *mm, struct vm_area_struct *v, struct file *file)
{
	int ret = file->f_op->mmap(file, v);

	if (ret < 0)
		pt_unmap(mm->pgd, v->vm_start, v->vm_end - v->vm_start, NULL, NULL);
	return ret;
}

long do_mmap(struct mm_struct *mm, uintptr_t addr, size_t len, int prot, int flags,
	     struct file *file, unsigned long pgoff)
{
	struct vm_area_struct *v;
	unsigned long vf;
	long start;
	int ret = check_mmap_args(addr, &len, prot, flags, file, pgoff);

	if (ret < 0)
		return ret;
	start = choose_range(mm, addr, len, flags, file, pgoff);
	if (start < 0)
		return start;
	vf = calc_vm_flags(prot & PROT_ALL, flags) | mm->def_flags;
	if (file && (ret = file_mmap_check(file, prot, flags, &vf)) < 0)
		return ret;
	if ((flags & MAP_FIXED) && (ret = do_munmap(mm, start, len)) < 0)
		return ret;
	if (!(v = vma_alloc()))
		return -ENOMEM;
	v->vm_start = start;
	v->vm_end = start + len;
	v->vm_flags = vf;
	v->vm_page_prot = vm_get_page_prot(v->vm_flags);
	v->vm_pgoff = file ? pgoff : (v->vm_flags & VM_SHARED) ? 0 : (uintptr_t)start >> PAGE_SHIFT;
	v->vm_file = file;
	if (file)
		file_get(file); /* the VMA's own reference; vma_free() drops it */
	v->vm_mm = mm;
	if (file)
		ret = call_driver_mmap(mm, v, file);
	else if (v->vm_flags & VM_SHARED)
		ret = shmem_zero_setup(v); /* pages come on fault */
	if (ret == 0)
		ret = vma_link(mm, v);
	if (ret < 0) {
		untrack_pfn(v);
		mm_zap_range(mm, v->vm_start, v->vm_end);
		vma_free(v);
		return ret;
	}
	if (!file)
		vma_merge_neighbours(mm, v);
	return start;
}

int vma_split_at_edges(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	struct vm_area_struct *v = vma_lookup(mm, start), *tail;
	int ret;

	if (v && v->vm_start < start && (ret = vma_split(mm, v, start, &tail)) < 0)
		return ret;
	v = end ? vma_lookup(mm, end - 1) : NULL;
	if (v && v->vm_end > end && (ret = vma_split(mm, v, end, &tail)) < 0)
		return ret;
	return 0;
}

int do_munmap(struct mm_struct *mm, uintptr_t start, size_t len)
{
	uintptr_t end;
	struct vm_area_struct *v, *next;
	int ret;

	if (user_range_check(start, len, &end) != URANGE_OK)
		return -EINVAL; /* Linux's munmap: EINVAL for every bad range */
	/* A table fork shared and the range covers in part straddles an edge:
	 * splitting the VMA there unshares it (vma_split()); whole ones are
	 * just dropped, so the zaps below cannot fail. */
	if ((ret = vma_split_at_edges(mm, start, end)) < 0)
		return ret;
	for (v = vma_intersect(mm, start, end); v && v->vm_start < end; v = next) {
		next = vma_next(mm, v);
		untrack_pfn(v);
		mm_zap_vma(mm, v);
		vma_unlink(mm, v);
		if (v->vm_ops && v->vm_ops->close)
			v->vm_ops->close(v);
		vma_free(v);
	}
	return 0;
}

/* Is [start, end) covered by VMAs with no hole? */
static bool range_fully_mapped(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	struct vm_area_struct *v = vma_lookup(mm, start);

	while (v && v->vm_end < end) {
		struct vm_area_struct *n = vma_next(mm, v);
		if (!n || n->vm_start != v->vm_end)
			return false;
		v = n;
	}
	return v != NULL;
}

static int mprotect_vma(struct mm_struct *mm, struct vm_area_struct *v, int prot)
{
	unsigned long vf = (v->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) |
			   (calc_vm_flags(prot, MAP_PRIVATE) & (VM_READ | VM_WRITE | VM_EXEC));
	uint64_t cache = v->vm_page_prot.bits & PTE_CACHE_MASK;

	if ((vf & VM_WRITE) && !(vf & VM_MAYWRITE))
		return -EACCES;
	struct mmu_gather tlb;
	int ret;

	v->vm_flags = vf;
	v->vm_page_prot = __pgprot(vm_get_page_prot(vf).bits | cache);
	tlb_gather_init(&tlb, mm);
	/* Under page_table_lock: a truncation may be clearing this VMA's
	 * entries (it holds no mmap_lock). */
	spin_lock(&mm->page_table_lock);
	ret = pt_protect_gather(mm->pgd, v->vm_start, v->vm_end - v->vm_start, v->vm_page_prot,
				&tlb);
	spin_unlock(&mm->page_table_lock);
	tlb_finish(&tlb); /* a CPU may hold the old, more permissive entries */
	return ret;
}

int do_mprotect(struct mm_struct *mm, uintptr_t start, size_t len, int prot)
{
	struct vm_area_struct *v, *next;
	uintptr_t end;
	int ret;

	/* Linux's order of checks (mm/mprotect.c): PROT_SEM is accepted and
	 * means nothing on x86; one of PROT_GROWSDOWN/UP is accepted and
	 * ignored (Pagoda's stacks grow by fault, whatever the protection). */
	if ((prot & PROT_GROWS) == PROT_GROWS)
		return -EINVAL; /* cannot grow both ways */
	prot &= ~PROT_GROWS;
	switch (user_range_check(start, len, &end)) {
	case URANGE_OK: break;
	case URANGE_UNALIGNED: return -EINVAL;
	case URANGE_EMPTY: return 0;
	default: return -ENOMEM; /* wraps, or past the top: no mapping there */
	}
	if (prot & ~(PROT_ALL | PROT_SEM))
		return -EINVAL;
	prot &= PROT_ALL;
	if (!range_fully_mapped(mm, start, end))
		return -ENOMEM;
	/* Tables fork shared: unshared before any VMA changes (-ENOMEM). */
	if ((ret = mm_unshare_range(mm, start, end, false)) < 0 ||
	    (ret = vma_split_at_edges(mm, start, end)) < 0)
		return ret;
	for (v = vma_lookup(mm, start); v && v->vm_start < end; v = next) {
		next = vma_next(mm, v);
		if ((ret = mprotect_vma(mm, v, prot)) < 0)
			return ret;
		v = vma_merge_neighbours(mm, v);
		next = vma_next(mm, v);
	}
	return 0;
}

uintptr_t do_brk(struct mm_struct *mm, uintptr_t brk)
{
	uintptr_t newbrk = ALIGN_UP(brk, PAGE_SIZE), oldbrk = ALIGN_UP(mm->brk, PAGE_SIZE);

	if (brk < mm->start_brk || brk > USER_SPACE_END)
		return mm->brk;
	if (newbrk < oldbrk && do_munmap(mm, newbrk, oldbrk - newbrk) < 0)
		return mm->brk;
	if (newbrk > oldbrk) {
		if (vma_intersect(mm, oldbrk, newbrk + PAGE_SIZE))
			return mm->brk; /* would run into the next mapping */
		if (do_mmap(mm, oldbrk, newbrk - oldbrk, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) < 0)
			return mm->brk;
	}
	mm->brk = brk;
	return brk;
}
