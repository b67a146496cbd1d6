/* The GDT and the TSS (arch/x86/gdt.c).
 *
 * The selectors follow Linux's x86-64 layout, which is what SYSCALL/SYSRET
 * need (Intel SDM Vol. 2B, SYSRET): user SS = STAR[63:48] + 8 and user CS =
 * STAR[63:48] + 16, so USER32_CS, USER_DS and USER_CS sit in that order. */
#ifndef ASM_X86_GDT_H
#define ASM_X86_GDT_H

#include <pagoda/compiler.h>
#include <pagoda/types.h>

#define GDT_KERNEL32_CS 0x08
#define GDT_KERNEL_CS 0x10
#define GDT_KERNEL_DS 0x18
#define GDT_USER32_CS 0x23 /* RPL 3 */
#define GDT_USER_DS 0x2b
#define GDT_USER_CS 0x33
#define GDT_TSS 0x40
#define GDT_ENTRIES 10 /* 8 segments and the 16-byte TSS descriptor */

#define IST_DOUBLE_FAULT 1 /* IST slot of the #DF handler's stack */

/* The 64-bit TSS (Intel SDM Vol. 3A, 8.7). */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7]; /* ist[0] is IST1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct arch_percpu;

/* Build this CPU's GDT and TSS in its per-CPU area (IST1 is
 * area->df_stack_top), load them and reload the segment registers. */
void gdt_init(struct arch_percpu *area);

#endif
