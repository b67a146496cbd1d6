/* Tests of the kernel profiler (kernel/profile.c). The suite makes its own
 * counter arrays, so it runs whether or not the boot has profile=. */
#include <pagoda/errno.h>
#include <pagoda/ksyms.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/profile.h>
#include <pagoda/string.h>
#include <pagoda/timer.h>
#include <asm/trap.h>

/* A pretend text of 64 bytes at 0x1000: 16 buckets of 4 bytes at shift 2. */
#define FAKE_START 0x1000UL
#define FAKE_END (FAKE_START + 64)

static unsigned long sum_counts(const struct profile_buf *pb)
{
	unsigned long sum = 0;

	for (unsigned long i = 0; i < pb->len; i++)
		sum += pb->counts[i];
	return sum;
}

static void profile_bucket_is_offset_shifted_by_step(struct ktest *t)
{
	struct profile_buf pb;

	KASSERT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, 2), 0);
	KEXPECT_EQ(t, pb.len, 16);
	KEXPECT_EQ(t, profile_bucket(&pb, FAKE_START), 0);
	KEXPECT_EQ(t, profile_bucket(&pb, FAKE_START + 3), 0);
	KEXPECT_EQ(t, profile_bucket(&pb, FAKE_START + 4), 1);
	KEXPECT_EQ(t, profile_bucket(&pb, FAKE_START + 41), 10);
	KEXPECT_EQ(t, profile_bucket(&pb, FAKE_END - 1), 15);
	profile_buf_fini(&pb);
}

/* Linux 6.1: min((pc - _stext) >> prof_shift, prof_len - 1), so a pc
 * below the text (a huge unsigned offset) lands last too. */
static void profile_pc_outside_text_counts_in_last_bucket(struct ktest *t)
{
	struct profile_buf pb;

	KASSERT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, 2), 0);
	KEXPECT_EQ(t, profile_bucket(&pb, FAKE_END), 15);
	KEXPECT_EQ(t, profile_bucket(&pb, FAKE_END + 0x100000), 15);
	KEXPECT_EQ(t, profile_bucket(&pb, FAKE_START - 1), 15);
	KEXPECT_EQ(t, profile_bucket(&pb, 0), 15);
	KEXPECT_EQ(t, profile_bucket(&pb, UINTPTR_MAX), 15);
	profile_hit(&pb, FAKE_START - 4);
	profile_hit(&pb, FAKE_END);
	KEXPECT_EQ(t, pb.counts[15], 2);
	KEXPECT_EQ(t, sum_counts(&pb), 2);
	profile_buf_fini(&pb);
}

static void profile_shift_is_clamped_and_an_empty_text_refused(struct ktest *t)
{
	struct profile_buf pb;

	KASSERT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, -3), 0);
	KEXPECT_EQ(t, pb.shift, 0);
	KEXPECT_EQ(t, pb.len, 64);
	profile_buf_fini(&pb);
	KASSERT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, 6), 0);
	KEXPECT_EQ(t, pb.len, 1);
	KEXPECT_EQ(t, profile_bucket(&pb, FAKE_START + 63), 0);
	profile_buf_fini(&pb);
	/* Less than one bucket: Linux's "profiling shift: N too large". */
	KEXPECT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, 7), -EINVAL);
	KEXPECT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, 1000), -EINVAL);
	KEXPECT_NULL(t, pb.counts);
}

static void profile_reset_zeroes_every_counter(struct ktest *t)
{
	struct profile_buf pb;

	KASSERT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, 2), 0);
	for (uintptr_t pc = FAKE_START; pc < FAKE_END; pc++)
		profile_hit(&pb, pc);
	KEXPECT_EQ(t, pb.counts[0], 4);
	KEXPECT_EQ(t, pb.counts[15], 4);
	KEXPECT_EQ(t, sum_counts(&pb), 64);
	profile_reset(&pb);
	KEXPECT_EQ(t, sum_counts(&pb), 0);
	profile_buf_fini(&pb);
}

/* The file: the step 1 << shift as an unsigned int, then one unsigned
 * int per bucket; any split of the reads gives the same bytes. */
static void profile_read_gives_step_then_counters(struct ktest *t)
{
	uint32_t whole[10], pieces[10];
	struct profile_buf pb;
	uint64_t pos = 0;
	ssize_t n;

	KASSERT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, 3), 0);
	KASSERT_EQ(t, pb.len, 8);
	for (int i = 0; i < 5; i++)
		profile_hit(&pb, FAKE_START + 8 * 2);
	profile_hit(&pb, FAKE_START + 8 * 7 + 7);
	memset(whole, 0xaa, sizeof(whole));
	n = profile_read(&pb, whole, sizeof(whole), &pos);
	KEXPECT_EQ(t, n, 9 * 4);
	KEXPECT_EQ(t, pos, 9 * 4);
	KEXPECT_EQ(t, whole[0], 8);
	KEXPECT_EQ(t, whole[1 + 2], 5);
	KEXPECT_EQ(t, whole[1 + 7], 1);
	KEXPECT_EQ(t, whole[1 + 0], 0);
	KEXPECT_EQ(t, whole[9], 0xaaaaaaaa); /* nothing past the end */
	KEXPECT_EQ(t, profile_read(&pb, whole, sizeof(whole), &pos), 0);
	/* 3 bytes at a time: across the step and the counters' edges. */
	pos = 0;
	memset(pieces, 0xaa, sizeof(pieces));
	while ((n = profile_read(&pb, (uint8_t *)pieces + pos, 3, &pos)) > 0)
		;
	KEXPECT_EQ(t, pos, 9 * 4);
	KEXPECT_EQ(t, memcmp(pieces, whole, sizeof(whole)), 0);
	profile_buf_fini(&pb);
}

