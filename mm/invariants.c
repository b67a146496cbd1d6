/* The memory system's invariants (include/pagoda/invariants.h): walk the
 * page tables of every address space and the descriptors of every frame,
 * and check that they tell the same story.
 *
 * Frames are counted from both ends. The page-table walk records one
 * reference per holder it finds (a user PTE, a kernel-stack PTE, a table
 * entry pointing at a table page) in an array of (pfn, kind) words, which
 * is then sorted so that each frame's holders sit together and can be
 * compared with the frame's reference count. The frame scan visits every
 * descriptor in address order and checks that the frames split exactly
 * into free blocks, allocated blocks and reserved frames.
 *
 * Shared data read: task_list (under tasklist_lock, taking a reference on
 * each mm), every mm (VMA list and tree, page tables), the kernel's PML4,
 * every struct page, the zones and the kmalloc caches. Nothing is written
 * but the report. Those are read without their locks, so the counts are
 * exact only while no other task changes memory: make test reads
 * /proc/pagoda/invariants when init's children are gone. A frame on a
 * CPU's free list (PG_pcp) counts as free. */
#include <stdarg.h>
#include <asm/cpu.h>
#include <asm/x86.h>
#include <pagoda/atomic.h>
#include <pagoda/invariants.h>
#include <pagoda/layout.h>
#include <pagoda/mm.h>
#include <pagoda/pgtable.h>
#include <pagoda/pmm.h>
#include <pagoda/pmm_deferred.h>
#include <pagoda/printk.h>
#include <pagoda/pt_share.h>
#include <pagoda/rbtree.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>

#define KIND_USER 0   /* a user PTE maps the frame */
#define KIND_KERNEL 1 /* a kernel-stack PTE maps the frame */
#define KIND_TABLE 2  /* a table entry points at the frame as a page table */
#define KIND_BITS 2
#define KERNEL_HALF_INDEX 256
#define CANONICAL_HIGH 0xffff000000000000ULL

static const char *const names[NR_INV] = {
	[INV_FRAME_STATES] = "frames_are_free_allocated_or_reserved",
	[INV_FREE_LISTS] = "free_lists_match_counts_and_buddies_are_merged",
	[INV_SLABS] = "slab_counts_match_free_objects",
	[INV_TABLES] = "page_tables_are_allocated_and_reached_once",
	[INV_REFCOUNTS] = "frame_refcounts_equal_mapping_ptes",
	[INV_NO_FREE_MAPPED] = "no_free_frame_is_mapped",
	[INV_DEVICE_UNCOUNTED] = "device_frames_are_not_counted",
	[INV_PRIVATE_EXCLUSIVE] = "private_writable_pages_are_exclusive",
	[INV_PTES_IN_VMAS] = "ptes_lie_in_vmas_that_allow_them",
	[INV_VMA_LISTS] = "vma_lists_and_trees_agree",
	[INV_KERNEL_HALF] = "kernel_half_is_shared",
};

const char *inv_name(enum inv_kind k)
{
	return k < NR_INV ? names[k] : "?";
}

static __printf(3, 4) void violation(struct inv_report *r, enum inv_kind k, const char *fmt, ...)
{
	uint64_t n = r->violations[k]++;
	va_list ap;

	if (n >= INV_MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(r->lines[k][n], INV_LINE, fmt, ap);
	va_end(ap);
}

/* ---- Holders found by the page-table walk ---- */

/* (pfn << KIND_BITS | kind) words. A first walk only counts (v NULL),
 * the second fills the array it sized. */
struct refs {
	uint64_t *v;
	size_t n, cap;
};

static void ref_add(struct refs *a, pfn_t pfn, unsigned int kind)
{
	if (a->v && a->n < a->cap)
		a->v[a->n] = pfn << KIND_BITS | kind;
	a->n++;
}

static void sift_down(uint64_t *v, size_t i, size_t n)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && v[c + 1] > v[c])
			c++;
		if (v[i] >= v[c])
			return;
		uint64_t t = v[i];
		v[i] = v[c];
		v[c] = t;
	}
}

/* Heapsort: no recursion, no extra memory, O(n log n) at worst. */
static void sort_u64(uint64_t *v, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n; end-- > 1;) {
		uint64_t t = v[0];
		v[0] = v[end];
		v[end] = t;
		sift_down(v, 0, end);
	}
}

