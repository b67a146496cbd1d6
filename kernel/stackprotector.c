/* The stack protector's runtime: the guard and the function the
 * compiler calls when a frame's copy of it was overwritten. See
 * include/pagoda/stackprotector.h. */
#include <pagoda/ksyms.h>
#include <pagoda/panic.h>
#include <pagoda/printk.h>
#include <pagoda/stackprotector.h>
#include <asm/x86.h>

/* CPUID.1:ECX bit 30: RDRAND (Intel SDM Vol. 2A, CPUID, Table 3-10). */
#define CPUID1_ECX_RDRAND (1U << 30)

/* A fixed value until stack_protector_init() runs: nothing checks before. */
uintptr_t __stack_chk_guard = 0x5ca1ab1e0ddba11ULL;

static void **recover; /* the armed test's jump buffer, or NULL */

static bool rdrand64(uint64_t *out)
{
	uint8_t ok;

	for (int tries = 0; tries < 10; tries++) { /* RDRAND may fail transiently */
		__asm__ __volatile__("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

/* No canary here: the guard changes under this very call. */
__attribute__((no_stack_protector)) void stack_protector_init(void)
{
	uint32_t a, b, c, d;
	uint64_t v = 0;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID1_ECX_RDRAND) || !rdrand64(&v))
		v = rdtsc() * 0x9e3779b97f4a7c15ULL ^ (rdtsc() << 32);
	/* A zero low byte stops string overruns (strcpy) at the canary, as
	 * Linux's does. */
	__stack_chk_guard = v & ~0xffULL;
}

void stack_protector_arm(void **buf) { recover = buf; }
void stack_protector_disarm(void) { recover = NULL; }

__noreturn void __stack_chk_fail(void)
{
	uintptr_t caller = (uintptr_t)__builtin_return_address(0), off = 0;
	const char *name = ksyms_lookup(caller, &off);

	if (recover) {
		void **buf = recover;
		recover = NULL;
		__builtin_longjmp(buf, 1);
	}
	panic("stack-protector: kernel stack is corrupted in: %s+%#lx", name ? name : "?", off);
}
