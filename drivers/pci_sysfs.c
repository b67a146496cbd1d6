/* The sysfs view of PCI devices, as Linux's drivers/pci/pci-sysfs.c lays
 * it out:
 *
 *   /sys/devices/pci0000:00/0000:00:01.0/     one directory per function,
 *       vendor device class ...               nested below its bridge
 *       resource                              BARs, ROM, windows as text
 *       resource0 resource0_wc ...            the BARs themselves: mmap()
 *       config                                configuration space
 *   /sys/bus/pci/devices/0000:00:01.0 -> ../../../devices/pci0000:00/0000:00:01.0
 *
 * The files are ramfs inodes bound to the operations below, so /sys stays
 * the plain ramfs the VFS gives us. See docs/pci.md for the path from
 * mmap() on resourceN to the page tables. */
#define pr_fmt(fmt) "pci-sysfs: " fmt

#include <pagoda/errno.h>
#include <pagoda/mm.h>
#include <pagoda/pci.h>
#include <pagoda/printk.h>
#include <pagoda/remap.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>
#include <asm/x86.h>

#define SYSFS_ATTR_SIZE 4096 /* st_size of a sysfs text attribute (a page) */
#define ATTR_TEXT_MAX 1280   /* "resource" of a bridge: 17 lines of 57 bytes */

/* What one file of a device stands for: the device and, for resourceN,
 * which BAR. */
struct pci_sysfs_file {
	struct pci_dev *dev;
	const struct pci_attr *attr; /* a text attribute, or NULL */
	unsigned int bar;
};

/* A text attribute: show() formats it into buf (size bytes) and returns
 * the length, as Linux's sysfs show methods. */
struct pci_attr {
	const char *name;
	int (*show)(const struct pci_dev *d, char *buf, size_t size);
};

/* show_FIELD(): FIELD of the device as Linux prints it, e.g. "0x1234\n". */
#define PCI_SHOW(field, fmt)                                                   \
	static int show_##field(const struct pci_dev *d, char *b, size_t n)    \
	{                                                                      \
		return snprintf(b, n, fmt "\n", d->field);                    \
	}
PCI_SHOW(vendor, "0x%04x")
PCI_SHOW(device, "0x%04x")
PCI_SHOW(subsystem_vendor, "0x%04x")
PCI_SHOW(subsystem_device, "0x%04x")
PCI_SHOW(class, "0x%06x")
PCI_SHOW(revision, "0x%02x")

static int show_line(char *b, size_t n, const struct pci_bar *r)
{
	return snprintf(b, n, "0x%016llx 0x%016llx 0x%016llx\n", (unsigned long long)r->start,
			(unsigned long long)(r->size ? r->start + r->size - 1 : 0),
			(unsigned long long)r->flags);
}

/* Linux's resource_show(): start, inclusive end and flags of the six BARs,
 * the ROM, the six SR-IOV BARs (none here) and, for a bridge, its four
 * windows; all zeros for what is absent. */
static int show_resource(const struct pci_dev *d, char *b, size_t n)
{
	static const struct pci_bar none;
	const unsigned int iov_end = PCI_NUM_RESOURCES + 6; /* 13 */
	unsigned int lines = d->hdr_type == PCI_HEADER_TYPE_BRIDGE ? iov_end + 4 : iov_end;
	size_t len = 0;

	for (unsigned int i = 0; i < lines && len < n; i++) {
		const struct pci_bar *r = &none;
		if (i < PCI_NUM_RESOURCES)
			r = &d->bar[i];
		else if (i >= iov_end)
			r = &d->window[i - iov_end];
		len += show_line(b + len, n - len, r);
	}
	return (int)len;
}

static const struct pci_attr pci_attrs[] = {
	{ "vendor", show_vendor },
	{ "device", show_device },
	{ "subsystem_vendor", show_subsystem_vendor },
	{ "subsystem_device", show_subsystem_device },
	{ "class", show_class },
	{ "revision", show_revision },
	{ "resource", show_resource },
};
#define NR_ATTRS ARRAY_SIZE(pci_attrs)

/* Per device: the private data of each of its files. */
struct pci_sysfs_dev {
	struct pci_sysfs_file attr[NR_ATTRS];
	struct pci_sysfs_file config;
	struct pci_sysfs_file res[PCI_STD_NUM_BARS];
};

/* --- text attributes --- */

