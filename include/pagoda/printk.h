/* printk: the kernel log, written to every registered console.
 *
 * A message may start with a level, as in Linux: printk(KERN_ERR "...").
 * Messages above the console log level (command line loglevel=N, default 7,
 * which shows everything but debug) are not printed. */
#ifndef PAGODA_PRINTK_H
#define PAGODA_PRINTK_H

#include <pagoda/format.h>
#include <stdarg.h>
#include <pagoda/compiler.h>
#include <pagoda/types.h>

#define KERN_SOH "\001"
#define KERN_EMERG KERN_SOH "0"
#define KERN_ALERT KERN_SOH "1"
#define KERN_CRIT KERN_SOH "2"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
#define pr_emerg(fmt, ...) printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...) printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...) printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)

/* A console receives every message printk() prints; a console flagged
 * CON_RAW_CHANNEL also receives printk_raw() output (the KTAP stream). */
struct console {
	const char *name;
	void (*write)(struct console *con, const char *s, size_t n);
	unsigned int flags;
	struct console *next;
};
#define CON_RAW_CHANNEL 0x1 /* the machine-readable test channel (COM1) */
#define CON_REPLAY 0x2      /* on registration, receive the boot log so far */

/* Register a console; messages already printed are not replayed. */
void console_register(struct console *con);
void console_unregister(struct console *con);

__printf(1, 2) int printk(const char *fmt, ...);
int vprintk(const char *fmt, va_list ap);
/* Write only to consoles flagged CON_RAW_CHANNEL, with no level handling:
 * the KTAP stream goes here so that the screen is not flooded. */
__printf(1, 2) int printk_raw(const char *fmt, ...);

void printk_set_loglevel(int level);

/* Make the console lock free whoever holds it, so that a panic can print
 * (kernel/panic.c only). */
void console_lock_for_panic(void);

/* Copy the newest bytes of the log ring (every message printk() stored,
 * debug ones included) into buf, oldest first, at most size of them.
 * Returns how many were copied. The ring keeps the last 16 KiB. */
size_t printk_ring_read(char *buf, size_t size);

/* While quiet, printk() writes to the raw channel (COM1) only: the self-
 * tests provoke warnings on purpose, and the screen should show only what
 * went wrong. Returns the previous setting. */
bool printk_set_quiet(bool on);


#endif
