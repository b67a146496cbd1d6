/* /proc: a file system whose files are generated when opened (see
 * include/pagoda/procfs.h and docs/proc.md).
 *
 * Nothing of /proc is stored: /proc itself is a ramfs directory whose
 * lookup and getdents vfs_set_dir_ops() hands to this file. Its fixed
 * entries are static inodes; /proc/PID directories get their inodes from a
 * small pool, one set per pid, recycled once the task is gone and no
 * open file points at the set (struct inode has no reference count, so
 * only procfs_shrink() frees a set, and only such a one). Opening
 * a file runs its show function into a kmalloc'd buffer; reads copy from
 * it; the last close frees it. */
#include <stdarg.h>
#include <asm/cpu.h>
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/invariants.h>
#include <pagoda/fs_struct.h>
#include <pagoda/mm.h>
#include <pagoda/pagemap.h>
#include <pagoda/layout.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/procfs.h>
#include <pagoda/profile.h>
#include <pagoda/resource.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/sysrq.h>
#include <pagoda/task.h>
#include <pagoda/thp.h>
#include <pagoda/timer.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

/* Inode numbers: /proc's fixed entries, then 32 per pid. */
#define PROC_INO_ROOT_BASE 0xf0000000ULL
#define PROC_INO_PID_BASE 0x10000000ULL
#define PROC_INO_PER_PID 32
#define PROC_INO_PAGODA_BASE 0xf0000100ULL

/* The largest file we generate: one MAX_ORDER block. */
#define PROC_BUF_MAX (PAGE_SIZE << MAX_ORDER)
/* How much of a process's argument strings /proc/PID/cmdline shows. */
#define PROC_CMDLINE_MAX (64 * 1024)

/* ---- Text output that keeps counting past the end of the buffer ---- */

/* Like snprintf(): len is the length the text needs, even when it is more
 * than size; the text is complete when len < size. */
struct seq_buf {
	char *buf;
	size_t size;
	size_t len;
	/* The process's address space, pinned and read-locked while its
	 * files are generated (NULL for a kernel task, a zombie, or a file
	 * outside /proc/PID): use it, never the task's mm field, which exec
	 * and exit change under us. */
	struct mm_struct *mm;
};

static void seq_write(struct seq_buf *s, const void *p, size_t n)
{
	if (s->len < s->size)
		memcpy(s->buf + s->len, p, MIN(n, s->size - s->len));
	s->len += n;
}

static __printf(2, 3) void seq_printf(struct seq_buf *s, const char *fmt, ...)
{
	size_t at = MIN(s->len, s->size);
	va_list ap;

	va_start(ap, fmt);
	s->len += vsnprintf(s->buf + at, s->size - at, fmt, ap);
	va_end(ap);
}

/* Pad with spaces until the line that began at line_start is width bytes
 * long, then one more space: Linux's seq_setwidth() + seq_pad(m, ' '). */
static void seq_pad(struct seq_buf *s, size_t line_start, size_t width)
{
	size_t used = s->len - line_start;

	if (used < width)
		seq_printf(s, "%*s", (int)(width - used), "");
	seq_write(s, " ", 1);
}

/* NUL-terminate (when size > 0) and return the snprintf-style length. */
static int seq_finish(struct seq_buf *s)
{
	if (s->size)
		s->buf[MIN(s->len, s->size - 1)] = '\0';
	return (int)s->len;
}

/* ---- /proc/PID/maps ---- */

/* The name column of a VMA, as Linux's show_map_vma() chooses it: the
 * file's path, the driver's vm_ops->name(), then [heap] and [stack] (the
 * Linux 6.1 tests, ends included), or NULL for a plain anonymous VMA. */
static const char *maps_vma_name(const struct mm_struct *mm, const struct vm_area_struct *v)
{
	if (v->vm_file) {
		if (v->vm_file->path[0])
			return v->vm_file->path;
		if (v->vm_file->name)
			return v->vm_file->name;
	}
	if (v->vm_ops && v->vm_ops->name) {
		const char *name = v->vm_ops->name((struct vm_area_struct *)v);
		if (name)
			return name;
	}
	if (v->vm_start <= mm->brk && v->vm_end >= mm->start_brk)
		return "[heap]";
	if (v->vm_start <= mm->start_stack && v->vm_end >= mm->start_stack)
		return "[stack]";
	return NULL;
}

/* Linux's seq_setwidth(m, 25 + sizeof(void *) * 6 - 1): a name is padded
 * to this column, then one space. */
#define MAPS_NAME_PAD (25 + 6 * sizeof(void *) - 1)

/* One line: "start-end perms offset major:minor inode ", then, for a VMA
 * with a name, spaces up to column 72, a space and the name (at column 73).
 * Offset, device and inode describe the file (the device as stat() gives
 * it: ramfs is 00:01, the others 00:02); an anonymous VMA shows 0 for all
 * three whatever its vm_pgoff. A file with no name left (unlinked, or
 * shmem: shared anonymous memory is "/dev/zero (deleted)", a memfd
 * "/memfd:NAME (deleted)") says so, as Linux's d_path(). */
static void maps_show_vma(struct seq_buf *s, const struct mm_struct *mm,
			  const struct vm_area_struct *v)
{
	const struct inode *inode = v->vm_file ? v->vm_file->inode : NULL;
	unsigned long f = v->vm_flags;
	unsigned long long off = 0;
	unsigned long ino = 0;
	unsigned int dev = 0;
	size_t line_start = s->len;
	const char *name;

	if (v->vm_file)
		off = (unsigned long long)v->vm_pgoff << PAGE_SHIFT;
	if (inode) {
		ino = inode->ino;
		dev = ramfs_owns(inode) ? 1 : 2;
	}
	seq_printf(s, "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu ", (unsigned long)v->vm_start,
		   (unsigned long)v->vm_end, f & VM_READ ? 'r' : '-', f & VM_WRITE ? 'w' : '-',
		   f & VM_EXEC ? 'x' : '-', f & VM_MAYSHARE ? 's' : 'p', off, 0, dev, ino);
	name = maps_vma_name(mm, v);
	if (name) {
		seq_pad(s, line_start, MAPS_NAME_PAD);
		seq_printf(s, "%s%s", name,
			   inode && S_ISREG(inode->mode) && !inode->nlink ? " (deleted)" : "");
	}
	seq_write(s, "\n", 1);
}

static void show_maps_mm(struct seq_buf *s, struct mm_struct *mm)
{
	struct list_head *pos;

	if (!mm)
		return;
	list_for_each(pos, &mm->vma_list)
		maps_show_vma(s, mm, list_entry(pos, struct vm_area_struct, vm_list));
}

int procfs_format_maps(struct mm_struct *mm, char *buf, size_t size)
{
	struct seq_buf s = { buf, size, 0, NULL };

	show_maps_mm(&s, mm);
	return seq_finish(&s);
}

