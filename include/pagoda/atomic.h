/* Atomic operations on plain integers, with the compiler's __atomic
 * builtins (sequentially consistent unless a name says otherwise). On
 * x86-64 a locked instruction each; loads and stores of aligned words are
 * atomic by themselves, READ_ONCE/WRITE_ONCE keep the compiler from
 * splitting, merging or caching them. */
#ifndef PAGODA_ATOMIC_H
#define PAGODA_ATOMIC_H

#include <pagoda/compiler.h>
#include <pagoda/types.h>


#define atomic_load(p) __atomic_load_n(p, __ATOMIC_SEQ_CST)
#define atomic_load_acquire(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define atomic_store(p, v) __atomic_store_n(p, v, __ATOMIC_SEQ_CST)
#define atomic_store_release(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
/* Return the old value. */
#define atomic_fetch_add(p, v) __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_sub(p, v) __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_or(p, v) __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_and(p, v) __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST)
/* Return the new value. */
#define atomic_add_return(p, v) __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST)
#define atomic_sub_return(p, v) __atomic_sub_fetch(p, v, __ATOMIC_SEQ_CST)
#define atomic_inc(p) ((void)__atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST))
#define atomic_dec(p) ((void)__atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST))
#define atomic_xchg(p, v) __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST)
/* If *p == *expected, store v and return true; else load *p into
 * *expected and return false. */
#define atomic_cmpxchg(p, expected, v)                                         \
	__atomic_compare_exchange_n(p, expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

/* A full barrier: no load or store moves across it, not even a load
 * ahead of an earlier store, which x86 otherwise allows (Linux's
 * smp_mb()). */
static inline void smp_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

/* Bit n of a bitmap of 64-bit words, atomically. */
static inline void atomic_set_bit(uint64_t *map, unsigned int n)
{
	atomic_fetch_or(&map[n / 64], 1ULL << (n % 64));
}
static inline void atomic_clear_bit(uint64_t *map, unsigned int n)
{
	atomic_fetch_and(&map[n / 64], ~(1ULL << (n % 64)));
}
static inline bool test_bit(const uint64_t *map, unsigned int n)
{
	return READ_ONCE(map[n / 64]) & (1ULL << (n % 64));
}

#endif
