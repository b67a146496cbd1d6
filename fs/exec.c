/* exec: load an ELF64 x86-64 program into a new address space, and
 * execve(2). Linux's fs/binfmt_elf.c and fs/exec.c: static programs
 * (musl-gcc -static, static PIE, Debian's busybox-static) and dynamically
 * linked ones, whose PT_INTERP names the dynamic linker (glibc's ld.so,
 * musl's libc.so) that the kernel loads beside the program and starts
 * instead, with the auxiliary vector telling it where the program is.
 *
 * Every PT_LOAD segment is a private mapping of the file's page cache
 * (docs/pagecache.md): the text of ten processes running one program is
 * one set of frames, and a page is copied only when a process writes it
 * (its data, the start of .bss in its last file page). The rest of .bss
 * is anonymous memory.
 *
 * The work is done in the new mm, which nobody else sees, until the point
 * of no return in exec_commit(): everything that can fail (reading the
 * headers, building the VMAs, writing the stack) fails with the caller's
 * mm untouched. */
#include <pagoda/errno.h>
#include <pagoda/fs_struct.h>
#include <pagoda/exec.h>
#include <pagoda/fdtable.h>
#include <asm/gdt.h>
#include <pagoda/layout.h>
#include <pagoda/mm.h>
#include <pagoda/page.h>
#include <pagoda/pagemap.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/syscall.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

#define ELF_PHDRS_MAX_BYTES PAGE_SIZE /* Linux's cap on e_phnum * e_phentsize */
#define EXEC_PLATFORM "x86_64"
#define EXEC_RANDOM_BYTES 16
#define EXEC_NR_AUXV 19          /* pairs written by stack_fill_auxv(), AT_NULL too */
#define AT_HWCAP2 26
#define RFLAGS_FIXED (1UL << 1)  /* reads as 1 (Intel SDM Vol. 1, 3.4.3) */
#define CPUID1_ECX_RDRAND (1U << 30)

/* A program (or its dynamic linker) being loaded. */
struct exec_image {
	struct file *file;
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;      /* eh.e_phnum headers, kmalloc'd */
	uintptr_t lo, hi;    /* [lo, hi): the PT_LOAD segments, unbiased */
	uintptr_t bias;      /* added to every p_vaddr: 0 for ET_EXEC */
	uintptr_t end;       /* page-aligned end of the highest segment */
	uintptr_t phdr_addr; /* the program headers in memory (AT_PHDR), or 0 */
	int interp;          /* index of PT_INTERP, or -1 */
	bool exec_stack;     /* PT_GNU_STACK asked for PF_X */
};

/* The argument and environment strings (kernel copies). */
struct exec_args {
	const char *const *argv, *const *envp;
	size_t argc, envc;
	size_t bytes; /* all the strings with their NULs */
};

/* --- Reading the file ------------------------------------------------- */

/* Read exactly n bytes at off. 0, -ENOEXEC if the file is shorter (a
 * truncated executable), or the read's error. */
static int exec_read(struct file *f, void *buf, size_t n, uint64_t off)
{
	ssize_t got = vfs_pread(f, buf, n, off);

	if (got < 0)
		return (int)got;
	return (size_t)got == n ? 0 : -ENOEXEC;
}

/* Open path for exec: a regular file with an x bit (root may run any
 * file with one, as Linux allows CAP_DAC_OVERRIDE). */
static struct file *exec_open(struct task *t, const char *path, int *err)
{
	char cwd[CWD_MAX];
	struct file *f = vfs_open(fs_cwd(t, cwd), path, O_RDONLY, 0, err);

	if (!f)
		return NULL;
	if (!f->inode || !S_ISREG(f->inode->mode) || !(f->inode->mode & 0111)) {
		file_put(f);
		*err = -EACCES;
		return NULL;
	}
	/* A file open for writing cannot run; a running one cannot be
	 * written (Linux's deny_write_access() in do_open_execat()). */
	if ((*err = deny_write_access(f)) < 0) {
		file_put(f);
		return NULL;
	}
	return f;
}

static int elf_check_header(const Elf64_Ehdr *eh)
{
	if (memcmp(eh->e_ident, "\177ELF", 4) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_ident[EI_VERSION] != EV_CURRENT)
		return -ENOEXEC;
	if ((eh->e_type != ET_EXEC && eh->e_type != ET_DYN) || eh->e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phnum * sizeof(Elf64_Phdr) > ELF_PHDRS_MAX_BYTES)
		return -ENOEXEC;
	return 0;
}

