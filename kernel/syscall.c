/* System-call dispatch. The handlers register themselves with
 * SYSCALL_DEFINE() (include/pagoda/syscall.h); syscall_init() builds the
 * table from the .syscalls section; the SYSCALL instruction arrives
 * through arch/x86/syscall.asm, set up by arch/x86/syscall_setup.c. */
#include <pagoda/errno.h>
#include <pagoda/panic.h>
#include <pagoda/printk.h>
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

static long no_such_syscall(uint64_t nr)
{
	if (nr < NR_SYSCALLS && !(warned[nr / 64] & (1ULL << (nr % 64)))) {
		warned[nr / 64] |= 1ULL << (nr % 64);
		printk(KERN_NOTICE "syscall: %s (pid %d) called unimplemented system call %llu\n",
		       current->comm, current->pid, (unsigned long long)nr);
	} else if (nr >= NR_SYSCALLS) {
		printk(KERN_NOTICE "syscall: %s (pid %d) called system call %llu (out of range)\n",
		       current->comm, current->pid, (unsigned long long)nr);
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
