/* Benchmarks of the virtual-memory paths (make bench). Each builds what it
 * needs in a fresh address space, times only the operation, and tears
 * everything down again. */
#include <pagoda/kbench.h>
#include <pagoda/mm.h>
#include <pagoda/remap.h>
#include <pagoda/uaccess.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

#define GiB (1UL << 30)
#define BENCH_VA (64 * GiB)

/* Touch iters fresh pages of an anonymous mapping: one fault each. */
static uint64_t vm_demand_zero_fault(uint64_t iters)
{
	struct mm_struct *mm = mm_create();
	uint64_t t0, t1 = 0;
	long addr;
	char one = 1;

	if (!mm)
		return 0;
	mm_switch(mm);
	addr = do_mmap(mm, 0, iters * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	if (addr > 0) {
		t0 = rdtsc();
		for (uint64_t i = 0; i < iters; i++)
			if (copy_to_user((char *)addr + i * PAGE_SIZE, &one, 1) < 0)
				break;
		t1 = rdtsc() - t0;
	}
	mm_switch(NULL);
	mm_destroy(mm);
	return t1;
}
KBENCH(vm_demand_zero_fault, 16384); /* 64 MiB */

static uint64_t vm_mmap_munmap_4k(uint64_t iters)
{
	struct mm_struct *mm = mm_create();
	uint64_t t0;

	if (!mm)
		return 0;
	t0 = rdtsc();
	for (uint64_t i = 0; i < iters; i++) {
		long a = do_mmap(mm, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
		if (a < 0 || do_munmap(mm, a, PAGE_SIZE) < 0)
			break;
	}
	t0 = rdtsc() - t0;
	mm_destroy(mm);
	return t0;
}
KBENCH(vm_mmap_munmap_4k, 20000);

#define MANY_VMAS 10000

/* vma_find() at pseudo-random addresses among 10,000 VMAs (alternating
 * protections so that none merge). */
static uint64_t vm_vma_lookup_10000(uint64_t iters)
{
	struct mm_struct *mm = mm_create();
	uint64_t t0, seed = 1, found = 0;

	if (!mm)
		return 0;
	for (unsigned int i = 0; i < MANY_VMAS; i++)
		do_mmap(mm, BENCH_VA + 2 * i * PAGE_SIZE, PAGE_SIZE,
			(i & 1) ? PROT_READ : PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
	t0 = rdtsc();
	for (uint64_t i = 0; i < iters; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		mm->vma_cache = NULL; /* measure the tree, not the cache */
		found += vma_lookup(mm, BENCH_VA + ((seed >> 33) % (2 * MANY_VMAS)) * PAGE_SIZE) != NULL;
	}
	t0 = rdtsc() - t0;
	mm_destroy(mm);
	return found ? t0 : 0;
}
KBENCH(vm_vma_lookup_10000, 100000);

static uint64_t remap_1g(bool small)
{
	struct mm_struct *mm = mm_create();
	struct vm_area_struct *v = vma_alloc();
	uint64_t t0 = 0;

	if (!mm || !v)
		goto out;
	v->vm_start = BENCH_VA;
	v->vm_end = BENCH_VA + GiB;
	v->vm_flags = VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE;
	v->vm_page_prot = vm_get_page_prot(v->vm_flags);
	if (vma_link(mm, v) < 0)
		goto out;
	v = NULL;
	remap_force_small_pages = small;
	t0 = rdtsc();
	if (remap_pfn_range(vma_lookup(mm, BENCH_VA), BENCH_VA, 0xffc0000000UL >> PAGE_SHIFT, GiB,
			    vma_lookup(mm, BENCH_VA)->vm_page_prot) < 0)
		t0 = 0;
	else
		t0 = rdtsc() - t0;
	remap_force_small_pages = false;
out:
	vma_free(v);
	mm_destroy(mm);
	return t0;
}

static uint64_t remap_pfn_range_1g_4k_entries(uint64_t iters)
{
	return remap_1g(true);
}
KBENCH(remap_pfn_range_1g_4k_entries, 1);

static uint64_t remap_pfn_range_1g_huge_entries(uint64_t iters)
{
	return remap_1g(false);
}
KBENCH(remap_pfn_range_1g_huge_entries, 1);

/* mm_fork() and mm_destroy() of the child, for an address space with
 * 64 MiB touched: the memory part of fork+exit+wait. */
static uint64_t vm_fork_destroy_64mib(uint64_t iters)
{
	struct mm_struct *mm = mm_create(), *child;
	const uint64_t len = 64UL << 20;
	uint64_t t0 = 0;
	long addr;

	if (!mm)
		return 0;
	mm_switch(mm);
	addr = do_mmap(mm, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	for (uint64_t off = 0; addr > 0 && off < len; off += PAGE_SIZE)
		clear_user((char *)addr + off, 1);
	t0 = rdtsc();
	for (uint64_t i = 0; i < iters; i++) {
		if (!(child = mm_fork(mm)))
			break;
		mm_destroy(child);
	}
	t0 = rdtsc() - t0;
	mm_switch(NULL);
	mm_destroy(mm);
	return t0;
}
KBENCH(vm_fork_destroy_64mib, 10);
