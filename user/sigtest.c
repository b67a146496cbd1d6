/* sigtest: how a fault or a sender reaches a process, as KTAP (suite
 * "sigtest"). Each bad access runs under an SA_SIGINFO handler that
 * records siginfo_t and ucontext_t, then either jumps back (siglongjmp)
 * or moves the interrupted RIP past the faulting instruction and returns
 * through rt_sigreturn. The faulting instructions are labelled in the
 * assembly below, so RIP, si_addr and the trap fields of the sigcontext
 * are checked exactly. Every expectation is Linux 6.1's behaviour
 * (scripts/linux-test.sh runs this binary there). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"

#define PG 4096UL
#define PF_WRITE 2 /* #PF error code bits (Intel SDM Vol. 3A, 4.7) */
#define PF_USER 4
#define X86_TRAP_PF 14

/* Instructions that fault, each with a label on it and one after it. */
__asm__(".text\n"
	".globl peek_byte, peek_insn, peek_next\n"
	".type peek_byte, @function\n"
	"peek_byte:\n"
	"peek_insn: movzbl (%rdi), %eax\n"
	"peek_next: ret\n"
	".globl poke_byte, poke_insn, poke_next\n"
	".type poke_byte, @function\n"
	"poke_byte:\n"
	"poke_insn: movb $1, (%rdi)\n"
	"poke_next: ret\n"
	".globl poke_set_rax, poke_rax_insn, poke_rax_next\n"
	".type poke_set_rax, @function\n"
	"poke_set_rax:\n" /* rax = 7; fault; return rax (a handler may change it) */
	"	movl $7, %eax\n"
	"poke_rax_insn: movb $1, (%rdi)\n"
	"poke_rax_next: ret\n"
	".globl divide_by_zero, div_insn\n"
	".type divide_by_zero, @function\n"
	"divide_by_zero:\n"
	"	xorl %edx, %edx\n"
	"	movl $1, %eax\n"
	"	xorl %ecx, %ecx\n"
	"div_insn: divl %ecx\n"
	"	ret\n"
	".globl undefined_insn, ud_insn\n"
	".type undefined_insn, @function\n"
	"undefined_insn:\n"
	"ud_insn: ud2\n"
	"	ret\n"
	".globl breakpoint, bp_next\n"
	".type breakpoint, @function\n"
	"breakpoint:\n"
	"	int3\n"
	"bp_next: ret\n"
	".globl xmm0_set, xmm0_get\n"
	".type xmm0_set, @function\n"
	"xmm0_set: movd %edi, %xmm0\n"
	"	ret\n"
	".type xmm0_get, @function\n"
	"xmm0_get: movd %xmm0, %eax\n"
	"	ret\n");

extern int peek_byte(const volatile void *p);
extern void poke_byte(volatile void *p);
extern long poke_set_rax(volatile void *p);
extern int divide_by_zero(void);
extern void undefined_insn(void);
extern void breakpoint(void);
extern void xmm0_set(unsigned v);
extern unsigned xmm0_get(void);
extern char peek_insn[], peek_next[], poke_insn[], poke_next[], poke_rax_insn[],
	poke_rax_next[], div_insn[], ud_insn[], bp_next[];

/* What the handler saw. */
static struct {
	volatile int count;
	int signo, code;
	void *addr;
	pid_t pid;
	int status;
	greg_t rip, err, trapno, cr2;
	uintptr_t local; /* an address on the stack the handler ran on */
	stack_t uc_stack;
	sigset_t uc_mask, mask;
	unsigned fp_xmm0; /* xmm0 of the interrupted code, from uc's FPU state */
} got;

static sigjmp_buf jump;
static void *resume_at;  /* if set, the handler continues the code there */
static long set_rax = -1; /* if >= 0, the handler puts it in the code's rax */

