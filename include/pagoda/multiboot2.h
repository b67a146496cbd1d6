/* Multiboot2 structures, as laid out in the Multiboot2 specification,
 * section 3.6 ("Boot information format"). Every field is as wide as the
 * spec says; addresses that the spec gives 64 bits (framebuffer, memory map)
 * stay 64-bit here. */
#ifndef PAGODA_MULTIBOOT2_H
#define PAGODA_MULTIBOOT2_H

#include <pagoda/compiler.h>
#include <pagoda/types.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289 /* in EAX at entry (spec 3.3) */

/* Tag types (spec 3.6.x). */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_BOOTDEV 5
#define MB2_TAG_MMAP 6
#define MB2_TAG_VBE 7
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ELF_SECTIONS 9
#define MB2_TAG_APM 10
#define MB2_TAG_EFI32 11
#define MB2_TAG_EFI64 12
#define MB2_TAG_SMBIOS 13
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_NETWORK 16
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18
#define MB2_TAG_EFI32_IH 19
#define MB2_TAG_EFI64_IH 20
#define MB2_TAG_LOAD_BASE_ADDR 21

/* Memory map entry types (spec 3.6.8). */
#define MB2_MEMORY_AVAILABLE 1
#define MB2_MEMORY_RESERVED 2
#define MB2_MEMORY_ACPI_RECLAIMABLE 3
#define MB2_MEMORY_NVS 4
#define MB2_MEMORY_BADRAM 5

#define MB2_FRAMEBUFFER_TYPE_INDEXED 0
#define MB2_FRAMEBUFFER_TYPE_RGB 1
#define MB2_FRAMEBUFFER_TYPE_EGA_TEXT 2

struct mb2_info_header {
	uint32_t total_size;
	uint32_t reserved;
} __packed;

struct mb2_tag {
	uint32_t type;
	uint32_t size; /* including this header, excluding padding to 8 */
} __packed;

struct mb2_tag_string { /* cmdline, boot loader name */
	struct mb2_tag tag;
	char string[];
} __packed;

struct mb2_tag_module {
	struct mb2_tag tag;
	uint32_t mod_start;
	uint32_t mod_end;
	char cmdline[];
} __packed;

struct mb2_mmap_entry {
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
	uint32_t reserved;
} __packed;

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
	struct mb2_mmap_entry entries[];
} __packed;

struct mb2_tag_framebuffer {
	struct mb2_tag tag;
	uint64_t addr;
	uint32_t pitch;
	uint32_t width;
	uint32_t height;
	uint8_t bpp;
	uint8_t type;
	uint16_t reserved;
	/* For type RGB: */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
} __packed;

struct mb2_tag_rsdp {
	struct mb2_tag tag;
	uint8_t rsdp[]; /* a copy of the RSDP, 20 (v1) or 36+ (v2) bytes */
} __packed;

#endif