/* Is this PT_LOAD one the loader can map? In the file, no wrap, inside
 * user space once biased, and its file offset congruent with its address
 * modulo the page size (what lets a page map a page of the file). */
static bool elf_load_ok(const Elf64_Phdr *p, uint64_t file_size)
{
	return p->p_filesz <= p->p_memsz && p->p_offset + p->p_filesz >= p->p_offset &&
	       p->p_offset + p->p_filesz <= file_size &&
	       p->p_vaddr + p->p_memsz >= p->p_vaddr && p->p_vaddr + p->p_memsz < USER_SPACE_END &&
	       (p->p_vaddr & (PAGE_SIZE - 1)) == (p->p_offset & (PAGE_SIZE - 1));
}

/* Where the program headers appear in memory: PT_PHDR, else inside the
 * PT_LOAD whose file range holds e_phoff (as Linux finds them). */
static uintptr_t elf_phdr_vaddr(const struct exec_image *img)
{
	const Elf64_Ehdr *eh = &img->eh;

	for (unsigned int i = 0; i < eh->e_phnum; i++)
		if (img->ph[i].p_type == PT_PHDR)
			return img->ph[i].p_vaddr;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		if (p->p_type == PT_LOAD && p->p_offset <= eh->e_phoff &&
		    eh->e_phoff < p->p_offset + p->p_filesz)
			return p->p_vaddr + (eh->e_phoff - p->p_offset);
	}
	return 0;
}

/* Check the program headers: the PT_LOAD span [lo, hi), PT_INTERP, the
 * stack's exec bit. 0 or -ENOEXEC. */
static int elf_scan(struct exec_image *img)
{
	uint64_t size = img->file->inode->size;

	img->lo = UINTPTR_MAX;
	img->hi = 0;
	img->interp = -1;
	for (unsigned int i = 0; i < img->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		if (p->p_type == PT_INTERP && img->interp < 0)
			img->interp = i;
		if (p->p_type == PT_GNU_STACK)
			img->exec_stack = p->p_flags & PF_X;
		if (p->p_type != PT_LOAD)
			continue;
		if (!elf_load_ok(p, size))
			return -ENOEXEC;
		img->lo = MIN(img->lo, (uintptr_t)p->p_vaddr);
		img->hi = MAX(img->hi, (uintptr_t)(p->p_vaddr + p->p_memsz));
	}
	return img->hi == 0 ? -ENOEXEC : 0; /* nothing to load */
}

/* Put the image at base (ET_DYN; an ET_EXEC stays where it was linked):
 * the bias, the end, AT_PHDR. 0 or -ENOEXEC when it does not fit below
 * the stack. */
static int elf_place(struct exec_image *img, uintptr_t base)
{
	uintptr_t lo, hi;

	if (img->eh.e_type == ET_DYN)
		img->bias = base - ALIGN_DOWN(img->lo, PAGE_SIZE);
	lo = img->lo + img->bias;
	hi = img->hi + img->bias;
	if (lo < USER_SPACE_START || hi < lo ||
	    hi > EXEC_STACK_TOP - EXEC_STACK_SIZE - STACK_GUARD_GAP)
		return -ENOEXEC;
	img->end = ALIGN_UP(hi, PAGE_SIZE);
	img->phdr_addr = elf_phdr_vaddr(img);
	if (img->phdr_addr)
		img->phdr_addr += img->bias;
	return 0;
}

/* Read and check the ELF and program headers of img->file. */
static int elf_read_headers(struct exec_image *img)
{
	size_t size;
	int err;

	if ((err = exec_read(img->file, &img->eh, sizeof(img->eh), 0)) < 0)
		return err;
	if ((err = elf_check_header(&img->eh)) < 0)
		return err;
	size = img->eh.e_phnum * sizeof(Elf64_Phdr);
	if (!(img->ph = kmalloc(size, GFP_KERNEL)))
		return -ENOMEM;
	if ((err = exec_read(img->file, img->ph, size, img->eh.e_phoff)) < 0)
		return err;
	return elf_scan(img);
}

/* --- Segments as VMAs ------------------------------------------------- */

