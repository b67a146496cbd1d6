/* The IDT and the C side of every exception and interrupt.
 *
 * An exception taken in the kernel is either expected (the faulting
 * instruction is in the exception table, __ex_table: a probe or a user
 * copy), and execution resumes at its fixup address; or it is a kernel bug,
 * and we panic with the decoded cause. Interrupts go to the handler
 * registered for their vector. */
#include <asm/gdt.h>
#include <pagoda/percpu.h>
#include <pagoda/errno.h>
#include <pagoda/mm.h>     /* against the direction: a #PF is resolved by mm */
#include <pagoda/oom.h>    /* ... or by the OOM killer */
#include <pagoda/signal.h> /* against the direction: faults become signals */
#include <pagoda/task.h>
#include <pagoda/panic.h>
#include <pagoda/printk.h>
#include <asm/trap.h>
#include <asm/x86.h>

/* An IDT gate (Intel SDM Vol. 3A, 6.14.1). */
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define GATE_DPL3 0x60      /* user code may raise it with INT n: int3 and into */

static struct idt_gate idt[NR_VECTORS] __aligned(16);
static irq_handler_t irq_handlers[NR_VECTORS];
extern const uint64_t isr_stub_table[NR_VECTORS]; /* arch/x86/isr.asm */
extern const struct extable_entry __ex_table_start[], __ex_table_end[];

struct fixup_record last_fixup;

static const char *const exception_names[NR_EXCEPTIONS] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved (15)", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization",
	"#CP control protection", "reserved (22)", "reserved (23)",
	"reserved (24)", "reserved (25)", "reserved (26)", "reserved (27)",
	"#HV hypervisor injection", "#VC VMM communication", "#SX security",
	"reserved (31)",
};

static void idt_set_gate(unsigned int vector, uint64_t handler, uint8_t ist)
{
	idt[vector] = (struct idt_gate){
		.offset_lo = handler & 0xffff,
		.selector = GDT_KERNEL_CS,
		.ist = ist,
		.type_attr = GATE_INTERRUPT |
			     (vector == X86_TRAP_BP || vector == 4 /* #OF */ ? GATE_DPL3 : 0),
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_hi = handler >> 32,
	};
}

void trap_cpu_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	gdt_init(&this_cpu()->arch);
	__asm__ __volatile__("lidt %0" ::"m"(idtr));
}

void trap_init(void)
{
	for (unsigned int v = 0; v < NR_VECTORS; v++)
		idt_set_gate(v, isr_stub_table[v], v == X86_TRAP_DF ? IST_DOUBLE_FAULT : 0);
	trap_cpu_init();
}

void trap_set_irq_handler(unsigned int vector, irq_handler_t handler)
{
	BUG_ON(vector < IRQ_VECTOR_BASE || vector >= NR_VECTORS);
	irq_handlers[vector] = handler;
}

int pf_describe(uint64_t err, char *buf, size_t size)
{
	return snprintf(buf, size, "%s %s %s%s",
			err & PF_PRESENT ? "protection" : "not-present",
			err & PF_INSTR ? "instruction-fetch" : err & PF_WRITE ? "write" : "read",
			err & PF_USER ? "user" : "kernel",
			err & PF_RSVD ? " reserved-bit" : "");
}

static const struct extable_entry *extable_find(uint64_t rip)
{
	for (const struct extable_entry *e = __ex_table_start; e < __ex_table_end; e++)
		if ((uint64_t)((intptr_t)&e->insn + e->insn) == rip)
			return e;
	return NULL;
}

/* If the faulting instruction expects to fault, resume at its fixup. */
static bool try_fixup(struct trap_frame *tf)
{
	const struct extable_entry *e = extable_find(tf->rip);

	if (!e)
		return false;
	last_fixup.vector = tf->vector;
	last_fixup.error_code = tf->error_code;
	last_fixup.cr2 = tf->vector == X86_TRAP_PF ? read_cr2() : 0;
	last_fixup.rip = tf->rip;
	last_fixup.count++;
	tf->rip = (uint64_t)((intptr_t)&e->fixup + e->fixup);
	return true;
}

/* si_code of an x87 (#MF) or SIMD (#XM) exception: the first unmasked
 * exception flag, in Linux's order (fpu__exception_code()). The kernel
 * never uses the FPU, so the registers are still the user's. */
static int fpu_exception_code(uint64_t vector)
{
	uint32_t mxcsr;
	uint16_t cw, sw;
	unsigned int err;

	if (vector == 19 /* #XM */) {
		__asm__ __volatile__("stmxcsr %0" : "=m"(mxcsr));
		err = ~(mxcsr >> 7) & mxcsr;
	} else {
		__asm__ __volatile__("fnstcw %0\n\tfnstsw %1" : "=m"(cw), "=m"(sw));
		err = sw & ~cw;
	}
	if (err & 0x01)
		return FPE_FLTINV;
	if (err & 0x04)
		return FPE_FLTDIV;
	if (err & 0x08)
		return FPE_FLTOVF;
	if (err & 0x12)
		return FPE_FLTUND;
	if (err & 0x20)
		return FPE_FLTRES;
	return SI_KERNEL;
}

