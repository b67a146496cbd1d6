/* panic() and BUG_ON(): for broken kernel invariants only (STYLE.md rule 9). */
#ifndef PAGODA_PANIC_H
#define PAGODA_PANIC_H

#include <pagoda/compiler.h>
#include <pagoda/types.h>

struct trap_frame;

/* Print the message, the registers (if a frame is given), a backtrace with
 * symbol names, then halt this CPU forever. */
__printf(1, 2) __noreturn void panic(const char *fmt, ...);
__printf(2, 3) __noreturn void panic_frame(const struct trap_frame *tf, const char *fmt, ...);

#define BUG_ON(cond)                                                           \
	do {                                                                   \
		if (unlikely(cond))                                            \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);  \
	} while (0)

#define WARN_ON(cond)                                                          \
	({                                                                     \
		bool __w = !!(cond);                                           \
		if (unlikely(__w))                                             \
			printk(KERN_WARNING "WARNING at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		__w;                                                           \
	})

/* Print a backtrace starting from frame pointer rbp. */
void dump_backtrace(uintptr_t rbp);

/* The return addresses of the frame-pointer chain from rbp, innermost
 * first: at most max into out; returns how many. */
int backtrace_collect(uintptr_t rbp, uintptr_t *out, int max);
/* The same, following only frames inside [lo, hi): another task's stack,
 * whose chain may end anywhere (a user's RBP, a half-built frame). */
int backtrace_collect_within(uintptr_t rbp, uintptr_t lo, uintptr_t hi, uintptr_t *out, int max);

#endif
