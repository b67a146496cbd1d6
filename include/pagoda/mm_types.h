/* Address spaces and their areas (mm/vma.c, mm/mm.c, mm/mmap.c).
 *
 * An mm_struct is one address space: a PML4 whose user half [0, 128 TiB)
 * belongs to it and whose kernel half is shared by all. Its mappings are
 * vm_area_structs (VMAs), each a half-open range [vm_start, vm_end) of
 * page-aligned addresses with one set of flags and one protection. The
 * VMAs of an mm never overlap; they form a list sorted by address (to walk
 * in order) and a red-black tree keyed by vm_start (to find the VMA of an
 * address in O(log n)). See docs/vma.md.
 *
 * Locking (docs/smp.md): mmap_lock, a reader/writer semaphore, guards
 * the VMA list and tree and every VMA's fields: the mmap family takes it
 * for writing, page faults for reading. page_table_lock, a spinlock,
 * guards the user half of the page tables: faults that run at once under
 * the read lock install entries under it. Nothing that holds mmap_lock
 * may touch this mm's user memory (a fault would take it again). */
#ifndef PAGODA_MM_TYPES_H
#define PAGODA_MM_TYPES_H

#include <pagoda/list.h>
#include <pagoda/mutex.h>
#include <pagoda/pgtable.h>
#include <pagoda/rbtree.h>
#include <pagoda/types.h>

/* vm_flags: Linux's values (include/linux/mm.h), so /proc output and
 * error paths read the same. */
#define VM_NONE 0x00000000UL
#define VM_READ 0x00000001UL
#define VM_WRITE 0x00000002UL
#define VM_EXEC 0x00000004UL
#define VM_SHARED 0x00000008UL
#define VM_MAYREAD 0x00000010UL
#define VM_MAYWRITE 0x00000020UL
#define VM_MAYEXEC 0x00000040UL
#define VM_MAYSHARE 0x00000080UL
#define VM_GROWSDOWN 0x00000100UL
#define VM_LOCKED 0x00002000UL     /* mlock: populated, and kept so */
#define VM_LOCKONFAULT 0x00080000UL /* mlock2(MLOCK_ONFAULT): locked as faulted in */
#define VM_PFNMAP 0x00000400UL     /* raw PFNs, no struct page: device memory */
#define VM_IO 0x00004000UL         /* memory-mapped I/O */
#define VM_DONTCOPY 0x00020000UL   /* fork does not copy this VMA */
#define VM_DONTEXPAND 0x00040000UL /* mremap may not grow it */
#define VM_PAT 0x01000000UL        /* its frames hold a memtype reservation (x86 VM_ARCH_1) */
#define VM_DONTDUMP 0x04000000UL   /* left out of core dumps */
#define VM_HUGEPAGE 0x20000000UL   /* madvise(MADV_HUGEPAGE) (mm/thp.c) */
#define VM_NOHUGEPAGE 0x40000000UL /* madvise(MADV_NOHUGEPAGE), or MAP_STACK */

/* User space is [USER_SPACE_START, USER_SPACE_END). The end is Linux's
 * TASK_SIZE_MAX for 4-level paging: one page below the 128 TiB canonical
 * boundary, so that no page a process can map ends at 2^47 and no SYSCALL
 * can return to the non-canonical address just past it. */
#define USER_SPACE_END 0x00007ffffffff000UL
#define USER_SPACE_START 0x10000UL           /* mmap_min_addr, as Linux's default */
#define STACK_GUARD_GAP (256UL * PAGE_SIZE)  /* Linux's stack_guard_gap */
#define STACK_LIMIT_DEFAULT (8UL << 20)      /* RLIMIT_STACK's default, Linux's _STK_LIM */

/* What is wrong with a user range [start, start + PAGE_ALIGN(len)), as
 * user_range_check() finds it. Every memory system call checks each range
 * it is given or computes with that one function before it changes
 * anything, then turns the answer into its own errno, because Linux's
 * calls disagree (munmap says EINVAL where mprotect says ENOMEM). */
enum user_range {
	URANGE_OK,
	URANGE_UNALIGNED, /* start is not page-aligned */
	URANGE_EMPTY,     /* len is 0 */
	URANGE_WRAPS,     /* len rounds up past 2^64, or start + len does */
	URANGE_BEYOND,    /* the range ends above USER_SPACE_END */
};

