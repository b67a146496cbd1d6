/* QEMU's firmware configuration device (drivers/fwcfg.c): a side channel
 * through which the self-tests learn what QEMU was asked for (the RAM
 * size), to check what the boot loader reported against it. */
#ifndef PAGODA_FWCFG_H
#define PAGODA_FWCFG_H

#include <pagoda/types.h>

/* True when running under QEMU with fw_cfg at its x86 I/O ports. */
bool fwcfg_present(void);

/* The -m RAM size QEMU was given, in bytes, or 0 without fw_cfg. */
uint64_t fwcfg_ram_size(void);

#endif
