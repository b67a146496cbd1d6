/* What the boot loader told us, parsed once from the multiboot2 info into
 * plain structures (boot/multiboot2.c). Everything else reads this, never
 * the raw tags. */
#ifndef PAGODA_BOOTINFO_H
#define PAGODA_BOOTINFO_H

#include <pagoda/types.h>

#define BOOT_MMAP_MAX 1024 /* UEFI maps have hundreds of entries */
#define BOOT_MODULES_MAX 8
#define BOOT_CMDLINE_MAX 1024

/* A memory map range [base, base + len), type is MB2_MEMORY_*. */
struct boot_mmap_entry {
	phys_addr_t base;
	uint64_t len;
	uint32_t type;
};

/* A boot module [start, end) in physical memory. */
struct boot_module {
	phys_addr_t start;
	phys_addr_t end;
	char cmdline[64];
};

struct boot_framebuffer {
	phys_addr_t addr; /* 64-bit: a framebuffer may sit above 4 GiB */
	uint32_t pitch;   /* bytes per scan line */
	uint32_t width;
	uint32_t height;
	uint8_t bpp;
	uint8_t type; /* MB2_FRAMEBUFFER_TYPE_* */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct boot_info {
	char cmdline[BOOT_CMDLINE_MAX];
	char loader_name[64];
	struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
	unsigned int nr_mmap;
	struct boot_module modules[BOOT_MODULES_MAX];
	unsigned int nr_modules;
	bool has_framebuffer;
	struct boot_framebuffer fb;
	unsigned int rsdp_revision; /* 0: no RSDP tag, 1: ACPI 1.0, 2: ACPI 2.0+ */
	uint8_t rsdp[36];           /* copy of the RSDP (v1 uses the first 20) */
	bool booted_via_efi;        /* an EFI system table tag was present */
	phys_addr_t mbi_start, mbi_end; /* where the info itself lies */
};

extern struct boot_info boot_info;

/* Parse the multiboot2 info at mbi (size bytes readable at least
 * mbi->total_size) into *bi. Returns 0, or -EINVAL with a message naming
 * the bad tag in err (NUL-terminated, errlen bytes). A memory map tag is
 * required; everything else is optional. */
int mb2_parse(const void *mbi, struct boot_info *bi, char *err, size_t errlen);

/* Total bytes of MB2_MEMORY_AVAILABLE ranges. */
uint64_t boot_mmap_usable_bytes(const struct boot_info *bi);

#endif
