/* Address spaces: creation, teardown, switching, page faults, and the
 * mmap family (mm/mm.c, mm/fault.c, mm/mmap.c). Errors are Linux's. */
#ifndef PAGODA_MM_H
#define PAGODA_MM_H

#include <pagoda/mm_types.h>
#include <asm/trap.h>

/* A new, empty address space sharing the kernel half, or NULL. The caller
 * owns it and ends it with mm_destroy(). */
struct mm_struct *mm_create(void);

/* Unmap every VMA (dropping the frames' references; device frames are
 * never freed), free the page tables and the mm. mm must not be active. */
void mm_destroy(struct mm_struct *mm);

/* Make mm the active address space (load CR3); NULL: the kernel's alone. */
void mm_switch(struct mm_struct *mm);

/* A task of the active mm leaves this CPU for one without an address
 * space (the idle task), which keeps the mm loaded, lazily: until the
 * next mm_switch() nothing here reads user memory through it, so a
 * shootdown that frees no page table need not interrupt this CPU, as the
 * CR3 write of that mm_switch() drops whatever went stale meanwhile. */
void mm_enter_lazy(void);

/* The active address space, or NULL. */
struct mm_struct *mm_current(void);

struct page;

/* Take and drop a reference to mm (its users: the threads sharing it);
 * the last mm_put() destroys it. */
void mm_get(struct mm_struct *mm);
void mm_put(struct mm_struct *mm);

/* Map the page p at addr of mm under mm's page-table lock, as a fault does
 * (a vm_ops->fault included): 0, -EEXIST if another thread mapped addr
 * first (the fault is then resolved: free p), or -ENOMEM. */
int mm_install_page(struct mm_struct *mm, uintptr_t addr, struct page *p, pgprot_t prot);

/* Resolve a fault at addr in mm: demand-zero, copy-on-write, stack growth,
 * or the VMA's fault operation. flags are FAULT_FLAG_*. The caller holds
 * mmap_lock for reading (mm_fault_user_address() does). */
vm_fault_t handle_mm_fault(struct mm_struct *mm, uintptr_t addr, unsigned int flags);

/* The #PF path for addresses in the user half, called from the trap
 * handler with the fault's outcome: VM_FAULT_OK when the access can be
 * retried; VM_FAULT_SIGSEGV for any address outside the user half or with
 * no address space. */
vm_fault_t mm_fault_user_address(struct trap_frame *tf, uintptr_t addr);

/* The signal a fault outcome becomes for a user access to addr, and its
 * si_code in *code: SIGSEGV with SEGV_MAPERR (no VMA there) or
 * SEGV_ACCERR (a VMA whose protection forbids the access), SIGBUS with
 * BUS_ADRERR (the VMA cannot supply the page: past a file's end, a
 * device that refuses). 0 for VM_FAULT_OK and VM_FAULT_OOM, which are no
 * signal (the OOM killer decides). */
int mm_fault_signal(struct mm_struct *mm, uintptr_t addr, vm_fault_t result, int *code);

/* Make [uaddr, uaddr + n) of the current mm present and writable, as a
 * user write would (demand paging, copy-on-write, stack growth, the OOM
 * killer), without writing to it. Returns how many bytes from uaddr on
 * are writable now: n, or fewer where a page cannot be (no VMA, a
 * read-only one, no memory). read() fills only that much, so that no
 * data is taken from a pipe or file that could not be delivered. */
size_t fault_in_writeable(uintptr_t uaddr, size_t n);

/* The vm_flags of a new mapping with PROT_* prot and MAP_* flags (Linux's
 * calc_vm_prot_bits() | calc_vm_flag_bits() | VM_MAY*). */
unsigned long calc_vm_flags(int prot, int flags);

/* The PTE bits for a VMA with vm_flags (user, present, W, NX as asked). */
pgprot_t vm_get_page_prot(unsigned long vm_flags);

/* Unmap [start, end) of vma's pages from mm's page tables, dropping the
 * frame references (not for VM_PFNMAP frames) once every CPU has flushed.
 * The _gather form leaves the flush and the drops to the caller's gather. */
