/* CPU feature detection (Intel SDM Vol. 2A, CPUID). */
#include <asm/cpu.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <asm/x86.h>

struct cpu_features cpu;

#define CPUID1_EDX_PGE (1U << 13)
#define CPUID1_EDX_PAT (1U << 16)
#define CPUID1_EDX_APIC (1U << 9)
#define CPUID1_ECX_X2APIC (1U << 21)
#define CPUID7_EBX_SMEP (1U << 7)
#define CPUID7_EBX_SMAP (1U << 20)
#define CPUIDX1_EDX_NX (1U << 20)
#define CPUIDX1_EDX_GBPAGES (1U << 26)
#define CPUIDX7_EDX_INVTSC (1U << 8)

void cpu_init(void)
{
	uint32_t a, b, c, d, max, maxext;

	cpuid(0, 0, &max, &b, &c, &d);
	memcpy(cpu.vendor, &b, 4);
	memcpy(cpu.vendor + 4, &d, 4);
	memcpy(cpu.vendor + 8, &c, 4);
	cpuid(1, 0, &a, &b, &c, &d);
	cpu.pge = d & CPUID1_EDX_PGE;
	cpu.pat = d & CPUID1_EDX_PAT;
	cpu.apic = d & CPUID1_EDX_APIC;
	cpu.x2apic = c & CPUID1_ECX_X2APIC;
	if (max >= 7) {
		cpuid(7, 0, &a, &b, &c, &d);
		cpu.smep = b & CPUID7_EBX_SMEP;
		cpu.smap = b & CPUID7_EBX_SMAP;
	}
	cpuid(0x80000000, 0, &maxext, &b, &c, &d);
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	cpu.nx = d & CPUIDX1_EDX_NX;
	cpu.gbpages = d & CPUIDX1_EDX_GBPAGES;
	if (maxext >= 0x80000007) {
		cpuid(0x80000007, 0, &a, &b, &c, &d);
		cpu.invariant_tsc = d & CPUIDX7_EDX_INVTSC;
	}
	cpu.phys_addr_bits = 36; /* the architectural default without leaf 0x80000008 */
	cpu.virt_addr_bits = 48;
	if (maxext >= 0x80000008) {
		cpuid(0x80000008, 0, &a, &b, &c, &d);
		cpu.phys_addr_bits = a & 0xff;
		cpu.virt_addr_bits = (a >> 8) & 0xff;
	}
	pr_info("cpu: %s, %u-bit physical addresses, nx=%d pat=%d 1g=%d smep=%d smap=%d\n",
		cpu.vendor, cpu.phys_addr_bits, cpu.nx, cpu.pat, cpu.gbpages, cpu.smep, cpu.smap);
}
