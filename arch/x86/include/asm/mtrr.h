/* MTRRs: the memory type the firmware gave each range of physical memory
 * (arch/x86/mtrr.c). Intel SDM Vol. 3A, 12.11 "Memory Type Range Registers".
 *
 * A page's effective memory type combines the MTRR type of its physical
 * address with the PAT type of its page-table entry (SDM Table 12-7): an
 * uncached MTRR range stays uncached under a write-back PTE. A 2 MiB or
 * 1 GiB page whose range holds more than one MTRR type is undefined
 * behaviour (SDM 12.11.9), so the page-table code asks mtrr_huge_ok()
 * before it writes one and uses smaller pages when the answer is no, as
 * Linux's pud_set_huge()/pmd_set_huge() do.
 *
 * The kernel reads the MTRRs once at boot and never changes them. */
#ifndef ASM_X86_MTRR_H
#define ASM_X86_MTRR_H

#include <pagoda/types.h>

/* MTRR memory type encodings (SDM Vol. 3A, Table 12-8). */
#define MTRR_TYPE_UC 0
#define MTRR_TYPE_WC 1
#define MTRR_TYPE_WT 4
#define MTRR_TYPE_WP 5
#define MTRR_TYPE_WB 6
#define MTRR_TYPE_INVALID 0xff /* no MTRRs, or MTRRs disabled: no type */

#define MTRR_NR_FIXED 88 /* 8 x 64 KiB + 16 x 16 KiB + 64 x 4 KiB below 1 MiB */
#define MTRR_MAX_VAR 32  /* variable ranges kept (VCNT may say more) */

/* One variable range: an address a matches when (a & mask) == (base & mask).
 * With a contiguous mask that is the aligned block [base, base + size). */
struct mtrr_var {
	phys_addr_t base; /* PHYSBASE bits 12..MAXPHYADDR-1 */
	uint64_t mask;    /* PHYSMASK bits 12..MAXPHYADDR-1 */
	uint8_t type;
};

/* What the MTRRs say. The kernel's copy is read at boot; the self-tests
 * build their own to look up. */
struct mtrr_state {
	bool enabled;       /* the CPU has MTRRs and IA32_MTRR_DEF_TYPE.E is set */
	bool fixed_enabled; /* the fixed ranges below 1 MiB are in use (FE) */
	uint8_t def_type;   /* the type of memory no range covers */
	uint8_t fixed[MTRR_NR_FIXED]; /* in address order, from 0 */
	unsigned int phys_bits; /* MAXPHYADDR: the masks' width */
	unsigned int nr_var; /* valid variable ranges in var[] */
	struct mtrr_var var[MTRR_MAX_VAR];
};

/* Read the MTRRs into the kernel's state and print them. Call once, after
 * cpu_init() and before anything is mapped with huge pages. */
void mtrr_init(void);

/* The MTRR type of [start, end) in s, and in *uniform whether the whole
 * range has that one type. MTRR_TYPE_INVALID (with *uniform true) when
 * MTRRs are off. Overlapping variable ranges combine as the SDM says
 * (12.11.4.1): UC wins, WT beats WB, anything else is taken as UC. */
uint8_t mtrr_type_lookup(const struct mtrr_state *s, phys_addr_t start, phys_addr_t end,
			 bool *uniform);

/* May [start, start + size) be one huge page? False, with a message, when
 * the range holds more than one MTRR type in the kernel's state. */
bool mtrr_huge_ok(phys_addr_t start, uint64_t size);

/* The state read at boot. */
const struct mtrr_state *mtrr_kernel_state(void);

/* For the self-tests: make s the state mtrr_huge_ok() consults (NULL puts
 * the boot state back). Returns the one in use before. */
const struct mtrr_state *mtrr_use_state(const struct mtrr_state *s);

/* "write-back", "uncachable", ... as Linux names them. */
const char *mtrr_type_name(uint8_t type);

#endif