/* The signal a user-mode exception other than #PF turns into, with its
 * si_code and si_addr, as Linux's arch/x86/kernel/traps.c sends them. */
static int exception_signal(const struct trap_frame *tf, int *code, uint64_t *addr)
{
	uint64_t dr6;

	*addr = tf->rip;
	switch (tf->vector) {
	case X86_TRAP_DE: *code = FPE_INTDIV; return SIGFPE;
	case 16 /* #MF */: case 19 /* #XM */: *code = fpu_exception_code(tf->vector); return SIGFPE;
	case X86_TRAP_UD: *code = ILL_ILLOPN; return SIGILL;
	case X86_TRAP_DB:
		__asm__ __volatile__("mov %%dr6, %0" : "=r"(dr6));
		*code = dr6 & (1UL << 14) /* BS: single step */ ? 2 /* TRAP_TRACE */ : TRAP_BRKPT;
		return SIGTRAP;
	case 17 /* #AC */: *code = BUS_ADRALN; *addr = 0; return SIGBUS;
	}
	*code = SI_KERNEL; /* no address: #GP (a non-canonical one too), #NP, #SS, int3 */
	*addr = 0;
	switch (tf->vector) {
	case X86_TRAP_BP: return SIGTRAP;
	case 11 /* #NP */: case 12 /* #SS */: return SIGBUS;
	default: return SIGSEGV;
	}
}

/* A #PF in user mode: resolved, retried after the OOM killer ran, or a
 * signal with the fault's si_code. */
static void user_page_fault(struct trap_frame *tf, uintptr_t addr)
{
	vm_fault_t r = mm_fault_user_address(tf, addr);
	int sig, code;

	if (r == VM_FAULT_OK)
		return;
	if (r == VM_FAULT_OOM) {
		if (!out_of_memory())
			task_exit(SIGKILL); /* chosen itself: free the memory at once */
		return;
	}
	sig = mm_fault_signal(mm_current(), addr, r, &code);
	force_sig_fault(tf, sig, code, addr);
}

/* An exception in user mode: paging may resolve a #PF; anything else
 * ends (or signals) only the task that caused it. */
static void handle_user_exception(struct trap_frame *tf)
{
	uint64_t addr;
	int sig, code;

	if (tf->vector == X86_TRAP_PF) {
		/* CR2 first: a fault taken by an interrupt handler would
		 * overwrite it. Then interrupts on, as Linux: a fault may take
		 * long (zeroing, copying, the page cache), and meanwhile this
		 * CPU answers shootdowns and the tick sees it (docs/profile.md). */
		uint64_t cr2 = read_cr2();
		sti();
		user_page_fault(tf, cr2);
		return;
	}
	sig = exception_signal(tf, &code, &addr);
	force_sig_fault(tf, sig, code, addr);
}

/* A kernel access to user memory (a uaccess copy) faulted: resolved, or
 * retried once the OOM killer made room, as Linux's allocator would; if
 * the current task is the one to die, the copy fails with -EFAULT and the
 * SIGKILL ends the task on its way out. */
static bool kernel_fault_on_user(struct trap_frame *tf)
{
	uint64_t cr2 = read_cr2();
	vm_fault_t r;

	/* Interrupts as the faulting code had them (a copy in a system
	 * call: on); trap_dispatch() turns them off again on the way out. */
	if (tf->rflags & X86_RFLAGS_IF)
		sti();
	r = mm_fault_user_address(tf, cr2);
	return r == VM_FAULT_OK || (r == VM_FAULT_OOM && out_of_memory());
}

static void handle_exception(struct trap_frame *tf)
{
	char why[96];

	if ((tf->cs & 3) == 3) {
		handle_user_exception(tf);
		return;
	}
	/* A fault on a user address (demand paging, copy-on-write) first goes
	 * to the VMA layer; only what it cannot resolve is fixed up or fatal. */
	if (tf->vector == X86_TRAP_PF && kernel_fault_on_user(tf))
		return;
	if (try_fixup(tf))
		return;
	if (tf->vector == X86_TRAP_PF) {
		uint64_t cr2 = read_cr2();
		pf_describe(tf->error_code, why, sizeof(why));
		printk(KERN_EMERG "#PF: CR2=%016lx error=%lx (%s)\n", cr2, tf->error_code, why);
		panic_frame(tf, "unhandled page fault at %016lx", cr2);
	}
	panic_frame(tf, "unhandled exception %lu: %s", tf->vector,
		    exception_names[tf->vector]);
}

void trap_dispatch(struct trap_frame *tf)
{
	if (tf->vector < NR_EXCEPTIONS) {
		handle_exception(tf);
		cli(); /* a #PF handler turns interrupts on; the way out is with them off */
	} else if (irq_handlers[tf->vector])
		irq_handlers[tf->vector](tf);
	else if (tf->vector != SPURIOUS_VECTOR)
		printk(KERN_WARNING "trap: unexpected interrupt on vector %lu\n", tf->vector);
	return_to_user_work(tf); /* only acts when returning to user mode */
}
