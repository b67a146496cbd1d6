/* printk: format a message and hand it to every registered console.
 *
 * Consoles: COM1 (drivers/serial.c), the test channel, flagged
 * CON_RAW_CHANNEL; and the framebuffer text console (drivers/fbcon.c).
 * One CPU for now: interrupts are disabled while a message is written so
 * that a message from an interrupt handler never lands in the middle of
 * another one. */
#include <pagoda/atomic.h>
#include <pagoda/printk.h>
#include <pagoda/spinlock.h>
#include <pagoda/string.h>
#include <asm/x86.h>

#define PRINTK_BUF 512
#define DEFAULT_LOGLEVEL 7 /* print levels 0..6: everything but debug */

#define LOG_BUF_SIZE (32 * 1024)
#define LOG_RING_SIZE (16 * 1024)

/* Guards the console list, the log buffer, and each console's output, so
 * that lines from several CPUs do not interleave. Taken with interrupts
 * off: anything may print, interrupt handlers included. A panic takes it
 * by force (console_lock_for_panic()). */
DEFINE_STATIC_SPINLOCK(console_lock);
static struct console *consoles;

/* The log so far, replayed to a console registered late with CON_REPLAY
 * (the framebuffer console starts after memory management). Keeps the
 * first LOG_BUF_SIZE bytes: the boot log. */
static char log_buf[LOG_BUF_SIZE];
static size_t log_len;

static void log_store(const char *s, size_t n)
{
	n = MIN(n, LOG_BUF_SIZE - log_len);
	memcpy(log_buf + log_len, s, n);
	log_len += n;
}

/* The newest LOG_RING_SIZE bytes of every message, whatever the console
 * log level (as Linux's dmesg): a debugger prints it (pg-dmesg in
 * scripts/gdb/pagoda.py), printk_ring_read() copies it. log_ring_head
 * counts every byte ever stored: byte i lives at log_ring[i %
 * LOG_RING_SIZE], and the ring holds [head - MIN(head, size), head).
 * Guarded by disabling interrupts, as the consoles. */
static char log_ring[LOG_RING_SIZE];
static uint64_t log_ring_head;

static void log_ring_store(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		log_ring[log_ring_head++ % LOG_RING_SIZE] = s[i];
}

size_t printk_ring_read(char *buf, size_t size)
{
	uint64_t flags = spin_lock_irqsave(&console_lock);
	uint64_t n = MIN(MIN(log_ring_head, (uint64_t)LOG_RING_SIZE), (uint64_t)size);

	for (uint64_t i = 0; i < n; i++)
		buf[i] = log_ring[(log_ring_head - n + i) % LOG_RING_SIZE];
	spin_unlock_irqrestore(&console_lock, flags);
	return n;
}
static int console_loglevel = DEFAULT_LOGLEVEL;
static bool quiet; /* only the raw channel gets messages (printk_set_quiet) */

void console_register(struct console *con)
{
	uint64_t flags = spin_lock_irqsave(&console_lock);
	struct console **pp = &consoles;

	while (*pp)
		pp = &(*pp)->next;
	con->next = NULL;
	*pp = con;
	if (con->flags & CON_REPLAY)
		con->write(con, log_buf, log_len);
	spin_unlock_irqrestore(&console_lock, flags);
}

void console_unregister(struct console *con)
{
	uint64_t flags = spin_lock_irqsave(&console_lock);

	for (struct console **pp = &consoles; *pp; pp = &(*pp)->next) {
		if (*pp == con) {
			*pp = con->next;
			break;
		}
	}
	spin_unlock_irqrestore(&console_lock, flags);
}

bool printk_set_quiet(bool on)
{
	bool old = quiet;

	quiet = on;
	return old;
}

void printk_set_loglevel(int level)
{
	if (level >= 0 && level <= 8)
		console_loglevel = level;
}

static void emit(const char *s, size_t n, unsigned int only_flags)
{
	for (struct console *c = consoles; c; c = c->next)
		if ((c->flags & only_flags) == only_flags)
			c->write(c, s, n);
}

int vprintk(const char *fmt, va_list ap)
{
	char buf[PRINTK_BUF];
	int level = 6, n;
	uint64_t flags;

	if (fmt[0] == KERN_SOH[0] && fmt[1] >= '0' && fmt[1] <= '7') {
		level = fmt[1] - '0';
		fmt += 2;
	}
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	flags = spin_lock_irqsave(&console_lock);
	log_ring_store(buf, n);
	if (level < console_loglevel) {
		if (!quiet)
			log_store(buf, n);
		emit(buf, n, quiet ? CON_RAW_CHANNEL : 0);
	}
	spin_unlock_irqrestore(&console_lock, flags);
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

int printk_raw(const char *fmt, ...)
{
	char buf[PRINTK_BUF];
	va_list ap;
	uint64_t flags;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	flags = spin_lock_irqsave(&console_lock);
	emit(buf, n, CON_RAW_CHANNEL);
	spin_unlock_irqrestore(&console_lock, flags);
	return n;
}

void console_lock_for_panic(void)
{
	/* Another CPU (or this one, if the panic came from inside a console)
	 * may hold it and never let go: the panic message matters more. */
	WRITE_ONCE(console_lock.holder, -1);
	atomic_store(&console_lock.serving, atomic_load(&console_lock.next));
}
