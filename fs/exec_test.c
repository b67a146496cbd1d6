/* Tests of the ELF loader (fs/exec.c), suite "exec".
 *
 * Each case writes a small static ELF image, built here byte by byte, to a
 * ramfs file and runs exec_load() for a task of its own, which is not
 * current: nothing is switched in until a case reads the new address
 * space back with copy_from_user() after mm_switch(), through the real
 * page-fault path. Every case ends by destroying what the task holds and
 * checking that pmm_free_pages() is back where it started.
 *
 * The image (IMG_SIZE bytes of file):
 *
 *   file 0x0000  ELF header, program headers at 0x40
 *        0x0200  pattern bytes ... (entry at 0x800)
 *        0x1000  pattern bytes
 *        0x1010  data: DATA_FILESZ bytes of pattern
 *        0x1110  0xee garbage to the end: not the segment's, must read 0
 *
 *   PT_LOAD R-X  file [0, 0x1000)           at TEXT_VADDR
 *   PT_LOAD RW-  file [0x1010, 0x1110)      at DATA_VADDR, memsz 0x3000
 *   PT_GNU_STACK RW-
 *   PT_NULL      (a spare slot for the cases that need one more header)
 */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/exec.h>
#include <asm/gdt.h>
#include <pagoda/ktest.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

#define IMG_PATH "/tmp/.exec_test"
#define IMG_SIZE 0x2000
#define TEXT_VADDR 0x400000UL
#define ENTRY_OFF 0x800
#define DATA_OFF 0x1010
#define DATA_VADDR 0x601010UL
#define DATA_FILESZ 0x100
#define DATA_MEMSZ 0x3000
#define DATA_END ALIGN_UP(DATA_VADDR + DATA_MEMSZ, PAGE_SIZE) /* 0x605000 */
#define PH_SPARE 3
#define GARBAGE 0xee

static uint8_t img[IMG_SIZE];

static uint8_t pattern(size_t off)
{
	return (uint8_t)(off * 7 + 1);
}

static Elf64_Ehdr *img_eh(void) { return (Elf64_Ehdr *)img; }
static Elf64_Phdr *img_ph(unsigned int i) { return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)) + i; }

static void set_ph(unsigned int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		   uint64_t filesz, uint64_t memsz)
{
	*img_ph(i) = (Elf64_Phdr){ .p_type = type, .p_flags = flags, .p_offset = off,
				   .p_vaddr = vaddr, .p_paddr = vaddr, .p_filesz = filesz,
				   .p_memsz = memsz, .p_align = PAGE_SIZE };
}

