/* Tests of the resource tree: the tree operations on private trees built
 * from resources on the stack, then the boot tree that resource_init_boot()
 * built from the firmware map and memblock. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <pagoda/resource.h>
#include <pagoda/string.h>

#define RES(n, s, e) ((struct resource){ .name = (n), .start = (s), .end = (e), .flags = IORESOURCE_MEM })

static void resource_request_inside_parent_succeeds(struct ktest *t)
{
	struct resource root = RES("root", 0x1000, 0x10000);
	struct resource a = RES("a", 0x2000, 0x3000), b = RES("b", 0x1000, 0x10000);

	KASSERT_EQ(t, request_resource(&root, &a, NULL), 0);
	KEXPECT_TRUE(t, a.parent == &root);
	KEXPECT_TRUE(t, root.child == &a);
	KEXPECT_EQ(t, release_resource(&a), 0);
	/* The parent's whole range is inside it, too. */
	KEXPECT_EQ(t, request_resource(&root, &b, NULL), 0);
}

static void resource_request_keeps_children_sorted(struct ktest *t)
{
	struct resource root = RES("root", 0, 0x10000);
	struct resource a = RES("a", 0x1000, 0x2000), b = RES("b", 0x2000, 0x3000),
			c = RES("c", 0x8000, 0x9000);

	KASSERT_EQ(t, request_resource(&root, &c, NULL), 0);
	KASSERT_EQ(t, request_resource(&root, &a, NULL), 0);
	KASSERT_EQ(t, request_resource(&root, &b, NULL), 0); /* touching a is fine */
	KEXPECT_TRUE(t, root.child == &a);
	KEXPECT_TRUE(t, a.sibling == &b);
	KEXPECT_TRUE(t, b.sibling == &c);
	KEXPECT_NULL(t, c.sibling);
}

static void resource_request_overlap_returns_ebusy_with_conflict(struct ktest *t)
{
	struct resource root = RES("root", 0, 0x10000);
	struct resource a = RES("a", 0x2000, 0x4000), b = RES("b", 0x3fff, 0x5000),
			c = RES("c", 0x1000, 0x8000), *conflict = NULL;

	KASSERT_EQ(t, request_resource(&root, &a, NULL), 0);
	KEXPECT_EQ(t, request_resource(&root, &b, &conflict), -EBUSY);
	KEXPECT_TRUE(t, conflict == &a);
	conflict = NULL;
	KEXPECT_EQ(t, request_resource(&root, &c, &conflict), -EBUSY); /* covers a */
	KEXPECT_TRUE(t, conflict == &a);
	KEXPECT_EQ(t, request_resource(&root, &b, NULL), -EBUSY); /* conflict may be NULL */
	KEXPECT_NULL(t, b.parent);
	KEXPECT_TRUE(t, root.child == &a && !a.sibling);
}

static void resource_request_outside_parent_returns_einval(struct ktest *t)
{
	struct resource root = RES("root", 0x1000, 0x10000);
	struct resource below = RES("below", 0x0, 0x2000), above = RES("above", 0xf000, 0x10001);

	KEXPECT_EQ(t, request_resource(&root, &below, NULL), -EINVAL);
	KEXPECT_EQ(t, request_resource(&root, &above, NULL), -EINVAL);
	KEXPECT_EQ(t, insert_resource(&root, &above), -EINVAL);
	KEXPECT_NULL(t, root.child);
}

static void resource_request_empty_or_inverted_returns_einval(struct ktest *t)
{
	struct resource root = RES("root", 0, 0x10000);
	struct resource empty = RES("empty", 0x2000, 0x2000), inv = RES("inv", 0x3000, 0x2000);

	KEXPECT_EQ(t, request_resource(&root, &empty, NULL), -EINVAL);
	KEXPECT_EQ(t, request_resource(&root, &inv, NULL), -EINVAL);
	KEXPECT_EQ(t, insert_resource(&root, &empty), -EINVAL);
	KEXPECT_EQ(t, insert_resource(&root, &inv), -EINVAL);
	KEXPECT_NULL(t, root.child);
}

static void resource_request_already_in_tree_returns_einval(struct ktest *t)
{
	struct resource root = RES("root", 0, 0x10000), other = RES("other", 0, 0x10000);
	struct resource a = RES("a", 0x1000, 0x2000);

	KASSERT_EQ(t, request_resource(&root, &a, NULL), 0);
	KEXPECT_EQ(t, request_resource(&other, &a, NULL), -EINVAL);
	KEXPECT_TRUE(t, a.parent == &root);
}

