/* PCI: configuration space access (ECAM, else the legacy 0xCF8 ports),
 * bus enumeration and BAR decoding (drivers/pci.c), and the sysfs view of
 * the devices found (drivers/pci_sysfs.c). See docs/pci.md.
 *
 * Every function has 4 KiB of configuration space (256 bytes through the
 * legacy ports), addressed by segment:bus:device.function:
 *
 *   ECAM address = base + (bus << 20 | device << 15 | function << 12 | offset)
 *                          8 bits      5 bits         3 bits          12 bits
 *
 * (PCI Express Base Specification 4.0, 7.2.2; the base and bus range of
 * each segment come from the ACPI MCFG table, PCI Firmware Spec 3.2, 4.1.2).
 *
 * The devices are found once at boot by pci_init() and never go away. One
 * CPU, no preemption: no locks. */
#ifndef PAGODA_PCI_H
#define PAGODA_PCI_H

#include <pagoda/list.h>
#include <pagoda/resource.h>
#include <pagoda/types.h>

/* Type 0 and 1 configuration header (PCI Local Bus Spec 3.0, 6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1     /* decode I/O BARs */
#define PCI_COMMAND_MEMORY 0x2 /* decode memory BARs */
#define PCI_COMMAND_MASTER 0x4
#define PCI_STATUS 0x06
#define PCI_CLASS_REVISION 0x08 /* class << 8 | revision */
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MASK 0x7f
#define PCI_HEADER_MULTI_FUNC 0x80
#define PCI_HEADER_TYPE_NORMAL 0
#define PCI_HEADER_TYPE_BRIDGE 1
#define PCI_HEADER_TYPE_CARDBUS 2
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30       /* type 0 */
#define PCI_ROM_ADDRESS1 0x38      /* type 1 */
#define PCI_PRIMARY_BUS 0x18       /* type 1 */
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_IO_BASE 0x1c
#define PCI_IO_LIMIT 0x1d
#define PCI_MEMORY_BASE 0x20
#define PCI_MEMORY_LIMIT 0x22
#define PCI_PREF_MEMORY_BASE 0x24
#define PCI_PREF_MEMORY_LIMIT 0x26
#define PCI_PREF_BASE_UPPER32 0x28
#define PCI_PREF_LIMIT_UPPER32 0x2c
#define PCI_IO_BASE_UPPER16 0x30
#define PCI_IO_LIMIT_UPPER16 0x32

/* BAR low bits (PCI Local Bus Spec 3.0, 6.2.5.1). */
#define PCI_BASE_ADDRESS_SPACE_IO 0x1
#define PCI_BASE_ADDRESS_MEM_TYPE_MASK 0x6
#define PCI_BASE_ADDRESS_MEM_TYPE_64 0x4
#define PCI_BASE_ADDRESS_MEM_PREFETCH 0x8
#define PCI_BASE_ADDRESS_MEM_MASK (~0xfULL)
#define PCI_BASE_ADDRESS_IO_MASK (~0x3ULL)
#define PCI_ROM_ADDRESS_ENABLE 0x1
#define PCI_ROM_ADDRESS_MASK (~0x7ffULL)

#define PCI_CFG_SPACE_SIZE 256      /* conventional PCI, legacy ports */
#define PCI_CFG_SPACE_EXP_SIZE 4096 /* PCI Express, through ECAM */

/* Resource flags beyond resource.h, with Linux's values
 * (include/linux/ioport.h): the sysfs "resource" file prints them raw. */
#define IORESOURCE_PREFETCH 0x00002000
#define IORESOURCE_READONLY 0x00004000
#define IORESOURCE_SIZEALIGN 0x00040000
#define IORESOURCE_MEM_64 0x00100000
#define IORESOURCE_UNSET 0x20000000 /* size known, no address assigned */
#define IORESOURCE_ROM_ENABLE 0x1   /* the ROM BAR's enable bit */

/* Resource indices, Linux's numbering: the six BARs, the expansion ROM,
 * then (for bridges only) the windows forwarded to the secondary bus. */
#define PCI_STD_NUM_BARS 6
#define PCI_ROM_RESOURCE 6
#define PCI_NUM_RESOURCES 7
#define PCI_BRIDGE_WINDOWS 4 /* I/O, memory, prefetchable memory, unused */

/* One BAR, ROM or bridge window. Covers [start, start + size); size 0
 * means absent (and then flags is 0). A 64-bit BAR occupies two registers:
 * it is decoded into the lower index and the upper one stays absent, as
 * in Linux. */
struct pci_bar {
	phys_addr_t start; /* bus address = CPU physical address on x86 */
	uint64_t size;     /* bytes */
	unsigned long flags; /* IORESOURCE_*, with the BAR's low 4 bits, as Linux */
	struct resource res; /* its entry in iomem_resource, when inserted */
};