static void record(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	volatile int here;

	got.count++;
	got.signo = si->si_signo;
	got.code = si->si_code;
	got.addr = si->si_addr;
	got.pid = si->si_pid;
	got.status = si->si_status;
	got.rip = uc->uc_mcontext.gregs[REG_RIP];
	got.err = uc->uc_mcontext.gregs[REG_ERR];
	got.trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	got.cr2 = uc->uc_mcontext.gregs[REG_CR2];
	got.local = (uintptr_t)&here;
	got.uc_stack = uc->uc_stack;
	got.uc_mask = uc->uc_sigmask;
	sigprocmask(SIG_BLOCK, NULL, &got.mask);
	if (uc->uc_mcontext.fpregs)
		got.fp_xmm0 = uc->uc_mcontext.fpregs->_xmm[0].element[0];
	if (set_rax >= 0)
		uc->uc_mcontext.gregs[REG_RAX] = set_rax;
}

static void jump_back(int sig, siginfo_t *si, void *ctx)
{
	record(sig, si, ctx);
	siglongjmp(jump, 1);
}

static void continue_after(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	record(sig, si, ctx);
	if (resume_at)
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)resume_at;
}

static int on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO | flags };

	memset(&got, 0, sizeof(got));
	resume_at = NULL;
	set_rax = -1;
	return sigaction(sig, &sa, NULL);
}

static void off(int sig)
{
	signal(sig, SIG_DFL);
}

/* A page that is mapped no longer. */
static char *unmapped_page(void)
{
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || munmap(p, PG) < 0)
		return NULL;
	return p;
}

static void segv_unmapped_read_is_maperr_with_address(void)
{
	char *p = unmapped_page();

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(on(SIGSEGV, jump_back, 0), 0);
	if (sigsetjmp(jump, 1) == 0)
		peek_byte(p + 123);
	off(SIGSEGV);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.signo, SIGSEGV);
	EXPECT_EQ(got.code, SEGV_MAPERR);
	EXPECT_EQ((uintptr_t)got.addr, (uintptr_t)(p + 123));
}

static void segv_write_to_read_only_is_accerr(void)
{
	char *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_EQ(on(SIGSEGV, jump_back, 0), 0);
	if (sigsetjmp(jump, 1) == 0)
		poke_byte(p + 5);
	off(SIGSEGV);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.code, SEGV_ACCERR);
	EXPECT_EQ((uintptr_t)got.addr, (uintptr_t)(p + 5));
	munmap(p, PG);
}

static void segv_read_of_prot_none_is_accerr(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_EQ(on(SIGSEGV, jump_back, 0), 0);
	if (sigsetjmp(jump, 1) == 0)
		peek_byte(p + PG);
	off(SIGSEGV);
	EXPECT_EQ(got.code, SEGV_ACCERR);
	EXPECT_EQ((uintptr_t)got.addr, (uintptr_t)(p + PG));
	munmap(p, 2 * PG);
}

/* The kernel half: nothing there is mapped for the process, so MAPERR,
 * with the address, whatever the kernel keeps there. */
static void segv_kernel_address_is_maperr(void)
{
	char *k = (char *)0xffffffff80001000UL;

	ASSERT_EQ(on(SIGSEGV, jump_back, 0), 0);
	if (sigsetjmp(jump, 1) == 0)
		peek_byte(k);
	off(SIGSEGV);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.code, SEGV_MAPERR);
	EXPECT_EQ((uintptr_t)got.addr, (uintptr_t)k);
}

/* A non-canonical address is a #GP, not a #PF: SI_KERNEL, no address. */
static void segv_non_canonical_address_is_si_kernel(void)
{
	ASSERT_EQ(on(SIGSEGV, jump_back, 0), 0);
	if (sigsetjmp(jump, 1) == 0)
		peek_byte((void *)0x8000000000001000UL);
	off(SIGSEGV);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.code, SI_KERNEL);
	EXPECT_EQ((uintptr_t)got.addr, 0);
}

/* The sigcontext of a page fault: RIP at the faulting instruction, the
 * trap number, the error code and CR2; a handler that moves RIP past the
 * instruction and changes RAX gets both through rt_sigreturn. */