/* Is pfn inside a free buddy block? A block of order o is aligned to 2^o,
 * so its head is pfn with the low k bits cleared for some k <= o. */
static bool frame_is_free(pfn_t pfn)
{
	struct page *p = pfn_to_page(pfn);

	if (p && (p->flags & PG_pcp))
		return true; /* on a CPU's free list */
	for (unsigned int k = 0; k <= MAX_ORDER; k++) {
		struct page *h = pfn_to_page(pfn & ~((1ULL << k) - 1));
		if (h && (h->flags & PG_buddy) && h->order >= k)
			return true;
	}
	return false;
}

/* ---- The page-table walk ---- */

struct walk {
	struct inv_report *r;
	struct refs *refs;
	struct inv_space *sp;       /* NULL: the kernel half */
	struct vm_area_struct *vma; /* cursor: the VMA the last leaf was in */
	bool check;                 /* the second walk: report, not just count */
	/* Tables fork shared (PG_pgshared) already walked: their entries are
	 * counted once, whichever address spaces reach them. */
	pfn_t *shared;
	size_t nr_shared, cap_shared;
};

/* Is the table at pfn one fork shared that this walk has been through?
 * Remembers it if not. */
static bool shared_table_seen(struct walk *w, pfn_t pfn)
{
	for (size_t i = 0; i < w->nr_shared; i++)
		if (w->shared[i] == pfn)
			return true;
	if (w->nr_shared < w->cap_shared)
		w->shared[w->nr_shared++] = pfn;
	else
		w->r->skip[INV_REFCOUNTS] = "more shared page tables than counted";
	return false;
}

static bool entry_used(pte_t e) { return e & (PTE_PRESENT | PTE_PROTNONE); }
static bool is_leaf(pte_t e, unsigned int level) { return level == 0 || (e & PTE_PS); }

/* The VMA holding [va, end), moving the cursor forward (leaves come in
 * address order). NULL when no single VMA holds it. */
static struct vm_area_struct *vma_at(struct walk *w, uintptr_t va, uintptr_t end)
{
	struct mm_struct *mm = w->sp->mm;
	struct list_head *pos = w->vma ? &w->vma->vm_list : mm->vma_list.next;

	for (; pos != &mm->vma_list; pos = pos->next) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_list);
		if (v->vm_end <= va)
			continue;
		w->vma = v;
		return v->vm_start <= va && end <= v->vm_end ? v : NULL;
	}
	return NULL;
}

/* What the VMA allows against what the PTE grants. */
static void check_leaf_vma(struct walk *w, pte_t e, uintptr_t va, uint64_t size,
			   struct page *page)
{
	struct vm_area_struct *v = vma_at(w, va, va + size);
	int pid = w->sp->pid;

