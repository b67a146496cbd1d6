/* Tests of the small system calls (kernel/sys_misc.c).
 *
 * Handlers are called as the dispatcher calls them: found by number in
 * the .syscalls section and given a struct syscall_args. Arguments that
 * are user pointers point into a fresh address space made active with
 * mm_switch(), so the handlers' copies go through the real uaccess path;
 * results are read back with copy_from_user(). */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>

extern const struct syscall_entry *const __syscalls_start[], *const __syscalls_end[];

#define UBASE 0x0000100000000000UL /* 16 TiB: the user buffer of a case */
#define UBUF_SIZE (4 * PAGE_SIZE)
#define U(off) ((uint64_t)(UBASE + (off)))

#define SYS_gettimeofday_nr 96
#define SYS_sysinfo_nr 99
#define SYS_getpgid_nr 121
#define SYS_sched_getaffinity_nr 204
#define SYS_clock_getres_nr 229

/* Call system call nr with up to six arguments, as syscall_dispatch()
 * would; -ENOSYS when nobody defined it. */
static long call_array(unsigned int nr, const uint64_t a[6])
{
	for (const struct syscall_entry *const *e = __syscalls_start; e < __syscalls_end; e++) {
		if ((*e)->nr == nr) {
			struct syscall_args args = { { a[0], a[1], a[2], a[3], a[4], a[5] }, NULL };
			return (*e)->fn(&args);
		}
	}
	return -ENOSYS;
}
#define SYSCALL(nr, ...) call_array(nr, (const uint64_t[6]){ __VA_ARGS__ })

/* Run body with a user buffer [UBASE, UBASE + UBUF_SIZE) in an active mm. */
static void run_in_mm(struct ktest *t, void (*body)(struct ktest *))
{
	struct mm_struct *mm = mm_create();

	if (!mm) {
		ktest_fail(t, __FILE__, __LINE__, "mm_create() returned NULL");
		return;
	}
	mm_switch(mm);
	if (do_mmap(mm, UBASE, UBUF_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) == (long)UBASE)
		body(t);
	else
		ktest_fail(t, __FILE__, __LINE__, "cannot map the user buffer");
	mm_switch(NULL);
	mm_destroy(mm);
}

#define MM_CASE(name)                                                          \
	static void name##_body(struct ktest *t);                              \
	static void name(struct ktest *t) { run_in_mm(t, name##_body); }       \
	static void name##_body(struct ktest *t)

static void sysmisc_ids_are_root(struct ktest *t)
{
	KEXPECT_EQ(t, SYSCALL(SYS_getuid), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_geteuid), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_getgid), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_getegid), 0);
}

/* The caller (the boot context, pid 0) in its group 0, as Linux's init
 * starts: setpgid() moves it, getpgid() and getsid() report it, setsid()
 * refuses a group leader. */
static void sysmisc_process_groups_follow_setpgid(struct ktest *t)
{
	pid_t pgid = current->signal->pgid, sid = current->signal->sid;

	KEXPECT_EQ(t, SYSCALL(SYS_getpgrp), current->signal->pgid);
	KEXPECT_EQ(t, SYSCALL(SYS_getpgid_nr, 0), current->signal->pgid);
	KEXPECT_EQ(t, SYSCALL(SYS_getpgid_nr, 999999), -ESRCH);
	KEXPECT_EQ(t, SYSCALL(SYS_setpgid, 0, (uint64_t)-1), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_setpgid, 999999, 0), -ESRCH);
	KEXPECT_EQ(t, SYSCALL(SYS_setpgid, 0, 424242), -EPERM); /* no such group */
	current->signal->pgid = 7;
	KEXPECT_EQ(t, SYSCALL(SYS_setpgid, 0, 0), 0); /* its own: pid 0 */
	KEXPECT_EQ(t, current->signal->pgid, current->pid);
	KEXPECT_EQ(t, SYSCALL(124 /* getsid */, 0), sid);
	KEXPECT_EQ(t, SYSCALL(SYS_setsid), -EPERM); /* leads group pid already */
	current->signal->pgid = pgid;
}

