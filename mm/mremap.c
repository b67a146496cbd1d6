/* mremap(2) and madvise(2) on an mm, with Linux 6.x's checks and errno. */
#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/remap.h>
#include <pagoda/vma.h>

/* Move the page-table entries of [old, old + len) to new, leaf by leaf.
 * The frames keep their references: they just change address. A huge
 * leaf moves whole when both addresses are aligned for it. Returns 0 or
 * -ENOMEM (then the caller moves everything back). */
static int move_ptes(struct mm_struct *mm, uintptr_t old, uintptr_t new, size_t len)
{
	for (uintptr_t off = 0; off < len;) {
		struct pt_lookup_result r;
		uint64_t size = PAGE_SIZE;

		if (pt_lookup(mm->pgd, old + off, &r) == 0) {
			size = pt_level_size(r.level);
			if (!IS_ALIGNED(old + off, size) || !IS_ALIGNED(new + off, size) || off + size > len)
				size = PAGE_SIZE;
			phys_addr_t pa = r.phys & ~(size - 1);
			uint64_t bits = r.pte & ~PTE_ADDR_MASK & ~PTE_PS & ~PTE_PAT_LARGE;
			if (pt_unmap(mm->pgd, old + off, size, NULL, NULL) < 0 ||
			    pt_map(mm->pgd, new + off, pa, size, __pgprot(bits),
				   size > PAGE_SIZE ? PT_MAP_HUGE : 0) < 0)
				return -ENOMEM;
		}
		off += size;
	}
	return 0;
}

/* Move [old, old + old_len) of vma (already split to exactly that range)
 * to a new VMA at new of new_len bytes. */
static long move_vma(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t new,
		     size_t new_len)
{
	size_t old_len = vma->vm_end - vma->vm_start;
	struct vm_area_struct *nv = vma_dup(vma);

	if (!nv)
		return -ENOMEM;
	nv->vm_start = new;
	nv->vm_end = new + new_len;
	if (move_ptes(mm, vma->vm_start, new, MIN(old_len, new_len)) < 0) {
		move_ptes(mm, new, vma->vm_start, MIN(old_len, new_len));
		vma_free(nv);
		return -ENOMEM;
	}
	if (new_len < old_len) {
		untrack_pfn_range(vma, vma->vm_start + new_len, vma->vm_end);
		mm_zap_range(mm, vma->vm_start + new_len, vma->vm_end);
	}
	vma_unlink(mm, vma);
	vma_free(vma);
	vma_link(mm, nv);
	if (!nv->vm_ops && !(nv->vm_flags & VM_PFNMAP))
		vma_merge_neighbours(mm, nv);
	return new;
}

static struct vm_area_struct *mremap_source(struct mm_struct *mm, uintptr_t addr,
					    size_t old_len, size_t new_len, long *err)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	*err = -EFAULT;
	if (!vma || addr + old_len > vma->vm_end)
		return NULL;
	/* Device and driver mappings never grow (Linux: vma_to_resize). */
	if (new_len > old_len && (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP)))
		return NULL;
	*err = 0;
	return vma;
}

/* Split so that vma covers exactly [start, end); returns that VMA. */
static struct vm_area_struct *isolate(struct mm_struct *mm, struct vm_area_struct *vma,
				      uintptr_t start, uintptr_t end)
{
	struct vm_area_struct *tail;

	if (vma->vm_start < start) {
		if (vma_split(mm, vma, start, &tail) < 0)
			return NULL;
		vma = tail;
	}
	if (vma->vm_end > end && vma_split(mm, vma, end, &tail) < 0)
		return NULL;
	return vma;
}

static long mremap_move(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr,
			size_t old_len, size_t new_len, uintptr_t new)
{
	uintptr_t old_end = vma->vm_end;
	long ret;

	if (!(vma = isolate(mm, vma, addr, addr + old_len)))
		return -ENOMEM;
	ret = move_vma(mm, vma, new, new_len);
	if (ret >= 0 && new_len > old_len && (vma_lookup(mm, new)->vm_flags & VM_SHARED))
		if (mm_populate_shared(mm, vma_lookup(mm, new), new + old_len, new + new_len) < 0)
			return -ENOMEM;
	(void)old_end;
	return ret;
}