/* A segment's flags as a private mapping's (Linux's make_prot()). */
static unsigned long segment_vm_flags(uint32_t p_flags)
{
	int prot = (p_flags & PF_R ? PROT_READ : 0) | (p_flags & PF_W ? PROT_WRITE : 0) |
		   (p_flags & PF_X ? PROT_EXEC : 0);

	return calc_vm_flags(prot, MAP_PRIVATE);
}

/* Add the VMA [start, end) to mm: a private mapping of file from page
 * pgoff on, or anonymous memory when file is NULL. A page another segment
 * already covers goes to this one, as Linux's MAP_FIXED would have it.
 * 0, -ENOMEM. */
static int exec_add_vma(struct mm_struct *mm, uintptr_t start, uintptr_t end, unsigned long vf,
			struct file *file, uint64_t pgoff)
{
	struct vm_area_struct *v;

	if (vma_intersect(mm, start, end) && do_munmap(mm, start, end - start) < 0)
		return -ENOMEM;
	if (!(v = vma_alloc()))
		return -ENOMEM;
	v->vm_start = start;
	v->vm_end = end;
	v->vm_flags = vf;
	v->vm_page_prot = vm_get_page_prot(vf);
	v->vm_pgoff = file ? pgoff : start >> PAGE_SHIFT;
	if (file) {
		file_get(file); /* the VMA's own: vma_free() drops it */
		v->vm_file = file;
		v->vm_ops = &filemap_vm_ops;
	}
	if (vma_link(mm, v) < 0) {
		vma_free(v);
		return -ENOMEM;
	}
	return 0;
}

static int exec_poke(struct mm_struct *mm, uintptr_t uaddr, const void *src, size_t len);

/*   start            file_end        file_page_end         mem_end
 *   |-- file bytes ------|-- zero (bss) --|-- anonymous bss ---|
 *   [ private mapping of the page cache   ][ anonymous VMA     ]
 *
 * The bytes of the last file page past file_end are the file's, not the
 * segment's: a writable segment gets them zeroed in its private copy of
 * that page (Linux's padzero()); a read-only one keeps them, as Linux. */
static int map_segment(struct mm_struct *mm, const struct exec_image *img, const Elf64_Phdr *p)
{
	uintptr_t vaddr = p->p_vaddr + img->bias;
	uintptr_t start = ALIGN_DOWN(vaddr, PAGE_SIZE), file_end = vaddr + p->p_filesz;
	uintptr_t file_page_end = p->p_filesz ? ALIGN_UP(file_end, PAGE_SIZE) : start;
	uintptr_t mem_end = ALIGN_UP(vaddr + p->p_memsz, PAGE_SIZE);
	unsigned long vf = segment_vm_flags(p->p_flags);
	int err;

	if (file_page_end > start) {
		err = exec_add_vma(mm, start, file_page_end, vf, img->file,
				   ALIGN_DOWN(p->p_offset, PAGE_SIZE) >> PAGE_SHIFT);
		if (err < 0)
			return err;
		if (p->p_memsz > p->p_filesz && (p->p_flags & PF_W) && file_page_end > file_end &&
		    (err = exec_poke(mm, file_end, NULL, file_page_end - file_end)) < 0)
			return err;
	}
	if (mem_end > file_page_end)
		return exec_add_vma(mm, file_page_end, mem_end, vf, NULL, 0);
	return 0;
}

static int map_segments(struct mm_struct *mm, const struct exec_image *img)
{
	for (unsigned int i = 0; i < img->eh.e_phnum; i++) {
		int err;
		if (img->ph[i].p_type != PT_LOAD || img->ph[i].p_memsz == 0)
			continue;
		if ((err = map_segment(mm, img, &img->ph[i])) < 0)
			return err;
	}
	return 0;
}

/* --- The initial stack ------------------------------------------------- */

/* Copy len bytes to uaddr in mm, which need not be the active mm (zeros
 * when src is NULL): through the direct map, faulting pages in as a user
 * write would. 0, -EFAULT (no VMA there) or -ENOMEM. */