static void segv_ucontext_has_fault_registers_and_sigreturn_applies_them(void)
{
	char *p = unmapped_page();
	long r;

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(on(SIGSEGV, continue_after, 0), 0);
	resume_at = poke_rax_next;
	set_rax = 42;
	r = poke_set_rax(p + 8);
	off(SIGSEGV);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.rip, (greg_t)poke_rax_insn);
	EXPECT_EQ(got.trapno, X86_TRAP_PF);
	EXPECT_EQ(got.err, PF_USER | PF_WRITE);
	EXPECT_EQ(got.cr2, (greg_t)(p + 8));
	EXPECT_EQ(r, 42);
}

static void sigbus_past_end_of_file_is_adrerr(void)
{
	const char *path = "/tmp/sigtest-short-file";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *p;

	ASSERT_TRUE(fd >= 0);
	unlink(path);
	ASSERT_EQ(write(fd, "sixteen bytes!!", 16), 16);
	p = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED && errno == ENODEV) {
		close(fd);
		ktap_skip("mmap of a regular file is not supported here (ENODEV)");
		return;
	}
	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_EQ(on(SIGBUS, jump_back, 0), 0);
	EXPECT_EQ(peek_byte(p + 2), 'x');
	if (sigsetjmp(jump, 1) == 0)
		peek_byte(p + PG + 1);
	off(SIGBUS);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.signo, SIGBUS);
	EXPECT_EQ(got.code, BUS_ADRERR);
	EXPECT_EQ((uintptr_t)got.addr, (uintptr_t)(p + PG + 1));
	munmap(p, 2 * PG);
	close(fd);
}

static void sigfpe_divide_by_zero_is_intdiv_at_the_instruction(void)
{
	ASSERT_EQ(on(SIGFPE, jump_back, 0), 0);
	if (sigsetjmp(jump, 1) == 0)
		divide_by_zero();
	off(SIGFPE);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.code, FPE_INTDIV);
	EXPECT_EQ((uintptr_t)got.addr, (uintptr_t)div_insn);
}

static void sigill_ud2_is_illopn_at_the_instruction(void)
{
	ASSERT_EQ(on(SIGILL, jump_back, 0), 0);
	if (sigsetjmp(jump, 1) == 0)
		undefined_insn();
	off(SIGILL);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.code, ILL_ILLOPN);
	EXPECT_EQ((uintptr_t)got.addr, (uintptr_t)ud_insn);
}

/* int3 traps after the instruction: returning continues there. */
static void sigtrap_int3_is_si_kernel_and_continues(void)
{
	ASSERT_EQ(on(SIGTRAP, continue_after, 0), 0);
	breakpoint();
	off(SIGTRAP);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.code, SI_KERNEL);
	EXPECT_EQ(got.rip, (greg_t)bp_next);
}

static int fault_with_segv_blocked(void *arg)
{
	sigset_t set;

	(void)on(SIGSEGV, jump_back, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	sigprocmask(SIG_BLOCK, &set, NULL);
	poke_byte(unmapped_page());
	return 0;
}

static int fault_with_segv_ignored(void *arg)
{
	signal(SIGSEGV, SIG_IGN);
	poke_byte(unmapped_page());
	return 0;
}

/* A fault cannot be blocked or ignored away: the process dies of it. */
static void segv_blocked_or_ignored_still_kills(void)
{
	EXPECT_CHILD_SIGNAL(fault_with_segv_blocked, NULL, SIGSEGV);
	EXPECT_CHILD_SIGNAL(fault_with_segv_ignored, NULL, SIGSEGV);
}

static void kill_siginfo_names_the_sender(void)
{
	ASSERT_EQ(on(SIGUSR1, continue_after, 0), 0);
	ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.code, SI_USER);
	EXPECT_EQ(got.pid, getpid());
	ASSERT_EQ(on(SIGUSR1, continue_after, 0), 0);
	ASSERT_EQ(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1), 0);
	EXPECT_EQ(got.code, SI_TKILL);
	EXPECT_EQ(got.pid, getpid());
	ASSERT_EQ(on(SIGUSR1, continue_after, 0), 0);
	ASSERT_EQ(raise(SIGUSR1), 0); /* musl: tkill */
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.code, SI_TKILL);
	off(SIGUSR1);
}