static void show_maps(struct seq_buf *s, struct task *t)
{
	show_maps_mm(s, s->mm);
}

/* ---- /proc/meminfo ---- */

/* Linux's show_val_kb(): the label padded to 16 columns, the value in kB
 * right-aligned in 8. */
static void meminfo_line(struct seq_buf *s, const char *label, uint64_t pages)
{
	seq_printf(s, "%-16s%8llu kB\n", label, (unsigned long long)(pages * (PAGE_SIZE / 1024)));
}

static uint64_t slab_pages(void)
{
	struct kmalloc_stats st[32];
	unsigned int n = kmalloc_get_stats(st, ARRAY_SIZE(st));
	uint64_t pages = 0;

	for (unsigned int i = 0; i < MIN(n, ARRAY_SIZE(st)); i++)
		pages += st[i].slabs;
	return pages;
}

static uint64_t nr_tasks(void)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock), n = 0;
	struct list_head *pos;

	list_for_each(pos, &task_list)
		n++;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return n;
}

/* Everything lives in RAM, with no swap: the file data of ramfs is the
 * page cache (Cached, of which Shmem is the shmem files' and Mapped what
 * page tables map), part of what MemTotal - MemFree counts as used, and
 * never reclaimed (so not in MemAvailable). MemFree is
 * exact: the allocator's free frames once kmalloc has given back the
 * empty slabs it keeps for speed, so that a process that ends leaves it
 * where it was (the OOM and zero-page tests hold it to that). */
static void show_meminfo(struct seq_buf *s, struct task *t)
{
	uint64_t total = pmm_total_pages(), free = (kmalloc_shrink(), pmm_free_pages());
	uint64_t slab = slab_pages();
	uint64_t kstack = (nr_tasks() + 1) * (KSTACK_SIZE / PAGE_SIZE);

	meminfo_line(s, "MemTotal:", total);
	meminfo_line(s, "MemFree:", free);
	meminfo_line(s, "MemAvailable:", free);
	meminfo_line(s, "Buffers:", 0);
	meminfo_line(s, "Cached:", filemap_cached_pages());
	meminfo_line(s, "SwapCached:", 0);
	meminfo_line(s, "Active:", 0);
	meminfo_line(s, "Inactive:", 0);
	meminfo_line(s, "SwapTotal:", 0);
	meminfo_line(s, "SwapFree:", 0);
	meminfo_line(s, "Dirty:", 0);
	meminfo_line(s, "Writeback:", 0);
	meminfo_line(s, "AnonPages:", 0);
	meminfo_line(s, "Mapped:", filemap_mapped_pages());
	meminfo_line(s, "Shmem:", filemap_shmem_pages());
	meminfo_line(s, "Slab:", slab);
	meminfo_line(s, "SReclaimable:", 0);
	meminfo_line(s, "SUnreclaim:", slab);
	meminfo_line(s, "KernelStack:", kstack);
	meminfo_line(s, "CommitLimit:", total / 2);
	meminfo_line(s, "AnonHugePages:", thp_nr_anon() * HPAGE_PMD_NR);
}

int procfs_format_meminfo(char *buf, size_t size)
{
	struct seq_buf s = { buf, size, 0, NULL };

	show_meminfo(&s, NULL);
	return seq_finish(&s);
}

/* ---- /proc/mounts ---- */

/* What is mounted where. The first four are there from boot: / is the
 * initramfs's ramfs, and vfs_init() makes /dev, /proc and /sys. They are
 * listed as Linux lists them after an init mounted proc, sysfs and
 * devtmpfs with no flags (user/init.c does). */
struct proc_mount {
	char source[32];
	char target[128];
	char fstype[16];
	char options[64];
};

#define PROC_MAX_MOUNTS 16
static struct proc_mount mounts[PROC_MAX_MOUNTS] = {
	{ "rootfs", "/", "rootfs", "rw" },
	{ "proc", "/proc", "proc", "rw,relatime" },
	{ "sysfs", "/sys", "sysfs", "rw,relatime" },
	{ "devtmpfs", "/dev", "devtmpfs", "rw,relatime,mode=755" },
};
static unsigned int nr_mounts = 4;

int procfs_mount_add(const char *source, const char *target, const char *fstype,
		     const char *options)
{
	struct proc_mount *m;

	for (unsigned int i = 0; i < nr_mounts; i++)
		if (!strcmp(mounts[i].target, target) && !strcmp(mounts[i].fstype, fstype))
			return 0;
	if (nr_mounts == PROC_MAX_MOUNTS)
		return -ENOSPC;
	m = &mounts[nr_mounts];
	if (strlcpy(m->source, source, sizeof(m->source)) >= sizeof(m->source) ||
	    strlcpy(m->target, target, sizeof(m->target)) >= sizeof(m->target) ||
	    strlcpy(m->fstype, fstype, sizeof(m->fstype)) >= sizeof(m->fstype) ||
	    strlcpy(m->options, options, sizeof(m->options)) >= sizeof(m->options)) {
		memset(m, 0, sizeof(*m));
		return -ENAMETOOLONG;
	}
	nr_mounts++;
	return 0;
}

static void show_mounts(struct seq_buf *s, struct task *t)
{
	for (unsigned int i = 0; i < nr_mounts; i++)
		seq_printf(s, "%s %s %s %s 0 0\n", mounts[i].source, mounts[i].target,
			   mounts[i].fstype, mounts[i].options);
}

int procfs_format_mounts(char *buf, size_t size)
{
	struct seq_buf s = { buf, size, 0, NULL };

	show_mounts(&s, NULL);
	return seq_finish(&s);
}

static void show_filesystems(struct seq_buf *s, struct task *t)
{
	static const char *const names[] = { "sysfs", "tmpfs", "ramfs", "devtmpfs", "proc",
					     "devpts" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		seq_printf(s, "nodev\t%s\n", names[i]);
}

/* ---- /proc/iomem, /proc/uptime, /proc/loadavg ---- */

static void show_iomem(struct seq_buf *s, struct task *t)
{
	size_t at = MIN(s->len, s->size);

	s->len += resource_format(&iomem_resource, s->buf + at, s->size - at);
}

/* Uptime in seconds with two decimals, then the idle time (not counted). */
static void show_uptime(struct seq_buf *s, struct task *t)
{
	uint64_t ticks = timer_ticks();

	seq_printf(s, "%llu.%02llu 0.00\n", (unsigned long long)(ticks / TIMER_HZ),
		   (unsigned long long)((ticks % TIMER_HZ) * 100 / TIMER_HZ));
}

/* Linux's /proc/interrupts, the rows Pagoda counts: a CPUn column per
 * online CPU, then per row the counts and what they are. Pagoda's devices
 * are polled, so there are no numbered device rows. CAL counts every
 * cross-call interrupt, shootdowns included, as Linux's does; TLB counts
 * the shootdowns a CPU ran for another, by interrupt or by polling. */
static void show_interrupts(struct seq_buf *s, struct task *t)
{
	static const struct {
		const char *name, *what;
		size_t offset;
	} rows[] = {
		{ "LOC", "Local timer interrupts", offsetof(struct irq_stat, timer) },
		{ "RES", "Rescheduling interrupts", offsetof(struct irq_stat, resched) },
		{ "CAL", "Function call interrupts", offsetof(struct irq_stat, call) },
		{ "TLB", "TLB shootdowns", offsetof(struct irq_stat, tlb) },
	};
	uint64_t online = READ_ONCE(cpu_online_mask);

	seq_printf(s, "%*s", 3 + 8, "");
	for (unsigned int c = 0; c < MAX_CPUS; c++)
		if (online & (1ULL << c))
			seq_printf(s, "CPU%-8u", c);
	seq_printf(s, "\n");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		seq_printf(s, "%*s: ", 3, rows[i].name);
		for (unsigned int c = 0; c < MAX_CPUS; c++) {
			const char *stat = (const char *)&cpu_area(c)->irqs;
			if (online & (1ULL << c))
				seq_printf(s, "%10u ", READ_ONCE(*(const unsigned int *)(stat + rows[i].offset)));
		}
		seq_printf(s, "  %s\n", rows[i].what);
	}
}

