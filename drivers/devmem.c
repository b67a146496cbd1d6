/* /dev/mem: physical memory, by file offset, with the policy of Linux's
 * CONFIG_STRICT_DEVMEM=y (drivers/char/mem.c, arch/x86/mm/init.c:
 * devmem_is_allowed()). A page may be used when it is not System RAM: device
 * memory (BARs, the framebuffer, the local APIC), firmware ranges, and RAM
 * kept from the kernel with memmap=SIZE$ADDR, which leaves System RAM and
 * shows as "Reserved". RAM the kernel owns, its own image included, is
 * refused with -EPERM, except in the first 1 MiB, where old tools (dosemu,
 * X servers reading the VGA BIOS) look: there RAM pages map, read as zeros
 * and ignore writes.
 *
 *   0 ........ 1 MiB ............................................ MAXPHYADDR
 *   | allowed  | System RAM: -EPERM | Reserved, device memory: allowed |
 *
 * The memory type of a mapping is the one Linux's PAT code ends up with,
 * see devmem_cache_mode(). */
#include <pagoda/bootinfo.h>
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/fbdev.h>
#include <pagoda/ioremap.h>
#include <pagoda/memblock.h>
#include <pagoda/mm_types.h>
#include <pagoda/multiboot2.h>
#include <pagoda/pgtable.h>
#include <pagoda/remap.h>
#include <pagoda/resource.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

#define MEM_MAJOR 1
#define MEM_MINOR 1
#define LOW_1MB 0x100000ULL
#define MAX_ERRNO 4095
#ifndef O_DSYNC
#define O_DSYNC 00010000 /* Linux x86-64: asks /dev/mem for an uncached mapping */
#endif

/* Does [start, end) touch System RAM? Linux's region_intersects() looks
 * at the top level of the resource tree; memblock is asked as well, so
 * that the answer is right even before the tree is built. */
static bool overlaps_system_ram(phys_addr_t start, phys_addr_t end)
{
	for (const struct resource *r = iomem_resource.child; r; r = r->sibling)
		if ((r->flags & IORESOURCE_SYSRAM) && r->start < end && start < r->end)
			return true;
	return memblock_overlaps(&memblock_memory, start, end - start);
}

enum devmem_access {
	DEVMEM_REFUSED = 0, /* System RAM above 1 MiB */
	DEVMEM_ALLOWED = 1,
	DEVMEM_ZEROS = 2,   /* System RAM below 1 MiB: reads 0, writes dropped */
};

/* Linux's devmem_is_allowed() for the page at pa. */
static enum devmem_access page_access(phys_addr_t pa)
{
	if (!overlaps_system_ram(pa, pa + PAGE_SIZE))
		return DEVMEM_ALLOWED;
	return pa < LOW_1MB ? DEVMEM_ZEROS : DEVMEM_REFUSED;
}

/* Linux's range_is_allowed(): no page of [start, end) (page-aligned) is
 * refused. Pages below 1 MiB never are, so only the rest is looked at. */
static bool range_is_allowed(phys_addr_t start, phys_addr_t end)
{
	start = MAX(start, LOW_1MB);
	return start >= end || !overlaps_system_ram(start, end);
}

/* Is [start, end) inside RAM of the firmware's memory map (usable, ACPI
 * reclaimable or NVS), one entry after another? Firmware sets the MTRRs
 * to write-back for RAM, so Linux's PAT code grants WB there. */
static bool firmware_ram_covers(phys_addr_t start, phys_addr_t end)
{
	bool advanced = true;

	while (start < end && advanced) {
		advanced = false;
		for (unsigned int i = 0; i < boot_info.nr_mmap; i++) {
			const struct boot_mmap_entry *e = &boot_info.mmap[i];
			if ((e->type == MB2_MEMORY_AVAILABLE || e->type == MB2_MEMORY_ACPI_RECLAIMABLE ||
			     e->type == MB2_MEMORY_NVS) && e->base <= start && start < e->base + e->len) {
				start = e->base + e->len;
				advanced = true;
			}
		}
	}
	return start >= end;
}

/* The memory type of /dev/mem at [start, end), as Linux on x86 chooses it
 * (arch/x86/mm/pat/memtype.c): phys_mem_access_prot_allowed() asks for WB
 * (UC- when the file was opened O_DSYNC); memtype_reserve() leaves the low
 * 1 MiB untracked (WB), lets a type the kernel already maps the range with
 * win (the framebuffer: WC), and turns a WB request into UC- unless the
 * MTRRs say WB (RAM the kernel does not own: memmap=, ACPI tables). So:
 *   low 1 MiB: WB    framebuffer: WC    reserved RAM: WB    else: UC- */
static enum cache_mode devmem_cache_mode(phys_addr_t start, phys_addr_t end, bool dsync)
{
	if (end <= LOW_1MB)
		return CACHE_WB;
	if (fbdev_memory_overlaps(start, end))
		return CACHE_WC;
	if (!dsync && firmware_ram_covers(start, end))
		return CACHE_WB;
	return CACHE_UC_MINUS;
}