static ssize_t pci_attr_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	const struct pci_sysfs_file *sf = f->private_data;
	char text[ATTR_TEXT_MAX];
	int len = sf->attr->show(sf->dev, text, sizeof(text));

	if (len < 0)
		return len;
	if (len > (int)sizeof(text) - 1)
		len = sizeof(text) - 1;
	if (*pos >= (uint64_t)len)
		return 0;
	n = MIN(n, (size_t)len - *pos);
	memcpy(buf, text + *pos, n);
	*pos += n;
	return n;
}

/* Linux's kernfs: a write to an attribute without a store method. */
static ssize_t pci_attr_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	return -EINVAL;
}

static const struct file_operations pci_attr_fops = {
	.read = pci_attr_read,
	.write = pci_attr_write,
};

/* --- config: configuration space, in aligned accesses of up to 4 bytes,
 * as Linux's pci_read_config() / pci_write_config() --- */

static void cfg_xfer(const struct pci_dev *d, unsigned int off, uint8_t *p, size_t n, bool write)
{
	while (n) {
		unsigned int w = (off & 1) || n == 1 ? 1 : (off & 2) || n < 4 ? 2 : 4;
		uint32_t v = 0;

		if (write) {
			memcpy(&v, p, w); /* little-endian, as configuration space */
			pci_bus_write_config(d->segment, d->bus, d->dev, d->fn, off, w, v);
		} else {
			pci_bus_read_config(d->segment, d->bus, d->dev, d->fn, off, w, &v);
			memcpy(p, &v, w);
		}
		off += w;
		p += w;
		n -= w;
	}
}

/* The part of [pos, pos + n) inside the config space (Linux's sysfs
 * clamps to the file size): its length, 0 at or past the end. */
static size_t cfg_clamp(const struct pci_dev *d, uint64_t pos, size_t n)
{
	return pos >= d->cfg_size ? 0 : MIN(n, d->cfg_size - pos);
}

static ssize_t pci_config_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	const struct pci_sysfs_file *sf = f->private_data;

	n = cfg_clamp(sf->dev, *pos, n);
	cfg_xfer(sf->dev, *pos, buf, n, false);
	*pos += n;
	return n;
}

static ssize_t pci_config_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	const struct pci_sysfs_file *sf = f->private_data;

	if (n && *pos >= sf->dev->cfg_size)
		return -EFBIG;
	n = cfg_clamp(sf->dev, *pos, n);
	cfg_xfer(sf->dev, *pos, (uint8_t *)buf, n, true);
	*pos += n;
	return n;
}

static const struct file_operations pci_config_fops = {
	.read = pci_config_read,
	.write = pci_config_write,
};

/* --- resourceN --- */

static const struct pci_bar *file_bar(const struct file *f)
{
	const struct pci_sysfs_file *sf = f->private_data;

	return &sf->dev->bar[sf->bar];
}

/* Linux's sysfs_kf_bin_read() for a BAR file: a read inside the BAR has
 * no method behind it (memory BARs are for mmap only): -EIO. */
static ssize_t pci_resource_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	return !n || *pos >= file_bar(f)->size ? 0 : -EIO;
}

/* sysfs_kf_bin_write(): past the end -EFBIG, inside it -EIO. */
static ssize_t pci_resource_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	if (*pos >= file_bar(f)->size)
		return -EFBIG;
	return n ? -EIO : 0;
}

/* Linux 6.1 points a resource file's f_mapping at the iomem inode, whose
 * size is 0: lseek(SEEK_END) counts from 0, though stat shows the BAR
 * size (see ../shared/NOTES.md). */
static int64_t pci_resource_llseek(struct file *f, int64_t off, int whence)
{
	int64_t pos;

	switch (whence) {
	case SEEK_SET: pos = off; break;
	case SEEK_CUR:
		if (__builtin_add_overflow((int64_t)f->pos, off, &pos))
			return -EINVAL;
		break;
	case SEEK_END: pos = off; break;
	default: return -EINVAL;
	}
	if (pos < 0)
		return -EINVAL;
	f->pos = pos;
	return pos;
}

/* Linux's pci_mmap_fits(): the pages asked for, [vm_pgoff, vm_pgoff +
 * pages), must lie within the BAR's pages (a BAR smaller than a page
 * counts as one page). */
static bool pci_mmap_fits(const struct pci_bar *b, const struct vm_area_struct *vma)
{
	uint64_t bar_pages = ((b->size - 1) >> PAGE_SHIFT) + 1;

	return b->size && vma->vm_pgoff < bar_pages && vma_pages(vma) <= bar_pages - vma->vm_pgoff;
}