/* Blocked while the child exits and is reaped, SIGCHLD stays pending
 * with the child's facts, and arrives when unblocked. */
static void sigchld_siginfo_has_pid_and_status(void)
{
	sigset_t set;
	pid_t pid;
	int st;

	ASSERT_EQ(on(SIGCHLD, continue_after, 0), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid = fork();
	if (pid == 0)
		_exit(7);
	ASSERT_TRUE(pid > 0);
	EXPECT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_EQ(got.count, 0);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	off(SIGCHLD);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.code, CLD_EXITED);
	EXPECT_EQ(got.pid, pid);
	EXPECT_EQ(got.status, 7);
}

/* uc_sigmask is the mask of the interrupted code; inside the handler the
 * signal itself and sa_mask are blocked; a mask written into the
 * ucontext is the one rt_sigreturn installs. */
static void ucontext_sigmask_is_the_interrupted_mask(void)
{
	struct sigaction sa = { .sa_sigaction = continue_after, .sa_flags = SA_SIGINFO };
	sigset_t set, now;

	memset(&got, 0, sizeof(got));
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	ASSERT_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
	sigprocmask(SIG_UNBLOCK, &set, &now);
	off(SIGUSR1);
	EXPECT_EQ(got.count, 1);
	EXPECT_TRUE(sigismember(&got.uc_mask, SIGUSR2));
	EXPECT_TRUE(!sigismember(&got.uc_mask, SIGUSR1));
	EXPECT_TRUE(!sigismember(&got.uc_mask, SIGTERM));
	EXPECT_TRUE(sigismember(&got.mask, SIGUSR1));
	EXPECT_TRUE(sigismember(&got.mask, SIGTERM));
	EXPECT_TRUE(sigismember(&got.mask, SIGUSR2));
	EXPECT_TRUE(sigismember(&now, SIGUSR2));
	EXPECT_TRUE(!sigismember(&now, SIGUSR1));
	EXPECT_TRUE(!sigismember(&now, SIGTERM));
}

/* The interrupted code's xmm0 is in the frame's FPU state, and comes back
 * after a handler that changed it. */
static void fpu_state_is_saved_in_frame_and_restored(void)
{
	ASSERT_EQ(on(SIGUSR1, continue_after, 0), 0);
	xmm0_set(0x12345678);
	kill(getpid(), SIGUSR1);
	EXPECT_EQ(xmm0_get(), 0x12345678u);
	off(SIGUSR1);
	EXPECT_EQ(got.count, 1);
	EXPECT_EQ(got.fp_xmm0, 0x12345678u);
}

static void clobber_xmm0(int sig)
{
	xmm0_set(0xdeadbeef);
}

static void fpu_handler_changes_do_not_leak_back(void)
{
	signal(SIGUSR2, clobber_xmm0);
	xmm0_set(0x600d);
	kill(getpid(), SIGUSR2);
	EXPECT_EQ(xmm0_get(), 0x600du);
	off(SIGUSR2);
}

static char altstack[64 * 1024] __attribute__((aligned(16)));

static void handler_runs_on_the_alternate_stack(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) }, old;

	ASSERT_EQ(sigaltstack(&ss, NULL), 0);
	ASSERT_EQ(on(SIGUSR1, continue_after, SA_ONSTACK), 0);
	kill(getpid(), SIGUSR1);
	off(SIGUSR1);
	EXPECT_EQ(got.count, 1);
	EXPECT_TRUE(got.local >= (uintptr_t)altstack &&
		    got.local < (uintptr_t)altstack + sizeof(altstack));
	EXPECT_EQ((uintptr_t)got.uc_stack.ss_sp, (uintptr_t)altstack);
	EXPECT_EQ(got.uc_stack.ss_size, sizeof(altstack));
	EXPECT_EQ(got.uc_stack.ss_flags, 0);
	ASSERT_EQ(sigaltstack(NULL, &old), 0);
	EXPECT_EQ(old.ss_flags, 0); /* not on it any more */
	ss.ss_flags = SS_DISABLE;
	EXPECT_EQ(sigaltstack(&ss, NULL), 0);
	ASSERT_EQ(sigaltstack(NULL, &old), 0);
	EXPECT_EQ(old.ss_flags, SS_DISABLE);
	ss = (stack_t){ .ss_sp = altstack, .ss_size = 1024 };
	EXPECT_ERRNO(sigaltstack(&ss, NULL), ENOMEM);
	ss = (stack_t){ .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0x100 };
	EXPECT_ERRNO(sigaltstack(&ss, NULL), EINVAL);
}

