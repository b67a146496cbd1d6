/* mremap(2) and madvise(2) on an mm, with Linux 6.x's checks and errno
 * (mm/mremap.c, mm/madvise.c).
 *
 * Every range mremap is given or computes, [addr, addr + old_len),
 * [addr, addr + new_len) and [new_addr, new_addr + new_len), is checked
 * with user_range_check() before anything changes. A move maps the pages
 * at the destination first and unmaps the source only once nothing can
 * fail any more, so an allocation failure leaves the original mapping and
 * its contents as they were. */
#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/panic.h>
#include <pagoda/pmm.h>
#include <pagoda/pt_share.h>
#include <pagoda/remap.h>
#include <pagoda/thp.h>
#include <pagoda/tlb.h>
#include <pagoda/vma.h>

/* ---- moving page-table entries ---- */

/* Map at new every leaf that maps part of [old, old + len), with the same
 * frame and protection; the frames' references now belong to both places
 * until move_commit() or move_abort(). A huge leaf moves whole when both
 * addresses are aligned for it, else as 4 KiB entries. The source must
 * hold no leaf that straddles its edges (pt_split_gather()). Returns 0 or
 * -ENOMEM, with nothing left mapped at new. */
static int move_map_dest(struct mm_struct *mm, uintptr_t old, uintptr_t new, size_t len)
{
	for (uintptr_t off = 0; off < len;) {
		struct pt_lookup_result r;
		uint64_t size = PAGE_SIZE;

		if (pt_lookup(mm->pgd, old + off, &r) == 0) {
			phys_addr_t pa = pte_leaf_phys(r.pte, r.level);
			pgprot_t prot = pte_leaf_prot(r.pte, r.level);

			size = pt_level_size(r.level);
			if (old + off != ALIGN_DOWN(old + off, size) || !IS_ALIGNED(new + off, size) ||
			    off + size > len) {
				pa = r.phys & PAGE_MASK;
				size = PAGE_SIZE;
			}
			if (pt_map(mm->pgd, new + off, pa, size, prot,
				   size > PAGE_SIZE ? PT_MAP_HUGE : 0) < 0) {
				if (off)
					pt_unmap(mm->pgd, new, off, NULL, NULL);
				return -ENOMEM;
			}
		}
		off += size;
	}
	return 0;
}

/* The second half of a move: take the entries away from the source (the
 * frames keep their references: they just moved). It cannot fail:
 * pt_split_gather() left no leaf to split at the edges, and unmapping
 * frees tables but never allocates one. tlb flushes every CPU of mm. */
static void move_commit(struct mm_struct *mm, uintptr_t old, size_t len,
			struct mmu_gather *tlb)
{
	int ret = pt_unmap_gather(mm->pgd, old, len, tlb);

	BUG_ON(ret < 0);
}

/* ---- moving a VMA ---- */

/* Move vma (already split to exactly [vm_start, vm_end)) to a new VMA at
 * new of new_len >= its length; the part beyond the old length starts
 * empty (a shmem object's pages come on fault, and past the object's end
 * there are none: SIGBUS, as on Linux). A file VMA moves under its
 * mapping lock, so that a truncation never finds the pages at both places
 * or at neither. Returns new, or -ENOMEM with vma, its pages and the
 * destination as they were. */
static long move_vma(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t new,
		     size_t new_len)
{
	size_t old_len = vma->vm_end - vma->vm_start;
	struct address_space *m = vma_mapping(vma);
	struct vm_area_struct *nv = vma_dup(vma);
	struct mmu_gather tlb;
	long ret = new;

	if (!nv)
		return -ENOMEM;
	/* The frames' references move with the entries: tables fork shared
	 * must be this mm's own first. */
	if (mm_unshare_range(mm, vma->vm_start, vma->vm_end, false) < 0) {
		vma_free(nv);
		return -ENOMEM;
	}
	/* A huge page whose new place is not 2 MiB-aligned moves as 4 KiB
	 * pages (Linux's move_page_tables() splits it, too). */
	if (((new - vma->vm_start) & ~HPAGE_PMD_MASK) &&
	    thp_split_range(mm, vma->vm_start, vma->vm_end) < 0) {
		vma_free(nv);
		return -ENOMEM;
	}
	if (m)
		mapping_lock(m);
	tlb_gather_init(&tlb, mm);
	nv->vm_start = new;
	nv->vm_end = new + new_len;
	if (pt_split_gather(mm->pgd, vma->vm_start, old_len, &tlb) < 0 ||
	    move_map_dest(mm, vma->vm_start, new, old_len) < 0) {
		tlb_finish(&tlb);
		ret = -ENOMEM;
		goto out;
	}
	move_commit(mm, vma->vm_start, old_len, &tlb);
	tlb_finish(&tlb);
	vma_unlink(mm, vma);
	vma_link(mm, nv); /* cannot fail: the destination was checked free */
	if (!nv->vm_ops && !(nv->vm_flags & VM_PFNMAP))
		vma_merge_neighbours(mm, nv);
	nv = vma; /* the old one is what goes now */
out:
	if (m)
		mapping_unlock(m);
	vma_free(nv); /* outside the lock: it may drop the file */
	return ret;
}

