/* Tests of PCI enumeration (drivers/pci.c) on QEMU's q35 machine: the
 * devices every q35 has, what the firmware put in the BARs and that sizing
 * left it there, the ECAM window from the MCFG, the BARs in /proc/iomem,
 * and ECAM and the legacy ports agreeing. The expected values come from
 * QEMU and its firmwares (../shared/NOTES.md), not from the code. */
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/fwcfg.h>
#include <pagoda/ktest.h>
#include <pagoda/multiboot2.h>
#include <pagoda/pci.h>
#include <pagoda/resource.h>

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)
#define Q35_ECAM_BASE 0xb0000000ULL   /* QEMU's pcie-mmcfg-mmio on q35 */
#define Q35_HOST_VENDOR 0x8086
#define Q35_HOST_DEVICE 0x29c0         /* the MCH, at 00:00.0 */
#define QEMU_VGA_VENDOR 0x1234
#define QEMU_VGA_DEVICE 0x1111         /* -vga std, at 00:01.0 */
#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define OVMF_64BIT_MIN (512 * GiB)     /* OVMF puts 64-bit BARs near 896 GiB */
/* Linux's flags for a 32-bit prefetchable memory BAR: the BAR's low bits
 * (0x8) | IORESOURCE_MEM | _PREFETCH | _SIZEALIGN; and a 64-bit one. */
#define FLAGS_MEM32_PREF 0x42208UL
#define FLAGS_MEM64_PREF 0x14220cUL

/* kmain calls pci_init(); calling it again is a no-op, and lets the
 * suite run on a kernel that does not (yet). */
static bool q35(struct ktest *t)
{
	if (!fwcfg_present()) {
		ktest_skip(t, "not QEMU (no fw_cfg)");
		return false;
	}
	pci_init();
	return true;
}

static void pci_finds_q35_host_bridge_at_00_00_0(struct ktest *t)
{
	struct pci_dev *d;

	if (!q35(t))
		return;
	d = pci_get_slot(0, 0, 0, 0);
	KASSERT_NOT_NULL(t, d);
	KEXPECT_EQ(t, d->vendor, Q35_HOST_VENDOR);
	KEXPECT_EQ(t, d->device, Q35_HOST_DEVICE);
	KEXPECT_EQ(t, d->class, 0x060000U); /* bridge, host */
	KEXPECT_EQ(t, d->hdr_type, PCI_HEADER_TYPE_NORMAL);
	KEXPECT_STREQ(t, d->name, "0000:00:00.0");
	KEXPECT_TRUE(t, pci_find_device(Q35_HOST_VENDOR, Q35_HOST_DEVICE, NULL) == d);
	KEXPECT_NULL(t, pci_find_device(0xdead, 0xbeef, NULL));
}

/* q35's ICH9 functions at 00:1f: LPC (.0), SATA (.2), SMBus (.3). */
static void pci_scans_multifunction_slot_00_1f(struct ktest *t)
{
	struct pci_dev *lpc;

	if (!q35(t))
		return;
	lpc = pci_get_slot(0, 0, 0x1f, 0);
	KASSERT_NOT_NULL(t, lpc);
	KEXPECT_EQ(t, lpc->vendor, 0x8086);
	KEXPECT_TRUE(t, lpc->multifunction);
	KEXPECT_NOT_NULL(t, pci_get_slot(0, 0, 0x1f, 2));
	KEXPECT_NOT_NULL(t, pci_get_slot(0, 0, 0x1f, 3));
	KEXPECT_NULL(t, pci_get_slot(0, 0, 0x1f, 1));
}

static void pci_vga_bar0_is_the_boot_framebuffer(struct ktest *t)
{
	struct pci_dev *d;
	const struct pci_bar *b;

	if (!q35(t))
		return;
	d = pci_get_slot(0, 0, 1, 0);
	KASSERT_NOT_NULL(t, d);
	KEXPECT_EQ(t, d->vendor, QEMU_VGA_VENDOR);
	KEXPECT_EQ(t, d->device, QEMU_VGA_DEVICE);
	KEXPECT_EQ(t, d->class, 0x030000U); /* display, VGA */
	b = &d->bar[0];
	ktest_log(t, "VGA BAR0 [%#llx, +%#llx) flags %#lx", (unsigned long long)b->start,
		  (unsigned long long)b->size, b->flags);
	KEXPECT_EQ(t, b->size, 16 * MiB);
	KEXPECT_EQ(t, b->flags, FLAGS_MEM32_PREF);
	KEXPECT_LT(t, b->start, 4 * GiB);
	if (boot_info.has_framebuffer)
		KEXPECT_EQ(t, b->start, boot_info.fb.addr);
	/* BAR2 is the 4 KiB register BAR: 32-bit, not prefetchable */
	KEXPECT_EQ(t, d->bar[2].size, 4096U);
	KEXPECT_EQ(t, d->bar[2].flags, (unsigned long)(IORESOURCE_MEM | IORESOURCE_SIZEALIGN));
	KEXPECT_EQ(t, d->bar[1].size, 0U);
}

