; Pagoda's first instructions. GRUB jumps to _start in 32-bit protected mode
; with paging off (Multiboot2 specification, section 3.3):
;   EAX = 0x36d76289, EBX = physical address of the multiboot2 info.
;
; From here we
;   1. check that the CPU has long mode (and say so on COM1 and the VGA text
;      screen if it does not),
;   2. zero .bss and build the boot page tables (below),
;   3. enable PAE, long mode, NX and paging, and far-jump into 64-bit code,
;   4. jump to the kernel's linked address in the top 2 GiB and call kmain().
;
; Boot page tables (4-level paging, Intel SDM Vol. 3A, 4.5):
;   PML4[0]   -> identity map of physical [0, 4 GiB) in 2 MiB pages. The
;                multiboot2 info, the modules and GRUB's structures are all
;                below 4 GiB (EBX is 32 bits), so C can read them early.
;   PML4[511] -> PDPT_high
;      PDPT_high[510] -> virtual 0xffffffff80000000: the kernel image, in
;                        4 KiB pages so that the guard pages below the boot
;                        and #DF stacks can be left unmapped.
;      PDPT_high[511] -> virtual 0xffffffffc0000000: the early fixmap
;                        (mm/fixmap.c), empty for now.

bits 32

KERNEL_VIRT_BASE equ 0xffffffff80000000
MB2_BOOTLOADER_MAGIC equ 0x36d76289

PTE_P     equ 1 << 0
PTE_W     equ 1 << 1
PTE_PS    equ 1 << 7
CR0_PE    equ 1 << 0
CR0_WP    equ 1 << 16
CR0_PG    equ 1 << 31
CR4_PAE   equ 1 << 5
MSR_EFER  equ 0xc0000080
EFER_LME  equ 1 << 8
EFER_NXE  equ 1 << 11
CPUID_EXT_LM equ 1 << 29           ; CPUID 0x80000001 EDX: long mode
CPUID_EXT_NX equ 1 << 20           ; CPUID 0x80000001 EDX: execute-disable

KERNEL_PTS equ 8                   ; page tables for the image: 16 MiB at most
COM1       equ 0x3f8

%define PHYS(x) ((x) - KERNEL_VIRT_BASE)

extern __bss_start, __bss_end, __kernel_end
extern kmain
global _start
global boot_pml4, boot_pdpt_high, boot_pd_fixmap, boot_pt_kernel
global boot_stack_guard, boot_stack_top, df_stack_guard, df_stack_top
global boot_magic, boot_mbi

section .boot.text exec
_start:
	cli
	cld
	mov esp, boot32_stack_top       ; .bss is not zeroed yet: a stack of our own
	mov [PHYS(boot_magic)], eax
	mov [PHYS(boot_mbi)], ebx

	call check_long_mode
	call zero_bss
	call build_page_tables
	call enable_long_mode
	lgdt [boot_gdt_ptr]
	jmp BOOT_CS:long_mode_low

; Long mode needs CPUID, extended leaf 0x80000001, and its LM bit.
check_long_mode:
	pushfd                          ; can we toggle EFLAGS.ID? then CPUID exists
	pop eax
	mov ecx, eax
	xor eax, 1 << 21
	push eax
	popfd
	pushfd
	pop eax
	push ecx
	popfd
	cmp eax, ecx
	je .no_long_mode
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, CPUID_EXT_LM
	jz .no_long_mode
	mov [PHYS(boot_has_nx)], edx
	ret
.no_long_mode:
	mov esi, no_long_mode_msg
	jmp boot_fail

; Print the NUL-terminated message at ESI on COM1 and on the VGA text screen,
; then halt. Under a graphical framebuffer the VGA write is invisible, but a
; CPU without long mode cannot run 64-bit UEFI, so it booted through BIOS,
; and grub.cfg also checks "cpuid -l" before loading us.
boot_fail:
	mov dx, COM1 + 3                ; line control: 8N1, DLAB on
	mov al, 0x83
	out dx, al
	mov dx, COM1                    ; divisor 1: 115200 baud
	mov al, 1
	out dx, al
	mov dx, COM1 + 1
	xor al, al
	out dx, al
	mov dx, COM1 + 3                ; DLAB off
	mov al, 0x03
	out dx, al
	mov edi, 0xb8000
.next:
	lodsb
	test al, al
	jz .halt
	mov ah, 0x4f                    ; white on red
	mov [edi], ax
	add edi, 2
	mov bl, al
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20                   ; transmitter holding register empty
	jz .wait
	mov dx, COM1
	mov al, bl
	out dx, al
	jmp .next
.halt:
	cli
	hlt
	jmp .halt

zero_bss:
	mov eax, [PHYS(boot_magic)]     ; .bss holds boot_magic and boot_mbi
	mov [boot_magic_save], eax
	mov eax, [PHYS(boot_mbi)]
	mov [boot_mbi_save], eax
	mov eax, [PHYS(boot_has_nx)]
	mov [boot_nx_save], eax
	mov edi, PHYS(__bss_start)
	mov ecx, PHYS(__bss_end)
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd
	mov eax, [boot_magic_save]
	mov [PHYS(boot_magic)], eax
	mov eax, [boot_mbi_save]
	mov [PHYS(boot_mbi)], eax
	mov eax, [boot_nx_save]
	mov [PHYS(boot_has_nx)], eax
	ret

