/* System calls: Linux's x86-64 numbers and calling convention (kernel/
 * syscall.c, arch/x86/syscall.asm).
 *
 * User space puts the number in RAX and up to six arguments in RDI, RSI,
 * RDX, R10, R8, R9, then executes SYSCALL; the result (or -errno) comes
 * back in RAX. Each handler is defined next to the code it belongs to:
 *
 *   SYSCALL_DEFINE(SYS_getpid, getpid) { return current->tgid; }
 *
 * which puts the handler into the .syscalls linker section; the table is
 * built from it at boot. A number nobody defined returns -ENOSYS and is
 * logged once. Handlers receive the six raw arguments as uint64_t (they
 * cast, and check user pointers with the uaccess helpers) and the trap
 * frame, for the few that need the user registers (fork, execve,
 * rt_sigreturn, arch_prctl). */
#ifndef PAGODA_SYSCALL_H
#define PAGODA_SYSCALL_H

#include <pagoda/compiler.h>
#include <asm/trap.h>
#include <pagoda/types.h>

struct syscall_args {
	uint64_t a[6];
	struct trap_frame *tf;
};

typedef long (*syscall_fn)(const struct syscall_args *args);

struct syscall_entry {
	unsigned int nr;
	const char *name;
	syscall_fn fn;
};

#define SYSCALL_DEFINE(number, name)                                           \
	static long sys_##name(const struct syscall_args *args);               \
	static const struct syscall_entry __syscall_##name = {                 \
		number, #name, sys_##name };                                   \
	static const struct syscall_entry *__syscall_ptr_##name __used         \
		__section(".syscalls") = &__syscall_##name;                    \
	static long sys_##name(const struct syscall_args *args)

#define ARG(i) (args->a[i])

#define NR_SYSCALLS 512

/* Build the table and program the SYSCALL MSRs (STAR, LSTAR, FMASK). */
void syscall_init(void);

/* Called by arch/x86/syscall.asm with the user registers saved as a
 * trap frame (vector SYSCALL_VECTOR); stores the result in tf->rax. */
void syscall_dispatch(struct trap_frame *tf);
#define SYSCALL_VECTOR 0x100 /* not a real vector: marks a syscall frame */

/* Linux x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_stat 4
#define SYS_fstat 5
#define SYS_lstat 6
#define SYS_poll 7
#define SYS_lseek 8
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_brk 12
#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_rt_sigreturn 15
#define SYS_ioctl 16
#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_readv 19
#define SYS_writev 20
#define SYS_access 21
#define SYS_pipe 22
#define SYS_sched_yield 24
#define SYS_mremap 25
#define SYS_madvise 28
#define SYS_dup 32
#define SYS_dup2 33
#define SYS_nanosleep 35
#define SYS_getpid 39
#define SYS_clone 56
#define SYS_fork 57
#define SYS_vfork 58
#define SYS_execve 59
#define SYS_exit 60
#define SYS_wait4 61
#define SYS_kill 62
#define SYS_uname 63
#define SYS_fcntl 72
#define SYS_getcwd 79
#define SYS_chdir 80
#define SYS_mkdir 83
#define SYS_readlink 89
#define SYS_umask 95
#define SYS_getuid 102
#define SYS_getgid 104
#define SYS_geteuid 107
#define SYS_getegid 108
#define SYS_setpgid 109
#define SYS_getppid 110
#define SYS_getpgrp 111
#define SYS_setsid 112
#define SYS_sigaltstack 131
#define SYS_prctl 157
#define SYS_arch_prctl 158
#define SYS_sync 162
#define SYS_mount 165
#define SYS_reboot 169
#define SYS_gettid 186
#define SYS_time 201
#define SYS_getdents64 217
#define SYS_set_tid_address 218
#define SYS_clock_gettime 228
#define SYS_clock_nanosleep 230
#define SYS_exit_group 231
#define SYS_tgkill 234
#define SYS_openat 257
#define SYS_mkdirat 258
#define SYS_newfstatat 262
#define SYS_readlinkat 267
#define SYS_faccessat 269
#define SYS_set_robust_list 273
#define SYS_dup3 292
#define SYS_pipe2 293
#define SYS_prlimit64 302
#define SYS_getrandom 318
#define SYS_rseq 334
#define SYS_faccessat2 439

#endif
