/* Tests of the kernel's own address space after mm_init() (mm/directmap.c):
 * the direct map covers exactly the RAM memblock lists, never executable
 * and never user-accessible; the kernel image is W^X in its own mapping
 * and in the direct map's alias of it; the boot identity map is gone.
 * The fault probes check the hardware's view, not only the tables'. */
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <asm/uaccess.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <asm/mtrr.h>
#include <pagoda/mm_init.h>
#include <pagoda/pgtable.h>
#include <asm/trap.h>

#define KiB4 0x1000ULL
#define GiB (1ULL << 30)

static const char rodata_object[] = "a const object lives in .rodata";
/* volatile: never written, but must stay in .data/.bss, not become a constant */
static volatile int data_object = 42; /* initialised: .data */
static volatile int bss_object;       /* zero: .bss */

/* Expect the direct-map address of pa to translate back to pa, readable,
 * not executable, not reachable from user mode. */
static void expect_direct_mapped_at(struct ktest *t, int line, phys_addr_t pa)
{
	const uint8_t *va = phys_to_virt(pa);
	struct pt_lookup_result r;
	uint8_t byte;

	if (pt_lookup(kernel_pml4, (uintptr_t)va, &r) < 0) {
		ktest_fail(t, __FILE__, line, "RAM page %#llx is not in the direct map",
			   (unsigned long long)pa);
		return;
	}
	if (r.phys != pa || (r.pte & PTE_USER) || (cpu.nx && !(r.pte & PTE_NX)))
		ktest_fail(t, __FILE__, line, "RAM page %#llx: direct map gives %#llx, pte %#llx",
			   (unsigned long long)pa, (unsigned long long)r.phys,
			   (unsigned long long)r.pte);
	if (probe_read_u8(va, &byte) < 0)
		ktest_fail(t, __FILE__, line, "RAM page %#llx: reading %p faulted",
			   (unsigned long long)pa, (const void *)va);
}
#define expect_direct_mapped(t, pa) expect_direct_mapped_at(t, __LINE__, pa)

static void directmap_maps_first_and_last_page_of_every_ram_range(struct ktest *t)
{
	KASSERT_GT(t, memblock_memory.nr, 0);
	for (unsigned int i = 0; i < memblock_memory.nr; i++) {
		const struct memblock_range *r = &memblock_memory.r[i];
		if (r->end > DIRECT_MAP_SIZE)
			break;
		expect_direct_mapped(t, r->base);
		expect_direct_mapped(t, r->end - KiB4);
		expect_direct_mapped(t, ALIGN_DOWN(r->base + (r->end - r->base) / 2, KiB4));
	}
}

static void directmap_keeps_offset_within_page(struct ktest *t)
{
	const struct memblock_range *r;
	struct pt_lookup_result res;
	phys_addr_t pa;

	KASSERT_GT(t, memblock_memory.nr, 0);
	r = &memblock_memory.r[memblock_memory.nr - 1]; /* the highest: above 4 GiB if any */
	if (r->end > DIRECT_MAP_SIZE) {
		ktest_skip(t, "the highest RAM is beyond the direct map");
		return;
	}
	pa = r->end - KiB4 + 0xabc;
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)phys_to_virt(pa), &res), 0);
	KEXPECT_EQ(t, res.phys, pa);
	KEXPECT_EQ(t, virt_to_phys(phys_to_virt(pa)), pa);
}

/* Every aligned GiB of RAM of one MTRR type is one 1 GiB entry (a GiB of
 * mixed types is split: arch/x86/mtrr.c). */
static void directmap_uses_1g_entries_where_ram_allows(struct ktest *t)
{
	unsigned int candidates = 0, huge = 0;
	struct pt_lookup_result res;
	bool uniform;

	if (!cpu.gbpages) {
		ktest_skip(t, "CPU has no 1 GiB pages");
		return;
	}
	for (unsigned int i = 0; i < memblock_memory.nr; i++) {
		const struct memblock_range *r = &memblock_memory.r[i];
		for (phys_addr_t g = ALIGN_UP(r->base, GiB); g + GiB <= r->end; g += GiB) {
			if (g + GiB > DIRECT_MAP_SIZE)
				break;
			mtrr_type_lookup(mtrr_kernel_state(), g, g + GiB, &uniform);
			if (!uniform)
				continue;
			candidates++;
			if (pt_lookup(kernel_pml4, (uintptr_t)phys_to_virt(g), &res) == 0 &&
			    res.level == 2 && res.phys == g)
				huge++;
		}
	}
	if (!candidates) {
		ktest_skip(t, "no RAM range holds an aligned 1 GiB of one MTRR type");
		return;
	}
	ktest_log(t, "%u of %u aligned GiB of RAM use a 1 GiB entry", huge, candidates);
	KEXPECT_EQ(t, huge, candidates);
}