static int recurse(int depth)
{
	volatile char pad[1024];

	pad[0] = (char)depth;
	return depth > 1000000 ? pad[0] : recurse(depth + 1) + pad[0];
}

static int overflow_the_stack(void *arg)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

	if (sigaltstack(&ss, NULL) < 0 || on(SIGSEGV, jump_back, SA_ONSTACK) < 0)
		return 1;
	if (sigsetjmp(jump, 1) == 0)
		return recurse(0) ? 2 : 3;
	if (got.code != SEGV_MAPERR)
		return 4;
	if (!(got.local >= (uintptr_t)altstack && got.local < (uintptr_t)altstack + sizeof(altstack)))
		return 5;
	return 0;
}

/* The stack overflows into the guard gap; the handler, on the alternate
 * stack, still runs. */
static void stack_overflow_is_caught_on_the_alternate_stack(void)
{
	EXPECT_CHILD_OK(overflow_the_stack, NULL);
}

static void set_bad_rsp(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	uc->uc_mcontext.gregs[REG_RSP] = (greg_t)0x8000000000001000ULL;
}

static int return_to_non_canonical_stack(void *arg)
{
	struct sigaction sa = { .sa_sigaction = set_bad_rsp, .sa_flags = SA_SIGINFO };

	sigaction(SIGUSR1, &sa, NULL);
	kill(getpid(), SIGUSR1);
	return 0; /* never: the stack is gone */
}

/* A handler that points the stack somewhere impossible kills only its
 * own process (Linux: SIGSEGV or SIGBUS, depending on where it trips). */
static void sigreturn_to_a_non_canonical_stack_kills_only_the_process(void)
{
	int st = run_child(return_to_non_canonical_stack, NULL);

	EXPECT_TRUE(st != -1 && WIFSIGNALED(st) &&
		    (WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGBUS));
}

static const struct ktap_case cases[] = {
	KTAP_CASE(segv_unmapped_read_is_maperr_with_address),
	KTAP_CASE(segv_write_to_read_only_is_accerr),
	KTAP_CASE(segv_read_of_prot_none_is_accerr),
	KTAP_CASE(segv_kernel_address_is_maperr),
	KTAP_CASE(segv_non_canonical_address_is_si_kernel),
	KTAP_CASE(segv_ucontext_has_fault_registers_and_sigreturn_applies_them),
	KTAP_CASE(sigbus_past_end_of_file_is_adrerr),
	KTAP_CASE(sigfpe_divide_by_zero_is_intdiv_at_the_instruction),
	KTAP_CASE(sigill_ud2_is_illopn_at_the_instruction),
	KTAP_CASE(sigtrap_int3_is_si_kernel_and_continues),
	KTAP_CASE(segv_blocked_or_ignored_still_kills),
	KTAP_CASE(kill_siginfo_names_the_sender),
	KTAP_CASE(sigchld_siginfo_has_pid_and_status),
	KTAP_CASE(ucontext_sigmask_is_the_interrupted_mask),
	KTAP_CASE(fpu_state_is_saved_in_frame_and_restored),
	KTAP_CASE(fpu_handler_changes_do_not_leak_back),
	KTAP_CASE(handler_runs_on_the_alternate_stack),
	KTAP_CASE(stack_overflow_is_caught_on_the_alternate_stack),
	KTAP_CASE(sigreturn_to_a_non_canonical_stack_kills_only_the_process),
};

int main(void)
{
	return ktap_run_suite("sigtest", cases, KTAP_ARRAY_SIZE(cases));
}
