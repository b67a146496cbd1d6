/* Tests of signal sending and of the signal frame (kernel/signal.c,
 * arch/x86/sigframe.c).
 *
 * Each case runs as a stand-in task made current for its duration, with
 * a fresh active address space holding a user stack, so that the frame
 * is written and read back through the real uaccess path. The offsets
 * checked are those of Linux's x86-64 rt_sigframe, ucontext_t and
 * siginfo_t, which user space (libc, debuggers) reads. */
#include <pagoda/errno.h>
#include <asm/gdt.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/signal.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>

#define UBASE 0x0000100000000000UL
#define USTACK_PAGES 16
#define USTACK_TOP (UBASE + USTACK_PAGES * PAGE_SIZE)
#define RESTORER 0x401000UL
#define HANDLER 0x402000UL

/* Offsets in Linux's rt_sigframe (arch/x86/include/asm/sigframe.h). */
#define OFF_UC 8
#define OFF_UC_STACK (OFF_UC + 16)
#define OFF_MCONTEXT (OFF_UC + 40)
#define OFF_SC_RAX (OFF_MCONTEXT + 13 * 8)
#define OFF_SC_RSP (OFF_MCONTEXT + 15 * 8)
#define OFF_SC_RIP (OFF_MCONTEXT + 16 * 8)
#define OFF_SC_ERR (OFF_MCONTEXT + 19 * 8)
#define OFF_SC_TRAPNO (OFF_MCONTEXT + 20 * 8)
#define OFF_SC_CR2 (OFF_MCONTEXT + 22 * 8)
#define OFF_SC_FPSTATE (OFF_MCONTEXT + 23 * 8)
#define OFF_SIGMASK (OFF_UC + 296)
#define OFF_INFO 312
#define FX_MXCSR 24

static struct task_standin stand_in_sd;
#define stand_in (stand_in_sd.task)

typedef void (*task_body_fn)(struct ktest *t, struct task *me);

/* Run body as stand_in (pid 4242) with a user stack at
 * [UBASE, USTACK_TOP); then restore current and check for leaks. */
static void run_as_task(struct ktest *t, task_body_fn body)
{
	uint64_t before = ktest_free_frames();
	struct task *saved = current;
	struct mm_struct *mm = mm_create();

	if (!mm) {
		ktest_fail(t, __FILE__, __LINE__, "mm_create() returned NULL");
		return;
	}
	task_standin_init(&stand_in_sd, 4242);
	stand_in.mm = mm;
	stand_in.state = TASK_RUNNABLE;
	fpu_init_state(&stand_in);
	mm_switch(mm);
	current = &stand_in;
	if (do_mmap(mm, UBASE, USTACK_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) == (long)UBASE)
		body(t, &stand_in);
	else
		ktest_fail(t, __FILE__, __LINE__, "cannot map the user stack");
	current = saved;
	mm_switch(NULL);
	mm_destroy(mm);
	if (ktest_free_frames() != before)
		ktest_fail(t, __FILE__, __LINE__, "frames leaked");
}

