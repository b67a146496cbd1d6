/* kmain: where the kernel starts in C, on the boot stack, in the top 2 GiB,
 * with the boot page tables of boot/entry.asm. The order below is the
 * order of dependence: the serial console first so that anything after it
 * can complain; the boot information before anything that reads it; traps
 * before anything that might fault. */
#include <pagoda/acpi.h>
#include <pagoda/bootfb.h>
#include <pagoda/bootinfo.h>
#include <pagoda/cache.h>
#include <pagoda/cmdline.h>
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/fbcon.h>
#include <pagoda/fbdev.h>
#include <pagoda/ioremap.h>
#include <pagoda/kbench.h>
#include <pagoda/ktest.h>
#include <pagoda/layout.h>
#include <pagoda/mm_init.h>
#include <asm/mtrr.h>
#include <pagoda/multiboot2.h>
#include <pagoda/panic.h>
#include <pagoda/pci.h>
#include <pagoda/pmm_deferred.h>
#include <pagoda/percpu.h>
#include <pagoda/power.h>
#include <pagoda/procfs.h>
#include <pagoda/profile.h>
#include <pagoda/printk.h>
#include <pagoda/sched.h>
#include <pagoda/shmem.h>
#include <pagoda/serial.h>
#include <pagoda/smp.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/task.h>
#include <pagoda/thp.h>
#include <pagoda/timer.h>
#include <pagoda/stackprotector.h>
#include <asm/trap.h>
#include <pagoda/vfs.h>
#include <pagoda/vgacon.h>
#include <asm/x86.h>

#define IDENTITY_MAP_END (4ULL << 30) /* boot/entry.asm identity-maps 4 GiB */

void kmain(uint32_t magic, uint32_t mbi_phys);
extern char df_stack_top[]; /* boot/entry.asm, with a guard page below */
uint64_t kmain_tsc; /* TSC at kmain entry, for boot-time figures */

static void parse_boot_info(uint32_t magic, uint32_t mbi_phys)
{
	char err[160];

	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("not booted by a multiboot2 loader (EAX=%#x, expected %#x)", magic,
		      MB2_BOOTLOADER_MAGIC);
	if (mbi_phys == 0 || mbi_phys % 8)
		panic("multiboot2: boot information pointer %#x is not 8-byte aligned", mbi_phys);
	/* Below 4 GiB (EBX is 32 bits), so inside the boot identity map. */
	if (mb2_parse((const void *)(uintptr_t)mbi_phys, &boot_info, err, sizeof(err)) < 0)
		panic("%s", err);
}

/* The screen's console, on what drivers/bootfb.c made of the boot loader's
 * framebuffer: fbcon on a linear RGB one (write-combining, through
 * ioremap, so it works wherever the firmware put it, above 4 GiB
 * included), vgacon on the EGA text buffer, else none. */
static void start_fbcon(void)
{
	const struct boot_framebuffer *fb;
	void *va;

	bootfb_init();
	if (bootfb_kind() == BOOTFB_EGA_TEXT) {
		if (vgacon_init(&boot_info.fb) < 0)
			pr_warn("vgacon: cannot use the text buffer at %#llx\n",
				(unsigned long long)boot_info.fb.addr);
		return;
	}
	fb = bootfb_rgb();
	if (!fb)
		return;
	va = ioremap_wc(fb->addr, (size_t)fb->pitch * fb->height);
	if (!va || fbcon_init(fb, va) < 0) {
		pr_warn("fbcon: cannot use the %ux%ux%u framebuffer at %#llx\n", fb->width,
			fb->height, fb->bpp, (unsigned long long)fb->addr);
		return;
	}
	pr_info("Pagoda: framebuffer console on %ux%u at %#llx\n", fb->width, fb->height,
		(unsigned long long)fb->addr);
}

static void print_boot_info(void)
{
	const struct boot_info *bi = &boot_info;

	pr_info("Pagoda booting via %s (%s)\n", bi->loader_name[0] ? bi->loader_name : "?",
		bi->booted_via_efi ? "UEFI" : "BIOS");
	pr_info("command line: %s\n", bi->cmdline);
	for (unsigned int i = 0; i < bi->nr_mmap; i++)
		pr_info("  mem [%#018llx-%#018llx) type %u\n", (unsigned long long)bi->mmap[i].base,
			(unsigned long long)(bi->mmap[i].base + bi->mmap[i].len), bi->mmap[i].type);
	pr_info("usable RAM: %llu MiB\n", (unsigned long long)(boot_mmap_usable_bytes(bi) >> 20));
	if (bi->has_framebuffer)
		pr_info("framebuffer: %ux%u, %u bpp, pitch %u at %#llx\n", bi->fb.width,
			bi->fb.height, bi->fb.bpp, bi->fb.pitch, (unsigned long long)bi->fb.addr);
	for (unsigned int i = 0; i < bi->nr_modules; i++)
		pr_info("module %u: [%#llx-%#llx) %s\n", i, (unsigned long long)bi->modules[i].start,
			(unsigned long long)bi->modules[i].end, bi->modules[i].cmdline);
}

