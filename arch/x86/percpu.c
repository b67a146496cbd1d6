/* Loading a CPU's per-CPU area into its GS base (asm/percpu.h). */
#include <pagoda/compiler.h>
#include <pagoda/percpu.h>
#include <asm/x86.h>

BUILD_BUG_ON(__builtin_offsetof(struct arch_percpu, self) != PERCPU_SELF);
BUILD_BUG_ON(__builtin_offsetof(struct arch_percpu, kernel_rsp) != PERCPU_KERNEL_RSP);
BUILD_BUG_ON(__builtin_offsetof(struct arch_percpu, user_rsp) != PERCPU_USER_RSP);
BUILD_BUG_ON(__builtin_offsetof(struct percpu, arch) != 0);

void arch_percpu_load(struct arch_percpu *area)
{
	area->self = area;
	wrmsr(MSR_GS_BASE, (uintptr_t)area);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}
