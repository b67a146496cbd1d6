/* Tests of /proc (fs/procfs.c).
 *
 * The maps cases build an address space with mm_create() + do_mmap() and
 * compare procfs_format_maps() with whole lines written out by hand as
 * Linux 6.1 prints them, padding included: no process is needed. The
 * meminfo and mounts cases check the text formats; the last cases go
 * through the VFS (open, read, getdents, readlink) and are skipped when
 * /proc is not served by procfs. */
#include <pagoda/errno.h>
#include <pagoda/fs_struct.h>
#include <pagoda/ktest.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/procfs.h>
#include <pagoda/slab.h>
#include <pagoda/task.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

#define P(n) ((size_t)(n) * PAGE_SIZE)
#define TEXT_BUF 4096

static long map_fixed(struct mm_struct *mm, uintptr_t addr, size_t len, int prot)
{
	return do_mmap(mm, addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
}

static const char *vdso_name(struct vm_area_struct *vma) { return "[vdso]"; }
static const struct vm_operations_struct vdso_ops = { .name = vdso_name };

static int test_file_mmap(struct file *f, struct vm_area_struct *vma) { return 0; }
static const struct file_operations test_file_fops = { .mmap = test_file_mmap };
/* A file of no ramfs: its device is 00:02, as stat() says. */
static struct inode test_file_inode = { .mode = S_IFREG | 0755, .ino = 1234, .nlink = 1 };

/* An mm with one VMA of each kind /proc/PID/maps names differently. */
static const char *const expected_maps[] = {
	"00400000-00402000 r-xp 00000000 00:00 0 ",
	"00600000-00603000 rw-p 00000000 00:00 0                                  [heap]",
	"10000000-10001000 ---p 00000000 00:00 0 ",
	"7f0000000000-7f0000002000 r--p 00002000 00:02 1234                       /bin/test",
	"7ffff7ffd000-7ffff7fff000 r-xp 00000000 00:00 0                          [vdso]",
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]",
};

/* Fill mm with the VMAs of expected_maps; 0 or a negative errno. */
static long build_test_mm(struct mm_struct *mm, struct file *file)
{
	long r;

	mm->start_brk = 0x600000;
	mm->brk = 0x602800;
	mm->start_stack = 0x7fffffffe5a0;
	if ((r = map_fixed(mm, 0x400000, P(2), PROT_READ | PROT_EXEC)) < 0 ||
	    (r = map_fixed(mm, 0x600000, P(3), PROT_READ | PROT_WRITE)) < 0 ||
	    (r = map_fixed(mm, 0x10000000, P(1), PROT_NONE)) < 0 ||
	    (r = do_mmap(mm, 0x7f0000000000, P(2), PROT_READ, MAP_PRIVATE | MAP_FIXED, file, 2)) < 0 ||
	    (r = map_fixed(mm, 0x7ffff7ffd000, P(2), PROT_READ | PROT_EXEC)) < 0 ||
	    (r = map_fixed(mm, 0x7ffffffde000, P(33), PROT_READ | PROT_WRITE)) < 0)
		return r;
	vma_lookup(mm, 0x7ffff7ffd000)->vm_ops = &vdso_ops;
	return 0;
}

static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncmp(hay, needle, n))
			return true;
	return false;
}

/* Compare buf, line by line, with lines[0..n). */
static void expect_lines(struct ktest *t, const char *buf, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *nl = strchr(buf, '\n');
		size_t len = strlen(lines[i]);

		if (!nl) {
			ktest_fail(t, __FILE__, __LINE__, "line %zu missing: \"%s\"", i + 1, lines[i]);
			return;
		}
		if ((size_t)(nl - buf) != len || memcmp(buf, lines[i], len))
			ktest_fail(t, __FILE__, __LINE__, "line %zu: got \"%.*s\", expected \"%s\"",
				   i + 1, (int)(nl - buf), buf, lines[i]);
		buf = nl + 1;
	}
	KEXPECT_STREQ(t, buf, "");
}