/* The good ET_EXEC image of the picture above. */
static void img_build(void)
{
	Elf64_Ehdr *eh = img_eh();

	for (size_t i = 0; i < IMG_SIZE; i++)
		img[i] = i >= DATA_OFF + DATA_FILESZ ? GARBAGE : pattern(i);
	memset(img, 0, 0x200);
	memcpy(eh->e_ident, "\177ELF", 4);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = TEXT_VADDR + ENTRY_OFF;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 4;
	set_ph(0, PT_LOAD, PF_R | PF_X, 0, TEXT_VADDR, 0x1000, 0x1000);
	set_ph(1, PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_VADDR, DATA_FILESZ, DATA_MEMSZ);
	set_ph(2, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	set_ph(PH_SPARE, PT_NULL, 0, 0, 0, 0, 0);
}

/* Make the ET_DYN (static PIE) variant: the same layout linked at 0. */
static void img_make_dyn(void)
{
	img_eh()->e_type = ET_DYN;
	img_eh()->e_entry = ENTRY_OFF;
	img_ph(0)->p_vaddr = img_ph(0)->p_paddr = 0;
	img_ph(1)->p_vaddr = img_ph(1)->p_paddr = DATA_VADDR - TEXT_VADDR;
}

static int img_write(void)
{
	return vfs_create_file(IMG_PATH, 0755, img, IMG_SIZE);
}

static const char *const test_argv[] = { "prog", "one", "two words", NULL };
static const char *const test_envp[] = { "HOME=/", "X=", NULL };

/* A task for exec_load(): zeroed, cwd "/", no mm yet. */
struct fixture {
	struct task *task;
	struct trap_frame tf;
};

static int load(struct fixture *fx)
{
	int err = img_write();

	if (err < 0)
		return err;
	return exec_load(fx->task, IMG_PATH, test_argv, test_envp, &fx->tf);
}

/* Run body with a fresh task and the good image built; tear down and
 * check that no frame leaked. The image is written once first, so that the
 * file's own pages are there before counting. */
static void run_exec_case(struct ktest *t, void (*body)(struct ktest *, struct fixture *))
{
	struct fixture fx = { 0 };
	uint64_t before;

	img_build();
	if (img_write() < 0) {
		ktest_skip(t, "cannot write " IMG_PATH " (no ramfs /tmp)");
		return;
	}
	kmalloc_shrink();
	before = pmm_free_pages();
	fx.task = kzalloc(sizeof(*fx.task), GFP_KERNEL);
	if (!fx.task) {
		ktest_fail(t, __FILE__, __LINE__, "kzalloc of a task failed");
		return;
	}
	body(t, &fx);
	pmm_fail_after(PMM_NO_FAIL);
	mm_switch(NULL);
	mm_destroy(fx.task->mm);
	task_set_exe_file(fx.task, NULL);
	kfree(fx.task);
	kmalloc_shrink();
	KEXPECT_EQ(t, pmm_free_pages(), before);
}

#define EXEC_CASE(name)                                                        \
	static void name##_body(struct ktest *t, struct fixture *fx);          \
	static void name(struct ktest *t) { run_exec_case(t, name##_body); }   \
	static void name##_body(struct ktest *t, struct fixture *fx)

/* --- Failures ------------------------------------------------------- */

EXEC_CASE(exec_bad_magic_is_enoexec)
{
	img[3] = 'X';
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
	KEXPECT_NULL(t, fx->task->mm);
}

EXEC_CASE(exec_wrong_class_is_enoexec)
{
	img_eh()->e_ident[EI_CLASS] = 1; /* ELFCLASS32 */
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
}

EXEC_CASE(exec_wrong_machine_is_enoexec)
{
	img_eh()->e_machine = 183; /* EM_AARCH64 */
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
}

EXEC_CASE(exec_big_endian_is_enoexec)
{
	img_eh()->e_ident[EI_DATA] = 2; /* ELFDATA2MSB */
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
}

EXEC_CASE(exec_relocatable_object_is_enoexec)
{
	img_eh()->e_type = 1; /* ET_REL */
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
}

/* PT_INTERP names the dynamic linker: its path sits in the file at
 * INTERP_OFF, NUL-terminated. */
#define INTERP_OFF 0x180
#define LD_PATH "/tmp/.exec_test_ld"

static void img_set_interp(const char *path, size_t len)
{
	memcpy(img + INTERP_OFF, path, len);
	set_ph(PH_SPARE, PT_INTERP, PF_R, INTERP_OFF, TEXT_VADDR + INTERP_OFF, len, len);
}

EXEC_CASE(exec_pt_interp_missing_is_enoent_and_unterminated_is_enoexec)
{
	img_set_interp("/tmp/.exec_test_none", sizeof("/tmp/.exec_test_none"));
	KEXPECT_EQ(t, load(fx), -ENOENT);
	img_set_interp("/tmp/.exec_test_none", sizeof("/tmp/.exec_test_none") - 1);
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
	KEXPECT_NULL(t, fx->task->mm);
}

EXEC_CASE(exec_truncated_program_headers_are_enoexec)
{
	img_eh()->e_phoff = IMG_SIZE - sizeof(Elf64_Phdr);
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
}

EXEC_CASE(exec_wrong_phentsize_is_enoexec)
{
	img_eh()->e_phentsize = sizeof(Elf64_Phdr) - 4;
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
}

EXEC_CASE(exec_segment_past_end_of_file_is_enoexec)
{
	img_ph(1)->p_filesz = IMG_SIZE;
	img_ph(1)->p_memsz = IMG_SIZE;
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
}

EXEC_CASE(exec_missing_file_is_enoent)
{
	KEXPECT_EQ(t, exec_load(fx->task, "/tmp/.exec_test_none", test_argv, test_envp, &fx->tf),
		   -ENOENT);
}

EXEC_CASE(exec_directory_is_eacces)
{
	KEXPECT_EQ(t, exec_load(fx->task, "/tmp", test_argv, test_envp, &fx->tf), -EACCES);
}

EXEC_CASE(exec_file_without_x_bit_is_eacces)
{
	KASSERT_EQ(t, vfs_create_file(IMG_PATH, 0644, img, IMG_SIZE), 0);
	KEXPECT_EQ(t, exec_load(fx->task, IMG_PATH, test_argv, test_envp, &fx->tf), -EACCES);
}

EXEC_CASE(exec_too_many_arguments_is_e2big)
{
	char *big = kmalloc(EXEC_ARG_MAX, GFP_KERNEL);
	const char *argv[] = { "prog", big, NULL };

	KASSERT_NOT_NULL(t, big);
	memset(big, 'x', EXEC_ARG_MAX - 1);
	big[EXEC_ARG_MAX - 1] = 0;
	KASSERT_EQ(t, img_write(), 0);
	KEXPECT_EQ(t, exec_load(fx->task, IMG_PATH, argv, test_envp, &fx->tf), -E2BIG);
	kfree(big);
}

/* A failed exec leaves the old address space as it was. */
EXEC_CASE(exec_failure_keeps_old_mm)
{
	struct mm_struct *old = mm_create();

	KASSERT_NOT_NULL(t, old);
	fx->task->mm = old;
	KASSERT_EQ(t, do_mmap(old, 0x10000000, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
			      MAP_FIXED, NULL, 0), 0x10000000L);
	img_ph(PH_SPARE)->p_type = PT_INTERP;
	KEXPECT_EQ(t, load(fx), -ENOEXEC);
	KEXPECT_TRUE(t, fx->task->mm == old);
	KEXPECT_NOT_NULL(t, vma_lookup(old, 0x10000000));
	KEXPECT_EQ(t, old->map_count, 1);
}

/* Out of memory at every step in turn: -ENOMEM, the old mm kept, nothing
 * leaked (run_exec_case() counts the frames). */
EXEC_CASE(exec_out_of_memory_anywhere_leaves_no_trace)
{
	struct mm_struct *old = mm_create();
	unsigned int k;
	int ret = -ENOMEM;

	KASSERT_NOT_NULL(t, old);
	fx->task->mm = old;
	KASSERT_EQ(t, img_write(), 0);
	for (k = 0; k < 200 && ret == -ENOMEM; k++) {
		pmm_fail_after(k);
		ret = exec_load(fx->task, IMG_PATH, test_argv, test_envp, &fx->tf);
		pmm_fail_after(PMM_NO_FAIL);
		if (ret < 0)
			KEXPECT_TRUE(t, fx->task->mm == old);
	}
	KEXPECT_EQ(t, ret, 0);
	KEXPECT_TRUE(t, fx->task->mm != old); /* old was destroyed by the success */
	ktest_log(t, "exec succeeded with %u allocations allowed", k - 1);
}

/* --- The loaded program --------------------------------------------- */

static void expect_vma(struct ktest *t, struct mm_struct *mm, uintptr_t start, uintptr_t end,
		       unsigned long rwx, bool file)
{
	struct vm_area_struct *v = vma_lookup(mm, start);

	KASSERT_NOT_NULL(t, v);
	KEXPECT_EQ(t, v->vm_start, start);
	KEXPECT_EQ(t, v->vm_end, end);
	KEXPECT_EQ(t, v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC), rwx);
	KEXPECT_EQ(t, v->vm_file != NULL, file);
}

EXEC_CASE(exec_maps_segments_with_their_protections)
{
	struct mm_struct *mm;

	KASSERT_EQ(t, load(fx), 0);
	mm = fx->task->mm;
	KASSERT_NOT_NULL(t, mm);
	expect_vma(t, mm, TEXT_VADDR, TEXT_VADDR + 0x1000, VM_READ | VM_EXEC, true);
	expect_vma(t, mm, 0x601000, 0x602000, VM_READ | VM_WRITE, true);
	expect_vma(t, mm, 0x602000, DATA_END, VM_READ | VM_WRITE, false);
	KEXPECT_NULL(t, vma_lookup(mm, TEXT_VADDR + 0x1000));
	KEXPECT_EQ(t, mm->start_brk, DATA_END);
	KEXPECT_EQ(t, mm->brk, DATA_END);
	KEXPECT_STREQ(t, fx->task->exe, IMG_PATH);
	KEXPECT_STREQ(t, fx->task->comm, ".exec_test");
}

EXEC_CASE(exec_sets_entry_stack_and_user_segments)
{
	struct vm_area_struct *stack;

	fx->tf.rax = fx->tf.rdi = fx->tf.rdx = 0x1234; /* must be cleared */
	KASSERT_EQ(t, load(fx), 0);
	KEXPECT_EQ(t, fx->tf.rip, TEXT_VADDR + ENTRY_OFF);
	KEXPECT_EQ(t, fx->tf.cs, GDT_USER_CS);
	KEXPECT_EQ(t, fx->tf.ss, GDT_USER_DS);
	KEXPECT_TRUE(t, fx->tf.rflags & X86_RFLAGS_IF);
	KEXPECT_EQ(t, fx->tf.rsp % 16, 0);
	KEXPECT_EQ(t, fx->tf.rax | fx->tf.rdi | fx->tf.rdx, 0);
	KEXPECT_EQ(t, fx->task->mm->start_stack, fx->tf.rsp);
	stack = vma_lookup(fx->task->mm, fx->tf.rsp);
	KASSERT_NOT_NULL(t, stack);
	KEXPECT_EQ(t, stack->vm_end, EXEC_STACK_TOP);
	KEXPECT_TRUE(t, stack->vm_flags & VM_GROWSDOWN);
	KEXPECT_FALSE(t, stack->vm_flags & VM_EXEC); /* PT_GNU_STACK without PF_X */
	KEXPECT_GE(t, stack->vm_end - stack->vm_start, EXEC_STACK_SIZE);
}

EXEC_CASE(exec_gnu_stack_pf_x_makes_stack_executable)
{
	img_ph(2)->p_flags = PF_R | PF_W | PF_X;
	KASSERT_EQ(t, load(fx), 0);
	KEXPECT_TRUE(t, vma_lookup(fx->task->mm, fx->tf.rsp)->vm_flags & VM_EXEC);
}

/* Read [uaddr, uaddr + n) of the task's (now active) mm. */
static bool read_user(struct fixture *fx, uintptr_t uaddr, void *buf, size_t n)
{
	mm_switch(fx->task->mm);
	return copy_from_user(buf, (const void *)uaddr, n) == 0;
}

EXEC_CASE(exec_pages_in_file_bytes_and_zeroes_bss)
{
	uint8_t *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	size_t bad = 0;

	KASSERT_NOT_NULL(t, buf);
	KASSERT_EQ(t, load(fx), 0);
	KASSERT_TRUE(t, read_user(fx, TEXT_VADDR, buf, PAGE_SIZE));
	KEXPECT_EQ(t, memcmp(buf, img, PAGE_SIZE), 0);
	KASSERT_TRUE(t, read_user(fx, 0x601000, buf, PAGE_SIZE));
	KEXPECT_EQ(t, memcmp(buf, img + 0x1000, 0x10 + DATA_FILESZ), 0);
	for (size_t i = 0x10 + DATA_FILESZ; i < PAGE_SIZE; i++)
		bad += buf[i] != 0;
	KEXPECT_EQ(t, bad, 0); /* the 0xee bytes past p_filesz do not show */
	KASSERT_TRUE(t, read_user(fx, DATA_END - PAGE_SIZE, buf, PAGE_SIZE));
	for (size_t i = 0; i < PAGE_SIZE; i++)
		bad += buf[i] != 0;
	KEXPECT_EQ(t, bad, 0);
	kfree(buf);
}

/* The value of auxv entry key, from the vector at uaddr; false if absent
 * before AT_NULL. */
static bool aux_get(struct fixture *fx, uintptr_t uaddr, uint64_t key, uint64_t *val)
{
	uint64_t pair[2];

	for (int i = 0; i < 64 && read_user(fx, uaddr + i * 16, pair, sizeof(pair)); i++) {
		if (pair[0] == key) {
			*val = pair[1];
			return true;
		}
		if (pair[0] == AT_NULL)
			return false;
	}
	return false;
}

/* The string array at uaddr matches want (NULL-terminated)? Returns the
 * address after its NULL, or 0. */
static uintptr_t check_strings(struct ktest *t, struct fixture *fx, uintptr_t uaddr,
			       const char *const *want)
{
	char s[64];
	uint64_t p;

	for (size_t i = 0;; i++, uaddr += 8) {
		if (!read_user(fx, uaddr, &p, sizeof(p)))
			return 0;
		if (!want[i]) {
			KEXPECT_EQ(t, p, 0);
			return uaddr + 8;
		}
		KEXPECT_GT(t, strncpy_from_user(s, (const char *)p, sizeof(s)), -1);
		s[sizeof(s) - 1] = 0;
		KEXPECT_STREQ(t, s, want[i]);
	}
}

EXEC_CASE(exec_stack_holds_argc_argv_envp_auxv)
{
	uint64_t argc = 0, v = 0;
	uintptr_t envp, auxv;
	char s[32];

	KASSERT_EQ(t, load(fx), 0);
	KASSERT_TRUE(t, read_user(fx, fx->tf.rsp, &argc, sizeof(argc)));
	KEXPECT_EQ(t, argc, 3);
	envp = check_strings(t, fx, fx->tf.rsp + 8, test_argv);
	KASSERT_NE(t, envp, 0);
	auxv = check_strings(t, fx, envp, test_envp);
	KASSERT_NE(t, auxv, 0);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_PAGESZ, &v) && v == PAGE_SIZE);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_ENTRY, &v) && v == TEXT_VADDR + ENTRY_OFF);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_PHDR, &v) && v == TEXT_VADDR + sizeof(Elf64_Ehdr));
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_PHNUM, &v) && v == 4);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_PHENT, &v) && v == sizeof(Elf64_Phdr));
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_BASE, &v) && v == 0);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_CLKTCK, &v) && v == 100);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_UID, &v) && v == 0);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_SECURE, &v) && v == 0);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_HWCAP, &v) && (v & 1)); /* FPU */
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_RANDOM, &v) && read_user(fx, v, s, 16));
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_EXECFN, &v) &&
			       strncpy_from_user(s, (const char *)v, sizeof(s)) > 0);
	KEXPECT_STREQ(t, s, IMG_PATH);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_PLATFORM, &v) &&
			       strncpy_from_user(s, (const char *)v, sizeof(s)) > 0);
	KEXPECT_STREQ(t, s, "x86_64");
}

