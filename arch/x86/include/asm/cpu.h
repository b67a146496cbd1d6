/* CPU features the kernel cares about, read once with CPUID (arch/x86/cpu.c). */
#ifndef ASM_X86_CPU_H
#define ASM_X86_CPU_H

#include <pagoda/types.h>

struct cpu_features {
	char vendor[13];
	unsigned int phys_addr_bits; /* MAXPHYADDR: CPUID 0x80000008 EAX[7:0] */
	unsigned int virt_addr_bits;
	bool nx;        /* execute-disable bit in PTEs */
	bool pat;       /* page attribute table */
	bool gbpages;   /* 1 GiB pages */
	bool pge;       /* global pages */
	bool smep, smap;
	bool apic, x2apic;
	bool invariant_tsc;
};

extern struct cpu_features cpu;

/* Fill in cpu from CPUID. */
void cpu_init(void);

/* The largest physical address + 1 this CPU can address. */
static inline uint64_t cpu_phys_limit(void)
{
	return 1ULL << cpu.phys_addr_bits;
}

#endif