static void show_loadavg(struct seq_buf *s, struct task *t)
{
	struct list_head *pos;
	int running = 0, total = 0;
	pid_t last = 0;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	list_for_each(pos, &task_list) {
		struct task *p = list_entry(pos, struct task, all_list);
		total++;
		running += p->state == TASK_RUNNABLE;
		last = MAX(last, p->pid);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	seq_printf(s, "0.00 0.00 0.00 %d/%d %d\n", running, total, last);
}

/* ---- /proc/cpuinfo ---- */

struct cpu_flag {
	uint8_t word; /* index into the registers read by cpuinfo_regs() */
	uint8_t bit;
	const char *name;
};

/* CPUID feature bits with Linux's names, in Linux's order (Intel SDM Vol.
 * 2A, CPUID: leaf 1 EDX, 0x80000001 EDX, leaf 1 ECX, 0x80000001 ECX,
 * leaf 7 EBX). */
enum { W_1EDX, W_X1EDX, W_1ECX, W_X1ECX, W_7EBX, NR_WORDS };
static const struct cpu_flag cpu_flags[] = {
	{ W_1EDX, 0, "fpu" }, { W_1EDX, 1, "vme" }, { W_1EDX, 2, "de" }, { W_1EDX, 3, "pse" },
	{ W_1EDX, 4, "tsc" }, { W_1EDX, 5, "msr" }, { W_1EDX, 6, "pae" }, { W_1EDX, 7, "mce" },
	{ W_1EDX, 8, "cx8" }, { W_1EDX, 9, "apic" }, { W_1EDX, 11, "sep" }, { W_1EDX, 12, "mtrr" },
	{ W_1EDX, 13, "pge" }, { W_1EDX, 14, "mca" }, { W_1EDX, 15, "cmov" }, { W_1EDX, 16, "pat" },
	{ W_1EDX, 17, "pse36" }, { W_1EDX, 19, "clflush" }, { W_1EDX, 23, "mmx" },
	{ W_1EDX, 24, "fxsr" }, { W_1EDX, 25, "sse" }, { W_1EDX, 26, "sse2" }, { W_1EDX, 27, "ss" },
	{ W_1EDX, 28, "ht" },
	{ W_X1EDX, 11, "syscall" }, { W_X1EDX, 20, "nx" }, { W_X1EDX, 26, "pdpe1gb" },
	{ W_X1EDX, 27, "rdtscp" }, { W_X1EDX, 29, "lm" },
	{ W_1ECX, 0, "pni" }, { W_1ECX, 1, "pclmulqdq" }, { W_1ECX, 9, "ssse3" },
	{ W_1ECX, 12, "fma" }, { W_1ECX, 13, "cx16" }, { W_1ECX, 17, "pcid" },
	{ W_1ECX, 19, "sse4_1" }, { W_1ECX, 20, "sse4_2" }, { W_1ECX, 21, "x2apic" },
	{ W_1ECX, 22, "movbe" }, { W_1ECX, 23, "popcnt" }, { W_1ECX, 24, "tsc_deadline_timer" },
	{ W_1ECX, 25, "aes" }, { W_1ECX, 26, "xsave" }, { W_1ECX, 28, "avx" },
	{ W_1ECX, 29, "f16c" }, { W_1ECX, 30, "rdrand" }, { W_1ECX, 31, "hypervisor" },
	{ W_X1ECX, 0, "lahf_lm" }, { W_X1ECX, 5, "abm" }, { W_X1ECX, 6, "sse4a" },
	{ W_X1ECX, 8, "3dnowprefetch" },
	{ W_7EBX, 0, "fsgsbase" }, { W_7EBX, 3, "bmi1" }, { W_7EBX, 5, "avx2" },
	{ W_7EBX, 7, "smep" }, { W_7EBX, 8, "bmi2" }, { W_7EBX, 9, "erms" },
	{ W_7EBX, 10, "invpcid" }, { W_7EBX, 16, "avx512f" }, { W_7EBX, 18, "rdseed" },
	{ W_7EBX, 19, "adx" }, { W_7EBX, 20, "smap" }, { W_7EBX, 23, "clflushopt" },
	{ W_7EBX, 29, "sha_ni" },
};

struct cpuinfo_regs {
	uint32_t max_leaf, max_ext, sig;
	uint32_t word[NR_WORDS];
	char brand[49];
};

static void cpuinfo_read(struct cpuinfo_regs *r)
{
	uint32_t a, b, c, d;

	memset(r, 0, sizeof(*r));
	cpuid(0, 0, &r->max_leaf, &b, &c, &d);
	cpuid(1, 0, &r->sig, &b, &r->word[W_1ECX], &r->word[W_1EDX]);
	if (r->max_leaf >= 7)
		cpuid(7, 0, &a, &r->word[W_7EBX], &c, &d);
	cpuid(0x80000000, 0, &r->max_ext, &b, &c, &d);
	if (r->max_ext >= 0x80000001)
		cpuid(0x80000001, 0, &a, &b, &r->word[W_X1ECX], &r->word[W_X1EDX]);
	if (r->max_ext >= 0x80000004) {
		uint32_t *p = (uint32_t *)r->brand;
		for (uint32_t leaf = 0x80000002; leaf <= 0x80000004; leaf++, p += 4)
			cpuid(leaf, 0, &p[0], &p[1], &p[2], &p[3]);
	}
}

static void cpuinfo_flags(struct seq_buf *s, const struct cpuinfo_regs *r)
{
	seq_printf(s, "flags\t\t:");
	for (size_t i = 0; i < ARRAY_SIZE(cpu_flags); i++) {
		const struct cpu_flag *f = &cpu_flags[i];
		if (r->word[f->word] & (1U << f->bit))
			seq_printf(s, " %s", f->name);
		/* Linux's synthetic flags for an invariant TSC follow "lm". */
		if (f->word == W_X1EDX && f->bit == 29 && cpu.invariant_tsc)
			seq_printf(s, " constant_tsc nonstop_tsc");
	}
	seq_write(s, "\n", 1);
}

/* One block per online CPU, as Linux's show_cpuinfo(); the CPUID facts
 * are this CPU's (QEMU and real machines give every CPU the same). */
static void show_cpuinfo(struct seq_buf *s, struct task *t)
{
	struct cpuinfo_regs r;
	unsigned int family, model, ncpus = nr_cpus_online();
	uint64_t khz = tsc_hz() / 1000, online = READ_ONCE(cpu_online_mask);
	const char *brand;

	cpuinfo_read(&r);
	family = (r.sig >> 8) & 0xf;
	model = (r.sig >> 4) & 0xf;
	if (family == 0xf)
		family += (r.sig >> 20) & 0xff;
	if (family == 6 || family >= 0xf)
		model |= ((r.sig >> 16) & 0xf) << 4;
	for (brand = r.brand; *brand == ' '; brand++)
		;
	for (unsigned int c = 0; c < MAX_CPUS; c++) {
		uint32_t apic = cpu_area(c)->arch.apic_id;

		if (!(online & (1ULL << c)))
			continue;
		seq_printf(s, "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
			   "model name\t: %s\nstepping\t: %u\n", c, cpu.vendor, family, model,
			   *brand ? brand : "unknown", r.sig & 0xf);
		seq_printf(s, "cpu MHz\t\t: %llu.%03llu\n", (unsigned long long)(khz / 1000),
			   (unsigned long long)(khz % 1000));
		seq_printf(s, "physical id\t: 0\nsiblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\n"
			   "apicid\t\t: %u\ninitial apicid\t: %u\nfpu\t\t: yes\nfpu_exception\t: yes\n"
			   "cpuid level\t: %u\nwp\t\t: yes\n", ncpus, c, ncpus, apic, apic, r.max_leaf);
		cpuinfo_flags(s, &r);
		seq_printf(s, "bogomips\t: %llu.%02llu\nclflush size\t: 64\ncache_alignment\t: 64\n"
			   "address sizes\t: %u bits physical, %u bits virtual\npower management:\n\n",
			   (unsigned long long)(2 * khz / 1000), (unsigned long long)(2 * khz % 1000 / 10),
			   cpu.phys_addr_bits, cpu.virt_addr_bits);
	}
}

/* ---- Per-process files ---- */

static const char *task_state_name(const struct task *t)
{
	switch (t->state) {
	case TASK_RUNNABLE: return "R (running)";
	case TASK_SLEEPING: return "S (sleeping)";
	case TASK_ZOMBIE: return "Z (zombie)";
	case TASK_DEAD: return "X (dead)";
	}
	return "R (running)";
}

static uint64_t mm_vm_pages(struct mm_struct *mm)
{
	struct list_head *pos;
	uint64_t pages = 0;

	if (!mm)
		return 0;
	list_for_each(pos, &mm->vma_list)
		pages += vma_pages(list_entry(pos, struct vm_area_struct, vm_list));
	return pages;
}

/* Bit masks of the signals t ignores and catches, as status shows them. */
static void task_sig_masks(struct task *t, uint64_t *ign, uint64_t *cgt)
{
	uint64_t flags;
	struct sighand_struct *sh = lock_task_sighand(t, &flags);

	*ign = *cgt = 0;
	for (int i = 0; i < NSIG; i++) {
		if (sh->action[i].handler == SIG_IGN)
			*ign |= 1ULL << i;
		else if (sh->action[i].handler != SIG_DFL)
			*cgt |= 1ULL << i;
	}
	spin_unlock_irqrestore(&sh->lock, flags);
}

/* The threads of t's process that have not exited. */
static unsigned int task_nr_threads(struct task *t)
{
	return READ_ONCE(t->signal->nr_threads);
}

/* The fields of Linux's /proc/PID/status that mean something here (the
 * umask is fixed at 022: fs/sys_file.c). */
static void show_status(struct seq_buf *s, struct task *t)
{
	uint64_t ign, cgt;

	task_sig_masks(t, &ign, &cgt);
	seq_printf(s, "Name:\t%s\nUmask:\t0022\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
		   "TracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\n",
		   t->comm, task_state_name(t), t->tgid, t->pid, task_ppid(t), TASK_MAX_FDS);
	if (s->mm)
		seq_printf(s, "VmSize:\t%8llu kB\n",
			   (unsigned long long)(mm_vm_pages(s->mm) * (PAGE_SIZE / 1024)));
	seq_printf(s, "Threads:\t%u\nSigPnd:\t%016llx\nShdPnd:\t%016llx\nSigBlk:\t%016llx\n"
		   "SigIgn:\t%016llx\nSigCgt:\t%016llx\n", task_nr_threads(t),
		   (unsigned long long)READ_ONCE(t->sig_pending),
		   (unsigned long long)READ_ONCE(t->signal->shared_pending),
		   (unsigned long long)t->sig_blocked, (unsigned long long)ign,
		   (unsigned long long)cgt);
}

/* Linux's do_task_stat(): 52 fields; the ones with no meaning here are 0. */
static void show_stat(struct seq_buf *s, struct task *t)
{
	struct mm_struct *mm = s->mm;
	uint64_t ign, cgt;

	task_sig_masks(t, &ign, &cgt);
	seq_printf(s, "%d (%s) %c %d %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 %u 0 0 %llu 0 %llu ",
		   t->pid, t->comm, task_state_name(t)[0], task_ppid(t), READ_ONCE(t->signal->pgid),
		   READ_ONCE(t->signal->sid), task_nr_threads(t),
		   (unsigned long long)(mm_vm_pages(mm) * PAGE_SIZE), (unsigned long long)UINT64_MAX);
	/* exit_signal, then processor: the CPU the task last ran on. */
	seq_printf(s, "0 0 %llu 0 0 %llu %llu %llu %llu 0 0 0 %d %u 0 0 0 0 0 0 0 %llu 0 0 0 0 %d\n",
		   (unsigned long long)(mm ? mm->start_stack : 0),
		   (unsigned long long)(READ_ONCE(t->sig_pending) & 0x7fffffffULL),
		   (unsigned long long)t->sig_blocked,
		   (unsigned long long)ign, (unsigned long long)cgt, t->exit_signal, READ_ONCE(t->cpu),
		   (unsigned long long)(mm ? mm->start_brk : 0),
		   t->state == TASK_ZOMBIE ? t->exit_code : 0);
}

static void show_statm(struct seq_buf *s, struct task *t)
{
	seq_printf(s, "%llu 0 0 0 0 0 0\n", (unsigned long long)mm_vm_pages(s->mm));
}

static void show_comm(struct seq_buf *s, struct task *t)
{
	seq_printf(s, "%s\n", t->comm);
}

/* Copy [addr, addr + len) of mm into buf through the direct map, page by
 * page, stopping at the first page that is not present RAM of a VMA (no
 * fault is taken on the task's behalf). Returns the bytes copied. */
static size_t mm_read(struct mm_struct *mm, uintptr_t addr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct vm_area_struct *v = vma_lookup(mm, addr);
		size_t chunk = MIN(len - done, PAGE_SIZE - (addr & ~PAGE_MASK));
		struct pt_lookup_result r;

		if (!v || (v->vm_flags & (VM_IO | VM_PFNMAP)) || pt_lookup(mm->pgd, addr, &r) ||
		    !(r.pte & PTE_PRESENT))
			break;
		memcpy((char *)buf + done, phys_to_virt(r.phys), chunk);
		done += chunk;
		addr += chunk;
	}
	return done;
}