EXEC_CASE(exec_et_dyn_loads_at_dyn_base)
{
	uint64_t v = 0;
	uintptr_t auxv;

	img_make_dyn();
	KASSERT_EQ(t, load(fx), 0);
	KEXPECT_EQ(t, fx->tf.rip, EXEC_DYN_BASE + ENTRY_OFF);
	expect_vma(t, fx->task->mm, EXEC_DYN_BASE, EXEC_DYN_BASE + 0x1000, VM_READ | VM_EXEC,
		   true);
	expect_vma(t, fx->task->mm, EXEC_DYN_BASE + 0x201000, EXEC_DYN_BASE + 0x202000,
		   VM_READ | VM_WRITE, true);
	KEXPECT_EQ(t, fx->task->mm->brk, EXEC_DYN_BASE + (DATA_END - TEXT_VADDR));
	auxv = fx->tf.rsp + 8 * (1 + 4 + 3);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_PHDR, &v) && v == EXEC_DYN_BASE + sizeof(Elf64_Ehdr));
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_ENTRY, &v) && v == EXEC_DYN_BASE + ENTRY_OFF);
}

/* A dynamically linked program: the kernel maps the program at its
 * address, its dynamic linker (here the ET_DYN variant of the image) in
 * a free area below mmap_base, starts the linker, and tells it in the
 * auxiliary vector where the program is (AT_PHDR, AT_ENTRY) and where it
 * was put itself (AT_BASE). The linker's file is denied writers only
 * while it loads. */