static void sysmisc_reboot_bad_magic_returns_einval(struct ktest *t)
{
	const uint64_t magic1 = 0xfee1dead, magic2 = 672274793;

	KEXPECT_EQ(t, SYSCALL(SYS_reboot, 0xdeadbeef, magic2, 0x4321fedc), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_reboot, magic1, 12345, 0x4321fedc), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_reboot, magic1, magic2, 0x12345678), -EINVAL);
	/* Ctrl-Alt-Del on and off: accepted, nothing happens. */
	KEXPECT_EQ(t, SYSCALL(SYS_reboot, magic1, magic2, 0x89abcdef), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_reboot, magic1, 0x20112000, 0), 0);
}

static void sysmisc_clock_gettime_bad_clock_returns_einval(struct ktest *t)
{
	/* 10 is Linux's unused CLOCK_SGI_CYCLE; -1 and -5 are fd clocks; the
	 * last is the process CPU clock of a pid that does not exist. */
	static const int64_t bad[] = { 10, 12, 16, 1000, -1, -5, -7999998 /* ~999999 << 3 | 2 */ };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		KEXPECT_EQ(t, SYSCALL(SYS_clock_gettime, (uint64_t)bad[i], UBASE), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_clock_getres_nr, 10, 0), -EINVAL);
}

/* Every clock Linux 6.1 answers on a machine with an RTC, and the CPU
 * clocks of the caller as clock_getcpuclockid(0) and pthread_getcpuclockid
 * name them. */
MM_CASE(sysmisc_clock_gettime_accepts_linux_clocks)
{
	static const int64_t good[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11,
					-6 /* process 0, SCHED */, -2 /* thread 0, SCHED */ };
	int64_t ts[2], res[2];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		KEXPECT_EQ(t, SYSCALL(SYS_clock_gettime, (uint64_t)good[i], U(0)), 0);
		KEXPECT_EQ(t, copy_from_user(ts, (void *)U(0), sizeof(ts)), 0);
		KEXPECT_TRUE(t, ts[0] >= 0 && ts[1] >= 0 && ts[1] < 1000000000);
	}
	KEXPECT_EQ(t, SYSCALL(SYS_clock_getres_nr, 1, U(16)), 0);
	KEXPECT_EQ(t, copy_from_user(res, (void *)U(16), sizeof(res)), 0);
	KEXPECT_TRUE(t, res[0] == 0 && res[1] == 1);
	KEXPECT_EQ(t, SYSCALL(SYS_clock_getres_nr, 6, U(16)), 0);
	KEXPECT_EQ(t, copy_from_user(res, (void *)U(16), sizeof(res)), 0);
	KEXPECT_TRUE(t, res[0] == 0 && res[1] == 1000000000 / TIMER_HZ);
	KEXPECT_EQ(t, SYSCALL(SYS_clock_getres_nr, 0, 0), 0);
}

MM_CASE(sysmisc_clock_gettime_monotonic_advances)
{
	int64_t a[2], b[2];

	KASSERT_EQ(t, SYSCALL(SYS_clock_gettime, 1, U(0)), 0);
	for (volatile int i = 0; i < 100000; i++)
		;
	KASSERT_EQ(t, SYSCALL(SYS_clock_gettime, 1, U(16)), 0);
	KASSERT_EQ(t, copy_from_user(a, (void *)U(0), sizeof(a)), 0);
	KASSERT_EQ(t, copy_from_user(b, (void *)U(16), sizeof(b)), 0);
	KEXPECT_TRUE(t, a[1] >= 0 && a[1] < 1000000000 && b[1] >= 0 && b[1] < 1000000000);
	KEXPECT_TRUE(t, b[0] > a[0] || (b[0] == a[0] && b[1] > a[1]));
	KEXPECT_GT(t, a[0] * 1000000000 + a[1], 0);
}

