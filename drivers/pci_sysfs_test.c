/* Tests of /sys/bus/pci (drivers/pci_sysfs.c) on QEMU's standard VGA
 * (00:01.0): the directory and its files, the text attributes in Linux's
 * format, and mmap() of resource0 through do_mmap() and the driver's
 * mmap into a test address space: the right frames, PTE_SPECIAL and the
 * memory type, Linux's errno for every range that does not fit, and no
 * frame leaked. Expected values come from QEMU (NOTES.md) and from Linux
 * 6.1's drivers/pci/pci-sysfs.c, not from the code under test. */
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/fwcfg.h>
#include <pagoda/ktest.h>
#include <pagoda/memtype.h>
#include <pagoda/mm.h>
#include <pagoda/pci.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/remap.h>
#include <pagoda/slab.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

#define MiB (1UL << 20)
#define GiB (1UL << 30)
#define VGA_DIR "/sys/bus/pci/devices/0000:00:01.0"
#define VGA_LINK_TARGET "../../../devices/pci0000:00/0000:00:01.0"
#define VA_FIXED (64 * GiB) /* 1 GiB-aligned: lets huge entries be used */
#define RESOURCE_LINE_LEN 57 /* "0x%016llx 0x%016llx 0x%016llx\n" */

static struct pci_dev *vga(struct ktest *t)
{
	struct pci_dev *d;

	if (!fwcfg_present()) {
		ktest_skip(t, "not QEMU (no fw_cfg)");
		return NULL;
	}
	/* kmain calls both; again is a no-op, for a kernel that does not. */
	pci_init();
	pci_sysfs_init();
	d = pci_get_slot(0, 0, 1, 0);
	if (!d || d->vendor != 0x1234)
		ktest_skip(t, "no QEMU standard VGA at 00:01.0");
	return d && d->vendor == 0x1234 ? d : NULL;
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

static void pcisysfs_vga_directory_and_files_exist(struct ktest *t)
{
	static const char *const files[] = { "vendor", "device", "class", "resource",
					     "config", "resource0", "resource0_wc", "resource2" };
	struct pci_dev *d = vga(t);
	struct inode *inode;
	char path[128], link[128];
	int n;

	if (!d)
		return;
	KASSERT_EQ(t, vfs_lookup(NULL, VGA_DIR, true, &inode), 0);
	KEXPECT_TRUE(t, S_ISLNK(inode->mode));
	n = vfs_readlink_at(NULL, VGA_DIR, link, sizeof(link) - 1);
	KASSERT_GT(t, n, 0);
	link[n] = '\0';
	KEXPECT_STREQ(t, link, VGA_LINK_TARGET);
	KASSERT_EQ(t, vfs_lookup(NULL, VGA_DIR, false, &inode), 0);
	KEXPECT_TRUE(t, S_ISDIR(inode->mode));
	for (unsigned int i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), VGA_DIR "/%s", files[i]);
		n = vfs_lookup(NULL, path, false, &inode);
		if (n)
			ktest_log(t, "%s: error %d", path, n);
		KEXPECT_EQ(t, n, 0);
		if (!n)
			KEXPECT_TRUE(t, S_ISREG(inode->mode));
	}
	/* BAR1 is not implemented; BAR2 is not prefetchable */
	KEXPECT_EQ(t, vfs_lookup(NULL, VGA_DIR "/resource1", false, &inode), -ENOENT);
	KEXPECT_EQ(t, vfs_lookup(NULL, VGA_DIR "/resource2_wc", false, &inode), -ENOENT);
}

static void pcisysfs_ids_read_in_linux_format(struct ktest *t)
{
	struct pci_dev *d = vga(t);
	char buf[64];

	if (!d)
		return;
	KEXPECT_EQ(t, read_text(VGA_DIR "/vendor", buf, sizeof(buf)), 7);
	KEXPECT_STREQ(t, buf, "0x1234\n");
	read_text(VGA_DIR "/device", buf, sizeof(buf));
	KEXPECT_STREQ(t, buf, "0x1111\n");
	read_text(VGA_DIR "/class", buf, sizeof(buf));
	KEXPECT_STREQ(t, buf, "0x030000\n");
	read_text("/sys/bus/pci/devices/0000:00:00.0/device", buf, sizeof(buf));
	KEXPECT_STREQ(t, buf, "0x29c0\n");
}

