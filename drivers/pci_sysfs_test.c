/* Tests of /sys/bus/pci (drivers/pci_sysfs.c) on whatever devices the
 * machine has: the first device with a memory BAR (QEMU's VGA on q35, its
 * e1000e without one), the first with a prefetchable one for the _wc
 * files, the first with an I/O BAR: the directory and its files, the text
 * attributes in Linux's format against config space read directly, and
 * mmap() of resourceN through do_mmap() and the driver's mmap into a test
 * address space: the right frames, PTE_SPECIAL and the memory type,
 * Linux's errno for every range that does not fit, and no frame leaked.
 * Expected values come from config space and from Linux 6.1's
 * drivers/pci/pci-sysfs.c, not from the code under test. */
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/memtype.h>
#include <pagoda/mm.h>
#include <asm/mtrr.h>
#include <pagoda/pci.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/remap.h>
#include <pagoda/slab.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define MiB (1UL << 20)
#define GiB (1UL << 30)
#define VA_FIXED (64 * GiB) /* 1 GiB-aligned: lets huge entries be used */
#define RESOURCE_LINE_LEN 57 /* "0x%016llx 0x%016llx 0x%016llx\n" */
#define RESOURCE_LINES 13    /* a normal header: 6 BARs, the ROM, 6 SR-IOV */

/* The device under test and one of its BARs. */
struct bar_ref {
	struct pci_dev *d;
	unsigned int i;
	const struct pci_bar *b;
	char dir[64]; /* /sys/bus/pci/devices/NAME */
};

enum bar_want { WANT_MEM, WANT_PREFETCH, WANT_IO };

static bool bar_fits(const struct pci_bar *b, enum bar_want want)
{
	if (!b->size || (b->flags & IORESOURCE_UNSET))
		return false;
	if (want == WANT_IO)
		return pci_bar_is_io(b);
	return pci_bar_is_mem(b) && b->size >= 2 * PAGE_SIZE &&
	       (want == WANT_MEM || (b->flags & IORESOURCE_PREFETCH));
}

/* The first BAR of a normal-header device that is what want says; false,
 * with the case skipped, when the machine has none. */
static bool find_bar(struct ktest *t, enum bar_want want, struct bar_ref *r)
{
	static const char *const none[] = {
		"no PCI device with a memory BAR of 8 KiB or more",
		"no PCI device with a prefetchable memory BAR of 8 KiB or more",
		"no PCI device with an I/O BAR",
	};
	struct pci_dev *d;

	/* kmain calls both; again is a no-op, for a kernel that does not. */
	pci_init();
	pci_sysfs_init();
	pci_for_each_dev(d) {
		if (d->hdr_type != PCI_HEADER_TYPE_NORMAL)
			continue;
		for (unsigned int i = 0; i < PCI_STD_NUM_BARS; i++) {
			if (!bar_fits(&d->bar[i], want))
				continue;
			*r = (struct bar_ref){ .d = d, .i = i, .b = &d->bar[i] };
			snprintf(r->dir, sizeof(r->dir), "/sys/bus/pci/devices/%s", d->name);
			ktest_log(t, "%s (%04x:%04x) BAR%u [%#llx, +%#llx)", d->name, d->vendor,
				  d->device, i, (unsigned long long)r->b->start,
				  (unsigned long long)r->b->size);
			return true;
		}
	}
	ktest_skip(t, none[want]);
	return false;
}

/* r->dir/name, in buf. */
static const char *path_of(const struct bar_ref *r, char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", r->dir, name);
	return buf;
}

/* Linux's link target: ../../../devices/pciSSSS:BB/ then the bridges
 * above the device, outermost first, then the device. */
static void link_target(const struct pci_dev *d, char *buf, size_t size)
{
	const struct pci_dev *chain[8];
	unsigned int n = 0;
	size_t len;

	for (const struct pci_dev *p = d; p && n < ARRAY_SIZE(chain); p = p->bridge)
		chain[n++] = p;
	len = snprintf(buf, size, "../../../devices/pci%04x:%02x", d->segment,
		       chain[n - 1]->bus);
	while (n-- && len < size)
		len += snprintf(buf + len, size - len, "/%s", chain[n]->name);
}

