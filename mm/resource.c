/* The physical resource tree, as Linux's kernel/resource.c and /proc/iomem.
 * See include/pagoda/resource.h.
 *
 * Every node covers a half-open range [start, end). A parent's children are
 * a singly linked list through ->sibling, sorted by start, not overlapping,
 * each inside the parent:
 *
 *   iomem_resource [0, 2^64 - 1)
 *     System RAM [0x100000, 0x7fe0000)          <- parent->child
 *       Kernel code, Kernel rodata, ...         <- its children
 *     Reserved   [0xfeffc000, 0xff000000)       <- ->sibling of System RAM
 *
 * Only the text format (resource_format) shows inclusive ends, because
 * that is what /proc/iomem prints and what students compare against.
 *
 * No lock: the tree is built at boot, before the other CPUs start, and is
 * only read afterwards (/proc/iomem, /dev/mem's checks). A caller that
 * edits it later must add one. */
#include <pagoda/errno.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <pagoda/multiboot2.h>
#include <pagoda/printk.h>
#include <pagoda/resource.h>
#include <pagoda/string.h>

struct resource iomem_resource = {
	.name = "PCI mem",
	.start = 0,
	.end = UINT64_MAX,
	.flags = IORESOURCE_MEM,
};

/* Is [start, end) a non-empty range inside parent? */
static bool fits_in(const struct resource *parent, phys_addr_t start, phys_addr_t end)
{
	return start < end && parent->start <= start && end <= parent->end;
}

/* The link (parent->child or some ->sibling) that points at the first
 * child of parent ending after start: where a range starting at start
 * belongs, and the first child that could overlap it. */
static struct resource **find_link(struct resource *parent, phys_addr_t start)
{
	struct resource **p = &parent->child;

	while (*p && (*p)->end <= start)
		p = &(*p)->sibling;
	return p;
}

/* Checks shared by request and insert: a sane range, not already in a
 * tree, inside parent. */
static int check_new(const struct resource *parent, const struct resource *new)
{
	if (!parent || !new || new == parent || new->parent)
		return -EINVAL;
	if (!fits_in(parent, new->start, new->end))
		return -EINVAL;
	return 0;
}

int request_resource(struct resource *parent, struct resource *new, struct resource **conflict)
{
	struct resource **p;
	int err = check_new(parent, new);

	if (err)
		return err;
	p = find_link(parent, new->start);
	if (*p && (*p)->start < new->end) {
		if (conflict)
			*conflict = *p;
		return -EBUSY;
	}
	new->sibling = *p;
	new->parent = parent;
	*p = new;
	return 0;
}

/* Move the run of children [*first, past) under new, and put new in its
 * place. The caller has checked that every one of them lies inside new. */
static void adopt_run(struct resource *parent, struct resource **first, struct resource *past,
		      struct resource *new)
{
	struct resource *r = *first;

	new->child = r;
	for (;;) {
		r->parent = new;
		if (r->sibling == past)
			break;
		r = r->sibling;
	}
	r->sibling = NULL;
	new->sibling = past;
	new->parent = parent;
	*first = new;
}

/* As Linux's __insert_resource(): go down into a child that contains new
 * whole; at the level where that stops, take every overlapping child as
 * a child of new, provided each lies inside new. A new that already has
 * children cannot adopt more (their lists would have to be merged). */
int insert_resource(struct resource *parent, struct resource *new)
{
	struct resource **first, *past;
	int err = check_new(parent, new);

	if (err)
		return err;
	for (;;) {
		first = find_link(parent, new->start);
		if (!*first || (*first)->start >= new->end)
			return request_resource(parent, new, NULL);
		if (!fits_in(*first, new->start, new->end))
			break;
		parent = *first; /* it contains new whole: go down */
	}
	if ((*first)->start < new->start || new->child)
		return -EBUSY;
	for (past = *first; past && past->start < new->end; past = past->sibling)
		if (past->end > new->end)
			return -EBUSY;
	adopt_run(parent, first, past, new);
	return 0;
}

int release_resource(struct resource *res)
{
	struct resource **p;

	if (!res || !res->parent)
		return -EINVAL;
	for (p = &res->parent->child; *p; p = &(*p)->sibling) {
		if (*p == res) {
			*p = res->sibling;
			res->sibling = NULL;
			res->parent = NULL;
			return 0;
		}
	}
	pr_warn("resource: %s [%#llx-%#llx) not among its parent's children\n", res->name,
		(unsigned long long)res->start, (unsigned long long)res->end);
	return -EINVAL;
}

struct resource *resource_lookup(struct resource *root, phys_addr_t start, phys_addr_t end)
{
	struct resource *r;

	if (!root || !fits_in(root, start, end))
		return NULL;
	for (;;) {
		r = *find_link(root, start);
		if (!r || !fits_in(r, start, end))
			return root;
		root = r;
	}
}

/* The next resource in depth-first order below top, and its depth
 * relative to top's children (0); NULL when the walk is done. */
