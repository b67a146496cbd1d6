/* Thin wrappers over x86-64 instructions the C code needs. */
#ifndef ASM_X86_X86_H
#define ASM_X86_X86_H

#include <pagoda/types.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ __volatile__("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ __volatile__("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#define DEFINE_READ_CR(n) \
	static inline uint64_t read_cr##n(void) { uint64_t v; __asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v)); return v; }
DEFINE_READ_CR(0)
DEFINE_READ_CR(2)
DEFINE_READ_CR(3)
DEFINE_READ_CR(4)
static inline void write_cr3(uint64_t v) { __asm__ __volatile__("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ __volatile__("mov %0, %%cr4" ::"r"(v) : "memory"); }
static inline void write_cr0(uint64_t v) { __asm__ __volatile__("mov %0, %%cr0" ::"r"(v) : "memory"); }

static inline void invlpg(uintptr_t va) { __asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory"); }
static inline void cli(void) { __asm__ __volatile__("cli" ::: "memory"); }
static inline void sti(void) { __asm__ __volatile__("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ __volatile__("hlt" ::: "memory"); }
static inline void pause(void) { __asm__ __volatile__("pause"); }

static inline uint64_t read_rflags(void)
{
	uint64_t f;
	__asm__ __volatile__("pushfq; popq %0" : "=r"(f));
	return f;
}
#define X86_RFLAGS_IF (1UL << 9)
#define X86_RFLAGS_AC (1UL << 18) /* alignment check; with SMAP, user access allowed */

/* Save the interrupt flag and disable interrupts; restore with irq_restore(). */
static inline uint64_t irq_save(void) { uint64_t f = read_rflags(); cli(); return f; }
static inline void irq_restore(uint64_t f) { if (f & X86_RFLAGS_IF) sti(); }

/* Model-specific registers (Intel SDM Vol. 4). */
#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_EN (1ULL << 11) /* the xAPIC is enabled (Vol. 3A, 11.4.4) */
#define MSR_IA32_PAT 0x277
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081  /* SYSCALL/SYSRET segment selectors */
#define MSR_LSTAR 0xc0000082 /* SYSCALL entry point */
#define MSR_FMASK 0xc0000084 /* RFLAGS bits SYSCALL clears */
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102 /* swapped with GS base by SWAPGS */
#define EFER_SCE (1ULL << 0)  /* SYSCALL enable */

#endif