/* Append the NUL-terminated string at addr of mm, NUL included, reading
 * at most max bytes. Returns the bytes appended, 0 if unreadable. */
static size_t cmdline_string(struct seq_buf *s, struct mm_struct *mm, uintptr_t addr, size_t max)
{
	char chunk[128];
	size_t total = 0;

	while (total < max) {
		size_t want = MIN(MIN(sizeof(chunk), max - total), PAGE_SIZE - (addr & ~PAGE_MASK));
		size_t got = mm_read(mm, addr, chunk, want);
		size_t n = strnlen(chunk, got);

		if (!got)
			return total;
		if (n < got) {
			seq_write(s, chunk, n + 1);
			return total + n + 1;
		}
		seq_write(s, chunk, got);
		total += got;
		addr += got;
	}
	return total;
}

/* The argument strings, each ending in NUL, found from the initial stack
 * (mm->start_stack points at argc, then argv[], as Linux's
 * create_elf_tables() leaves it). Kernel tasks and zombies show nothing. */
static void show_cmdline(struct seq_buf *s, struct task *t)
{
	struct mm_struct *mm = s->mm;
	uint64_t argc;
	size_t budget = PROC_CMDLINE_MAX;

	if (!mm || !mm->start_stack ||
	    mm_read(mm, mm->start_stack, &argc, sizeof(argc)) != sizeof(argc))
		return;
	for (uint64_t i = 0; i < argc && budget; i++) {
		uint64_t argv;
		size_t n;

		if (mm_read(mm, mm->start_stack + 8 * (i + 1), &argv, sizeof(argv)) != sizeof(argv))
			return;
		n = cmdline_string(s, mm, argv, budget);
		if (!n)
			return;
		budget -= n;
	}
}