static void procfs_maps_names_heap_stack_file_and_vdso(struct ktest *t)
{
	struct mm_struct *mm = mm_create();
	struct file *file = file_alloc(&test_file_fops, NULL);
	char *buf = kmalloc(TEXT_BUF, GFP_KERNEL);
	long r;
	int len;

	if (!mm || !file || !buf) {
		ktest_fail(t, __FILE__, __LINE__, "out of memory");
		goto out;
	}
	file->inode = &test_file_inode;
	strlcpy(file->path, "/bin/test", sizeof(file->path));
	r = build_test_mm(mm, file);
	KEXPECT_EQ(t, r, 0);
	len = procfs_format_maps(mm, buf, TEXT_BUF);
	KEXPECT_EQ(t, len, (int)strlen(buf));
	expect_lines(t, buf, expected_maps, ARRAY_SIZE(expected_maps));
	/* A file with no name left says so, as Linux's d_path(). */
	test_file_inode.nlink = 0;
	procfs_format_maps(mm, buf, TEXT_BUF);
	test_file_inode.nlink = 1;
	KEXPECT_TRUE(t, contains(buf, " /bin/test (deleted)\n"));
out:
	if (mm)
		mm_destroy(mm);
	if (file)
		file_put(file);
	kfree(buf);
}

/* The 6.1 heap test counts a VMA that merely touches [start_brk, brk]. */
static void procfs_maps_empty_heap_still_named(struct ktest *t)
{
	struct mm_struct *mm = mm_create();
	char buf[256];

	KASSERT_NOT_NULL(t, mm);
	mm->start_brk = mm->brk = 0x602000;
	KEXPECT_EQ(t, map_fixed(mm, 0x600000, P(2), PROT_READ | PROT_WRITE), 0x600000);
	KEXPECT_EQ(t, map_fixed(mm, 0x800000, P(1), PROT_READ | PROT_WRITE), 0x800000);
	procfs_format_maps(mm, buf, sizeof(buf));
	KEXPECT_STREQ(t, buf,
		      "00600000-00602000 rw-p 00000000 00:00 0                                  [heap]\n"
		      "00800000-00801000 rw-p 00000000 00:00 0 \n");
	mm_destroy(mm);
}

static void procfs_maps_small_buffer_reports_full_length(struct ktest *t)
{
	struct mm_struct *mm = mm_create();
	char buf[16];
	int len;

	KASSERT_NOT_NULL(t, mm);
	KEXPECT_EQ(t, map_fixed(mm, 0x400000, P(1), PROT_READ), 0x400000);
	memset(buf, 'x', sizeof(buf));
	len = procfs_format_maps(mm, buf, sizeof(buf));
	KEXPECT_EQ(t, len, 41); /* "00400000-00401000 r--p 00000000 00:00 0 \n" */
	KEXPECT_STREQ(t, buf, "00400000-004010");
	KEXPECT_EQ(t, procfs_format_maps(mm, NULL, 0), 41);
	mm_destroy(mm);
}

static void procfs_maps_of_empty_mm_is_empty(struct ktest *t)
{
	struct mm_struct *mm = mm_create();
	char buf[8] = "junk";

	KASSERT_NOT_NULL(t, mm);
	KEXPECT_EQ(t, procfs_format_maps(mm, buf, sizeof(buf)), 0);
	KEXPECT_STREQ(t, buf, "");
	KEXPECT_EQ(t, procfs_format_maps(NULL, buf, sizeof(buf)), 0);
	mm_destroy(mm);
}

/* Each line is "Label:" padded to 16 columns, the value right-aligned in
 * at least 8 (Linux's show_val_kb(): a machine with 100 GiB or more has
 * values of 9 digits or more, which push " kB" right), then " kB". */