struct pci_dev {
	struct list_head node; /* in the list of all devices, in scan order */
	struct pci_dev *bridge; /* the bridge above, or NULL on a root bus */
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint16_t subsystem_vendor, subsystem_device;
	uint32_t class;   /* 24 bits: base class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	uint8_t hdr_type; /* PCI_HEADER_TYPE_*, without the multi-function bit */
	bool multifunction;
	uint8_t secondary, subordinate; /* bridges: the bus numbers behind */
	uint16_t cfg_size; /* 256 or 4096 bytes of configuration space */
	struct pci_bar bar[PCI_NUM_RESOURCES];      /* BARs 0-5 and the ROM */
	struct pci_bar window[PCI_BRIDGE_WINDOWS]; /* bridges only */
	/* What the firmware left in the registers, read before sizing; the
	 * tests check they are still there afterwards. */
	uint16_t boot_command;
	uint32_t boot_bar[PCI_STD_NUM_BARS];
	uint32_t boot_rom;
	char name[16];        /* "DDDD:BB:DD.F", as Linux's pci_name() */
	char window_name[20]; /* "PCI Bus DDDD:BB" */
	void *sysfs;          /* pci_sysfs.c's per-device state */
};

/* An ECAM region from the MCFG table: buses [start_bus, end_bus] of
 * segment. base is the address of bus 0 even when start_bus is not 0
 * (PCI Firmware Spec 3.2, Table 4-3); only the buses in range are mapped. */
struct pci_ecam_region {
	phys_addr_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint8_t *virt; /* ioremap_uc() of the bus range; virt[0] is start_bus */
	struct resource res; /* "PCI MMCONFIG 0000 [bus 00-ff]" in iomem */
	char name[32];
};

/* Find the ECAM regions (MCFG), scan every root bus and the buses behind
 * bridges, size the BARs and put the memory BARs into iomem_resource.
 * Call after acpi_init() (without MCFG the legacy ports serve segment 0)
 * and after mm_init() (ioremap, kmalloc). Returns 0, or -ENOMEM; calling
 * it again does nothing. */
int pci_init(void);

/* Make /sys/bus/pci/devices/DDDD:BB:DD.F for each device: symlinks into
 * /sys/devices/pciDDDD:BB/... holding vendor, device, class, resource,
 * resourceN and resourceN_wc (drivers/pci_sysfs.c). Call after vfs_init()
 * and pci_init(). Returns 0 or the first error (the rest is still made);
 * calling it again does nothing. */
int pci_sysfs_init(void);

/* The list of devices; do not modify it. */
extern struct list_head pci_devices;
#define pci_for_each_dev(d)                                                    \
	for ((d) = list_entry(pci_devices.next, struct pci_dev, node);          \
	     &(d)->node != &pci_devices;                                          \
	     (d) = list_entry((d)->node.next, struct pci_dev, node))

/* The first device with this vendor and device ID (after from, or from the
 * start when from is NULL), or NULL. */
struct pci_dev *pci_find_device(uint16_t vendor, uint16_t device, struct pci_dev *from);
/* The device at seg:bus:dev.fn, or NULL. */
struct pci_dev *pci_get_slot(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn);

/* Configuration space of a device, at a naturally aligned offset below its
 * cfg_size, in accesses of 1, 2 or 4 bytes. Reads return all ones on
 * error, as the hardware does for an absent device. */
uint8_t pci_read_config8(const struct pci_dev *d, unsigned int off);
uint16_t pci_read_config16(const struct pci_dev *d, unsigned int off);
uint32_t pci_read_config32(const struct pci_dev *d, unsigned int off);
void pci_write_config8(const struct pci_dev *d, unsigned int off, uint8_t v);
void pci_write_config16(const struct pci_dev *d, unsigned int off, uint16_t v);
void pci_write_config32(const struct pci_dev *d, unsigned int off, uint32_t v);

/* The same by address, through ECAM when a region covers seg:bus, else the
 * legacy ports (segment 0 only). size is 1, 2 or 4. Returns 0; -EINVAL for
 * a bad size, a misaligned offset or one past the space the mechanism
 * reaches; -ENODEV for a segment no mechanism reaches (*val = all ones). */
int pci_bus_read_config(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off,
			unsigned int size, uint32_t *val);
int pci_bus_write_config(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off,
			 unsigned int size, uint32_t val);

/* One mechanism only, for tests that compare them: the legacy ports
 * (PCI Local Bus Spec 3.0, 3.2.2.3.2; offsets below 256) and ECAM.
 * Returns as pci_bus_read_config(). */
int pci_conf1_read(uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off, unsigned int size,
		   uint32_t *val);
int pci_ecam_read(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned int off,
		  unsigned int size, uint32_t *val);

/* The index-th ECAM region from the MCFG, or NULL. */
const struct pci_ecam_region *pci_ecam_region(unsigned int index);

/* Is the resource (BAR or ROM) a memory range / an I/O port range? */
static inline bool pci_bar_is_mem(const struct pci_bar *b)
{
	return b->size && (b->flags & IORESOURCE_MEM);
}
static inline bool pci_bar_is_io(const struct pci_bar *b)
{
	return b->size && (b->flags & IORESOURCE_IO);
}

#endif
