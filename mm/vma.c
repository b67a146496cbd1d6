/* The VMA list: a list sorted by address for walking, and a red-black tree
 * keyed by vm_start for finding the VMA of an address in O(log n), so that
 * a process with 10,000 mappings still faults quickly. Both always hold the
 * same VMAs; every change goes through vma_link()/vma_unlink(). */
#include <pagoda/errno.h>
#include <pagoda/pt_share.h>
#include <pagoda/pagemap.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/thp.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

struct vm_area_struct *vma_alloc(void)
{
	struct vm_area_struct *vma = kzalloc(sizeof(*vma), GFP_KERNEL);

	if (vma) {
		list_init(&vma->vm_list);
		list_init(&vma->vm_rmap);
	}
	return vma;
}

/* A VMA holds a reference on the file it maps (vm_file). */
void vma_free(struct vm_area_struct *vma)
{
	if (vma && vma->vm_file)
		file_put(vma->vm_file);
	kfree(vma);
}

struct vm_area_struct *vma_dup(const struct vm_area_struct *vma)
{
	struct vm_area_struct *c = vma_alloc();

	if (!c)
		return NULL;
	*c = *vma;
	list_init(&c->vm_list);
	list_init(&c->vm_rmap);
	if (c->vm_file)
		file_get(c->vm_file);
	return c;
}

struct vm_area_struct *vma_find(struct mm_struct *mm, uintptr_t addr)
{
	struct vm_area_struct *c = mm->vma_cache, *best = NULL;
	struct rb_node *n = mm->vma_tree.node;

	if (c && c->vm_start <= addr && addr < c->vm_end)
		return c;
	/* The VMAs do not overlap, so the first one ending above addr is the
	 * last one starting at or below addr if it contains addr, else the
	 * first one starting above addr. */
	while (n) {
		struct vm_area_struct *v = rb_entry(n, struct vm_area_struct, vm_rb);
		if (v->vm_end > addr) {
			best = v;
			if (v->vm_start <= addr)
				break;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	if (best)
		mm->vma_cache = best;
	return best;
}

struct vm_area_struct *vma_lookup(struct mm_struct *mm, uintptr_t addr)
{
	struct vm_area_struct *v = vma_find(mm, addr);

	return v && v->vm_start <= addr ? v : NULL;
}

struct vm_area_struct *vma_intersect(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	struct vm_area_struct *v = vma_find(mm, start);

	return v && v->vm_start < end ? v : NULL;
}

struct vm_area_struct *vma_next(struct mm_struct *mm, struct vm_area_struct *vma)
{
	return vma->vm_list.next == &mm->vma_list
		       ? NULL
		       : list_entry(vma->vm_list.next, struct vm_area_struct, vm_list);
}

struct vm_area_struct *vma_prev(struct mm_struct *mm, struct vm_area_struct *vma)
{
	return vma->vm_list.prev == &mm->vma_list
		       ? NULL
		       : list_entry(vma->vm_list.prev, struct vm_area_struct, vm_list);
}

void vma_gap_around(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t *floor,
		    uintptr_t *ceiling)
{
	struct vm_area_struct *prev = vma_prev(mm, vma), *next = vma_next(mm, vma);

	*floor = prev ? prev->vm_end : 0;
	*ceiling = next ? next->vm_start : USER_HALF_END;
}

int vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct rb_node **link = &mm->vma_tree.node, *parent = NULL;
	struct vm_area_struct *next = NULL;

	if (vma->vm_start >= vma->vm_end || !IS_ALIGNED(vma->vm_start, PAGE_SIZE) ||
	    !IS_ALIGNED(vma->vm_end, PAGE_SIZE))
		return -EINVAL;
	if (vma_intersect(mm, vma->vm_start, vma->vm_end))
		return -EEXIST;
	while (*link) {
		struct vm_area_struct *v = rb_entry(*link, struct vm_area_struct, vm_rb);
		parent = *link;
		if (vma->vm_start < v->vm_start) {
			next = v; /* the nearest VMA above: the list goes before it */
			link = &(*link)->left;
		} else {
			link = &(*link)->right;
		}
	}
	rb_link_node(&vma->vm_rb, parent, link);
	rb_insert_color(&vma->vm_rb, &mm->vma_tree);
	list_add_tail(&vma->vm_list, next ? &next->vm_list : &mm->vma_list);
	vma->vm_mm = mm;
	mm->map_count++;
	mm->total_vm += vma_pages(vma);
	rmap_add(vma);
	return 0;
}

void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma)
{
	rmap_del(vma);
	rb_erase(&vma->vm_rb, &mm->vma_tree);
	list_del(&vma->vm_list);
	if (mm->vma_cache == vma)
		mm->vma_cache = NULL;
	mm->map_count--;
	mm->total_vm -= vma_pages(vma);
}

int vma_split(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr,
	      struct vm_area_struct **tail)
{
	struct address_space *m = vma_mapping(vma);
	struct vm_area_struct *t;

	if (addr <= vma->vm_start || addr >= vma->vm_end || !IS_ALIGNED(addr, PAGE_SIZE))
		return -EINVAL;
	/* A huge page lies within one VMA (Linux's vma_adjust_trans_huge()). */
	if (thp_split_at(mm, addr) < 0)
		return -ENOMEM;
	/* A table fork shared lies in one VMA (mm/pt_share.c). */
	if ((addr & (pt_level_size(1) - 1)) && mm_unshare_range(mm, addr, addr + PAGE_SIZE, false) < 0)
		return -ENOMEM;
	t = vma_dup(vma);
	if (!t)
		return -ENOMEM;
	/* Truncation must never see the file's pages between the halves
	 * (vma shrunk, the tail not yet on i_mmap): it holds this lock. */
	if (m)
		mapping_lock(m);
	t->vm_start = addr;
	t->vm_pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	/* Shrinking keeps vma's key (vm_start), so the tree stays ordered. */
	mm->total_vm -= (vma->vm_end - addr) >> PAGE_SHIFT;
	vma->vm_end = addr;
	vma_link(mm, t); /* cannot fail: [addr, old end) is free now */
	if (m)
		mapping_unlock(m);
	if (t->vm_ops && t->vm_ops->open)
		t->vm_ops->open(t);
	*tail = t;
	return 0;
}

bool vma_can_merge(const struct vm_area_struct *a, const struct vm_area_struct *b)
{
	return a->vm_end == b->vm_start && a->vm_flags == b->vm_flags &&
	       a->vm_page_prot.bits == b->vm_page_prot.bits && a->vm_file == b->vm_file &&
	       !a->vm_ops && !b->vm_ops && !(a->vm_flags & VM_PFNMAP) &&
	       a->vm_private_data == b->vm_private_data &&
	       a->vm_pgoff + vma_pages(a) == b->vm_pgoff;
}

/* Fold b into a (a just below b); b is unlinked and freed. */
static void absorb(struct mm_struct *mm, struct vm_area_struct *a, struct vm_area_struct *b)
{
	uint64_t pages = vma_pages(b);

	vma_unlink(mm, b);
	a->vm_end = b->vm_end;
	mm->total_vm += pages;
	vma_free(b);
}

struct vm_area_struct *vma_merge_neighbours(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *prev = vma_prev(mm, vma), *next = vma_next(mm, vma);

	if (prev && vma_can_merge(prev, vma)) {
		absorb(mm, prev, vma);
		vma = prev;
	}
	if (next && vma_can_merge(vma, next))
		absorb(mm, vma, next);
	return vma;
}