static int exec_poke(struct mm_struct *mm, uintptr_t uaddr, const void *src, size_t len)
{
	while (len) {
		size_t n = MIN(len, PAGE_SIZE - (uaddr & (PAGE_SIZE - 1)));
		struct pt_lookup_result r;
		/* Not there, or read-only (the zero page): fault it in for writing. */
		if (pt_lookup(mm->pgd, uaddr, &r) < 0 || !(r.pte & PTE_WRITE)) {
			vm_fault_t ret = handle_mm_fault(mm, uaddr, FAULT_FLAG_WRITE);
			if (ret != VM_FAULT_OK)
				return ret == VM_FAULT_OOM ? -ENOMEM : -EFAULT;
			if (pt_lookup(mm->pgd, uaddr, &r) < 0)
				return -EFAULT;
		}
		if (src) {
			memcpy(phys_to_virt(r.phys), src, n);
			src = (const char *)src + n;
		} else {
			memset(phys_to_virt(r.phys), 0, n);
		}
		uaddr += n;
		len -= n;
	}
	return 0;
}

/* Count the strings and check them against EXEC_ARG_MAX. 0 or -E2BIG. */
static int args_count(struct exec_args *a)
{
	size_t total = 0;

	a->argc = a->envc = a->bytes = 0;
	for (; a->argv && a->argv[a->argc]; a->argc++)
		a->bytes += strlen(a->argv[a->argc]) + 1;
	for (; a->envp && a->envp[a->envc]; a->envc++)
		a->bytes += strlen(a->envp[a->envc]) + 1;
	total = a->bytes + (a->argc + a->envc + 2) * sizeof(uint64_t);
	return total > EXEC_ARG_MAX ? -E2BIG : 0;
}

/* Write the strings of a NULL-terminated array from *at up, recording each
 * one's user address in ptrs[]. */
static int stack_put_strings(struct mm_struct *mm, const char *const *strs, size_t n,
			     uintptr_t *at, uint64_t *ptrs)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(strs[i]) + 1;
		int err = exec_poke(mm, *at, strs[i], len);
		if (err < 0)
			return err;
		ptrs[i] = *at;
		*at += len;
	}
	ptrs[n] = 0;
	return 0;
}

/* Where the pieces of the stack go; see the picture in exec.h. */
struct stack_layout {
	uintptr_t execfn, strings, platform, random, sp;
	size_t words; /* argc, argv[], NULL, envp[], NULL, auxv pairs */
};

static void stack_plan(struct stack_layout *l, const struct exec_args *a, const char *execfn)
{
	l->execfn = EXEC_STACK_TOP - sizeof(uint64_t) - (strlen(execfn) + 1);
	l->strings = l->execfn - a->bytes;
	l->platform = l->strings - sizeof(EXEC_PLATFORM);
	l->random = ALIGN_DOWN(l->platform - EXEC_RANDOM_BYTES, 16);
	l->words = 1 + (a->argc + 1) + (a->envc + 1) + 2 * EXEC_NR_AUXV;
	/* The SysV ABI wants rsp 16-byte aligned at the entry point (3.4.1),
	 * pointing at argc. */
	l->sp = ALIGN_DOWN(l->random - l->words * sizeof(uint64_t), 16);
}

static uint64_t random_u64(void)
{
	static uint64_t state;
	uint32_t a, b, c, d;
	uint64_t v;
	uint8_t ok = 0;

	cpuid(1, 0, &a, &b, &c, &d);
	if (c & CPUID1_ECX_RDRAND) {
		__asm__ __volatile__("rdrand %0; setc %1" : "=r"(v), "=qm"(ok) : : "cc");
		if (ok)
			return v;
	}
	/* splitmix64 over the TSC: unpredictable enough for AT_RANDOM's
	 * stack canaries here, not for cryptography. */
	state += rdtsc() + 0x9e3779b97f4a7c15ULL;
	v = state;
	v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
	v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
	return v ^ (v >> 31);
}

static uint64_t *put_aux(uint64_t *p, uint64_t key, uint64_t val)
{
	p[0] = key;
	p[1] = val;
	return p + 2;
}

/* Linux's create_elf_tables(): what the program, or the dynamic linker
 * on its behalf, learns of itself and the machine. AT_BASE is where the
 * dynamic linker was put (its load bias), 0 for a static program. */
