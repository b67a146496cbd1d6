; The SYSCALL entry point (MSR_LSTAR). The CPU has saved the user RIP in
; RCX and RFLAGS in R11, loaded CS/SS from MSR_STAR, cleared the RFLAGS
; bits in MSR_FMASK (IF among them: interrupts are off here), and left
; RSP alone: we are still on the user stack. (Intel SDM Vol. 2B, SYSCALL.)
;
; SWAPGS first: the GS base becomes this CPU's per-CPU area
; (arch/x86/include/asm/percpu.h), where the user RSP is parked while we
; switch to the running task's kernel stack, whose top kernel/sched.c
; keeps at %gs:PERCPU_KERNEL_RSP (and in TSS.RSP0). Interrupts stay off
; until both are done, and are off again from before the SWAPGS back.
;
; The stub builds the same struct trap_frame an interrupt would (vector
; SYSCALL_VECTOR), so the C side, fork and signals treat both alike, calls
; syscall_dispatch(), and returns with SYSRET, unless the return RIP is
; not canonical: SYSRET would then raise #GP in ring 0 on the user stack
; (the SYSRET hazard, Intel SDM Vol. 2B, SYSRET), so IRETQ is used instead.

bits 64
default rel
%include "arch/x86/trapframe.inc"

GDT_USER_CS equ 0x33
GDT_USER_DS equ 0x2b
SYSCALL_VECTOR equ 0x100

PERCPU_KERNEL_RSP equ 8           ; asm/percpu.h
PERCPU_USER_RSP equ 16

extern syscall_dispatch
global syscall_entry

section .text
syscall_entry:
	swapgs
	mov [gs:PERCPU_USER_RSP], rsp
	mov rsp, [gs:PERCPU_KERNEL_RSP]
	push GDT_USER_DS                ; ss
	push qword [gs:PERCPU_USER_RSP] ; rsp
	push r11                        ; rflags
	push GDT_USER_CS                ; cs
	push rcx                        ; rip
	push 0                          ; error code
	push SYSCALL_VECTOR             ; vector
	PUSH_GPRS
	xor ebp, ebp                    ; the kernel's frame chain starts here, not
	                                ; at the user's RBP (backtraces stop at 0)
	cld
	sti                             ; a syscall may sleep: let the timer tick
	mov rdi, rsp
	call syscall_dispatch
	cli
	POP_GPRS
	add rsp, 16                     ; vector and error code
	; [rsp] rip, [rsp+8] cs, [rsp+16] rflags, [rsp+24] rsp, [rsp+32] ss
	; SYSRET only restores what the SYSCALL ABI lets it clobber: RCX and
	; R11 must equal the return RIP and RFLAGS (true after an ordinary
	; syscall; not after rt_sigreturn or execve, which rewrote the frame).
	cmp rcx, [rsp]
	jne .iret
	cmp r11, [rsp + 16]
	jne .iret
	mov rcx, [rsp]
	mov r11, rcx
	shl r11, 16                     ; canonical: bits 63..47 all equal
	sar r11, 16
	cmp r11, rcx
	jne .iret
	cmp qword [rsp + 8], GDT_USER_CS
	jne .iret
	mov r11, [rsp + 16]             ; rflags for SYSRET
	mov rsp, [rsp + 24]             ; user stack
	swapgs
	o64 sysret
.iret:
	test qword [rsp + 8], 3         ; a frame rewritten to kernel mode keeps
	jz .iret_kernel                 ; the kernel's GS
	swapgs
.iret_kernel:
	iretq

section .note.GNU-stack noalloc noexec nowrite progbits