/* Linux's mmap_mem(): offset is vm_pgoff pages; -EINVAL when the range
 * wraps or reaches past MAXPHYADDR (valid_mmap_phys_addr_range()), -EPERM
 * when it touches System RAM, -EAGAIN when the page tables cannot be
 * built. MAP_PRIVATE works too: writes then go to private copies. */
static int devmem_mmap(struct file *f, struct vm_area_struct *vma)
{
	uint64_t size = vma->vm_end - vma->vm_start;
	phys_addr_t start = (phys_addr_t)vma->vm_pgoff << PAGE_SHIFT;
	enum cache_mode mode;

	if (start >> PAGE_SHIFT != vma->vm_pgoff || start + size - 1 < start)
		return -EINVAL;
	if (start + size - 1 >= cpu_phys_limit())
		return -EINVAL;
	if (!range_is_allowed(start, start + size))
		return -EPERM;
	mode = devmem_cache_mode(start, start + size, f->flags & O_DSYNC);
	vma->vm_page_prot = pgprot_cache(vma->vm_page_prot, mode);
	if (remap_pfn_range(vma, vma->vm_start, vma->vm_pgoff, size, vma->vm_page_prot) < 0)
		return -EAGAIN;
	return 0;
}

/* Linux's valid_phys_addr_range() on x86: read() and write() reach only
 * up to the end of RAM (high_memory), whatever lies above it. */
static bool valid_phys_addr_range(phys_addr_t p, size_t n)
{
	const struct memblock_list *m = &memblock_memory;
	phys_addr_t top = m->nr ? m->r[m->nr - 1].end : 0;

	return p + n >= p && p + n <= top;
}

/* Copy n bytes (inside one page) between buf and physical address p,
 * through a temporary kernel mapping of the type a user mapping gets.
 * Returns 0 or -EFAULT. */
static int copy_phys(phys_addr_t p, void *buf, size_t n, bool to_phys)
{
	phys_addr_t page = ALIGN_DOWN(p, PAGE_SIZE);
	uint8_t *va = ioremap(page, PAGE_SIZE, devmem_cache_mode(page, page + PAGE_SIZE, false));

	if (!va)
		return -EFAULT;
	if (to_phys)
		memcpy(va + (p - page), buf, n);
	else
		memcpy(buf, va + (p - page), n);
	iounmap(va);
	return 0;
}

/* Linux's read_mem(): page by page; -EFAULT past the end of RAM, -EPERM
 * (nothing read, whatever was copied) on a refused page. */
static ssize_t devmem_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	phys_addr_t p = *pos;
	size_t done = 0;

	if (!valid_phys_addr_range(p, n))
		return -EFAULT;
	while (done < n) {
		size_t sz = MIN(n - done, PAGE_SIZE - (p & (PAGE_SIZE - 1)));
		enum devmem_access a = page_access(ALIGN_DOWN(p, PAGE_SIZE));
		if (a == DEVMEM_REFUSED)
			return -EPERM;
		if (a == DEVMEM_ZEROS)
			memset((uint8_t *)buf + done, 0, sz);
		else if (copy_phys(p, (uint8_t *)buf + done, sz, false) < 0)
			return -EFAULT;
		p += sz;
		done += sz;
	}
	*pos += done;
	return done;
}

/* Linux's write_mem(): as read, but writes to low RAM pages are dropped
 * (and counted), and a failed mapping after some bytes ends the write. */
static ssize_t devmem_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	phys_addr_t p = *pos;
	size_t done = 0;

	if (!valid_phys_addr_range(p, n))
		return -EFAULT;
	while (done < n) {
		size_t sz = MIN(n - done, PAGE_SIZE - (p & (PAGE_SIZE - 1)));
		enum devmem_access a = page_access(ALIGN_DOWN(p, PAGE_SIZE));
		if (a == DEVMEM_REFUSED)
			return -EPERM;
		if (a == DEVMEM_ALLOWED && copy_phys(p, (uint8_t *)buf + done, sz, true) < 0) {
			if (done)
				break;
			return -EFAULT;
		}
		p += sz;
		done += sz;
	}
	*pos += done;
	return done;
}

/* Linux's memory_lseek(): SEEK_SET and SEEK_CUR only; any offset is a
 * physical address, except the last 4095, which read as errors. */
static int64_t devmem_llseek(struct file *f, int64_t off, int whence)
{
	uint64_t pos;

	switch (whence) {
	case SEEK_CUR:
		pos = f->pos + (uint64_t)off;
		break;
	case SEEK_SET:
		pos = (uint64_t)off;
		break;
	default:
		return -EINVAL;
	}
	if (pos >= (uint64_t)-MAX_ERRNO)
		return -EOVERFLOW;
	f->pos = pos;
	return (int64_t)pos;
}

static const struct file_operations devmem_fops = {
	.read = devmem_read,
	.write = devmem_write,
	.llseek = devmem_llseek,
	.mmap = devmem_mmap,
};

int devmem_init(void)
{
	static bool ready;
	int err;

	if (ready)
		return 0;
	err = vfs_mknod_rdev("/dev/mem", S_IFCHR | 0640, MEM_MAJOR << 8 | MEM_MINOR, &devmem_fops,
			     NULL);
	if (err < 0)
		return err;
	ready = true;
	return 0;
}