EXEC_CASE(exec_pt_interp_starts_the_dynamic_linker_with_its_base_in_auxv)
{
	static uint8_t ld[IMG_SIZE];
	uintptr_t auxv, base;
	struct vm_area_struct *v;
	struct file *w;
	uint64_t val = 0;
	int err;

	img_make_dyn();
	memcpy(ld, img, IMG_SIZE);
	KASSERT_EQ(t, vfs_create_file(LD_PATH, 0755, ld, IMG_SIZE), 0);
	img_build();
	img_set_interp(LD_PATH, sizeof(LD_PATH));
	KASSERT_EQ(t, load(fx), 0);
	v = vma_find(fx->task->mm, TEXT_VADDR + 0x1000);
	while (v && !(v->vm_file && v->vm_file->inode != fx->task->exe_file->inode))
		v = vma_next(fx->task->mm, v);
	KASSERT_NOT_NULL(t, v);
	base = v->vm_start;
	KEXPECT_LT(t, base, fx->task->mm->mmap_base);
	KEXPECT_EQ(t, fx->tf.rip, base + ENTRY_OFF);
	auxv = fx->tf.rsp + 8 * (1 + 4 + 3);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_BASE, &val) && val == base);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_ENTRY, &val) && val == TEXT_VADDR + ENTRY_OFF);
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_PHDR, &val) && val == TEXT_VADDR + sizeof(Elf64_Ehdr));
	KEXPECT_TRUE(t, aux_get(fx, auxv, AT_PHNUM, &val) && val == 4);
	KEXPECT_TRUE(t, read_user(fx, base + 0x200, &val, 1) && (val & 0xff) == pattern(0x200));
	w = vfs_open("/", LD_PATH, O_WRONLY, 0, &err);
	KEXPECT_NOT_NULL(t, w);
	if (w)
		file_put(w);
	vfs_unlink_at(NULL, LD_PATH, false);
}

