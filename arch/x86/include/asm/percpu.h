/* The x86 half of a CPU's per-CPU area (include/pagoda/percpu.h).
 *
 * Each CPU's GS base (MSR_GS_BASE) points at its own struct percpu while
 * it runs kernel code, so "this CPU's data" is one GS-relative load. User
 * code has its own GS base; every entry from user mode (interrupt,
 * exception, SYSCALL) swaps the two with SWAPGS, and every return to user
 * mode swaps them back (Intel SDM Vol. 2B, SWAPGS). The first fields are
 * at fixed offsets because arch/x86/syscall.asm reads them before it has
 * a stack:
 *
 *   %gs:0   self        the struct's own address (this_cpu())
 *   %gs:8   kernel_rsp  top of the running task's kernel stack
 *   %gs:16  user_rsp    the user RSP, parked while SYSCALL switches stacks
 */
#ifndef ASM_X86_PERCPU_H
#define ASM_X86_PERCPU_H

#include <pagoda/types.h>
#include <asm/gdt.h>

#define PERCPU_SELF 0
#define PERCPU_KERNEL_RSP 8
#define PERCPU_USER_RSP 16

struct arch_percpu {
	void *self;
	uintptr_t kernel_rsp;
	uintptr_t user_rsp;
	uint32_t apic_id;
	uintptr_t df_stack_top;    /* IST1: the #DF handler's own stack */
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
};

/* This CPU's per-CPU area (volatile: after schedule() the task may run on
 * another CPU, so the load must not be reused across a call). */
static inline void *arch_this_cpu(void)
{
	void *p;

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* Point this CPU's GS base at area (whose first field is struct
 * arch_percpu); the user GS base (MSR_KERNEL_GS_BASE while in the kernel)
 * starts at 0. */
void arch_percpu_load(struct arch_percpu *area);

#endif