	if (!v) {
		violation(w->r, INV_PTES_IN_VMAS, "pid %d: PTE at %#lx outside any VMA", pid, va);
		return;
	}
	if (!(e & PTE_USER) || ((e & PTE_WRITE) && !(v->vm_flags & VM_WRITE)) ||
	    ((e & PTE_PRESENT) && !(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) ||
	    (cpu.nx && !(v->vm_flags & VM_EXEC) && (e & PTE_PRESENT) && !(e & PTE_NX)))
		violation(w->r, INV_PTES_IN_VMAS, "pid %d: PTE %#llx at %#lx grants more than "
			  "VMA flags %#lx", pid, (unsigned long long)e, va, v->vm_flags);
	if ((e & PTE_COW) && (e & PTE_WRITE))
		violation(w->r, INV_PRIVATE_EXCLUSIVE, "pid %d: COW PTE at %#lx is writable", pid, va);
	if (page && !(e & PTE_SPECIAL) && (e & PTE_WRITE) && !(v->vm_flags & VM_SHARED) &&
	    !(page->flags & PG_tail) && page->refcount != 1)
		violation(w->r, INV_PRIVATE_EXCLUSIVE, "pid %d: private writable page at %#lx has "
			  "refcount %u", pid, va, page->refcount);
}

static void user_leaf(struct walk *w, pte_t e, unsigned int level, uintptr_t va)
{
	uint64_t size = pt_level_size(level);
	pfn_t pfn = phys_to_pfn(e & PTE_ADDR_MASK & ~(size - 1));
	struct page *page = pfn_to_page(pfn);
	int pid = w->sp->pid;

	/* A 4 KiB entry into a transparent huge page that was split while
	 * shared: its head holds the references of all 512 (mm/thp.c). */
	if (page && (page->flags & PG_tail))
		pfn = page_to_pfn((struct page *)(uintptr_t)page->private);
	if (!(e & PTE_SPECIAL))
		ref_add(w->refs, pfn, KIND_USER);
	if (!w->check)
		return;
	if (!(e & PTE_SPECIAL))
		w->sp->resident++;
	if (e & PTE_SPECIAL) {
		if (page && !(page->flags & PG_reserved))
			violation(w->r, INV_DEVICE_UNCOUNTED, "pid %d: special PTE at %#lx maps "
				  "allocator frame %#llx", pid, va, (unsigned long long)pfn);
	} else if (!page || (page->flags & PG_reserved)) {
		violation(w->r, INV_DEVICE_UNCOUNTED, "pid %d: counted PTE at %#lx maps %s frame "
			  "%#llx", pid, va, page ? "reserved" : "non-RAM", (unsigned long long)pfn);
		page = NULL;
	} else if (frame_is_free(pfn)) {
		violation(w->r, INV_NO_FREE_MAPPED, "pid %d: PTE at %#lx maps free frame %#llx",
			  pid, va, (unsigned long long)pfn);
	}
	check_leaf_vma(w, e, va, size, page);
}

/* Kernel-half leaves. The direct map, the image and the early fixmap are
 * windows onto physical memory (free frames included, as Linux's direct
 * map), not holders of it. A kernel stack's page is held and counted; an
 * ioremap() mapping holds device memory, never a frame of the allocator. */
static void kernel_leaf(struct walk *w, pte_t e, unsigned int level, uintptr_t va)
{
	pfn_t pfn = phys_to_pfn(e & PTE_ADDR_MASK & ~(pt_level_size(level) - 1));
	struct page *p = pfn_to_page(pfn);

	if (va >= KSTACK_AREA_BASE && va < KSTACK_AREA_END) {
		ref_add(w->refs, pfn, KIND_KERNEL);
		if (w->check && (!p || frame_is_free(pfn)))
			violation(w->r, INV_NO_FREE_MAPPED, "kernel stack PTE at %#lx maps %s frame "
				  "%#llx", va, p ? "free" : "non-RAM", (unsigned long long)pfn);
	} else if (va >= IOREMAP_BASE && va < IOREMAP_END) {
		if (w->check && p && !(p->flags & PG_reserved))
			violation(w->r, INV_DEVICE_UNCOUNTED, "ioremap PTE at %#lx maps allocator "
				  "frame %#llx", va, (unsigned long long)pfn);
	}
}

static uintptr_t entry_va(uintptr_t base, unsigned int level, unsigned int i)
{
	uintptr_t va = base | ((uintptr_t)i << (12 + 9 * level));

	return level == PT_LEVELS - 1 && i >= KERNEL_HALF_INDEX ? va | CANONICAL_HIGH : va;
}

/* Entries [lo, hi) of the table at pa (level), mapping from base. */
static void walk_table(struct walk *w, phys_addr_t pa, unsigned int level, uintptr_t base,
		       unsigned int lo, unsigned int hi)
{
	const pte_t *t = phys_to_virt(pa);

	for (unsigned int i = lo; i < hi; i++) {
		pte_t e = t[i];
		uintptr_t va = entry_va(base, level, i);
		if (!e)
			continue;
		if (!entry_used(e) || (!is_leaf(e, level) && !(e & PTE_PRESENT))) {
			if (w->check)
				violation(w->r, INV_TABLES, "stray entry %#llx at %#lx (level %u)",
					  (unsigned long long)e, va, level);
		} else if (is_leaf(e, level)) {
			(w->sp ? user_leaf : kernel_leaf)(w, e, level, va);
		} else {
			pfn_t child = phys_to_pfn(e & PTE_ADDR_MASK);
			struct page *tp = pfn_to_page(child);
			ref_add(w->refs, child, KIND_TABLE);
			if (w->sp && tp && (tp->flags & PG_pgshared) && shared_table_seen(w, child))
				continue; /* its entries are counted already */
			walk_table(w, e & PTE_ADDR_MASK, level - 1, va, 0, PT_ENTRIES);
		}
	}
}

/* One walk over every space's user half and, once, the kernel half. */
static void walk_all(struct inv_report *r, struct refs *refs, struct inv_space *sp,
		     unsigned int nr, bool check)
{
	const pte_t *kern = phys_to_virt(kernel_pml4);
	size_t cap = pt_share_nr_tables() + 64;
	struct walk w = { .r = r, .refs = refs, .check = check,
			  .shared = kmalloc(cap * sizeof(pfn_t), GFP_KERNEL) };

	w.cap_shared = w.shared ? cap : 0;

	walk_table(&w, kernel_pml4, PT_LEVELS - 1, 0, KERNEL_HALF_INDEX, PT_ENTRIES);
	for (unsigned int i = 0; i < nr; i++) {
		const pte_t *pml4 = phys_to_virt(sp[i].mm->pgd);
		w.sp = &sp[i];
		w.vma = NULL;
		ref_add(refs, phys_to_pfn(sp[i].mm->pgd), KIND_TABLE);
		walk_table(&w, sp[i].mm->pgd, PT_LEVELS - 1, 0, 0, KERNEL_HALF_INDEX);
		if (check && memcmp(pml4 + KERNEL_HALF_INDEX, kern + KERNEL_HALF_INDEX,
				    KERNEL_HALF_INDEX * sizeof(pte_t)))
			violation(r, INV_KERNEL_HALF, "pid %d: PML4 kernel half differs", sp[i].pid);
	}
	kfree(w.shared);
}

/* ---- Holders against reference counts ---- */

static void check_table_frame(struct inv_report *r, pfn_t pfn, size_t tables, size_t other)
{
	struct page *p = pfn_to_page(pfn);
	/* A table fork shared is reached once from each address space that
	 * points at it, and its reference count counts them. */
	bool shared = p && (p->flags & PG_pgshared);
	size_t holders = shared ? tables : 1;

	if ((tables > 1 && !shared) || other)
		violation(r, INV_TABLES, "table page %#llx reached %zu times, mapped %zu times",
			  (unsigned long long)pfn, tables, other);
	if (!p)
		violation(r, INV_TABLES, "table page %#llx is not RAM", (unsigned long long)pfn);
	else if (!(p->flags & PG_reserved) &&
		 (p->refcount != holders || (p->flags & (PG_slab | PG_buddy)) || frame_is_free(pfn)))
		violation(r, INV_TABLES, "table page %#llx: refcount %u flags %#x",
			  (unsigned long long)pfn, p->refcount, p->flags);
}

/* Frames are grouped in the sorted array: compare each group. */
static void check_holders(struct inv_report *r, const struct refs *a)
{
	for (size_t i = 0, j; i < a->n; i = j) {
		pfn_t pfn = a->v[i] >> KIND_BITS;
		size_t count[3] = { 0 };
		struct page *p;

		for (j = i; j < a->n && a->v[j] >> KIND_BITS == pfn; j++)
			count[a->v[j] & ((1 << KIND_BITS) - 1)]++;
		p = pfn_to_page(pfn);
		if (p && !(p->flags & PG_reserved)) /* reserved frames are counted as such */
			r->census[count[KIND_TABLE] ? CENSUS_TABLE : count[KIND_KERNEL] ? CENSUS_KSTACK :
				  CENSUS_USER]++;
		if (count[KIND_TABLE]) {
			check_table_frame(r, pfn, count[KIND_TABLE], count[KIND_USER] + count[KIND_KERNEL]);
			continue;
		}
		/* A page-cache page has one holder more: the cache. */
		if (p && !(p->flags & PG_reserved) &&
		    p->refcount != count[KIND_USER] + count[KIND_KERNEL] + !!(p->flags & PG_cache))
			violation(r, INV_REFCOUNTS, "frame %#llx: refcount %u, mapped by %zu PTEs%s",
				  (unsigned long long)pfn, p->refcount,
				  count[KIND_USER] + count[KIND_KERNEL],
				  (p->flags & PG_cache) ? " and the page cache" : "");
	}
}

/* ---- VMA lists ---- */

static void check_vmas(struct inv_report *r, const struct inv_space *sp)
{
	struct mm_struct *mm = sp->mm;
	struct rb_node *node = rb_first(&mm->vma_tree);
	uintptr_t prev_end = 0;
	uint64_t count = 0, pages = 0;
	struct list_head *pos;

	list_for_each(pos, &mm->vma_list) {
		struct vm_area_struct *v = list_entry(pos, struct vm_area_struct, vm_list);
		if (v->vm_start >= v->vm_end || v->vm_start < prev_end || v->vm_end > USER_SPACE_END ||
		    !IS_ALIGNED(v->vm_start | v->vm_end, PAGE_SIZE) || v->vm_mm != mm)
			violation(r, INV_VMA_LISTS, "pid %d: VMA [%#lx, %#lx) out of order or bad",
				  sp->pid, v->vm_start, v->vm_end);
		if (node != &v->vm_rb)
			violation(r, INV_VMA_LISTS, "pid %d: tree and list differ at %#lx", sp->pid,
				  v->vm_start);
		node = node ? rb_next(node) : NULL;
		prev_end = v->vm_end;
		count++;
		pages += vma_pages(v);
		if (count > mm->map_count + 1)
			break; /* a loop in the list: stop */
	}
	if (node || count != mm->map_count || pages != mm->total_vm)
		violation(r, INV_VMA_LISTS, "pid %d: %llu VMAs of %llu pages, map_count %u total_vm "
			  "%llu", sp->pid, (unsigned long long)count, (unsigned long long)pages,
			  mm->map_count, (unsigned long long)mm->total_vm);
}

/* ---- Every frame ---- */

struct scan {
	struct inv_report *r;
	uint64_t free_pages[NR_ZONES];
	uint64_t free_blocks[NR_ZONES][MAX_ORDER + 1];
	uint64_t pcp_free; /* free frames on the CPUs' lists */
	struct kmalloc_stats st[32]; /* the caches' own counts, read once */
	unsigned int nr_classes;
	uint64_t allocated, reserved, slab_frames;
	uint64_t slabs[32], objects[32];  /* what the scan finds */
	uint64_t unaccounted; /* frames neither free, allocated nor reserved */
};

static bool tail_clean(const struct page *p)
{
	return p->refcount == 0 &&
	       !(p->flags & (PG_buddy | PG_slab | PG_reserved | PG_head | PG_pcp));
}

/* The tails of the block at pfn (2^order frames) are plain descriptors. */
static void check_tails(struct scan *s, const struct mem_section *sec, pfn_t pfn,
			unsigned int order)
{
	if (order > MAX_ORDER || (pfn & ((1ULL << order) - 1)) || pfn + (1ULL << order) > sec->end) {
		violation(s->r, INV_FRAME_STATES, "block %#llx of order %u misplaced",
			  (unsigned long long)pfn, order);
		return;
	}
	for (pfn_t i = 1; i < (1ULL << order); i++)
		if (!tail_clean(&sec->pages[pfn - sec->start + i]))
			violation(s->r, INV_FRAME_STATES, "frame %#llx inside block %#llx (order %u) "
				  "is in use", (unsigned long long)(pfn + i), (unsigned long long)pfn,
				  order);
}

static void scan_free_block(struct scan *s, const struct mem_section *sec, pfn_t pfn,
			    const struct page *p)
{
	pfn_t buddy = pfn ^ (1ULL << p->order);
	struct page *b = p->order < MAX_ORDER ? pfn_to_page(buddy) : NULL;

	check_tails(s, sec, pfn, p->order);
	if (p->refcount || p->zone >= NR_ZONES || p->order > MAX_ORDER) {
		violation(s->r, INV_FRAME_STATES, "free block %#llx: refcount %u zone %u",
			  (unsigned long long)pfn, p->refcount, p->zone);
		return;
	}
	s->free_pages[p->zone] += 1ULL << p->order;
	s->free_blocks[p->zone][p->order]++;
	if (b && (b->flags & PG_buddy) && b->order == p->order && buddy > pfn)
		violation(s->r, INV_FREE_LISTS, "free buddies %#llx and %#llx of order %u not merged",
			  (unsigned long long)pfn, (unsigned long long)buddy, p->order);
}

static void scan_slab(struct scan *s, pfn_t pfn, struct page *p)
{
	int free = kmalloc_slab_free_objects(p);
	unsigned int cls = p->order, in_use;

	if (cls >= s->nr_classes || free < 0) {
		violation(s->r, INV_SLABS, "slab %#llx: class %u, free list broken",
			  (unsigned long long)pfn, cls);
		return;
	}
	in_use = PAGE_SIZE / s->st[cls].object_size - free;
	if (p->refcount != in_use + 1)
		violation(s->r, INV_SLABS, "slab %#llx: refcount %u, %u objects in use",
			  (unsigned long long)pfn, p->refcount, in_use);
	s->slabs[cls]++;
	s->objects[cls] += in_use;
}

/* Returns the number of frames the descriptor at pfn accounts for. */
static pfn_t scan_frame(struct scan *s, const struct mem_section *sec, pfn_t pfn)
{
	struct page *p = &sec->pages[pfn - sec->start];
	unsigned int order;

	if (p->flags & PG_buddy) {
		scan_free_block(s, sec, pfn, p);
		return p->order <= MAX_ORDER ? 1ULL << p->order : 1;
	}
	if (p->flags & PG_reserved) {
		s->reserved++;
		return 1;
	}
	if (p->flags & PG_pcp) { /* free, on a CPU's list: not in the zone's count */
		if (p->refcount || p->flags != PG_pcp)
			violation(s->r, INV_FRAME_STATES, "frame %#llx on a CPU's free list: "
				  "refcount %u flags %#x", (unsigned long long)pfn, p->refcount,
				  p->flags);
		s->pcp_free++;
		return 1;
	}
	if (!p->refcount) {
		violation(s->r, INV_FRAME_STATES, "frame %#llx is neither free, allocated nor "
			  "reserved (flags %#x)", (unsigned long long)pfn, p->flags);
		s->unaccounted++;
		return 1;
	}
	if (p->flags & PG_slab) {
		scan_slab(s, pfn, p);
		s->slab_frames++;
		s->allocated++;
		return 1;
	}
	order = (p->flags & PG_head) ? p->order : 0;
	check_tails(s, sec, pfn, order);
	order = order <= MAX_ORDER ? order : 0;
	s->allocated += 1ULL << order;
	return 1ULL << order;
}

/* Each zone's lists hold PG_buddy heads of the list's order, as many as
 * nr_free says; the scan found the same number of blocks and frames. */
static void check_zone_lists(struct scan *s, enum zone_type z)
{
	struct zone *zone = &zones[z];

	if (s->free_pages[z] != zone->free_pages)
		violation(s->r, INV_FREE_LISTS, "zone %s: %llu free frames found, %llu counted",
			  zone->name, (unsigned long long)s->free_pages[z],
			  (unsigned long long)zone->free_pages);
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		uint64_t n = 0, limit = zone->managed_pages + 1;
		struct list_head *pos;
		for (pos = zone->free_list[o].next; pos != &zone->free_list[o] && n < limit;
		     pos = pos->next, n++) {
			struct page *p = list_entry(pos, struct page, lru);
			if (!(p->flags & PG_buddy) || p->order != o || p->zone != z)
				violation(s->r, INV_FREE_LISTS, "zone %s order %u: entry not a free "
					  "block of that order", zone->name, o);
		}
		if (n != zone->nr_free[o] || n != s->free_blocks[z][o])
			violation(s->r, INV_FREE_LISTS, "zone %s order %u: list %llu, nr_free %llu, "
				  "found %llu", zone->name, o, (unsigned long long)n,
				  (unsigned long long)zone->nr_free[o],
				  (unsigned long long)s->free_blocks[z][o]);
	}
}

