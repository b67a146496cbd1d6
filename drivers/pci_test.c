/* Tests of PCI enumeration (drivers/pci.c): rules every PC's PCI bus
 * follows (the host bridge at 00:00.0, every function of a multi-function
 * device found, BARs sized and left as the firmware set them, in
 * /proc/iomem, devices behind bridges linked to them), ECAM where the
 * machine has an MCFG table, and on the devices QEMU makes, the values
 * QEMU and its firmwares give them (../shared/NOTES.md), each case saying
 * what it needs and skipping, with the reason, where it is missing. */
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/fwcfg.h>
#include <pagoda/ktest.h>
#include <pagoda/multiboot2.h>
#include <pagoda/pci.h>
#include <pagoda/printk.h>
#include <pagoda/resource.h>

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)
#define Q35_ECAM_BASE 0xb0000000ULL   /* QEMU's pcie-mmcfg-mmio on q35 */
#define Q35_HOST_VENDOR 0x8086
#define Q35_HOST_DEVICE 0x29c0         /* the MCH, at 00:00.0 */
#define QEMU_VGA_VENDOR 0x1234
#define QEMU_VGA_DEVICE 0x1111         /* -vga std */
#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define OVMF_64BIT_MIN (512 * GiB)     /* OVMF puts 64-bit BARs near 896 GiB or higher */
#define CLASS_HOST_BRIDGE 0x0600       /* base class 06h, subclass 00h */
/* Linux's flags for a 32-bit prefetchable memory BAR: the BAR's low bits
 * (0x8) | IORESOURCE_MEM | _PREFETCH | _SIZEALIGN; and a 64-bit one. */
#define FLAGS_MEM32_PREF 0x42208UL
#define FLAGS_MEM64_PREF 0x14220cUL

/* kmain calls pci_init(); calling it again is a no-op, and lets the
 * suite run on a kernel that does not (yet). False, with the case
 * skipped, on a machine without PCI devices. */
static bool pci_ready(struct ktest *t)
{
	pci_init();
	if (!pci_get_slot(0, 0, 0, 0)) {
		ktest_skip(t, "no PCI host bridge at 0000:00:00.0");
		return false;
	}
	return true;
}

/* The ECAM window, or NULL with the case skipped. */
static const struct pci_ecam_region *ecam(struct ktest *t)
{
	const struct pci_ecam_region *r = pci_ready(t) ? pci_ecam_region(0) : NULL;

	if (!r && t->status != KTEST_SKIP)
		ktest_skip(t, "no MCFG table: no PCIe ECAM, config space through ports 0xcf8/0xcfc");
	return r;
}

/* The first device with these IDs, or NULL with the case skipped. */
static struct pci_dev *need_device(struct ktest *t, uint16_t vendor, uint16_t device,
				   const char *why)
{
	struct pci_dev *d = pci_find_device(vendor, device, NULL);

	if (!d)
		ktest_skip(t, why);
	return d;
}

/* On a PC, function 00:00.0 is the host bridge (q35's MCH, i440fx's
 * PMC, the root complex of an AMD or Intel chipset). */
static void pci_host_bridge_is_00_00_0(struct ktest *t)
{
	struct pci_dev *d;

	if (!pci_ready(t))
		return;
	d = pci_get_slot(0, 0, 0, 0);
	ktest_log(t, "%s: %04x:%04x class %06x", d->name, d->vendor, d->device, d->class);
	KEXPECT_EQ(t, d->class >> 8, CLASS_HOST_BRIDGE);
	KEXPECT_EQ(t, d->hdr_type, PCI_HEADER_TYPE_NORMAL);
	KEXPECT_STREQ(t, d->name, "0000:00:00.0");
	KEXPECT_TRUE(t, pci_find_device(d->vendor, d->device, NULL) == d); /* first in scan order */
	KEXPECT_NULL(t, pci_find_device(0xdead, 0xbeef, NULL));
}

/* Every function that answers in config space is in the list: all eight
 * of a multi-function device, only function 0 of a single-function one. */
