; Where the other CPUs start: a start-up IPI (SIPI) starts a CPU in real
; mode at CS:IP = (page << 8):0, that is at physical page * 4096 (Intel SDM
; Vol. 3A, 8.4.4). arch/x86/smpboot.c copies this code to a page below
; 1 MiB reserved at boot and fills in its parameters, then starts the CPUs
; one at a time. The code climbs from 16-bit real mode through 32-bit
; protected mode to 64-bit long mode, as boot/entry.asm does for the boot
; CPU, then jumps to ap_entry() in the kernel's own address space.
;
; Everything is addressed relative to the page it runs in: in real mode
; through DS = CS; in 32- and 64-bit mode through EBX/RBX = the page's
; physical address (where it is identity-mapped by the CR3 it is given).
; The absolute targets of the two far jumps are filled in by the kernel.

bits 16

CR0_PE    equ 1 << 0
CR0_WP    equ 1 << 16
CR0_PG    equ 1 << 31
CR4_PAE   equ 1 << 5
MSR_EFER  equ 0xc0000080
EFER_LME  equ 1 << 8

SEL_CODE32 equ 0x08
SEL_DATA   equ 0x10
SEL_CODE64 equ 0x18

%define OFF(x) ((x) - trampoline_start)

global trampoline_start, trampoline_end
global tr_jmp32_offset, tr_gdtr_base, tr_jmp64_offset
global tr_cr3, tr_efer, tr_stack, tr_entry, tr_arg

section .rodata                         ; a template: never run in place
align 16
trampoline_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	xor ebx, ebx
	mov bx, ax
	shl ebx, 4                      ; EBX = this page's physical address
	lgdt [OFF(tr_gdtr)]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	db 0x66, 0xea                   ; jmp dword SEL_CODE32:pm32 (absolute)
tr_jmp32_offset:
	dd 0
	dw SEL_CODE32

bits 32
pm32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, [ebx + OFF(tr_cr3)]
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	or eax, [ebx + OFF(tr_efer)]    ; NXE, if the CPU has NX
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_WP
	mov cr0, eax
	jmp far [ebx + OFF(tr_jmp64)]

bits 64
lm64:
	mov ebx, ebx                    ; the upper half is undefined after the switch
	mov rsp, [rbx + OFF(tr_stack)]
	mov rdi, [rbx + OFF(tr_arg)]
	mov rax, [rbx + OFF(tr_entry)]
	push 0                          ; no return address: ap_entry never returns
	jmp rax

align 8
tr_gdt:
	dq 0
	dq 0x00cf9a000000ffff           ; 32-bit code, flat
	dq 0x00cf92000000ffff           ; data, flat
	dq 0x00af9a000000ffff           ; 64-bit code
tr_gdtr:
	dw 4 * 8 - 1
tr_gdtr_base:
	dd 0                            ; physical address of tr_gdt
tr_jmp64:
tr_jmp64_offset:
	dd 0                            ; physical address of lm64
	dw SEL_CODE64
align 8
tr_cr3:   dq 0                      ; page tables: the kernel's, plus this page identity-mapped
tr_efer:  dq 0                      ; extra EFER bits
tr_stack: dq 0                      ; the CPU's idle stack
tr_entry: dq 0                      ; ap_entry
tr_arg:   dq 0                      ; its CPU number
trampoline_end:

global tr_pm32, tr_lm64, tr_gdt_sym
tr_pm32 equ pm32
tr_lm64 equ lm64
tr_gdt_sym equ tr_gdt

section .note.GNU-stack noalloc noexec nowrite progbits