#define TASK_CASE(name)                                                        \
	static void name##_body(struct ktest *t, struct task *me);             \
	static void name(struct ktest *t) { run_as_task(t, name##_body); }     \
	static void name##_body(struct ktest *t, struct task *me)

static uint64_t user_u64(uintptr_t addr)
{
	uint64_t v = 0xbadbadbadULL;

	copy_from_user(&v, (const void *)addr, sizeof(v));
	return v;
}

static uint32_t user_u32(uintptr_t addr)
{
	uint32_t v = 0xbadbad;

	copy_from_user(&v, (const void *)addr, sizeof(v));
	return v;
}

static struct trap_frame user_frame(void)
{
	return (struct trap_frame){ .rip = 0x400123, .rsp = USTACK_TOP - 1000, .rax = 77,
				    .rbx = 5, .cs = GDT_USER_CS, .ss = GDT_USER_DS,
				    .rflags = 0x202 | (1UL << 10) /* DF */ };
}

static const struct k_sigaction siginfo_action = { HANDLER, SA_SIGINFO | SA_RESTORER, RESTORER, 0 };

TASK_CASE(signal_pending_keeps_the_first_senders_info)
{
	struct ksiginfo a = { .code = SI_USER, .pid = 5 }, b = { .code = SI_USER, .pid = 6 };

	KEXPECT_EQ(t, signal_send(me, SIGUSR1, &a, false), 0);
	KEXPECT_EQ(t, signal_send(me, SIGUSR1, &b, false), 0);
	KEXPECT_TRUE(t, me->sig_pending & SIGBIT(SIGUSR1));
	KEXPECT_EQ(t, me->sig_info[SIGUSR1 - 1].pid, 5);
	KEXPECT_EQ(t, me->sig_info[SIGUSR1 - 1].signo, SIGUSR1);
	KEXPECT_EQ(t, signal_send(me, 0, &a, false), -EINVAL);
	KEXPECT_EQ(t, signal_send(me, NSIG + 1, &a, false), -EINVAL);
	/* The kernel's own signals say SI_KERNEL. */
	KEXPECT_EQ(t, task_send_signal(me, SIGUSR2), 0);
	KEXPECT_EQ(t, me->sig_info[SIGUSR2 - 1].code, SI_KERNEL);
}

/* Linux's SIGNAL_UNKILLABLE: init takes what it handles, and SIGKILL
 * only from the kernel (the OOM killer). */
TASK_CASE(signal_to_init_needs_a_handler_or_the_kernel)
{
	struct ksiginfo info = { .code = SI_USER, .pid = 2 };

	me->pid = me->tgid = 1;
	KEXPECT_EQ(t, signal_send(me, SIGTERM, &info, false), 0);
	KEXPECT_EQ(t, signal_send(me, SIGKILL, &info, false), 0);
	KEXPECT_EQ(t, signal_send(me, SIGSTOP, &info, false), 0);
	KEXPECT_EQ(t, me->sig_pending, 0);
	me->sighand->action[SIGTERM - 1].handler = HANDLER;
	KEXPECT_EQ(t, signal_send(me, SIGTERM, &info, false), 0);
	KEXPECT_TRUE(t, me->sig_pending & SIGBIT(SIGTERM));
	KEXPECT_EQ(t, signal_send(me, SIGKILL, NULL, true), 0);
	KEXPECT_TRUE(t, me->sig_pending & SIGBIT(SIGKILL));
	me->pid = me->tgid = 4242;
}

TASK_CASE(signal_fault_with_handler_queues_code_address_and_trap)
{
	struct trap_frame tf = user_frame();

	tf.vector = X86_TRAP_PF;
	tf.error_code = PF_USER | PF_WRITE;
	me->sighand->action[SIGSEGV - 1] = siginfo_action;
	me->sig_pending = SIGBIT(SIGSEGV); /* a stale one: the fault replaces it */
	force_sig_fault(&tf, SIGSEGV, SEGV_ACCERR, 0x1234);
	KEXPECT_TRUE(t, me->sig_pending & SIGBIT(SIGSEGV));
	KEXPECT_EQ(t, me->sig_info[SIGSEGV - 1].code, SEGV_ACCERR);
	KEXPECT_EQ(t, me->sig_info[SIGSEGV - 1].addr, 0x1234);
	KEXPECT_EQ(t, me->trap_nr, X86_TRAP_PF);
	KEXPECT_EQ(t, me->trap_err, PF_USER | PF_WRITE);
	KEXPECT_EQ(t, me->trap_cr2, 0x1234);
}

TASK_CASE(sigframe_has_linux_layout_and_enters_handler)
{
	struct trap_frame tf = user_frame(), old = tf;
	struct ksiginfo info = { .signo = SIGSEGV, .code = SEGV_MAPERR, .addr = 0xdead000 };
	uintptr_t sp, fp;

	me->trap_nr = X86_TRAP_PF;
	me->trap_err = 6;
	me->trap_cr2 = 0xdead000;
	me->sig_blocked = SIGBIT(SIGUSR2);
	KASSERT_TRUE(t, sigframe_setup(&tf, &info, &siginfo_action));
	sp = tf.rsp;
	KEXPECT_EQ(t, (sp + 8) % 16, 0);
	KEXPECT_LE(t, sp + 440, old.rsp - 128); /* below the red zone */
	KEXPECT_EQ(t, tf.rip, HANDLER);
	KEXPECT_EQ(t, tf.rdi, SIGSEGV);
	KEXPECT_EQ(t, tf.rsi, sp + OFF_INFO);
	KEXPECT_EQ(t, tf.rdx, sp + OFF_UC);
	KEXPECT_FALSE(t, tf.rflags & (1UL << 10));
	KEXPECT_EQ(t, user_u64(sp), RESTORER);
	KEXPECT_EQ(t, user_u32(sp + OFF_INFO), SIGSEGV);
	KEXPECT_EQ(t, user_u32(sp + OFF_INFO + 8), SEGV_MAPERR);
	KEXPECT_EQ(t, user_u64(sp + OFF_INFO + 16), 0xdead000);
	KEXPECT_EQ(t, user_u64(sp + OFF_SC_RIP), old.rip);
	KEXPECT_EQ(t, user_u64(sp + OFF_SC_RSP), old.rsp);
	KEXPECT_EQ(t, user_u64(sp + OFF_SC_RAX), old.rax);
	KEXPECT_EQ(t, user_u64(sp + OFF_SC_ERR), 6);
	KEXPECT_EQ(t, user_u64(sp + OFF_SC_TRAPNO), X86_TRAP_PF);
	KEXPECT_EQ(t, user_u64(sp + OFF_SC_CR2), 0xdead000);
	KEXPECT_EQ(t, user_u64(sp + OFF_SIGMASK), SIGBIT(SIGUSR2));
	KEXPECT_EQ(t, user_u32(sp + OFF_UC_STACK + 8), SS_DISABLE);
	fp = user_u64(sp + OFF_SC_FPSTATE);
	KEXPECT_EQ(t, fp % 64, 0);
	KEXPECT_GE(t, fp, sp + 440);
	KEXPECT_LE(t, fp + 512, old.rsp - 128);
	KEXPECT_EQ(t, user_u32(fp + FX_MXCSR), 0x1f80); /* the interrupted code's */
}

TASK_CASE(sigreturn_restores_what_the_handler_left_in_the_frame)
{
	struct trap_frame tf = user_frame();
	struct ksiginfo info = { .signo = SIGUSR1, .code = SI_USER };
	uint64_t v;
	uintptr_t sp, fp;
	uint32_t bad_mxcsr = 0xffffffff;

	me->sig_blocked = SIGBIT(SIGUSR2);
	KASSERT_TRUE(t, sigframe_setup(&tf, &info, &siginfo_action));
	sp = tf.rsp;
	v = 0x400999;
	KASSERT_EQ(t, copy_to_user((void *)(sp + OFF_SC_RIP), &v, 8), 0);
	v = 4242;
	KASSERT_EQ(t, copy_to_user((void *)(sp + OFF_SC_RAX), &v, 8), 0);
	v = SIGBIT(SIGTERM) | SIGBIT(SIGKILL);
	KASSERT_EQ(t, copy_to_user((void *)(sp + OFF_SIGMASK), &v, 8), 0);
	fp = user_u64(sp + OFF_SC_FPSTATE);
	KASSERT_EQ(t, copy_to_user((void *)(fp + FX_MXCSR), &bad_mxcsr, 4), 0);
	me->sig_blocked = ~0ULL;
	tf.rsp = sp + 8; /* the handler's ret popped pretcode */
	KASSERT_TRUE(t, sigframe_restore(&tf));
	KEXPECT_EQ(t, tf.rip, 0x400999);
	KEXPECT_EQ(t, tf.rax, 4242);
	KEXPECT_EQ(t, tf.rbx, 5);
	KEXPECT_EQ(t, tf.rsp, USTACK_TOP - 1000);
	KEXPECT_EQ(t, tf.cs, GDT_USER_CS);
	KEXPECT_EQ(t, me->sig_blocked, SIGBIT(SIGTERM)); /* SIGKILL cannot be blocked */
	/* Reserved MXCSR bits are dropped: FXRSTOR took the state (no #GP). */
	KEXPECT_NE(t, *(uint32_t *)(me->fpu + FX_MXCSR), bad_mxcsr);
}

TASK_CASE(sigreturn_refuses_a_kernel_rip)
{
	struct trap_frame tf = user_frame();
	struct ksiginfo info = { .signo = SIGUSR1, .code = SI_USER };
	uint64_t v = 0xffffffff80100000ULL;

	KASSERT_TRUE(t, sigframe_setup(&tf, &info, &siginfo_action));
	KASSERT_EQ(t, copy_to_user((void *)(tf.rsp + OFF_SC_RIP), &v, 8), 0);
	tf.rsp += 8;
	KEXPECT_FALSE(t, sigframe_restore(&tf));
	tf = user_frame();
	tf.rsp = 0x10; /* no frame there */
	KEXPECT_FALSE(t, sigframe_restore(&tf));
}

TASK_CASE(sigframe_goes_on_the_alternate_stack_if_it_fits)
{
	struct trap_frame tf = user_frame();
	struct ksiginfo info = { .signo = SIGUSR1, .code = SI_USER };
	struct k_sigaction act = siginfo_action;
	uintptr_t alt = UBASE + PAGE_SIZE;

	act.flags |= SA_ONSTACK;
	me->sas_ss_sp = alt;
	me->sas_ss_size = 2 * PAGE_SIZE;
	KASSERT_TRUE(t, sigframe_setup(&tf, &info, &act));
	KEXPECT_GE(t, tf.rsp, alt);
	KEXPECT_LT(t, tf.rsp, alt + 2 * PAGE_SIZE);
	KEXPECT_EQ(t, user_u64(tf.rsp + OFF_UC_STACK), alt);
	KEXPECT_EQ(t, user_u32(tf.rsp + OFF_UC_STACK + 8), 0);
	/* A stack too small for the frame: refused (the task gets SIGSEGV). */
	tf = user_frame();
	me->sas_ss_size = 512;
	KEXPECT_FALSE(t, sigframe_setup(&tf, &info, &act));
	/* Without SA_ONSTACK the normal stack is used. */
	me->sas_ss_size = 2 * PAGE_SIZE;
	tf = user_frame();
	KASSERT_TRUE(t, sigframe_setup(&tf, &info, &siginfo_action));
	KEXPECT_GE(t, tf.rsp, alt + 2 * PAGE_SIZE);
}

extern const struct syscall_entry *const __syscalls_start[], *const __syscalls_end[];

static long sys_kill(long pid, long sig)
{
	for (const struct syscall_entry *const *e = __syscalls_start; e < __syscalls_end; e++) {
		if ((*e)->nr == SYS_kill) {
			struct syscall_args args = { { (uint64_t)pid, (uint64_t)sig }, NULL };
			return (*e)->fn(&args);
		}
	}
	return -ENOSYS;
}

static struct task_standin group_sd[4];
#define group_tasks(i) (group_sd[i].task)

/* Stand-ins on the task list: init (pid 1, group 0), two in group 70, one
 * in group 80. */
static void groups_add(void)
{
	static const pid_t pids[] = { 1, 70, 71, 80 }, pgids[] = { 0, 70, 70, 80 };

	for (unsigned int i = 0; i < ARRAY_SIZE(group_sd); i++) {
		struct task *t = &group_tasks(i);
		uint64_t flags;

		task_standin_init(&group_sd[i], pids[i]);
		t->signal->pgid = pgids[i];
		t->state = TASK_RUNNABLE; /* on no run queue: a signal only marks it */
		flags = spin_lock_irqsave(&tasklist_lock);
		list_add_tail(&t->all_list, &task_list);
		spin_unlock_irqrestore(&tasklist_lock, flags);
	}
}

static uint64_t groups_remove(void)
{
	uint64_t pending = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(group_sd); i++) {
		uint64_t flags = spin_lock_irqsave(&tasklist_lock);
		list_del(&group_tasks(i).all_list);
		spin_unlock_irqrestore(&tasklist_lock, flags);
		pending |= (task_pending_signals(&group_tasks(i)) & SIGBIT(SIGUSR1)) ? 1u << i : 0;
	}
	return pending;
}

/* kill(-pgid) reaches exactly the group; -ESRCH for an empty group;
 * kill(-1) everyone but init and the caller; init never takes SIGKILL
 * from kill(). */
static void signal_kill_by_group_reaches_exactly_the_group(struct ktest *t)
{
	pid_t saved = current->signal->pgid;

	if (!list_empty(&task_list)) {
		ktest_skip(t, "processes are running: kill(-1) would reach them");
		return;
	}
	groups_add();
	KEXPECT_EQ(t, sys_kill(-70, SIGUSR1), 0);
	KEXPECT_EQ(t, groups_remove(), 0x6); /* pids 70 and 71 */
	groups_add();
	KEXPECT_EQ(t, sys_kill(-90, SIGUSR1), -ESRCH);
	KEXPECT_EQ(t, sys_kill(-90, 0), -ESRCH);
	KEXPECT_EQ(t, sys_kill(-2147483647 - 1, SIGUSR1), -ESRCH);
	KEXPECT_EQ(t, sys_kill(-80, 0), 0);
	KEXPECT_EQ(t, groups_remove(), 0);
	groups_add();
	KEXPECT_EQ(t, sys_kill(-1, SIGUSR1), 0);
	KEXPECT_EQ(t, groups_remove(), 0xe); /* all but init */
	groups_add();
	current->signal->pgid = 80; /* kill(0): the caller's own group */
	KEXPECT_EQ(t, sys_kill(0, SIGUSR1), 0);
	current->signal->pgid = saved;
	KEXPECT_EQ(t, groups_remove(), 0x8);
	groups_add();
	KEXPECT_EQ(t, sys_kill(1, SIGKILL), 0);
	KEXPECT_EQ(t, sys_kill(-1, SIGKILL), 0);
	KEXPECT_FALSE(t, group_tasks(0).sig_pending & SIGBIT(SIGKILL));
	KEXPECT_TRUE(t, group_tasks(1).sig_pending & SIGBIT(SIGKILL));
	groups_remove();
}

static const struct ktest_case signal_cases[] = {
	KTEST_CASE(signal_pending_keeps_the_first_senders_info),
	KTEST_CASE(signal_to_init_needs_a_handler_or_the_kernel),
	KTEST_CASE(signal_fault_with_handler_queues_code_address_and_trap),
	KTEST_CASE(sigframe_has_linux_layout_and_enters_handler),
	KTEST_CASE(sigreturn_restores_what_the_handler_left_in_the_frame),
	KTEST_CASE(sigreturn_refuses_a_kernel_rip),
	KTEST_CASE(sigframe_goes_on_the_alternate_stack_if_it_fits),
	KTEST_CASE(signal_kill_by_group_reaches_exactly_the_group),
};
KTEST_SUITE(signal, signal_cases);