/* ---- Symlinks ---- */

/* Copy target into buf as i_op->readlink() hands it over: NUL-terminated,
 * cut to size - 1 bytes as ramfs does. An empty target: no link. */
static int link_copy(const char *target, char *buf, size_t size)
{
	if (!target[0])
		return -ENOENT;
	if (!size)
		return -ERANGE;
	strlcpy(buf, target, size);
	return (int)strlen(buf);
}

/* /proc/self: the reader's own directory. The idle task (pid 0) has none. */
static int link_self(struct task *t, char *buf, size_t size)
{
	char pid[16];

	if (!current->tgid)
		return -ENOENT;
	snprintf(pid, sizeof(pid), "%d", current->tgid);
	return link_copy(pid, buf, size);
}

static int link_exe(struct task *t, char *buf, size_t size) { return link_copy(t->exe, buf, size); }
static int link_cwd(struct task *t, char *buf, size_t size)
{
	char cwd[CWD_MAX];

	return link_copy(fs_cwd(t, cwd), buf, size);
}
static int link_root(struct task *t, char *buf, size_t size) { return link_copy("/", buf, size); }
/* /proc/mounts is Linux's symlink to the reader's own mount table. */
static int link_mounts(struct task *t, char *buf, size_t size) { return link_copy("self/mounts", buf, size); }

/* ---- /proc/pagoda: Pagoda's own files (no Linux equivalent) ---- */

/* The allocator's exact count of free frames, after the caches the kernel
 * keeps on purpose are given back: the /proc/PID inode sets of dead tasks
 * and the spare empty slab of each kmalloc cache. Two reads in the same
 * state print the same number, so a leak of one frame shows.
 *
 * The file is live: each read at offset 0 counts again, in the buffer made
 * at open. A reader that keeps it open and rereads it with pread(fd, buf,
 * 4096, 0) allocates nothing from the slab caches while the count is
 * taken (its bounce buffer is a whole frame), so where transient objects
 * land cannot change the count. */
static void show_free_frames(struct seq_buf *s, struct task *t)
{
	task_wait_dying(); /* the threads of a process just reaped are gone too */
	procfs_shrink();
	kmalloc_shrink();
	seq_printf(s, "%llu\n", (unsigned long long)pmm_free_pages());
}

/* The invariant check (mm/invariants.c), run at open, as a KTAP suite. */
static void show_invariants(struct seq_buf *s, struct task *t)
{
	size_t at = MIN(s->len, s->size);

	s->len += inv_ktap(s->buf + at, s->size - at);
}

/* ---- The entries ---- */

typedef void (*proc_show_fn)(struct seq_buf *s, struct task *t);
typedef int (*proc_link_fn)(struct task *t, char *buf, size_t size);

/* One name in /proc or /proc/PID: a generated file or a symlink. */
struct proc_entry {
	const char *name;
	uint32_t mode;
	proc_show_fn show; /* regular files */
	proc_link_fn link; /* symlinks */
	bool live;         /* a read at offset 0 runs show again (no task) */
	/* A file with operations of its own (/proc/profile), which exists
	 * only while size() is not 0; size() is its st_size. */
	const struct file_operations *fops;
	uint64_t (*size)(void);
};

#define PROC_FILE(n, fn) { .name = n, .mode = S_IFREG | 0444, .show = fn }
#define PROC_LINK(n, fn) { .name = n, .mode = S_IFLNK | 0777, .link = fn }
#define PROC_DIR(n) { .name = n, .mode = S_IFDIR | 0555 }
#define PROC_LIVE_FILE(n, fn) { .name = n, .mode = S_IFREG | 0444, .show = fn, .live = true }
#define PROC_OPS_FILE(n, m, ops, sz) { .name = n, .mode = S_IFREG | (m), .fops = ops, .size = sz }

/* Does e exist now? */
static bool entry_present(const struct proc_entry *e)
{
	return !e->size || e->size();
}