/* Ten processes running one program use its text frames once: each maps
 * the page-cache page read-only, and the first write to a data page gives
 * that process a copy of its own. */
EXEC_CASE(exec_ten_processes_share_the_text_frames)
{
	struct task *tasks[10] = { fx->task };
	struct trap_frame tf;
	struct pt_lookup_result r;
	phys_addr_t text = 0, data[10] = { 0 };
	unsigned int i;

	KASSERT_EQ(t, img_write(), 0);
	for (i = 1; i < 10 && (tasks[i] = kzalloc(sizeof(struct task), GFP_KERNEL)); i++)
		; /* as the fixture's: no fs, so paths resolve from / */
	for (i = 0; i < 10 && tasks[i]; i++) {
		struct mm_struct *mm;
		if (exec_load(tasks[i], IMG_PATH, test_argv, test_envp, &tf) < 0)
			break;
		mm = tasks[i]->mm;
		if (handle_mm_fault(mm, TEXT_VADDR, FAULT_FLAG_INSTR) != VM_FAULT_OK ||
		    handle_mm_fault(mm, DATA_VADDR, FAULT_FLAG_WRITE) != VM_FAULT_OK ||
		    pt_lookup(mm->pgd, TEXT_VADDR, &r) < 0)
			break;
		if (!i)
			text = r.phys;
		KEXPECT_EQ(t, r.phys, text);
		KEXPECT_FALSE(t, r.pte & PTE_WRITE);
		pt_lookup(mm->pgd, DATA_VADDR, &r);
		data[i] = r.phys;
		KEXPECT_NE(t, data[i], i ? data[i - 1] : 0);
	}
	KEXPECT_EQ(t, i, 10);
	/* The page cache's reference and one per process. */
	KEXPECT_EQ(t, atomic_load(&pfn_to_page(phys_to_pfn(text))->refcount), 1 + i);
	for (i = 1; i < 10 && tasks[i]; i++) {
		mm_destroy(tasks[i]->mm);
		task_set_exe_file(tasks[i], NULL);
		kfree(tasks[i]);
	}
}

