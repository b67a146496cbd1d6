; context_switch(uintptr_t *save_rsp, uintptr_t next_rsp)
;
; Switch kernel stacks: push the callee-saved registers (the System V ABI
; says the caller saved the rest), store RSP for the task going out, load
; the next task's RSP, pop its registers and return into whatever it was
; doing when it called context_switch() itself. A new task's stack is
; built by kernel/task.c so that this returns into ret_from_fork, which
; lets go of the run-queue lock the switch was made under, stores the
; child's tid where clone() asked (kernel/fork.c), and goes on into
; trap_return (arch/x86/isr.asm), which drops to user mode through its
; trap frame, with interrupts still off until IRETQ.

bits 64
default rel
global context_switch, ret_from_fork
extern sched_finish_switch, task_ret_from_fork, trap_return

section .text
context_switch:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [rdi], rsp
	mov rsp, rsi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

ret_from_fork:
	call sched_finish_switch
	call task_ret_from_fork ; CLONE_CHILD_SETTID
	jmp trap_return

section .note.GNU-stack noalloc noexec nowrite progbits
