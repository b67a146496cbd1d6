/* The 16550 UART on COM1: the kernel log and the KTAP test channel.
 * Register layout: the PC16550D data sheet (offsets from the base port). */
#include <pagoda/printk.h>
#include <pagoda/serial.h>
#include <asm/x86.h>

#define COM1_BASE 0x3f8
#define UART_THR 0 /* transmit holding (write), DLAB=0 */
#define UART_DLL 0 /* divisor latch low, DLAB=1 */
#define UART_IER 1 /* interrupt enable, DLAB=0 */
#define UART_DLM 1 /* divisor latch high, DLAB=1 */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_MSR 6 /* modem status */
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS_OUT2 0x0b
#define MCR_LOOP 0x10           /* outputs wired back to the inputs */
#define MCR_LOOP_OUT2_RTS 0x1a  /* loopback with OUT2 and RTS raised... */
#define MSR_DCD_CTS 0x90        /* ...read back as DCD and CTS */
#define MSR_INPUTS 0xf0
#define LSR_THR_EMPTY 0x20
#define BAUD_DIVISOR 1 /* 115200 / 1 */
#define TX_SPIN_LIMIT 100000

static void serial_putc(char c)
{
	for (int i = 0; i < TX_SPIN_LIMIT; i++)
		if (inb(COM1_BASE + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1_BASE + UART_THR, c);
}

static void serial_write(struct console *con, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

static struct console serial_console = {
	.name = "ttyS0",
	.write = serial_write,
	.flags = CON_RAW_CHANNEL,
};

/* Is there a 16550 at COM1? Most laptops have none, and then the ports
 * read as all ones, or as anything. Linux's autoconfig() (drivers/tty/
 * serial/8250/8250_port.c) asks two questions, and so do we: does the
 * interrupt-enable register keep what is written to its low four bits,
 * and in loopback mode do the modem-control outputs come back as the
 * modem-status inputs? Both leave the registers as they were. */
static bool uart_detect(void)
{
	uint8_t ier = inb(COM1_BASE + UART_IER), mcr = inb(COM1_BASE + UART_MCR);
	uint8_t zero, ones, status;

	outb(COM1_BASE + UART_IER, 0);
	zero = inb(COM1_BASE + UART_IER) & 0x0f;
	outb(COM1_BASE + UART_IER, 0x0f);
	ones = inb(COM1_BASE + UART_IER) & 0x0f;
	outb(COM1_BASE + UART_IER, ier);
	if (zero != 0 || ones != 0x0f)
		return false;
	outb(COM1_BASE + UART_MCR, MCR_LOOP_OUT2_RTS);
	status = inb(COM1_BASE + UART_MSR) & MSR_INPUTS;
	outb(COM1_BASE + UART_MCR, mcr);
	return status == MSR_DCD_CTS;
}

void serial_init(void)
{
	/* Without a UART every character would wait for a transmitter that
	 * never empties: no serial console then, the screen carries the log. */
	if (!uart_detect())
		return;
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, LCR_DLAB);
	outb(COM1_BASE + UART_DLL, BAUD_DIVISOR & 0xff);
	outb(COM1_BASE + UART_DLM, BAUD_DIVISOR >> 8);
	outb(COM1_BASE + UART_LCR, LCR_8N1);
	outb(COM1_BASE + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1_BASE + UART_MCR, MCR_DTR_RTS_OUT2);
	console_register(&serial_console);
}