/* Read up to size - 1 bytes of path into buf, NUL-terminated. Returns the
 * byte count or a negative errno. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	int err;
	struct file *f = vfs_open("/", path, O_RDONLY, 0, &err);
	ssize_t n;

	if (!f)
		return err;
	n = vfs_read(f, buf, size - 1);
	file_put(f);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static void pcisysfs_device_directory_and_files_exist(struct ktest *t)
{
	static const char *const files[] = { "vendor", "device", "class", "resource", "config" };
	struct bar_ref r;
	struct inode *inode;
	char path[128], link[128], want[128];
	int n;

	if (!find_bar(t, WANT_MEM, &r))
		return;
	KASSERT_EQ(t, vfs_lookup(NULL, r.dir, true, &inode), 0);
	KEXPECT_TRUE(t, S_ISLNK(inode->mode));
	n = vfs_readlink_at(NULL, r.dir, link, sizeof(link) - 1);
	KASSERT_GT(t, n, 0);
	link[n] = '\0';
	link_target(r.d, want, sizeof(want));
	KEXPECT_STREQ(t, link, want);
	KASSERT_EQ(t, vfs_lookup(NULL, r.dir, false, &inode), 0);
	KEXPECT_TRUE(t, S_ISDIR(inode->mode));
	for (unsigned int i = 0; i < ARRAY_SIZE(files); i++) {
		n = vfs_lookup(NULL, path_of(&r, path, sizeof(path), files[i]), false, &inode);
		if (n)
			ktest_log(t, "%s: error %d", path, n);
		KEXPECT_EQ(t, n, 0);
		if (!n)
			KEXPECT_TRUE(t, S_ISREG(inode->mode));
	}
	/* resourceN for each BAR with an address; resourceN_wc only when
	 * it is prefetchable memory (Linux's pci_create_attr()) */
	for (unsigned int i = 0; i < PCI_STD_NUM_BARS; i++) {
		const struct pci_bar *b = &r.d->bar[i];
		bool exists = b->size && !(b->flags & IORESOURCE_UNSET);
		snprintf(link, sizeof(link), "resource%u", i);
		KEXPECT_EQ(t, vfs_lookup(NULL, path_of(&r, path, sizeof(path), link), false, &inode),
			   exists ? 0 : -ENOENT);
		snprintf(link, sizeof(link), "resource%u_wc", i);
		KEXPECT_EQ(t, vfs_lookup(NULL, path_of(&r, path, sizeof(path), link), false, &inode),
			   exists && (b->flags & IORESOURCE_PREFETCH) ? 0 : -ENOENT);
	}
}

/* The IDs, as config space holds them, in Linux's format. */
static void pcisysfs_ids_read_in_linux_format(struct ktest *t)
{
	struct bar_ref r;
	struct pci_dev *host = pci_get_slot(0, 0, 0, 0);
	char buf[64], want[16], path[128];

	if (!find_bar(t, WANT_MEM, &r))
		return;
	KEXPECT_EQ(t, read_text(path_of(&r, path, sizeof(path), "vendor"), buf, sizeof(buf)), 7);
	snprintf(want, sizeof(want), "0x%04x\n", pci_read_config16(r.d, PCI_VENDOR_ID));
	KEXPECT_STREQ(t, buf, want);
	read_text(path_of(&r, path, sizeof(path), "device"), buf, sizeof(buf));
	snprintf(want, sizeof(want), "0x%04x\n", pci_read_config16(r.d, PCI_DEVICE_ID));
	KEXPECT_STREQ(t, buf, want);
	read_text(path_of(&r, path, sizeof(path), "class"), buf, sizeof(buf));
	snprintf(want, sizeof(want), "0x%06x\n", pci_read_config32(r.d, PCI_CLASS_REVISION) >> 8);
	KEXPECT_STREQ(t, buf, want);
	KASSERT_NOT_NULL(t, host);
	read_text("/sys/bus/pci/devices/0000:00:00.0/device", buf, sizeof(buf));
	snprintf(want, sizeof(want), "0x%04x\n", pci_read_config16(host, PCI_DEVICE_ID));
	KEXPECT_STREQ(t, buf, want);
}