static void stack_fill_auxv(uint64_t *p, const struct exec_image *img,
			    const struct exec_image *interp, const struct stack_layout *l)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	p = put_aux(p, AT_HWCAP, d);
	p = put_aux(p, AT_HWCAP2, 0);
	p = put_aux(p, AT_PAGESZ, PAGE_SIZE);
	p = put_aux(p, AT_CLKTCK, 100);
	p = put_aux(p, AT_PHDR, img->phdr_addr);
	p = put_aux(p, AT_PHENT, sizeof(Elf64_Phdr));
	p = put_aux(p, AT_PHNUM, img->eh.e_phnum);
	p = put_aux(p, AT_BASE, interp ? interp->bias : 0);
	p = put_aux(p, AT_FLAGS, 0);
	p = put_aux(p, AT_ENTRY, img->eh.e_entry + img->bias);
	p = put_aux(p, AT_UID, 0);
	p = put_aux(p, AT_EUID, 0);
	p = put_aux(p, AT_GID, 0);
	p = put_aux(p, AT_EGID, 0);
	p = put_aux(p, AT_SECURE, 0);
	p = put_aux(p, AT_RANDOM, l->random);
	p = put_aux(p, AT_EXECFN, l->execfn);
	p = put_aux(p, AT_PLATFORM, l->platform);
	put_aux(p, AT_NULL, 0);
}

/* Write the strings, then argc, the pointer arrays and auxv at l->sp. */
static int stack_fill(struct mm_struct *mm, const struct exec_image *img,
		      const struct exec_image *interp, const struct exec_args *a,
		      const char *execfn, const struct stack_layout *l)
{
	uint64_t *tab = kmalloc(l->words * sizeof(uint64_t), GFP_KERNEL);
	uint64_t rnd[2] = { random_u64(), random_u64() };
	uintptr_t at = l->strings;
	int err;

	if (!tab)
		return -ENOMEM;
	tab[0] = a->argc;
	if ((err = stack_put_strings(mm, a->argv, a->argc, &at, tab + 1)) < 0 ||
	    (err = stack_put_strings(mm, a->envp, a->envc, &at, tab + 2 + a->argc)) < 0)
		goto out;
	stack_fill_auxv(tab + 3 + a->argc + a->envc, img, interp, l);
	if ((err = exec_poke(mm, l->execfn, execfn, strlen(execfn) + 1)) < 0 ||
	    (err = exec_poke(mm, l->platform, EXEC_PLATFORM, sizeof(EXEC_PLATFORM))) < 0 ||
	    (err = exec_poke(mm, l->random, rnd, EXEC_RANDOM_BYTES)) < 0)
		goto out;
	err = exec_poke(mm, l->sp, tab, l->words * sizeof(uint64_t));
out:
	kfree(tab);
	return err;
}

/* The stack VMA: EXEC_STACK_SIZE below what the arguments take. */
static int stack_setup(struct mm_struct *mm, const struct exec_image *img,
		       const struct exec_image *interp, const struct exec_args *a,
		       const char *execfn, uintptr_t *sp)
{
	unsigned long vf = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC |
			   VM_GROWSDOWN | (img->exec_stack ? VM_EXEC : 0);
	struct stack_layout l;
	uintptr_t start;
	int err;

	stack_plan(&l, a, execfn);
	start = ALIGN_DOWN(l.sp, PAGE_SIZE) - EXEC_STACK_SIZE;
	if ((err = exec_add_vma(mm, start, EXEC_STACK_TOP, vf, NULL, 0)) < 0)
		return err;
	if ((err = stack_fill(mm, img, interp, a, execfn, &l)) < 0)
		return err;
	*sp = l.sp;
	return 0;
}

/* --- Loading ---------------------------------------------------------- */

/* What follows the last '/' of path. */
static const char *kbasename(const char *path)
{
	const char *base = path;

	for (; *path; path++)
		if (*path == '/')
			base = path + 1;
	return base;
}

/* The point of no return: t gets mm, its old mm goes, tf starts the
 * program (its dynamic linker, when it has one). */
static void exec_commit(struct task *t, struct mm_struct *mm, const struct exec_image *img,
			const struct exec_image *interp, const char *execfn, uintptr_t sp,
			struct trap_frame *tf)
{
	struct mm_struct *old = t->mm;
	struct trap_frame fresh = { 0 };

	mm->start_stack = sp;
	mm->start_brk = mm->brk = img->end;
	/* Before the new image shows (/proc/PID/cmdline): whoever sees it
	 * sees a process that has exec'd (setpgid: -EACCES). */
	WRITE_ONCE(t->did_exec, true);
	task_set_mm(t, mm);
	if (t == current)
		mm_switch(mm);
	mm_put(old);
	task_set_exe_file(t, img->file); /* the denial exec_open() took passes to t */
	strlcpy(t->exe, img->file->path, sizeof(t->exe));
	strlcpy(t->comm, kbasename(execfn), sizeof(t->comm));
	t->fs_base = 0;
	t->clear_child_tid = 0;
	if (t == current)
		wrmsr(MSR_FS_BASE, 0);

