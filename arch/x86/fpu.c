/* The x87 FPU and SSE for user programs. Static musl and glibc code uses
 * SSE everywhere (memcpy, printf), so CR4.OSFXSR must be on, or the first
 * SSE instruction is #UD. Each task's registers are saved with FXSAVE when
 * it is switched out and restored with FXRSTOR when it comes back (eager
 * switching: simple, and cheap next to TCG's other costs). AVX state
 * (XSAVE) is not enabled: with CR4.OSXSAVE clear, CPUID tells libc not to
 * use AVX. */
#include <pagoda/string.h>
#include <pagoda/task.h> /* against the direction: the state lives in the task */
#include <asm/x86.h>

#define CR0_MP (1UL << 1)
#define CR0_EM (1UL << 2)
#define CR0_TS (1UL << 3)
#define CR4_OSFXSR (1UL << 9)
#define CR4_OSXMMEXCPT (1UL << 10)
#define MXCSR_DEFAULT 0x1f80 /* all SSE exceptions masked, round to nearest */
#define FXSAVE_MXCSR 24      /* offsets in the FXSAVE image (Intel SDM Vol. 1, 10.5.1) */
#define FXSAVE_MXCSR_MASK 28
#define MXCSR_MASK_DEFAULT 0xffbf /* when the image says 0 (Intel SDM Vol. 1, 11.6.6) */

static uint8_t initial_state[512] __attribute__((aligned(16)));

void fpu_cpu_init(void)
{
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

void fpu_init(void)
{
	uint32_t mxcsr = MXCSR_DEFAULT;

	fpu_cpu_init();
	__asm__ __volatile__("fninit\n\tldmxcsr %0\n\tfxsave64 %1"
			     : : "m"(mxcsr), "m"(initial_state) : "memory");
}

void fpu_init_state(struct task *t)
{
	memcpy(t->fpu, initial_state, sizeof(t->fpu));
}

void fpu_save(struct task *t)
{
	__asm__ __volatile__("fxsave64 %0" : "=m"(t->fpu) : : "memory");
}

void fpu_restore(const struct task *t)
{
	__asm__ __volatile__("fxrstor64 %0" : : "m"(t->fpu) : "memory");
}

void fpu_load_image(struct task *t, const uint8_t image[512])
{
	uint32_t mask, mxcsr;

	memcpy(&mask, initial_state + FXSAVE_MXCSR_MASK, sizeof(mask));
	if (!mask)
		mask = MXCSR_MASK_DEFAULT;
	memcpy(t->fpu, image, sizeof(t->fpu));
	memcpy(&mxcsr, t->fpu + FXSAVE_MXCSR, sizeof(mxcsr));
	mxcsr &= mask; /* a reserved bit set would make FXRSTOR raise #GP */
	memcpy(t->fpu + FXSAVE_MXCSR, &mxcsr, sizeof(mxcsr));
}
