/* Tests of TLB shootdown (mm/tlb.c) through the normal memory API: a
 * second CPU, B, reads a user page of the test's address space (so its
 * TLB caches the translation), this CPU changes the mapping with munmap,
 * mprotect or a copy-on-write fault, and B's next access must see the new
 * state, never the stale one. B reads with page faults turned off
 * (no_fault_in), so what it sees is its TLB or the page tables as they
 * are, never a fault that the kernel resolves for it.
 *
 * Each fails if one flush is missing: the range the walker records
 * (tlb_add_range), this CPU's own flush or the IPI to the other CPUs
 * (tlb_flush), the whole flush above the ceiling (flush_local), fork's
 * write-protection of the parent (flush_tlb_mm), or the order of flush,
 * then free (tlb_finish: one case looks at the old frame from B just
 * before B flushes, and it must not have been freed yet). They need two
 * CPUs; with one they skip, but for the one about this CPU alone. */
#include <pagoda/atomic.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ioremap.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/percpu.h>
#include <pagoda/pgtable.h>
#include <pagoda/pmm.h>
#include <pagoda/sched.h>
#include <pagoda/smp.h>
#include <pagoda/tlb.h>
#include <pagoda/uaccess.h>
#include <asm/cpu.h>
#include <asm/uaccess.h>
#include <asm/x86.h>

#define VA 0x0000100000000000UL
#define RW (PROT_READ | PROT_WRITE)
#define VALUE_A 0x1111111111111111ULL
#define VALUE_B 0x2222222222222222ULL

/* The other CPU the tests use: the first online one that is not us; or
 * -1, with the case skipped, on a machine with one CPU. */
static int other_cpu_or_skip(struct ktest *t)
{
	uint64_t others = READ_ONCE(cpu_online_mask) & ~(1ULL << cpu_id());

	if (!others) {
		ktest_skip(t, "needs a second CPU online (boot with -smp 2 or more)");
		return -1;
	}
	return __builtin_ctzll(others);
}

struct remote_access {
	struct mm_struct *mm; /* to load first, or NULL */
	uintptr_t addr;
	bool write;
	uint64_t value;       /* read or written */
	int ret;              /* 0 or -EFAULT */
};

/* On B: as a task of the mm would, load it if it is not loaded, or
 * loaded only lazily (B's idle task may have been switched to since the
 * last call; a lazy CPU is left out of shootdowns, and flushes when a
 * task of the mm runs there again). */
static void remote_access_fn(void *arg)
{
	struct remote_access *r = arg;
	struct mm_struct *mm = r->mm ? r->mm : this_cpu()->active_mm;

	if (this_cpu()->active_mm != mm || this_cpu()->tlb_lazy)
		mm_switch(mm);
	this_cpu()->no_fault_in = true;
	r->ret = r->write ? raw_copy_user((void *)r->addr, &r->value, sizeof(r->value))
			  : raw_copy_user(&r->value, (const void *)r->addr, sizeof(r->value));
	this_cpu()->no_fault_in = false;
}

/* Read (or write) addr on cpu (this one included), in mm's address space
 * (NULL: the one loaded there). */
static struct remote_access remote_at(int cpu, struct mm_struct *mm, uintptr_t addr, bool write,
				      uint64_t value)
{
	struct remote_access r = { mm, addr, write, value, 0 };

	smp_call_mask(1ULL << cpu, remote_access_fn, &r);
	return r;
}

/* Read (or write) VA on cpu, in mm's address space. */
static struct remote_access remote(int cpu, struct mm_struct *mm, bool write, uint64_t value)
{
	return remote_at(cpu, mm, VA, write, value);
}

/* A page at VA holding VALUE_A, in this CPU's TLB and in B's. A second
 * page after it keeps the page table alive, so that an unmap of the first
 * frees no table (whose flush would hide a missing one for the page). */
static bool setup_shared_read(struct ktest *t, struct mm_struct *mm, int b)
{
	uint64_t v = VALUE_A;
	struct remote_access r;

	if (do_mmap(mm, VA, 2 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) !=
	    (long)VA)
		return false;
	if (copy_to_user((void *)VA, &v, sizeof(v)) ||
	    copy_to_user((void *)(VA + PAGE_SIZE), &v, sizeof(v)))
		return false;
	r = remote(b, mm, false, 0);
	if (r.ret || r.value != VALUE_A) {
		ktest_log(t, "CPU %d could not read the page: %d, %#llx", b, r.ret,
			  (unsigned long long)r.value);
		return false;
	}
	return true;
}

