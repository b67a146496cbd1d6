/* Traps: exceptions and interrupts (arch/x86/trap.c, arch/x86/isr.asm).
 *
 * Every vector enters through a stub in arch/x86/isr.asm that pushes an error
 * code (a zero one where the CPU pushes none) and the vector number, saves
 * the general registers and calls trap_dispatch() with this frame. */
#ifndef ASM_X86_TRAP_H
#define ASM_X86_TRAP_H

#include <pagoda/types.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;
	/* Pushed by the CPU (Intel SDM Vol. 3A, 6.14.2): */
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Exception vectors (Intel SDM Vol. 3A, Table 6-1). */
#define X86_TRAP_DE 0
#define X86_TRAP_DB 1
#define X86_TRAP_NMI 2
#define X86_TRAP_BP 3
#define X86_TRAP_UD 6
#define X86_TRAP_DF 8
#define X86_TRAP_GP 13
#define X86_TRAP_PF 14
#define NR_EXCEPTIONS 32
#define IRQ_VECTOR_BASE 32
#define NR_VECTORS 256
#define SPURIOUS_VECTOR 0xff

/* Page-fault error code bits (Intel SDM Vol. 3A, 4.7). */
#define PF_PRESENT (1U << 0)
#define PF_WRITE (1U << 1)
#define PF_USER (1U << 2)
#define PF_RSVD (1U << 3)
#define PF_INSTR (1U << 4)

/* Build the IDT (once, on the boot CPU) and load it with this CPU's GDT
 * and TSS (trap_cpu_init()). */
void trap_init(void);
/* Load this CPU's GDT and TSS (with its #DF IST stack) from its per-CPU
 * area, and the shared IDT: on every CPU that starts. */
void trap_cpu_init(void);

typedef void (*irq_handler_t)(struct trap_frame *tf);
/* Route interrupt vector (>= IRQ_VECTOR_BASE) to handler. The handler runs
 * with interrupts disabled and must send its own EOI. */
void trap_set_irq_handler(unsigned int vector, irq_handler_t handler);

/* Exception fixups, as Linux's exception table: an instruction that may
 * fault on purpose (a probe, copy_from_user) is listed with the address to
 * resume at. The fault handler records what happened in last_fixup. */
struct extable_entry {
	int32_t insn;  /* offset of the faulting instruction from this field */
	int32_t fixup; /* offset of the resume address from this field */
};

struct fixup_record {
	uint64_t vector;
	uint64_t error_code;
	uint64_t cr2; /* valid for #PF */
	uint64_t rip;
	uint64_t count; /* how many faults were fixed up so far */
};
extern struct fixup_record last_fixup;

/* Emit an exception-table entry from inline asm: "from" may fault, "to" is
 * where execution resumes. */
#define _ASM_EXTABLE(from, to)                                                 \
	".pushsection __ex_table, \"a\"\n"                                     \
	".balign 4\n"                                                          \
	".long (" #from ") - .\n"                                              \
	".long (" #to ") - .\n"                                                \
	".popsection\n"

/* Inline-asm text for one instruction that may fault on purpose: listed
 * in the exception table, so that a fault resumes right after it with
 * %[err] set to %[efault]. The asm statement binds [err] ("+r", 0 before)
 * and [efault] ("i"(-EFAULT)). Every fault-handled access of the kernel
 * (arch/x86/uaccess.c) is written with it. */
#define ASM_TRY(insn)                                                          \
	"1: " insn "\n"                                                        \
	"2:\n"                                                                 \
	".pushsection .text.fixup, \"ax\"\n"                                  \
	"3: movl %[efault], %[err]\n"                                          \
	"   jmp 2b\n"                                                          \
	".popsection\n" _ASM_EXTABLE(1b, 3b)

/* Describe a #PF error code in words ("not-present write user"). */
int pf_describe(uint64_t err, char *buf, size_t size);

#endif
