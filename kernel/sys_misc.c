/* Small system calls with Linux's semantics: identity (uname, the uid and
 * process-group family), time (clock_gettime, gettimeofday, time), random
 * bytes (getrandom), resource limits, mount, reboot, sysinfo, and the few
 * that glibc's start-up makes and only needs answered (rseq).
 *
 * Time: the monotonic clocks count TSC cycles since power-on at the rate
 * lapic.c measured (tsc_hz()); CLOCK_REALTIME adds the wall-clock time the
 * CMOS RTC showed, read once, minus the monotonic time at that read. */
#include <pagoda/errno.h>
#include <pagoda/fs_struct.h>
#include <pagoda/pmm.h>
#include <pagoda/power.h>
#include <pagoda/printk.h>
#include <pagoda/procfs.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <asm/x86.h>

/* Numbers syscall.h does not list yet (arch/x86/entry/syscalls/syscall_64.tbl). */
#ifndef SYS_gettimeofday
#define SYS_gettimeofday 96
#endif
#ifndef SYS_sysinfo
#define SYS_sysinfo 99
#endif
#ifndef SYS_getpgid
#define SYS_getpgid 121
#endif
#ifndef SYS_getsid
#define SYS_getsid 124
#endif
#ifndef SYS_clock_getres
#define SYS_clock_getres 229
#endif

#define NSEC_PER_USEC 1000ULL

/* ---- Identity ---- */

/* Linux's struct new_utsname: six NUL-padded fields of 65 bytes. glibc
 * compares the release with its minimum kernel version, so it must read
 * as a 6.1 kernel. */
#define UTS_LEN 65
struct utsname {
	char sysname[UTS_LEN];
	char nodename[UTS_LEN];
	char release[UTS_LEN];
	char version[UTS_LEN];
	char machine[UTS_LEN];
	char domainname[UTS_LEN];
};

SYSCALL_DEFINE(SYS_uname, uname)
{
	struct utsname u;

	memset(&u, 0, sizeof(u));
	strlcpy(u.sysname, "Pagoda", UTS_LEN);
	strlcpy(u.nodename, "pagoda", UTS_LEN);
	strlcpy(u.release, "6.1.0-pagoda", UTS_LEN);
	strlcpy(u.version, "#1", UTS_LEN);
	strlcpy(u.machine, "x86_64", UTS_LEN);
	strlcpy(u.domainname, "(none)", UTS_LEN);
	return copy_to_user((void *)ARG(0), &u, sizeof(u)) < 0 ? -EFAULT : 0;
}

/* Everyone is root. */
SYSCALL_DEFINE(SYS_getuid, getuid) { return 0; }
SYSCALL_DEFINE(SYS_geteuid, geteuid) { return 0; }
SYSCALL_DEFINE(SYS_getgid, getgid) { return 0; }
SYSCALL_DEFINE(SYS_getegid, getegid) { return 0; }

/* Supplementary groups, as Linux's kernel/groups.c: getgroups(0, ...)
 * says how many; a buffer too small is -EINVAL. Every process is root
 * (CAP_SETGID): setgroups always may, up to TASK_MAX_GROUPS (Linux's
 * NGROUPS_MAX is 65536; more than Pagoda keeps is -EINVAL), and the list
 * is kept sorted. Inherited by fork, kept by exec. */
#define SYS_getgroups 115
#define SYS_setgroups 116

/* The process's groups, kept in its signal_struct under tasklist_lock
 * (the threads share them, as glibc's setgroups() makes Linux's). */
SYSCALL_DEFINE(SYS_getgroups, getgroups)
{
	int size = (int)ARG(0);
	uint32_t groups[TASK_MAX_GROUPS];
	uint64_t irq = spin_lock_irqsave(&tasklist_lock);
	unsigned int n = current->signal->ngroups;

	memcpy(groups, current->signal->groups, n * sizeof(uint32_t));
	spin_unlock_irqrestore(&tasklist_lock, irq);
	if (size < 0)
		return -EINVAL;
	if (size == 0)
		return n;
	if ((unsigned int)size < n)
		return -EINVAL;
	return copy_to_user((void *)ARG(1), groups, n * sizeof(uint32_t)) ? -EFAULT : (long)n;
}