/* QEMU's RTC follows the host clock: after 2020-01-01, before 2200. */
MM_CASE(sysmisc_clock_realtime_reads_the_rtc)
{
	int64_t ts[2], tv[2], sec;
	long now;

	KASSERT_EQ(t, SYSCALL(SYS_clock_gettime, 0, U(0)), 0);
	KASSERT_EQ(t, copy_from_user(ts, (void *)U(0), sizeof(ts)), 0);
	KEXPECT_GT(t, ts[0], 1577836800);
	KEXPECT_LT(t, ts[0], 7258118400);
	now = SYSCALL(SYS_time, U(64));
	KASSERT_EQ(t, copy_from_user(&sec, (void *)U(64), sizeof(sec)), 0);
	KEXPECT_EQ(t, sec, now);
	KEXPECT_TRUE(t, now >= ts[0] && now <= ts[0] + 2);
	KEXPECT_EQ(t, SYSCALL(SYS_gettimeofday_nr, U(32), 0), 0);
	KASSERT_EQ(t, copy_from_user(tv, (void *)U(32), sizeof(tv)), 0);
	KEXPECT_TRUE(t, tv[0] >= ts[0] && tv[0] <= ts[0] + 2 && tv[1] >= 0 && tv[1] < 1000000);
	KEXPECT_EQ(t, SYSCALL(SYS_time, 0), SYSCALL(SYS_time, 0));
}

MM_CASE(sysmisc_clock_gettime_bad_pointer_returns_efault)
{
	KEXPECT_EQ(t, SYSCALL(SYS_clock_gettime, 1, 0), -EFAULT);
	KEXPECT_EQ(t, SYSCALL(SYS_clock_gettime, 0, UBASE + UBUF_SIZE - 8), -EFAULT);
	KEXPECT_EQ(t, SYSCALL(SYS_clock_gettime, 1, 0xffff800000000000UL), -EFAULT);
	KEXPECT_EQ(t, SYSCALL(SYS_uname, 0), -EFAULT);
	KEXPECT_EQ(t, SYSCALL(SYS_gettimeofday_nr, 0, 0), 0);
}

MM_CASE(sysmisc_uname_fills_six_fields)
{
	char u[6][65];

	KASSERT_EQ(t, SYSCALL(SYS_uname, U(0)), 0);
	KASSERT_EQ(t, copy_from_user(u, (void *)U(0), sizeof(u)), 0);
	KEXPECT_STREQ(t, u[0], "Pagoda");
	KEXPECT_STREQ(t, u[1], "pagoda");
	KEXPECT_EQ(t, strncmp(u[2], "6.1.0", 5), 0);
	KEXPECT_STREQ(t, u[3], "#1");
	KEXPECT_STREQ(t, u[4], "x86_64");
	KEXPECT_STREQ(t, u[5], "(none)");
	KEXPECT_EQ(t, u[0][64], 0);
}

MM_CASE(sysmisc_getrandom_fills_the_buffer)
{
	uint8_t *a = kmalloc(1000, GFP_KERNEL), *b = kmalloc(1000, GFP_KERNEL);
	unsigned int zeros = 0;

	if (!a || !b) {
		ktest_fail(t, __FILE__, __LINE__, "out of memory");
		goto out;
	}
	KEXPECT_EQ(t, SYSCALL(SYS_getrandom, U(0), 1000, 0), 1000);
	KEXPECT_EQ(t, SYSCALL(SYS_getrandom, U(1000), 1000, 1 /* GRND_NONBLOCK */), 1000);
	KEXPECT_EQ(t, SYSCALL(SYS_getrandom, U(2000), 3, 2 /* GRND_RANDOM */), 3);
	KEXPECT_EQ(t, copy_from_user(a, (void *)U(0), 1000), 0);
	KEXPECT_EQ(t, copy_from_user(b, (void *)U(1000), 1000), 0);
	KEXPECT_NE(t, memcmp(a, b, 1000), 0);
	for (int i = 0; i < 1000; i++)
		zeros += !a[i];
	KEXPECT_LT(t, zeros, 20); /* about 4 expected */
	KEXPECT_EQ(t, SYSCALL(SYS_getrandom, U(0), 0, 0), 0);
out:
	kfree(a);
	kfree(b);
}

