/* Rate-limited messages: see include/pagoda/ratelimit.h. */
#include <pagoda/printk.h>
#include <pagoda/ratelimit.h>
#include <pagoda/spinlock.h>

/* Guards every ratelimit_state (they are checked rarely: one lock will
 * do), taken with interrupts off: faults report from any context. */
DEFINE_STATIC_SPINLOCK(ratelimit_lock);

bool ratelimit_at(struct ratelimit_state *rs, uint64_t now)
{
	uint64_t flags = spin_lock_irqsave(&ratelimit_lock);
	bool ok;

	if (!rs->begin || now - rs->begin >= rs->interval) {
		if (rs->missed)
			printk(KERN_WARNING "%s: %u callbacks suppressed\n", rs->name, rs->missed);
		rs->begin = now ? now : 1;
		rs->printed = rs->missed = 0;
	}
	ok = rs->printed < rs->burst;
	if (ok)
		rs->printed++;
	else
		rs->missed++;
	spin_unlock_irqrestore(&ratelimit_lock, flags);
	return ok;
}

bool ratelimit(struct ratelimit_state *rs)
{
	return ratelimit_at(rs, timer_ticks());
}