static const struct resource *walk_next(const struct resource *top, const struct resource *r,
					int *depth)
{
	if (r->child) {
		(*depth)++;
		return r->child;
	}
	while (!r->sibling) {
		r = r->parent;
		if (!r || r == top)
			return NULL;
		(*depth)--;
	}
	return r->sibling;
}

/* Linux's r_show(): at least 8 hex digits, two spaces per level. */
#define IOMEM_LINE_FMT "%*s%08llx-%08llx : %s\n"
#define IOMEM_LINE_ARGS(r, depth)                                                   \
	(depth) * 2, "", (unsigned long long)(r)->start,                           \
		(unsigned long long)((r)->end - 1), (r)->name ? (r)->name : "<BAD>"

int resource_format(const struct resource *root, char *buf, size_t size)
{
	size_t len = 0;
	int depth = 0;

	if (size)
		buf[0] = '\0';
	if (!root)
		return 0;
	for (const struct resource *r = root->child; r; r = walk_next(root, r, &depth)) {
		size_t at = MIN(len, size);
		len += snprintf(buf + at, size - at, IOMEM_LINE_FMT, IOMEM_LINE_ARGS(r, depth));
	}
	return (int)len;
}

void resource_print(void)
{
	int depth = 0;

	pr_info("resource: physical address map (as /proc/iomem, inclusive ends):\n");
	for (const struct resource *r = iomem_resource.child; r;
	     r = walk_next(&iomem_resource, r, &depth))
		pr_info(IOMEM_LINE_FMT, IOMEM_LINE_ARGS(r, depth));
}

/* ---- The boot tree ---------------------------------------------------- */

/* Static nodes for the boot tree: a PC's firmware map has a few dozen
 * entries at most, so 256 leaves room for what drivers add later. */
#define RESOURCE_POOL_SIZE 256
static struct resource resource_pool[RESOURCE_POOL_SIZE];
static unsigned int resource_pool_used;

static struct resource *pool_get(const char *name, unsigned long flags, phys_addr_t start,
				 phys_addr_t end)
{
	struct resource *r;

	if (resource_pool_used == RESOURCE_POOL_SIZE) {
		pr_warn("resource: pool of %u exhausted; %s [%#llx-%#llx) not listed\n",
			RESOURCE_POOL_SIZE, name, (unsigned long long)start,
			(unsigned long long)end);
		return NULL;
	}
	r = &resource_pool[resource_pool_used++];
	*r = (struct resource){ .name = name, .start = start, .end = end, .flags = flags };
	return r;
}

static bool same_kind(const struct resource *r, const char *name, unsigned long flags)
{
	return r && !r->child && r->flags == flags && strcmp(r->name, name) == 0;
}

/* Grow a top-level neighbour of the same kind that touches the free range
 * [start, end) over it, as Linux's e820 table merges adjacent entries of
 * one type (a UEFI memory map lists many). Returns true when one grew. */
static bool merge_into_neighbour(const char *name, unsigned long flags, phys_addr_t start,
				 phys_addr_t end)
{
	struct resource *prev = NULL, *next = iomem_resource.child;

	for (; next && next->end <= start; next = next->sibling)
		prev = next;
	if (prev && prev->end == start && same_kind(prev, name, flags)) {
		prev->end = end;
		if (next && next->start == end && same_kind(next, name, flags)) {
			prev->end = next->end;
			release_resource(next); /* its pool slot stays used */
		}
		return true;
	}
	if (next && next->start == end && same_kind(next, name, flags)) {
		next->start = start;
		return true;
	}
	return false;
}

static void add_one_top(const char *name, unsigned long flags, phys_addr_t start,
			phys_addr_t end)
{
	struct resource *r;

	if (merge_into_neighbour(name, flags, start, end))
		return;
	r = pool_get(name, flags, start, end);
	if (r && request_resource(&iomem_resource, r, NULL) < 0) {
		pr_warn("resource: cannot add %s [%#llx-%#llx)\n", name,
			(unsigned long long)start, (unsigned long long)end);
		resource_pool_used--; /* r was the last one handed out */
	}
}

/* Add [start, end) at the top level, only in the gaps that earlier entries
 * left: a firmware map may overlap itself, and a memmap= range may overlap
 * a reserved entry. The first to claim an address keeps it. */
static void add_top(const char *name, unsigned long flags, phys_addr_t start, phys_addr_t end)
{
	while (start < end) {
		const struct resource *c = *find_link(&iomem_resource, start);
		phys_addr_t gap_end = c ? MIN(c->start, end) : end;
		phys_addr_t next = c ? c->end : end; /* read before a merge moves c */

		if (gap_end > start)
			add_one_top(name, flags, start, gap_end);
		start = next;
	}
}

#define SYSRAM_FLAGS (IORESOURCE_SYSRAM | IORESOURCE_MEM | IORESOURCE_BUSY)

