/* Starting the other CPUs (include/pagoda/smp.h).
 *
 * The firmware lists the processors in the ACPI MADT. Each other CPU
 * ("application processor", AP) waits halted until the boot CPU sends it
 * INIT, then two start-up IPIs naming the page where it should begin
 * (Intel SDM Vol. 3A, 8.4.4 "MP Initialization Example"):
 *
 *   boot CPU                               AP
 *   copy the trampoline below 1 MiB,
 *   fill in stack, CR3, entry, CPU number
 *   INIT; wait 10 ms
 *   SIPI(page); wait 200 us                real mode at page * 4096
 *   SIPI(page) if it has not answered      -> protected -> long mode
 *   wait for it to say "online"            ap_entry(): its GDT, TSS, IDT,
 *                                          GS, PAT, SMEP/SMAP, FPU, APIC
 *                                          timer, idle task; "online";
 *                                          its idle loop
 *
 * One CPU is started at a time, so one trampoline page with one set of
 * parameters serves all. A CPU that does not answer within a second is
 * reported and left out (if it comes up later, it finds itself abandoned
 * and halts). */
#define pr_fmt(fmt) "smp: " fmt

#include <pagoda/atomic.h>
#include <pagoda/cache.h>
#include <pagoda/cmdline.h>
#include <pagoda/errno.h>
#include <pagoda/kstack.h>
#include <pagoda/madt.h>
#include <pagoda/memblock.h>
#include <pagoda/mm.h>
#include <pagoda/percpu.h>
#include <pagoda/pgtable.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/sched.h>
#include <pagoda/slab.h>
#include <pagoda/smp.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/syscall.h>
#include <asm/trap.h>
#include <asm/uaccess.h>
#include <asm/x86.h>

#define XAPIC_MAX_ID 254             /* 255 is the broadcast ID */
#define ANSWER_TIMEOUT_US 1000000    /* TCG with several busy CPUs is slow */
#define EFER_NXE (1ULL << 11)
#define PTE_TABLE (PTE_PRESENT | PTE_WRITE)

extern const char trampoline_start[], trampoline_end[];
extern const char tr_jmp32_offset[], tr_gdtr_base[], tr_jmp64_offset[];
extern const char tr_cr3[], tr_efer[], tr_stack[], tr_entry[], tr_arg[];
extern const char tr_pm32[], tr_lm64[], tr_gdt_sym[];

static phys_addr_t trampoline_pa; /* reserved below 1 MiB at boot */
static unsigned int cpus_listed;
static bool abandoned[MAX_CPUS];   /* written by the boot CPU before giving up */

void ap_entry(unsigned long cpu);

/* ---- the trampoline's page tables and parameters ---- */

static uint64_t *table_page(phys_addr_t *pa)
{
	struct page *p = alloc_page(GFP_KERNEL | __GFP_DMA32 | __GFP_ZERO);

	if (!p)
		return NULL;
	*pa = page_to_phys(p);
	return page_address(p);
}

/* A PML4 below 4 GiB (CR3 is loaded in 32-bit mode) with the kernel half
 * of the kernel's, and the first 2 MiB identity-mapped, where the
 * trampoline runs while paging comes on. 0 when out of memory. */
static phys_addr_t trampoline_tables(void)
{
	phys_addr_t pml4_pa = 0, pdpt_pa = 0, pd_pa = 0;
	uint64_t *pml4 = table_page(&pml4_pa), *pdpt = table_page(&pdpt_pa),
		 *pd = table_page(&pd_pa);

	if (!pml4 || !pdpt || !pd)
		return 0; /* a few pages: not worth giving back on this path */
	memcpy(pml4 + PT_ENTRIES / 2, (uint64_t *)phys_to_virt(kernel_pml4) + PT_ENTRIES / 2,
	       PT_ENTRIES / 2 * sizeof(uint64_t));
	pml4[0] = pdpt_pa | PTE_TABLE;
	pdpt[0] = pd_pa | PTE_TABLE;
	pd[0] = 0 | PTE_TABLE | PTE_PS; /* [0, 2 MiB), executable */
	return pml4_pa;
}

static void put_param(const char *field, uint64_t value, size_t size)
{
	uint8_t *page = phys_to_virt(trampoline_pa);

	memcpy(page + (field - trampoline_start), &value, size);
}

/* Copy the trampoline and fill in what does not change per CPU. */
static void trampoline_install(phys_addr_t cr3)
{
	memcpy(phys_to_virt(trampoline_pa), trampoline_start, trampoline_end - trampoline_start);
	put_param(tr_jmp32_offset, trampoline_pa + (tr_pm32 - trampoline_start), 4);
	put_param(tr_gdtr_base, trampoline_pa + (tr_gdt_sym - trampoline_start), 4);
	put_param(tr_jmp64_offset, trampoline_pa + (tr_lm64 - trampoline_start), 4);
	put_param(tr_cr3, cr3, 8);
	put_param(tr_efer, cpu.nx ? EFER_NXE : 0, 8);
	put_param(tr_entry, (uintptr_t)ap_entry, 8);
}

/* ---- one CPU ---- */

