; Interrupt and exception entry stubs, one per vector, and the common path
; into C. The CPU pushes SS, RSP, RFLAGS, CS, RIP and, for some exceptions,
; an error code (Intel SDM Vol. 3A, 6.14.2 and Table 6-1). Each stub makes
; the frame uniform by pushing a zero error code where the CPU does not,
; then the vector number; the common path saves the general registers so
; that the stack holds a struct trap_frame (arch/x86/include/asm/trap.h).

bits 64
default rel
%include "arch/x86/trapframe.inc"

extern trap_dispatch
global isr_stub_table, trap_return

; Vectors for which the CPU pushes an error code: #DF #TS #NP #SS #GP #PF
; #AC #CP #VC #SX.
%define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text
%assign v 0
%rep 256
align 16
isr_stub_ %+ v:
%if !HAS_ERROR(v)
	push 0
%endif
	push v
	jmp trap_common
%assign v v + 1
%endrep

; The stack now holds: vector, error code, RIP, CS, RFLAGS, RSP, SS.
FRAME_CS equ 24                 ; offset of the saved CS from RSP here

trap_common:
	test qword [rsp + FRAME_CS], 3  ; from user mode? then GS is the user's:
	jz .kernel_gs
	swapgs                          ; take this CPU's per-CPU area
	PUSH_GPRS
	xor ebp, ebp                    ; the kernel's frame chain starts here, not
	jmp .saved                      ; at the user's RBP (backtraces stop at 0)
.kernel_gs:
	PUSH_GPRS                       ; from the kernel: the chain goes on
.saved:
	cld
	mov rdi, rsp
	call trap_dispatch
; Also where a new task first runs: kernel/task.c builds a trap frame at
; the top of its kernel stack, and context_switch() "returns" here.
trap_return:
	POP_GPRS
	add rsp, 16                     ; vector and error code
	test qword [rsp + 8], 3         ; back to user mode? give GS back
	jz .iret
	swapgs
.iret:
	iretq

section .rodata
align 8
isr_stub_table:
%assign v 0
%rep 256
	dq isr_stub_ %+ v
%assign v v + 1
%endrep
section .note.GNU-stack noalloc noexec nowrite progbits