static const struct proc_entry root_entries[] = {
	PROC_FILE("cpuinfo", show_cpuinfo),
	PROC_FILE("filesystems", show_filesystems),
	PROC_FILE("interrupts", show_interrupts),
	PROC_FILE("iomem", show_iomem),
	PROC_FILE("loadavg", show_loadavg),
	PROC_FILE("meminfo", show_meminfo),
	PROC_LINK("mounts", link_mounts),
	PROC_DIR("pagoda"), /* pagoda_entries */
	PROC_OPS_FILE("profile", 0644, &profile_proc_fops, profile_proc_size), /* profile=N */
	PROC_OPS_FILE("sysrq-trigger", 0200, &sysrq_trigger_fops, NULL), /* kernel/sysrq.c */
	PROC_FILE("uptime", show_uptime),
	PROC_LINK("self", link_self), /* Linux lists it after the files, before the pids */
};

/* In Linux's order (fs/proc/base.c tgid_base_stuff). */
static const struct proc_entry pid_entries[] = {
	PROC_DIR("task"), /* the process's threads: task/TID is /proc/TID */
	PROC_FILE("status", show_status),
	PROC_FILE("comm", show_comm),
	PROC_FILE("cmdline", show_cmdline),
	PROC_FILE("stat", show_stat),
	PROC_FILE("statm", show_statm),
	PROC_FILE("maps", show_maps),
	PROC_LINK("cwd", link_cwd),
	PROC_LINK("root", link_root),
	PROC_LINK("exe", link_exe),
	PROC_FILE("mounts", show_mounts),
};

static const struct proc_entry pagoda_entries[] = {
	PROC_LIVE_FILE("free_frames", show_free_frames),
	PROC_FILE("invariants", show_invariants),
};
struct proc_pid_inodes;

/* Every procfs inode; i_private points back at it. */
struct proc_inode {
	struct inode inode;
	const struct proc_entry *entry; /* NULL for a /proc/PID directory */
	pid_t pid;                      /* the task; 0 for /proc's own entries */
	struct proc_pid_inodes *set;    /* the /proc/PID it belongs to, or NULL */
};

/* The inodes of one /proc/PID, reused for another pid once the task is
 * gone and no open file refers to any of them, or freed by
 * procfs_shrink() then. An old descriptor thus keeps naming the old pid, which is
 * never given out again: its reads fail with -ESRCH, as in Linux. */
struct proc_pid_inodes {
	struct proc_inode dir;
	struct proc_inode files[ARRAY_SIZE(pid_entries)];
	unsigned int opens; /* open files on these inodes (atomic) */
	struct proc_pid_inodes *next;
};

static struct proc_inode root_inodes[ARRAY_SIZE(root_entries)];
static struct proc_inode pagoda_inodes[ARRAY_SIZE(pagoda_entries)];
static struct proc_pid_inodes *pid_inode_sets;

static const struct inode_operations proc_file_iops, proc_link_iops, proc_pid_iops;
static const struct inode_operations proc_pagoda_iops;
static const struct file_operations proc_file_fops, proc_pid_fops, proc_pagoda_fops;
static const struct inode_operations proc_file_iops, proc_link_iops, proc_pid_iops, proc_task_iops;
static const struct inode_operations proc_pagoda_iops;
static const struct file_operations proc_file_fops, proc_pid_fops, proc_task_fops;
static const struct file_operations proc_pagoda_fops;

static uint64_t pid_dir_ino(pid_t pid)
{
	return PROC_INO_PID_BASE + (uint64_t)pid * PROC_INO_PER_PID;
}

static void proc_inode_init(struct proc_inode *pi, const struct proc_entry *e, pid_t pid,
			    uint64_t ino)
{
	memset(pi, 0, sizeof(*pi));
	pi->entry = e;
	pi->pid = pid;
	pi->inode.ino = ino;
	pi->inode.i_private = pi;
	if (!e) {
		pi->inode.mode = S_IFDIR | 0555;
		pi->inode.nlink = 2;
		pi->inode.i_op = &proc_pid_iops;
		pi->inode.i_fop = &proc_pid_fops;
		return;
	}
	pi->inode.mode = e->mode;
	pi->inode.nlink = 1;
	if (S_ISDIR(e->mode)) { /* /proc/pagoda, or a /proc/PID/task */
		pi->inode.nlink = 2;
		pi->inode.i_op = pid ? &proc_task_iops : &proc_pagoda_iops;
		pi->inode.i_fop = pid ? &proc_task_fops : &proc_pagoda_fops;
		return;
	}
	pi->inode.i_op = S_ISLNK(e->mode) ? &proc_link_iops : &proc_file_iops;
	pi->inode.i_fop = S_ISLNK(e->mode) ? NULL : e->fops ? e->fops : &proc_file_fops;
}

/* ---- Generated files: open, read, seek, close ---- */

/* The text of one open file, made at open. */
struct proc_buf {
	size_t len;
	size_t cap; /* bytes data[] can hold */
	char data[];
};

/* Run show into a buffer big enough for its whole output: try a page,
 * then the size the first run asked for (show is run again). NULL when
 * out of memory or past PROC_BUF_MAX. The caller owns the buffer. */
static struct proc_buf *proc_buf_make_mm(proc_show_fn show, struct task *t,
					  struct mm_struct *mm)
{
	size_t alloc = PAGE_SIZE;

	for (;;) {
		struct proc_buf *pb = kmalloc(alloc, GFP_KERNEL);
		struct seq_buf s;

		if (!pb)
			return NULL;
		s = (struct seq_buf){ pb->data, alloc - sizeof(*pb), 0, mm };
		show(&s, t);
		if (s.len < s.size) {
			pb->len = s.len;
			pb->cap = s.size;
			return pb;
		}
		kfree(pb);
		while (alloc < PROC_BUF_MAX && alloc < s.len + 1 + sizeof(*pb))
			alloc *= 2;
		if (alloc < s.len + 1 + sizeof(*pb))
			return NULL;
	}
}

/* Generate with t's address space pinned and read-locked. */
static struct proc_buf *proc_buf_make(proc_show_fn show, struct task *t)
{
	struct mm_struct *mm = t ? task_get_mm(t) : NULL;
	struct proc_buf *pb;

	if (mm)
		down_read(&mm->mmap_lock);
	pb = proc_buf_make_mm(show, t, mm);
	if (mm) {
		up_read(&mm->mmap_lock);
		mm_put(mm);
	}
	return pb;
}

/* An open /proc file: what it shows, for whom, and the snapshot the
 * first read takes. */
struct proc_open {
	proc_show_fn show;
	struct task *task;     /* a reference, or NULL outside /proc/PID */
	struct proc_buf *snap; /* NULL until the first read */
};

/* An open file holds its /proc/PID set against reuse (the count changes
 * atomically: files are closed outside the VFS lock). */
static void proc_set_hold(struct proc_inode *pi)
{
	if (pi->set)
		atomic_inc(&pi->set->opens);
}

static void proc_set_release(struct file *f)
{
	struct proc_inode *pi = f->inode->i_private;

	if (pi->set)
		atomic_dec(&pi->set->opens);
}

/* Files are read-only snapshots, taken at the first read: not at open,
 * which runs under the VFS lock, while a snapshot may need a process's
 * mmap_lock (which comes before the VFS lock). A process's file holds
 * its task from open on. */
