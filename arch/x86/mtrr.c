/* Reading and looking up the MTRRs (see arch/x86/include/asm/mtrr.h).
 *
 * The registers (Intel SDM Vol. 3A, 12.11.1-12.11.3):
 *
 *   IA32_MTRRCAP      0x0fe  VCNT [7:0] variable ranges, FIX [8]
 *   IA32_MTRR_DEF_TYPE 0x2ff type [7:0], FE [10] fixed on, E [11] all on
 *   PHYSBASEn 0x200+2n      type [7:0], base [MAXPHYADDR-1:12]
 *   PHYSMASKn 0x201+2n      V [11] valid, mask [MAXPHYADDR-1:12]
 *   fixed: 0x250 8 x 64 KiB from 0, 0x258/0x259 8 x 16 KiB from 0x80000
 *          and 0xa0000, 0x268..0x26f 8 x 4 KiB each from 0xc0000: one
 *          type byte per range, lowest address in the lowest byte.
 *
 * Reads happen once, at boot, on the boot CPU; afterwards the state is
 * read-only (the self-tests may point mtrr_huge_ok() at another one). */
#include <asm/cpu.h>
#include <asm/mtrr.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <asm/x86.h>

#define MSR_MTRRCAP 0x0fe
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_MTRR_PHYSBASE(n) (0x200 + 2 * (n))
#define MSR_MTRR_PHYSMASK(n) (0x201 + 2 * (n))
#define MSR_MTRR_FIX64K_00000 0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000 0x268 /* ... 0x26f */
#define MTRRCAP_VCNT 0xff
#define MTRRCAP_FIX (1ULL << 8)
#define DEF_TYPE_FE (1ULL << 10)
#define DEF_TYPE_E (1ULL << 11)
#define PHYSMASK_V (1ULL << 11)
#define CPUID1_EDX_MTRR (1U << 12)
#define FIXED_END 0x100000ULL /* the fixed ranges cover [0, 1 MiB) */

static struct mtrr_state boot_state;
static const struct mtrr_state *state = &boot_state;

const char *mtrr_type_name(uint8_t type)
{
	switch (type) {
	case MTRR_TYPE_UC: return "uncachable";
	case MTRR_TYPE_WC: return "write-combining";
	case MTRR_TYPE_WT: return "write-through";
	case MTRR_TYPE_WP: return "write-protect";
	case MTRR_TYPE_WB: return "write-back";
	default: return "invalid";
	}
}

/* Fixed range i: [start, start + size). */
static phys_addr_t fixed_start(unsigned int i)
{
	if (i < 8)
		return (phys_addr_t)i << 16;
	if (i < 24)
		return 0x80000 + ((phys_addr_t)(i - 8) << 14);
	return 0xc0000 + ((phys_addr_t)(i - 24) << 12);
}

static unsigned int fixed_index(phys_addr_t a)
{
	if (a < 0x80000)
		return a >> 16;
	if (a < 0xc0000)
		return 8 + ((a - 0x80000) >> 14);
	return 24 + ((a - 0xc0000) >> 12);
}

static uint64_t addr_mask(const struct mtrr_state *s)
{
	return ((1ULL << s->phys_bits) - 1) & PAGE_MASK;
}

/* A contiguous mask (ones from MAXPHYADDR-1 down to some bit, zeros
 * below) matches one aligned block; its size is the lowest set bit. */
static bool var_contiguous(const struct mtrr_state *s, const struct mtrr_var *v)
{
	uint64_t low = v->mask & -v->mask;

	return low && v->mask == (addr_mask(s) & ~(low - 1));
}

/* The type at address a (SDM 12.11.4.1 for overlapping ranges). */
static uint8_t type_at(const struct mtrr_state *s, phys_addr_t a)
{
	uint8_t type = MTRR_TYPE_INVALID;

	if (a < FIXED_END && s->fixed_enabled)
		return s->fixed[fixed_index(a)];
	for (unsigned int i = 0; i < s->nr_var; i++) {
		const struct mtrr_var *v = &s->var[i];
		if ((a & v->mask) != (v->base & v->mask))
			continue;
		if (type == MTRR_TYPE_INVALID || type == v->type)
			type = v->type;
		else if ((type == MTRR_TYPE_WT && v->type == MTRR_TYPE_WB) ||
			 (type == MTRR_TYPE_WB && v->type == MTRR_TYPE_WT))
			type = MTRR_TYPE_WT;
		else
			type = MTRR_TYPE_UC; /* UC wins; other mixes are undefined */
	}
	return type == MTRR_TYPE_INVALID ? s->def_type : type;
}

/* Does the type change at b, inside (start, end)? */
static bool changes_at(const struct mtrr_state *s, phys_addr_t start, phys_addr_t end,
		       phys_addr_t b, uint8_t first)
{
	return b > start && b < end && type_at(s, b) != first;
}

/* The type is constant between the edges of the ranges, so [start, end)
 * is uniform when it has the type of start at every edge inside it. */
