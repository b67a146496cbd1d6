/* Tests of exception handling: faults taken on purpose inside a test are
 * caught through the exception table and reported with the right CR2 and
 * error code, and the #DF handler is set up to run on its own stack. */
#include <pagoda/errno.h>
#include <asm/gdt.h>
#include <pagoda/ktest.h>
#include <pagoda/percpu.h>
#include <asm/uaccess.h>
#include <pagoda/string.h>
#include <asm/trap.h>

extern char boot_stack_guard[], df_stack_guard[], df_stack_top[];

#define UNMAPPED_USER_ADDR 0x00007f0000000000UL /* the boot tables map no user space above 4 GiB */
#define NONCANONICAL_ADDR 0x8000000000000000UL

static void trap_pf_on_guard_page_reports_cr2(struct ktest *t)
{
	uint64_t before = last_fixup.count;
	uint8_t v;

	KASSERT_EQ(t, probe_read_u8(boot_stack_guard + 8, &v), -EFAULT);
	KEXPECT_EQ(t, last_fixup.count, before + 1);
	KEXPECT_EQ(t, last_fixup.vector, X86_TRAP_PF);
	KEXPECT_EQ(t, last_fixup.cr2, (uint64_t)(uintptr_t)(boot_stack_guard + 8));
	/* not present, read, from the kernel */
	KEXPECT_EQ(t, last_fixup.error_code & (PF_PRESENT | PF_WRITE | PF_USER), 0);
	ktest_log(t, "caught #PF at CR2=%#lx error=%#lx", last_fixup.cr2, last_fixup.error_code);
}

static void trap_pf_write_sets_write_bit(struct ktest *t)
{
	KASSERT_EQ(t, probe_write_u8((void *)UNMAPPED_USER_ADDR, 1), -EFAULT);
	KEXPECT_EQ(t, last_fixup.vector, X86_TRAP_PF);
	KEXPECT_EQ(t, last_fixup.cr2, UNMAPPED_USER_ADDR);
	KEXPECT_TRUE(t, last_fixup.error_code & PF_WRITE);
	KEXPECT_FALSE(t, last_fixup.error_code & PF_PRESENT);
}

static void trap_gp_on_noncanonical_address_is_caught(struct ktest *t)
{
	uint8_t v;

	KASSERT_EQ(t, probe_read_u8((void *)NONCANONICAL_ADDR, &v), -EFAULT);
	KEXPECT_EQ(t, last_fixup.vector, X86_TRAP_GP);
}

static void trap_probe_reads_mapped_memory(struct ktest *t)
{
	static volatile uint8_t cell = 0x5a;
	uint64_t before = last_fixup.count;
	uint8_t v = 0;

	KEXPECT_EQ(t, probe_read_u8(&cell, &v), 0);
	KEXPECT_EQ(t, v, 0x5a);
	KEXPECT_EQ(t, probe_write_u8(&cell, 0xa5), 0);
	KEXPECT_EQ(t, cell, 0xa5);
	KEXPECT_EQ(t, last_fixup.count, before);
}

static void trap_pf_error_code_is_decoded(struct ktest *t)
{
	char buf[96];

	pf_describe(0, buf, sizeof(buf));
	KEXPECT_STREQ(t, buf, "not-present read kernel");
	pf_describe(PF_PRESENT | PF_WRITE | PF_USER, buf, sizeof(buf));
	KEXPECT_STREQ(t, buf, "protection write user");
	pf_describe(PF_PRESENT | PF_INSTR | PF_RSVD, buf, sizeof(buf));
	KEXPECT_STREQ(t, buf, "protection instruction-fetch kernel reserved-bit");
}

static void trap_double_fault_runs_on_ist_stack(struct ktest *t)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr;
	const uint8_t *gate;

	__asm__ __volatile__("sidt %0" : "=m"(idtr));
	gate = (const uint8_t *)idtr.base + 16 * X86_TRAP_DF;
	KEXPECT_EQ(t, gate[4] & 7, IST_DOUBLE_FAULT);
	KEXPECT_EQ(t, this_cpu()->arch.tss.ist[IST_DOUBLE_FAULT - 1], (uint64_t)(uintptr_t)df_stack_top);
	/* And the stack below it ends in an unmapped guard page. */
	uint8_t v;
	KEXPECT_EQ(t, probe_read_u8(df_stack_guard, &v), -EFAULT);
}

static const struct ktest_case trap_cases[] = {
	KTEST_CASE(trap_pf_on_guard_page_reports_cr2),
	KTEST_CASE(trap_pf_write_sets_write_bit),
	KTEST_CASE(trap_gp_on_noncanonical_address_is_caught),
	KTEST_CASE(trap_probe_reads_mapped_memory),
	KTEST_CASE(trap_pf_error_code_is_decoded),
	KTEST_CASE(trap_double_fault_runs_on_ist_stack),
};
KTEST_SUITE(trap, trap_cases);