/* Classify [start, start + len) with len rounded up to whole pages; on
 * URANGE_OK *end (if not NULL) is the rounded end. The checks run in the
 * order listed in enum user_range. */
static inline enum user_range user_range_check(uintptr_t start, size_t len, uintptr_t *end)
{
	size_t rounded = (len + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);

	if (start & (PAGE_SIZE - 1))
		return URANGE_UNALIGNED;
	if (!len)
		return URANGE_EMPTY;
	if (!rounded || start + rounded < start)
		return URANGE_WRAPS;
	if (rounded > USER_SPACE_END || start > USER_SPACE_END - rounded)
		return URANGE_BEYOND;
	if (end)
		*end = start + rounded;
	return URANGE_OK;
}

struct mm_struct;
struct vm_area_struct;
struct file;

/* What a page fault came to (SerenityOS's PageFaultResponse, Linux's
 * vm_fault_t): the trap layer turns SIGSEGV/SIGBUS into a signal for a
 * user fault, or an -EFAULT fixup for a kernel access to user memory. */
typedef enum {
	VM_FAULT_OK = 0,
	VM_FAULT_SIGSEGV, /* no VMA, or the access is against its protection */
	VM_FAULT_SIGBUS,  /* the VMA exists but cannot supply this page */
	VM_FAULT_OOM,     /* out of memory */
	VM_FAULT_FALLBACK, /* no huge page here: map a 4 KiB one (mm/thp.c) */
} vm_fault_t;

#define FAULT_FLAG_WRITE 0x1
#define FAULT_FLAG_USER 0x2
#define FAULT_FLAG_INSTR 0x4

struct vm_fault {
	struct vm_area_struct *vma;
	uintptr_t address; /* page-aligned */
	unsigned int flags;
	unsigned long pgoff; /* page offset of address within the VMA's object */
};

struct vm_operations_struct {
	/* A VMA was duplicated (fork, split): take a reference. */
	void (*open)(struct vm_area_struct *vma);
	/* A VMA goes away (munmap, exit): drop the reference. */
	void (*close)(struct vm_area_struct *vma);
	/* Supply the page for a fault inside a VMA with no PTE yet. */
	vm_fault_t (*fault)(struct vm_fault *vmf);
	/* A name for /proc/PID/maps ("[vdso]"), or NULL. */
	const char *(*name)(struct vm_area_struct *vma);
};

/* Covers [vm_start, vm_end). */
struct vm_area_struct {
	uintptr_t vm_start;
	uintptr_t vm_end;
	unsigned long vm_flags;
	pgprot_t vm_page_prot;  /* the PTE bits for pages of this VMA */
	unsigned long vm_pgoff; /* offset of vm_start in the object, in pages */
	struct mm_struct *vm_mm;
	const struct vm_operations_struct *vm_ops;
	struct file *vm_file;
	void *vm_private_data;
	struct list_head vm_list; /* in mm->vma_list, sorted by vm_start */
	struct rb_node vm_rb;     /* in mm->vma_tree, keyed by vm_start */
	struct list_head vm_rmap; /* in its file's i_mmap (include/pagoda/pagemap.h) */
};

struct mm_struct {
	phys_addr_t pgd;            /* the PML4 (physical); kernel half shared */
	struct rw_semaphore mmap_lock; /* guards the fields below up to total_vm */
	struct list_head vma_list;  /* all VMAs, sorted by address */
	struct rb_root vma_tree;    /* the same VMAs, for O(log n) lookup */
	struct vm_area_struct *vma_cache; /* the last VMA found (READ_ONCE) */
	unsigned int map_count;
	uintptr_t mmap_base;        /* top-down placement starts below this */
	uintptr_t start_brk, brk;   /* the heap: [start_brk, brk) */
	uintptr_t start_stack;
	uint64_t total_vm;          /* pages in all VMAs */
	unsigned long def_flags;    /* vm_flags every new VMA gets (VM_LOCKED: mlockall) */
	spinlock_t page_table_lock; /* guards the user half of pgd's tables */
	uint64_t cpumask;           /* CPUs with pgd in CR3, lazily too (atomic bits) */
	uint32_t users;             /* tasks sharing it (threads); atomic */
};

static inline uint64_t vma_pages(const struct vm_area_struct *v)
{
	return (v->vm_end - v->vm_start) >> PAGE_SHIFT;
}

#endif
