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
#include <pagoda/mm.h>   /* against the direction: a #PF is resolved by mm */
#include <pagoda/task.h> /* against the direction: faults become signals */
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
		.type_attr = GATE_INTERRUPT,
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

/* The signal a user-mode exception turns into (as Linux maps them). */
static int exception_signal(uint64_t vector)
{
	switch (vector) {
	case X86_TRAP_DE: case 16 /* #MF */: case 19 /* #XM */: return SIGFPE;
	case X86_TRAP_DB: case X86_TRAP_BP: return SIGTRAP;
	case X86_TRAP_UD: return SIGILL;
	case 17 /* #AC */: return SIGBUS;
	default: return SIGSEGV;
	}
}

/* An exception in user mode: paging may resolve a #PF; anything else
 * ends (or signals) only the task that caused it. */
static void handle_user_exception(struct trap_frame *tf)
{
	uintptr_t addr = tf->vector == X86_TRAP_PF ? read_cr2() : tf->rip;

	if (tf->vector == X86_TRAP_PF && mm_fault_user_address(tf, addr))
		return;
	task_fault_kill(tf, exception_signal(tf->vector), addr);
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
	if (tf->vector == X86_TRAP_PF && mm_fault_user_address(tf, read_cr2()))
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
	if (tf->vector < NR_EXCEPTIONS)
		handle_exception(tf);
	else if (irq_handlers[tf->vector])
		irq_handlers[tf->vector](tf);
	else if (tf->vector != SPURIOUS_VECTOR)
		printk(KERN_WARNING "trap: unexpected interrupt on vector %lu\n", tf->vector);
	return_to_user_work(tf); /* only acts when returning to user mode */
}
