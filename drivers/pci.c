/* PCI enumeration: configuration space through ECAM (from the ACPI MCFG
 * table) or the legacy 0xCF8/0xCFC ports, a depth-first scan from each
 * root bus through PCI-to-PCI bridges, and BAR decoding that keeps what
 * the firmware assigned. See include/pagoda/pci.h and docs/pci.md.
 *
 * A BAR is sized the way every OS does it (PCI Local Bus Spec 3.0,
 * 6.2.5.1): write all ones, read back, restore. The bits that stay zero
 * are the address bits the device ignores, so the lowest bit that reads
 * back as one is the size. While a BAR holds all ones it claims a range
 * it does not own, so decoding is switched off in the command register
 * around the sizing (as Linux's __pci_read_base() does), except on host
 * bridges, which may stop answering config cycles if told to. */
#define pr_fmt(fmt) "pci: " fmt

#include <pagoda/spinlock.h>
#include <pagoda/acpi.h>
#include <pagoda/compiler.h>
#include <pagoda/errno.h>
#include <pagoda/ioremap.h>
#include <pagoda/pci.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <asm/x86.h>

/* The legacy configuration mechanism #1 (PCI Local Bus Spec 3.0,
 * 3.2.2.3.2): write enable | bus | device | function | dword offset to
 * CONFIG_ADDRESS, then access CONFIG_DATA (plus the byte offset). */
#define PCI_CONF1_ADDRESS 0xcf8
#define PCI_CONF1_DATA 0xcfc
#define PCI_CONF1_ENABLE (1U << 31)

#define PCI_MAX_ECAM_REGIONS 4
#define PCI_CLASS_BRIDGE_HOST 0x0600 /* class >> 8 of a host bridge */
#define PCI_CAPABILITY_LIST 0x34
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_ID_EXP 0x10 /* the PCI Express capability */

/* MCFG: the ACPI table of ECAM regions (PCI Firmware Spec 3.2, 4.1.2). */
struct acpi_mcfg_entry {
	uint64_t base; /* of bus 0 of the segment, even if start_bus > 0 */
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved;
} __packed;

struct acpi_mcfg {
	struct acpi_sdt_header hdr;
	uint64_t reserved;
	struct acpi_mcfg_entry entries[];
} __packed;

LIST_HEAD(pci_devices);
static struct pci_ecam_region ecam[PCI_MAX_ECAM_REGIONS];
static unsigned int nr_ecam;
static bool pci_ready;
static uint8_t bus_scanned[256 / 8]; /* of the segment being scanned */

/* --- configuration space access --- */

static bool cfg_args_ok(uint8_t dev, uint8_t fn, unsigned int off, unsigned int size,
			unsigned int limit)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	return dev < 32 && fn < 8 && off % size == 0 && off + size <= limit;
}

/* Ports 0xcf8/0xcfc: an address write, then a data access. */
DEFINE_STATIC_SPINLOCK(conf1_lock);

int pci_conf1_read(uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off, unsigned int size,
		   uint32_t *val)
{
	uint64_t irq;

	*val = ~0U;
	if (!cfg_args_ok(dev, fn, off, size, PCI_CFG_SPACE_SIZE))
		return -EINVAL;
	irq = spin_lock_irqsave(&conf1_lock); /* the address/data pair must not be split */
	outl(PCI_CONF1_ADDRESS,
	     PCI_CONF1_ENABLE | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc));
	if (size == 1)
		*val = inb(PCI_CONF1_DATA + (off & 3));
	else if (size == 2)
		*val = inw(PCI_CONF1_DATA + (off & 2));
	else
		*val = inl(PCI_CONF1_DATA);
	spin_unlock_irqrestore(&conf1_lock, irq);
	return 0;
}

static int pci_conf1_write(uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off,
			   unsigned int size, uint32_t val)
{
	uint64_t irq;

	if (!cfg_args_ok(dev, fn, off, size, PCI_CFG_SPACE_SIZE))
		return -EINVAL;
	irq = spin_lock_irqsave(&conf1_lock);
	outl(PCI_CONF1_ADDRESS,
	     PCI_CONF1_ENABLE | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc));
	if (size == 1)
		outb(PCI_CONF1_DATA + (off & 3), (uint8_t)val);
	else if (size == 2)
		outw(PCI_CONF1_DATA + (off & 2), (uint16_t)val);
	else
		outl(PCI_CONF1_DATA, val);
	spin_unlock_irqrestore(&conf1_lock, irq);
	return 0;
}

