/* Tests of /dev/mem's CONFIG_STRICT_DEVMEM policy through its file
 * operations: the memmap= reservation and device memory map at their
 * physical addresses, RAM the kernel owns and the kernel image do not, the
 * first 1 MiB does (RAM there reads as zeros), and no frame is taken or
 * lost by any of it. */
#include <pagoda/bootfb.h>
#include <pagoda/bootinfo.h>
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/fbdev.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/memblock.h>
#include <pagoda/mm.h>
#include <pagoda/multiboot2.h>
#include <pagoda/page.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>

#define MAP_LEN (4 * PAGE_SIZE)

struct mem_env {
	struct mm_struct *mm;
	struct file *f;
	uint64_t free_before;
};

typedef void (*mem_body_fn)(struct ktest *t, struct mem_env *e);

/* Run body with /dev/mem open and a fresh mm active; then check that
 * every frame came back. */
static void run_in_env(struct ktest *t, mem_body_fn body)
{
	struct mem_env e;
	int err = devmem_init();

	kmalloc_shrink();
	e.free_before = pmm_free_pages();
	e.f = err ? NULL : vfs_open("/", "/dev/mem", O_RDWR, 0, &err);
	e.mm = e.f ? mm_create() : NULL;
	if (!e.mm) {
		ktest_fail(t, __FILE__, __LINE__, "cannot open /dev/mem in a new mm: %d", err);
		if (e.f)
			file_put(e.f);
		return;
	}
	mm_switch(e.mm);
	body(t, &e);
	mm_switch(NULL);
	mm_destroy(e.mm);
	file_put(e.f);
	kmalloc_shrink();
	KEXPECT_EQ(t, pmm_free_pages(), e.free_before);
}

#define MEM_CASE(name)                                                         \
	static void name##_body(struct ktest *t, struct mem_env *e);           \
	static void name(struct ktest *t) { run_in_env(t, name##_body); }       \
	static void name##_body(struct ktest *t, struct mem_env *e)

static long map_phys(struct mem_env *e, phys_addr_t pa, size_t len)
{
	return do_mmap(e->mm, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, e->f, pa >> PAGE_SHIFT);
}

/* The mapping at va: translates to pa, PTE_SPECIAL, memory type mode. */
static void expect_mapping(struct ktest *t, struct mem_env *e, uintptr_t va, phys_addr_t pa,
			   enum cache_mode mode)
{
	struct pt_lookup_result r;

	KASSERT_EQ(t, pt_lookup(e->mm->pgd, va, &r), 0);
	KEXPECT_EQ(t, r.phys, pa);
	KEXPECT_TRUE(t, r.pte & PTE_SPECIAL);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), mode);
}

/* Is [pa, pa + len) usable RAM in the firmware's map (the memmap= range
 * on a machine big enough to have RAM there)? */
static bool firmware_ram(phys_addr_t pa, uint64_t len)
{
	for (unsigned int i = 0; i < boot_info.nr_mmap; i++) {
		const struct boot_mmap_entry *m = &boot_info.mmap[i];
		if (m->type == MB2_MEMORY_AVAILABLE && m->base <= pa && pa + len <= m->base + m->len)
			return true;
	}
	return false;
}

static void devmem_maps_memmap_range_body(struct ktest *t, struct mem_env *e)
{
	const struct memblock_range *r = &memblock_memmap.r[0];
	uint64_t len = MIN(r->end - r->base, (uint64_t)MAP_LEN);
	bool ram = firmware_ram(r->base, len);
	uint64_t pattern = 0x5061676f64610a00ULL, back = 0;
	long va = map_phys(e, r->base, len);

	KASSERT_GT(t, va, 0);
	/* RAM behind it: write-back, as Linux's PAT grants where the MTRRs say WB. */
	expect_mapping(t, e, va, r->base, ram ? CACHE_WB : CACHE_UC_MINUS);
	expect_mapping(t, e, va + len - PAGE_SIZE, r->base + len - PAGE_SIZE,
		       ram ? CACHE_WB : CACHE_UC_MINUS);
	if (!ram) {
		ktest_log(t, "no RAM behind the memmap= range on this machine: not written");
		return;
	}
	/* What one side writes, the other reads. */
	KEXPECT_EQ(t, copy_to_user((void *)va, &pattern, sizeof(pattern)), 0);
	KEXPECT_EQ(t, vfs_pread(e->f, &back, sizeof(back), r->base), (ssize_t)sizeof(back));
	KEXPECT_EQ(t, back, pattern);
	pattern = ~pattern;
	KEXPECT_EQ(t, vfs_pwrite(e->f, &pattern, sizeof(pattern), r->base + PAGE_SIZE - 4),
		   (ssize_t)sizeof(pattern)); /* across a page boundary */
	KEXPECT_EQ(t, copy_from_user(&back, (void *)(va + PAGE_SIZE - 4), sizeof(back)), 0);
	KEXPECT_EQ(t, back, pattern);
}

static void devmem_maps_memmap_range_at_its_address(struct ktest *t)
{
	if (!memblock_memmap.nr) {
		ktest_skip(t, "no memmap=SIZE$ADDR on the command line");
		return;
	}
	run_in_env(t, devmem_maps_memmap_range_body);
}

