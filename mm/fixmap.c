/* The early fixmap: 2 MiB mappings in the boot page tables, for device and
 * firmware memory the kernel must reach before the frame allocator exists.
 *
 *   virtual FIXMAP_BASE + slot * 2 MiB  ->  PD entry boot_pd_fixmap[slot]
 *
 * A large (PS) PD entry maps 2 MiB (Intel SDM Vol. 3A, 4.5, Table 4-17);
 * its physical base is 64-bit up to MAXPHYADDR, so a framebuffer or BAR far
 * above 4 GiB maps like any other. */
#include <asm/cpu.h>
#include <pagoda/fixmap.h>
#include <pagoda/layout.h>
#include <pagoda/printk.h>
#include <asm/x86.h>

#define PDE_PRESENT (1ULL << 0)
#define PDE_WRITE (1ULL << 1)
#define PDE_PS (1ULL << 7)
#define PDE_GLOBAL (1ULL << 8)
#define PDE_NX (1ULL << 63)
#define LARGE_PAGE (2ULL << 20)

extern uint64_t boot_pd_fixmap[512]; /* boot/entry.asm */

/* What each slot maps: its 2 MiB-aligned physical base and memory type. */
static struct {
	phys_addr_t base;
	enum cache_mode mode;
	bool used;
} slots[FIXMAP_SLOTS];

static uint64_t slot_virt(unsigned int i)
{
	return FIXMAP_BASE + (uint64_t)i * FIXMAP_SLOT_SIZE;
}

/* A run of slots already mapping [base, base + n * 2 MiB) with mode. */
static int find_existing(phys_addr_t base, unsigned int n, enum cache_mode mode)
{
	for (unsigned int i = 0; i + n <= FIXMAP_SLOTS; i++) {
		unsigned int k = 0;
		while (k < n && slots[i + k].used && slots[i + k].mode == mode &&
		       slots[i + k].base == base + k * LARGE_PAGE)
			k++;
		if (k == n)
			return i;
	}
	return -1;
}

static unsigned int next_free;

void *fixmap_map(phys_addr_t phys, size_t size, enum cache_mode mode)
{
	phys_addr_t base = phys & ~(LARGE_PAGE - 1);
	uint64_t end = phys + size;
	unsigned int n;
	int first;

	if (size == 0 || end < phys || end > cpu_phys_limit())
		return NULL;
	n = (ALIGN_UP(end, LARGE_PAGE) - base) / LARGE_PAGE;
	first = find_existing(base, n, mode);
	if (first >= 0)
		return (void *)(slot_virt(first) + (phys - base));
	if (next_free + n > FIXMAP_SLOTS)
		return NULL;
	first = next_free;
	next_free += n;
	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = first + k;
		slots[i].base = base + k * LARGE_PAGE;
		slots[i].mode = mode;
		slots[i].used = true;
		boot_pd_fixmap[i] = slots[i].base | PDE_PRESENT | PDE_WRITE | PDE_PS |
				    cache_mode_pte_bits(mode) | (cpu.nx ? PDE_NX : 0);
		invlpg(slot_virt(i));
	}
	return (void *)(slot_virt(first) + (phys - base));
}