/* One piece P of a firmware RAM entry, clear of memmap= ranges: list the
 * parts memblock kept as RAM (what mem= cut is not listed, as in Linux).
 * memblock also trimmed each entry inward to whole pages; where a memblock
 * range is P so trimmed, P's own edges are listed, as the firmware gave
 * them ("00000000-0009fbff : System RAM"), not the page-aligned ones. */
static void add_ram_piece(phys_addr_t start, phys_addr_t end)
{
	for (unsigned int i = 0; i < memblock_memory.nr; i++) {
		phys_addr_t lo = memblock_memory.r[i].base, hi = memblock_memory.r[i].end;
		if (lo == ALIGN_UP(start, PAGE_SIZE))
			lo = MIN(lo, start);
		if (hi == ALIGN_DOWN(end, PAGE_SIZE))
			hi = MAX(hi, end);
		lo = MAX(lo, start);
		hi = MIN(hi, end);
		if (lo < hi)
			add_top("System RAM", SYSRAM_FLAGS, lo, hi);
	}
}

/* A firmware RAM entry [start, end) minus the memmap= ranges, which
 * memblock_memmap keeps sorted and disjoint. */
static void add_ram_entry(phys_addr_t start, phys_addr_t end)
{
	for (unsigned int i = 0; i < memblock_memmap.nr && start < end; i++) {
		const struct memblock_range *m = &memblock_memmap.r[i];
		if (m->end <= start || m->base >= end)
			continue;
		if (m->base > start)
			add_ram_piece(start, m->base);
		start = m->end;
	}
	if (start < end)
		add_ram_piece(start, end);
}

static const char *mmap_type_name(uint32_t type)
{
	switch (type) {
	case MB2_MEMORY_AVAILABLE: return "System RAM";
	case MB2_MEMORY_ACPI_RECLAIMABLE: return "ACPI Tables";
	case MB2_MEMORY_NVS: return "ACPI Non-volatile Storage";
	default: return "Reserved";
	}
}

/* "Reserved" stays not busy, as in Linux, so that a driver can later claim
 * a device window (a framebuffer, a PCI BAR) that firmware marked
 * reserved; ACPI's ranges belong to the firmware and are busy. */
static void add_firmware_map(void)
{
	for (unsigned int i = 0; i < boot_info.nr_mmap; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];
		phys_addr_t end = e->base + e->len < e->base ? UINT64_MAX : e->base + e->len;
		unsigned long flags = IORESOURCE_MEM;

		if (e->type == MB2_MEMORY_AVAILABLE) {
			add_ram_entry(e->base, end);
			continue;
		}
		if (e->type == MB2_MEMORY_ACPI_RECLAIMABLE || e->type == MB2_MEMORY_NVS)
			flags |= IORESOURCE_BUSY;
		add_top(mmap_type_name(e->type), flags, e->base, end);
	}
}

/* memmap=SIZE$ADDR: Linux makes the range an E820 reserved entry, so it
 * shows as a top-level "Reserved" that splits the System RAM around it. */
static void add_memmap_ranges(void)
{
	for (unsigned int i = 0; i < memblock_memmap.nr; i++)
		add_top("Reserved", IORESOURCE_MEM, memblock_memmap.r[i].base,
			memblock_memmap.r[i].end);
}

/* The kernel image, with Linux's names, under the System RAM holding it. */
static struct resource kernel_parts[] = {
	{ .name = "Kernel code", .flags = SYSRAM_FLAGS },
	{ .name = "Kernel rodata", .flags = SYSRAM_FLAGS },
	{ .name = "Kernel data", .flags = SYSRAM_FLAGS },
	{ .name = "Kernel bss", .flags = SYSRAM_FLAGS },
};

static void add_kernel_image(void)
{
	const char *bounds[][2] = {
		{ __text_start, __text_end },   { __rodata_start, __rodata_end },
		{ __data_start, __bss_start },  { __bss_start, __bss_end },
	};
	phys_addr_t start = kernel_virt_to_phys(__text_start), end = kernel_virt_to_phys(__bss_end);
	struct resource *ram = resource_lookup(&iomem_resource, start, end);

	if (!ram || !(ram->flags & IORESOURCE_SYSRAM)) {
		pr_warn("resource: kernel image [%#llx-%#llx) not inside one System RAM range\n",
			(unsigned long long)start, (unsigned long long)end);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kernel_parts); i++) {
		struct resource *r = &kernel_parts[i];
		r->start = kernel_virt_to_phys(bounds[i][0]);
		r->end = kernel_virt_to_phys(bounds[i][1]);
		if (r->start < r->end && request_resource(ram, r, NULL) < 0)
			pr_warn("resource: cannot add %s\n", r->name);
	}
}

void resource_init_boot(void)
{
	static bool done;

	if (done) {
		pr_warn("resource: resource_init_boot() called twice; ignored\n");
		return;
	}
	done = true;
	add_firmware_map();
	add_memmap_ranges();
	add_kernel_image();
}