static void check_cache_totals(struct scan *s)
{
	for (unsigned int c = 0; c < s->nr_classes; c++) {
		const struct kmalloc_stats *st = &s->st[c];
		if (st->slabs != s->slabs[c] || st->objects_in_use != s->objects[c])
			violation(s->r, INV_SLABS, "kmalloc-%zu: %llu slabs, %llu objects counted; "
				  "%llu, %llu found", st->object_size, (unsigned long long)st->slabs,
				  (unsigned long long)st->objects_in_use,
				  (unsigned long long)s->slabs[c], (unsigned long long)s->objects[c]);
	}
}

/* One pass over every frame, with the caches and the zones frozen. */
static void scan_frames_once(struct scan *s)
{
	uint64_t flags, slab_flags;

	/* The caches' counts, their slabs, the zones' lists and the frames
	 * must be read at one moment: another CPU may still be freeing (a
	 * dead thread's stack, a block of deferred descriptors) when the
	 * caller's machine looks quiet. Caches before zones: the lock order. */
	slab_flags = kmalloc_freeze(s->st, ARRAY_SIZE(s->st), &s->nr_classes);
	flags = pmm_freeze();
	for (unsigned int i = 0; i < nr_mem_sections; i++) {
		const struct mem_section *sec = &mem_sections[i];
		for (pfn_t pfn = sec->start; pfn < sec->end;)
			pfn += scan_frame(s, sec, pfn);
	}
	for (unsigned int z = 0; z < NR_ZONES; z++)
		check_zone_lists(s, z);
	pmm_thaw(flags);
	kmalloc_thaw(slab_flags);
	check_cache_totals(s);
}

