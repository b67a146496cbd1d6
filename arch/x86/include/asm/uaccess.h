/* The x86 layer under the user copies (arch/x86/uaccess.c): SMEP/SMAP,
 * and the fault-handled instructions that every copy, and every probe of
 * memory that may not be mapped, is made of. The checked interface is
 * <pagoda/uaccess.h>. */
#ifndef ASM_X86_UACCESS_H
#define ASM_X86_UACCESS_H

#include <pagoda/types.h>

/* Turn on SMEP and SMAP where the CPU has them (CR4, Intel SDM Vol. 3A,
 * 4.6): the kernel can then neither run user code nor touch user data
 * outside these helpers. Called on each CPU. */
void uaccess_init(void);
/* The same CR4 bits on another CPU, once uaccess_init() has run. */
void uaccess_cpu_init(void);
/* Is SMAP on (user copies open a window with STAC)? */
bool uaccess_smap_on(void);

/* Copy or zero n bytes with user access allowed (STAC/CLAC around one
 * REP MOVSB/STOSB): 0, or -EFAULT if a fault stopped it (some bytes may
 * have been copied). The caller checked the range with access_ok(). */
int raw_copy_user(void *dst, const void *src, size_t n);
int raw_clear_user(void *dst, size_t n);
/* The same copy that stops at the first byte that faults: returns how
 * many bytes were left uncopied (0: all of them went). */
size_t raw_copy_user_partial(void *dst, const void *src, size_t n);

/* LOCK CMPXCHG on a user word: if *uaddr is old, make it new. *cur gets
 * the value found. 0, or -EFAULT if the access faulted (a page the fault
 * handler could not supply). uaddr is 4-byte aligned and access_ok(). */
int raw_cmpxchg_user_u32(uint32_t *uaddr, uint32_t old, uint32_t new, uint32_t *cur);

/* Read or write one byte of kernel memory that may not be mapped: 0, or
 * -EFAULT if the access faulted (used by tests of the fault paths). */
int probe_read_u8(const volatile void *addr, uint8_t *out);
int probe_write_u8(volatile void *addr, uint8_t v);

#endif
