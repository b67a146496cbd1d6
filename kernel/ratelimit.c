/* Rate-limited messages: see include/pagoda/ratelimit.h. */
#include <pagoda/printk.h>
#include <pagoda/ratelimit.h>
#include <pagoda/x86.h>

bool ratelimit_at(struct ratelimit_state *rs, uint64_t now)
{
	uint64_t flags = irq_save();
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
	irq_restore(flags);
	return ok;
}

bool ratelimit(struct ratelimit_state *rs)
{
	return ratelimit_at(rs, timer_ticks());
}
