/* The local APIC (xAPIC, memory-mapped) and its timer, which gives the
 * kernel its tick; calibrated, with the TSC, against PIT channel 2.
 *
 * IA32_APIC_BASE (Intel SDM Vol. 3A, 11.4.4, Figure 11-5):
 *
 *   63       MAXPHYADDR        12  11  10   9   8  7    0
 *   | reserved | APIC base (4K) | EN | EXTD | - | BSP | - |
 *
 * EN enables the APIC globally; EXTD selects x2APIC mode, in which the MMIO
 * page is dead, so it is turned off here. The registers are 32 bits wide at
 * 16-byte strides in a 4 KiB page that must be mapped uncached. */
#define pr_fmt(fmt) "timer: " fmt

#include <pagoda/atomic.h>
#include <pagoda/compiler.h>
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/fixmap.h>
#include <pagoda/percpu.h>
#include <pagoda/printk.h>
#include <pagoda/profile.h>
#include <pagoda/task.h> /* against the direction: the tick preempts the task */
#include <pagoda/timer.h>
#include <asm/apic.h>
#include <asm/trap.h>
#include <asm/x86.h>

#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_ADDR_MASK (~0xfffULL)
#define APIC_MMIO_SIZE 0x1000

/* Register offsets (Intel SDM Vol. 3A, 11.4.1, Table 11-1). */
#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0

#define SVR_APIC_ENABLE (1U << 8) /* software enable (11.9, Figure 11-23) */
/* Interrupt command register (11.6.1, Figure 11-12). */
#define ICR_FIXED 0x000
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_DELIVERY_PENDING (1U << 12)
#define ICR_LEVEL_ASSERT (1U << 14)
#define ICR_TRIGGER_LEVEL (1U << 15)
#define ICR_DEST_SHIFT 24 /* in ICR_HIGH: the destination APIC ID */
/* Local vector table entries (11.5.1, Figure 11-8). */
#define LVT_MASKED (1U << 16)
#define LVT_TIMER_PERIODIC (1U << 17) /* bits 18:17 = 01; 00 is one-shot */
/* Divide configuration: bits 3,1:0 = 0011 divides the bus clock by 16
 * (11.5.4, Figure 11-10). */
#define TIMER_DIV_16 0x3

#define CALIBRATE_PIT_TICKS (PIT_HZ / 100) /* 10 ms */
#define CALIBRATE_MAX_POLLS 50000000u      /* give up on a dead PIT */
#define CALIBRATE_TRIES 5
#define CALIBRATE_GOOD_PPM 1000            /* 0.1% */

static volatile uint32_t *lapic;
static uint64_t ticks;
static uint64_t tsc_rate;
static uint32_t counts_per_tick;

static uint32_t lapic_read(unsigned int reg)
{
	return lapic[reg / 4];
}

static void lapic_write(unsigned int reg, uint32_t v)
{
	lapic[reg / 4] = v;
}

void lapic_eoi(void)
{
	if (lapic)
		lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
	return lapic ? lapic_read(LAPIC_ID) >> 24 : 0;
}

/* Send one message through the ICR. Interrupts are off between the two
 * writes: an interrupt handler sending its own IPI in between would
 * change the destination. The previous message must have left (the ICR
 * takes one at a time). With wait_sent, wait until this one left too, as
 * the INIT-SIPI-SIPI bring-up times its steps from there; an ordinary
 * IPI does not wait after, as Linux's: each read of the ICR is an access
 * to the APIC, slow under an emulator, and the next sender waits anyway. */
static void lapic_icr(uint32_t apic_id, uint32_t low, bool wait_sent)
{
	uint64_t flags = irq_save();

	while (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING)
		cpu_relax();
	lapic_write(LAPIC_ICR_HIGH, apic_id << ICR_DEST_SHIFT);
	lapic_write(LAPIC_ICR_LOW, low);
	while (wait_sent && (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING))
		cpu_relax();
	irq_restore(flags);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	if (lapic)
		lapic_icr(apic_id, ICR_FIXED | vector, false);
}

void lapic_send_init(uint32_t apic_id)
{
	lapic_icr(apic_id, ICR_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL, true);
	lapic_icr(apic_id, ICR_INIT | ICR_TRIGGER_LEVEL, true);
}

void lapic_send_startup(uint32_t apic_id, uint8_t page)
{
	lapic_icr(apic_id, ICR_STARTUP | page, true);
}

/* Turn the APIC on in xAPIC mode and map its registers. x2APIC cannot go
 * straight back to xAPIC: it must pass through disabled (11.12.5).
 * Returns 0, or -ENODEV if there is no APIC or it cannot be mapped. */
static int lapic_map(void)
{
	uint64_t msr;
	phys_addr_t base;

	if (!cpu.apic) {
		pr_warn("no local APIC (CPUID.1:EDX.APIC clear)\n");
		return -ENODEV;
	}
	msr = rdmsr(MSR_IA32_APIC_BASE);
	base = msr & APIC_BASE_ADDR_MASK & (cpu_phys_limit() - 1);
	if (msr & APIC_BASE_EXTD)
		wrmsr(MSR_IA32_APIC_BASE, msr & ~(APIC_BASE_EN | APIC_BASE_EXTD));
	wrmsr(MSR_IA32_APIC_BASE, (msr & ~APIC_BASE_EXTD) | APIC_BASE_EN);
	lapic = fixmap_map(base, APIC_MMIO_SIZE, CACHE_UC);
	if (!lapic) {
		pr_warn("cannot map the local APIC at %#llx\n", (unsigned long long)base);
		return -ENODEV;
	}
	return 0;
}

/* Accept every priority, deliver spurious interrupts to SPURIOUS_VECTOR
 * (which needs no EOI) and keep the 8259's ExtINT line out. */