static const struct pci_ecam_region *ecam_find(uint16_t seg, uint8_t bus)
{
	for (unsigned int i = 0; i < nr_ecam; i++)
		if (ecam[i].segment == seg && bus >= ecam[i].start_bus && bus <= ecam[i].end_bus)
			return &ecam[i];
	return NULL;
}

/* The mapped address of a register, or NULL when no region covers it. */
static volatile void *ecam_addr(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
				unsigned int off)
{
	const struct pci_ecam_region *r = ecam_find(seg, bus);

	if (!r)
		return NULL;
	return r->virt + ((uintptr_t)(bus - r->start_bus) << 20 | dev << 15 | fn << 12 | off);
}

int pci_ecam_read(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off,
		  unsigned int size, uint32_t *val)
{
	volatile void *p;

	*val = ~0U;
	if (!cfg_args_ok(dev, fn, off, size, PCI_CFG_SPACE_EXP_SIZE))
		return -EINVAL;
	p = ecam_addr(seg, bus, dev, fn, off);
	if (!p)
		return -ENODEV;
	/* One access of the asked width: config registers can have side
	 * effects (write-one-to-clear status bits), so no wider reads. */
	if (size == 1)
		*val = *(volatile uint8_t *)p;
	else if (size == 2)
		*val = *(volatile uint16_t *)p;
	else
		*val = *(volatile uint32_t *)p;
	return 0;
}

static int pci_ecam_write(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off,
			  unsigned int size, uint32_t val)
{
	volatile void *p;

	if (!cfg_args_ok(dev, fn, off, size, PCI_CFG_SPACE_EXP_SIZE))
		return -EINVAL;
	p = ecam_addr(seg, bus, dev, fn, off);
	if (!p)
		return -ENODEV;
	if (size == 1)
		*(volatile uint8_t *)p = (uint8_t)val;
	else if (size == 2)
		*(volatile uint16_t *)p = (uint16_t)val;
	else
		*(volatile uint32_t *)p = val;
	return 0;
}

int pci_bus_read_config(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off,
			unsigned int size, uint32_t *val)
{
	if (ecam_find(seg, bus))
		return pci_ecam_read(seg, bus, dev, fn, off, size, val);
	if (seg == 0)
		return pci_conf1_read(bus, dev, fn, off, size, val);
	*val = ~0U;
	return -ENODEV;
}

int pci_bus_write_config(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off,
			 unsigned int size, uint32_t val)
{
	if (ecam_find(seg, bus))
		return pci_ecam_write(seg, bus, dev, fn, off, size, val);
	if (seg == 0)
		return pci_conf1_write(bus, dev, fn, off, size, val);
	return -ENODEV;
}

static uint32_t cfg_read(const struct pci_dev *d, unsigned int off, unsigned int size)
{
	uint32_t v;

	pci_bus_read_config(d->segment, d->bus, d->dev, d->fn, off, size, &v);
	return v;
}

static void cfg_write(const struct pci_dev *d, unsigned int off, unsigned int size, uint32_t v)
{
	pci_bus_write_config(d->segment, d->bus, d->dev, d->fn, off, size, v);
}

uint8_t pci_read_config8(const struct pci_dev *d, unsigned int off)
{
	return (uint8_t)cfg_read(d, off, 1);
}

uint16_t pci_read_config16(const struct pci_dev *d, unsigned int off)
{
	return (uint16_t)cfg_read(d, off, 2);
}

uint32_t pci_read_config32(const struct pci_dev *d, unsigned int off)
{
	return cfg_read(d, off, 4);
}

void pci_write_config8(const struct pci_dev *d, unsigned int off, uint8_t v)
{
	cfg_write(d, off, 1, v);
}

void pci_write_config16(const struct pci_dev *d, unsigned int off, uint16_t v)
{
	cfg_write(d, off, 2, v);
}

void pci_write_config32(const struct pci_dev *d, unsigned int off, uint32_t v)
{
	cfg_write(d, off, 4, v);
}

/* --- the resource tree --- */

