/* Tests of futexes (kernel/futex.c): the errors Linux gives for bad
 * words, ops and timeouts; that the word is compared under the bucket
 * lock even when its page is not present yet (faulted in, then
 * compared); the keys that let threads and processes meet; requeue's
 * comparison; and the robust list walk at exit.
 *
 * A case runs in a fresh active address space with a private buffer at
 * UBASE and a shared one at SBASE. Waking a sleeper needs a second task,
 * so that path is exercised by the user suites (user/futextest.c and the
 * pthread suites), which also run on Linux. */
#include <pagoda/errno.h>
#include <pagoda/futex.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/uaccess.h>

#define UBASE 0x0000100000000000UL
#define SBASE 0x0000100000100000UL
#define UNMAPPED 0x0000100000200000UL
#define NOTOUCH (UBASE + 3 * PAGE_SIZE) /* mapped, never touched: not present */

static void map_buffers(struct ktest *t, struct mm_struct *mm)
{
	KEXPECT_EQ(t, do_mmap(mm, UBASE, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)UBASE);
	KEXPECT_EQ(t, do_mmap(mm, SBASE, PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)SBASE);
}

static void put_u32(uintptr_t addr, uint32_t v)
{
	copy_to_user((void *)addr, &v, sizeof(v));
}

static uint32_t get_u32(uintptr_t addr)
{
	uint32_t v = 0xdeadbeef;

	copy_from_user(&v, (const void *)addr, sizeof(v));
	return v;
}

/* A struct timespec in user memory at addr. */
static uintptr_t put_timespec(uintptr_t addr, int64_t sec, int64_t nsec)
{
	int64_t ts[2] = { sec, nsec };

	copy_to_user((void *)addr, ts, sizeof(ts));
	return addr;
}

MM_CASE(futex_rejects_bad_words_ops_and_timeouts)
{
	uintptr_t ts = UBASE + PAGE_SIZE;

	map_buffers(t, mm);
	put_u32(UBASE, 0);
	KEXPECT_EQ(t, futex_op(UBASE + 1, FUTEX_WAIT, 0, 0, 0, 0), -EINVAL);
	KEXPECT_EQ(t, futex_op(UBASE + 2, FUTEX_WAKE, 1, 0, 0, 0), -EINVAL);
	KEXPECT_EQ(t, futex_op(UNMAPPED, FUTEX_WAIT, 0, 0, 0, 0), -EFAULT);
	KEXPECT_EQ(t, futex_op(UNMAPPED, FUTEX_WAKE, 1, 0, 0, 0), -EFAULT);
	KEXPECT_EQ(t, futex_op(USER_SPACE_END, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0), -EFAULT);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT_BITSET, 0, 0, 0, 0), -EINVAL); /* bitset 0 */
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAKE_BITSET, 1, 0, 0, 0), -EINVAL);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, 0, 0, 0), -ENOSYS);
	KEXPECT_EQ(t, futex_op(UBASE, 5 /* FUTEX_WAKE_OP */, 1, 0, 0, 0), -ENOSYS);
	KEXPECT_EQ(t, futex_op(UBASE, 6 /* FUTEX_LOCK_PI */, 0, 0, 0, 0), -ENOSYS);
	KEXPECT_EQ(t, futex_op(UBASE, 99, 0, 0, 0, 0), -ENOSYS);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT, 0, put_timespec(ts, 0, 1000000000), 0, 0), -EINVAL);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT, 0, put_timespec(ts, -1, 0), 0, 0), -EINVAL);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT, 0, UNMAPPED, 0, 0), -EFAULT);
	KEXPECT_EQ(t, futex_waiters(), 0);
}

/* The word is compared as it is now, even on a page that is not present:
 * it is faulted in (outside the bucket lock) and compared again. */
MM_CASE(futex_wait_compares_the_word_even_on_a_page_not_yet_present)
{
	map_buffers(t, mm);
	put_u32(UBASE, 5);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT, 4, 0, 0, 0), -EAGAIN);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 4, 0, 0, 0), -EAGAIN);
	KEXPECT_EQ(t, futex_op(NOTOUCH, FUTEX_WAIT, 1, 0, 0, 0), -EAGAIN); /* reads 0 */
	KEXPECT_EQ(t, futex_op(SBASE + 8, FUTEX_WAIT, 1, 0, 0, 0), -EAGAIN);
	KEXPECT_EQ(t, futex_waiters(), 0);
}

/* An expired or short timeout ends the wait with -ETIMEDOUT, never
 * earlier than asked, and leaves nobody queued. */
MM_CASE(futex_wait_times_out_not_before_the_timeout)
{
	uintptr_t ts = UBASE + PAGE_SIZE;
	uint64_t start;

	map_buffers(t, mm);
	put_u32(UBASE, 7);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT, 7, put_timespec(ts, 0, 0), 0, 0), -ETIMEDOUT);
	/* WAIT_BITSET's timeout is absolute: monotonic time 1 s is past. */
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT_BITSET, 7, put_timespec(ts, 1, 0), 0,
			       FUTEX_BITSET_MATCH_ANY), -ETIMEDOUT);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 7,
			       put_timespec(ts, 1, 0), 0, FUTEX_BITSET_MATCH_ANY), -ETIMEDOUT);
	start = clock_monotonic_ns();
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAIT, 7, put_timespec(ts, 0, 30000000), 0, 0), -ETIMEDOUT);
	KEXPECT_TRUE(t, clock_monotonic_ns() - start >= 30000000);
	KEXPECT_EQ(t, futex_waiters(), 0);
	KEXPECT_EQ(t, current->wake_ns, 0);
}