/* A second exec replaces the first program's mm; the first one's frames
 * are freed (run_exec_case() counts them). */
EXEC_CASE(exec_twice_frees_the_first_mm)
{
	uint8_t b;

	KASSERT_EQ(t, load(fx), 0);
	KASSERT_TRUE(t, read_user(fx, DATA_VADDR, &b, 1)); /* fault some pages in */
	mm_switch(NULL);
	img_make_dyn();
	KASSERT_EQ(t, load(fx), 0);
	KEXPECT_NULL(t, vma_lookup(fx->task->mm, TEXT_VADDR));
	KEXPECT_NOT_NULL(t, vma_lookup(fx->task->mm, EXEC_DYN_BASE));
}

/* A running program's file refuses writers (the O_TRUNC leaves it whole);
 * a file open for writing refuses to run; and the denial goes with the
 * program (exec of another, exit). */
EXEC_CASE(exec_running_file_refuses_writers_and_written_file_refuses_exec)
{
	struct file *w;
	int err;

	KASSERT_EQ(t, load(fx), 0);
	KEXPECT_NULL(t, vfs_open("/", IMG_PATH, O_WRONLY | O_TRUNC, 0, &err));
	KEXPECT_EQ(t, err, -ETXTBSY);
	KEXPECT_NULL(t, vfs_open("/", IMG_PATH, O_RDONLY | O_TRUNC, 0, &err));
	KEXPECT_EQ(t, err, -ETXTBSY);
	KEXPECT_NOT_NULL(t, fx->task->exe_file);
	KEXPECT_EQ(t, fx->task->exe_file->inode->size, (uint64_t)IMG_SIZE);
	task_set_exe_file(fx->task, NULL); /* the program is gone */
	w = vfs_open("/", IMG_PATH, O_WRONLY, 0, &err);
	KASSERT_NOT_NULL(t, w);
	KEXPECT_EQ(t, exec_load(fx->task, IMG_PATH, test_argv, test_envp, &fx->tf), -ETXTBSY);
	file_put(w);
	KEXPECT_EQ(t, exec_load(fx->task, IMG_PATH, test_argv, test_envp, &fx->tf), 0);
}