static void procfs_meminfo_lines_align_like_linux(struct ktest *t)
{
	static const char *const labels[] = { "MemTotal:", "MemFree:", "MemAvailable:", "Buffers:",
					      "Cached:", "SwapTotal:", "SwapFree:" };
	char *buf = kmalloc(TEXT_BUF, GFP_KERNEL);
	char want[64];
	size_t found = 0;
	int len;

	KASSERT_NOT_NULL(t, buf);
	len = procfs_format_meminfo(buf, TEXT_BUF);
	KEXPECT_GT(t, len, 0);
	KEXPECT_LT(t, len, TEXT_BUF);
	snprintf(want, sizeof(want), "MemTotal:       %8llu kB\n",
		 (unsigned long long)pmm_total_pages() * (PAGE_SIZE / 1024));
	KEXPECT_EQ(t, strncmp(buf, want, strlen(want)), 0);
	for (const char *line = buf; *line; line = strchr(line, '\n') + 1) {
		size_t n = strchr(line, '\n') - line, digits = 0;
		if (found < ARRAY_SIZE(labels) && !strncmp(line, labels[found], strlen(labels[found])))
			found++;
		KASSERT_GE(t, n, 27U);
		while (digits < n - 3 && line[n - 4 - digits] >= '0' && line[n - 4 - digits] <= '9')
			digits++;
		KEXPECT_GE(t, digits, 1U);
		KEXPECT_EQ(t, n, 16 + MAX(digits, (size_t)8) + 3);
		KEXPECT_EQ(t, memcmp(line + n - 3, " kB", 3), 0);
		KEXPECT_TRUE(t, line[15] == ' ' || digits > 8);
	}
	KEXPECT_EQ(t, found, ARRAY_SIZE(labels)); /* all there, in Linux's order */
	KEXPECT_TRUE(t, contains(buf, "\nSwapTotal:             0 kB\n"));
	kfree(buf);
}

static void procfs_mounts_lists_boot_file_systems(struct ktest *t)
{
	static const char *const lines[] = {
		"rootfs / rootfs rw 0 0",
		"proc /proc proc rw,relatime 0 0",
		"sysfs /sys sysfs rw,relatime 0 0",
		"devtmpfs /dev devtmpfs rw,relatime,mode=755 0 0",
	};
	char buf[512];
	int len = procfs_format_mounts(buf, sizeof(buf));
	const char *p = buf;

	KEXPECT_LT(t, len, (int)sizeof(buf));
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		size_t n = strlen(lines[i]);
		if (strncmp(p, lines[i], n) || p[n] != '\n') {
			ktest_fail(t, __FILE__, __LINE__, "line %zu: expected \"%s\"", i + 1, lines[i]);
			return;
		}
		p += n + 1;
	}
}

/* ---- Through the VFS ---- */

/* Open path read-only, or skip the case when /proc is not procfs's. */
static struct file *open_proc(struct ktest *t, const char *path, unsigned int flags)
{
	struct inode *inode;
	struct file *f;
	int err;

	if (vfs_lookup("/", "/proc/meminfo", false, &inode)) {
		ktest_skip(t, "/proc is not served by procfs (procfs_init() not called)");
		return NULL;
	}
	f = vfs_open("/", path, flags, 0, &err);
	if (!f)
		ktest_fail(t, __FILE__, __LINE__, "open %s: error %d", path, err);
	return f;
}

/* Read all of f in reads of chunk bytes into a kmalloc'd, NUL-terminated
 * buffer; its length goes to *len when len is not NULL. */
static char *read_all(struct file *f, size_t chunk, size_t *len)
{
	char *buf = kzalloc(TEXT_BUF, GFP_KERNEL);
	size_t got = 0;
	ssize_t n;

	if (!buf)
		return NULL;
	while (got + chunk < TEXT_BUF && (n = vfs_read(f, buf + got, chunk)) > 0)
		got += n;
	if (len)
		*len = got;
	return buf;
}

/* One "processor" block per online CPU, numbered as the CPUs are, each
 * with that CPU's APIC ID, as Linux lists them (user/threadtest checks the
 * list against the affinity mask on Linux and here). */
