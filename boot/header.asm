; The multiboot2 header GRUB looks for in the first 32 KiB of the kernel
; file (Multiboot2 specification, section 3.1).

MB2_HEADER_MAGIC  equ 0xe85250d6
MB2_ARCH_I386     equ 0            ; "i386 protected mode": 32-bit entry
MB2_TAG_END       equ 0
MB2_TAG_FB        equ 5            ; framebuffer request (spec 3.1.10)
MB2_TAG_OPTIONAL  equ 1            ; flag: GRUB may ignore the tag

section .multiboot2
align 8, db 0
mb2_header:
	dd MB2_HEADER_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	; Ask for a linear framebuffer, 1024x768 at 32 bpp by preference. It is
	; optional: on a machine without one we still boot, on serial only.
	align 8, db 0
	dw MB2_TAG_FB
	dw MB2_TAG_OPTIONAL
	dd 20
	dd 1024                    ; width
	dd 768                     ; height
	dd 32                      ; depth

	align 8, db 0
	dw MB2_TAG_END
	dw 0
	dd 8
mb2_header_end:
section .note.GNU-stack noalloc noexec nowrite progbits