/* Put res into iomem_resource, below whatever contains it whole (a
 * "Reserved" range, a bridge window), adopting what it covers (a
 * framebuffer entry). A range in System RAM is firmware gone wrong:
 * refused. Returns 0 or -EBUSY. */
static int pci_claim(struct resource *res, const char *what)
{
	struct resource *in = resource_lookup(&iomem_resource, res->start, res->end);
	int err = -EBUSY;

	if (in && !(in->flags & IORESOURCE_SYSRAM))
		err = insert_resource(&iomem_resource, res);
	if (err)
		pr_warn("%s %s [%#llx-%#llx) conflicts with %s; not in /proc/iomem\n", res->name,
			what, (unsigned long long)res->start, (unsigned long long)res->end,
			in ? in->name : "?");
	return err;
}

static void pci_claim_bar(struct pci_bar *b, const char *name, const char *what)
{
	if (!pci_bar_is_mem(b) || (b->flags & IORESOURCE_UNSET))
		return;
	b->res.name = name;
	b->res.start = b->start;
	b->res.end = b->start + b->size;
	b->res.flags = IORESOURCE_MEM;
	pci_claim(&b->res, what);
}

/* --- MCFG --- */

/* Map the buses of one MCFG entry. Returns 0, -EINVAL for a nonsense
 * entry, -ENOMEM when the window cannot be mapped. */
static int ecam_add(const struct acpi_mcfg_entry *e)
{
	struct pci_ecam_region *r = &ecam[nr_ecam];
	uint64_t first = (uint64_t)e->start_bus << 20;
	uint64_t len = (uint64_t)(e->end_bus - e->start_bus + 1) << 20;

	if (e->end_bus < e->start_bus || !e->base || e->base % (1 << 20))
		return -EINVAL;
	r->virt = ioremap_uc(e->base + first, len);
	if (!r->virt)
		return -ENOMEM;
	r->base = e->base;
	r->segment = e->segment;
	r->start_bus = e->start_bus;
	r->end_bus = e->end_bus;
	snprintf(r->name, sizeof(r->name), "PCI MMCONFIG %04x [bus %02x-%02x]", e->segment,
		 e->start_bus, e->end_bus);
	r->res.name = r->name;
	r->res.start = e->base + first;
	r->res.end = e->base + first + len;
	r->res.flags = IORESOURCE_MEM;
	pci_claim(&r->res, "ECAM");
	pr_info("ECAM for segment %04x buses %02x-%02x at %#llx\n", e->segment, e->start_bus,
		e->end_bus, (unsigned long long)(e->base + first));
	nr_ecam++;
	return 0;
}

static void ecam_init(void)
{
	const struct acpi_mcfg *m = (const void *)acpi_find_table("MCFG", 0);
	size_t n;

	if (!m) {
		pr_info("no MCFG table: legacy configuration ports, segment 0 only\n");
		return;
	}
	if (m->hdr.length < sizeof(*m)) {
		pr_warn("MCFG too short (%u bytes); ignored\n", m->hdr.length);
		return;
	}
	n = (m->hdr.length - sizeof(*m)) / sizeof(m->entries[0]);
	for (size_t i = 0; i < n && nr_ecam < PCI_MAX_ECAM_REGIONS; i++) {
		const struct acpi_mcfg_entry *e = &m->entries[i];
		int err = ecam_add(e);
		if (err)
			pr_warn("MCFG entry %zu (base %#llx, buses %02x-%02x) unusable: error %d\n", i,
				(unsigned long long)e->base, e->start_bus, e->end_bus, err);
	}
}

const struct pci_ecam_region *pci_ecam_region(unsigned int index)
{
	return index < nr_ecam ? &ecam[index] : NULL;
}

/* --- BARs --- */

/* Linux's pci_size(): from the address bits that stuck when all ones
 * were written (maxbase), the size of the range; 0 if none stuck. */
static uint64_t pci_size(uint64_t base, uint64_t maxbase, uint64_t mask)
{
	uint64_t size = mask & maxbase;

	if (!size)
		return 0;
	size &= ~(size - 1); /* the lowest one bit */
	/* base == maxbase: only valid if the BAR really held all ones */
	if (base == maxbase && ((base | (size - 1)) & mask) != mask)
		return 0;
	return size;
}