static void procfs_cpuinfo_lists_every_online_cpu(struct ktest *t)
{
	struct file *f = open_proc(t, "/proc/cpuinfo", O_RDONLY);
	const size_t size = 64 * 1024;
	char *buf = kzalloc(size, GFP_KERNEL), want[64];
	uint64_t online = READ_ONCE(cpu_online_mask);
	unsigned int blocks = 0;
	size_t got = 0;
	ssize_t n;

	if (!f || !buf)
		goto out;
	while (got < size - 1 && (n = vfs_read(f, buf + got, size - 1 - got)) > 0)
		got += n;
	KASSERT_LT(t, got, size - 1);
	for (const char *line = buf; *line; line = strchr(line, '\n') + 1) {
		blocks += !strncmp(line, "processor\t: ", 12);
		if (!strchr(line, '\n'))
			break;
	}
	KEXPECT_EQ(t, blocks, nr_cpus_online());
	for (unsigned int id = 0; id < MAX_CPUS; id++) {
		if (!(online & (1ULL << id)))
			continue;
		snprintf(want, sizeof(want), "processor\t: %u\n", id);
		KEXPECT_TRUE(t, contains(buf, want));
		snprintf(want, sizeof(want), "\napicid\t\t: %u\n", cpu_area(id)->arch.apic_id);
		KEXPECT_TRUE(t, contains(buf, want));
	}
out:
	kfree(buf);
	if (f)
		file_put(f);
}

static void procfs_meminfo_reads_in_small_pieces(struct ktest *t)
{
	struct file *f = open_proc(t, "/proc/meminfo", O_RDONLY);
	char *text, *direct = kmalloc(TEXT_BUF, GFP_KERNEL);

	if (!f || !direct)
		goto out;
	text = read_all(f, 7, NULL);
	procfs_format_meminfo(direct, TEXT_BUF);
	/* Free memory may move between the two; the first line may not. */
	KEXPECT_NOT_NULL(t, text);
	if (text)
		KEXPECT_EQ(t, memcmp(text, direct, strchr(direct, '\n') - direct + 1), 0);
	KEXPECT_EQ(t, vfs_lseek(f, 0, SEEK_SET), 0);
	KEXPECT_EQ(t, vfs_read(f, direct, 9), 9);
	KEXPECT_EQ(t, memcmp(direct, "MemTotal:", 9), 0);
	KEXPECT_EQ(t, vfs_lseek(f, 0, SEEK_END), -EINVAL);
	kfree(text);
out:
	if (f)
		file_put(f);
	kfree(direct);
}

static void procfs_files_refuse_writing(struct ktest *t)
{
	struct file *f = open_proc(t, "/proc/uptime", O_RDONLY);
	int err;

	if (!f)
		return;
	file_put(f);
	KEXPECT_NULL(t, vfs_open("/", "/proc/uptime", O_WRONLY, 0, &err));
	KEXPECT_EQ(t, err, -EACCES);
	KEXPECT_NULL(t, vfs_open("/", "/proc/nonexistent", O_RDONLY, 0, &err));
	KEXPECT_EQ(t, err, -ENOENT);
	KEXPECT_NULL(t, vfs_open("/", "/proc/0", O_RDONLY, 0, &err));
	KEXPECT_EQ(t, err, -ENOENT);
}

struct listing {
	char names[64][16];
	size_t nr;
	size_t stop_after; /* report "full" after this many, to test resuming */
};

static bool listing_emit(void *ctx, const char *name, size_t len, uint64_t ino, unsigned int type)
{
	struct listing *l = ctx;

	if (l->nr == l->stop_after || l->nr == ARRAY_SIZE(l->names))
		return false;
	snprintf(l->names[l->nr++], sizeof(l->names[0]), "%.*s", (int)len, name);
	return true;
}

static bool listed(const struct listing *l, const char *name)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->names[i], name))
			return true;
	return false;
}

/* A task that exists only in task_list, for /proc/PID. */
static struct task *fake_task_add(struct mm_struct *mm)
{
	struct task_standin *sd = kmalloc(sizeof(*sd), GFP_KERNEL);
	struct task *t = &sd->task;
	pid_t pid = 31000;
	uint64_t flags;

	if (!sd)
		return NULL;
	while (task_exists(pid))
		pid++;
	task_standin_init(sd, pid);
	if (!(t->fs = fs_alloc("/tmp"))) {
		kfree(sd);
		return NULL;
	}
	t->state = TASK_RUNNABLE; /* never on the run queue: nothing runs it */
	t->mm = mm;
	strlcpy(t->comm, "fake", sizeof(t->comm));
	strlcpy(t->exe, "/bin/fake", sizeof(t->exe));
	flags = spin_lock_irqsave(&tasklist_lock);
	list_add_tail(&t->all_list, &task_list);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return t;
}