SYSCALL_DEFINE(SYS_setgroups, setgroups)
{
	int n = (int)ARG(0);
	uint32_t groups[TASK_MAX_GROUPS];
	uint64_t irq;

	if (n < 0 || n > TASK_MAX_GROUPS)
		return -EINVAL;
	if (n && copy_from_user(groups, (const void *)ARG(1), n * sizeof(uint32_t)))
		return -EFAULT;
	for (int i = 1; i < n; i++) /* kept sorted, as Linux's groups_sort() */
		for (int j = i; j > 0 && groups[j - 1] > groups[j]; j--) {
			uint32_t g = groups[j];
			groups[j] = groups[j - 1];
			groups[j - 1] = g;
		}
	irq = spin_lock_irqsave(&tasklist_lock);
	memcpy(current->signal->groups, groups, n * sizeof(uint32_t));
	current->signal->ngroups = n;
	spin_unlock_irqrestore(&tasklist_lock, irq);
	return 0;
}

/* Process groups and sessions, as Linux keeps them (kernel/sys.c): a
 * child starts in its parent's group and session; init's are 0, as in
 * Linux, where pid 1 inherits them from the kernel's first task. There is
 * no job control: a group only names who kill(-pgid) reaches. */

/* pid 0 means the caller: does the process exist? */
static bool task_or_current(pid_t pid)
{
	return pid == 0 || task_exists(pid);
}

/* The process group (or session, if sid) of pid (0: the caller), or
 * -ESRCH. Groups and sessions change under tasklist_lock. */
static long pgid_of(pid_t pid, bool sid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = pid == 0 ? current : task_find_locked(pid);
	long ret = t ? (sid ? t->signal->sid : t->signal->pgid) : -ESRCH;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

/* Does a process group pgid exist in session sid? */
static bool group_in_session_locked(pid_t pgid, pid_t sid)
{
	struct list_head *pos;

	assert_spin_locked(&tasklist_lock);
	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (t->signal->pgid == pgid && t->signal->sid == sid)
			return true;
	}
	return false;
}

SYSCALL_DEFINE(SYS_getpgrp, getpgrp) { return READ_ONCE(current->signal->pgid); }

SYSCALL_DEFINE(SYS_getpgid, getpgid)
{
	return pgid_of((pid_t)ARG(0), false);
}

SYSCALL_DEFINE(SYS_getsid, getsid)
{
	return pgid_of((pid_t)ARG(0), true);
}

/* Linux's setpgid(): the caller or a child of it that has not exec'd,
 * in the caller's session, not a session leader, into its own new group
 * or an existing group of the same session. */
static long setpgid_locked(struct task *t, pid_t pgid)
{
	struct task *me = current->group_leader;

	assert_spin_locked(&tasklist_lock);
	if (!t)
		return -ESRCH;
	if (t != t->group_leader)
		return -EINVAL; /* a thread's pid names no process */
	if (t->parent == me) {
		if (t->signal->sid != me->signal->sid)
			return -EPERM;
		if (t->did_exec)
			return -EACCES;
	} else if (t != me) {
		return -ESRCH;
	}
	if (t->pid && t->signal->sid == t->pid)
		return -EPERM; /* a session leader stays in its group */
	if (!pgid)
		pgid = t->pid;
	if (pgid != t->pid && !group_in_session_locked(pgid, me->signal->sid))
		return -EPERM;
	t->signal->pgid = pgid;
	return 0;
}