static void pci_finds_every_function_that_answers(struct ktest *t)
{
	unsigned int multi = 0;
	struct pci_dev *d;

	if (!pci_ready(t))
		return;
	pci_for_each_dev(d) {
		if (d->fn != 0)
			continue;
		multi += d->multifunction;
		for (uint8_t fn = 1; fn < 8; fn++) {
			uint32_t id;
			KEXPECT_EQ(t, pci_bus_read_config(d->segment, d->bus, d->dev, fn, 0, 2, &id), 0);
			bool answers = d->multifunction && id != 0xffff;
			struct pci_dev *f = pci_get_slot(d->segment, d->bus, d->dev, fn);
			if ((f != NULL) != answers)
				ktest_log(t, "%s function %u: vendor %#x, listed %d", d->name, fn, id,
					  f != NULL);
			KEXPECT_EQ(t, f != NULL, answers);
		}
	}
	pci_for_each_dev(d) /* and no function without its function 0 */
		if (d->fn)
			KEXPECT_NOT_NULL(t, pci_get_slot(d->segment, d->bus, d->dev, 0));
	if (!multi)
		ktest_skip(t, "no multi-function PCI device on this machine");
}

/* QEMU's standard VGA, wherever it sits (00:01.0 on q35, 00:02.0 on
 * i440fx): BAR0 the 16 MiB framebuffer, 32-bit prefetchable, below
 * 4 GiB; BAR2 its 4 KiB registers; BAR1 nothing. */
static void pci_qemu_std_vga_bars_are_sized_as_qemu_makes_them(struct ktest *t)
{
	struct pci_dev *d;
	const struct pci_bar *b;

	if (!pci_ready(t) || !(d = need_device(t, QEMU_VGA_VENDOR, QEMU_VGA_DEVICE,
					       "no QEMU standard VGA (1234:1111)")))
		return;
	KEXPECT_EQ(t, d->class, 0x030000U); /* display, VGA */
	b = &d->bar[0];
	ktest_log(t, "%s BAR0 [%#llx, +%#llx) flags %#lx", d->name, (unsigned long long)b->start,
		  (unsigned long long)b->size, b->flags);
	KEXPECT_EQ(t, b->size, 16 * MiB);
	KEXPECT_EQ(t, b->flags, FLAGS_MEM32_PREF);
	KEXPECT_LT(t, b->start, 4 * GiB);
	KEXPECT_EQ(t, d->bar[2].size, 4096U);
	KEXPECT_EQ(t, d->bar[2].flags, (unsigned long)(IORESOURCE_MEM | IORESOURCE_SIZEALIGN));
	KEXPECT_EQ(t, d->bar[1].size, 0U);
}

/* The MCFG's window: 1 MiB a bus, in /proc/iomem under Linux's name;
 * on QEMU's q35 at 0xb0000000. */
static void pci_ecam_window_covers_its_buses_in_iomem(struct ktest *t)
{
	const struct pci_ecam_region *r = ecam(t);
	struct pci_dev *host;
	struct resource *in;
	char name[40];

	if (!r)
		return;
	ktest_log(t, "ECAM at %#llx, buses %02x-%02x", (unsigned long long)r->base, r->start_bus,
		  r->end_bus);
	KEXPECT_EQ(t, r->segment, 0);
	KEXPECT_LE(t, r->start_bus, r->end_bus);
	KEXPECT_TRUE(t, IS_ALIGNED(r->base, MiB));
	KEXPECT_NOT_NULL(t, r->virt);
	KEXPECT_NULL(t, pci_ecam_region(1));
	in = resource_lookup(&iomem_resource, r->base + ((uint64_t)r->start_bus << 20),
			     r->base + ((uint64_t)r->end_bus + 1) * MiB);
	KEXPECT_TRUE(t, in == &r->res);
	snprintf(name, sizeof(name), "PCI MMCONFIG %04x [bus %02x-%02x]", r->segment,
		 r->start_bus, r->end_bus);
	KEXPECT_STREQ(t, r->res.name, name);
	host = pci_get_slot(0, 0, 0, 0);
	if (fwcfg_present() && host->vendor == Q35_HOST_VENDOR && host->device == Q35_HOST_DEVICE)
		KEXPECT_EQ(t, r->base, Q35_ECAM_BASE);
}

/* The registers the sizing wrote to hold what the firmware left there. */
static void pci_sizing_restores_command_and_bars(struct ktest *t)
{
	struct pci_dev *d;
	unsigned int n = 0;

	if (!pci_ready(t))
		return;
	pci_for_each_dev(d) {
		unsigned int nr = d->hdr_type == PCI_HEADER_TYPE_NORMAL ? 6
				  : d->hdr_type == PCI_HEADER_TYPE_BRIDGE ? 2 : 1;
		unsigned int rom = d->hdr_type == PCI_HEADER_TYPE_BRIDGE ? PCI_ROM_ADDRESS1
										: PCI_ROM_ADDRESS;
		KEXPECT_EQ(t, pci_read_config16(d, PCI_COMMAND), d->boot_command);
		for (unsigned int i = 0; i < nr; i++)
			KEXPECT_EQ(t, pci_read_config32(d, PCI_BASE_ADDRESS_0 + 4 * i), d->boot_bar[i]);
		if (d->hdr_type != PCI_HEADER_TYPE_CARDBUS)
			KEXPECT_EQ(t, pci_read_config32(d, rom), d->boot_rom);
		n++;
	}
	KEXPECT_GE(t, n, 1U);
}