MEM_CASE(devmem_refuses_kernel_ram_and_image)
{
	struct page *p = alloc_page(GFP_KERNEL);
	phys_addr_t image = kernel_virt_to_phys(__kernel_start);
	char buf[16];

	KASSERT_NOT_NULL(t, p);
	KEXPECT_EQ(t, map_phys(e, page_to_phys(p), PAGE_SIZE), -EPERM);
	KEXPECT_EQ(t, map_phys(e, image, MAP_LEN), -EPERM);
	KEXPECT_EQ(t, map_phys(e, kernel_virt_to_phys(__bss_start) & PAGE_MASK, PAGE_SIZE),
		   -EPERM);
	/* A range that only ends in RAM is refused as a whole. */
	KEXPECT_EQ(t, map_phys(e, 0x80000, 0x100000), -EPERM);
	KEXPECT_EQ(t, vfs_pread(e->f, buf, sizeof(buf), image), -EPERM);
	KEXPECT_EQ(t, vfs_pwrite(e->f, buf, sizeof(buf), page_to_phys(p)), -EPERM);
	KEXPECT_EQ(t, e->mm->map_count, 0);
	free_pages(p, 0);
}

/* Device memory maps uncached, except the framebuffer, which the kernel
 * maps write-combining and so does Linux's PAT code for /dev/mem. */
MEM_CASE(devmem_maps_device_memory)
{
	phys_addr_t top = cpu_phys_limit() - MAP_LEN;
	long va;

	if (bootfb_rgb()) { /* the checked framebuffer: device memory, not RAM */
		phys_addr_t fb = bootfb_rgb()->addr & PAGE_MASK;
		bool wc = fbdev_memory_overlaps(fb, fb + MAP_LEN);
		va = map_phys(e, fb, MAP_LEN);
		KEXPECT_GT(t, va, 0);
		if (va > 0)
			expect_mapping(t, e, va, fb, wc ? CACHE_WC : CACHE_UC_MINUS);
	}
	/* The highest pages the CPU can address: no RAM there. */
	va = map_phys(e, top, MAP_LEN);
	KASSERT_GT(t, va, 0);
	expect_mapping(t, e, va + PAGE_SIZE, top + PAGE_SIZE, CACHE_UC_MINUS);
}

MEM_CASE(devmem_rejects_offsets_past_maxphyaddr)
{
	phys_addr_t limit = cpu_phys_limit();

	KEXPECT_EQ(t, map_phys(e, limit, PAGE_SIZE), -EINVAL);
	KEXPECT_EQ(t, map_phys(e, limit - PAGE_SIZE, 2 * PAGE_SIZE), -EINVAL);
	KEXPECT_EQ(t, do_mmap(e->mm, 0, PAGE_SIZE, PROT_READ, MAP_SHARED, e->f, 1UL << 52),
		   -EINVAL); /* the offset does not fit in 64 bits */
	KEXPECT_EQ(t, e->mm->map_count, 0);
}

/* The first 1 MiB is allowed whole; its RAM pages read as zeros and
 * ignore writes (Linux: devmem_is_allowed() returns 2). */
MEM_CASE(devmem_low_1mb_is_allowed_and_ram_reads_zero)
{
	uint8_t buf[64], ones[64];
	long va = map_phys(e, 0, 0x100000);

	KEXPECT_GT(t, va, 0);
	if (va > 0) /* the VGA window: untracked by PAT, so write-back */
		expect_mapping(t, e, va + 0xa0000, 0xa0000, CACHE_WB);
	if (!firmware_ram(0x2000, sizeof(buf))) {
		ktest_log(t, "no RAM at 0x2000 on this machine: not read");
		return;
	}
	memset(buf, 0xa5, sizeof(buf));
	memset(ones, 0xff, sizeof(ones));
	KEXPECT_EQ(t, vfs_pwrite(e->f, ones, sizeof(ones), 0x2000), (ssize_t)sizeof(ones));
	KEXPECT_EQ(t, vfs_pread(e->f, buf, sizeof(buf), 0x2000), (ssize_t)sizeof(buf));
	KEXPECT_EQ(t, memcmp(buf, ones, sizeof(buf)) != 0, true);
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i]) {
			KEXPECT_EQ(t, buf[i], 0);
			break;
		}
}

MEM_CASE(devmem_lseek_takes_any_physical_address)
{
	KEXPECT_EQ(t, vfs_lseek(e->f, 0x180000000LL, SEEK_SET), 0x180000000LL);
	KEXPECT_EQ(t, vfs_lseek(e->f, 0x1000, SEEK_CUR), 0x180001000LL);
	KEXPECT_EQ(t, vfs_lseek(e->f, 0, SEEK_END), -EINVAL);
	KEXPECT_EQ(t, vfs_lseek(e->f, -1, SEEK_SET), -EOVERFLOW);
}

static const struct ktest_case devmem_cases[] = {
	KTEST_CASE(devmem_maps_memmap_range_at_its_address),
	KTEST_CASE(devmem_refuses_kernel_ram_and_image),
	KTEST_CASE(devmem_maps_device_memory),
	KTEST_CASE(devmem_rejects_offsets_past_maxphyaddr),
	KTEST_CASE(devmem_low_1mb_is_allowed_and_ram_reads_zero),
	KTEST_CASE(devmem_lseek_takes_any_physical_address),
};

KTEST_SUITE(devmem, devmem_cases);