/* 13 lines for a normal device (6 BARs, ROM, 6 SR-IOV), as Linux 6.1
 * prints them; BAR0 with the flags Linux shows for it (0x42208). */
static void pcisysfs_resource_has_linux_lines(struct ktest *t)
{
	struct pci_dev *d = vga(t);
	char buf[1024], want[64];
	ssize_t n;

	if (!d)
		return;
	n = read_text(VGA_DIR "/resource", buf, sizeof(buf));
	KASSERT_EQ(t, n, 13 * RESOURCE_LINE_LEN);
	snprintf(want, sizeof(want), "0x%016llx 0x%016llx 0x0000000000042208\n",
		 (unsigned long long)d->bar[0].start,
		 (unsigned long long)(d->bar[0].start + 16 * MiB - 1));
	KEXPECT_EQ(t, memcmp(buf, want, RESOURCE_LINE_LEN), 0);
	if (boot_info.has_framebuffer)
		KEXPECT_EQ(t, d->bar[0].start, boot_info.fb.addr);
	KEXPECT_EQ(t, memcmp(buf + RESOURCE_LINE_LEN,
			     "0x0000000000000000 0x0000000000000000 0x0000000000000000\n",
			     RESOURCE_LINE_LEN), 0); /* BAR1: absent */
	for (unsigned int i = 0; i < 13; i++)
		KEXPECT_EQ(t, buf[(i + 1) * RESOURCE_LINE_LEN - 1], '\n');
}

/* stat shows the BAR size; read and write have no method (-EIO) inside
 * it; lseek(SEEK_END) counts from 0, as on Linux 6.1 (NOTES.md). */
static void pcisysfs_resource0_size_read_write_seek(struct ktest *t)
{
	struct pci_dev *d = vga(t);
	struct inode *inode;
	struct file *f;
	char c = 0;
	int err;

	if (!d)
		return;
	KASSERT_EQ(t, vfs_lookup(NULL, VGA_DIR "/resource0", false, &inode), 0);
	KEXPECT_EQ(t, inode->size, 16 * MiB);
	KEXPECT_EQ(t, inode->mode, (uint32_t)(S_IFREG | 0600));
	f = vfs_open("/", VGA_DIR "/resource0", O_RDWR | O_TRUNC, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, inode->size, 16 * MiB); /* O_TRUNC changed nothing */
	KEXPECT_EQ(t, vfs_read(f, &c, 1), -EIO);
	KEXPECT_EQ(t, vfs_write(f, &c, 1), -EIO);
	KEXPECT_EQ(t, vfs_pread(f, &c, 1, 16 * MiB), 0);
	KEXPECT_EQ(t, vfs_pwrite(f, &c, 1, 16 * MiB), -EFBIG);
	KEXPECT_EQ(t, vfs_lseek(f, 0, SEEK_END), 0);
	KEXPECT_EQ(t, vfs_lseek(f, 4096, SEEK_SET), 4096);
	KEXPECT_EQ(t, vfs_lseek(f, -1, SEEK_END), -EINVAL);
	file_put(f);
}

