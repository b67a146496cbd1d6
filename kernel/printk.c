/* printk: format a message and hand it to every registered console.
 *
 * Consoles: COM1 (drivers/serial.c), the test channel, flagged
 * CON_RAW_CHANNEL; and the framebuffer text console (drivers/fbcon.c).
 * One CPU for now: interrupts are disabled while a message is written so
 * that a message from an interrupt handler never lands in the middle of
 * another one. */
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/x86.h>

#define PRINTK_BUF 512
#define DEFAULT_LOGLEVEL 7 /* print levels 0..6: everything but debug */

static struct console *consoles; /* guarded by disabling interrupts */
static int console_loglevel = DEFAULT_LOGLEVEL;

void console_register(struct console *con)
{
	uint64_t flags = irq_save();
	struct console **pp = &consoles;

	while (*pp)
		pp = &(*pp)->next;
	con->next = NULL;
	*pp = con;
	irq_restore(flags);
}

void console_unregister(struct console *con)
{
	uint64_t flags = irq_save();

	for (struct console **pp = &consoles; *pp; pp = &(*pp)->next) {
		if (*pp == con) {
			*pp = con->next;
			break;
		}
	}
	irq_restore(flags);
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
	if (level >= console_loglevel)
		return n;
	flags = irq_save();
	emit(buf, n, 0);
	irq_restore(flags);
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
	flags = irq_save();
	emit(buf, n, CON_RAW_CHANNEL);
	irq_restore(flags);
	return n;
}
