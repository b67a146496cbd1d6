/* Legacy PCI configuration mechanism #1: write the address of a dword to
 * 0xCF8, read it from 0xCFC. Only bus 0, only reads: enough for the early
 * self-tests to cross-check what the boot loader says about a device. */
#include <pagoda/errno.h>
#include <pagoda/pci_early.h>
#include <pagoda/x86.h>

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_ENABLE (1U << 31)
#define PCI_BAR0 0x10
#define PCI_BAR_IO (1U << 0)
#define PCI_BAR_TYPE_MASK (3U << 1)
#define PCI_BAR_TYPE_64 (2U << 1)
#define PCI_BAR_MEM_MASK (~0xfULL)

uint32_t pci_early_read32(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int off)
{
	outl(PCI_CONFIG_ADDRESS, PCI_ENABLE | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc));
	return inl(PCI_CONFIG_DATA);
}

int pci_early_find_bar(uint16_t vendor, uint16_t device, unsigned int bar, uint64_t *base)
{
	for (unsigned int dev = 0; dev < 32; dev++) {
		uint32_t id = pci_early_read32(0, dev, 0, 0);
		if ((id & 0xffff) != vendor || (id >> 16) != device)
			continue;
		uint32_t lo = pci_early_read32(0, dev, 0, PCI_BAR0 + 4 * bar);
		if (lo & PCI_BAR_IO)
			return -EINVAL;
		uint64_t addr = lo & PCI_BAR_MEM_MASK;
		if ((lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64)
			addr |= (uint64_t)pci_early_read32(0, dev, 0, PCI_BAR0 + 4 * bar + 4) << 32;
		*base = addr;
		return 0;
	}
	return -ENODEV;
}