MM_CASE(tlb_munmap_reaches_the_cpu_that_read_the_page)
{
	int b = other_cpu_or_skip(t);
	struct remote_access r;

	if (b < 0)
		return;
	unsigned int shootdowns;

	KASSERT_TRUE(t, setup_shared_read(t, mm, b));
	shootdowns = READ_ONCE(cpu_area(b)->irqs.tlb);
	KASSERT_EQ(t, do_munmap(mm, VA, PAGE_SIZE), 0);
	KEXPECT_EQ(t, READ_ONCE(cpu_area(b)->irqs.tlb), shootdowns + 1); /* /proc/interrupts' TLB */
	r = remote(b, NULL, false, 0);
	KEXPECT_EQ(t, r.ret, -EFAULT); /* a stale entry would still read VALUE_A */
	if (r.ret == 0)
		ktest_log(t, "CPU %d read %#llx through a stale entry", b,
			  (unsigned long long)r.value);
}

/* The CPU that unmaps holds the translation too (it wrote the page). */
MM_CASE(tlb_munmap_flushes_the_cpu_that_unmapped)
{
	uint64_t v = VALUE_A;
	struct remote_access r;

	KASSERT_EQ(t, do_mmap(mm, VA, 2 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			      NULL, 0), (long)VA);
	KASSERT_EQ(t, copy_to_user((void *)VA, &v, sizeof(v)), 0);
	KASSERT_EQ(t, copy_to_user((void *)(VA + PAGE_SIZE), &v, sizeof(v)), 0);
	KASSERT_EQ(t, do_munmap(mm, VA, PAGE_SIZE), 0);
	r = remote_at(cpu_id(), NULL, VA, false, 0);
	KEXPECT_EQ(t, r.ret, -EFAULT); /* a stale entry would still read VALUE_A */
}

/* Above the ceiling a CPU flushes everything: not just the first
 * TLB_FLUSH_CEILING pages of the range. B reads the last page. */
#define MANY_PAGES (2 * TLB_FLUSH_CEILING)

MM_CASE(tlb_munmap_above_the_ceiling_reaches_the_last_page)
{
	int b = other_cpu_or_skip(t);
	uintptr_t last = VA + (MANY_PAGES - 1) * PAGE_SIZE;
	uint64_t v = VALUE_A;
	struct remote_access r;

	if (b < 0)
		return;
	KASSERT_EQ(t, do_mmap(mm, VA, MANY_PAGES * PAGE_SIZE, RW,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)VA);
	KASSERT_EQ(t, copy_to_user((void *)last, &v, sizeof(v)), 0);
	r = remote_at(b, mm, last, false, 0);
	KASSERT_EQ(t, r.ret, 0);
	KASSERT_EQ(t, r.value, VALUE_A);
	KASSERT_EQ(t, do_munmap(mm, VA, MANY_PAGES * PAGE_SIZE), 0);
	r = remote_at(b, NULL, last, false, 0);
	KEXPECT_EQ(t, r.ret, -EFAULT);
	r = remote_at(cpu_id(), NULL, last, false, 0);
	KEXPECT_EQ(t, r.ret, -EFAULT);
}

/* Several pages below the ceiling: the batch's range must grow with each
 * page the walker adds, or only the first page is flushed. A page after
 * them stays mapped, so no table is freed (whose flush would hide it). */
MM_CASE(tlb_munmap_of_several_pages_reaches_the_last_one)
{
	int b = other_cpu_or_skip(t);
	const unsigned int pages = 4;
	uintptr_t last = VA + (pages - 1) * PAGE_SIZE;
	uint64_t v = VALUE_A;
	struct remote_access r;

	if (b < 0)
		return;
	KASSERT_EQ(t, do_mmap(mm, VA, (pages + 1) * PAGE_SIZE, RW,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)VA);
	for (unsigned int i = 0; i <= pages; i++)
		KASSERT_EQ(t, copy_to_user((void *)(VA + i * PAGE_SIZE), &v, sizeof(v)), 0);
	r = remote_at(b, mm, last, false, 0);
	KASSERT_EQ(t, r.ret, 0);
	KASSERT_EQ(t, r.value, VALUE_A);
	KASSERT_EQ(t, do_munmap(mm, VA, pages * PAGE_SIZE), 0);
	r = remote_at(b, NULL, last, false, 0);
	KEXPECT_EQ(t, r.ret, -EFAULT);
}