SYSCALL_DEFINE(SYS_setpgid, setpgid)
{
	pid_t pid = (pid_t)ARG(0), pgid = (pid_t)ARG(1);
	uint64_t flags;
	long ret;

	if (pgid < 0)
		return -EINVAL;
	flags = spin_lock_irqsave(&tasklist_lock);
	ret = setpgid_locked(pid == 0 ? current->group_leader : task_find_locked(pid), pgid);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

/* A new session and group led by the caller, unless a group with its id
 * exists already (it leads one): -EPERM. */
SYSCALL_DEFINE(SYS_setsid, setsid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct list_head *pos;
	long ret = current->tgid;

	if (current->signal->pgid == current->tgid)
		ret = -EPERM;
	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (t->signal->pgid == current->tgid)
			ret = -EPERM;
	}
	if (ret > 0)
		current->signal->pgid = current->signal->sid = current->tgid;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

/* ---- Time ---- */

/* CMOS real-time clock (Motorola MC146818 registers, as every PC chipset
 * keeps them; Intel's ICH/PCH datasheets, "RTC Indexed Registers"). */
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0a
#define RTC_STATUS_B 0x0b
#define RTC_CENTURY 0x32 /* the ACPI FADT's default century register */
#define RTC_UIP 0x80     /* status A: an update is in progress */
#define RTC_BINARY 0x04  /* status B: values in binary, not BCD */
#define RTC_24H 0x02     /* status B: 24-hour mode */
#define RTC_PM 0x80      /* hours, 12-hour mode: afternoon */

struct rtc_time {
	unsigned int sec, min, hour, day, mon, year, century;
};

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static void rtc_read_raw(struct rtc_time *t)
{
	for (int spin = 0; spin < 1000000 && (cmos_read(RTC_STATUS_A) & RTC_UIP); spin++)
		pause();
	t->sec = cmos_read(RTC_SECONDS);
	t->min = cmos_read(RTC_MINUTES);
	t->hour = cmos_read(RTC_HOURS);
	t->day = cmos_read(RTC_DAY);
	t->mon = cmos_read(RTC_MONTH);
	t->year = cmos_read(RTC_YEAR);
	t->century = cmos_read(RTC_CENTURY);
}

static unsigned int bcd(unsigned int v) { return (v & 0x0f) + (v >> 4) * 10; }

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The RTC as seconds since the epoch (it keeps UTC, as Linux assumes on
 * x86 unless told otherwise), or 0 if it reads as nonsense. The registers
 * are read until two reads agree, so no update tears them. */
/* The CMOS index/data port pair. */
DEFINE_STATIC_SPINLOCK(rtc_lock);

static int64_t rtc_read_seconds(void)
{
	struct rtc_time a, b;
	uint64_t flags = spin_lock_irqsave(&rtc_lock);
	uint8_t status_b;
	int tries = 0;
	bool pm;

	rtc_read_raw(&b);
	do {
		a = b;
		rtc_read_raw(&b);
	} while (memcmp(&a, &b, sizeof(a)) && ++tries < 10);
	status_b = cmos_read(RTC_STATUS_B);
	spin_unlock_irqrestore(&rtc_lock, flags);
	pm = a.hour & RTC_PM;
	a.hour &= ~RTC_PM;
	if (!(status_b & RTC_BINARY)) {
		a.sec = bcd(a.sec), a.min = bcd(a.min), a.hour = bcd(a.hour);
		a.day = bcd(a.day), a.mon = bcd(a.mon), a.year = bcd(a.year), a.century = bcd(a.century);
	}
	if (!(status_b & RTC_24H))
		a.hour = a.hour % 12 + (pm ? 12 : 0);
	a.year += (a.century >= 19 && a.century <= 99) ? a.century * 100 : 2000;
	if (a.sec > 59 || a.min > 59 || a.hour > 23 || !a.day || a.day > 31 || !a.mon || a.mon > 12)
		return 0;
	return days_from_civil(a.year, a.mon, a.day) * 86400 + a.hour * 3600 + a.min * 60 + a.sec;
}

/* Nanoseconds since the kernel started (kmain's first TSC reading), as
 * Linux's CLOCK_MONOTONIC counts from its early boot rather than from
 * power-on: firmware and boot loader time is not included. From the timer
 * tick before the TSC is calibrated. */
uint64_t clock_monotonic_ns(void)
{
	extern uint64_t kmain_tsc;
	uint64_t hz = tsc_hz(), tsc;

	if (!hz)
		return timer_ticks() * (NSEC_PER_SEC / TIMER_HZ);
	tsc = rdtsc() - kmain_tsc;
	/* Split so that the product stays below 2^64 for any TSC rate under
	 * 18 GHz: (tsc % hz) * 10^9 < hz * 10^9. */
	return tsc / hz * NSEC_PER_SEC + tsc % hz * NSEC_PER_SEC / hz;
}

/* The wall-clock time at monotonic 0, in ns: read from the RTC once. */
uint64_t clock_realtime_ns(void)
{
	static bool have_offset;
	static int64_t boot_ns;

	if (!have_offset) {
		int64_t rtc = rtc_read_seconds();
		boot_ns = rtc * (int64_t)NSEC_PER_SEC - (int64_t)clock_monotonic_ns();
		have_offset = true;
	}
	return (uint64_t)(boot_ns + (int64_t)clock_monotonic_ns());
}

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#define CLOCK_TAI 11
/* A negative id is a CPU-time clock of a process or thread (Linux's
 * include/linux/posix-timers.h): ~pid << 3 | perthread << 2 | type, with
 * type PROF 0, VIRT 1 or SCHED 2; type 3 marks a clock behind an fd. */
#define CPUCLOCK_TYPE_MASK 3
#define CPUCLOCK_FD 3

/* CPU-time clocks, per-process or per-thread, of the caller (pid 0) or of
 * another task: -EINVAL for fd clocks and unknown pids, as Linux. */
static int clock_read_cpu_ns(int32_t id, uint64_t *ns)
{
	pid_t pid = ~(id >> 3);

	if ((id & CPUCLOCK_TYPE_MASK) == CPUCLOCK_FD || (pid && !task_exists(pid)))
		return -EINVAL;
	*ns = clock_monotonic_ns();
	return 0;
}

/* The time of clock id in ns, or -EINVAL. There is no suspend, so
 * BOOTTIME is MONOTONIC; no per-task CPU accounting yet, so the CPU-time
 * clocks run with the monotonic clock (an upper bound of the truth); TAI
 * is REALTIME, as on Linux until someone sets the TAI offset. The alarm
 * clocks read like their base clocks, as on Linux with an RTC present. */
static int clock_read_ns(int32_t id, uint64_t *ns)
{
	if (id < 0)
		return clock_read_cpu_ns(id, ns);
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_TAI:
		*ns = clock_realtime_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_BOOTTIME_ALARM:
		*ns = clock_monotonic_ns();
		return 0;
	default:
		return -EINVAL;
	}
}

