/* System-call dispatch. The handlers register themselves with
 * SYSCALL_DEFINE() (include/pagoda/syscall.h); syscall_init() builds the
 * table from the .syscalls section; the SYSCALL instruction arrives
 * through arch/x86/syscall.asm, set up by arch/x86/syscall_setup.c. */
#include <pagoda/errno.h>
#include <pagoda/panic.h>
#include <pagoda/printk.h>
#include <pagoda/ratelimit.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <asm/syscall.h>

extern const struct syscall_entry *const __syscalls_start[], *const __syscalls_end[];

static syscall_fn table[NR_SYSCALLS];
static const char *names[NR_SYSCALLS];
static uint64_t warned[NR_SYSCALLS / 64]; /* -ENOSYS logged once per number */

void syscall_init(void)
{
	for (const struct syscall_entry *const *e = __syscalls_start; e < __syscalls_end; e++) {
		BUG_ON((*e)->nr >= NR_SYSCALLS || table[(*e)->nr]);
		table[(*e)->nr] = (*e)->fn;
		names[(*e)->nr] = (*e)->name;
	}
	syscall_cpu_init();
}

/* Numbers past the table: a fuzzer makes millions of these calls. */
static RATELIMIT_STATE(out_of_range_rs, "syscall");

/* The caller, named by its command and its program's path, since a
 * process can set its command to anything, the empty string included
 * (prctl(PR_SET_NAME)). */
static void no_such_syscall_report(uint64_t nr, const char *why)
{
	printk(KERN_NOTICE "syscall: %s[%d] (%s) called %s system call %llu\n", current->comm,
	       current->pid, current->exe[0] ? current->exe : "no program", why,
	       (unsigned long long)nr);
}

static long no_such_syscall(uint64_t nr)
{
	if (nr < NR_SYSCALLS && !(warned[nr / 64] & (1ULL << (nr % 64)))) {
		warned[nr / 64] |= 1ULL << (nr % 64);
		no_such_syscall_report(nr, "unimplemented");
	} else if (nr >= NR_SYSCALLS && ratelimit(&out_of_range_rs)) {
		no_such_syscall_report(nr, "out-of-range");
	}
	return -ENOSYS;
}

void syscall_dispatch(struct trap_frame *tf)
{
	uint64_t nr = tf->rax;
	struct syscall_args args = {
		{ tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9 }, tf };

	if (nr < NR_SYSCALLS && table[nr])
		tf->rax = table[nr](&args);
	else
		tf->rax = no_such_syscall(nr);
	return_to_user_work(tf);
}

const char *syscall_name(unsigned int nr)
{
	return nr < NR_SYSCALLS ? names[nr] : NULL;
}