MM_CASE(sysmisc_getrandom_rejects_unknown_flags)
{
	KEXPECT_EQ(t, SYSCALL(SYS_getrandom, U(0), 16, 0x8), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_getrandom, U(0), 16, 0x6 /* RANDOM | INSECURE */), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_getrandom, U(0), 16, 0x4 /* INSECURE */), 16);
	KEXPECT_EQ(t, SYSCALL(SYS_getrandom, 0, 16, 0), -EFAULT);
	/* Bytes up to the end of the mapping are delivered and counted. */
	KEXPECT_EQ(t, SYSCALL(SYS_getrandom, U(UBUF_SIZE - 10), 100, 0), 10);
}

MM_CASE(sysmisc_prlimit_reports_linux_defaults)
{
	uint64_t lim[2], new[2] = { 100, 50 };

	KASSERT_EQ(t, SYSCALL(SYS_prlimit64, 0, 3 /* STACK */, 0, U(0)), 0);
	KASSERT_EQ(t, copy_from_user(lim, (void *)U(0), sizeof(lim)), 0);
	KEXPECT_EQ(t, lim[0], 8ULL << 20);
	KEXPECT_EQ(t, lim[1], ~0ULL);
	KASSERT_EQ(t, SYSCALL(SYS_prlimit64, 0, 7 /* NOFILE */, 0, U(0)), 0);
	KASSERT_EQ(t, copy_from_user(lim, (void *)U(0), sizeof(lim)), 0);
	KEXPECT_EQ(t, lim[0], TASK_MAX_FDS);
	KEXPECT_EQ(t, lim[1], TASK_MAX_FDS);
	KASSERT_EQ(t, SYSCALL(SYS_prlimit64, 0, 0 /* CPU */, 0, U(0)), 0);
	KASSERT_EQ(t, copy_from_user(lim, (void *)U(0), sizeof(lim)), 0);
	KEXPECT_EQ(t, lim[0], ~0ULL);
	KEXPECT_EQ(t, SYSCALL(SYS_prlimit64, 0, 16, 0, U(0)), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_prlimit64, 999999, 3, 0, U(0)), -ESRCH);
	KASSERT_EQ(t, copy_to_user((void *)U(32), new, sizeof(new)), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_prlimit64, 0, 3, U(32), 0), -EINVAL); /* cur > max */
	new[0] = 50, new[1] = 100;
	KASSERT_EQ(t, copy_to_user((void *)U(32), new, sizeof(new)), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_prlimit64, 0, 3, U(32), 0), 0);
	new[0] = new[1] = 100000;
	KASSERT_EQ(t, copy_to_user((void *)U(32), new, sizeof(new)), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_prlimit64, 0, 7, U(32), 0), -EPERM);
	KEXPECT_EQ(t, SYSCALL(SYS_prlimit64, 0, 3, 8, 0), -EFAULT);
}

static void sysmisc_glibc_startup_calls(struct ktest *t)
{
	KEXPECT_EQ(t, SYSCALL(SYS_set_robust_list, 0x1000, 24), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_set_robust_list, 0x1000, 16), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_set_robust_list, 0, 24), 0); /* the idle task keeps none */
	KEXPECT_EQ(t, SYSCALL(SYS_rseq, 0x1000, 32, 0, 0x53053053), -ENOSYS);
	KEXPECT_EQ(t, SYSCALL(SYS_sync), 0);
}

/* The caller's allowed CPUs that are online, in one unsigned long. */
MM_CASE(sysmisc_sched_getaffinity_reports_allowed_online_cpus)
{
	uint64_t mask = 0;

	KEXPECT_EQ(t, SYSCALL(SYS_sched_getaffinity_nr, 0, 128, U(0)), 8);
	KASSERT_EQ(t, copy_from_user(&mask, (void *)U(0), sizeof(mask)), 0);
	KEXPECT_EQ(t, mask, current->cpus_allowed & cpu_online_mask);
	KEXPECT_TRUE(t, mask != 0);
	KEXPECT_EQ(t, SYSCALL(SYS_sched_getaffinity_nr, 0, 4, U(0)), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_sched_getaffinity_nr, 0, 0, U(0)), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_sched_getaffinity_nr, 999999, 8, U(0)), -ESRCH);
}

