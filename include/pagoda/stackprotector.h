/* The stack protector's runtime (kernel/stackprotector.c).
 *
 * The kernel is built with -fstack-protector-strong
 * -mstack-protector-guard=global: a function with a local array or a local
 * whose address is taken copies __stack_chk_guard into its frame, between
 * its locals and its return address, and compares it on return; a
 * mismatch (a buffer overrun reached the return address) calls
 * __stack_chk_fail(), which panics naming the function.
 *
 * One guard for the whole kernel for now; with SMP it becomes per CPU
 * (-mstack-protector-guard=tls with %gs), checked on each CPU's stacks. */
#ifndef PAGODA_STACKPROTECTOR_H
#define PAGODA_STACKPROTECTOR_H

#include <pagoda/compiler.h>
#include <pagoda/types.h>

extern uintptr_t __stack_chk_guard;

/* Choose the guard (RDRAND where the CPU has it, else the TSC mixed).
 * Called first thing in kmain(): every function that returns afterwards
 * loaded the new value. kmain() itself never returns. */
void stack_protector_init(void);

/* Called by compiler-generated code; panics unless a test expects it. */
__noreturn void __stack_chk_fail(void);

/* For the self-test: while armed, __stack_chk_fail() jumps back to buf
 * (a __builtin_setjmp buffer) instead of panicking. */
void stack_protector_arm(void **buf);
void stack_protector_disarm(void);

#endif