uint8_t mtrr_type_lookup(const struct mtrr_state *s, phys_addr_t start, phys_addr_t end,
			 bool *uniform)
{
	uint8_t first;

	*uniform = true;
	if (!s->enabled || end <= start)
		return MTRR_TYPE_INVALID;
	first = type_at(s, start);
	if (s->fixed_enabled && start < FIXED_END) {
		for (unsigned int i = 1; i <= MTRR_NR_FIXED; i++)
			if (changes_at(s, start, end, i < MTRR_NR_FIXED ? fixed_start(i) : FIXED_END,
				       first))
				*uniform = false;
	}
	for (unsigned int i = 0; i < s->nr_var && *uniform; i++) {
		const struct mtrr_var *v = &s->var[i];
		phys_addr_t b = v->base & v->mask;
		if (!var_contiguous(s, v)) {
			/* Striped: its blocks cannot be listed; assume the worst. */
			*uniform = end - start <= PAGE_SIZE;
			continue;
		}
		if (changes_at(s, start, end, b, first) ||
		    changes_at(s, start, end, b + (v->mask & -v->mask), first))
			*uniform = false;
	}
	return first;
}

static void read_fixed(struct mtrr_state *s)
{
	static const uint32_t msrs[11] = {
		MSR_MTRR_FIX64K_00000, MSR_MTRR_FIX16K_80000, MSR_MTRR_FIX16K_A0000,
		MSR_MTRR_FIX4K_C0000, MSR_MTRR_FIX4K_C0000 + 1, MSR_MTRR_FIX4K_C0000 + 2,
		MSR_MTRR_FIX4K_C0000 + 3, MSR_MTRR_FIX4K_C0000 + 4, MSR_MTRR_FIX4K_C0000 + 5,
		MSR_MTRR_FIX4K_C0000 + 6, MSR_MTRR_FIX4K_C0000 + 7,
	};

	for (unsigned int m = 0; m < ARRAY_SIZE(msrs); m++) {
		uint64_t v = rdmsr(msrs[m]);
		for (unsigned int b = 0; b < 8; b++)
			s->fixed[m * 8 + b] = (v >> (8 * b)) & 0xff;
	}
}

static void read_state(struct mtrr_state *s)
{
	uint32_t a, b, c, d;
	uint64_t cap, def;

	memset(s, 0, sizeof(*s));
	s->phys_bits = cpu.phys_addr_bits;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(d & CPUID1_EDX_MTRR))
		return;
	cap = rdmsr(MSR_MTRRCAP);
	def = rdmsr(MSR_MTRR_DEF_TYPE);
	s->enabled = def & DEF_TYPE_E;
	s->fixed_enabled = s->enabled && (def & DEF_TYPE_FE) && (cap & MTRRCAP_FIX);
	s->def_type = def & 0xff;
	if (s->fixed_enabled)
		read_fixed(s);
	for (unsigned int i = 0; i < (cap & MTRRCAP_VCNT) && s->nr_var < MTRR_MAX_VAR; i++) {
		uint64_t base = rdmsr(MSR_MTRR_PHYSBASE(i)), mask = rdmsr(MSR_MTRR_PHYSMASK(i));
		if (!(mask & PHYSMASK_V))
			continue;
		s->var[s->nr_var++] = (struct mtrr_var){
			.base = base & addr_mask(s), .mask = mask & addr_mask(s),
			.type = base & 0xff };
	}
}

static void print_state(const struct mtrr_state *s)
{
	if (!s->enabled) {
		pr_info("mtrr: none (no MTRRs, or disabled by the firmware)\n");
		return;
	}
	pr_info("mtrr: default type %s; %u variable ranges in use\n", mtrr_type_name(s->def_type),
		s->nr_var);
	for (unsigned int i = 0; s->fixed_enabled && i < MTRR_NR_FIXED;) {
		unsigned int j = i + 1;
		while (j < MTRR_NR_FIXED && s->fixed[j] == s->fixed[i])
			j++;
		pr_info("mtrr: fixed    [%#07llx-%#07llx) %s\n", (unsigned long long)fixed_start(i),
			(unsigned long long)(j < MTRR_NR_FIXED ? fixed_start(j) : FIXED_END),
			mtrr_type_name(s->fixed[i]));
		i = j;
	}
	for (unsigned int i = 0; i < s->nr_var; i++) {
		const struct mtrr_var *v = &s->var[i];
		if (var_contiguous(s, v))
			pr_info("mtrr: variable [%#llx-%#llx) %s\n",
				(unsigned long long)(v->base & v->mask),
				(unsigned long long)((v->base & v->mask) + (v->mask & -v->mask)),
				mtrr_type_name(v->type));
		else
			pr_info("mtrr: variable base %#llx mask %#llx (not contiguous: no huge pages "
				"near it) %s\n", (unsigned long long)v->base,
				(unsigned long long)v->mask, mtrr_type_name(v->type));
	}
}

void mtrr_init(void)
{
	read_state(&boot_state);
	print_state(&boot_state);
}

const struct mtrr_state *mtrr_kernel_state(void)
{
	return &boot_state;
}

const struct mtrr_state *mtrr_use_state(const struct mtrr_state *s)
{
	const struct mtrr_state *old = state;

	state = s ? s : &boot_state;
	return old;
}

bool mtrr_huge_ok(phys_addr_t start, uint64_t size)
{
	static phys_addr_t last_start, last_size; /* say it once per range */
	bool uniform;

	mtrr_type_lookup(state, start, start + size, &uniform);
	if (uniform)
		return true;
	if (start != last_start || size != last_size)
		pr_info("mtrr: [%#llx-%#llx) has more than one MTRR type: mapped with pages "
			"smaller than %llu KiB\n", (unsigned long long)start,
			(unsigned long long)(start + size), (unsigned long long)(size >> 10));
	last_start = start;
	last_size = size;
	return false;
}