/* Every assigned memory BAR is in the tree under its device's name, with
 * nothing but its own contents below it. */
static void pci_memory_bars_are_in_iomem(struct ktest *t)
{
	struct pci_dev *d;
	unsigned int n = 0;

	if (!pci_ready(t))
		return;
	pci_for_each_dev(d) {
		for (unsigned int i = 0; i < PCI_STD_NUM_BARS; i++) {
			const struct pci_bar *b = &d->bar[i];
			struct resource *r;
			if (!pci_bar_is_mem(b) || (b->flags & IORESOURCE_UNSET))
				continue;
			r = resource_lookup(&iomem_resource, b->start, b->start + b->size);
			KEXPECT_TRUE(t, r == &b->res);
			KEXPECT_STREQ(t, b->res.name, d->name);
			KEXPECT_EQ(t, b->res.end - b->res.start, b->size);
			KEXPECT_NOT_NULL(t, b->res.parent);
			KEXPECT_FALSE(t, b->res.parent->flags & IORESOURCE_SYSRAM);
			n++;
		}
	}
	if (!n)
		ktest_skip(t, "no PCI device with a memory BAR");
}

/* The end of RAM above 4 GiB in the firmware's map, or 4 GiB if none. */
static uint64_t ram_top_above_4g(void)
{
	uint64_t top = 4 * GiB;

	for (unsigned int i = 0; i < boot_info.nr_mmap; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];
		if (e->type == MB2_MEMORY_AVAILABLE && e->base + e->len > top)
			top = e->base + e->len;
	}
	return top;
}

/* SeaBIOS puts a BAR too big for the 32-bit hole at the first address
 * above RAM aligned to its size (measured, QEMU 7.2: with -m 8G, a 1 GiB
 * BAR lands at 0x280000000, just above RAM's end at 10 GiB; with -m 3G
 * at 0x140000000, with -m 64G at 0x1080000000). OVMF puts it near
 * 896 GiB whatever the RAM size. */
static void pci_ivshmem_bar2_is_64bit_prefetchable(struct ktest *t)
{
	struct pci_dev *d;
	const struct pci_bar *b;

	if (!pci_ready(t) || !(d = need_device(t, IVSHMEM_VENDOR, IVSHMEM_DEVICE,
					       "no ivshmem device present")))
		return;
	b = &d->bar[2];
	ktest_log(t, "%s BAR2 [%#llx, +%#llx) under %s", d->name, (unsigned long long)b->start,
		  (unsigned long long)b->size, boot_info.booted_via_efi ? "OVMF" : "SeaBIOS");
	KEXPECT_EQ(t, b->flags, FLAGS_MEM64_PREF);
	KEXPECT_EQ(t, d->bar[3].size, 0U); /* the upper half of BAR2 */
	KEXPECT_EQ(t, d->bar[3].flags, 0UL);
	KEXPECT_TRUE(t, IS_ALIGNED(b->start, b->size));
	if (!fwcfg_present() || d->bus != 0)
		return; /* where the firmware puts it: known for QEMU's root bus only */
	if (boot_info.booted_via_efi)
		KEXPECT_GE(t, b->start, OVMF_64BIT_MIN);
	else if (b->size >= GiB)
		KEXPECT_EQ(t, b->start, ALIGN_UP(ram_top_above_4g(), b->size));
}

/* Reads of one register through ECAM and through 0xCF8/0xCFC, in all
 * three widths, give the same value. */
