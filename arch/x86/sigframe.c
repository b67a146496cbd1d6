/* The x86-64 signal frame: Linux's struct rt_sigframe, so that a handler
 * installed with SA_SIGINFO (and libc, and a debugger) reads siginfo_t and
 * ucontext_t exactly as on Linux (arch/x86/include/asm/sigframe.h,
 * arch/x86/include/uapi/asm/sigcontext.h).
 *
 * The user stack when the handler starts, from high addresses down:
 *
 *   interrupted rsp
 *   128-byte red zone (the ABI lets leaf code use it: left alone)
 *   FPU state: the FXSAVE image, 512 bytes, 64-byte aligned
 *   struct rt_sigframe: pretcode | ucontext | siginfo     <- handler rsp
 *
 * rsp points at pretcode, the sa_restorer the handler's "ret" jumps to;
 * rsp + 8 is 16-byte aligned, as after a call. With SA_ONSTACK and an
 * alternate stack set (sigaltstack), everything goes on that stack
 * instead. rt_sigreturn finds the frame again at the user rsp - 8.
 *
 * Shared data: only the current task's registers and signal state. */
#include <pagoda/compiler.h>
#include <asm/gdt.h>
#include <pagoda/mm_types.h>
#include <pagoda/signal.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>

#define RED_ZONE 128
#define FPSTATE_SIZE 512  /* the FXSAVE image (Intel SDM Vol. 1, 10.5.1) */
#define FPSTATE_ALIGN 64  /* what Linux gives the XSAVE area */
#define FXSAVE_SW_RESERVED 464 /* bytes [464, 512): software's; Linux's magic */
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define RFLAGS_DF (1UL << 10)
#define RFLAGS_TF (1UL << 8)
#define RFLAGS_RF (1UL << 16)
#define RFLAGS_USER_MASK 0x0dd5 /* CF PF AF ZF SF TF DF OF: what sigreturn may set */
#define RFLAGS_IF (1UL << 9)

struct sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp;
	uint64_t rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* user address of the FPU state, 0 if none */
	uint64_t reserved1[8];
};

struct ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct user_stack uc_stack;
	struct sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

/* siginfo_t: 16 bytes of header, then a union whose members the signal
 * decides (include/uapi/asm-generic/siginfo.h). */
struct user_siginfo {
	int32_t si_signo, si_errno, si_code, pad;
	union {
		struct { int32_t pid; uint32_t uid; } kill;
		struct { int32_t pid; uint32_t uid; int32_t status; int32_t pad; int64_t utime, stime; } chld;
		struct { uint64_t addr; } fault;
		uint8_t raw[112];
	};
};

struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext uc;
	struct user_siginfo info;
};

BUILD_BUG_ON(sizeof(struct sigcontext) != 256);
BUILD_BUG_ON(sizeof(struct ucontext) != 304);
BUILD_BUG_ON(sizeof(struct user_siginfo) != 128);
BUILD_BUG_ON(__builtin_offsetof(struct rt_sigframe, info) != 312);

static void fill_siginfo(struct user_siginfo *u, const struct ksiginfo *k)
{
	u->si_signo = k->signo;
	u->si_code = k->code;
	switch (k->signo) {
	case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP:
		if (k->code > 0 && k->code != SI_KERNEL) {
			u->fault.addr = k->addr;
			return;
		}
		break;
	case SIGCHLD:
		if (k->code > 0 && k->code != SI_KERNEL) {
			u->chld.pid = k->pid;
			u->chld.uid = k->uid;
			u->chld.status = k->status;
			return;
		}
		break;
	}
	if (k->code <= 0) { /* from kill(), tgkill(): who sent it */
		u->kill.pid = k->pid;
		u->kill.uid = k->uid;
	}
}

static void fill_sigcontext(struct sigcontext *sc, const struct trap_frame *tf)
{
	*sc = (struct sigcontext){
		.r8 = tf->r8, .r9 = tf->r9, .r10 = tf->r10, .r11 = tf->r11,
		.r12 = tf->r12, .r13 = tf->r13, .r14 = tf->r14, .r15 = tf->r15,
		.rdi = tf->rdi, .rsi = tf->rsi, .rbp = tf->rbp, .rbx = tf->rbx,
		.rdx = tf->rdx, .rax = tf->rax, .rcx = tf->rcx, .rsp = tf->rsp,
		.rip = tf->rip, .eflags = tf->rflags, .cs = (uint16_t)tf->cs, .ss = (uint16_t)tf->ss,
		.err = current->trap_err, .trapno = current->trap_nr,
		.oldmask = signal_frame_mask(), .cr2 = current->trap_cr2,
	};
}

/* Where the FPU state and the frame go; 0 when an alternate stack would
 * overflow (the task then dies of SIGSEGV, as on Linux). */