static void resource_insert_adopts_covered_siblings(struct ktest *t)
{
	struct resource root = RES("root", 0, 0x10000);
	struct resource a = RES("a", 0x1000, 0x2000), b = RES("b", 0x3000, 0x4000),
			c = RES("c", 0x8000, 0x9000), big = RES("big", 0x1000, 0x5000);

	KASSERT_EQ(t, request_resource(&root, &a, NULL), 0);
	KASSERT_EQ(t, request_resource(&root, &b, NULL), 0);
	KASSERT_EQ(t, request_resource(&root, &c, NULL), 0);
	KASSERT_EQ(t, insert_resource(&root, &big), 0);
	KEXPECT_TRUE(t, root.child == &big);
	KEXPECT_TRUE(t, big.sibling == &c);
	KEXPECT_TRUE(t, big.child == &a && a.sibling == &b && !b.sibling);
	KEXPECT_TRUE(t, a.parent == &big && b.parent == &big);
	KEXPECT_TRUE(t, big.parent == &root && c.parent == &root);
}

static void resource_insert_descends_into_container(struct ktest *t)
{
	struct resource root = RES("root", 0, 0x10000);
	struct resource ram = RES("ram", 0x1000, 0x8000), code = RES("code", 0x2000, 0x3000);

	KASSERT_EQ(t, request_resource(&root, &ram, NULL), 0);
	KASSERT_EQ(t, insert_resource(&root, &code), 0);
	KEXPECT_TRUE(t, code.parent == &ram);
	KEXPECT_TRUE(t, ram.child == &code);
	KEXPECT_NULL(t, ram.sibling);
}

static void resource_insert_partial_overlap_returns_ebusy(struct ktest *t)
{
	struct resource root = RES("root", 0, 0x10000);
	struct resource a = RES("a", 0x1000, 0x3000), b = RES("b", 0x2000, 0x4000);

	KASSERT_EQ(t, request_resource(&root, &a, NULL), 0);
	KEXPECT_EQ(t, insert_resource(&root, &b), -EBUSY);
	KEXPECT_NULL(t, b.parent);
	KEXPECT_TRUE(t, root.child == &a && !a.sibling && !a.child);
}

static void resource_release_removes_and_second_release_fails(struct ktest *t)
{
	struct resource root = RES("root", 0, 0x10000);
	struct resource a = RES("a", 0x1000, 0x2000), b = RES("b", 0x3000, 0x4000),
			a1 = RES("a1", 0x1000, 0x1800);

	KASSERT_EQ(t, request_resource(&root, &a, NULL), 0);
	KASSERT_EQ(t, request_resource(&root, &b, NULL), 0);
	KASSERT_EQ(t, request_resource(&a, &a1, NULL), 0);
	KEXPECT_EQ(t, release_resource(&a), 0);
	KEXPECT_TRUE(t, root.child == &b);
	KEXPECT_NULL(t, a.parent);
	KEXPECT_TRUE(t, a.child == &a1); /* the children go with it */
	KEXPECT_EQ(t, release_resource(&a), -EINVAL);
	KEXPECT_EQ(t, release_resource(&root), -EINVAL); /* a root has no parent */
	/* The range is free again. */
	KEXPECT_EQ(t, request_resource(&root, &a, NULL), 0);
}

static void resource_lookup_returns_deepest(struct ktest *t)
{
	struct resource root = RES("root", 0, 0x10000);
	struct resource ram = RES("ram", 0x1000, 0x8000), code = RES("code", 0x2000, 0x3000),
			res = RES("res", 0x9000, 0xa000);

	KASSERT_EQ(t, request_resource(&root, &ram, NULL), 0);
	KASSERT_EQ(t, request_resource(&ram, &code, NULL), 0);
	KASSERT_EQ(t, request_resource(&root, &res, NULL), 0);
	KEXPECT_TRUE(t, resource_lookup(&root, 0x2000, 0x2001) == &code);
	KEXPECT_TRUE(t, resource_lookup(&root, 0x2000, 0x3000) == &code);
	KEXPECT_TRUE(t, resource_lookup(&root, 0x2fff, 0x3001) == &ram);   /* straddles code's end */
	KEXPECT_TRUE(t, resource_lookup(&root, 0x7fff, 0x8000) == &ram);
	KEXPECT_TRUE(t, resource_lookup(&root, 0x8000, 0x8001) == &root);  /* a gap */
	KEXPECT_TRUE(t, resource_lookup(&root, 0x7000, 0x9800) == &root);  /* spans two */
	KEXPECT_TRUE(t, resource_lookup(&root, 0x9000, 0xa000) == &res);
	KEXPECT_NULL(t, resource_lookup(&root, 0xf000, 0x10001));          /* outside root */
	KEXPECT_NULL(t, resource_lookup(&root, 0x2000, 0x2000));           /* empty */
}

