/* The global descriptor table and the task state segment. In long mode
 * segmentation is mostly off: the descriptors only carry the privilege
 * level and the code size (Intel SDM Vol. 3A, 3.4.5 and 5.2.1). The TSS holds
 * the stacks the CPU switches to: RSP0 for entry from ring 3, and the IST
 * stacks for exceptions that must not trust the current stack (#DF). */
#include <asm/gdt.h>
#include <asm/percpu.h>
#include <pagoda/string.h>

/* Descriptor bits: access byte in 47:40, flags in 55:52. */
#define SEG_PRESENT (1ULL << 47)
#define SEG_DPL3 (3ULL << 45)
#define SEG_CODE_DATA (1ULL << 44) /* S: not a system segment */
#define SEG_CODE (1ULL << 43)
#define SEG_RW (1ULL << 41) /* readable code / writable data */
#define SEG_LONG (1ULL << 53)
#define SEG_DB32 (1ULL << 54)
#define SEG_GRAN4K (1ULL << 55)
#define SEG_LIMIT_MAX 0x000f00000000ffffULL
#define TSS_TYPE_AVAILABLE (0x9ULL << 40)

#define KCODE (SEG_PRESENT | SEG_CODE_DATA | SEG_CODE | SEG_RW | SEG_LONG)
#define KCODE32 (SEG_PRESENT | SEG_CODE_DATA | SEG_CODE | SEG_RW | SEG_DB32 | SEG_GRAN4K | SEG_LIMIT_MAX)
#define KDATA (SEG_PRESENT | SEG_CODE_DATA | SEG_RW | SEG_DB32 | SEG_GRAN4K | SEG_LIMIT_MAX)

static const uint64_t gdt_template[GDT_ENTRIES] = {
	[GDT_KERNEL32_CS >> 3] = KCODE32,
	[GDT_KERNEL_CS >> 3] = KCODE,
	[GDT_KERNEL_DS >> 3] = KDATA,
	[GDT_USER32_CS >> 3] = KCODE32 | SEG_DPL3,
	[GDT_USER_DS >> 3] = KDATA | SEG_DPL3,
	[GDT_USER_CS >> 3] = KCODE | SEG_DPL3,
	/* [8], [9]: the 16-byte TSS descriptor, filled at run time */
};

/* The 16-byte TSS descriptor (Vol. 3A, 8.2.3) for the TSS at tss. */
static void gdt_set_tss(uint64_t *gdt, const struct tss *tss)
{
	uint64_t base = (uintptr_t)tss, limit = sizeof(*tss) - 1;

	gdt[GDT_TSS >> 3] = SEG_PRESENT | TSS_TYPE_AVAILABLE | (limit & 0xffff) |
			    ((base & 0xffffff) << 16) | ((base >> 24 & 0xff) << 56);
	gdt[(GDT_TSS >> 3) + 1] = base >> 32;
}

void gdt_init(struct arch_percpu *area)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed gdtr = { sizeof(area->gdt) - 1, (uintptr_t)area->gdt };

	memcpy(area->gdt, gdt_template, sizeof(area->gdt));
	memset(&area->tss, 0, sizeof(area->tss));
	area->tss.ist[IST_DOUBLE_FAULT - 1] = area->df_stack_top;
	area->tss.iomap_base = sizeof(area->tss); /* no I/O bitmap */
	gdt_set_tss(area->gdt, &area->tss);

	__asm__ __volatile__(
		"lgdt %0\n\t"
		"mov %1, %%ds\n\t"
		"mov %1, %%es\n\t"
		"mov %1, %%ss\n\t"
		"pushq %2\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"ltr %w3"
		:
		: "m"(gdtr), "r"((uint64_t)GDT_KERNEL_DS), "i"(GDT_KERNEL_CS), "r"((uint64_t)GDT_TSS)
		: "rax", "memory");
}