/* Linux: a write of sizeof(int) bytes sets the timer multiplier, which
 * x86 does not support (-EINVAL); any other write resets. */
static void profile_write_resets_but_refuses_a_multiplier(struct ktest *t)
{
	struct profile_buf pb;
	uint32_t mult = 2;

	KASSERT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, 2), 0);
	profile_hit(&pb, FAKE_START);
	profile_hit(&pb, FAKE_START + 20);
	KEXPECT_EQ(t, profile_write(&pb, &mult, sizeof(mult)), -EINVAL);
	KEXPECT_EQ(t, sum_counts(&pb), 2);
	KEXPECT_EQ(t, profile_write(&pb, "0", 1), 1);
	KEXPECT_EQ(t, sum_counts(&pb), 0);
	profile_hit(&pb, FAKE_START);
	KEXPECT_EQ(t, profile_write(&pb, "reset\n", 6), 6);
	KEXPECT_EQ(t, sum_counts(&pb), 0);
	profile_buf_fini(&pb);
}

/* A tick counts the interrupted RIP in kernel mode (CPL 0) only. Real
 * ticks count meanwhile too: their kernel RIPs are far above the pretend
 * text, in its last bucket. */
static void profile_tick_counts_kernel_rip_not_user_rip(struct ktest *t)
{
	struct trap_frame kernel_tf = { .rip = FAKE_START, .cs = 0x08 };
	struct trap_frame user_tf = { .rip = FAKE_START + 4, .cs = 0x2b };
	struct profile_buf pb, *old;

	KASSERT_EQ(t, profile_buf_init(&pb, FAKE_START, FAKE_END, 2), 0);
	old = profile_set_active(&pb);
	profile_tick(&kernel_tf);
	profile_tick(&user_tf);
	profile_set_active(old);
	KEXPECT_EQ(t, pb.counts[0], 1);
	KEXPECT_EQ(t, pb.counts[1], 0);
	profile_buf_fini(&pb);
}

/* Burn CPU in this function's own code for ticks ticks. */
static __attribute__((noinline)) void profile_test_spin(uint64_t ticks)
{
	uint64_t until = timer_ticks() + ticks;
	volatile uint64_t x = 0;

	while (timer_ticks() < until)
		for (int i = 0; i < 10000; i++)
			x = x * 3 + i;
}

/* Is sym the function name, or a copy GCC made of it (name.constprop.0)? */
static bool sym_is(const char *sym, const char *name)
{
	size_t n = strlen(name);

	return sym && !strncmp(sym, name, n) && (sym[n] == '\0' || sym[n] == '.');
}

/* The samples of the buckets of the function named name. */
static unsigned long samples_in(const struct profile_buf *pb, const char *name)
{
	unsigned long sum = 0;

	for (unsigned long i = 0; i + 1 < pb->len; i++) {
		if (pb->counts[i] &&
		    sym_is(ksyms_lookup(pb->text_start + (i << pb->shift), NULL), name))
			sum += pb->counts[i];
	}
	return sum;
}

/* Live: with a profile of the real text, half a second spent spinning
 * in profile_test_spin() shows in its buckets (50 ticks of this CPU at
 * TIMER_HZ 100; at least a third of them, whatever else runs here). */
static void profile_live_ticks_sample_a_spinning_function(struct ktest *t)
{
	const uint64_t ticks = TIMER_HZ / 2;
	struct profile_buf pb, *old;
	unsigned long in_spin;

	if (!lapic_timer_count_per_tick()) {
		ktest_skip(t, "no timer ticks (timer_init failed)");
		return;
	}
	KASSERT_EQ(t, profile_buf_init(&pb, (uintptr_t)__text_start, (uintptr_t)__text_end, 2), 0);
	old = profile_set_active(&pb);
	profile_test_spin(ticks);
	profile_set_active(old);
	in_spin = samples_in(&pb, "profile_test_spin");
	ktest_log(t, "%lu of %lu samples in profile_test_spin", in_spin, sum_counts(&pb));
	KEXPECT_GE(t, in_spin, ticks / 3);
	KEXPECT_LE(t, in_spin, sum_counts(&pb));
	profile_buf_fini(&pb);
}

static const struct ktest_case profile_cases[] = {
	KTEST_CASE(profile_bucket_is_offset_shifted_by_step),
	KTEST_CASE(profile_pc_outside_text_counts_in_last_bucket),
	KTEST_CASE(profile_shift_is_clamped_and_an_empty_text_refused),
	KTEST_CASE(profile_reset_zeroes_every_counter),
	KTEST_CASE(profile_read_gives_step_then_counters),
	KTEST_CASE(profile_write_resets_but_refuses_a_multiplier),
	KTEST_CASE(profile_tick_counts_kernel_rip_not_user_rip),
	KTEST_CASE(profile_live_ticks_sample_a_spinning_function),
};
KTEST_SUITE(profile, profile_cases);