MM_CASE(sysmisc_sysinfo_reports_memory)
{
	struct {
		int64_t uptime;
		uint64_t loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap;
		uint16_t procs, pad;
		uint64_t totalhigh, freehigh;
		uint32_t mem_unit;
	} si;

	KASSERT_EQ(t, SYSCALL(SYS_sysinfo_nr, U(0)), 0);
	KASSERT_EQ(t, copy_from_user(&si, (void *)U(0), sizeof(si)), 0);
	KEXPECT_EQ(t, sizeof(si), 112);
	KEXPECT_EQ(t, si.totalram, pmm_total_pages() * PAGE_SIZE);
	KEXPECT_GT(t, si.freeram, 0);
	KEXPECT_LE(t, si.freeram, si.totalram);
	KEXPECT_EQ(t, si.mem_unit, 1); /* bytes, as Linux reports on 64-bit */
	KEXPECT_EQ(t, si.totalswap, 0);
}

/* Put a NUL-terminated string at user offset off; its user address. */
static uint64_t ustr(uint64_t off, const char *s)
{
	return copy_to_user((void *)U(off), s, strlen(s) + 1) ? 0 : U(off);
}

MM_CASE(sysmisc_mount_checks_target_then_type)
{
	struct inode *proc;

	if (vfs_lookup("/", "/proc", false, &proc)) {
		ktest_skip(t, "no /proc directory (vfs_init() not run)");
		return;
	}
	KEXPECT_EQ(t, SYSCALL(SYS_mount, ustr(0, "proc"), ustr(64, "/proc"), ustr(128, "proc")), 0);
	KEXPECT_EQ(t, SYSCALL(SYS_mount, ustr(0, "x"), ustr(64, "/nonexistent"), ustr(128, "tmpfs")),
		   -ENOENT);
	KEXPECT_EQ(t, SYSCALL(SYS_mount, ustr(0, "x"), ustr(64, "/proc"), ustr(128, "ext4")),
		   -ENODEV);
	KEXPECT_EQ(t, SYSCALL(SYS_mount, ustr(0, "x"), ustr(64, "/proc"), 0), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_mount, ustr(0, "x"), ustr(64, "/proc"), 8), -EFAULT);
	KEXPECT_EQ(t, SYSCALL(SYS_mount, ustr(0, "x"), 0, ustr(128, "tmpfs")), -EFAULT);
	/* proc belongs on /proc only; remounts are accepted anywhere. */
	KEXPECT_EQ(t, SYSCALL(SYS_mount, ustr(0, "proc"), ustr(64, "/"), ustr(128, "proc")), -EINVAL);
	KEXPECT_EQ(t, SYSCALL(SYS_mount, 0, ustr(64, "/"), 0, 32 /* MS_REMOUNT */), 0);
}

static const struct ktest_case sysmisc_cases[] = {
	KTEST_CASE(sysmisc_ids_are_root),
	KTEST_CASE(sysmisc_process_groups_follow_setpgid),
	KTEST_CASE(sysmisc_reboot_bad_magic_returns_einval),
	KTEST_CASE(sysmisc_clock_gettime_bad_clock_returns_einval),
	KTEST_CASE(sysmisc_clock_gettime_accepts_linux_clocks),
	KTEST_CASE(sysmisc_clock_gettime_monotonic_advances),
	KTEST_CASE(sysmisc_clock_realtime_reads_the_rtc),
	KTEST_CASE(sysmisc_clock_gettime_bad_pointer_returns_efault),
	KTEST_CASE(sysmisc_uname_fills_six_fields),
	KTEST_CASE(sysmisc_getrandom_fills_the_buffer),
	KTEST_CASE(sysmisc_getrandom_rejects_unknown_flags),
	KTEST_CASE(sysmisc_prlimit_reports_linux_defaults),
	KTEST_CASE(sysmisc_glibc_startup_calls),
	KTEST_CASE(sysmisc_sched_getaffinity_reports_allowed_online_cpus),
	KTEST_CASE(sysmisc_sysinfo_reports_memory),
	KTEST_CASE(sysmisc_mount_checks_target_then_type),
};
KTEST_SUITE(sysmisc, sysmisc_cases);