/* Linux's pci_mmap_resource() + pci_mmap_resource_range(): check the
 * range, pick the memory type (UC- as pgprot_device() on x86, or WC),
 * make vm_pgoff the BAR's frame number plus the offset, and map it all.
 * MAP_PRIVATE is allowed, as in Linux: remap_pfn_range() makes the pages
 * read-only for copy-on-write. */
static int pci_mmap_resource(struct file *f, struct vm_area_struct *vma, bool wc)
{
	const struct pci_bar *b = file_bar(f);

	if (!pci_bar_is_mem(b) || !pci_mmap_fits(b, vma))
		return -EINVAL;
	vma->vm_page_prot = wc ? pgprot_writecombine(vma->vm_page_prot)
			       : pgprot_noncached(vma->vm_page_prot);
	vma->vm_pgoff += b->start >> PAGE_SHIFT;
	return io_remap_pfn_range(vma, vma->vm_start, vma->vm_pgoff, vma->vm_end - vma->vm_start,
				  vma->vm_page_prot);
}

static int pci_mmap_uc(struct file *f, struct vm_area_struct *vma)
{
	return pci_mmap_resource(f, vma, false);
}

static int pci_mmap_wc(struct file *f, struct vm_area_struct *vma)
{
	return pci_mmap_resource(f, vma, true);
}

static const struct file_operations pci_resource_uc_fops = {
	.read = pci_resource_read,
	.write = pci_resource_write,
	.llseek = pci_resource_llseek,
	.mmap = pci_mmap_uc,
};

static const struct file_operations pci_resource_wc_fops = {
	.read = pci_resource_read,
	.write = pci_resource_write,
	.llseek = pci_resource_llseek,
	.mmap = pci_mmap_wc,
};

/* Linux's pci_resource_io(): one in or out of 1, 2 or 4 bytes at the
 * BAR's port + pos; other sizes -EINVAL. The sysfs layer has already
 * clamped n to the BAR (reads past it return 0, writes -EFBIG). */
static ssize_t pci_resource_io(struct file *f, void *buf, size_t n, uint64_t *pos, bool write)
{
	const struct pci_bar *b = file_bar(f);
	uint16_t port;

	if (*pos >= b->size)
		return write && n ? -EFBIG : 0;
	n = MIN(n, b->size - *pos);
	port = (uint16_t)(b->start + *pos);
	if (n != 1 && n != 2 && n != 4)
		return n ? -EINVAL : 0;
	if (write) {
		uint32_t v = 0;
		memcpy(&v, buf, n);
		n == 1 ? outb(port, v) : n == 2 ? outw(port, v) : outl(port, v);
	} else {
		uint32_t v = n == 1 ? inb(port) : n == 2 ? inw(port) : inl(port);
		memcpy(buf, &v, n);
	}
	*pos += n;
	return n;
}

static ssize_t pci_resource_io_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	return pci_resource_io(f, buf, n, pos, false);
}

static ssize_t pci_resource_io_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	return pci_resource_io(f, (void *)buf, n, pos, true);
}

/* x86 cannot mmap I/O ports (arch_can_pci_mmap_io() is 0): no .mmap, so
 * mmap() fails with -ENODEV as on Linux. */
static const struct file_operations pci_resource_io_fops = {
	.read = pci_resource_io_read,
	.write = pci_resource_io_write,
	.llseek = pci_resource_llseek,
};

/* --- building the tree --- */

/* The files are ramfs inodes; give them their own (empty) inode
 * operations so that the VFS does not treat them as ramfs data files:
 * O_TRUNC and truncate() must not change the size stat reports. */
static const struct inode_operations pci_sysfs_iops;

/* Create path as a regular file bound to fops and sf, with st_size size.
 * Returns 0 or the VFS's error. */
static int sysfs_add_file(const char *path, uint32_t mode, const struct file_operations *fops,
			  struct pci_sysfs_file *sf, uint64_t size)
{
	struct inode *inode;
	int err = vfs_mknod(path, S_IFREG | mode, fops, sf);

	if (!err)
		err = vfs_lookup(NULL, path, true, &inode);
	if (err)
		return err;
	inode->size = size;
	inode->i_op = &pci_sysfs_iops;
	return 0;
}