/* 13 lines for a normal device (6 BARs, ROM, 6 SR-IOV), as Linux 6.1
 * prints them: start, end (inclusive) and Linux's flags; zeros for
 * nothing. */
static void pcisysfs_resource_has_linux_lines(struct ktest *t)
{
	struct bar_ref r;
	char buf[1024], want[64], path[128];
	ssize_t n;

	if (!find_bar(t, WANT_MEM, &r))
		return;
	n = read_text(path_of(&r, path, sizeof(path), "resource"), buf, sizeof(buf));
	KASSERT_EQ(t, n, RESOURCE_LINES * RESOURCE_LINE_LEN);
	for (unsigned int i = 0; i < PCI_STD_NUM_BARS; i++) {
		const struct pci_bar *b = &r.d->bar[i];
		snprintf(want, sizeof(want), "0x%016llx 0x%016llx 0x%016llx\n",
			 (unsigned long long)b->start,
			 (unsigned long long)(b->size ? b->start + b->size - 1 : 0),
			 (unsigned long long)b->flags);
		if (memcmp(buf + i * RESOURCE_LINE_LEN, want, RESOURCE_LINE_LEN))
			ktest_log(t, "BAR%u line: %.56s", i, buf + i * RESOURCE_LINE_LEN);
		KEXPECT_EQ(t, memcmp(buf + i * RESOURCE_LINE_LEN, want, RESOURCE_LINE_LEN), 0);
	}
	KEXPECT_TRUE(t, pci_bar_is_mem(r.b) && (r.b->flags & IORESOURCE_MEM));
	for (unsigned int i = 0; i < RESOURCE_LINES; i++)
		KEXPECT_EQ(t, buf[(i + 1) * RESOURCE_LINE_LEN - 1], '\n');
}

/* stat shows the BAR size; read and write have no method (-EIO) inside
 * it; lseek(SEEK_END) counts from 0, as on Linux 6.1 (NOTES.md). */
static void pcisysfs_resource_size_read_write_seek(struct ktest *t)
{
	struct bar_ref r;
	struct inode *inode;
	struct file *f;
	char c = 0, name[16], path[128];
	int err;

	if (!find_bar(t, WANT_MEM, &r))
		return;
	snprintf(name, sizeof(name), "resource%u", r.i);
	path_of(&r, path, sizeof(path), name);
	KASSERT_EQ(t, vfs_lookup(NULL, path, false, &inode), 0);
	KEXPECT_EQ(t, inode->size, r.b->size);
	KEXPECT_EQ(t, inode->mode, (uint32_t)(S_IFREG | 0600));
	f = vfs_open("/", path, O_RDWR | O_TRUNC, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, inode->size, r.b->size); /* O_TRUNC changed nothing */
	KEXPECT_EQ(t, vfs_read(f, &c, 1), -EIO);
	KEXPECT_EQ(t, vfs_write(f, &c, 1), -EIO);
	KEXPECT_EQ(t, vfs_pread(f, &c, 1, r.b->size), 0);
	KEXPECT_EQ(t, vfs_pwrite(f, &c, 1, r.b->size), -EFBIG);
	KEXPECT_EQ(t, vfs_lseek(f, 0, SEEK_END), 0);
	KEXPECT_EQ(t, vfs_lseek(f, 4096, SEEK_SET), 4096);
	KEXPECT_EQ(t, vfs_lseek(f, -1, SEEK_END), -EINVAL);
	file_put(f);
}

static void pcisysfs_config_reads_ids(struct ktest *t)
{
	struct bar_ref r;
	struct inode *inode;
	uint32_t id = 0;
	struct file *f;
	char path[128];
	int err;

	if (!find_bar(t, WANT_MEM, &r))
		return;
	path_of(&r, path, sizeof(path), "config");
	KASSERT_EQ(t, vfs_lookup(NULL, path, false, &inode), 0);
	KEXPECT_EQ(t, inode->size, (uint64_t)r.d->cfg_size);
	f = vfs_open("/", path, O_RDONLY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_pread(f, &id, 4, 0), 4);
	KEXPECT_EQ(t, id, (uint32_t)r.d->device << 16 | r.d->vendor);
	KEXPECT_EQ(t, vfs_pread(f, &id, 4, r.d->cfg_size - 2), 2); /* clamped */
	KEXPECT_EQ(t, vfs_pread(f, &id, 4, r.d->cfg_size), 0);
	file_put(f);
}