	fresh.vector = tf->vector;
	fresh.rip = interp ? interp->eh.e_entry + interp->bias : img->eh.e_entry + img->bias;
	fresh.cs = GDT_USER_CS;
	fresh.rflags = X86_RFLAGS_IF | RFLAGS_FIXED;
	fresh.rsp = sp;
	fresh.ss = GDT_USER_DS;
	*tf = fresh;
}

/* Open the dynamic linker img's PT_INTERP names (a NUL-terminated path)
 * and read its headers into interp. 0, the open's error (-ENOENT when it
 * is missing, as Linux says), -ENOEXEC, -ENOMEM. */
static int interp_open(struct task *t, const struct exec_image *img, struct exec_image *interp)
{
	const Elf64_Phdr *p = &img->ph[img->interp];
	char *path;
	int err;

	if (p->p_filesz < 2 || p->p_filesz > PATH_MAX)
		return -ENOEXEC;
	if (!(path = kmalloc(p->p_filesz, GFP_KERNEL)))
		return -ENOMEM;
	err = exec_read(img->file, path, p->p_filesz, p->p_offset);
	if (!err && path[p->p_filesz - 1])
		err = -ENOEXEC;
	if (!err)
		interp->file = exec_open(t, path, &err);
	kfree(path);
	return err ? err : elf_read_headers(interp);
}

/* Map the program, and its dynamic linker below mmap_base (top-down, as
 * Linux places it: a free area as large as its segments' span). */
static int map_images(struct mm_struct *mm, struct exec_image *img, struct exec_image *interp)
{
	long base;
	int err;

	if ((err = elf_place(img, EXEC_DYN_BASE)) < 0 || (err = map_segments(mm, img)) < 0)
		return err;
	if (!interp)
		return 0;
	base = do_mmap_find_area(mm, ALIGN_UP(interp->hi, PAGE_SIZE) -
					     ALIGN_DOWN(interp->lo, PAGE_SIZE));
	if (base < 0)
		return (int)base;
	if ((err = elf_place(interp, base)) < 0)
		return err;
	return map_segments(mm, interp);
}

/* The dynamic linker's file is denied writers only while it loads (its
 * mappings are private copies of what it was), as in Linux. */
static void interp_close(struct exec_image *interp)
{
	if (interp->file) {
		allow_write_access(interp->file);
		file_put(interp->file);
	}
	kfree(interp->ph);
}

/* exec_load() with the name the program is told it has (AT_EXECFN, comm)
 * apart from the file opened: execve("/proc/self/exe") opens t->exe. */
static int exec_load_as(struct task *t, const char *path, const char *execfn,
			const char *const *argv, const char *const *envp, struct trap_frame *tf)
{
	struct exec_image img = { 0 }, interp = { 0 }, *ip = NULL;
	struct exec_args args = { .argv = argv, .envp = envp };
	struct mm_struct *mm = NULL;
	uintptr_t sp;
	int err;

	if ((err = args_count(&args)) < 0)
		return err;
	if (!(img.file = exec_open(t, path, &err)))
		return err;
	if ((err = elf_read_headers(&img)) < 0)
		goto out;
	if (img.interp >= 0) {
		ip = &interp;
		if ((err = interp_open(t, &img, ip)) < 0)
			goto out;
	}
	err = -ENOMEM;
	if (!(mm = mm_create()))
		goto out;
	if ((err = map_images(mm, &img, ip)) < 0 ||
	    (err = stack_setup(mm, &img, ip, &args, execfn, &sp)) < 0) {
		mm_destroy(mm);
		goto out;
	}
	exec_commit(t, mm, &img, ip, execfn, sp, tf);
	err = 0;
out:
	if (err)
		allow_write_access(img.file);
	interp_close(&interp);
	kfree(img.ph);
	file_put(img.file); /* the VMAs and t->exe_file hold their own references */
	return err;
}

int exec_load(struct task *t, const char *path, const char *const *argv,
	      const char *const *envp, struct trap_frame *tf)
{
	return exec_load_as(t, path, path, argv, envp, tf);
}