/* Linux's decode_bar(): IORESOURCE_* plus the BAR's own low bits. */
static unsigned long pci_decode_bar(uint32_t l)
{
	unsigned long flags;

	if (l & PCI_BASE_ADDRESS_SPACE_IO)
		return (l & 0x3) | IORESOURCE_IO;
	flags = (l & 0xf) | IORESOURCE_MEM;
	if (l & PCI_BASE_ADDRESS_MEM_PREFETCH)
		flags |= IORESOURCE_PREFETCH;
	if ((l & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64)
		flags |= IORESOURCE_MEM_64;
	return flags;
}

/* Write ones to the register at off, read what stuck, put orig back. */
static uint32_t pci_probe_reg(struct pci_dev *d, unsigned int off, uint32_t orig, uint32_t ones)
{
	uint32_t sz;

	pci_write_config32(d, off, ones);
	sz = pci_read_config32(d, off);
	pci_write_config32(d, off, orig);
	return sz;
}

/* Record [start, start + size); size 0 leaves the resource absent. */
static void pci_set_bar(struct pci_bar *b, uint64_t start, uint64_t size, unsigned long flags)
{
	b->start = size ? start : 0;
	b->size = size;
	b->flags = size ? flags : 0;
}

/* A sized BAR's flags: naturally aligned, and marked unassigned when the
 * firmware left it at 0 (we never assign addresses ourselves). */
static unsigned long bar_flags(uint64_t start, unsigned long flags)
{
	return flags | IORESOURCE_SIZEALIGN | (start ? 0 : IORESOURCE_UNSET);
}

/* Decode BAR i (of nr_bars). Returns how many registers it takes: 2 for
 * a 64-bit memory BAR, else 1. Decoding must be off. */
static unsigned int pci_read_bar(struct pci_dev *d, unsigned int i, unsigned int nr_bars)
{
	unsigned int off = PCI_BASE_ADDRESS_0 + 4 * i, regs = 1;
	uint32_t l = d->boot_bar[i] = pci_read_config32(d, off);
	uint32_t sz = pci_probe_reg(d, off, l, ~0U), hi, szhi;
	unsigned long flags;
	uint64_t l64, sz64, mask;

	/* All ones: a device that is not working; Linux reads it as 0. */
	if (l == 0xffffffff)
		l = 0;
	if (sz == 0xffffffff)
		sz = 0;
	flags = pci_decode_bar(l);
	if (flags & IORESOURCE_IO) {
		mask = PCI_BASE_ADDRESS_IO_MASK & 0xffff; /* x86 ports are 16-bit */
		l64 = l & mask;
		sz64 = sz & mask;
	} else {
		mask = (uint32_t)PCI_BASE_ADDRESS_MEM_MASK;
		l64 = l & mask;
		sz64 = sz & mask;
	}
	if ((flags & IORESOURCE_MEM_64) && i + 1 < nr_bars) {
		hi = d->boot_bar[i + 1] = pci_read_config32(d, off + 4);
		szhi = pci_probe_reg(d, off + 4, hi, ~0U);
		l64 |= (uint64_t)hi << 32;
		sz64 |= (uint64_t)szhi << 32;
		mask |= ~0ULL << 32;
		regs = 2;
	} else if (flags & IORESOURCE_MEM_64) {
		pr_warn("%s: 64-bit BAR %u in the last register; read as 32-bit\n", d->name, i);
		flags &= ~IORESOURCE_MEM_64;
	}
	pci_set_bar(&d->bar[i], l64, pci_size(l64, sz64, mask), bar_flags(l64, flags));
	return regs;
}

/* The expansion ROM BAR: address bits 31:11, enable bit 0. Sized with
 * the enable bit left as it was (Linux writes l | PCI_ROM_ADDRESS_MASK). */
static void pci_read_rom(struct pci_dev *d, unsigned int off)
{
	const uint32_t mask = (uint32_t)PCI_ROM_ADDRESS_MASK;
	uint32_t l = d->boot_rom = pci_read_config32(d, off);
	uint32_t sz = pci_probe_reg(d, off, l, l | mask);

	if (l == 0xffffffff)
		l = 0;
	if (sz == 0xffffffff)
		sz = 0;
	pci_set_bar(&d->bar[PCI_ROM_RESOURCE], l & mask, pci_size(l & mask, sz & mask, mask),
		    bar_flags(l & mask, (l & IORESOURCE_ROM_ENABLE) | IORESOURCE_MEM |
						IORESOURCE_PREFETCH | IORESOURCE_READONLY));
}

/* Size every BAR and the ROM of d with its decoding switched off, and
 * restore the command register. */
static void pci_read_bases(struct pci_dev *d, unsigned int nr_bars, unsigned int rom_off)
{
	uint16_t cmd = d->boot_command = pci_read_config16(d, PCI_COMMAND);
	uint16_t decode = cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	bool always_on = (d->class >> 8) == PCI_CLASS_BRIDGE_HOST;
	uint64_t irq;

	/* No printk and no interrupts in here: the console may be the
	 * framebuffer of the very device whose decoding is off. (This runs
	 * at boot, before the other CPUs start.) */
	irq = irq_save();
	if (decode && !always_on)
		pci_write_config16(d, PCI_COMMAND, cmd & ~decode);
	for (unsigned int i = 0; i < nr_bars;)
		i += pci_read_bar(d, i, nr_bars);
	if (rom_off)
		pci_read_rom(d, rom_off);
	if (decode && !always_on)
		pci_write_config16(d, PCI_COMMAND, cmd);
	irq_restore(irq);
}

/* The windows a PCI-to-PCI bridge forwards to its secondary bus (PCI
 * Bridge Spec 1.2, 3.2.5.6-3.2.5.9): I/O in 4 KiB units, memory in
 * 1 MiB units, prefetchable memory optionally 64-bit. base > limit means
 * the window is off. */
static void pci_read_bridge_windows(struct pci_dev *d)
{
	uint8_t iob = pci_read_config8(d, PCI_IO_BASE), iol = pci_read_config8(d, PCI_IO_LIMIT);
	uint16_t mb = pci_read_config16(d, PCI_MEMORY_BASE), ml = pci_read_config16(d, PCI_MEMORY_LIMIT);
	uint16_t pb = pci_read_config16(d, PCI_PREF_MEMORY_BASE);
	uint16_t pl = pci_read_config16(d, PCI_PREF_MEMORY_LIMIT);
	uint64_t base = (uint64_t)(iob & 0xf0) << 8, limit = (uint64_t)(iol & 0xf0) << 8;
	unsigned long flags;

	if ((iob & 0xf) == 1) { /* 32-bit I/O addressing */
		base |= (uint64_t)pci_read_config16(d, PCI_IO_BASE_UPPER16) << 16;
		limit |= (uint64_t)pci_read_config16(d, PCI_IO_LIMIT_UPPER16) << 16;
	}
	if (base <= limit)
		pci_set_bar(&d->window[0], base, limit + 0x1000 - base, (iob & 0xf) | IORESOURCE_IO);
	base = (uint64_t)(mb & 0xfff0) << 16;
	limit = (uint64_t)(ml & 0xfff0) << 16;
	if (base <= limit)
		pci_set_bar(&d->window[1], base, limit + 0x100000 - base, (mb & 0xf) | IORESOURCE_MEM);
	base = (uint64_t)(pb & 0xfff0) << 16;
	limit = (uint64_t)(pl & 0xfff0) << 16;
	flags = (pb & 0xf) | IORESOURCE_MEM | IORESOURCE_PREFETCH;
	if ((pb & 0xf) == 1) { /* 64-bit prefetchable window */
		base |= (uint64_t)pci_read_config32(d, PCI_PREF_BASE_UPPER32) << 32;
		limit |= (uint64_t)pci_read_config32(d, PCI_PREF_LIMIT_UPPER32) << 32;
		flags |= IORESOURCE_MEM_64;
	}
	if (base <= limit)
		pci_set_bar(&d->window[2], base, limit + 0x100000 - base, flags);
}

/* --- the scan --- */

/* Does d have the PCI Express capability? Walks the capability list
 * (PCI Local Bus Spec 3.0, 6.7), at most 48 entries against loops. */
static bool pci_is_pcie(struct pci_dev *d)
{
	unsigned int pos;

	if (!(pci_read_config16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return false;
	pos = pci_read_config8(d, PCI_CAPABILITY_LIST) & ~3U;
	for (int ttl = 48; pos >= 0x40 && ttl; ttl--) {
		if (pci_read_config8(d, pos) == PCI_CAP_ID_EXP)
			return true;
		pos = pci_read_config8(d, pos + 1) & ~3U;
	}
	return false;
}

/* Read the identity and the header of the function at d's address. */
static void pci_read_header(struct pci_dev *d)
{
	uint32_t id = pci_read_config32(d, PCI_VENDOR_ID);
	uint32_t cr = pci_read_config32(d, PCI_CLASS_REVISION);
	uint8_t hdr = pci_read_config8(d, PCI_HEADER_TYPE);

	d->vendor = id & 0xffff;
	d->device = id >> 16;
	d->revision = cr & 0xff;
	d->class = cr >> 8;
	d->hdr_type = hdr & PCI_HEADER_TYPE_MASK;
	d->multifunction = hdr & PCI_HEADER_MULTI_FUNC;
	d->cfg_size = PCI_CFG_SPACE_SIZE;
	/* As Linux's pci_cfg_space_size(): extended space only for PCIe,
	 * only through ECAM, and only if it answers. */
	if (ecam_find(d->segment, d->bus) && pci_is_pcie(d) &&
	    pci_read_config32(d, PCI_CFG_SPACE_SIZE) != 0xffffffff)
		d->cfg_size = PCI_CFG_SPACE_EXP_SIZE;
	snprintf(d->name, sizeof(d->name), "%04x:%02x:%02x.%x", d->segment, d->bus, d->dev, d->fn);
}

static void pci_setup_device(struct pci_dev *d)
{
	switch (d->hdr_type) {
	case PCI_HEADER_TYPE_NORMAL:
		d->subsystem_vendor = pci_read_config16(d, PCI_SUBSYSTEM_VENDOR_ID);
		d->subsystem_device = pci_read_config16(d, PCI_SUBSYSTEM_ID);
		pci_read_bases(d, 6, PCI_ROM_ADDRESS);
		break;
	case PCI_HEADER_TYPE_BRIDGE:
		d->secondary = pci_read_config8(d, PCI_SECONDARY_BUS);
		d->subordinate = pci_read_config8(d, PCI_SUBORDINATE_BUS);
		pci_read_bases(d, 2, PCI_ROM_ADDRESS1);
		pci_read_bridge_windows(d);
		break;
	case PCI_HEADER_TYPE_CARDBUS:
		pci_read_bases(d, 1, 0);
		break;
	default:
		pr_warn("%s: unknown header type %#x; BARs ignored\n", d->name, d->hdr_type);
	}
}

/* Put d's memory BARs, ROM and (bridge) windows into iomem_resource. */
static void pci_claim_device(struct pci_dev *d)
{
	if (d->hdr_type == PCI_HEADER_TYPE_BRIDGE) {
		snprintf(d->window_name, sizeof(d->window_name), "PCI Bus %04x:%02x", d->segment,
			 d->secondary);
		pci_claim_bar(&d->window[1], d->window_name, "window");
		pci_claim_bar(&d->window[2], d->window_name, "window");
	}
	for (unsigned int i = 0; i < PCI_STD_NUM_BARS; i++)
		pci_claim_bar(&d->bar[i], d->name, "BAR");
	/* An address left in a disabled ROM BAR may overlap anything. */
	if (d->bar[PCI_ROM_RESOURCE].flags & IORESOURCE_ROM_ENABLE)
		pci_claim_bar(&d->bar[PCI_ROM_RESOURCE], d->name, "ROM");
}

/* As Linux logs a new device: "0000:00:01.0: [1234:1111] type 00 class
 * 0x030000", then "reg 0x10: [mem 0xfd000000-0xfdffffff pref]". */
static void pci_print_device(const struct pci_dev *d)
{
	pr_info("%s: [%04x:%04x] type %02x class %#08x\n", d->name, d->vendor, d->device,
		d->hdr_type, d->class);
	for (unsigned int i = 0; i < PCI_NUM_RESOURCES; i++) {
		const struct pci_bar *b = &d->bar[i];
		unsigned int reg = i < PCI_ROM_RESOURCE ? PCI_BASE_ADDRESS_0 + 4 * i
			: d->hdr_type == PCI_HEADER_TYPE_BRIDGE ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS;
		if (!b->size)
			continue;
		pr_info("%s: reg %#x: [%s %#llx-%#llx%s%s%s]\n", d->name, reg,
			b->flags & IORESOURCE_IO ? "io " : "mem", (unsigned long long)b->start,
			(unsigned long long)(b->start + b->size - 1),
			b->flags & IORESOURCE_MEM_64 ? " 64bit" : "",
			b->flags & IORESOURCE_PREFETCH ? " pref" : "",
			b->flags & IORESOURCE_UNSET ? " unassigned" : "");
	}
}

static int pci_scan_bus(uint16_t seg, uint8_t bus, struct pci_dev *bridge);

/* Probe seg:bus:dev.fn; add a device if something answers. Returns 0, or
 * -ENODEV for an empty slot, -ENOMEM. */
static int pci_scan_function(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
			     struct pci_dev *bridge, struct pci_dev **out)
{
	struct pci_dev *d;
	uint32_t id;

	pci_bus_read_config(seg, bus, dev, fn, PCI_VENDOR_ID, 4, &id);
	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return -ENODEV;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->segment = seg;
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->bridge = bridge;
	pci_read_header(d);
	pci_setup_device(d);
	list_add_tail(&d->node, &pci_devices);
	pci_claim_device(d);
	pci_print_device(d);
	*out = d;
	return 0;
}

/* A slot: function 0, and functions 1-7 if function 0 says it has them.
 * Bridges found lead to their secondary bus at once (depth first, as
 * Linux numbers them). Returns 0 or -ENOMEM. */
static int pci_scan_slot(uint16_t seg, uint8_t bus, uint8_t dev, struct pci_dev *bridge)
{
	struct pci_dev *d;
	unsigned int nr_fn = 1;
	int err;

	for (uint8_t fn = 0; fn < nr_fn; fn++) {
		err = pci_scan_function(seg, bus, dev, fn, bridge, &d);
		if (err == -ENODEV)
			continue;
		if (err)
			return err;
		if (fn == 0 && d->multifunction)
			nr_fn = 8;
		if (d->hdr_type == PCI_HEADER_TYPE_BRIDGE && d->secondary > bus) {
			err = pci_scan_bus(seg, d->secondary, d);
			if (err)
				return err;
		}
	}
	return 0;
}

static int pci_scan_bus(uint16_t seg, uint8_t bus, struct pci_dev *bridge)
{
	/* Bus numbers only grow downstream, so each bus is seen once; the
	 * bitmap guards against firmware that numbered two bridges alike. */
	if (bus_scanned[bus / 8] & (1U << (bus % 8))) {
		pr_warn("bus %04x:%02x reached twice; second time ignored\n", seg, bus);
		return 0;
	}
	bus_scanned[bus / 8] |= 1U << (bus % 8);
	for (uint8_t dev = 0; dev < 32; dev++) {
		int err = pci_scan_slot(seg, bus, dev, bridge);
		if (err)
			return err;
	}
	return 0;
}

int pci_init(void)
{
	int err = 0;

	if (pci_ready)
		return 0;
	pci_ready = true;
	ecam_init();
	if (!nr_ecam) {
		memset(bus_scanned, 0, sizeof(bus_scanned));
		err = pci_scan_bus(0, 0, NULL);
	}
	/* Each MCFG segment's root bus is its first bus (ACPI's _BBN would
	 * say; QEMU and most PCs have one segment starting at bus 0). */
	for (unsigned int i = 0; i < nr_ecam && !err; i++) {
		if (i > 0 && ecam[i].segment == ecam[i - 1].segment)
			continue;
		memset(bus_scanned, 0, sizeof(bus_scanned));
		err = pci_scan_bus(ecam[i].segment, ecam[i].start_bus, NULL);
	}
	if (err)
		pr_err("scan stopped: error %d\n", err);
	return err;
}

struct pci_dev *pci_find_device(uint16_t vendor, uint16_t device, struct pci_dev *from)
{
	struct pci_dev *d;

	pci_for_each_dev(d) {
		if (from) {
			if (d == from)
				from = NULL;
			continue;
		}
		if (d->vendor == vendor && d->device == device)
			return d;
	}
	return NULL;
}

struct pci_dev *pci_get_slot(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct pci_dev *d;

	pci_for_each_dev(d)
		if (d->segment == seg && d->bus == bus && d->dev == dev && d->fn == fn)
			return d;
	return NULL;
}