/* --- mmap --- */

struct map_env {
	struct mm_struct *mm, *old;
	struct file *f;
	uint64_t free_before;
};

static bool map_begin(struct ktest *t, struct map_env *e, const char *path)
{
	int err;

	kmalloc_shrink();
	e->free_before = pmm_free_pages();
	e->f = vfs_open("/", path, O_RDWR, 0, &err);
	e->mm = mm_create();
	if (!e->f || !e->mm) {
		ktest_fail(t, __FILE__, __LINE__, "cannot open %s (%d) or make an mm", path, err);
		file_put(e->f);
		if (e->mm)
			mm_destroy(e->mm);
		return false;
	}
	e->old = mm_current();
	mm_switch(e->mm);
	return true;
}

/* Tear down; true when every frame came back. */
static bool map_end(struct map_env *e)
{
	mm_switch(e->old);
	mm_destroy(e->mm);
	file_put(e->f);
	kmalloc_shrink();
	return pmm_free_pages() == e->free_before;
}

/* Map, then check the translation of offset off into the mapping. */
static void expect_maps(struct ktest *t, struct map_env *e, size_t len, unsigned long pgoff,
			int flags, phys_addr_t want_phys, enum cache_mode want_mode)
{
	struct pt_lookup_result r;
	long addr = do_mmap(e->mm, VA_FIXED, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED,
			    e->f, pgoff);

	KASSERT_EQ(t, addr, (long)VA_FIXED);
	KASSERT_EQ(t, pt_lookup(e->mm->pgd, addr + 0x123, &r), 0);
	KEXPECT_EQ(t, r.phys, want_phys + 0x123);
	KEXPECT_TRUE(t, r.pte & PTE_SPECIAL);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), want_mode);
	KEXPECT_EQ(t, pt_lookup(e->mm->pgd, addr + len - 1, &r), 0);
	KEXPECT_EQ(t, r.phys, want_phys + len - 1);
	KEXPECT_NE(t, pt_lookup(e->mm->pgd, addr + len, &r), 0);
	KEXPECT_EQ(t, do_munmap(e->mm, addr, len), 0);
}

/* What a UC- mapping of [pa, pa + len) gets: UC-, unless the kernel maps
 * some of it already with another type (the framebuffer console's WC, in
 * part of a larger BAR): then that one, as Linux's PAT code grants. */
static enum cache_mode type_for(phys_addr_t pa, uint64_t len)
{
	enum cache_mode m;

	return memtype_lookup(pa, pa + len, &m) == 0 ? m : CACHE_UC_MINUS;
}

static void pcisysfs_mmap_resource_maps_bar_uncached(struct ktest *t)
{
	enum cache_mode m = CACHE_UC_MINUS;
	struct bar_ref r;
	struct map_env e;
	phys_addr_t bar;
	uint64_t size;
	char name[16], path[128];

	if (!find_bar(t, WANT_MEM, &r))
		return;
	snprintf(name, sizeof(name), "resource%u", r.i);
	if (!map_begin(t, &e, path_of(&r, path, sizeof(path), name)))
		return;
	bar = r.b->start;
	size = r.b->size;
	if (memtype_lookup(bar, bar + size, &m) == 0)
		ktest_log(t, "the kernel maps (part of) the BAR %s", cache_mode_name(m));
	expect_maps(t, &e, size, 0, MAP_SHARED, bar, type_for(bar, size));
	expect_maps(t, &e, PAGE_SIZE, 1, MAP_SHARED, bar + PAGE_SIZE,
		    type_for(bar + PAGE_SIZE, PAGE_SIZE));
	if (size >= 4 * MiB)
		expect_maps(t, &e, 2 * MiB, MiB / PAGE_SIZE, MAP_SHARED, bar + MiB,
			    type_for(bar + MiB, 2 * MiB));
	/* the last page: offset + length == the BAR's end is in range */
	expect_maps(t, &e, PAGE_SIZE, size / PAGE_SIZE - 1, MAP_SHARED, bar + size - PAGE_SIZE,
		    type_for(bar + size - PAGE_SIZE, PAGE_SIZE));
	/* Linux does not refuse MAP_PRIVATE on resource files */
	expect_maps(t, &e, PAGE_SIZE, 0, MAP_PRIVATE, bar, type_for(bar, PAGE_SIZE));
	KEXPECT_TRUE(t, map_end(&e));
}