static void lapic_setup(void)
{
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, SPURIOUS_VECTOR | SVR_APIC_ENABLE);
	lapic_write(LAPIC_LVT_LINT0, lapic_read(LAPIC_LVT_LINT0) | LVT_MASKED);
}

/* One calibration run: TSC cycles and APIC timer counts (divide by 16)
 * over CALIBRATE_PIT_TICKS of the PIT, and how uncertain its ends are. */
struct calib_sample {
	uint64_t tsc_cycles;
	uint32_t apic_counts;
	uint64_t slack; /* TSC cycles: the start's window plus the widest poll gap */
};

/* Measure one sample. An SMI, or under emulation the host descheduling
 * us, between two polls shows as a wide gap: the PIT may have expired
 * anywhere in it. Returns 0, or -EIO if the PIT never expires. */
static int calibrate_once(struct calib_sample *s)
{
	uint64_t t_pre, t0, prev, now, gap = 0;
	uint32_t a0, polls = 0;

	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED); /* one-shot, no interrupt */
	lapic_write(LAPIC_TIMER_INIT, UINT32_MAX);
	t_pre = rdtsc();
	pit_oneshot_start(CALIBRATE_PIT_TICKS);
	prev = t0 = rdtsc();
	a0 = lapic_read(LAPIC_TIMER_CUR);
	do {
		if (++polls == CALIBRATE_MAX_POLLS)
			return -EIO;
		now = rdtsc();
		gap = MAX(gap, now - prev);
		prev = now;
	} while (!pit_oneshot_expired());
	now = rdtsc();
	s->apic_counts = a0 - lapic_read(LAPIC_TIMER_CUR);
	s->tsc_cycles = now - t0;
	s->slack = (t0 - t_pre) + MAX(gap, now - prev);
	lapic_write(LAPIC_TIMER_INIT, 0); /* stop it */
	return 0;
}

/* The least disturbed of up to CALIBRATE_TRIES samples; stops early once
 * one is good to CALIBRATE_GOOD_PPM. Returns 0 or -EIO. */
static int calibrate(struct calib_sample *best)
{
	struct calib_sample s;

	*best = (struct calib_sample){ .slack = UINT64_MAX };
	for (unsigned int i = 0; i < CALIBRATE_TRIES; i++) {
		if (calibrate_once(&s) || s.tsc_cycles == 0 || s.apic_counts == 0)
			return -EIO;
		if (s.slack < best->slack)
			*best = s;
		if (best->slack * 1000000 <= best->tsc_cycles * CALIBRATE_GOOD_PPM)
			break;
	}
	if (best->slack * 100 > best->tsc_cycles)
		pr_warn("calibration disturbed: up to %llu%% off\n",
			(unsigned long long)(best->slack * 100 / best->tsc_cycles));
	return 0;
}

/* Every CPU's tick: the boot CPU keeps time and wakes timed sleepers;
 * each asks for a switch if others wait for its CPU. */
static void timer_irq(struct trap_frame *tf)
{
	lapic_eoi();
	this_cpu()->irqs.timer++;
	profile_tick(tf); /* profile=N: count the interrupted RIP */
	if (cpu_id() == 0) {
		WRITE_ONCE(ticks, ticks + 1);
		task_wake_timeouts();
	}
	sched_tick(); /* preempt on the way back to user mode */
}

/* Start periodic interrupts on TIMER_VECTOR every count timer counts. */
static void lapic_timer_start(uint32_t count)
{
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR | LVT_TIMER_PERIODIC);
	lapic_write(LAPIC_TIMER_INIT, count); /* writing the count starts it */
}

int timer_init(void)
{
	struct calib_sample c;
	uint64_t apic_hz;
	int err;

	pic_disable();
	err = lapic_map();
	if (err)
		return err;
	lapic_setup();
	if (calibrate(&c)) {
		pr_err("PIT channel 2 calibration failed; no timer\n");
		return -EIO;
	}
	tsc_rate = c.tsc_cycles * PIT_HZ / CALIBRATE_PIT_TICKS;
	apic_hz = (uint64_t)c.apic_counts * PIT_HZ / CALIBRATE_PIT_TICKS;
	counts_per_tick = MAX(apic_hz / TIMER_HZ, 1);
	trap_set_irq_handler(TIMER_VECTOR, timer_irq);
	lapic_timer_start(counts_per_tick);
	pr_info("TSC %llu.%03llu MHz, APIC timer %u counts per tick (%u Hz, divide by 16)\n",
		(unsigned long long)(tsc_rate / 1000000),
		(unsigned long long)(tsc_rate / 1000 % 1000), counts_per_tick, TIMER_HZ);
	return 0;
}

void lapic_cpu_init(void)
{
	uint64_t msr = rdmsr(MSR_IA32_APIC_BASE);

	if (msr & APIC_BASE_EXTD)
		wrmsr(MSR_IA32_APIC_BASE, msr & ~(APIC_BASE_EN | APIC_BASE_EXTD));
	wrmsr(MSR_IA32_APIC_BASE, (msr & ~APIC_BASE_EXTD) | APIC_BASE_EN);
	lapic_setup();
	lapic_timer_start(counts_per_tick);
}

void udelay(uint64_t us)
{
	uint64_t start = rdtsc(), cycles = tsc_rate / 1000000 * us;

	while (rdtsc() - start < cycles)
		cpu_relax();
}

uint64_t timer_ticks(void)
{
	return READ_ONCE(ticks);
}

uint64_t tsc_hz(void)
{
	return tsc_rate;
}

uint32_t lapic_timer_count_per_tick(void)
{
	return counts_per_tick;
}
