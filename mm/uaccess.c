/* The checked user copies: every pointer from user space is checked to lie
 * in user space (access_ok()), then copied by one fault-handled
 * instruction (arch/x86/uaccess.c): a fault the VMA layer cannot resolve
 * ends the copy with -EFAULT. */
#include <pagoda/errno.h>
#include <pagoda/mm_types.h>
#include <pagoda/uaccess.h>
#include <asm/uaccess.h>

bool access_ok(const void *uaddr, size_t n)
{
	uintptr_t a = (uintptr_t)uaddr;

	return a + n >= a && a + n <= USER_SPACE_END;
}

size_t copy_from_user_partial(void *dst, const void *usrc, size_t n)
{
	if (!access_ok(usrc, n))
		return 0;
	return n - raw_copy_user_partial(dst, usrc, n);
}

size_t copy_to_user_partial(void *udst, const void *src, size_t n)
{
	if (!access_ok(udst, n))
		return 0;
	return n - raw_copy_user_partial(udst, src, n);
}

int copy_from_user(void *dst, const void *usrc, size_t n)
{
	if (!access_ok(usrc, n))
		return -EFAULT;
	return raw_copy_user(dst, usrc, n);
}

int copy_to_user(void *udst, const void *src, size_t n)
{
	if (!access_ok(udst, n))
		return -EFAULT;
	return raw_copy_user(udst, src, n);
}

int clear_user(void *udst, size_t n)
{
	if (!access_ok(udst, n))
		return -EFAULT;
	return raw_clear_user(udst, n);
}

long strncpy_from_user(char *dst, const char *usrc, long count)
{
	if (count <= 0)
		return 0;
	for (long i = 0; i < count; i++) {
		if (!access_ok(usrc + i, 1) || raw_copy_user(&dst[i], usrc + i, 1) < 0)
			return -EFAULT;
		if (!dst[i])
			return i;
	}
	return count;
}