/* May [pa, pa + size) be mapped with 2 MiB entries here? */
static bool huge_possible(phys_addr_t pa, uint64_t size)
{
	bool uniform;

	mtrr_type_lookup(mtrr_kernel_state(), pa, pa + 2 * MiB, &uniform);
	return !remap_force_small_pages && IS_ALIGNED(pa, 2 * MiB) && size >= 2 * MiB && uniform;
}

/* The _wc file maps the same frames write-combining, with 2 MiB entries
 * where the BAR's address, its size and the MTRRs allow. */
static void pcisysfs_mmap_resource_wc_is_write_combining(struct ktest *t)
{
	struct pt_lookup_result r;
	struct vm_area_struct *v;
	struct bar_ref b;
	struct map_env e;
	char name[16], path[128];
	long addr;

	if (!find_bar(t, WANT_PREFETCH, &b))
		return;
	snprintf(name, sizeof(name), "resource%u_wc", b.i);
	if (!map_begin(t, &e, path_of(&b, path, sizeof(path), name)))
		return;
	expect_maps(t, &e, b.b->size, 0, MAP_SHARED, b.b->start, CACHE_WC);
	addr = do_mmap(e.mm, VA_FIXED, b.b->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		       e.f, 0);
	KASSERT_EQ(t, addr, (long)VA_FIXED);
	KASSERT_EQ(t, pt_lookup(e.mm->pgd, addr, &r), 0);
	ktest_log(t, "%s at %#lx: level-%u entry %#llx", name, addr, r.level,
		  (unsigned long long)r.pte);
	if (huge_possible(b.b->start, b.b->size))
		KEXPECT_GE(t, r.level, 1U);
	v = vma_lookup(e.mm, addr);
	KASSERT_NOT_NULL(t, v);
	/* as in Linux, vm_pgoff is now the frame number: /proc/PID/maps
	 * shows the physical address as the offset */
	KEXPECT_EQ(t, v->vm_pgoff, b.b->start >> PAGE_SHIFT);
	KEXPECT_TRUE(t, v->vm_flags & VM_PFNMAP);
	KEXPECT_TRUE(t, map_end(&e));
}

/* Every range outside the BAR fails with Linux's errno and leaves no VMA.
 * (An offset that is not page-aligned never gets here: the mmap system
 * call refuses it with -EINVAL before do_mmap, mm/sys_mm.c.) */
static void pcisysfs_mmap_out_of_range_fails_with_linux_errno(struct ktest *t)
{
	struct bar_ref b;
	struct map_env e;
	char name[16], path[128];
	unsigned long bar_pages;

	if (!find_bar(t, WANT_MEM, &b))
		return;
	bar_pages = b.b->size / PAGE_SIZE;
	const struct {
		const char *what;
		size_t len;
		unsigned long pgoff;
		int err;
	} rows[] = {
		{ "length past the BAR", b.b->size + PAGE_SIZE, 0, -EINVAL },
		{ "offset at the end", PAGE_SIZE, bar_pages, -EINVAL },
		{ "offset + length past the end", 2 * PAGE_SIZE, bar_pages - 1, -EINVAL },
		{ "offset far past the end", PAGE_SIZE, 1UL << 40, -EINVAL },
		{ "zero length", 0, 0, -EINVAL },
		{ "length beyond user space", 1UL << 48, 0, -ENOMEM },
		{ "length that wraps when page-aligned", ~0UL - 10, 0, -ENOMEM },
		{ "offset + length overflows", 2 * PAGE_SIZE, ~0UL, -EOVERFLOW },
	};

	snprintf(name, sizeof(name), "resource%u", b.i);
	if (!map_begin(t, &e, path_of(&b, path, sizeof(path), name)))
		return;
	for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
		long ret = do_mmap(e.mm, 0, rows[i].len, PROT_READ | PROT_WRITE, MAP_SHARED, e.f,
				   rows[i].pgoff);
		if (ret != rows[i].err)
			ktest_log(t, "row \"%s\" returned %ld", rows[i].what, ret);
		KEXPECT_EQ(t, ret, (long)rows[i].err);
	}
	KEXPECT_EQ(t, e.mm->map_count, 0U);
	KEXPECT_TRUE(t, map_end(&e));
}