static void pci_mcfg_gives_ecam_at_0xb0000000(struct ktest *t)
{
	const struct pci_ecam_region *r;
	struct resource *in;

	if (!q35(t))
		return;
	r = pci_ecam_region(0);
	KASSERT_NOT_NULL(t, r);
	KEXPECT_EQ(t, r->base, Q35_ECAM_BASE);
	KEXPECT_EQ(t, r->segment, 0);
	KEXPECT_EQ(t, r->start_bus, 0);
	KEXPECT_EQ(t, r->end_bus, 0xff);
	KEXPECT_NOT_NULL(t, r->virt);
	KEXPECT_NULL(t, pci_ecam_region(1));
	in = resource_lookup(&iomem_resource, Q35_ECAM_BASE, Q35_ECAM_BASE + 256 * MiB);
	KEXPECT_TRUE(t, in == &r->res);
	KEXPECT_STREQ(t, r->res.name, "PCI MMCONFIG 0000 [bus 00-ff]");
}

/* The registers the sizing wrote to hold what the firmware left there. */
static void pci_sizing_restores_command_and_bars(struct ktest *t)
{
	struct pci_dev *d;
	unsigned int n = 0;

	if (!q35(t))
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
	KEXPECT_GE(t, n, 5U);
	d = pci_get_slot(0, 0, 1, 0);
	KASSERT_NOT_NULL(t, d);
	KEXPECT_TRUE(t, pci_read_config16(d, PCI_COMMAND) & PCI_COMMAND_MEMORY);
}

/* Every assigned memory BAR is in the tree under its device's name, with
 * nothing but its own contents below it. */
static void pci_memory_bars_are_in_iomem(struct ktest *t)
{
	struct pci_dev *d;
	unsigned int n = 0;

	if (!q35(t))
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
	KEXPECT_GE(t, n, 2U); /* at least the VGA's BAR0 and BAR2 */
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

	if (!q35(t))
		return;
	d = pci_find_device(IVSHMEM_VENDOR, IVSHMEM_DEVICE, NULL);
	if (!d) {
		ktest_skip(t, "no ivshmem device present");
		return;
	}
	b = &d->bar[2];
	ktest_log(t, "%s BAR2 [%#llx, +%#llx) under %s", d->name, (unsigned long long)b->start,
		  (unsigned long long)b->size, boot_info.booted_via_efi ? "OVMF" : "SeaBIOS");
	KEXPECT_EQ(t, b->flags, FLAGS_MEM64_PREF);
	KEXPECT_EQ(t, d->bar[3].size, 0U); /* the upper half of BAR2 */
	KEXPECT_EQ(t, d->bar[3].flags, 0UL);
	KEXPECT_TRUE(t, IS_ALIGNED(b->start, b->size));
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

	if (!q35(t))
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

	if (!q35(t))
		return;
	KEXPECT_EQ(t, pci_bus_read_config(0, 0, 0, 0, 0, 3, &v), -EINVAL);
	KEXPECT_EQ(t, pci_bus_read_config(0, 0, 0, 0, 2, 4, &v), -EINVAL); /* misaligned */
	KEXPECT_EQ(t, pci_bus_read_config(0, 0, 32, 0, 0, 4, &v), -EINVAL);
	KEXPECT_EQ(t, pci_bus_read_config(0, 0, 0, 8, 0, 4, &v), -EINVAL);
	KEXPECT_EQ(t, pci_conf1_read(0, 0, 0, 0x100, 4, &v), -EINVAL); /* past 256 bytes */
	KEXPECT_EQ(t, v, ~0U);
	KEXPECT_EQ(t, pci_ecam_read(0, 0, 0, 0, 0x1000, 4, &v), -EINVAL);
	KEXPECT_EQ(t, pci_ecam_read(0, 0, 0, 0, 0xffc, 4, &v), 0); /* last dword: fine */
	KEXPECT_EQ(t, pci_bus_read_config(1, 0, 0, 0, 0, 4, &v), -ENODEV); /* no segment 1 */
	KEXPECT_EQ(t, v, ~0U);
	/* an absent function reads as all ones through either mechanism */
	KEXPECT_EQ(t, pci_bus_read_config(0, 0xfe, 0, 0, 0, 4, &v), 0);
	KEXPECT_EQ(t, v, ~0U);
	KEXPECT_EQ(t, pci_conf1_read(0xfe, 0, 0, 0, 4, &v), 0);
	KEXPECT_EQ(t, v, ~0U);
}

/* Every device on a bus behind a bridge links to it, and the bus lies in
 * the bridge's [secondary, subordinate] range. */
static void pci_devices_behind_bridges_link_to_them(struct ktest *t)
{
	struct pci_dev *d;
	unsigned int behind = 0;

	if (!q35(t))
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
	KTEST_CASE(pci_finds_q35_host_bridge_at_00_00_0),
	KTEST_CASE(pci_scans_multifunction_slot_00_1f),
	KTEST_CASE(pci_vga_bar0_is_the_boot_framebuffer),
	KTEST_CASE(pci_mcfg_gives_ecam_at_0xb0000000),
	KTEST_CASE(pci_sizing_restores_command_and_bars),
	KTEST_CASE(pci_memory_bars_are_in_iomem),
	KTEST_CASE(pci_ivshmem_bar2_is_64bit_prefetchable),
	KTEST_CASE(pci_legacy_and_ecam_reads_agree),
	KTEST_CASE(pci_config_access_rejects_bad_arguments),
	KTEST_CASE(pci_devices_behind_bridges_link_to_them),
};
KTEST_SUITE(pci, pci_cases);