/* mkdir -p: every missing directory of path. Returns 0 or an error. */
static int sysfs_mkdir_p(const char *path)
{
	char buf[256];
	size_t n = strnlen(path, sizeof(buf));
	int err;

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		err = vfs_mkdir(buf, 0755);
		if (err && err != -EEXIST)
			return err;
		buf[i] = path[i];
	}
	return 0;
}

/* The device's directory: /sys/devices/pciSSSS:BB/ then the names of the
 * bridges above it and its own, as Linux nests them. Returns the length,
 * or -ENAMETOOLONG. */
static int pci_sysfs_dir(const struct pci_dev *d, char *buf, size_t size)
{
	int len;

	if (d->bridge)
		len = pci_sysfs_dir(d->bridge, buf, size);
	else
		len = snprintf(buf, size, "/sys/devices/pci%04x:%02x", d->segment, d->bus);
	if (len < 0 || (size_t)len >= size)
		return -ENAMETOOLONG;
	len += snprintf(buf + len, size - len, "/%s", d->name);
	return (size_t)len < size ? len : -ENAMETOOLONG;
}

static int pci_sysfs_add_bar(struct pci_dev *d, struct pci_sysfs_dev *s, const char *dir,
			     unsigned int i)
{
	const struct pci_bar *b = &d->bar[i];
	char path[200];
	int err;

	/* Linux would have assigned an address to an unassigned BAR; we
	 * cannot, and mapping "address 0" would map RAM: no file. */
	if (!b->size || (b->flags & IORESOURCE_UNSET))
		return 0;
	s->res[i] = (struct pci_sysfs_file){ .dev = d, .bar = i };
	snprintf(path, sizeof(path), "%s/resource%u", dir, i);
	err = sysfs_add_file(path, 0600, pci_bar_is_io(b) ? &pci_resource_io_fops
							 : &pci_resource_uc_fops, &s->res[i], b->size);
	if (err || !(b->flags & IORESOURCE_PREFETCH))
		return err;
	snprintf(path, sizeof(path), "%s/resource%u_wc", dir, i);
	return sysfs_add_file(path, 0600, &pci_resource_wc_fops, &s->res[i], b->size);
}

static int pci_sysfs_add_files(struct pci_dev *d, struct pci_sysfs_dev *s, const char *dir)
{
	char path[200];
	int err;

	for (unsigned int i = 0; i < NR_ATTRS; i++) {
		s->attr[i] = (struct pci_sysfs_file){ .dev = d, .attr = &pci_attrs[i] };
		snprintf(path, sizeof(path), "%s/%s", dir, pci_attrs[i].name);
		err = sysfs_add_file(path, 0444, &pci_attr_fops, &s->attr[i], SYSFS_ATTR_SIZE);
		if (err)
			return err;
	}
	s->config = (struct pci_sysfs_file){ .dev = d };
	snprintf(path, sizeof(path), "%s/config", dir);
	err = sysfs_add_file(path, 0644, &pci_config_fops, &s->config, d->cfg_size);
	for (unsigned int i = 0; i < PCI_STD_NUM_BARS && !err; i++)
		err = pci_sysfs_add_bar(d, s, dir, i);
	return err;
}

static int pci_sysfs_add_device(struct pci_dev *d)
{
	char dir[160], link[200], target[200];
	struct pci_sysfs_dev *s;
	int err = pci_sysfs_dir(d, dir, sizeof(dir));

	if (err < 0)
		return err;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	d->sysfs = s; /* lives as long as the device: forever */
	err = sysfs_mkdir_p(dir);
	if (!err)
		err = pci_sysfs_add_files(d, s, dir);
	if (err)
		return err;
	/* From /sys/bus/pci/devices/, "../../.." is /sys. */
	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s", d->name);
	snprintf(target, sizeof(target), "../../..%s", dir + strlen("/sys"));
	return vfs_symlink(link, target);
}

int pci_sysfs_init(void)
{
	static bool done;
	struct pci_dev *d;
	int first = 0, err;

	if (done)
		return 0;
	done = true;
	err = sysfs_mkdir_p("/sys/bus/pci/devices");
	if (err) {
		pr_warn("cannot make /sys/bus/pci/devices: error %d\n", err);
		return err;
	}
	sysfs_mkdir_p("/sys/bus/pci/drivers");
	pci_for_each_dev(d) {
		err = pci_sysfs_add_device(d);
		if (err) {
			pr_warn("%s: sysfs entries incomplete: error %d\n", d->name, err);
			if (!first)
				first = err;
		}
	}
	return first;
}