MM_CASE(tlb_mprotect_read_only_reaches_the_cpu_that_wrote)
{
	int b = other_cpu_or_skip(t);
	struct remote_access r;

	if (b < 0)
		return;
	KASSERT_TRUE(t, setup_shared_read(t, mm, b));
	r = remote(b, NULL, true, VALUE_B); /* B caches a writable entry */
	KASSERT_EQ(t, r.ret, 0);
	KASSERT_EQ(t, do_mprotect(mm, VA, PAGE_SIZE, PROT_READ), 0);
	r = remote(b, NULL, true, VALUE_A);
	KEXPECT_EQ(t, r.ret, -EFAULT); /* a stale writable entry would let it write */
	r = remote(b, NULL, false, 0);
	KEXPECT_EQ(t, r.ret, 0);
	KEXPECT_EQ(t, r.value, VALUE_B);
}

/* After fork the page is shared copy-on-write; B reads it in the parent.
 * This CPU writes it in the parent: the copy replaces the entry, and B
 * must read the new frame, not the old one its TLB held. */
MM_CASE(tlb_cow_break_reaches_the_cpu_that_read_the_old_frame)
{
	int b = other_cpu_or_skip(t);
	struct mm_struct *child;
	struct remote_access r;
	uint64_t v = VALUE_B;

	if (b < 0)
		return;
	KASSERT_TRUE(t, setup_shared_read(t, mm, b));
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	r = remote(b, NULL, false, 0); /* the write-protected entry, old frame */
	KEXPECT_EQ(t, r.value, VALUE_A);
	KEXPECT_EQ(t, copy_to_user((void *)VA, &v, sizeof(v)), 0); /* the COW fault */
	r = remote(b, NULL, false, 0);
	KEXPECT_EQ(t, r.ret, 0);
	KEXPECT_EQ(t, r.value, VALUE_B);
	mm_destroy(child);
}

/* Fork write-protects the parent's private pages: both CPUs, which hold
 * writable entries for VA (this one wrote it, B writes it), must fault on
 * their next write, and the child's page must keep the old data. */
MM_CASE(tlb_fork_write_protects_the_parent_on_every_cpu)
{
	int b = other_cpu_or_skip(t);
	struct mm_struct *child;
	struct remote_access r;

	if (b < 0)
		return;
	KASSERT_TRUE(t, setup_shared_read(t, mm, b));
	r = remote(b, NULL, true, VALUE_A); /* B caches a writable entry */
	KASSERT_EQ(t, r.ret, 0);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	r = remote(b, NULL, true, VALUE_B);
	KEXPECT_EQ(t, r.ret, -EFAULT); /* a stale writable entry would let it write */
	r = remote_at(cpu_id(), NULL, VA, true, VALUE_B);
	KEXPECT_EQ(t, r.ret, -EFAULT);
	r = remote(b, child, false, 0);
	KEXPECT_EQ(t, r.ret, 0);
	KEXPECT_EQ(t, r.value, VALUE_A);
	mm_destroy(child);
}

static volatile uint64_t seen_before_flush;
static volatile int seen_ret;

/* On B, inside its shootdown, before it flushes: the old frame through
 * the stale entry. Freed already, it would hold the allocator's poison. */
static void look_before_flush(uintptr_t start, uintptr_t end)
{
	uint64_t v = 0;

	if (VA < start || VA >= end)
		return;
	this_cpu()->no_fault_in = true;
	seen_ret = raw_copy_user(&v, (const void *)VA, sizeof(v));
	this_cpu()->no_fault_in = false;
	seen_before_flush = v;
}

MM_CASE(tlb_frees_the_frame_only_after_every_cpu_flushed)
{
	int b = other_cpu_or_skip(t);
	bool poison;

	if (b < 0)
		return;
	KASSERT_TRUE(t, setup_shared_read(t, mm, b));
	seen_before_flush = 0;
	seen_ret = 1;
	poison = pmm_set_poison(true); /* only around the free: no early return leaves it on */
	tlb_remote_flush_hook = look_before_flush;
	KEXPECT_EQ(t, do_munmap(mm, VA, PAGE_SIZE), 0);
	tlb_remote_flush_hook = NULL;
	pmm_set_poison(poison);
	KASSERT_EQ(t, seen_ret, 0); /* B still had the entry: the flush came */
	KEXPECT_EQ(t, seen_before_flush, VALUE_A);
}

/* Kernel-half changes reach every CPU: ioremap a page of device memory
 * (the local APIC's registers: every x86-64 CPU has them), read it on B,
 * iounmap it; B's next read must fault. */
static void *kva;

static void remote_kernel_read(void *arg)
{
	uint8_t v;

	*(int *)arg = probe_read_u8(kva, &v);
}