static uintptr_t frame_place(const struct trap_frame *tf, const struct k_sigaction *act,
			     uintptr_t *fpstate)
{
	uintptr_t sp = tf->rsp - RED_ZONE;
	bool alt = on_sig_stack(sp);

	if ((act->flags & SA_ONSTACK) && current->sas_ss_size && !alt) {
		sp = current->sas_ss_sp + current->sas_ss_size;
		alt = true;
	}
	*fpstate = ALIGN_DOWN(sp - FPSTATE_SIZE, FPSTATE_ALIGN);
	sp = ALIGN_DOWN(*fpstate - sizeof(struct rt_sigframe), 16) - 8;
	if (alt && !(sp > current->sas_ss_sp && sp - current->sas_ss_sp <= current->sas_ss_size))
		return 0;
	return sp;
}

/* Save the live FPU registers at user address fpstate, then give the
 * handler a clean FPU, as Linux does. */
static bool save_fpu(uintptr_t fpstate)
{
	uint8_t image[FPSTATE_SIZE];

	fpu_save(current);
	memcpy(image, current->fpu, sizeof(image));
	memset(image + FXSAVE_SW_RESERVED, 0, sizeof(image) - FXSAVE_SW_RESERVED);
	if (copy_to_user((void *)fpstate, image, sizeof(image)) < 0)
		return false;
	fpu_init_state(current);
	fpu_restore(current);
	return true;
}

bool sigframe_setup(struct trap_frame *tf, const struct ksiginfo *info,
		    const struct k_sigaction *act)
{
	struct rt_sigframe f = { .pretcode = act->restorer };
	uintptr_t fpstate, sp = frame_place(tf, act, &fpstate);

	if (!sp)
		return false;
	f.uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f.uc.uc_stack = (struct user_stack){ .ss_sp = current->sas_ss_sp,
		.ss_flags = (int32_t)(current->sas_ss_flags | (current->sas_ss_size ? 0 : SS_DISABLE)),
		.ss_size = current->sas_ss_size };
	fill_sigcontext(&f.uc.uc_mcontext, tf);
	f.uc.uc_mcontext.fpstate = fpstate;
	f.uc.uc_sigmask = signal_frame_mask();
	fill_siginfo(&f.info, info);
	if (copy_to_user((void *)sp, &f, sizeof(f)) < 0 || !save_fpu(fpstate))
		return false;
	if (current->sas_ss_flags & SS_AUTODISARM)
		current->sas_ss_sp = current->sas_ss_size = current->sas_ss_flags = 0;
	tf->rsp = sp;
	tf->rip = act->handler;
	tf->rdi = info->signo;
	tf->rsi = sp + __builtin_offsetof(struct rt_sigframe, info);
	tf->rdx = sp + __builtin_offsetof(struct rt_sigframe, uc);
	tf->rax = 0;
	tf->cs = GDT_USER_CS;
	tf->ss = GDT_USER_DS;
	tf->rflags &= ~(RFLAGS_DF | RFLAGS_TF | RFLAGS_RF); /* DF clear on entry, per the ABI */
	return true;
}

/* The FPU state the frame names, or a clean one when it names none. */
static bool restore_fpu(uint64_t fpstate)
{
	uint8_t image[FPSTATE_SIZE];

	if (!fpstate) {
		fpu_init_state(current);
	} else {
		if (copy_from_user(image, (const void *)fpstate, sizeof(image)) < 0)
			return false;
		fpu_load_image(current, image);
	}
	fpu_restore(current);
	return true;
}

bool sigframe_restore(struct trap_frame *tf)
{
	uintptr_t frame = tf->rsp - 8;
	struct ucontext uc;
	const struct sigcontext *sc = &uc.uc_mcontext;
	struct user_stack ignored;

	if (copy_from_user(&uc, (const void *)(frame + __builtin_offsetof(struct rt_sigframe, uc)),
			   sizeof(uc)) < 0)
		return false;
	if (sc->rip >= USER_SPACE_END)
		return false; /* IRET to it would fault in the kernel: SIGSEGV, as Linux ends */
	if (!restore_fpu(sc->fpstate))
		return false;
	*tf = (struct trap_frame){
		.r15 = sc->r15, .r14 = sc->r14, .r13 = sc->r13, .r12 = sc->r12,
		.r11 = sc->r11, .r10 = sc->r10, .r9 = sc->r9, .r8 = sc->r8,
		.rbp = sc->rbp, .rdi = sc->rdi, .rsi = sc->rsi, .rdx = sc->rdx,
		.rcx = sc->rcx, .rbx = sc->rbx, .rax = sc->rax, .vector = tf->vector,
		.rip = sc->rip, .cs = GDT_USER_CS, .rsp = sc->rsp, .ss = GDT_USER_DS,
		.rflags = (sc->eflags & RFLAGS_USER_MASK) | RFLAGS_IF | 2 /* bit 1 reads as 1 */,
	};
	current->sig_blocked = uc.uc_sigmask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	/* Linux's restore_altstack(): re-arms an SS_AUTODISARM stack; refused
	 * (and ignored) while still running on the alternate stack. */
	do_sigaltstack(&uc.uc_stack, &ignored, tf->rsp);
	return true;
}