static void fake_task_remove(struct task *t)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	list_del(&t->all_list);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	fs_exit(t);
	kfree(container_of(t, struct task_standin, task));
}

static void procfs_root_lists_entries_then_pids(struct ktest *t)
{
	struct file *f = open_proc(t, "/proc", O_RDONLY | O_DIRECTORY);
	struct task *task = fake_task_add(NULL);
	struct listing *l = kzalloc(sizeof(*l), GFP_KERNEL);
	char pid[16];
	uint64_t prev = 0;
	size_t i;

	if (!f || !task || !l)
		goto out;
	snprintf(pid, sizeof(pid), "%d", task->pid);
	l->stop_after = 3;
	KEXPECT_EQ(t, vfs_iterate(f, listing_emit, l), 0);
	KEXPECT_EQ(t, l->nr, 3);
	l->stop_after = SIZE_MAX;
	KEXPECT_EQ(t, vfs_iterate(f, listing_emit, l), 0); /* resumes at the 4th */
	KEXPECT_STREQ(t, l->names[0], ".");
	KEXPECT_STREQ(t, l->names[1], "..");
	KEXPECT_STREQ(t, l->names[2], "cpuinfo");
	KEXPECT_STREQ(t, l->names[3], "filesystems");
	KEXPECT_TRUE(t, listed(l, "meminfo") && listed(l, "mounts"));
	/* "self" after the files, then only pids, in increasing order. */
	for (i = 0; i < l->nr && strcmp(l->names[i], "self"); i++)
		;
	KEXPECT_LT(t, i, l->nr);
	for (i++; i < l->nr; i++) {
		const char *end;
		uint64_t v;

		KEXPECT_EQ(t, kstrtou64_prefix(l->names[i], &end, &v), 0);
		KEXPECT_GT(t, v, prev);
		prev = v;
	}
	KEXPECT_TRUE(t, listed(l, pid));
	KEXPECT_STREQ(t, l->names[l->nr - 1], pid); /* the largest pid comes last */
	for (i = 0; i + 1 < l->nr; i++)
		KEXPECT_NE(t, strcmp(l->names[i], l->names[i + 1]), 0);
out:
	if (task)
		fake_task_remove(task);
	if (f)
		file_put(f);
	kfree(l);
}

/* A second fake task made a thread of leader's process (its tgid). */
static struct task *fake_thread_add(struct task *leader)
{
	struct task *th = fake_task_add(NULL);

	if (th) {
		th->tgid = leader->pid;
		th->group_leader = leader;
	}
	return th;
}

/* /proc lists processes only; /proc/PID/task lists every thread of the
 * process, each a directory like /proc/PID's; a thread's own /proc/TID
 * is there to open though not listed, as in Linux. */