static void tlb_iounmap_reaches_every_cpu(struct ktest *t)
{
	int b = other_cpu_or_skip(t), ret = 1;
	phys_addr_t apic = rdmsr(MSR_IA32_APIC_BASE) & ~0xfffULL & (cpu_phys_limit() - 1);

	if (b < 0)
		return;
	kva = ioremap(apic, PAGE_SIZE, CACHE_UC);
	KASSERT_NOT_NULL(t, kva);
	smp_call_mask(1ULL << b, remote_kernel_read, &ret);
	KEXPECT_EQ(t, ret, 0);
	iounmap(kva);
	smp_call_mask(1ULL << b, remote_kernel_read, &ret);
	KEXPECT_EQ(t, ret, -EFAULT);
}

/* Huge leaves are flushed one INVLPG per leaf (the gather's stride), not
 * page by page: a 2 MiB leaf of frames the case owns (PTE_SPECIAL: the
 * unmap drops no reference) at VA, in an anonymous VMA of len bytes.
 * NULL if the case was skipped or failed. */
#define HUGE_2M (2UL << 20)

static struct page *map_2mib_leaf(struct ktest *t, struct mm_struct *mm, size_t len)
{
	pgprot_t prot = __pgprot(PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_NX | PTE_SPECIAL);
	struct page *block;
	int ret;

	if (do_mmap(mm, VA, len, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) != (long)VA) {
		ktest_fail(t, __FILE__, __LINE__, "mmap at VA failed");
		return NULL;
	}
	block = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 9);
	if (!block) {
		ktest_skip(t, "no free 2 MiB block");
		return NULL;
	}
	spin_lock(&mm->page_table_lock);
	ret = pt_map(mm->pgd, VA, page_to_phys(block), HUGE_2M, prot, PT_MAP_HUGE);
	spin_unlock(&mm->page_table_lock);
	if (ret < 0) {
		free_pages(block, 9);
		ktest_fail(t, __FILE__, __LINE__, "pt_map of a 2 MiB leaf: %d", ret);
		return NULL;
	}
	return block;
}

MM_CASE(tlb_unmap_of_a_2mib_leaf_reaches_all_of_it_on_every_cpu)
{
	int b = other_cpu_or_skip(t);
	struct page *block;
	struct remote_access r;

	if (b < 0)
		return;
	if (!(block = map_2mib_leaf(t, mm, HUGE_2M)))
		return;
	KEXPECT_EQ(t, remote_at(b, mm, VA + PAGE_SIZE, false, 0).ret, 0);
	KEXPECT_EQ(t, remote_at(b, mm, VA + HUGE_2M - PAGE_SIZE, false, 0).ret, 0);
	KEXPECT_EQ(t, remote_at(cpu_id(), mm, VA + 3 * PAGE_SIZE, false, 0).ret, 0);
	KEXPECT_EQ(t, do_munmap(mm, VA, HUGE_2M), 0);
	r = remote_at(b, NULL, VA + HUGE_2M - PAGE_SIZE, false, 0);
	KEXPECT_EQ(t, r.ret, -EFAULT); /* a stale entry would still read the block */
	KEXPECT_EQ(t, remote_at(cpu_id(), NULL, VA + 3 * PAGE_SIZE, false, 0).ret, -EFAULT);
	free_pages(block, 9);
}

/* A 2 MiB leaf and a 4 KiB page after it, unmapped together: the 4 KiB
 * page needs its own invalidation, which one INVLPG per 2 MiB would not
 * give (the stride is the smallest page the range held). B holds only
 * the 4 KiB page. */
MM_CASE(tlb_unmap_of_a_2mib_leaf_and_a_4k_page_reaches_the_4k_page)
{
	int b = other_cpu_or_skip(t);
	uintptr_t small = VA + HUGE_2M + PAGE_SIZE;
	uint64_t v = VALUE_A;
	struct page *block;
	struct remote_access r;

	if (b < 0)
		return;
	if (!(block = map_2mib_leaf(t, mm, HUGE_2M + 2 * PAGE_SIZE)))
		return;
	KASSERT_EQ(t, copy_to_user((void *)small, &v, sizeof(v)), 0);
	r = remote_at(b, mm, small, false, 0);
	KEXPECT_EQ(t, r.value, VALUE_A);
	KEXPECT_EQ(t, do_munmap(mm, VA, HUGE_2M + 2 * PAGE_SIZE), 0);
	r = remote_at(b, NULL, small, false, 0);
	KEXPECT_EQ(t, r.ret, -EFAULT); /* a stale entry would still read VALUE_A */
	free_pages(block, 9);
}

