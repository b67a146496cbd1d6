/* Benchmarks of the frame allocator and kmalloc (make bench). */
#include <pagoda/kbench.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <asm/x86.h>

static uint64_t alloc_free_order(uint64_t iters, unsigned int order)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < iters; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, order);
		if (!p)
			return 0;
		free_pages(p, order);
	}
	return rdtsc() - t0;
}

static uint64_t pmm_alloc_free_order0(uint64_t iters)
{
	bool poison = pmm_set_poison(false); /* measure the allocator, not memset */
	uint64_t c = alloc_free_order(iters, 0);

	pmm_set_poison(poison);
	return c;
}
KBENCH(pmm_alloc_free_order0, 20000);

static uint64_t pmm_alloc_free_order9(uint64_t iters)
{
	bool poison = pmm_set_poison(false);
	uint64_t c = alloc_free_order(iters, 9);

	pmm_set_poison(poison);
	return c;
}
KBENCH(pmm_alloc_free_order9, 20000);

static uint64_t kmalloc_free_64(uint64_t iters)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < iters; i++) {
		void *p = kmalloc(64, GFP_KERNEL);
		if (!p)
			return 0;
		kfree(p);
	}
	return rdtsc() - t0;
}
KBENCH(kmalloc_free_64, 20000);
