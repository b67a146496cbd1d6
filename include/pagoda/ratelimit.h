/* Rate-limited messages (kernel/ratelimit.c), as Linux's
 * printk_ratelimited(): at most `burst` messages per `interval` ticks from
 * one call site; when a new interval opens after messages were dropped,
 * one line says how many ("NAME: N callbacks suppressed"). A process that
 * makes a bad system call in a loop cannot flood the console. */
#ifndef PAGODA_RATELIMIT_H
#define PAGODA_RATELIMIT_H

#include <pagoda/timer.h>
#include <pagoda/types.h>

struct ratelimit_state {
	const char *name;     /* for the "suppressed" line */
	uint64_t interval;    /* ticks */
	unsigned int burst;
	uint64_t begin;       /* tick at which the current interval began */
	unsigned int printed; /* messages allowed in it */
	unsigned int missed;  /* messages dropped in it */
};

/* Linux's defaults: 10 messages per 5 seconds. */
#define RATELIMIT_INTERVAL (5 * TIMER_HZ)
#define RATELIMIT_BURST 10
#define RATELIMIT_STATE(var, n)                                                \
	struct ratelimit_state var = { .name = (n), .interval = RATELIMIT_INTERVAL, \
				       .burst = RATELIMIT_BURST }

/* May a message be printed at tick now? Counts it either way. Shared
 * data: *rs, under one lock for all of them (kernel/ratelimit.c). */
bool ratelimit_at(struct ratelimit_state *rs, uint64_t now);

/* The same at the current tick. */
bool ratelimit(struct ratelimit_state *rs);

#endif