/* --- execve(2) -------------------------------------------------------- */

/* The strings of a user array of string pointers, copied into one kernel
 * buffer of EXEC_ARG_MAX bytes shared by argv and envp: *used counts what
 * both took, pointers included, as args_count() does. */
struct user_strings {
	char *buf;
	size_t used;
};

/* Copy the user array uarr (may be NULL: empty) into a kmalloc'd,
 * NULL-terminated array of pointers into us->buf. Returns the array, or
 * NULL with *err set (-EFAULT, -E2BIG, -ENOMEM). */
static const char **copy_strings(struct user_strings *us, const char *const *uarr, int *err)
{
	size_t n = 0, cap = 16;
	const char **arr = kmalloc(cap * sizeof(*arr), GFP_KERNEL);

	*err = -ENOMEM;
	for (; arr; n++) {
		uint64_t uptr = 0;
		long len;
		if (uarr && (*err = copy_from_user(&uptr, uarr + n, sizeof(uptr))) < 0)
			break;
		if (n + 1 == cap) {
			const char **bigger = kmalloc(2 * cap * sizeof(*arr), GFP_KERNEL);
			if (!bigger) {
				*err = -ENOMEM;
				break;
			}
			memcpy(bigger, arr, n * sizeof(*arr));
			kfree(arr);
			arr = bigger;
			cap *= 2;
		}
		if (!uptr) {
			arr[n] = NULL;
			return arr;
		}
		*err = -E2BIG;
		us->used += sizeof(uint64_t);
		if (us->used >= EXEC_ARG_MAX)
			break;
		len = strncpy_from_user(us->buf + us->used, (const char *)uptr,
					EXEC_ARG_MAX - us->used);
		if (len < 0) {
			*err = (int)len;
			break;
		}
		if ((size_t)len == EXEC_ARG_MAX - us->used)
			break; /* no NUL within the budget */
		arr[n] = us->buf + us->used;
		us->used += len + 1;
	}
	kfree(arr);
	return NULL;
}

/* After the point of no return, what a new program does not inherit
 * (Linux's begin_new_exec()): the other threads, a shared fd table and
 * the close-on-exec fds, shared handlers and caught signals, the robust
 * futex list and a vfork parent's wait. A failure here is fatal. */
static void exec_new_program(struct task *t)
{
	if (exec_end_other_threads() < 0)
		return; /* being killed: SIGKILL is pending */
	if (files_exec(t) < 0 || signal_exec_reset(t) < 0)
		task_exit(SIGSEGV); /* as Linux: force_fatal_sig(SIGSEGV) */
	t->robust_list = 0;
	task_vfork_release(t);
}

/* The path to open: the program itself for /proc/self/exe, which busybox
 * executes to run an applet it was not called as. */
static const char *exec_resolve(const char *path)
{
	if (strcmp(path, "/proc/self/exe") == 0 && current->exe[0])
		return current->exe;
	return path;
}

static long do_execve(const char *upath, const char *const *uargv, const char *const *uenvp,
		      struct trap_frame *tf)
{
	struct user_strings us = { .buf = kmalloc(EXEC_ARG_MAX, GFP_KERNEL) };
	char *path = kmalloc(PATH_MAX, GFP_KERNEL);
	const char **argv = NULL, **envp = NULL;
	long len;
	int err = -ENOMEM;

	if (!us.buf || !path)
		goto out;
	err = -EFAULT;
	len = strncpy_from_user(path, upath, PATH_MAX);
	if (len < 0)
		goto out;
	err = -ENAMETOOLONG;
	if (len == PATH_MAX)
		goto out;
	err = len == 0 ? -ENOENT : 0;
	if (err || !(argv = copy_strings(&us, uargv, &err)) ||
	    !(envp = copy_strings(&us, uenvp, &err)))
		goto out;
	err = exec_load_as(current, exec_resolve(path), path, argv, envp, tf);
	if (err == 0) {
		exec_new_program(current);
		fpu_init_state(current); /* a new program starts with a clean FPU */
		fpu_restore(current);
	}
out:
	kfree(envp);
	kfree(argv);
	kfree(path);
	kfree(us.buf);
	return err;
}

SYSCALL_DEFINE(SYS_execve, execve)
{
	return do_execve((const char *)ARG(0), (const char *const *)ARG(1),
			 (const char *const *)ARG(2), args->tf);
}