void mm_zap_range(struct mm_struct *mm, uintptr_t start, uintptr_t end);
struct mmu_gather;
void mm_zap_range_gather(struct mm_struct *mm, uintptr_t start, uintptr_t end,
			 struct mmu_gather *tlb);
/* The same for [start, end) of a VMA that goes away, whose neighbours
 * that stay end at floor and start at ceiling (vma_gap_around()): the
 * page tables only it used are freed, those it shares with a neighbour
 * kept, without looking at their entries. floor == ceiling: no gap
 * known, as mm_zap_range_gather(). */
void mm_zap_gap_gather(struct mm_struct *mm, uintptr_t start, uintptr_t end, uintptr_t floor,
		       uintptr_t ceiling, struct mmu_gather *tlb);
struct vm_area_struct;
/* Unmap all of v, which is leaving mm (still linked: its neighbours give
 * the gap), dropping its frames once every CPU has flushed. */
void mm_zap_vma(struct mm_struct *mm, struct vm_area_struct *v);

/* mmap family: Linux's prot/flags values and errno. */
#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_SHARED_VALIDATE 0x03
#define MAP_TYPE 0x0f
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_GROWSDOWN 0x0100
#define MAP_DENYWRITE 0x0800
#define MAP_EXECUTABLE 0x1000
#define MAP_LOCKED 0x2000
#define MAP_NORESERVE 0x4000
#define MAP_POPULATE 0x8000
#define MAP_NONBLOCK 0x10000
#define MAP_STACK 0x20000
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MREMAP_DONTUNMAP 4
#define MADV_NORMAL 0
#define MADV_RANDOM 1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED 3
#define MADV_DONTNEED 4
#define MADV_FREE 8
#define MADV_HUGEPAGE 14
#define MADV_NOHUGEPAGE 15

struct file;
struct page;

/* mmap(2): returns the address, or a negative errno. */
long do_mmap(struct mm_struct *mm, uintptr_t addr, size_t len, int prot, int flags,
	     struct file *file, unsigned long pgoff);
int do_munmap(struct mm_struct *mm, uintptr_t addr, size_t len);
int do_mprotect(struct mm_struct *mm, uintptr_t addr, size_t len, int prot);
/* brk(2): returns the new break, or the old one if it could not move. */
uintptr_t do_brk(struct mm_struct *mm, uintptr_t brk);
long do_mremap(struct mm_struct *mm, uintptr_t old_addr, size_t old_len, size_t new_len,
	       int flags, uintptr_t new_addr);
int do_madvise(struct mm_struct *mm, uintptr_t addr, size_t len, int advice);

/* msync(2), mincore(2) (mm/msync.c); mlock and friends (mm/mlock.c). The
 * caller holds mmap_lock: for reading for msync and mincore, for writing
 * for the rest. do_mincore() fills vec (kernel memory) for the VMA at
 * start and returns how many pages it did, or -ENOMEM. */
#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4
#define MLOCK_ONFAULT 0x01
#define MCL_CURRENT 1
#define MCL_FUTURE 2
#define MCL_ONFAULT 4
int do_msync(struct mm_struct *mm, uintptr_t start, size_t len, int flags);
long do_mincore(struct mm_struct *mm, uintptr_t start, size_t pages, unsigned char *vec);
int do_mlock(struct mm_struct *mm, uintptr_t start, size_t len, unsigned int flags);
int do_munlock(struct mm_struct *mm, uintptr_t start, size_t len);
int do_mlockall(struct mm_struct *mm, int flags);
int do_munlockall(struct mm_struct *mm);
/* Fault in the pages of [start, end) the VMAs allow (MAP_POPULATE,
 * MAP_LOCKED, mlock): 0 or -ENOMEM. */
int mm_populate_locked(struct mm_struct *mm, uintptr_t start, uintptr_t end);

/* Internal to mm/: find a free area of len bytes top-down (address or
 * -ENOMEM). */
long do_mmap_find_area(struct mm_struct *mm, size_t len);

/* fork's copy of an address space: VMAs duplicated (not VM_DONTCOPY),
 * private RAM pages shared copy-on-write, device mappings copied as they
 * are. Returns the new mm or NULL (nothing leaks). */
struct mm_struct *mm_fork(struct mm_struct *old);

#endif