/* A frame is outside every state for a moment on its way in or out:
 * between its last reference and a free list (alloc_pages() and
 * free_pages() hold no lock there, and a free first poisons the frame),
 * and a CPU's list serves other CPUs' frees while the zones are frozen.
 * A scan that finds such frames is made again, a little later, and only
 * the last attempt reports: a frame left out for good stays out. */
#define SCAN_ATTEMPTS 5
#define SCAN_SETTLE_DIVISOR 100 /* wait a hundredth of a second between */

static void settle(void)
{
	uint64_t start = rdtsc(), wait = tsc_hz() / SCAN_SETTLE_DIVISOR;

	while (rdtsc() - start < wait)
		cpu_relax();
}

static void scan_frames(struct inv_report *r)
{
	struct scan *s = kzalloc(sizeof(*s), GFP_KERNEL);
	uint64_t before[NR_INV];

	if (!s) {
		r->skip[INV_FRAME_STATES] = r->skip[INV_FREE_LISTS] = r->skip[INV_SLABS] =
			"out of memory for the frame scan";
		return;
	}
	for (unsigned int attempt = 1;; attempt++) {
		memcpy(before, r->violations, sizeof(before));
		memset(s, 0, sizeof(*s));
		s->r = r;
		scan_frames_once(s);
		if (!s->unaccounted || attempt == SCAN_ATTEMPTS)
			break;
		memcpy(r->violations, before, sizeof(before)); /* this pass's lines go */
		settle();
	}
	for (unsigned int z = 0; z < NR_ZONES; z++)
		r->census[CENSUS_FREE] += s->free_pages[z];
	r->census[CENSUS_FREE] += s->pcp_free;
	r->census[CENSUS_SLAB] = s->slab_frames;
	r->census[CENSUS_RESERVED] = s->reserved;
	r->census[CENSUS_OTHER] = s->allocated - s->slab_frames - r->census[CENSUS_USER] -
				  r->census[CENSUS_KSTACK] - r->census[CENSUS_TABLE];
	kfree(s);
}