/* An I/O BAR file: reads of 1, 2 or 4 bytes only, no mmap (x86 cannot
 * map ports: -ENODEV, as on Linux). */
static void pcisysfs_io_bar_cannot_be_mapped(struct ktest *t)
{
	struct bar_ref b;
	struct map_env e;
	char buf[4], name[16], path[128];

	if (!find_bar(t, WANT_IO, &b))
		return;
	snprintf(name, sizeof(name), "resource%u", b.i);
	if (!map_begin(t, &e, path_of(&b, path, sizeof(path), name)))
		return;
	KEXPECT_EQ(t, do_mmap(e.mm, 0, PAGE_SIZE, PROT_READ, MAP_SHARED, e.f, 0), -ENODEV);
	KEXPECT_EQ(t, vfs_pread(e.f, buf, 3, 0), -EINVAL);
	KEXPECT_EQ(t, vfs_pread(e.f, buf, 1, b.b->size), 0);
	KEXPECT_TRUE(t, map_end(&e));
}

/* An ivshmem BAR2 (64-bit, prefetchable: at 10 GiB or 896 GiB or 112 TiB,
 * or below 4 GiB behind a bridge) maps whole, with 1 GiB entries when
 * the CPU and the alignment allow. */
static void pcisysfs_mmap_ivshmem_bar2_maps_whole(struct ktest *t)
{
	struct pci_dev *iv = pci_find_device(0x1af4, 0x1110, NULL);
	struct pt_lookup_result r;
	struct map_env e;
	char path[64];
	long addr;

	pci_sysfs_init();
	if (!iv || !pci_bar_is_mem(&iv->bar[2])) {
		ktest_skip(t, "no ivshmem device present");
		return;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource2_wc", iv->name);
	if (!map_begin(t, &e, path))
		return;
	addr = do_mmap(e.mm, VA_FIXED, iv->bar[2].size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, e.f, 0);
	KASSERT_EQ(t, addr, (long)VA_FIXED);
	KASSERT_EQ(t, pt_lookup(e.mm->pgd, addr + iv->bar[2].size - 1, &r), 0);
	KEXPECT_EQ(t, r.phys, iv->bar[2].start + iv->bar[2].size - 1);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_WC);
	if (huge_possible(iv->bar[2].start, iv->bar[2].size))
		KEXPECT_GE(t, r.level, 1U);
	ktest_log(t, "%s BAR2 at %#llx mapped with level-%u entries (%#llx)", iv->name,
		  (unsigned long long)iv->bar[2].start, r.level, (unsigned long long)r.pte);
	KEXPECT_TRUE(t, map_end(&e));
}

static const struct ktest_case pcisysfs_cases[] = {
	KTEST_CASE(pcisysfs_device_directory_and_files_exist),
	KTEST_CASE(pcisysfs_ids_read_in_linux_format),
	KTEST_CASE(pcisysfs_resource_has_linux_lines),
	KTEST_CASE(pcisysfs_resource_size_read_write_seek),
	KTEST_CASE(pcisysfs_config_reads_ids),
	KTEST_CASE(pcisysfs_mmap_resource_maps_bar_uncached),
	KTEST_CASE(pcisysfs_mmap_resource_wc_is_write_combining),
	KTEST_CASE(pcisysfs_mmap_out_of_range_fails_with_linux_errno),
	KTEST_CASE(pcisysfs_io_bar_cannot_be_mapped),
	KTEST_CASE(pcisysfs_mmap_ivshmem_bar2_maps_whole),
};
KTEST_SUITE(pcisysfs, pcisysfs_cases);