static int proc_file_open(struct inode *inode, struct file *f)
{
	struct proc_inode *pi = inode->i_private;
	struct proc_open *po;

	if ((f->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	if (!(po = kzalloc(sizeof(*po), GFP_KERNEL)))
		return -ENOMEM;
	po->show = pi->entry->show;
	if (pi->pid && !(po->task = task_get_pid(pi->pid))) {
		kfree(po);
		return -ESRCH;
	}
	f->private_data = po;
	proc_set_hold(pi);
	return 0;
}

/* Run a live file's show again, in the buffer it has (no allocation). */
static void proc_buf_rerun(struct proc_buf *pb, proc_show_fn show)
{
	struct seq_buf s = { .buf = pb->data, .size = pb->cap, .len = 0 };

	show(&s, NULL);
	pb->len = MIN(s.len, pb->cap - 1);
}

static ssize_t proc_file_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct proc_open *po = f->private_data;
	const struct proc_inode *pi = f->inode->i_private;
	const struct proc_buf *pb;

	if (pi->pid && !task_exists(pi->pid))
		return -ESRCH; /* the process was reaped after the open */
	if (!po->snap && !(po->snap = proc_buf_make(po->show, po->task)))
		return -ENOMEM;
	else if (*pos == 0 && pi->entry->live)
		proc_buf_rerun(po->snap, po->show); /* a live file counts again */
	pb = po->snap;
	if (*pos >= pb->len)
		return 0;
	n = MIN((uint64_t)n, pb->len - *pos);
	memcpy(buf, pb->data + *pos, n);
	*pos += n;
	return n;
}

/* Linux's seq_lseek(): SEEK_SET and SEEK_CUR only, no negative position. */
static int64_t proc_file_llseek(struct file *f, int64_t off, int whence)
{
	if (whence == SEEK_CUR)
		off += (int64_t)f->pos;
	else if (whence != SEEK_SET)
		return -EINVAL;
	if (off < 0)
		return -EINVAL;
	f->pos = off;
	return off;
}

static void proc_file_release(struct file *f)
{
	struct proc_open *po = f->private_data;

	if (po->task)
		task_put(po->task);
	kfree(po->snap);
	kfree(po);
	f->private_data = NULL;
	proc_set_release(f);
}

static int proc_pid_dir_open(struct inode *inode, struct file *f)
{
	proc_set_hold(inode->i_private);
	return 0;
}

static int proc_readlink(struct inode *inode, char *buf, size_t size)
{
	struct proc_inode *pi = inode->i_private;
	struct task *t = NULL;
	int ret;

	if (pi->pid && !(t = task_get_pid(pi->pid)))
		return -ENOENT;
	ret = pi->entry->link(t, buf, size);
	if (t)
		task_put(t);
	return ret;
}

/* ---- Directories ---- */

/* Positions 0 and 1 of every directory: "." and "..". */
static bool emit_dot(struct inode *dir, uint64_t pos, dir_emit_fn emit, void *ctx)
{
	if (pos == 0)
		return emit(ctx, ".", 1, dir->ino, DT_DIR);
	return emit(ctx, "..", 2, dir->parent ? dir->parent->ino : dir->ino, DT_DIR);
}

static const struct proc_entry *entry_by_name(const struct proc_entry *tab, size_t nr,
					      const char *name, size_t len, size_t *index)
{
	for (size_t i = 0; i < nr; i++) {
		if (strlen(tab[i].name) == len && !memcmp(tab[i].name, name, len)) {
			*index = i;
			return &tab[i];
		}
	}
	return NULL;
}

/* A decimal pid without sign or leading zero (Linux's name_to_int()), or -1. */
static pid_t name_to_pid(const char *name, size_t len)
{
	pid_t pid = 0;

	if (!len || len > 9 || (len > 1 && name[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		pid = pid * 10 + (name[i] - '0');
	}
	return pid;
}

/* The inode set for pid: the one it has, else one of a dead task's, else
 * a new one. NULL when out of memory. */
static struct proc_pid_inodes *pid_inodes_get(pid_t pid)
{
	struct proc_pid_inodes *set, *reuse = NULL;

	for (set = pid_inode_sets; set; set = set->next) {
		if (set->dir.pid == pid)
			return set;
		if (!reuse && !atomic_load(&set->opens) && !task_exists(set->dir.pid))
			reuse = set;
	}
	set = reuse;
	if (!set) {
		set = kzalloc(sizeof(*set), GFP_KERNEL);
		if (!set)
			return NULL;
		set->next = pid_inode_sets;
		pid_inode_sets = set;
	}
	proc_inode_init(&set->dir, NULL, pid, pid_dir_ino(pid));
	set->dir.set = set;
	for (size_t i = 0; i < ARRAY_SIZE(pid_entries); i++) {
		proc_inode_init(&set->files[i], &pid_entries[i], pid, pid_dir_ino(pid) + 1 + i);
		set->files[i].inode.parent = &set->dir.inode;
		set->files[i].set = set;
	}
	return set;
}

void procfs_shrink(void)
{
	struct proc_pid_inodes **link = &pid_inode_sets;

	vfs_lock(); /* guards pid_inode_sets: lookups run under it */
	while (*link) {
		struct proc_pid_inodes *set = *link;
		if (task_exists(set->dir.pid) || atomic_load(&set->opens)) {
			link = &set->next;
			continue;
		}
		*link = set->next;
		kfree(set);
	}
	vfs_unlock();
}

static struct inode *proc_root_lookup(struct inode *dir, const char *name, size_t len)
{
	struct proc_pid_inodes *set;
	size_t i;
	pid_t pid;

	if (entry_by_name(root_entries, ARRAY_SIZE(root_entries), name, len, &i)) {
		if (!entry_present(&root_entries[i]))
			return NULL;
		root_inodes[i].inode.parent = dir;
		if (root_entries[i].size)
			root_inodes[i].inode.size = root_entries[i].size();
		return &root_inodes[i].inode;
	}
	pid = name_to_pid(name, len);
	if (pid <= 0 || !task_exists(pid) || !(set = pid_inodes_get(pid)))
		return NULL;
	set->dir.inode.parent = dir;
	return &set->dir.inode;
}

/* The smallest pid >= from of a process (tgid 0), or of a thread of
 * process tgid; 0 if none. */
static pid_t pid_from(pid_t from, pid_t tgid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct list_head *pos;
	pid_t best = 0;

	list_for_each(pos, &task_list) {
		struct task *t = list_entry(pos, struct task, all_list);
		if (tgid ? t->tgid != tgid : t->pid != t->tgid)
			continue; /* a thread, or another process's */
		if (t->pid >= from && (!best || t->pid < best))
			best = t->pid;
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return best;
}

/* Positions: 0 ".", 1 "..", then the fixed entries, then pid p at
 * PID_POS + p (emit_pids()). */
#define PID_POS (2 + ARRAY_SIZE(root_entries))

/* The pid part of a listing: pid p at position base + p, from f->pos on,
 * processes (tgid 0) or the threads of tgid. Positions follow the pids,
 * so that a listing resumed after tasks came and went neither repeats
 * nor skips a live one. */
static int emit_pids(struct file *f, uint64_t base, pid_t tgid, dir_emit_fn emit, void *ctx)
{
	for (;;) {
		pid_t pid = pid_from((pid_t)MIN(f->pos - base, (uint64_t)INT32_MAX), tgid);
		char name[16];

		if (!pid || !emit(ctx, name, snprintf(name, sizeof(name), "%d", pid),
				  pid_dir_ino(pid), DT_DIR))
			return 0;
		f->pos = base + pid + 1;
	}
}

static int proc_root_iterate(struct file *f, dir_emit_fn emit, void *ctx)
{
	for (; f->pos < 2; f->pos++)
		if (!emit_dot(f->inode, f->pos, emit, ctx))
			return 0;
	for (; f->pos < PID_POS; f->pos++) {
		const struct proc_entry *e = &root_entries[f->pos - 2];

		if (!entry_present(e))
			continue;
		if (!emit(ctx, e->name, strlen(e->name), root_inodes[f->pos - 2].inode.ino,
			  vfs_dtype(e->mode)))
			return 0;
	}
	return emit_pids(f, PID_POS, 0, emit, ctx);
}

static struct inode *proc_pid_lookup(struct inode *dir, const char *name, size_t len)
{
	struct proc_inode *pi = dir->i_private;
	struct proc_pid_inodes *set = container_of(pi, struct proc_pid_inodes, dir);
	size_t i;

	/* Found even when the process is gone (a descriptor kept on this
	 * directory): opening the file then says -ESRCH, as in Linux. */
	if (!entry_by_name(pid_entries, ARRAY_SIZE(pid_entries), name, len, &i))
		return NULL;
	return &set->files[i].inode;
}

/* A directory of fixed entries: ".", "..", then tab[i], whose inode is
 * inodes[i]; f->pos counts them. */
static int emit_fixed_dir(struct file *f, const struct proc_entry *tab, size_t nr,
			  const struct proc_inode *inodes, dir_emit_fn emit, void *ctx)
{
	for (;;) {
		uint64_t pos = f->pos;
		bool more;

		if (pos < 2) {
			more = emit_dot(f->inode, pos, emit, ctx);
		} else if (pos - 2 < nr) {
			const struct proc_entry *e = &tab[pos - 2];
			more = emit(ctx, e->name, strlen(e->name), inodes[pos - 2].inode.ino,
				    vfs_dtype(e->mode));
		} else {
			return 0;
		}
		if (!more)
			return 0;
		f->pos = pos + 1;
	}
}

static int proc_pid_iterate(struct file *f, dir_emit_fn emit, void *ctx)
{
	struct proc_inode *pi = f->inode->i_private;
	struct proc_pid_inodes *set = container_of(pi, struct proc_pid_inodes, dir);

	if (!task_exists(pi->pid))
		return -ENOENT;
	return emit_fixed_dir(f, pid_entries, ARRAY_SIZE(pid_entries), set->files, emit, ctx);
}

static struct inode *proc_pagoda_lookup(struct inode *dir, const char *name, size_t len)
{
	size_t i;

	if (!entry_by_name(pagoda_entries, ARRAY_SIZE(pagoda_entries), name, len, &i))
		return NULL;
	pagoda_inodes[i].inode.parent = dir;
	return &pagoda_inodes[i].inode;
}

static int proc_pagoda_iterate(struct file *f, dir_emit_fn emit, void *ctx)
{
	return emit_fixed_dir(f, pagoda_entries, ARRAY_SIZE(pagoda_entries), pagoda_inodes, emit,
			      ctx);
}

static const struct inode_operations proc_pagoda_iops = { .lookup = proc_pagoda_lookup };
static const struct file_operations proc_pagoda_fops = { .iterate = proc_pagoda_iterate };
/* The process whose threads /proc/PID/task lists (PID may be a thread's
 * own pid): its tgid, or 0 if it is gone. */
static pid_t task_dir_tgid(struct inode *dir)
{
	struct proc_inode *pi = dir->i_private;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find_locked(pi->pid);
	pid_t tgid = t ? t->tgid : 0;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return tgid;
}

/* Is tid a thread of process tgid now? */
static bool thread_of(pid_t tid, pid_t tgid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct task *t = task_find_locked(tid);
	bool yes = t && t->tgid == tgid;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return yes;
}

static struct inode *proc_task_lookup(struct inode *dir, const char *name, size_t len)
{
	pid_t tid = name_to_pid(name, len);
	struct proc_pid_inodes *set;

	if (tid <= 0 || !thread_of(tid, task_dir_tgid(dir)) || !(set = pid_inodes_get(tid)))
		return NULL;
	set->dir.inode.parent = dir;
	return &set->dir.inode;
}

/* Positions: 0 ".", 1 "..", then thread tid at 2 + tid. */
static int proc_task_iterate(struct file *f, dir_emit_fn emit, void *ctx)
{
	pid_t tgid = task_dir_tgid(f->inode);

	if (!tgid)
		return -ENOENT;
	for (; f->pos < 2; f->pos++)
		if (!emit_dot(f->inode, f->pos, emit, ctx))
			return 0;
	return emit_pids(f, 2, tgid, emit, ctx);
}

static const struct inode_operations proc_root_iops = { .lookup = proc_root_lookup };
static const struct inode_operations proc_task_iops = { .lookup = proc_task_lookup };
static const struct file_operations proc_task_fops = {
	.iterate = proc_task_iterate,
	.open = proc_pid_dir_open,
	.release = proc_set_release,
};
static const struct inode_operations proc_pid_iops = { .lookup = proc_pid_lookup };
static const struct inode_operations proc_file_iops = { 0 };
static const struct inode_operations proc_link_iops = { .readlink = proc_readlink };
static const struct file_operations proc_root_fops = { .iterate = proc_root_iterate };
static const struct file_operations proc_pid_fops = {
	.iterate = proc_pid_iterate,
	.open = proc_pid_dir_open,
	.release = proc_set_release,
};
static const struct file_operations proc_file_fops = {
	.read = proc_file_read,
	.llseek = proc_file_llseek,
	.open = proc_file_open,
	.release = proc_file_release,
};

int procfs_init(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(root_entries); i++)
		proc_inode_init(&root_inodes[i], &root_entries[i], 0, PROC_INO_ROOT_BASE + i);
	for (size_t i = 0; i < ARRAY_SIZE(pagoda_entries); i++)
		proc_inode_init(&pagoda_inodes[i], &pagoda_entries[i], 0,
				PROC_INO_PAGODA_BASE + i);
	return vfs_set_dir_ops("/proc", &proc_root_iops, &proc_root_fops);
}
