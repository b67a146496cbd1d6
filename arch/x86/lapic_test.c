/* Tests of the timer: the local APIC ticks, the TSC rate measured against
 * the PIT is plausible, and the legacy PICs stay masked. */
#include <pagoda/ktest.h>
#include <pagoda/timer.h>
#include <asm/x86.h>

#define TICK_WAIT_HLTS 1000
#define TSC_HZ_MIN 100000000ULL    /* 100 MHz */
#define TSC_HZ_MAX 20000000000ULL  /* 20 GHz */

static bool timer_absent(struct ktest *t)
{
	if (lapic_timer_count_per_tick() != 0)
		return false;
	ktest_skip(t, "timer_init() did not start the APIC timer");
	return true;
}

static void timer_ticks_advance(struct ktest *t)
{
	uint64_t start = timer_ticks();
	unsigned int i;

	if (timer_absent(t))
		return;
	if (!(read_rflags() & X86_RFLAGS_IF)) {
		ktest_skip(t, "interrupts are disabled");
		return;
	}
	for (i = 0; i < TICK_WAIT_HLTS && timer_ticks() < start + 3; i++)
		hlt();
	KEXPECT_GE(t, timer_ticks(), start + 3);
	ktest_log(t, "3 ticks took %u hlt wake-ups", i);
}

static void timer_tsc_hz_is_plausible(struct ktest *t)
{
	if (timer_absent(t))
		return;
	KEXPECT_GE(t, tsc_hz(), TSC_HZ_MIN);
	KEXPECT_LE(t, tsc_hz(), TSC_HZ_MAX);
	ktest_log(t, "TSC %llu Hz, %u APIC counts per tick", (unsigned long long)tsc_hz(),
		  lapic_timer_count_per_tick());
}

static void timer_legacy_pics_are_masked(struct ktest *t)
{
	KEXPECT_EQ(t, pic_masks(), 0xffff);
}

static void timer_apic_is_enabled_in_msr(struct ktest *t)
{
	if (timer_absent(t))
		return;
	KEXPECT_TRUE(t, rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EN);
}

static const struct ktest_case lapic_cases[] = {
	KTEST_CASE(timer_ticks_advance),
	KTEST_CASE(timer_tsc_hz_is_plausible),
	KTEST_CASE(timer_legacy_pics_are_masked),
	KTEST_CASE(timer_apic_is_enabled_in_msr),
};
KTEST_SUITE(lapic, lapic_cases);
