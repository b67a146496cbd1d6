/* SYSCALL/SYSRET setup (Intel SDM Vol. 2B, SYSCALL; Vol. 3A, 5.8.8): the
 * MSRs that say where SYSCALL enters and with which segments. */
#include <asm/gdt.h>
#include <asm/syscall.h>
#include <asm/x86.h>

/* RFLAGS bits cleared on entry: TF, IF, DF, AC (AC: SMAP stays enforced). */
#define SYSCALL_FMASK ((1U << 8) | (1U << 9) | (1U << 10) | (1U << 18))

extern char syscall_entry[];

void syscall_cpu_init(void)
{
	/* SYSRET loads CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8 (the
	 * GDT's user entries); SYSCALL loads CS = STAR[47:32], SS = +8. */
	wrmsr(MSR_STAR, ((uint64_t)(GDT_USER32_CS & ~3) << 48) | ((uint64_t)GDT_KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uintptr_t)syscall_entry);
	wrmsr(MSR_FMASK, SYSCALL_FMASK);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}