/* ---- Putting it together ---- */

static unsigned int order_for(size_t bytes)
{
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

void inv_check(struct inv_space *spaces, unsigned int nr, unsigned int flags,
	       struct inv_report *r)
{
	struct refs refs = { 0 };
	struct page *buf;
	unsigned int order;

	walk_all(r, &refs, spaces, nr, false);
	order = order_for(MAX(refs.n, (size_t)1) * sizeof(uint64_t));
	buf = order <= MAX_ORDER ? alloc_pages(GFP_KERNEL, order) : NULL;
	if (!buf) {
		r->skip[INV_TABLES] = r->skip[INV_REFCOUNTS] = "no buffer for the PTE census";
	} else {
		refs = (struct refs){ .v = page_address(buf), .cap = refs.n };
		walk_all(r, &refs, spaces, nr, true);
		sort_u64(refs.v, MIN(refs.n, refs.cap));
		refs.n = MIN(refs.n, refs.cap);
		check_holders(r, &refs);
	}
	for (unsigned int i = 0; i < nr; i++)
		check_vmas(r, &spaces[i]);
	if (flags & INV_ALL_FRAMES) {
		pmm_deferred_wait(); /* every frame's descriptor written (pmm_deferred.h) */
		scan_frames(r); /* with the census buffer still allocated: counted */
	}
	if (buf)
		free_pages(buf, order);
}

/* ---- /proc/pagoda/invariants: every task's mm, as a KTAP suite ---- */

struct out {
	char *buf;
	size_t size, len;
};

static __printf(2, 3) void out_printf(struct out *o, const char *fmt, ...)
{
	size_t at = MIN(o->len, o->size);
	va_list ap;

	va_start(ap, fmt);
	o->len += vsnprintf(o->buf + at, o->size - at, fmt, ap);
	va_end(ap);
}

static void put_spaces(struct inv_space *sp, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		mm_put(sp[i].mm);
	kfree(sp);
}

/* Fill sp[0..cap) with every task's address space, once each, each with
 * a reference. False if there are more than cap. */
static bool collect_spaces_locked(struct inv_space *sp, unsigned int cap, unsigned int *nr)
{
	struct list_head *pos;

	assert_spin_locked(&tasklist_lock);
	*nr = 0;
	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		bool seen = false;
		for (unsigned int i = 0; i < *nr; i++)
			seen |= sp[i].mm == t->mm;
		if (!t->mm || seen)
			continue;
		if (*nr == cap)
			return false;
		mm_get(t->mm);
		sp[(*nr)++] = (struct inv_space){ t->mm, t->pid, 0 };
	}
	return true;
}