static void pci_legacy_and_ecam_reads_agree(struct ktest *t)
{
	static const struct { unsigned int off, size; } regs[] = {
		{ 0x00, 4 }, { 0x02, 2 }, { 0x08, 4 }, { 0x0e, 1 }, { 0x10, 4 }, { 0x14, 4 },
		{ 0x18, 4 }, { 0x1c, 4 }, { 0x20, 4 }, { 0x24, 4 }, { 0x2c, 4 }, { 0x30, 4 },
		{ 0x3d, 1 },
	};
	struct pci_dev *d;

	if (!ecam(t))
		return;
	pci_for_each_dev(d) {
		for (unsigned int i = 0; i < ARRAY_SIZE(regs); i++) {
			uint32_t a, b;
			KEXPECT_EQ(t, pci_ecam_read(0, d->bus, d->dev, d->fn, regs[i].off,
						    regs[i].size, &a), 0);
			KEXPECT_EQ(t, pci_conf1_read(d->bus, d->dev, d->fn, regs[i].off,
						     regs[i].size, &b), 0);
			if (a != b)
				ktest_log(t, "%s offset %#x size %u", d->name, regs[i].off,
					  regs[i].size);
			KEXPECT_EQ(t, a, b);
		}
	}
}

static void pci_config_access_rejects_bad_arguments(struct ktest *t)
{
	uint32_t v;

	if (!pci_ready(t))
		return;
	KEXPECT_EQ(t, pci_bus_read_config(0, 0, 0, 0, 0, 3, &v), -EINVAL);
	KEXPECT_EQ(t, pci_bus_read_config(0, 0, 0, 0, 2, 4, &v), -EINVAL); /* misaligned */
	KEXPECT_EQ(t, pci_bus_read_config(0, 0, 32, 0, 0, 4, &v), -EINVAL);
	KEXPECT_EQ(t, pci_bus_read_config(0, 0, 0, 8, 0, 4, &v), -EINVAL);
	KEXPECT_EQ(t, pci_conf1_read(0, 0, 0, 0x100, 4, &v), -EINVAL); /* past 256 bytes */
	KEXPECT_EQ(t, v, ~0U);
	KEXPECT_EQ(t, pci_bus_read_config(1, 0, 0, 0, 0, 4, &v), -ENODEV); /* no segment 1 */
	KEXPECT_EQ(t, v, ~0U);
	/* an absent function reads as all ones */
	KEXPECT_EQ(t, pci_bus_read_config(0, 0xfe, 0, 0, 0, 4, &v), 0);
	KEXPECT_EQ(t, v, ~0U);
	KEXPECT_EQ(t, pci_conf1_read(0xfe, 0, 0, 0, 4, &v), 0);
	KEXPECT_EQ(t, v, ~0U);
	if (!pci_ecam_region(0)) { /* extended config space needs ECAM */
		KEXPECT_EQ(t, pci_bus_read_config(0, 0, 0, 0, 0x100, 4, &v), -EINVAL);
		return;
	}
	KEXPECT_EQ(t, pci_ecam_read(0, 0, 0, 0, 0x1000, 4, &v), -EINVAL);
	KEXPECT_EQ(t, pci_ecam_read(0, 0, 0, 0, 0xffc, 4, &v), 0); /* last dword: fine */
}

/* Every device on a bus behind a bridge links to it, and the bus lies in
 * the bridge's [secondary, subordinate] range. */
static void pci_devices_behind_bridges_link_to_them(struct ktest *t)
{
	struct pci_dev *d;
	unsigned int behind = 0;

	if (!pci_ready(t))
		return;
	pci_for_each_dev(d) {
		if (!d->bridge) {
			KEXPECT_EQ(t, d->bus, 0);
			continue;
		}
		KEXPECT_EQ(t, d->bridge->hdr_type, PCI_HEADER_TYPE_BRIDGE);
		KEXPECT_EQ(t, d->bus, d->bridge->secondary);
		KEXPECT_LE(t, d->bus, d->bridge->subordinate);
		behind++;
	}
	if (!behind)
		ktest_skip(t, "no device behind a PCI-to-PCI bridge");
}

static const struct ktest_case pci_cases[] = {
	KTEST_CASE(pci_host_bridge_is_00_00_0),
	KTEST_CASE(pci_finds_every_function_that_answers),
	KTEST_CASE(pci_qemu_std_vga_bars_are_sized_as_qemu_makes_them),
	KTEST_CASE(pci_ecam_window_covers_its_buses_in_iomem),
	KTEST_CASE(pci_sizing_restores_command_and_bars),
	KTEST_CASE(pci_memory_bars_are_in_iomem),
	KTEST_CASE(pci_ivshmem_bar2_is_64bit_prefetchable),
	KTEST_CASE(pci_legacy_and_ecam_reads_agree),
	KTEST_CASE(pci_config_access_rejects_bad_arguments),
	KTEST_CASE(pci_devices_behind_bridges_link_to_them),
};
KTEST_SUITE(pci, pci_cases);