/* A PC with 8 GiB and a memmap=64M$0x180000000 hole, inserted out of
 * order: the text must come out sorted, nested, with inclusive ends and
 * more than 8 digits above 4 GiB. */
static const char expected_iomem[] =
	"00000000-0009fbff : System RAM\n"
	"0009fc00-0009ffff : Reserved\n"
	"00100000-7ffdffff : System RAM\n"
	"  01000000-017fffff : Kernel code\n"
	"    01000000-01000fff : entry\n"
	"  01800000-019fffff : Kernel data\n"
	"100000000-17fffffff : System RAM\n"
	"180000000-183ffffff : Reserved\n"
	"184000000-27fffffff : System RAM\n";

static void resource_format_prints_proc_iomem_text(struct ktest *t)
{
	static char buf[512];
	struct resource root = RES("PCI mem", 0, UINT64_MAX);
	struct resource r[] = {
		RES("System RAM", 0x184000000, 0x280000000), RES("System RAM", 0x0, 0x9fc00),
		RES("Reserved", 0x180000000, 0x184000000), RES("System RAM", 0x100000, 0x7ffe0000),
		RES("Reserved", 0x9fc00, 0xa0000), RES("System RAM", 0x100000000, 0x180000000),
	};
	struct resource data = RES("Kernel data", 0x1800000, 0x1a00000),
			code = RES("Kernel code", 0x1000000, 0x1800000),
			entry = RES("entry", 0x1000000, 0x1001000);

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		KASSERT_EQ(t, request_resource(&root, &r[i], NULL), 0);
	KASSERT_EQ(t, insert_resource(&root, &data), 0);
	KASSERT_EQ(t, insert_resource(&root, &entry), 0);
	KASSERT_EQ(t, insert_resource(&root, &code), 0); /* adopts entry */
	KEXPECT_EQ(t, resource_format(&root, buf, sizeof(buf)), (int)strlen(expected_iomem));
	KEXPECT_STREQ(t, buf, expected_iomem);
}

static void resource_format_truncates_like_snprintf(struct ktest *t)
{
	char buf[16];
	struct resource root = RES("root", 0, 0x10000);
	struct resource a = RES("a", 0x1000, 0x2000), b = RES("b", 0x3000, 0x4000);
	const char *full = "00001000-00001fff : a\n00003000-00003fff : b\n";

	KASSERT_EQ(t, request_resource(&root, &a, NULL), 0);
	KASSERT_EQ(t, request_resource(&root, &b, NULL), 0);
	KEXPECT_EQ(t, resource_format(&root, buf, sizeof(buf)), (int)strlen(full));
	KEXPECT_STREQ(t, buf, "00001000-00001f");
	KEXPECT_EQ(t, resource_format(&root, NULL, 0), (int)strlen(full));
	KEXPECT_EQ(t, resource_format(&a, buf, sizeof(buf)), 0); /* no children */
	KEXPECT_STREQ(t, buf, "");
}

/* ---- The boot tree ---------------------------------------------------- */

/* Every child inside its parent, pointing back at it, sorted, disjoint. */
static bool subtree_is_well_formed(struct ktest *t, const struct resource *r)
{
	const struct resource *prev = NULL;

	for (const struct resource *c = r->child; c; prev = c, c = c->sibling) {
		if (c->parent != r || c->start >= c->end || c->start < r->start ||
		    c->end > r->end || (prev && prev->end > c->start)) {
			ktest_log(t, "bad node %s [%#llx-%#llx) under %s", c->name,
				  (unsigned long long)c->start, (unsigned long long)c->end, r->name);
			return false;
		}
		if (!subtree_is_well_formed(t, c))
			return false;
	}
	return true;
}

static void resource_boot_tree_is_well_formed(struct ktest *t)
{
	KASSERT_NOT_NULL(t, iomem_resource.child);
	KEXPECT_EQ(t, iomem_resource.start, 0);
	KEXPECT_EQ(t, iomem_resource.end, UINT64_MAX);
	KEXPECT_TRUE(t, subtree_is_well_formed(t, &iomem_resource));
}

static void resource_boot_tree_lists_system_ram(struct ktest *t)
{
	uint64_t ram = 0;

	for (const struct resource *c = iomem_resource.child; c; c = c->sibling)
		if (strcmp(c->name, "System RAM") == 0) {
			KEXPECT_TRUE(t, c->flags & IORESOURCE_SYSRAM);
			ram += c->end - c->start;
		}
	KEXPECT_GT(t, ram, 0);
	/* memblock only trims RAM to whole pages: never more than listed. */
	KEXPECT_LE(t, memblock_total(&memblock_memory), ram);
}