/* mremap with old_len 0 (Linux's "duplicate"): a second mapping at new of
 * new_len bytes of the shared object vma maps from addr on. Private
 * mappings have no object to share: -EINVAL, as Linux since 4.17. */
static long mremap_duplicate(struct mm_struct *mm, struct vm_area_struct *vma,
			     uintptr_t addr, uintptr_t new, size_t new_len)
{
	struct vm_area_struct *nv;

	if (!(vma->vm_flags & VM_MAYSHARE) || !vma->vm_file)
		return -EINVAL;
	if (!(nv = vma_dup(vma)))
		return -ENOMEM;
	nv->vm_pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	nv->vm_start = new;
	nv->vm_end = new + new_len;
	vma_link(mm, nv); /* the destination was checked free */
	if (nv->vm_ops && nv->vm_ops->open)
		nv->vm_ops->open(nv);
	return new;
}

/* Split so that vma covers exactly [start, end); returns that VMA, or NULL
 * for -ENOMEM (a split already made is harmless: the halves are equal). */
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
	if (!old_len)
		return mremap_duplicate(mm, vma, addr, new, new_len);
	if (!(vma = isolate(mm, vma, addr, addr + old_len)))
		return -ENOMEM;
	return move_vma(mm, vma, new, new_len);
}

/* ---- the checks, in Linux's order ---- */

/* Linux's vma_to_resize(): may [addr, addr + old_len) of the VMA at addr
 * become new_len bytes long? Returns the VMA, or NULL with *err set. */
static struct vm_area_struct *resize_check(struct mm_struct *mm, uintptr_t addr,
					   size_t old_len, size_t new_len, long *err)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	*err = -EFAULT;
	if (!vma)
		return NULL;
	/* old_len 0 asks for a second mapping of a shared object (Linux's
	 * "duplicate"): only a shared VMA has one. */
	*err = -EINVAL;
	if (!old_len && !(vma->vm_flags & VM_MAYSHARE))
		return NULL;
	*err = -EFAULT;
	if (old_len > vma->vm_end - addr)
		return NULL; /* the range crosses the end of the VMA */
	*err = 0;
	if (new_len == old_len)
		return vma;
	unsigned long pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	*err = -EINVAL;
	if (pgoff + (new_len >> PAGE_SHIFT) < pgoff)
		return NULL; /* the object's page offset would wrap */
	*err = -EFAULT;
	if (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP))
		return NULL; /* device and driver mappings never grow */
	*err = 0;
	return vma;
}

/* The arguments alone (Linux's order): flags, alignment, lengths. Rounds
 * the lengths up to pages. 0 or -EINVAL. */
static int mremap_check_args(uintptr_t addr, size_t *old_len, size_t *new_len, int flags)
{
	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED))
		return -EINVAL; /* MREMAP_DONTUNMAP is not supported yet */
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (!IS_ALIGNED(addr, PAGE_SIZE))
		return -EINVAL;
	*old_len = ALIGN_UP(*old_len, PAGE_SIZE);
	*new_len = ALIGN_UP(*new_len, PAGE_SIZE);
	return *new_len ? 0 : -EINVAL; /* also a length that rounds past 2^64 */
}

/* ---- the three cases ---- */

/* MREMAP_FIXED: move to exactly new, replacing what is there. */
static long mremap_fixed(struct mm_struct *mm, uintptr_t addr, size_t old_len,
			 size_t new_len, uintptr_t new)
{
	size_t moved = MIN(old_len, new_len);
	struct vm_area_struct *vma;
	long err;

	if (user_range_check(new, new_len, NULL) != URANGE_OK)
		return -EINVAL;
	/* Linux reports an old range past the top when it unmaps the tail;
	 * here it is found before the destination is touched. */
	if (old_len && user_range_check(addr, old_len, NULL) != URANGE_OK)
		return -EINVAL;
	if (new < addr + old_len && addr < new + new_len)
		return -EINVAL; /* source and destination overlap */
	/* Linux finds this last, as mmap does (security_mmap_addr()); with
	 * nothing mapped below mmap_min_addr, finding it first is the same. */
	if (new < USER_SPACE_START)
		return -EPERM;
	if (!resize_check(mm, addr, moved, new_len, &err))
		return err;
	if ((err = do_munmap(mm, new, new_len)) < 0)
		return err;
	if (old_len > new_len && (err = do_munmap(mm, addr + new_len, old_len - new_len)) < 0)
		return err;
	/* The unmaps may have split the source VMA: find it again. */
	if (!(vma = resize_check(mm, addr, moved, new_len, &err)))
		return err;
	return mremap_move(mm, vma, addr, moved, new_len, new);
}

/* old_len >= new_len: unmap the tail; the mapping stays where it is. */
static long mremap_shrink(struct mm_struct *mm, uintptr_t addr, size_t old_len,
			  size_t new_len)
{
	long err;

	if (old_len == new_len)
		return addr;
	if (user_range_check(addr, old_len, NULL) != URANGE_OK)
		return -EINVAL; /* what Linux's munmap of the tail says */
	if ((err = do_munmap(mm, addr + new_len, old_len - new_len)) < 0)
		return err;
	return addr;
}

