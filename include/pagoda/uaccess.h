/* Copying to and from user memory (mm/uaccess.c). Every pointer from user
 * space goes through these: a bad pointer (outside the user half, not
 * mapped, against its VMA's protection) returns -EFAULT, never a crash.
 * A fault on a valid but not-yet-present page is resolved on the way
 * (demand paging), as a user access would be. With SMAP on, these are the
 * only places the kernel touches user pages. */
#ifndef PAGODA_UACCESS_H
#define PAGODA_UACCESS_H

#include <pagoda/types.h>

/* Is [uaddr, uaddr + n) inside the user half, without wrapping? */
bool access_ok(const void *uaddr, size_t n);

/* Copy n bytes; return 0 or -EFAULT (some bytes may have been copied). */
int copy_from_user(void *dst, const void *usrc, size_t n);
int copy_to_user(void *udst, const void *src, size_t n);

/* Copy up to n bytes, stopping at the first one that faults; returns the
 * number copied (the bytes before the fault), 0 for a range outside the
 * user half. For read() and write(), which report a partial count. */
size_t copy_from_user_partial(void *dst, const void *usrc, size_t n);
size_t copy_to_user_partial(void *udst, const void *src, size_t n);

/* Copy a NUL-terminated string of at most count bytes (NUL included).
 * Returns its length without the NUL, count if no NUL was found within
 * count bytes (dst is then not terminated, as in Linux), or -EFAULT. */
long strncpy_from_user(char *dst, const char *usrc, long count);

/* Zero n bytes of user memory; 0 or -EFAULT. */
int clear_user(void *udst, size_t n);

#endif