static void apply_params(void)
{
	const char *v = kernel_param("loglevel");
	const char *end;
	uint64_t n;

	if (v) {
		if (kstrtou64_prefix(v, &end, &n) == 0 && !*end && n <= 8)
			printk_set_loglevel((int)n);
		else
			pr_warn("cmdline: loglevel=%s is not a number from 0 to 8; ignored\n", v);
	}
}

/* Run the self-tests unless ktest=off. Returns the number of failures. */
static unsigned int run_self_tests(void)
{
	const char *filter = kernel_param("ktest");
	unsigned int pass, fail, skip;

	if (filter && strcmp(filter, "off") == 0)
		return 0;
	ktest_run_all(filter, &pass, &fail, &skip);
	ktest_print_summary();
	return fail;
}

/* Start pid 1: init= from the command line, else /sbin/init, else /init,
 * with the words after "--" as its arguments (as Linux does). Returns 0,
 * or a negative errno when no init could be started. */
static int start_init(void)
{
	static const char *const envp[] = { "HOME=/", "TERM=linux",
					    "PATH=/sbin:/usr/sbin:/bin:/usr/bin", NULL };
	static const char *const fallback[] = { "/sbin/init", "/init" };
	const char *argv[CMDLINE_MAX_PARAMS + 2];
	const char *want = kernel_param("init");
	int ret = -ENOENT;

	for (unsigned int i = 0; i < kernel_cmdline.nr_init_args; i++)
		argv[i + 1] = kernel_cmdline.init_args[i];
	argv[kernel_cmdline.nr_init_args + 1] = NULL;
	for (unsigned int i = 0; i < (want ? 1 : ARRAY_SIZE(fallback)); i++) {
		argv[0] = want ? want : fallback[i];
		ret = task_start_init(argv[0], argv, envp);
		if (ret == 0) {
			pr_info("init: started %s as pid 1\n", argv[0]);
			return 0;
		}
		pr_warn("init: cannot start %s: error %d\n", argv[0], ret);
	}
	return ret;
}

/* How much of the deferred descriptor work was left when the benchmarks
 * started, and how long this CPU takes to finish it alone. */
static void report_deferred_init(uint64_t hz)
{
	uint64_t left = pmm_deferred_blocks_left(), t0 = rdtsc(), took;
	struct pmm_deferred_stats st;

	pmm_deferred_wait();
	took = rdtsc() - t0;
	pmm_deferred_get_stats(&st);
	pr_info("kbench: deferred frame init: %llu of %llu blocks left, finished in %llu us; "
		"all done %llu us after kmain\n",
		(unsigned long long)left, (unsigned long long)st.blocks_total,
		hz ? (unsigned long long)(took * 1000000 / hz) : 0ULL,
		hz && st.done_tsc ? (unsigned long long)((st.done_tsc - kmain_tsc) / (hz / 1000000))
				  : 0ULL);
}

static void run_benchmarks(void)
{
	uint64_t hz = tsc_hz();

	pr_info("kbench: mm_init: %llu cycles from kmain (%llu us); %llu us since reset\n",
		(unsigned long long)mm_init_cycles,
		hz ? (unsigned long long)(mm_init_cycles * 1000000 / hz) : 0ULL,
		hz ? (unsigned long long)((kmain_tsc + mm_init_cycles) / (hz / 1000000)) : 0ULL);
	report_deferred_init(hz);
	kbench_run_all(kernel_param("kbench"));
}

void kmain(uint32_t magic, uint32_t mbi_phys)
{
	unsigned int failures;

	stack_protector_init(); /* first: every function that returns checks it */
	kmain_tsc = rdtsc();
	percpu_init(0, 0); /* the APIC ID is filled in when the APIC is up */
	this_cpu()->arch.df_stack_top = (uintptr_t)df_stack_top;
	serial_init();
	cpu_init();
	trap_init();
	parse_boot_info(magic, mbi_phys);
	cmdline_parse(&kernel_cmdline, boot_info.cmdline);
	if (kernel_cmdline.nr_ignored)
		pr_warn("cmdline: more than %d options; ignoring the last %u\n",
			CMDLINE_MAX_PARAMS, kernel_cmdline.nr_ignored);
	apply_params();
	pat_init();
	mtrr_init();
	print_boot_info();
	sched_init();
	mm_init(&boot_info, &kernel_cmdline);
	profile_init(); /* profile=N: the counters, before the first tick */
	acpi_init(&boot_info);
	pci_init();
	start_fbcon(); /* after PCI: the framebuffer is checked against the BARs */
	vfs_init();
	procfs_init();
	shmem_init();
	pci_sysfs_init();
	thp_sysfs_init();
	fbdev_init();
	devmem_init();
	initramfs_load_boot_module();
	syscall_init();
	smp_ipi_init();
	if (timer_init() == 0) {
		sti();
		smp_boot_cpus();
	}

	failures = run_self_tests();
	/* Every structure the tasks share is locked: let all CPUs run them. */
	sched_enable_balance();
	if (kernel_param("kbench"))
		run_benchmarks();
	/* Under make test, a kernel that failed its own tests stops here;
	 * otherwise init's exit status becomes the verdict. */
	if (debug_exit_present() && failures)
		poweroff(1);
	if (start_init() < 0) {
		pr_info("Pagoda is up, with no init to run. Idle.\n");
		if (debug_exit_present())
			poweroff(0);
	}
	sched_idle_loop();
}