static void directmap_leaves_memmap_ranges_unmapped(struct ktest *t)
{
	struct pt_lookup_result res;
	uint8_t byte;

	if (!memblock_memmap.nr) {
		ktest_skip(t, "no memmap= range (boot with memmap=64M$0x180000000)");
		return;
	}
	for (unsigned int i = 0; i < memblock_memmap.nr; i++) {
		const struct memblock_range *r = &memblock_memmap.r[i];
		const phys_addr_t pages[] = { r->base, ALIGN_DOWN((r->base + r->end) / 2, KiB4),
					      r->end - KiB4 };
		for (unsigned int j = 0; j < ARRAY_SIZE(pages); j++)
			KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)phys_to_virt(pages[j]), &res),
				   -ENOENT);
		KEXPECT_EQ(t, probe_read_u8(phys_to_virt(r->base), &byte), -EFAULT);
	}
}

/* The byte before a linker symbol (integer arithmetic: the symbol is not
 * an array the compiler may reason about). */
static const void *before(const char *sym)
{
	return (const void *)((uintptr_t)sym - 1);
}

/* The leaf entry mapping va in the kernel's tables, 0 if none. */
static pte_t kernel_pte(const void *va)
{
	struct pt_lookup_result r;

	return pt_lookup(kernel_pml4, (uintptr_t)va, &r) == 0 ? r.pte : 0;
}

static void directmap_kernel_text_is_read_only_and_executable(struct ktest *t)
{
	const void *text = (const void *)(uintptr_t)directmap_init;
	pte_t e = kernel_pte(text);

	KEXPECT_TRUE(t, (uintptr_t)text >= (uintptr_t)__text_start &&
			(uintptr_t)text < (uintptr_t)__text_end);
	KEXPECT_TRUE(t, e & PTE_PRESENT);
	KEXPECT_FALSE(t, e & PTE_WRITE);
	KEXPECT_FALSE(t, e & PTE_NX);
	KEXPECT_FALSE(t, kernel_pte(__text_start) & PTE_WRITE);
	KEXPECT_FALSE(t, kernel_pte(before(__text_end)) & PTE_WRITE);
}

static void directmap_kernel_rodata_is_read_only_and_not_executable(struct ktest *t)
{
	const void *objs[] = { rodata_object, __rodata_start, before(__rodata_end) };

	KEXPECT_TRUE(t, (uintptr_t)rodata_object >= (uintptr_t)__rodata_start &&
			(uintptr_t)rodata_object < (uintptr_t)__rodata_end);
	for (unsigned int i = 0; i < ARRAY_SIZE(objs); i++) {
		pte_t e = kernel_pte(objs[i]);
		if (!(e & PTE_PRESENT) || (e & PTE_WRITE) || (cpu.nx && !(e & PTE_NX)))
			ktest_fail(t, __FILE__, __LINE__, "rodata %p: pte %#llx, expected present, "
				   "read-only, NX", objs[i], (unsigned long long)e);
	}
}

static void directmap_kernel_data_and_bss_are_writable_not_executable(struct ktest *t)
{
	const void *objs[] = { (const void *)&data_object, (const void *)&bss_object,
			       __data_start, __bss_start, before(__bss_end) };

	KEXPECT_TRUE(t, (uintptr_t)&data_object >= (uintptr_t)__data_start &&
			(uintptr_t)&data_object < (uintptr_t)__bss_start);
	KEXPECT_TRUE(t, (uintptr_t)&bss_object >= (uintptr_t)__bss_start &&
			(uintptr_t)&bss_object < (uintptr_t)__bss_end);
	for (unsigned int i = 0; i < ARRAY_SIZE(objs); i++) {
		pte_t e = kernel_pte(objs[i]);
		if (!(e & PTE_PRESENT) || !(e & PTE_WRITE) || (cpu.nx && !(e & PTE_NX)))
			ktest_fail(t, __FILE__, __LINE__, "data %p: pte %#llx, expected present, "
				   "writable, NX", objs[i], (unsigned long long)e);
	}
}

/* Write a byte's own value back to addr: if the write is (wrongly) allowed,
 * nothing changes. Expect a write-protection fault at exactly addr. */
static void expect_write_faults_at(struct ktest *t, int line, const void *addr)
{
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)addr;
	uint64_t faults = last_fixup.count;
	int ret = probe_write_u8(p, *p);

	if (ret != -EFAULT) {
		ktest_fail(t, __FILE__, line, "writing %p returned %d, expected -EFAULT", addr, ret);
		return;
	}
	if (last_fixup.count != faults + 1 || last_fixup.vector != X86_TRAP_PF ||
	    last_fixup.cr2 != (uintptr_t)addr ||
	    (last_fixup.error_code & (PF_PRESENT | PF_WRITE)) != (PF_PRESENT | PF_WRITE))
		ktest_fail(t, __FILE__, line,
			   "writing %p: vector %llu error %#llx cr2 %#llx, expected a "
			   "present+write #PF at it", addr, (unsigned long long)last_fixup.vector,
			   (unsigned long long)last_fixup.error_code,
			   (unsigned long long)last_fixup.cr2);
}
#define expect_write_faults(t, addr) expect_write_faults_at(t, __LINE__, addr)