/* Lazy TLB: B loaded the mm (it read VA) and went on to run its idle
 * task, which keeps the mm loaded lazily. A shootdown that frees no page
 * table need not interrupt B; B's stale entry must be gone when a task
 * of the mm runs there again. */
static int lazy_cpu = -1;
static unsigned int lazy_cpu_flushes;

static void count_flushes_on_lazy_cpu(uintptr_t start, uintptr_t end)
{
	if ((int)cpu_id() == lazy_cpu)
		atomic_inc(&lazy_cpu_flushes);
}

static void enter_lazy_fn(void *arg)
{
	mm_enter_lazy();
}

/* B reads VA, then goes lazy; count the shootdowns that reach B until
 * the hook is taken away. */
static bool setup_lazy_cpu(struct ktest *t, struct mm_struct *mm, int b)
{
	if (!setup_shared_read(t, mm, b))
		return false;
	smp_call_mask(1ULL << b, enter_lazy_fn, NULL);
	lazy_cpu = b;
	lazy_cpu_flushes = 0;
	tlb_remote_flush_hook = count_flushes_on_lazy_cpu;
	return true;
}

MM_CASE(tlb_munmap_passes_a_lazy_cpu_by_and_it_flushes_on_return)
{
	int b = other_cpu_or_skip(t);
	struct remote_access r;

	if (b < 0)
		return;
	KASSERT_TRUE(t, setup_lazy_cpu(t, mm, b));
	KEXPECT_EQ(t, do_munmap(mm, VA, PAGE_SIZE), 0); /* the second page keeps the table */
	tlb_remote_flush_hook = NULL;
	KEXPECT_EQ(t, lazy_cpu_flushes, 0u);
	r = remote(b, mm, false, 0); /* a task of mm runs on B again */
	KEXPECT_EQ(t, r.ret, -EFAULT); /* a stale entry would still read VALUE_A */
}

/* The same with the page alone in its page table: the table is freed,
 * and B's paging-structure caches may hold it, so B is flushed; and lets
 * go of the mm, so that the mm's later shootdowns leave it alone. */
MM_CASE(tlb_freeing_a_page_table_reaches_a_lazy_cpu)
{
	int b = other_cpu_or_skip(t);

	if (b < 0)
		return;
	KASSERT_TRUE(t, setup_lazy_cpu(t, mm, b));
	KEXPECT_EQ(t, do_munmap(mm, VA, 2 * PAGE_SIZE), 0); /* the table's last pages */
	tlb_remote_flush_hook = NULL;
	KEXPECT_EQ(t, lazy_cpu_flushes, 1u);
	KEXPECT_FALSE(t, atomic_load(&mm->cpumask) & (1ULL << b));
}

/* Lazy mode ends with the next mm_switch(), to the same mm too: a CPU
 * that stayed lazy would be passed by every later shootdown. */
MM_CASE(tlb_switching_back_to_the_mm_ends_lazy_mode)
{
	mm_enter_lazy();
	KEXPECT_TRUE(t, this_cpu()->tlb_lazy);
	mm_switch(mm);
	KEXPECT_FALSE(t, this_cpu()->tlb_lazy);
	KEXPECT_EQ(t, this_cpu()->active_mm, mm);
}

static const struct ktest_case tlb_cases[] = {
	KTEST_CASE(tlb_munmap_reaches_the_cpu_that_read_the_page),
	KTEST_CASE(tlb_munmap_flushes_the_cpu_that_unmapped),
	KTEST_CASE(tlb_munmap_above_the_ceiling_reaches_the_last_page),
	KTEST_CASE(tlb_munmap_of_several_pages_reaches_the_last_one),
	KTEST_CASE(tlb_mprotect_read_only_reaches_the_cpu_that_wrote),
	KTEST_CASE(tlb_cow_break_reaches_the_cpu_that_read_the_old_frame),
	KTEST_CASE(tlb_fork_write_protects_the_parent_on_every_cpu),
	KTEST_CASE(tlb_frees_the_frame_only_after_every_cpu_flushed),
	KTEST_CASE(tlb_iounmap_reaches_every_cpu),
	KTEST_CASE(tlb_unmap_of_a_2mib_leaf_reaches_all_of_it_on_every_cpu),
	KTEST_CASE(tlb_unmap_of_a_2mib_leaf_and_a_4k_page_reaches_the_4k_page),
	KTEST_CASE(tlb_munmap_passes_a_lazy_cpu_by_and_it_flushes_on_return),
	KTEST_CASE(tlb_freeing_a_page_table_reaches_a_lazy_cpu),
	KTEST_CASE(tlb_switching_back_to_the_mm_ends_lazy_mode),
};
KTEST_SUITE(tlb, tlb_cases);