/* Every task's address space, once each, pinned (put_spaces() drops
 * them). NULL when out of memory. */
static struct inv_space *collect_spaces(unsigned int *nr)
{
	for (unsigned int cap = 64;; cap *= 2) {
		struct inv_space *sp = kmalloc(cap * sizeof(*sp), GFP_KERNEL);
		uint64_t flags;
		bool all;

		if (!sp)
			return NULL;
		flags = spin_lock_irqsave(&tasklist_lock);
		all = collect_spaces_locked(sp, cap, nr);
		spin_unlock_irqrestore(&tasklist_lock, flags);
		if (all)
			return sp;
		put_spaces(sp, *nr);
	}
}

static void print_case(struct out *o, const struct inv_report *r, enum inv_kind k,
		       unsigned int *counts)
{
	uint64_t n = r->violations[k];

	for (uint64_t i = 0; i < MIN(n, (uint64_t)INV_MAX_LINES); i++) {
		out_printf(o, "    # %s: %s\n", names[k], r->lines[k][i]);
		pr_err("invariants: %s: %s\n", names[k], r->lines[k][i]);
	}
	if (n > INV_MAX_LINES)
		out_printf(o, "    # %s: and %llu more\n", names[k],
			   (unsigned long long)(n - INV_MAX_LINES));
	if (r->skip[k] && !n) {
		out_printf(o, "    ok %u %s # SKIP %s\n", k + 1, names[k], r->skip[k]);
		counts[2]++;
	} else {
		out_printf(o, "    %s %u %s\n", n ? "not ok" : "ok", k + 1, names[k]);
		counts[n ? 1 : 0]++;
	}
}

