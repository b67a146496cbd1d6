/* Kernel stacks with guard pages. The area is cut into slots of
 * KSTACK_SLOT bytes; a stack occupies the top KSTACK_SIZE of its slot and
 * the rest stays unmapped:
 *
 *   slot start                                          slot end = top
 *   | guard (unmapped) ... |  stack pages (KSTACK_SIZE), grows down <- |
 */
#include <pagoda/spinlock.h>
#include <pagoda/kstack.h>
#include <pagoda/layout.h>
#include <pagoda/pgtable.h>
#include <pagoda/pmm.h>
#include <pagoda/task.h>
#include <asm/x86.h>

#define KSTACK_SLOT (2 * KSTACK_SIZE)
#define NR_SLOTS ((KSTACK_AREA_END - KSTACK_AREA_BASE) / KSTACK_SLOT)
#define KSTACK_PAGES (KSTACK_SIZE / PAGE_SIZE)

/* Guards slot_used; taken with interrupts off (stacks come and go from
 * any context that forks or reaps). */
DEFINE_STATIC_SPINLOCK(kstack_lock);
static uint64_t slot_used[NR_SLOTS / 64];

/* Guards the kernel page tables of the stack area: two CPUs forking and
 * reaping at once would otherwise race to create, or to free, the same
 * table page. Taken with interrupts off (stacks are freed as a dead
 * thread leaves its CPU); frames are allocated under it (the allocator
 * never sleeps), and pt_unmap() flushes every CPU under it (a CPU
 * spinning here still answers cross-calls). */
DEFINE_STATIC_SPINLOCK(kstack_pt_lock);

int kstack_init(void)
{
	/* As for ioremap: kernel-half PML4 entries must exist before any mm
	 * copies them. */
	int ret = pt_map(kernel_pml4, KSTACK_AREA_BASE, 0, PAGE_SIZE, PAGE_KERNEL, 0);

	if (ret == 0)
		pt_unmap(kernel_pml4, KSTACK_AREA_BASE, PAGE_SIZE, NULL, NULL);
	return ret;
}

static long slot_take(void)
{
	uint64_t flags = spin_lock_irqsave(&kstack_lock);

	for (unsigned long i = 0; i < NR_SLOTS; i++) {
		if (!(slot_used[i / 64] & (1ULL << (i % 64)))) {
			slot_used[i / 64] |= 1ULL << (i % 64);
			spin_unlock_irqrestore(&kstack_lock, flags);
			return (long)i;
		}
	}
	spin_unlock_irqrestore(&kstack_lock, flags);
	return -1;
}

static void slot_release(unsigned long i)
{
	uint64_t flags = spin_lock_irqsave(&kstack_lock);

	slot_used[i / 64] &= ~(1ULL << (i % 64));
	spin_unlock_irqrestore(&kstack_lock, flags);
}

static void unmap_stack_locked(uintptr_t base, unsigned int pages)
{
	assert_spin_locked(&kstack_pt_lock);
	for (unsigned int k = 0; k < pages; k++) {
		struct pt_lookup_result r;
		if (pt_lookup(kernel_pml4, base + k * PAGE_SIZE, &r) == 0) {
			pt_unmap(kernel_pml4, base + k * PAGE_SIZE, PAGE_SIZE, NULL, NULL);
			free_pages(pfn_to_page(phys_to_pfn(r.phys)), 0);
		}
	}
}

uintptr_t kstack_alloc(void)
{
	long slot = slot_take();
	uintptr_t top, base;
	uint64_t flags;

	if (slot < 0)
		return 0;
	top = KSTACK_AREA_BASE + (slot + 1) * KSTACK_SLOT;
	base = top - KSTACK_SIZE;
	flags = spin_lock_irqsave(&kstack_pt_lock);
	for (unsigned int k = 0; k < KSTACK_PAGES; k++) {
		struct page *p = alloc_page(GFP_KERNEL);
		if (!p || pt_map(kernel_pml4, base + k * PAGE_SIZE, page_to_phys(p), PAGE_SIZE,
				 PAGE_KERNEL, 0) < 0) {
			if (p)
				free_pages(p, 0);
			unmap_stack_locked(base, k);
			spin_unlock_irqrestore(&kstack_pt_lock, flags);
			slot_release(slot);
			return 0;
		}
	}
	spin_unlock_irqrestore(&kstack_pt_lock, flags);
	return top;
}

void kstack_free(uintptr_t top)
{
	uint64_t flags = spin_lock_irqsave(&kstack_pt_lock);

	unmap_stack_locked(top - KSTACK_SIZE, KSTACK_PAGES);
	spin_unlock_irqrestore(&kstack_pt_lock, flags);
	slot_release((top - KSTACK_AREA_BASE) / KSTACK_SLOT - 1);
}