static void pcisysfs_config_reads_ids(struct ktest *t)
{
	struct pci_dev *d = vga(t);
	struct inode *inode;
	uint32_t id = 0;
	struct file *f;
	int err;

	if (!d)
		return;
	KASSERT_EQ(t, vfs_lookup(NULL, VGA_DIR "/config", false, &inode), 0);
	KEXPECT_EQ(t, inode->size, (uint64_t)d->cfg_size);
	f = vfs_open("/", VGA_DIR "/config", O_RDONLY, 0, &err);
	KASSERT_NOT_NULL(t, f);
	KEXPECT_EQ(t, vfs_pread(f, &id, 4, 0), 4);
	KEXPECT_EQ(t, id, 0x11111234U);
	KEXPECT_EQ(t, vfs_pread(f, &id, 4, d->cfg_size - 2), 2); /* clamped */
	KEXPECT_EQ(t, vfs_pread(f, &id, 4, d->cfg_size), 0);
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

/* UC-, unless the kernel maps the BAR already with another type (the
 * framebuffer console's WC): then that one, as Linux's PAT code grants. */
static void pcisysfs_mmap_resource0_maps_bar_uncached(struct ktest *t)
{
	struct pci_dev *d = vga(t);
	enum cache_mode m = CACHE_UC_MINUS;
	struct map_env e;
	phys_addr_t bar;

	if (!d || !map_begin(t, &e, VGA_DIR "/resource0"))
		return;
	bar = d->bar[0].start;
	if (memtype_lookup(bar, bar + 16 * MiB, &m) == 0)
		ktest_log(t, "the kernel maps the BAR %s", cache_mode_name(m));
	expect_maps(t, &e, 16 * MiB, 0, MAP_SHARED, bar, m);
	expect_maps(t, &e, PAGE_SIZE, 1, MAP_SHARED, bar + PAGE_SIZE, m);
	expect_maps(t, &e, 2 * MiB, 7 * MiB / PAGE_SIZE, MAP_SHARED, bar + 7 * MiB, m);
	/* the last page: offset + length == the BAR's end is in range */
	expect_maps(t, &e, PAGE_SIZE, 16 * MiB / PAGE_SIZE - 1, MAP_SHARED,
		    bar + 16 * MiB - PAGE_SIZE, m);
	/* Linux does not refuse MAP_PRIVATE on resource files */
	expect_maps(t, &e, PAGE_SIZE, 0, MAP_PRIVATE, bar, m);
	KEXPECT_TRUE(t, map_end(&e));
}

/* The _wc file maps the same frames write-combining, with 2 MiB entries
 * where the address and the BAR allow (0xfd000000 and 0xc0000000 are
 * 2 MiB-aligned). */
static void pcisysfs_mmap_resource0_wc_is_write_combining(struct ktest *t)
{
	struct pci_dev *d = vga(t);
	struct pt_lookup_result r;
	struct vm_area_struct *v;
	struct map_env e;
	long addr;

	if (!d || !map_begin(t, &e, VGA_DIR "/resource0_wc"))
		return;
	expect_maps(t, &e, 16 * MiB, 0, MAP_SHARED, d->bar[0].start, CACHE_WC);
	addr = do_mmap(e.mm, VA_FIXED, 16 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		       e.f, 0);
	KASSERT_EQ(t, addr, (long)VA_FIXED);
	KASSERT_EQ(t, pt_lookup(e.mm->pgd, addr, &r), 0);
	ktest_log(t, "resource0_wc at %#lx: level-%u entry %#llx", addr, r.level,
		  (unsigned long long)r.pte);
	if (!remap_force_small_pages)
		KEXPECT_EQ(t, r.level, 1U);
	v = vma_lookup(e.mm, addr);
	KASSERT_NOT_NULL(t, v);
	/* as in Linux, vm_pgoff is now the frame number: /proc/PID/maps
	 * shows the physical address as the offset */
	KEXPECT_EQ(t, v->vm_pgoff, d->bar[0].start >> PAGE_SHIFT);
	KEXPECT_TRUE(t, v->vm_flags & VM_PFNMAP);
	KEXPECT_TRUE(t, map_end(&e));
}

/* Every range outside the BAR fails with Linux's errno and leaves no VMA.
 * (An offset that is not page-aligned never gets here: the mmap system
 * call refuses it with -EINVAL before do_mmap, kernel/sys_mm.c.) */
static void pcisysfs_mmap_out_of_range_fails_with_linux_errno(struct ktest *t)
{
	struct pci_dev *d = vga(t);
	const unsigned long bar_pages = 16 * MiB / PAGE_SIZE;
	const struct {
		const char *what;
		size_t len;
		unsigned long pgoff;
		int err;
	} rows[] = {
		{ "length past the BAR", 16 * MiB + PAGE_SIZE, 0, -EINVAL },
		{ "offset at the end", PAGE_SIZE, bar_pages, -EINVAL },
		{ "offset + length past the end", 2 * PAGE_SIZE, bar_pages - 1, -EINVAL },
		{ "offset far past the end", PAGE_SIZE, 1UL << 40, -EINVAL },
		{ "zero length", 0, 0, -EINVAL },
		{ "length beyond user space", 1UL << 48, 0, -ENOMEM },
		{ "length that wraps when page-aligned", ~0UL - 10, 0, -ENOMEM },
		{ "offset + length overflows", 2 * PAGE_SIZE, ~0UL, -EOVERFLOW },
	};
	struct map_env e;

	if (!d || !map_begin(t, &e, VGA_DIR "/resource0"))
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
 * map ports: -ENODEV, as on Linux). The ICH9 SMBus at 00:1f.3 has one. */
static void pcisysfs_io_bar_cannot_be_mapped(struct ktest *t)
{
	struct pci_dev *d = vga(t), *smb = pci_get_slot(0, 0, 0x1f, 3);
	char buf[4];
	struct map_env e;

	if (!d)
		return;
	if (!smb || !pci_bar_is_io(&smb->bar[4])) {
		ktest_skip(t, "no ICH9 SMBus I/O BAR at 00:1f.3");
		return;
	}
	if (!map_begin(t, &e, "/sys/bus/pci/devices/0000:00:1f.3/resource4"))
		return;
	KEXPECT_EQ(t, do_mmap(e.mm, 0, PAGE_SIZE, PROT_READ, MAP_SHARED, e.f, 0), -ENODEV);
	KEXPECT_EQ(t, vfs_pread(e.f, buf, 3, 0), -EINVAL);
	KEXPECT_EQ(t, vfs_pread(e.f, buf, 1, smb->bar[4].size), 0);
	KEXPECT_TRUE(t, map_end(&e));
}

/* A 64-bit BAR far above RAM (8+ GiB under SeaBIOS, 896 GiB under OVMF)
 * maps whole, with 1 GiB entries when the CPU has them. */
static void pcisysfs_mmap_ivshmem_bar2_above_4g(struct ktest *t)
{
	struct pci_dev *iv = pci_find_device(0x1af4, 0x1110, NULL);
	struct pt_lookup_result r;
	struct map_env e;
	char path[64];
	long addr;

	if (!vga(t))
		return;
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
	KEXPECT_GE(t, r.phys, 4 * GiB);
	KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_WC);
	ktest_log(t, "%s BAR2 at %#llx mapped with level-%u entries (%#llx)", iv->name,
		  (unsigned long long)iv->bar[2].start, r.level, (unsigned long long)r.pte);
	KEXPECT_TRUE(t, map_end(&e));
}

static const struct ktest_case pcisysfs_cases[] = {
	KTEST_CASE(pcisysfs_vga_directory_and_files_exist),
	KTEST_CASE(pcisysfs_ids_read_in_linux_format),
	KTEST_CASE(pcisysfs_resource_has_linux_lines),
	KTEST_CASE(pcisysfs_resource0_size_read_write_seek),
	KTEST_CASE(pcisysfs_config_reads_ids),
	KTEST_CASE(pcisysfs_mmap_resource0_maps_bar_uncached),
	KTEST_CASE(pcisysfs_mmap_resource0_wc_is_write_combining),
	KTEST_CASE(pcisysfs_mmap_out_of_range_fails_with_linux_errno),
	KTEST_CASE(pcisysfs_io_bar_cannot_be_mapped),
	KTEST_CASE(pcisysfs_mmap_ivshmem_bar2_above_4g),
};
KTEST_SUITE(pcisysfs, pcisysfs_cases);