/* Can vma grow in place by delta bytes? */
static bool vma_expandable(struct mm_struct *mm, struct vm_area_struct *vma, size_t delta)
{
	uintptr_t end = vma->vm_end + delta;

	return end > vma->vm_end && end <= USER_SPACE_END &&
	       !vma_intersect(mm, vma->vm_end, end);
}

static long mremap_grow(struct mm_struct *mm, uintptr_t addr, size_t old_len, size_t new_len,
			int flags)
{
	struct vm_area_struct *vma;
	long err, dest;

	if (!(vma = resize_check(mm, addr, old_len, new_len, &err)))
		return err;
	if (addr + old_len == vma->vm_end && vma_expandable(mm, vma, new_len - old_len)) {
		uintptr_t old_end = vma->vm_end;
		size_t delta = new_len - old_len;

		vma->vm_end = old_end + delta; /* the key, vm_start, is unchanged */
		mm->total_vm += delta >> PAGE_SHIFT;
		return addr;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	if ((dest = do_mmap_find_area(mm, new_len)) < 0)
		return dest;
	return mremap_move(mm, vma, addr, old_len, new_len, dest);
}

long do_mremap(struct mm_struct *mm, uintptr_t addr, size_t old_len, size_t new_len,
	       int flags, uintptr_t new_addr)
{
	int err = mremap_check_args(addr, &old_len, &new_len, flags);

	if (err < 0)
		return err;
	/* Linux looks the address up before anything else, so an address
	 * outside every mapping (the kernel half, say) is -EFAULT on every
	 * path. */
	if (!vma_lookup(mm, addr))
		return -EFAULT;
	if (flags & MREMAP_FIXED)
		return mremap_fixed(mm, addr, old_len, new_len, new_addr);
	if (old_len >= new_len)
		return mremap_shrink(mm, addr, old_len, new_len);
	return mremap_grow(mm, addr, old_len, new_len, flags);
}

/* ---- madvise ---- */

/* Advice Pagoda accepts: the ones that drop pages, and hints it may
 * ignore (as Linux may): NORMAL RANDOM SEQUENTIAL WILLNEED, REMOVE (9),
 * MERGEABLE/UNMERGEABLE (12, 13), HUGEPAGE/NOHUGEPAGE (14, 15),
 * DONTDUMP/DODUMP (16, 17), COLD/PAGEOUT (20, 21). */
static bool madvise_known(int advice)
{
	return (advice >= MADV_NORMAL && advice <= MADV_DONTNEED) || advice == MADV_FREE ||
	       (advice >= 12 && advice <= 17) || advice == 20 || advice == 21;
}

/* The errno madvise gives for each kind of bad range (Linux's order:
 * unaligned start, a length that rounds up or adds up past 2^64; a range
 * beyond user space finds no mapping and ends as ENOMEM). */
static int madvise_range(uintptr_t start, size_t len, uintptr_t *end)
{
	switch (user_range_check(start, len, end)) {
	case URANGE_OK: return 0;
	case URANGE_EMPTY: *end = start; return 0;
	case URANGE_BEYOND: return -ENOMEM;
	default: return -EINVAL;
	}
}

int do_madvise(struct mm_struct *mm, uintptr_t start, size_t len, int advice)
{
	bool drops = advice == MADV_DONTNEED || advice == MADV_FREE;
	uintptr_t end, covered;
	struct vm_area_struct *v;
	bool hole = false;
	int err;

	if (!madvise_known(advice))
		return -EINVAL;
	if ((err = madvise_range(start, len, &end)) < 0 || end == start)
		return err;
	/* Dropping pages from a table fork shared needs it unshared (a whole
	 * one is just dropped): before anything changes, so -ENOMEM is clean. */
	if (drops && (err = mm_unshare_range(mm, start, end, true)) < 0)
		return err;
	covered = start;
	for (v = vma_intersect(mm, start, end); v && v->vm_start < end; v = vma_next(mm, v)) {
		if (drops && (v->vm_flags & (VM_PFNMAP | VM_IO | VM_LOCKED)))
			return -EINVAL; /* device memory has no pages to drop; locked stays */
		if (advice == MADV_FREE && v->vm_file)
			return -EINVAL; /* only anonymous memory can be freed lazily */
		hole |= v->vm_start > covered;
		if ((advice == MADV_HUGEPAGE || advice == MADV_NOHUGEPAGE) &&
		    (err = thp_madvise(mm, &v, MAX(start, v->vm_start), MIN(end, v->vm_end),
				       advice)) < 0)
			return err;
		/* The entries go: private anonymous pages read back as zeroes;
		 * a file's or a shmem object's come back from its page cache
		 * (a private copy is lost: the file shows through again). */
		if (drops)
			mm_zap_range(mm, MAX(start, v->vm_start), MIN(end, v->vm_end));
		covered = v->vm_end;
	}
	/* As Linux: advise every mapped part, then report the holes. */
	return hole || covered < end ? -ENOMEM : 0;
}