static void procfs_task_dir_lists_the_threads(struct ktest *t)
{
	struct task *leader = fake_task_add(NULL), *th = leader ? fake_thread_add(leader) : NULL;
	struct listing *l = kzalloc(sizeof(*l), GFP_KERNEL);
	struct file *f = NULL, *g = NULL;
	char lpid[16], tpid[16], path[64];
	int err;

	if (!leader || !th || !l) {
		ktest_fail(t, __FILE__, __LINE__, "no memory");
		goto out;
	}
	snprintf(lpid, sizeof(lpid), "%d", leader->pid);
	snprintf(tpid, sizeof(tpid), "%d", th->pid);
	l->stop_after = SIZE_MAX;
	if ((f = open_proc(t, "/proc", O_RDONLY | O_DIRECTORY))) {
		KEXPECT_EQ(t, vfs_iterate(f, listing_emit, l), 0);
		KEXPECT_TRUE(t, listed(l, lpid));
		KEXPECT_FALSE(t, listed(l, tpid)); /* a thread is not a process */
		file_put(f);
	}
	l->nr = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", leader->pid);
	if ((f = open_proc(t, path, O_RDONLY | O_DIRECTORY))) {
		KEXPECT_EQ(t, vfs_iterate(f, listing_emit, l), 0);
		KEXPECT_EQ(t, l->nr, 4);
		KEXPECT_TRUE(t, listed(l, lpid) && listed(l, tpid));
		file_put(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", leader->pid, th->pid);
	g = vfs_open("/", path, O_RDONLY, 0, &err);
	KEXPECT_NOT_NULL(t, g);
	file_put(g);
	snprintf(path, sizeof(path), "/proc/%d/task/%d", leader->pid, leader->pid + 100000);
	KEXPECT_NULL(t, vfs_open("/", path, O_RDONLY, 0, &err));
	KEXPECT_EQ(t, err, -ENOENT);
	snprintf(path, sizeof(path), "/proc/%d/status", th->pid);
	g = vfs_open("/", path, O_RDONLY, 0, &err);
	KEXPECT_NOT_NULL(t, g);
	file_put(g);
out:
	if (th)
		fake_task_remove(th);
	if (leader)
		fake_task_remove(leader);
	kfree(l);
}

static void procfs_self_is_missing_for_the_idle_task(struct ktest *t)
{
	struct inode *inode;
	char buf[16];

	if (vfs_lookup("/", "/proc/meminfo", false, &inode)) {
		ktest_skip(t, "/proc is not served by procfs");
		return;
	}
	if (current->tgid) {
		ktest_skip(t, "not running as the idle task");
		return;
	}
	KEXPECT_EQ(t, vfs_readlink_at(NULL, "/proc/self", buf, sizeof(buf)), -ENOENT);
}

/* Write argc, argv[] and the strings at the top of a stack VMA, as execve
 * leaves them, and point mm->start_stack at argc. */
static int put_args(struct mm_struct *mm, uintptr_t sp)
{
	static const char strings[] = "/bin/fake\0-x\0hello world";
	uintptr_t str = sp + 64;
	uint64_t words[5] = { 3, str, str + 10, str + 13, 0 };

	mm->start_stack = sp;
	if (copy_to_user((void *)sp, words, sizeof(words)) < 0 ||
	    copy_to_user((void *)str, strings, sizeof(strings)) < 0)
		return -EFAULT;
	return 0;
}

static void expect_file(struct ktest *t, const char *path, const char *want, size_t want_len)
{
	struct file *f = vfs_open("/", path, O_RDONLY, 0, &(int){ 0 });
	size_t len = 0;
	char *text;

	if (!f) {
		ktest_fail(t, __FILE__, __LINE__, "cannot open %s", path);
		return;
	}
	text = read_all(f, 100, &len);
	if (!text || len != want_len || memcmp(text, want, want_len))
		ktest_fail(t, __FILE__, __LINE__, "%s: got \"%s\", expected \"%s\"", path,
			   text ? text : "(null)", want);
	kfree(text);
	file_put(f);
}

static void procfs_pid_dir_shows_maps_cmdline_status_exe(struct ktest *t)
{
	struct mm_struct *mm = mm_create();
	struct task *task = NULL;
	char path[64], maps[256], link[32];
	struct file *probe = open_proc(t, "/proc/uptime", O_RDONLY);

	if (!probe || !mm)
		goto out;
	file_put(probe);
	mm_switch(mm);
	KEXPECT_EQ(t, map_fixed(mm, 0x7ffffffde000, P(33), PROT_READ | PROT_WRITE), 0x7ffffffde000);
	KEXPECT_EQ(t, put_args(mm, 0x7fffffffe000), 0);
	mm_switch(NULL);
	task = fake_task_add(mm);
	KASSERT_NOT_NULL(t, task);
	procfs_format_maps(mm, maps, sizeof(maps));
	KEXPECT_TRUE(t, contains(maps, "[stack]\n"));
	snprintf(path, sizeof(path), "/proc/%d/maps", task->pid);
	expect_file(t, path, maps, strlen(maps));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", task->pid);
	expect_file(t, path, "/bin/fake\0-x\0hello world", 25); /* with the last NUL */
	snprintf(path, sizeof(path), "/proc/%d/comm", task->pid);
	expect_file(t, path, "fake\n", 5);
	snprintf(path, sizeof(path), "/proc/%d/status", task->pid);
	{
		struct file *f = vfs_open("/", path, O_RDONLY, 0, &(int){ 0 });
		char *text = f ? read_all(f, 64, NULL) : NULL;
		KEXPECT_TRUE(t, text && contains(text, "Name:\tfake\n") &&
				    contains(text, "VmSize:\t     132 kB\n"));
		kfree(text);
		if (f)
			file_put(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", task->pid);
	KEXPECT_EQ(t, vfs_readlink_at(NULL, path, link, sizeof(link)), 9);
	KEXPECT_EQ(t, memcmp(link, "/bin/fake", 9), 0);
	fake_task_remove(task);
	KEXPECT_EQ(t, vfs_readlink_at(NULL, path, link, sizeof(link)), -ENOENT);
out:
	if (mm)
		mm_destroy(mm);
}

/* A descriptor kept on a /proc/PID of a process that is gone keeps its
 * inodes: a new process gets others, and the old descriptor's reads and
 * opens through it say -ESRCH, its listings -ENOENT, as in Linux. */
static void procfs_old_pid_descriptor_keeps_its_inodes(struct ktest *t)
{
	struct file *probe = open_proc(t, "/proc/uptime", O_RDONLY);
	struct task *a = fake_task_add(NULL), *b = NULL;
	struct file *dir = NULL, *status = NULL;
	struct listing *l = kzalloc(sizeof(*l), GFP_KERNEL);
	struct inode *inode;
	char path[48], buf[16];
	int err = 0;

	if (!probe || !a || !l)
		goto out;
	snprintf(path, sizeof(path), "/proc/%d", a->pid);
	dir = vfs_open("/", path, O_RDONLY | O_DIRECTORY, 0, &(int){ 0 });
	snprintf(path, sizeof(path), "/proc/%d/status", a->pid);
	status = vfs_open("/", path, O_RDONLY, 0, &(int){ 0 });
	b = fake_task_add(NULL);
	if (!dir || !status || !b) {
		ktest_fail(t, __FILE__, __LINE__, "cannot set up the case");
		goto out;
	}
	KEXPECT_GT(t, vfs_read(status, buf, sizeof(buf)), 0);
	fake_task_remove(a); /* reaped */
	a = NULL;
	snprintf(path, sizeof(path), "/proc/%d", b->pid);
	KEXPECT_EQ(t, vfs_lookup("/", path, false, &inode), 0);
	KEXPECT_NE(t, inode, dir->inode);
	snprintf(path, sizeof(path), "/proc/%d/status", b->pid);
	KEXPECT_EQ(t, vfs_lookup("/", path, false, &inode), 0);
	KEXPECT_NE(t, inode, status->inode);
	KEXPECT_EQ(t, vfs_read(status, buf, sizeof(buf)), -ESRCH);
	KEXPECT_EQ(t, vfs_iterate(dir, listing_emit, l), -ENOENT);
	KEXPECT_EQ(t, vfs_open_at(dir->inode, "status", O_RDONLY, 0, &err), NULL);
	KEXPECT_EQ(t, err, -ESRCH);
out:
	if (status)
		file_put(status);
	if (dir)
		file_put(dir);
	if (a)
		fake_task_remove(a);
	if (b)
		fake_task_remove(b);
	if (probe)
		file_put(probe);
	kfree(l);
}

static const struct ktest_case procfs_cases[] = {
	KTEST_CASE(procfs_maps_names_heap_stack_file_and_vdso),
	KTEST_CASE(procfs_maps_empty_heap_still_named),
	KTEST_CASE(procfs_maps_small_buffer_reports_full_length),
	KTEST_CASE(procfs_maps_of_empty_mm_is_empty),
	KTEST_CASE(procfs_meminfo_lines_align_like_linux),
	KTEST_CASE(procfs_mounts_lists_boot_file_systems),
	KTEST_CASE(procfs_meminfo_reads_in_small_pieces),
	KTEST_CASE(procfs_cpuinfo_lists_every_online_cpu),
	KTEST_CASE(procfs_files_refuse_writing),
	KTEST_CASE(procfs_root_lists_entries_then_pids),
	KTEST_CASE(procfs_task_dir_lists_the_threads),
	KTEST_CASE(procfs_self_is_missing_for_the_idle_task),
	KTEST_CASE(procfs_pid_dir_shows_maps_cmdline_status_exe),
	KTEST_CASE(procfs_old_pid_descriptor_keeps_its_inodes),
};
KTEST_SUITE(procfs, procfs_cases);
