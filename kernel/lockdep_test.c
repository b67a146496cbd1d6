/* Tests of the locks and of the lock-order checker (kernel/spinlock.c,
 * kernel/mutex.c, kernel/lockdep.c) that one CPU can run; the ones that
 * need several CPUs are in kernel/smp_test.c. */
#include <pagoda/ktest.h>
#include <pagoda/lockdep.h>
#include <pagoda/mutex.h>
#include <pagoda/spinlock.h>
#include <pagoda/task.h>

/* Take a then b; the classes are the locks' own. */
static void take_in_order(spinlock_t *a, spinlock_t *b)
{
	spin_lock(a);
	spin_lock(b);
	spin_unlock(b);
	spin_unlock(a);
}

/* The planted inversion: A then B, later B then A, on one CPU. No
 * deadlock happens here, but two CPUs doing the two orders at once would
 * deadlock, and the checker must say so. */
static void lockdep_catches_a_planted_inversion(struct ktest *t)
{
	DEFINE_STATIC_SPINLOCK(test_lock_a);
	DEFINE_STATIC_SPINLOCK(test_lock_b);
	unsigned int before = lockdep_inversions();
	bool quiet = lockdep_set_quiet(true);

	take_in_order(&test_lock_a, &test_lock_b);
	KEXPECT_EQ(t, lockdep_inversions(), before);
	take_in_order(&test_lock_b, &test_lock_a);
	lockdep_set_quiet(quiet);
	KEXPECT_EQ(t, lockdep_inversions(), before + 1);
}

/* The same order again and again is no inversion; nor is a third lock
 * taken under both in the same order. */
static void lockdep_accepts_a_consistent_order(struct ktest *t)
{
	DEFINE_STATIC_SPINLOCK(test_lock_c);
	DEFINE_STATIC_SPINLOCK(test_lock_d);
	DEFINE_STATIC_SPINLOCK(test_lock_e);
	unsigned int before = lockdep_inversions();

	for (int i = 0; i < 3; i++) {
		take_in_order(&test_lock_c, &test_lock_d);
		take_in_order(&test_lock_d, &test_lock_e);
		take_in_order(&test_lock_c, &test_lock_e);
	}
	KEXPECT_EQ(t, lockdep_inversions(), before);
}

/* C -> D -> E recorded, then E -> C closes a cycle through D. */
static void lockdep_catches_an_inversion_through_a_third_lock(struct ktest *t)
{
	DEFINE_STATIC_SPINLOCK(test_lock_f);
	DEFINE_STATIC_SPINLOCK(test_lock_g);
	DEFINE_STATIC_SPINLOCK(test_lock_h);
	unsigned int before = lockdep_inversions();
	bool quiet = lockdep_set_quiet(true);

	take_in_order(&test_lock_f, &test_lock_g);
	take_in_order(&test_lock_g, &test_lock_h);
	take_in_order(&test_lock_h, &test_lock_f);
	lockdep_set_quiet(quiet);
	KEXPECT_EQ(t, lockdep_inversions(), before + 1);
}

/* A mutex is a lock like any other for the checker. */
static void lockdep_sees_mutexes_too(struct ktest *t)
{
	DEFINE_STATIC_SPINLOCK(test_lock_i);
	struct mutex m;
	unsigned int before = lockdep_inversions();
	bool quiet = lockdep_set_quiet(true);

	mutex_init(&m, "test_mutex_m");
	mutex_lock(&m);
	spin_lock(&test_lock_i);
	spin_unlock(&test_lock_i);
	mutex_unlock(&m);
	spin_lock(&test_lock_i);
	mutex_lock(&m); /* would sleep under a spinlock if contended: an inversion too */
	mutex_unlock(&m);
	spin_unlock(&test_lock_i);
	lockdep_set_quiet(quiet);
	KEXPECT_EQ(t, lockdep_inversions(), before + 1);
}

static void lockdep_tracks_depth_of_held_locks(struct ktest *t)
{
	DEFINE_STATIC_SPINLOCK(test_lock_j);
	DEFINE_STATIC_SPINLOCK(test_lock_k);
	unsigned int d = lockdep_depth();

	spin_lock(&test_lock_j);
	KEXPECT_EQ(t, lockdep_depth(), d + 1);
	spin_lock(&test_lock_k);
	KEXPECT_EQ(t, lockdep_depth(), d + 2);
	spin_unlock(&test_lock_j); /* out of order: legal */
	KEXPECT_EQ(t, lockdep_depth(), d + 1);
	spin_unlock(&test_lock_k);
	KEXPECT_EQ(t, lockdep_depth(), d);
}

static void spinlock_trylock_fails_while_held_and_asserts_hold(struct ktest *t)
{
	DEFINE_STATIC_SPINLOCK(test_lock_l);

	KEXPECT_FALSE(t, spin_held(&test_lock_l));
	KASSERT_TRUE(t, spin_trylock(&test_lock_l));
	KEXPECT_TRUE(t, spin_held(&test_lock_l));
	KEXPECT_FALSE(t, spin_trylock(&test_lock_l));
	spin_unlock(&test_lock_l);
	KEXPECT_FALSE(t, spin_held(&test_lock_l));
	KEXPECT_EQ(t, test_lock_l.next, test_lock_l.serving);
}

static void mutex_trylock_and_rwsem_counts(struct ktest *t)
{
	struct mutex m;
	struct rw_semaphore s;

	mutex_init(&m, "test_mutex_n");
	KASSERT_TRUE(t, mutex_trylock(&m));
	KEXPECT_TRUE(t, mutex_held(&m));
	mutex_unlock(&m);
	KEXPECT_FALSE(t, mutex_held(&m));
	rwsem_init(&s, "test_rwsem");
	down_read(&s);
	down_read(&s); /* on behalf of a second reader: no writer waits */
	KEXPECT_EQ(t, s.count, 2);
	KEXPECT_FALSE(t, rwsem_held_write(&s));
	up_read(&s);
	up_read(&s);
	down_write(&s);
	KEXPECT_TRUE(t, rwsem_held_write(&s));
	KEXPECT_EQ(t, s.count, -1);
	up_write(&s);
	KEXPECT_EQ(t, s.count, 0);
}

static const struct ktest_case lockdep_cases[] = {
	KTEST_CASE(lockdep_catches_a_planted_inversion),
	KTEST_CASE(lockdep_accepts_a_consistent_order),
	KTEST_CASE(lockdep_catches_an_inversion_through_a_third_lock),
	KTEST_CASE(lockdep_sees_mutexes_too),
	KTEST_CASE(lockdep_tracks_depth_of_held_locks),
	KTEST_CASE(spinlock_trylock_fails_while_held_and_asserts_hold),
	KTEST_CASE(mutex_trylock_and_rwsem_counts),
};
KTEST_SUITE(lockdep, lockdep_cases);
