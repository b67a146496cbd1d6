/* Running a program: load an ELF64 x86-64 executable (and its dynamic
 * linker, when it names one) into a new address space and set up the
 * registers and the stack for its first instruction (fs/exec.c). See
 * docs/syscall.md for the way in, docs/pagecache.md for the mappings.
 *
 * The program's PT_LOAD segments become private mappings of the file's
 * page cache, paged in on demand (.bss past the last file page is
 * anonymous); the stack is a VM_GROWSDOWN VMA
 * ending at EXEC_STACK_TOP holding, as the System V x86-64 ABI (3.4.1)
 * and Linux lay it out:
 *
 *   EXEC_STACK_TOP -> 8 zero bytes
 *                     the file name (AT_EXECFN), the environment and
 *                     argument strings, "x86_64" (AT_PLATFORM), 16
 *                     random bytes (AT_RANDOM)
 *                     auxv: (AT_*, value) pairs ending with AT_NULL
 *                     envp[0..envc-1], NULL
 *                     argv[0..argc-1], NULL
 *   rsp (16-aligned)-> argc
 */
#ifndef PAGODA_EXEC_H
#define PAGODA_EXEC_H

#include <pagoda/task.h>
#include <asm/trap.h>
#include <pagoda/types.h>

#define EXEC_STACK_TOP USER_SPACE_END     /* the stack ends at the top, as Linux without ASLR */
#define EXEC_STACK_SIZE (128UL * 1024)     /* initial stack; it grows on faults */
#define EXEC_DYN_BASE 0x555555554000UL     /* where ET_DYN goes: Linux's
					      ELF_ET_DYN_BASE without ASLR */
#define EXEC_ARG_MAX (128UL * 1024)        /* argument + environment strings
					      and their pointers, in bytes */

/* Replace t's address space with the program at path (relative to
 * t's current directory), with argv and envp (NULL-terminated arrays of kernel strings),
 * and point tf at its entry: rip, rsp, user cs/ss, rflags with IF, every
 * other register zero. t->exe and t->comm name the program; t->fs_base is
 * cleared. The old mm is destroyed only on success: on failure it is
 * untouched and the result is -ENOENT (and other lookup errors), -EACCES
 * (not a regular file, or no x bit), -ENOEXEC (not an ELF64 x86-64
 * executable: bad header, truncated program headers or segments, a
 * PT_INTERP path that is not NUL-terminated), -E2BIG (more than
 * EXEC_ARG_MAX of arguments), or -ENOMEM; the dynamic linker a PT_INTERP
 * names has the same errors (-ENOENT when it is missing). If t is
 * current, the new mm is switched in. */
int exec_load(struct task *t, const char *path, const char *const *argv,
	      const char *const *envp, struct trap_frame *tf);

/* --- ELF64 (System V gABI, "ELF-64 Object File Format" 1.5) --- */

#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62

#define PT_NULL 0
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_PHDR 6
#define PT_GNU_STACK 0x6474e551
#define PF_X 0x1
#define PF_W 0x2
#define PF_R 0x4

typedef struct {
	unsigned char e_ident[EI_NIDENT]; /* "\177ELF", class, data, version... */
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;  /* file offset of the program headers */
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
} Elf64_Ehdr;

/* One segment: the file's [p_offset, p_offset + p_filesz) appears at
 * [p_vaddr, p_vaddr + p_filesz), zeros follow up to p_vaddr + p_memsz. */
typedef struct {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
} Elf64_Phdr;

/* The auxiliary vector's keys (Linux's include/uapi/linux/auxvec.h). */
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31

#endif