build_page_tables:
	; PML4[0] -> identity PDPT; PML4[511] -> high PDPT
	mov eax, PHYS(boot_pdpt_low) + (PTE_P | PTE_W)
	mov [PHYS(boot_pml4)], eax
	mov eax, PHYS(boot_pdpt_high) + (PTE_P | PTE_W)
	mov [PHYS(boot_pml4) + 511 * 8], eax

	; identity [0, 4 GiB): 4 PDs of 512 2 MiB pages, 2048 entries in a row
	mov ecx, 0
.ident_pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, PHYS(boot_pd_low) + (PTE_P | PTE_W)
	mov [PHYS(boot_pdpt_low) + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jb .ident_pdpt
	mov ecx, 0
.ident_pd:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_W | PTE_PS
	mov [PHYS(boot_pd_low) + ecx * 8], eax
	inc ecx
	cmp ecx, 2048
	jb .ident_pd

	; high half: PDPT[510] -> kernel PD, PDPT[511] -> fixmap PD
	mov eax, PHYS(boot_pd_kernel) + (PTE_P | PTE_W)
	mov [PHYS(boot_pdpt_high) + 510 * 8], eax
	mov eax, PHYS(boot_pd_fixmap) + (PTE_P | PTE_W)
	mov [PHYS(boot_pdpt_high) + 511 * 8], eax
	mov ecx, 0
.kernel_pd:
	mov eax, ecx
	shl eax, 12
	add eax, PHYS(boot_pt_kernel) + (PTE_P | PTE_W)
	mov [PHYS(boot_pd_kernel) + ecx * 8], eax
	inc ecx
	cmp ecx, KERNEL_PTS
	jb .kernel_pd

	; kernel image: 4 KiB pages for physical [0, __kernel_end), except the
	; two stack guard pages, which stay not-present so an overflow faults
	xor ecx, ecx                    ; ECX = physical address of the page
.kernel_pt:
	cmp ecx, PHYS(boot_stack_guard)
	je .skip
	cmp ecx, PHYS(df_stack_guard)
	je .skip
	mov eax, ecx
	or eax, PTE_P | PTE_W
	mov ebx, ecx
	shr ebx, 12
	mov [PHYS(boot_pt_kernel) + ebx * 8], eax
.skip:
	add ecx, 4096
	cmp ecx, PHYS(__kernel_end)
	jb .kernel_pt
	ret

enable_long_mode:
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, PHYS(boot_pml4)
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	test dword [PHYS(boot_has_nx)], CPUID_EXT_NX
	jz .no_nx
	or eax, EFER_NXE
.no_nx:
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_PE | CR0_WP
	mov cr0, eax
	ret

bits 64
long_mode_low:
	mov ax, BOOT_DS
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor ax, ax
	mov fs, ax
	mov gs, ax
	mov rax, long_mode_high
	jmp rax

section .text
long_mode_high:
	mov rsp, boot_stack_top
	xor ebp, ebp                    ; the backtrace ends here
	mov edi, [boot_magic]
	mov esi, [boot_mbi]
	call kmain
.hang:
	cli
	hlt
	jmp .hang

section .boot.data write
align 8
; A minimal GDT for the jump into 64-bit code; trap_init() loads the real one.
boot_gdt:
	dq 0
	dq 0x00209a0000000000           ; 64-bit code, present, DPL 0
	dq 0x0000920000000000           ; data, present, writable
boot_gdt_ptr:
	dw boot_gdt_ptr - boot_gdt - 1
	dd boot_gdt
BOOT_CS equ 0x08
BOOT_DS equ 0x10
boot_magic_save: dd 0
boot_mbi_save: dd 0
boot_nx_save: dd 0
align 16
boot32_stack: times 256 db 0
boot32_stack_top:
no_long_mode_msg:
	db "Pagoda: this CPU has no 64-bit long mode; Pagoda needs an x86-64 CPU.", 13, 10, 0

section .bss
align 4096
boot_pml4:      resb 4096
boot_pdpt_low:  resb 4096
boot_pd_low:    resb 4 * 4096
boot_pdpt_high: resb 4096
boot_pd_kernel: resb 4096
boot_pd_fixmap: resb 4096
boot_pt_kernel: resb KERNEL_PTS * 4096
boot_stack_guard: resb 4096        ; unmapped: a stack overflow faults here
boot_stack:     resb 16384
boot_stack_top:
df_stack_guard: resb 4096          ; unmapped
df_stack:       resb 8192          ; the #DF handler's own stack (IST 1)
df_stack_top:
boot_magic:     resd 1
boot_mbi:       resd 1
boot_has_nx:    resd 1

section .note.GNU-stack noalloc noexec nowrite progbits
