/* User copies with fault fixups. Each copy is one "rep movsb" (or stosb)
 * bracketed by stac/clac, listed in the exception table: a fault the VMA
 * layer cannot resolve resumes at the fixup, which returns -EFAULT. */
#include <pagoda/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/mm_types.h>
#include <pagoda/printk.h>
#include <pagoda/trap.h>
#include <pagoda/uaccess.h>
#include <pagoda/x86.h>

#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)

static bool smap_on;

void uaccess_init(void)
{
	uint64_t cr4 = read_cr4();

	if (cpu.smep)
		cr4 |= CR4_SMEP;
	if (cpu.smap)
		cr4 |= CR4_SMAP;
	write_cr4(cr4);
	smap_on = cpu.smap;
	pr_info("uaccess: SMEP %s, SMAP %s\n", cpu.smep ? "on" : "absent",
		cpu.smap ? "on" : "absent");
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

bool access_ok(const void *uaddr, size_t n)
{
	uintptr_t a = (uintptr_t)uaddr;

	return a + n >= a && a + n <= USER_SPACE_END;
}

/* Copy n bytes, stopping at the first byte that faults; returns how many
 * were left uncopied (the count register where the copy stopped). */
static size_t copy_bytes_upto_fault(void *dst, const void *src, size_t n)
{
	int err = 0;

	user_access_begin();
	__asm__ __volatile__("1: rep movsb\n"
			     "2:\n"
			     ".pushsection .text.fixup, \"ax\"\n"
			     "3: movl %[efault], %[err]\n"
			     "   jmp 2b\n"
			     ".popsection\n"
			     _ASM_EXTABLE(1b, 3b)
			     : [err] "+r"(err), "+D"(dst), "+S"(src), "+c"(n)
			     : [efault] "i"(-EFAULT)
			     : "memory");
	user_access_end();
	return n;
}

size_t copy_from_user_partial(void *dst, const void *usrc, size_t n)
{
	if (!access_ok(usrc, n))
		return 0;
	return n - copy_bytes_upto_fault(dst, usrc, n);
}

size_t copy_to_user_partial(void *udst, const void *src, size_t n)
{
	if (!access_ok(udst, n))
		return 0;
	return n - copy_bytes_upto_fault(udst, src, n);
}

static int copy_bytes(void *dst, const void *src, size_t n)
{
	int err = 0;

	user_access_begin();
	__asm__ __volatile__("1: rep movsb\n"
			     "2:\n"
			     ".pushsection .text.fixup, \"ax\"\n"
			     "3: movl %[efault], %[err]\n"
			     "   jmp 2b\n"
			     ".popsection\n"
			     _ASM_EXTABLE(1b, 3b)
			     : [err] "+r"(err), "+D"(dst), "+S"(src), "+c"(n)
			     : [efault] "i"(-EFAULT)
			     : "memory");
	user_access_end();
	return err;
}

int copy_from_user(void *dst, const void *usrc, size_t n)
{
	if (!access_ok(usrc, n))
		return -EFAULT;
	return copy_bytes(dst, usrc, n);
}

int copy_to_user(void *udst, const void *src, size_t n)
{
	if (!access_ok(udst, n))
		return -EFAULT;
	return copy_bytes(udst, src, n);
}

int clear_user(void *udst, size_t n)
{
	int err = 0;

	if (!access_ok(udst, n))
		return -EFAULT;
	user_access_begin();
	__asm__ __volatile__("1: rep stosb\n"
			     "2:\n"
			     ".pushsection .text.fixup, \"ax\"\n"
			     "3: movl %[efault], %[err]\n"
			     "   jmp 2b\n"
			     ".popsection\n"
			     _ASM_EXTABLE(1b, 3b)
			     : [err] "+r"(err), "+D"(udst), "+c"(n)
			     : [efault] "i"(-EFAULT), "a"(0)
			     : "memory");
	user_access_end();
	return err;
}

long strncpy_from_user(char *dst, const char *usrc, long count)
{
	if (count <= 0)
		return 0;
	for (long i = 0; i < count; i++) {
		if (!access_ok(usrc + i, 1) || copy_bytes(&dst[i], usrc + i, 1) < 0)
			return -EFAULT;
		if (!dst[i])
			return i;
	}
	return count;
}
