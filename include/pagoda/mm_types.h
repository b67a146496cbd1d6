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
 * Locking: one CPU and no preemption inside the mm code for now; callers
 * must not race on one mm. */
#ifndef PAGODA_MM_TYPES_H
#define PAGODA_MM_TYPES_H

#include <pagoda/list.h>
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
#define VM_PFNMAP 0x00000400UL     /* raw PFNs, no struct page: device memory */
#define VM_IO 0x00004000UL         /* memory-mapped I/O */
#define VM_DONTCOPY 0x00020000UL   /* fork does not copy this VMA */
#define VM_DONTEXPAND 0x00040000UL /* mremap may not grow it */
#define VM_PAT 0x01000000UL        /* its frames hold a memtype reservation (x86 VM_ARCH_1) */
#define VM_DONTDUMP 0x04000000UL   /* left out of core dumps */

#define USER_SPACE_END 0x0000800000000000UL /* 128 TiB, 47-bit user addresses */
#define USER_SPACE_START 0x10000UL           /* mmap_min_addr, as Linux's default */
#define STACK_GUARD_GAP (256UL * PAGE_SIZE)  /* Linux's stack_guard_gap */

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
};

struct mm_struct {
	phys_addr_t pgd;            /* the PML4 (physical); kernel half shared */
	struct list_head vma_list;  /* all VMAs, sorted by address */
	struct rb_root vma_tree;    /* the same VMAs, for O(log n) lookup */
	struct vm_area_struct *vma_cache; /* the last VMA found */
	unsigned int map_count;
	uintptr_t mmap_base;        /* top-down placement starts below this */
	uintptr_t start_brk, brk;   /* the heap: [start_brk, brk) */
	uintptr_t start_stack;
	uint64_t total_vm;          /* pages in all VMAs */
};

static inline uint64_t vma_pages(const struct vm_area_struct *v)
{
	return (v->vm_end - v->vm_start) >> PAGE_SHIFT;
}

#endif
