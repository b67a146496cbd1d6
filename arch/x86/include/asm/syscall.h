/* The SYSCALL instruction's setup on x86-64 (arch/x86/syscall_setup.c);
 * the entry code is arch/x86/syscall.asm. */
#ifndef ASM_X86_SYSCALL_H
#define ASM_X86_SYSCALL_H

/* Point this CPU's SYSCALL at syscall_entry with the kernel's segments and
 * the RFLAGS mask, and enable it in EFER. Called on every CPU. */
void syscall_cpu_init(void);

#endif