int inv_ktap(char *buf, size_t size)
{
	struct inv_report *r;
	struct inv_space *sp;
	struct out o = { buf, size, 0 };
	unsigned int nr = 0, counts[3] = { 0 };

	task_wait_dying(); /* the threads of a process just reaped are gone too */
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	sp = r ? collect_spaces(&nr) : NULL;

	if (sp)
		inv_check(sp, nr, INV_ALL_FRAMES, r);
	out_printf(&o, "    KTAP version 1\n    # Subtest: invariants\n    1..%u\n", NR_INV);
	if (sp)
		out_printf(&o, "    # census: free %llu user %llu tables %llu kstacks %llu slab %llu "
			   "other %llu reserved %llu\n", (unsigned long long)r->census[CENSUS_FREE],
			   (unsigned long long)r->census[CENSUS_USER],
			   (unsigned long long)r->census[CENSUS_TABLE],
			   (unsigned long long)r->census[CENSUS_KSTACK],
			   (unsigned long long)r->census[CENSUS_SLAB],
			   (unsigned long long)r->census[CENSUS_OTHER],
			   (unsigned long long)r->census[CENSUS_RESERVED]);
	for (unsigned int i = 0; sp && i < nr; i++)
		out_printf(&o, "    # resident: pid %d %llu pages\n", sp[i].pid,
			   (unsigned long long)sp[i].resident);
	for (unsigned int k = 0; k < NR_INV; k++) {
		if (!sp) {
			out_printf(&o, "    ok %u %s # SKIP out of memory\n", k + 1, names[k]);
			counts[2]++;
		} else {
			print_case(&o, r, k, counts);
		}
	}
	out_printf(&o, "# invariants: pass:%u fail:%u skip:%u total:%u\n", counts[0], counts[1],
		   counts[2], NR_INV);
	if (sp)
		put_spaces(sp, nr);
	kfree(r);
	if (size)
		buf[MIN(o.len, size - 1)] = '\0';
	return (int)o.len;
}