/* Stacks and idle task for CPU id; false when out of memory. */
static bool prepare_cpu(unsigned int id, uint32_t apic_id)
{
	struct percpu *c = cpu_area(id);
	struct task *idle = kzalloc(sizeof(*idle), GFP_KERNEL);

	if (!idle)
		return false;
	idle->kstack_top = kstack_alloc();
	c->arch.df_stack_top = kstack_alloc();
	if (!idle->kstack_top || !c->arch.df_stack_top) {
		if (idle->kstack_top)
			kstack_free(idle->kstack_top);
		if (c->arch.df_stack_top)
			kstack_free(c->arch.df_stack_top);
		kfree(idle);
		return false;
	}
	c->id = id;
	c->arch.apic_id = apic_id;
	c->idle = idle;
	put_param(tr_stack, idle->kstack_top, 8);
	put_param(tr_arg, id, 8);
	return true;
}

static bool wait_online(unsigned int id, uint64_t us)
{
	for (uint64_t waited = 0; waited < us; waited += 100) {
		if (READ_ONCE(cpu_area(id)->online))
			return true;
		udelay(100);
	}
	return READ_ONCE(cpu_area(id)->online);
}

/* INIT-SIPI-SIPI; true when the CPU said it is online. */
static bool start_cpu(unsigned int id, uint32_t apic_id)
{
	uint8_t page = (uint8_t)(trampoline_pa >> PAGE_SHIFT);

	lapic_send_init(apic_id);
	udelay(10000);
	lapic_send_startup(apic_id, page);
	if (wait_online(id, 200))
		return true;
	lapic_send_startup(apic_id, page);
	return wait_online(id, ANSWER_TIMEOUT_US);
}

/* ---- the AP's side ---- */

/* Where each AP arrives in the kernel, on its idle task's stack, with
 * interrupts off, CR3 still the trampoline's. */
void ap_entry(unsigned long cpu)
{
	struct percpu *c = cpu_area(cpu);

	write_cr3(kernel_pml4);
	arch_percpu_load(&c->arch);
	if (READ_ONCE(abandoned[cpu]))
		for (;;)
			hlt(); /* too late: the boot went on without us */
	trap_cpu_init();
	syscall_cpu_init();
	pat_init();
	uaccess_cpu_init();
	fpu_cpu_init();
	pmm_cpu_init();
	lapic_cpu_init();
	sched_init_cpu(c->idle);
	atomic_set_bit(&cpu_online_mask, (unsigned int)cpu);
	WRITE_ONCE(c->online, true);
	sched_idle_loop();
}

/* ---- the boot CPU's side ---- */

/* How many CPUs the command line allows: nosmp and maxcpus=N, as Linux. */
static unsigned int cpu_limit(void)
{
	const char *v = kernel_param("maxcpus");
	uint64_t n;
	const char *end;

	if (kernel_param("nosmp"))
		return 1;
	if (v && kstrtou64_prefix(v, &end, &n) == 0 && !*end)
		return n == 0 ? 1 : (unsigned int)MIN(n, (uint64_t)MAX_CPUS);
	return MAX_CPUS;
}

/* Try every listed CPU but this one, while the limit allows. */
static void start_listed(const struct madt_cpu *list, int n, unsigned int limit)
{
	uint32_t self = lapic_id();
	unsigned int next_id = 1;

	for (int i = 0; i < n && next_id < limit; i++) {
		if (list[i].apic_id == self)
			continue;
		if (list[i].apic_id > XAPIC_MAX_ID) {
			pr_warn("CPU with x2APIC ID %u cannot be started in xAPIC mode; left out\n",
				list[i].apic_id);
			continue;
		}
		if (!prepare_cpu(next_id, list[i].apic_id)) {
			pr_warn("out of memory for CPU %u; left out\n", next_id);
			break;
		}
		if (!start_cpu(next_id, list[i].apic_id)) {
			WRITE_ONCE(abandoned[next_id], true);
			pr_warn("CPU with APIC ID %u did not answer; left out\n", list[i].apic_id);
			continue;
		}
		next_id++;
	}
}

unsigned int smp_boot_cpus(void)
{
	static struct madt_cpu list[MAX_CPUS * 2];
	unsigned int limit = cpu_limit();
	phys_addr_t cr3;
	int n;

	this_cpu()->arch.apic_id = lapic_id();
	trampoline_pa = memblock_low_page();
	n = acpi_madt_cpus(list, ARRAY_SIZE(list));
	cpus_listed = n > 0 ? (unsigned int)n : 1;
	if (n <= 1 || limit <= 1 || !trampoline_pa) {
		if (n < 0)
			pr_info("no usable MADT (error %d): one CPU\n", n);
		else if (!trampoline_pa && n > 1)
			pr_warn("no usable page below 1 MiB for the start-up code: one CPU\n");
		goto out;
	}
	if (!(cr3 = trampoline_tables())) {
		pr_warn("out of memory for the start-up page tables: one CPU\n");
		goto out;
	}
	trampoline_install(cr3);
	start_listed(list, n, limit);
out:
	pr_info("%u of %u CPUs online%s\n", nr_cpus_online(), cpus_listed,
		limit < cpus_listed ? " (limited by the command line)" : "");
	return nr_cpus_online();
}

unsigned int smp_cpus_listed(void)
{
	return cpus_listed;
}