/* Threads of one process meet on (address space, address); processes on
 * the physical word of a shared mapping, unless FUTEX_PRIVATE_FLAG says
 * the word is private. */
MM_CASE(futex_keys_meet_across_processes_only_for_shared_words)
{
	uintptr_t pk[2], pk2[2], sk[2], sk2[2], xk[2];
	struct mm_struct *child;

	map_buffers(t, mm);
	put_u32(UBASE, 1);
	put_u32(SBASE, 1);
	KASSERT_EQ(t, futex_key_of(UBASE, false, pk), 0);
	KEXPECT_EQ(t, pk[0], (uintptr_t)mm);
	KEXPECT_EQ(t, pk[1], UBASE);
	KASSERT_EQ(t, futex_key_of(SBASE + 4, false, sk), 0);
	KEXPECT_EQ(t, sk[0], 0);
	KASSERT_EQ(t, futex_key_of(SBASE + 4, true, xk), 0);
	KEXPECT_EQ(t, xk[0], (uintptr_t)mm);
	KEXPECT_EQ(t, futex_key_of(UNMAPPED, false, xk), -EFAULT);
	KEXPECT_EQ(t, futex_key_of(UBASE + 3, false, xk), -EINVAL);
	KASSERT_NOT_NULL(t, child = mm_fork(mm));
	mm_switch(child);
	KEXPECT_EQ(t, futex_key_of(UBASE, false, pk2), 0);
	KEXPECT_EQ(t, futex_key_of(SBASE + 4, false, sk2), 0);
	mm_switch(mm);
	mm_put(child);
	KEXPECT_TRUE(t, pk2[0] != pk[0]); /* private: another process, another futex */
	KEXPECT_EQ(t, sk2[0], sk[0]);     /* shared: the same frame, the same futex */
	KEXPECT_EQ(t, sk2[1], sk[1]);
}

/* CMP_REQUEUE moves nobody unless the word still holds val3. */
MM_CASE(futex_cmp_requeue_checks_the_word)
{
	map_buffers(t, mm);
	put_u32(UBASE, 3);
	put_u32(UBASE + 64, 0);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_CMP_REQUEUE, 1, 1, UBASE + 64, 2), -EAGAIN);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_CMP_REQUEUE, 1, 1, UBASE + 64, 3), 0);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_REQUEUE, 1, 1, UBASE + 64, 0), 0);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_CMP_REQUEUE, 1, 1, UNMAPPED, 3), -EFAULT);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_REQUEUE, (uint32_t)-1, 1, UBASE + 64, 0), -EINVAL);
	KEXPECT_EQ(t, futex_op(UBASE, FUTEX_WAKE, 10, 0, 0, 0), 0); /* nobody waits */
}

/* At exit, each robust futex whose word holds the thread's tid is marked
 * FUTEX_OWNER_DIED (FUTEX_WAITERS kept); others are left alone; a list
 * that loops ends at the limit. */
MM_CASE(futex_robust_list_marks_the_dead_owners_words)
{
	static struct task_standin sd;
	struct task *me = &sd.task;
	uintptr_t head = UBASE, e1 = UBASE + 64, e2 = UBASE + 128, lp = UBASE + 192;
	uint64_t words[3];

	map_buffers(t, mm);
	task_standin_init(&sd, 4321);
	me->mm = mm;
	/* head -> e1 -> e2 -> head; each entry's word at entry + 8. */
	words[0] = e1; words[1] = 8; words[2] = 0;
	copy_to_user((void *)head, words, sizeof(words));
	copy_to_user((void *)e1, &e2, sizeof(e2));
	copy_to_user((void *)e2, &head, sizeof(head));
	put_u32(e1 + 8, 4321 | FUTEX_WAITERS);
	put_u32(e2 + 8, 999); /* another owner's */
	me->robust_list = head;
	futex_exit_robust_list(me);
	KEXPECT_EQ(t, get_u32(e1 + 8), FUTEX_WAITERS | FUTEX_OWNER_DIED);
	KEXPECT_EQ(t, get_u32(e2 + 8), 999);
	KEXPECT_EQ(t, me->robust_list, 0);
	/* A list that points at itself: the walk stops. */
	words[0] = lp;
	copy_to_user((void *)head, words, sizeof(words));
	copy_to_user((void *)lp, &lp, sizeof(lp));
	put_u32(lp + 8, 4321);
	me->robust_list = head;
	futex_exit_robust_list(me);
	KEXPECT_EQ(t, get_u32(lp + 8), FUTEX_OWNER_DIED);
	me->mm = NULL;
}

static const struct ktest_case futex_cases[] = {
	KTEST_CASE(futex_rejects_bad_words_ops_and_timeouts),
	KTEST_CASE(futex_wait_compares_the_word_even_on_a_page_not_yet_present),
	KTEST_CASE(futex_wait_times_out_not_before_the_timeout),
	KTEST_CASE(futex_keys_meet_across_processes_only_for_shared_words),
	KTEST_CASE(futex_cmp_requeue_checks_the_word),
	KTEST_CASE(futex_robust_list_marks_the_dead_owners_words),
};
KTEST_SUITE(futex, futex_cases);
