/* Futexes (kernel/futex.c): the kernel half of every pthread mutex,
 * condition variable, join and once. A futex is a 32-bit word in user
 * memory; user space changes it with atomic instructions and asks the
 * kernel only to sleep while it holds an expected value (FUTEX_WAIT) or
 * to wake sleepers (FUTEX_WAKE). */
#ifndef PAGODA_FUTEX_H
#define PAGODA_FUTEX_H

#include <pagoda/types.h>

struct task;

/* Linux's futex operations and flags (include/uapi/linux/futex.h). */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_BITSET_MATCH_ANY 0xffffffffU
#define FUTEX_WAITERS 0x80000000U
#define FUTEX_OWNER_DIED 0x40000000U
#define FUTEX_TID_MASK 0x3fffffffU

/* futex(2) for the current task: uaddr, op (with its flags), val, the
 * timeout (a user struct timespec, or the count val2 for requeue), uaddr2
 * and val3, as Linux's do_futex() takes them. */
long futex_op(uintptr_t uaddr, int op, uint32_t val, uintptr_t timeout_or_val2,
	      uintptr_t uaddr2, uint32_t val3);

/* Wake up to n waiters on the current task's word at uaddr (thread exit:
 * CLONE_CHILD_CLEARTID). Returns how many woke, or a negative errno. */
long futex_wake_address(uintptr_t uaddr, int n);

/* Thread exit: the robust futexes t still holds (set_robust_list) are
 * marked FUTEX_OWNER_DIED and one waiter of each is woken, as Linux's
 * exit_robust_list() does. */
void futex_exit_robust_list(struct task *t);

/* How many tasks wait in the futex table (tests). */
unsigned int futex_waiters(void);

/* Who the word at uaddr of the current address space is (tests): the
 * address space and address for a private futex, 0 and the physical
 * address for a shared one. 0, -EINVAL (unaligned), -EFAULT (unmapped). */
int futex_key_of(uintptr_t uaddr, bool private, uintptr_t key[2]);

#endif
