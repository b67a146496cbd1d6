/* panic(): the end of the line for a broken kernel invariant. Print why,
 * the registers, and the call chain with function names, then stop. */
#include <stdarg.h>
#include <pagoda/ksyms.h>
#include <pagoda/panic.h>
#include <pagoda/power.h>
#include <pagoda/printk.h>
#include <asm/trap.h>
#include <asm/x86.h>

#define BACKTRACE_MAX 24

static bool in_panic;

static void print_symbol(const char *prefix, uintptr_t addr)
{
	uintptr_t off;
	const char *name = ksyms_lookup(addr, &off);

	if (name)
		printk(KERN_EMERG "%s[<%016lx>] %s+0x%lx\n", prefix, addr, name, off);
	else
		printk(KERN_EMERG "%s[<%016lx>] ?\n", prefix, addr);
}

/* The next frame of the frame-pointer chain, or 0 at its end. Only
 * aligned frame pointers inside [lo, hi) are followed, and each must be
 * above the last, so a corrupt chain ends the walk instead of faulting. */
static uintptr_t next_frame(uintptr_t rbp, uintptr_t last, uintptr_t lo, uintptr_t hi)
{
	if (rbp < lo || rbp > hi - 16 || (rbp & 7) || rbp <= last)
		return 0;
	return rbp;
}

int backtrace_collect_within(uintptr_t rbp, uintptr_t lo, uintptr_t hi, uintptr_t *out, int max)
{
	uintptr_t last = 0;
	int n = 0;

	if (hi < 16)
		return 0;
	while (n < max && (rbp = next_frame(rbp, last, lo, hi))) {
		uintptr_t ret = ((uintptr_t *)rbp)[1];
		if (!ret)
			break;
		out[n++] = ret;
		last = rbp;
		rbp = ((uintptr_t *)rbp)[0];
	}
	return n;
}

int backtrace_collect(uintptr_t rbp, uintptr_t *out, int max)
{
	return backtrace_collect_within(rbp, 0xffff800000000000UL, UINTPTR_MAX, out, max);
}

/* Follow the frame-pointer chain (every function is compiled with
 * -fno-omit-frame-pointer: [rbp] = caller's rbp, [rbp+8] = return address).
 * Only kernel-half, aligned frame pointers are followed, and each must be
 * above the last, so a corrupt chain ends the walk instead of faulting. */
void dump_backtrace(uintptr_t rbp)
{
	uintptr_t chain[BACKTRACE_MAX];
	int n = backtrace_collect(rbp, chain, BACKTRACE_MAX);

	printk(KERN_EMERG "Call trace:\n");
	for (int i = 0; i < n; i++)
		print_symbol("  ", chain[i]);
}

static void dump_registers(const struct trap_frame *tf)
{
	printk(KERN_EMERG "RIP: %04lx:%016lx RFLAGS: %08lx\n", tf->cs, tf->rip, tf->rflags);
	print_symbol("RIP is at ", tf->rip);
	printk(KERN_EMERG "RSP: %04lx:%016lx ERR: %lx VEC: %lu\n", tf->ss, tf->rsp,
	       tf->error_code, tf->vector);
	printk(KERN_EMERG "RAX: %016lx RBX: %016lx RCX: %016lx\n", tf->rax, tf->rbx, tf->rcx);
	printk(KERN_EMERG "RDX: %016lx RSI: %016lx RDI: %016lx\n", tf->rdx, tf->rsi, tf->rdi);
	printk(KERN_EMERG "RBP: %016lx R08: %016lx R09: %016lx\n", tf->rbp, tf->r8, tf->r9);
	printk(KERN_EMERG "R10: %016lx R11: %016lx R12: %016lx\n", tf->r10, tf->r11, tf->r12);
	printk(KERN_EMERG "R13: %016lx R14: %016lx R15: %016lx\n", tf->r13, tf->r14, tf->r15);
	printk(KERN_EMERG "CR0: %016lx CR2: %016lx CR3: %016lx CR4: %016lx\n",
	       read_cr0(), read_cr2(), read_cr3(), read_cr4());
}


static __noreturn void halt_forever(void)
{
	printk(KERN_EMERG "---[ end Kernel panic ]---\n");
	/* Under make test, end QEMU with a failing verdict at once, instead
	 * of leaving the run to its timeout. */
	if (debug_exit_present())
		outl(DEBUG_EXIT_PORT, PANIC_EXIT_CODE);
	for (;;) {
		cli();
		hlt();
	}
}

static void panic_header(const char *fmt, va_list ap)
{
	char msg[256];

	cli();
	if (in_panic)
		halt_forever(); /* a panic while panicking (or on two CPUs): say nothing more */
	in_panic = true;
	console_lock_for_panic();
	vsnprintf(msg, sizeof(msg), fmt, ap);
	printk(KERN_EMERG "Kernel panic: %s\n", msg);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	panic_header(fmt, ap);
	va_end(ap);
	dump_backtrace((uintptr_t)__builtin_frame_address(0));
	halt_forever();
}

void panic_frame(const struct trap_frame *tf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	panic_header(fmt, ap);
	va_end(ap);
	dump_registers(tf);
	print_symbol("  ", tf->rip);
	dump_backtrace(tf->rbp);
	halt_forever();
}