static void directmap_writes_to_kernel_text_and_rodata_fault(struct ktest *t)
{
	expect_write_faults(t, (const void *)(uintptr_t)directmap_init);
	expect_write_faults(t, __text_start);
	expect_write_faults(t, rodata_object);
	expect_write_faults(t, __rodata_start);
}

static void directmap_alias_of_kernel_text_is_read_only(struct ktest *t)
{
	const void *text = (const void *)(uintptr_t)directmap_init;
	const void *text_alias = phys_to_virt(kernel_virt_to_phys(text));
	const void *ro_alias = phys_to_virt(kernel_virt_to_phys(rodata_object));
	struct pt_lookup_result r;

	KASSERT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)text_alias, &r), 0);
	KEXPECT_EQ(t, r.phys, kernel_virt_to_phys(text));
	KEXPECT_FALSE(t, r.pte & PTE_WRITE);
	if (cpu.nx)
		KEXPECT_TRUE(t, r.pte & PTE_NX); /* executable only at its linked address */
	expect_write_faults(t, text_alias);
	expect_write_faults(t, ro_alias);
	/* Both views show the same bytes. */
	KEXPECT_EQ(t, *(const volatile uint8_t *)text_alias, *(const volatile uint8_t *)text);
}

/* Count the leaves below table (a table of the given level mapping from va
 * on) that are writable and executable; log the first few. The leaf
 * decides: table entries are always writable and never NX. */
static unsigned int count_wx_leaves(struct ktest *t, const pte_t *table, unsigned int level,
				    uintptr_t va)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < PT_ENTRIES; i++, va += pt_level_size(level)) {
		pte_t e = table[i];
		if (!(e & PTE_PRESENT))
			continue;
		if (level > 0 && !(e & PTE_PS)) {
			n += count_wx_leaves(t, phys_to_virt(e & PTE_ADDR_MASK), level - 1, va);
			continue;
		}
		if ((e & PTE_WRITE) && !(e & PTE_NX) && n++ < 4)
			ktest_log(t, "%#lx: level %u entry %#llx is writable and executable",
				  (unsigned long)va, level, (unsigned long long)e);
	}
	return n;
}

static void directmap_no_kernel_page_is_writable_and_executable(struct ktest *t)
{
	const pte_t *pml4 = phys_to_virt(kernel_pml4);
	unsigned int n = 0;

	if (!cpu.nx) {
		ktest_skip(t, "CPU has no NX bit");
		return;
	}
	for (unsigned int i = PT_ENTRIES / 2; i < PT_ENTRIES; i++) {
		uintptr_t va = 0xffff000000000000ULL + i * pt_level_size(PT_LEVELS - 1);
		if (!(pml4[i] & PTE_PRESENT))
			continue;
		n += count_wx_leaves(t, phys_to_virt(pml4[i] & PTE_ADDR_MASK), PT_LEVELS - 2, va);
	}
	KEXPECT_EQ(t, n, 0);
}

static void directmap_boot_identity_map_is_gone(struct ktest *t)
{
	const void *low = (const void *)(uintptr_t)KERNEL_PHYS_BASE;
	struct pt_lookup_result r;
	uint8_t byte;

	KEXPECT_EQ(t, ((const pte_t *)phys_to_virt(kernel_pml4))[0], 0); /* PML4[0] */
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, (uintptr_t)low, &r), -ENOENT);
	KEXPECT_EQ(t, pt_lookup(kernel_pml4, GiB, &r), -ENOENT);
	KASSERT_EQ(t, probe_read_u8(low, &byte), -EFAULT);
	KEXPECT_EQ(t, last_fixup.vector, X86_TRAP_PF);
	KEXPECT_EQ(t, last_fixup.cr2, (uintptr_t)low);
	KEXPECT_EQ(t, last_fixup.error_code & (PF_PRESENT | PF_WRITE | PF_USER), 0);
}

static const struct ktest_case directmap_cases[] = {
	KTEST_CASE(directmap_maps_first_and_last_page_of_every_ram_range),
	KTEST_CASE(directmap_keeps_offset_within_page),
	KTEST_CASE(directmap_uses_1g_entries_where_ram_allows),
	KTEST_CASE(directmap_leaves_memmap_ranges_unmapped),
	KTEST_CASE(directmap_kernel_text_is_read_only_and_executable),
	KTEST_CASE(directmap_kernel_rodata_is_read_only_and_not_executable),
	KTEST_CASE(directmap_kernel_data_and_bss_are_writable_not_executable),
	KTEST_CASE(directmap_writes_to_kernel_text_and_rodata_fault),
	KTEST_CASE(directmap_alias_of_kernel_text_is_read_only),
	KTEST_CASE(directmap_no_kernel_page_is_writable_and_executable),
	KTEST_CASE(directmap_boot_identity_map_is_gone),
};
KTEST_SUITE(directmap, directmap_cases);
