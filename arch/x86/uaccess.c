/* Fault-handled memory accesses: the user copies under copy_from_user()
 * and friends (mm/uaccess.c), and one-byte probes. Each is a single
 * instruction written with ASM_TRY (asm/trap.h), so a fault the page-fault
 * path cannot resolve resumes after it with -EFAULT instead of an oops. */
#include <pagoda/errno.h>
#include <pagoda/printk.h>
#include <asm/cpu.h>
#include <asm/trap.h>
#include <asm/uaccess.h>
#include <asm/x86.h>

#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)

static bool smap_on;

void uaccess_cpu_init(void)
{
	uint64_t cr4 = read_cr4();

	if (cpu.smep)
		cr4 |= CR4_SMEP;
	if (cpu.smap)
		cr4 |= CR4_SMAP;
	write_cr4(cr4);
}

void uaccess_init(void)
{
	uaccess_cpu_init();
	smap_on = cpu.smap;
	pr_info("uaccess: SMEP %s, SMAP %s\n", cpu.smep ? "on" : "absent",
		cpu.smap ? "on" : "absent");
}

bool uaccess_smap_on(void)
{
	return smap_on;
}

/* stac/clac exist only with SMAP; without it they would be #UD. */
static inline void user_access_begin(void)
{
	if (smap_on)
		__asm__ __volatile__("stac" ::: "memory");
}

static inline void user_access_end(void)
{
	if (smap_on)
		__asm__ __volatile__("clac" ::: "memory");
}

int raw_copy_user(void *dst, const void *src, size_t n)
{
	int err = 0;

	user_access_begin();
	__asm__ __volatile__(ASM_TRY("rep movsb")
			     : [err] "+r"(err), "+D"(dst), "+S"(src), "+c"(n)
			     : [efault] "i"(-EFAULT)
			     : "memory");
	user_access_end();
	return err;
}

size_t raw_copy_user_partial(void *dst, const void *src, size_t n)
{
	int err = 0;

	user_access_begin();
	/* On a fault, RCX still holds the bytes REP MOVSB had left. */
	__asm__ __volatile__(ASM_TRY("rep movsb")
			     : [err] "+r"(err), "+D"(dst), "+S"(src), "+c"(n)
			     : [efault] "i"(-EFAULT)
			     : "memory");
	user_access_end();
	return n;
}

int raw_clear_user(void *dst, size_t n)
{
	int err = 0;

	user_access_begin();
	__asm__ __volatile__(ASM_TRY("rep stosb")
			     : [err] "+r"(err), "+D"(dst), "+c"(n)
			     : [efault] "i"(-EFAULT), "a"(0)
			     : "memory");
	user_access_end();
	return err;
}

int raw_cmpxchg_user_u32(uint32_t *uaddr, uint32_t old, uint32_t new, uint32_t *cur)
{
	int err = 0;

	user_access_begin();
	__asm__ __volatile__(ASM_TRY("lock cmpxchgl %[new], (%[addr])")
			     : [err] "+r"(err), "+a"(old)
			     : [new] "r"(new), [addr] "r"(uaddr), [efault] "i"(-EFAULT)
			     : "memory");
	user_access_end();
	*cur = old;
	return err;
}

int probe_read_u8(const volatile void *addr, uint8_t *out)
{
	int err = 0;
	uint8_t v = 0;

	__asm__ __volatile__(ASM_TRY("movb (%[addr]), %[v]")
			     : [err] "+r"(err), [v] "+q"(v)
			     : [addr] "r"(addr), [efault] "i"(-EFAULT)
			     : "memory");
	*out = v;
	return err;
}

int probe_write_u8(volatile void *addr, uint8_t v)
{
	int err = 0;

	__asm__ __volatile__(ASM_TRY("movb %[v], (%[addr])")
			     : [err] "+r"(err)
			     : [v] "q"(v), [addr] "r"(addr), [efault] "i"(-EFAULT)
			     : "memory");
	return err;
}