static const struct ktest_case exec_cases[] = {
	KTEST_CASE(exec_bad_magic_is_enoexec),
	KTEST_CASE(exec_wrong_class_is_enoexec),
	KTEST_CASE(exec_wrong_machine_is_enoexec),
	KTEST_CASE(exec_big_endian_is_enoexec),
	KTEST_CASE(exec_relocatable_object_is_enoexec),
	KTEST_CASE(exec_pt_interp_missing_is_enoent_and_unterminated_is_enoexec),
	KTEST_CASE(exec_truncated_program_headers_are_enoexec),
	KTEST_CASE(exec_wrong_phentsize_is_enoexec),
	KTEST_CASE(exec_segment_past_end_of_file_is_enoexec),
	KTEST_CASE(exec_missing_file_is_enoent),
	KTEST_CASE(exec_directory_is_eacces),
	KTEST_CASE(exec_file_without_x_bit_is_eacces),
	KTEST_CASE(exec_too_many_arguments_is_e2big),
	KTEST_CASE(exec_failure_keeps_old_mm),
	KTEST_CASE(exec_out_of_memory_anywhere_leaves_no_trace),
	KTEST_CASE(exec_maps_segments_with_their_protections),
	KTEST_CASE(exec_sets_entry_stack_and_user_segments),
	KTEST_CASE(exec_gnu_stack_pf_x_makes_stack_executable),
	KTEST_CASE(exec_pages_in_file_bytes_and_zeroes_bss),
	KTEST_CASE(exec_stack_holds_argc_argv_envp_auxv),
	KTEST_CASE(exec_et_dyn_loads_at_dyn_base),
	KTEST_CASE(exec_pt_interp_starts_the_dynamic_linker_with_its_base_in_auxv),
	KTEST_CASE(exec_ten_processes_share_the_text_frames),
	KTEST_CASE(exec_twice_frees_the_first_mm),
	KTEST_CASE(exec_running_file_refuses_writers_and_written_file_refuses_exec),
};

KTEST_SUITE(exec, exec_cases);
