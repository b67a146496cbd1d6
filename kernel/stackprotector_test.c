/* Tests of the stack protector (kernel/stackprotector.c): the guard is
 * set, and a function whose canary is overwritten is caught on return.
 * The overrun is real but aimed: the victim finds its own frame's copy of
 * the guard and flips one bit of it, so nothing else is damaged; the
 * test arms the runtime to jump back here instead of panicking. */
#include <pagoda/ktest.h>
#include <pagoda/stackprotector.h>

static void *recover_buf[5]; /* __builtin_setjmp's five words */
static volatile bool canary_found;

/* A char array makes -fstack-protector-strong give this frame a canary
 * between buf and the saved frame pointer: find it and flip a bit. */
static __attribute__((noinline, no_sanitize("undefined"))) void overrun_own_canary(void)
{
	volatile char buf[24];
	uintptr_t *p = (uintptr_t *)ALIGN_UP((uintptr_t)buf + sizeof(buf), sizeof(uintptr_t));
	uintptr_t *end = __builtin_frame_address(0);

	buf[0] = 1;
	for (; p < end; p++) {
		if (*p == __stack_chk_guard) {
			*p ^= 0x100;
			canary_found = true;
			return;
		}
	}
}

static void stackprot_overwritten_canary_is_caught_on_return(struct ktest *t)
{
	static volatile bool returned;

	canary_found = returned = false;
	if (__builtin_setjmp(recover_buf) == 0) {
		stack_protector_arm(recover_buf);
		overrun_own_canary();
		returned = true; /* the check let the damaged frame return */
	}
	stack_protector_disarm();
	KEXPECT_TRUE(t, canary_found); /* else the frame had no canary at all */
	KEXPECT_FALSE(t, returned);
}

static void stackprot_guard_is_chosen_at_boot_with_a_zero_low_byte(struct ktest *t)
{
	KEXPECT_NE(t, __stack_chk_guard, 0x5ca1ab1e0ddba11ULL); /* the link-time value */
	KEXPECT_EQ(t, __stack_chk_guard & 0xff, 0);
	KEXPECT_NE(t, __stack_chk_guard >> 8, 0);
}

static const struct ktest_case stackprot_cases[] = {
	KTEST_CASE(stackprot_overwritten_canary_is_caught_on_return),
	KTEST_CASE(stackprot_guard_is_chosen_at_boot_with_a_zero_low_byte),
};
KTEST_SUITE(stackprot, stackprot_cases);