struct kernel_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

struct kernel_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};

SYSCALL_DEFINE(SYS_clock_gettime, clock_gettime)
{
	struct kernel_timespec ts;
	uint64_t ns;
	int err = clock_read_ns((int32_t)ARG(0), &ns);

	if (err)
		return err;
	ts.tv_sec = ns / NSEC_PER_SEC;
	ts.tv_nsec = ns % NSEC_PER_SEC;
	return copy_to_user((void *)ARG(1), &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

/* 1 ns for the TSC clocks, one tick for the coarse ones; res may be NULL. */
SYSCALL_DEFINE(SYS_clock_getres, clock_getres)
{
	int32_t id = (int32_t)ARG(0);
	struct kernel_timespec res = { 0, 1 };
	uint64_t ns;
	int err = clock_read_ns(id, &ns);

	if (err)
		return err;
	if (id == CLOCK_REALTIME_COARSE || id == CLOCK_MONOTONIC_COARSE)
		res.tv_nsec = NSEC_PER_SEC / TIMER_HZ;
	if (ARG(1) && copy_to_user((void *)ARG(1), &res, sizeof(res)) < 0)
		return -EFAULT;
	return 0;
}

/* tv and tz may each be NULL; the time zone is always UTC. */
SYSCALL_DEFINE(SYS_gettimeofday, gettimeofday)
{
	uint64_t ns = clock_realtime_ns();
	struct kernel_timeval tv = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC / NSEC_PER_USEC };
	int32_t tz[2] = { 0, 0 }; /* struct timezone: minuteswest, dsttime */

	if (ARG(0) && copy_to_user((void *)ARG(0), &tv, sizeof(tv)) < 0)
		return -EFAULT;
	if (ARG(1) && copy_to_user((void *)ARG(1), tz, sizeof(tz)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(SYS_time, time)
{
	int64_t sec = clock_realtime_ns() / NSEC_PER_SEC;

	if (ARG(0) && copy_to_user((void *)ARG(0), &sec, sizeof(sec)) < 0)
		return -EFAULT;
	return sec;
}

/* ---- Random bytes ---- */

#define GRND_NONBLOCK 0x0001
#define GRND_RANDOM 0x0002
#define GRND_INSECURE 0x0004
/* Linux caps one read at MAX_RW_COUNT (INT_MAX rounded down to a page). */
#define GETRANDOM_MAX (0x7fffffffUL & PAGE_MASK)
/* CPUID.1:ECX bit 30: RDRAND (Intel SDM Vol. 2A, CPUID, Table 3-10). */
#define CPUID1_ECX_RDRAND (1U << 30)
#define RDRAND_RETRIES 10 /* Intel's DRNG guide: retry up to 10 times */

static bool rdrand64(uint64_t *v)
{
	uint8_t ok;

	__asm__ __volatile__("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

/* xorshift64* (Vigna), seeded from the TSC: for CPUs without RDRAND. Not
 * cryptographic, and it does not pretend to be. */
static uint64_t xorshift_next(void)
{
	static uint64_t state;
	uint64_t x;

	if (!state)
		state = (rdtsc() ^ 0x9e3779b97f4a7c15ULL) | 1;
	x = state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint64_t random_u64(void)
{
	static int has_rdrand = -1;
	uint64_t v;

	if (has_rdrand < 0) {
		uint32_t a, b, c, d;
		cpuid(1, 0, &a, &b, &c, &d);
		has_rdrand = !!(c & CPUID1_ECX_RDRAND);
	}
	for (int i = 0; has_rdrand && i < RDRAND_RETRIES; i++)
		if (rdrand64(&v))
			return v;
	return xorshift_next();
}

/* getrandom(buf, count, flags): never blocks (the generator is ready from
 * boot). Returns the bytes written: a fault after some bytes returns how
 * many, a fault at the first byte -EFAULT. */
SYSCALL_DEFINE(SYS_getrandom, getrandom)
{
	uint8_t *ubuf = (uint8_t *)ARG(0);
	size_t count = MIN(ARG(1), GETRANDOM_MAX), done = 0;
	unsigned int flags = (unsigned int)ARG(2);
	uint64_t chunk[32];

	if (ARG(2) & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if ((flags & (GRND_INSECURE | GRND_RANDOM)) == (GRND_INSECURE | GRND_RANDOM))
		return -EINVAL;
	while (done < count) {
		size_t n = MIN(count - done, sizeof(chunk));

		for (size_t i = 0; i < (n + 7) / 8; i++)
			chunk[i] = random_u64();
		if (copy_to_user(ubuf + done, chunk, n) < 0) {
			/* Count what fits before the fault, byte by byte, as
			 * Linux's copy_to_iter() reports a short copy. */
			for (size_t i = 0; i < n && !copy_to_user(ubuf + done, (uint8_t *)chunk + i, 1); i++)
				done++;
			break;
		}
		done += n;
	}
	if (!done && count)
		return -EFAULT;
	memset(chunk, 0, sizeof(chunk));
	return done;
}

/* ---- Resource limits ---- */

#define RLIMIT_STACK 3
#define RLIMIT_CORE 4
#define RLIMIT_NOFILE 7
#define RLIMIT_MEMLOCK 8
#define RLIMIT_MSGQUEUE 12
#define RLIMIT_NICE 13
#define RLIMIT_RTPRIO 14
#define RLIM_NLIMITS 16
#define RLIM_INFINITY (~0ULL)

struct rlimit64 {
	uint64_t rlim_cur;
	uint64_t rlim_max;
};

/* Linux's boot-time limits (include/asm-generic/resource.h INIT_RLIMITS),
 * except the descriptors, which are what a task has room for. */
static struct rlimit64 rlimit_default(unsigned int resource)
{
	switch (resource) {
	case RLIMIT_STACK: return (struct rlimit64){ STACK_LIMIT_DEFAULT, RLIM_INFINITY };
	case RLIMIT_CORE: return (struct rlimit64){ 0, RLIM_INFINITY };
	case RLIMIT_NOFILE: return (struct rlimit64){ TASK_MAX_FDS, TASK_MAX_FDS };
	case RLIMIT_MEMLOCK: return (struct rlimit64){ 8ULL << 20, 8ULL << 20 };
	case RLIMIT_MSGQUEUE: return (struct rlimit64){ 819200, 819200 };
	case RLIMIT_NICE:
	case RLIMIT_RTPRIO: return (struct rlimit64){ 0, 0 };
	default: return (struct rlimit64){ RLIM_INFINITY, RLIM_INFINITY };
	}
}

/* prlimit64(pid, resource, new, old). A valid new limit is accepted but
 * not kept: every process keeps the defaults. */
SYSCALL_DEFINE(SYS_prlimit64, prlimit64)
{
	unsigned int resource = (unsigned int)ARG(1);
	struct rlimit64 new, old;

	if (ARG(2) && copy_from_user(&new, (const void *)ARG(2), sizeof(new)) < 0)
		return -EFAULT;
	if (!task_or_current((pid_t)ARG(0)))
		return -ESRCH;
	if (resource >= RLIM_NLIMITS)
		return -EINVAL;
	if (ARG(2) && new.rlim_cur > new.rlim_max)
		return -EINVAL;
	if (ARG(2) && resource == RLIMIT_NOFILE && new.rlim_max > TASK_MAX_FDS)
		return -EPERM; /* Linux: above fs.nr_open */
	old = rlimit_default(resource);
	if (ARG(3) && copy_to_user((void *)ARG(3), &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

/* ---- What glibc's start-up asks ---- */

/* Restartable sequences: -ENOSYS tells glibc to do without. */
SYSCALL_DEFINE(SYS_rseq, rseq) { return -ENOSYS; }

/* Linux's struct sysinfo on x86-64 (112 bytes). Sizes are in mem_unit
 * units; Linux makes that 1 (bytes) whenever the byte counts fit, which on
 * a 64-bit kernel is always. */
struct sysinfo {
	int64_t uptime;
	uint64_t loads[3]; /* 1, 5, 15 minutes, fixed point << 16 */
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs;
	uint16_t pad;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
};
BUILD_BUG_ON(sizeof(struct sysinfo) != 112);

SYSCALL_DEFINE(SYS_sysinfo, sysinfo)
{
	struct sysinfo si;
	struct list_head *pos;
	uint64_t flags;

	memset(&si, 0, sizeof(si));
	si.uptime = clock_monotonic_ns() / NSEC_PER_SEC;
	si.totalram = pmm_total_pages() * PAGE_SIZE;
	si.freeram = pmm_free_pages() * PAGE_SIZE;
	flags = spin_lock_irqsave(&tasklist_lock);
	list_for_each(pos, &task_list)
		si.procs++;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	si.mem_unit = 1;
	return copy_to_user((void *)ARG(0), &si, sizeof(si)) < 0 ? -EFAULT : 0;
}

/* ---- File systems and power ---- */

SYSCALL_DEFINE(SYS_sync, sync) { return 0; }

#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_UNBINDABLE (1 << 17)
#define MS_PRIVATE (1 << 18)
#define MS_SLAVE (1 << 19)
#define MS_SHARED (1 << 20)
#define MS_MGC_MSK 0xffff0000UL
#define MS_MGC_VAL 0xc0ed0000UL /* the old "magic" in the top half */
#define MS_NOT_NEW (MS_REMOUNT | MS_BIND | MS_MOVE | MS_UNBINDABLE | MS_PRIVATE | \
		    MS_SLAVE | MS_SHARED)
#define MOUNT_STR_MAX 128

/* Copy an optional user string: 0 (empty if uptr is NULL), -EFAULT or
 * -ENAMETOOLONG. */
static int mount_string(char *dst, const void *uptr)
{
	long n;

	dst[0] = '\0';
	if (!uptr)
		return 0;
	n = strncpy_from_user(dst, uptr, MOUNT_STR_MAX);
	if (n < 0)
		return -EFAULT;
	return n == MOUNT_STR_MAX ? -ENAMETOOLONG : 0;
}

static bool is_dir_at(const char *path, struct inode *inode)
{
	struct inode *home;

	return vfs_lookup("/", path, false, &home) == 0 && home == inode;
}

/* A new mount of fstype on the directory dir. The kernel's own file
 * systems are there from boot and can only be "mounted" where they are;
 * tmpfs and ramfs are what every directory already is. */
static int mount_new(const char *source, const char *fstype, struct inode *dir)
{
	char path[MOUNT_STR_MAX];
	int err;

	if (!fstype[0])
		return -ENODEV;
	if (!strcmp(fstype, "proc"))
		return is_dir_at("/proc", dir) ? 0 : -EINVAL;
	if (!strcmp(fstype, "sysfs"))
		return is_dir_at("/sys", dir) ? 0 : -EINVAL;
	if (!strcmp(fstype, "devtmpfs"))
		return is_dir_at("/dev", dir) ? 0 : -EINVAL;
	if (strcmp(fstype, "tmpfs") && strcmp(fstype, "ramfs"))
		return -ENODEV;
	if (!strcmp(fstype, "tmpfs"))
		ramfs_set_shmem_dir(dir); /* its new files count as Shmem */
	err = vfs_inode_path(dir, path, sizeof(path));
	if (err < 0)
		return err;
	return procfs_mount_add(source[0] ? source : "none", path, fstype, "rw,relatime");
}

/* mount(source, target, fstype, flags, data): errors in Linux's order
 * (strings, then the target, then the type). Remounts, binds, moves and
 * propagation changes succeed without doing anything. */
SYSCALL_DEFINE(SYS_mount, mount)
{
	char source[MOUNT_STR_MAX], target[MOUNT_STR_MAX], fstype[MOUNT_STR_MAX];
	char cwd[CWD_MAX];
	unsigned long flags = ARG(3);
	struct inode *dir;
	int err;

	if ((err = mount_string(fstype, (const void *)ARG(2))) ||
	    (err = mount_string(source, (const void *)ARG(0))))
		return err;
	if (!ARG(1))
		return -EFAULT;
	if ((err = mount_string(target, (const void *)ARG(1))))
		return err;
	if ((flags & MS_MGC_MSK) == MS_MGC_VAL)
		flags &= ~MS_MGC_MSK;
	err = vfs_lookup(fs_cwd(current, cwd), target, false, &dir);
	if (err)
		return err;
	if (flags & MS_NOT_NEW)
		return 0;
	if (!ARG(2))
		return -EINVAL;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	return mount_new(source, fstype, dir);
}

/* reboot(2) (Linux's kernel/reboot.c): both magic numbers must match. */
#define LINUX_REBOOT_MAGIC1 0xfee1deadU
#define LINUX_REBOOT_MAGIC2 672274793U  /* 0x28121969 */
#define LINUX_REBOOT_MAGIC2A 85072278U  /* 0x05121996 */
#define LINUX_REBOOT_MAGIC2B 369367448U /* 0x16041998 */
#define LINUX_REBOOT_MAGIC2C 537993216U /* 0x20112000 */
#define LINUX_REBOOT_CMD_RESTART 0x01234567U
#define LINUX_REBOOT_CMD_HALT 0xcdef0123U
#define LINUX_REBOOT_CMD_CAD_ON 0x89abcdefU
#define LINUX_REBOOT_CMD_CAD_OFF 0x00000000U
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedcU
#define LINUX_REBOOT_CMD_RESTART2 0xa1b2c3d4U
/* The chipset's Reset Control Register (Intel ICH9 datasheet, 13.7.5 "RST_CNT"):
 * SYS_RST selects a full reset, RST_CPU starts it. */
#define RST_CNT_PORT 0xcf9
#define RST_CNT_SYS_RST 0x02
#define RST_CNT_RST_CPU 0x04

static __noreturn void machine_restart(void)
{
	/* Under make test, QEMU runs with -no-reboot and a reset would end
	 * it with no verdict: exit through isa-debug-exit instead. */
	if (!debug_exit_present()) {
		pr_notice("reboot: Restarting system\n");
		outb(RST_CNT_PORT, RST_CNT_SYS_RST);
		outb(RST_CNT_PORT, RST_CNT_SYS_RST | RST_CNT_RST_CPU);
		for (int i = 0; i < 1000000; i++)
			pause();
		pr_err("reboot: reset through port 0xcf9 failed; powering off\n");
	}
	poweroff(0);
}

SYSCALL_DEFINE(SYS_reboot, reboot)
{
	uint32_t magic1 = (uint32_t)ARG(0), magic2 = (uint32_t)ARG(1), cmd = (uint32_t)ARG(2);

	if (magic1 != LINUX_REBOOT_MAGIC1 ||
	    (magic2 != LINUX_REBOOT_MAGIC2 && magic2 != LINUX_REBOOT_MAGIC2A &&
	     magic2 != LINUX_REBOOT_MAGIC2B && magic2 != LINUX_REBOOT_MAGIC2C))
		return -EINVAL;
	switch (cmd) {
	case LINUX_REBOOT_CMD_CAD_ON:
	case LINUX_REBOOT_CMD_CAD_OFF:
		return 0;
	case LINUX_REBOOT_CMD_RESTART:
	case LINUX_REBOOT_CMD_RESTART2:
		machine_restart();
	case LINUX_REBOOT_CMD_HALT:
	case LINUX_REBOOT_CMD_POWER_OFF:
		pr_notice("reboot: Power down\n");
		poweroff(0);
	default:
		return -EINVAL;
	}
}
