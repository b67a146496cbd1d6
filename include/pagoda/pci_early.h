/* Minimal PCI configuration access through the legacy 0xCF8/0xCFC ports
 * (PCI Local Bus Specification 3.0, 3.2.2.3.2), for use before the PCI
 * driver exists (drivers/pci_early.c). */
#ifndef PAGODA_PCI_EARLY_H
#define PAGODA_PCI_EARLY_H

#include <pagoda/types.h>

uint32_t pci_early_read32(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int off);

/* Find the first device vendor:device on bus 0 and return the base
 * address of its memory BAR bar (64-bit BARs combined). Returns 0, or
 * -ENODEV if there is no such device, -EINVAL if the BAR is not memory. */
int pci_early_find_bar(uint16_t vendor, uint16_t device, unsigned int bar, uint64_t *base);

#endif