/* Entries the boot tree builds from the firmware memory map. */
static bool firmware_kind(const char *name)
{
	return strcmp(name, "System RAM") == 0 || strcmp(name, "Reserved") == 0 ||
	       strncmp(name, "ACPI", 4) == 0;
}

/* As Linux's e820 table, adjacent firmware entries of one type are one
 * resource (a UEFI map splits Reserved and RAM into many entries). Device
 * resources are not merged: two BARs of one device are two entries. */
static void resource_boot_tree_merges_adjacent_entries_of_one_kind(struct ktest *t)
{
	for (const struct resource *c = iomem_resource.child; c && c->sibling; c = c->sibling) {
		const struct resource *n = c->sibling;
		if (c->end == n->start && c->flags == n->flags && strcmp(c->name, n->name) == 0 &&
		    firmware_kind(c->name))
			ktest_fail(t, __FILE__, __LINE__, "%s [%#llx-%#llx) and [%#llx-%#llx) not merged",
				   c->name, (unsigned long long)c->start, (unsigned long long)c->end,
				   (unsigned long long)n->start, (unsigned long long)n->end);
	}
}

static void resource_boot_kernel_code_inside_system_ram(struct ktest *t)
{
	phys_addr_t pa = kernel_virt_to_phys((const void *)&resource_lookup);
	struct resource *code = resource_lookup(&iomem_resource, pa, pa + 1);

	KASSERT_NOT_NULL(t, code);
	KASSERT_STREQ(t, code->name, "Kernel code");
	KEXPECT_LE(t, code->start, pa);
	KEXPECT_GT(t, code->end, pa);
	KASSERT_NOT_NULL(t, code->parent);
	KEXPECT_STREQ(t, code->parent->name, "System RAM");
	KEXPECT_TRUE(t, code->parent->flags & IORESOURCE_SYSRAM);
	KEXPECT_TRUE(t, code->parent->parent == &iomem_resource);
}

/* Top-level "Reserved" resources cover [base, end) with no gap, and no
 * System RAM overlaps it. */
static void expect_top_level_reserved(struct ktest *t, phys_addr_t base, phys_addr_t end)
{
	phys_addr_t covered = base;

	for (const struct resource *c = iomem_resource.child; c; c = c->sibling) {
		if (c->end <= base || c->start >= end)
			continue;
		KEXPECT_STREQ(t, c->name, "Reserved");
		KEXPECT_FALSE(t, c->flags & IORESOURCE_SYSRAM);
		KEXPECT_LE(t, c->start, covered);
		covered = c->end;
	}
	KEXPECT_GE(t, covered, end);
}

static void resource_boot_memmap_ranges_are_top_level_reserved(struct ktest *t)
{
	if (!memblock_memmap.nr) {
		ktest_skip(t, "no memmap= option on the command line");
		return;
	}
	for (unsigned int i = 0; i < memblock_memmap.nr; i++) {
		ktest_log(t, "memmap range [%#llx-%#llx)",
			  (unsigned long long)memblock_memmap.r[i].base,
			  (unsigned long long)memblock_memmap.r[i].end);
		expect_top_level_reserved(t, memblock_memmap.r[i].base, memblock_memmap.r[i].end);
	}
}

static const struct ktest_case resource_cases[] = {
	KTEST_CASE(resource_request_inside_parent_succeeds),
	KTEST_CASE(resource_request_keeps_children_sorted),
	KTEST_CASE(resource_request_overlap_returns_ebusy_with_conflict),
	KTEST_CASE(resource_request_outside_parent_returns_einval),
	KTEST_CASE(resource_request_empty_or_inverted_returns_einval),
	KTEST_CASE(resource_request_already_in_tree_returns_einval),
	KTEST_CASE(resource_insert_adopts_covered_siblings),
	KTEST_CASE(resource_insert_descends_into_container),
	KTEST_CASE(resource_insert_partial_overlap_returns_ebusy),
	KTEST_CASE(resource_release_removes_and_second_release_fails),
	KTEST_CASE(resource_lookup_returns_deepest),
	KTEST_CASE(resource_format_prints_proc_iomem_text),
	KTEST_CASE(resource_format_truncates_like_snprintf),
	KTEST_CASE(resource_boot_tree_is_well_formed),
	KTEST_CASE(resource_boot_tree_lists_system_ram),
	KTEST_CASE(resource_boot_tree_merges_adjacent_entries_of_one_kind),
	KTEST_CASE(resource_boot_kernel_code_inside_system_ram),
	KTEST_CASE(resource_boot_memmap_ranges_are_top_level_reserved),
};
KTEST_SUITE(resource, resource_cases);