static long mremap_fixed(struct mm_struct *mm, uintptr_t addr, size_t old_len,
			 size_t new_len, uintptr_t new)
{
	struct vm_area_struct *vma;
	long err;

	if (!IS_ALIGNED(new, PAGE_SIZE) || new_len > USER_SPACE_END ||
	    new > USER_SPACE_END - new_len || new < USER_SPACE_START)
		return -EINVAL;
	if (new < addr + old_len && addr < new + new_len)
		return -EINVAL; /* source and destination overlap */
	if ((err = do_munmap(mm, new, new_len)) < 0)
		return err;
	if (old_len > new_len) {
		if ((err = do_munmap(mm, addr + new_len, old_len - new_len)) < 0)
			return err;
		old_len = new_len;
	}
	if (!(vma = mremap_source(mm, addr, old_len, new_len, &err)))
		return err;
	return mremap_move(mm, vma, addr, old_len, new_len, new);
}

long do_mremap(struct mm_struct *mm, uintptr_t addr, size_t old_len, size_t new_len,
	       int flags, uintptr_t new_addr)
{
	struct vm_area_struct *vma;
	long err, dest;

	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED) || !IS_ALIGNED(addr, PAGE_SIZE))
		return -EINVAL; /* MREMAP_DONTUNMAP is not supported */
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	old_len = ALIGN_UP(old_len, PAGE_SIZE);
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	if (!new_len || !old_len)
		return -EINVAL;
	if (flags & MREMAP_FIXED)
		return mremap_fixed(mm, addr, old_len, new_len, new_addr);
	if (old_len >= new_len) {
		if (old_len > new_len && (err = do_munmap(mm, addr + new_len, old_len - new_len)) < 0)
			return err;
		return addr;
	}
	if (!(vma = mremap_source(mm, addr, old_len, new_len, &err)))
		return err;
	if (addr + old_len == vma->vm_end && addr <= USER_SPACE_END - new_len &&
	    !vma_intersect(mm, vma->vm_end, addr + new_len)) {
		uintptr_t old_end = vma->vm_end;
		vma->vm_end = addr + new_len; /* grow in place */
		mm->total_vm += (new_len - old_len) >> PAGE_SHIFT;
		if ((vma->vm_flags & VM_SHARED) &&
		    mm_populate_shared(mm, vma, old_end, vma->vm_end) < 0) {
			vma->vm_end = old_end;
			mm->total_vm -= (new_len - old_len) >> PAGE_SHIFT;
			return -ENOMEM;
		}
		return addr;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	dest = do_mmap_find_area(mm, new_len);
	if (dest < 0)
		return dest;
	return mremap_move(mm, vma, addr, old_len, new_len, dest);
}

/* Advice Pagoda accepts: the ones that drop pages, and hints it may
 * ignore (as Linux may): NORMAL RANDOM SEQUENTIAL WILLNEED, REMOVE (9),
 * MERGEABLE/UNMERGEABLE (12, 13), HUGEPAGE/NOHUGEPAGE (14, 15),
 * DONTDUMP/DODUMP (16, 17), COLD/PAGEOUT (20, 21). */
static bool madvise_known(int advice)
{
	return (advice >= MADV_NORMAL && advice <= MADV_DONTNEED) || advice == MADV_FREE ||
	       (advice >= 12 && advice <= 17) || advice == 20 || advice == 21;
}

int do_madvise(struct mm_struct *mm, uintptr_t start, size_t len, int advice)
{
	uintptr_t end, covered;
	bool drops = advice == MADV_DONTNEED || advice == MADV_FREE;
	struct vm_area_struct *v;

	bool hole = false;

	if (!IS_ALIGNED(start, PAGE_SIZE) || !madvise_known(advice))
		return -EINVAL;
	if (len && !ALIGN_UP(len, PAGE_SIZE))
		return -EINVAL; /* the length rounds up past the address space */
	len = ALIGN_UP(len, PAGE_SIZE);
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	covered = start;
	for (v = vma_intersect(mm, start, end); v && v->vm_start < end; v = vma_next(mm, v)) {
		if (drops && (v->vm_flags & (VM_PFNMAP | VM_IO)))
			return -EINVAL; /* device memory has no pages to drop */
		hole |= v->vm_start > covered;
		/* Private anonymous pages read back as zeroes; shared ones keep
		 * their contents, as shmem does in Linux. */
		if (drops && !(v->vm_flags & VM_SHARED))
			mm_zap_range(mm, MAX(start, v->vm_start), MIN(end, v->vm_end));
		covered = v->vm_end;
	}
	/* As Linux: advise every mapped part, then report the holes. */
	return hole || covered < end ? -ENOMEM : 0;
}
