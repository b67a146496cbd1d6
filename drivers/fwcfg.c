/* QEMU fw_cfg over I/O ports (QEMU's docs/specs/fw_cfg.rst): write a 16-bit
 * key to the selector port, then read the item's bytes from the data port. */
#include <pagoda/fwcfg.h>
#include <asm/x86.h>

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000 /* "QEMU" */
#define FW_CFG_RAM_SIZE 0x0003  /* u64, little-endian */

static void fwcfg_read(uint16_t key, void *buf, size_t len)
{
	uint8_t *p = buf;

	outw(FW_CFG_PORT_SEL, key);
	for (size_t i = 0; i < len; i++)
		p[i] = inb(FW_CFG_PORT_DATA);
}

bool fwcfg_present(void)
{
	char sig[4];

	fwcfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
	return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}

uint64_t fwcfg_ram_size(void)
{
	uint64_t size = 0;

	if (!fwcfg_present())
		return 0;
	fwcfg_read(FW_CFG_RAM_SIZE, &size, sizeof(size));
	return size;
}
