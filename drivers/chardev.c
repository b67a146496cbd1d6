/* Character devices: /dev/console (and /dev/tty), /dev/null, /dev/zero,
 * /dev/random and /dev/urandom.
 *
 * The console writes through printk (every registered console: COM1 and
 * the framebuffer) and reads from COM1 by polling, once per timer tick
 * while nothing is there. A tiny line discipline sits on the input:
 * in canonical mode (ICANON, the default) input is echoed and handed out
 * a line at a time, with backspace, ^U, ^D and ^C; in raw mode (what a
 * shell's line editor asks for through TCSETS) bytes go out as they come. */
#include <pagoda/compiler.h>
#include <pagoda/errno.h>
#include <pagoda/fbcon.h>
#include <pagoda/poll.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/timer.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <asm/x86.h>

/* The 16550 UART's receive side (National Semiconductor PC16550D data
 * sheet, "Line Status Register"). */
#define COM1_BASE 0x3f8
#define UART_RBR 0     /* receive buffer, DLAB=0 */
#define UART_LSR 5
#define LSR_DATA_READY 0x01

#define DEV(major, minor) ((uint32_t)(major) << 8 | (minor))

/* Linux's struct termios for TCGETS/TCSETS (include/uapi/asm-generic/
 * termbits.h): 36 bytes, not glibc's larger struct. */
#define NCCS 19
struct termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[NCCS];
};
BUILD_BUG_ON(sizeof(struct termios) != 36);

struct winsize {
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

#define TCGETS 0x5401
#define TCSETS 0x5402
#define TCSETSW 0x5403
#define TCSETSF 0x5404
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414

#define ICRNL 0000400
#define IXON 0002000
#define OPOST 0000001
#define ONLCR 0000004
#define ISIG 0000001
#define ICANON 0000002
#define ECHO 0000010
#define ECHOE 0000020
#define ECHOK 0000040
#define ECHOCTL 0001000
#define ECHOKE 0004000
#define IEXTEN 0100000
#define VINTR 0
#define VERASE 2
#define VKILL 3
#define VEOF 4
#define VTIME 5
#define VMIN 6

/* Linux's tty_std_termios: 38400 8N1, canonical, echoing. */
static struct termios console_termios = {
	.c_iflag = ICRNL | IXON,
	.c_oflag = OPOST | ONLCR,
	.c_cflag = 0000017 | 0000060 | 0000200 | 0002000, /* B38400 CS8 CREAD HUPCL */
	.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
	.c_cc = "\003\034\177\025\004\0\1\0\021\023\032\0\022\017\027\026\0",
};

/* The line being typed, in canonical mode. */
static char line[256];
static size_t line_len;
static bool line_done; /* a newline or ^D ended it: readers may take it */

/* Write bytes to every console, as they are: printk at the emergency
 * level (always shown, no prefix printed) in chunks, skipping NULs, which
 * "%.*s" would stop at. */
static void console_write_raw(const char *s, size_t n)
{
	while (n) {
		size_t chunk = strnlen(s, MIN(n, (size_t)256));
		if (chunk)
			printk(KERN_EMERG "%.*s", (int)chunk, s);
		else
			chunk = 1;
		s += chunk;
		n -= chunk;
	}
}

/* The next input byte, waiting a tick at a time for one; or -EAGAIN,
 * -EINTR. */
static int console_getc(struct file *f)
{
	for (;;) {
		if (inb(COM1_BASE + UART_LSR) & LSR_DATA_READY)
			return inb(COM1_BASE + UART_RBR);
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (signal_pending(current))
			return -EINTR;
		/* the UART is polled per tick */
		task_sleep_until_ns(clock_monotonic_ns() + NSEC_PER_SEC / TIMER_HZ);
	}
}

static void echo(const char *s, size_t n)
{
	if (console_termios.c_lflag & ECHO)
		console_write_raw(s, n);
}

/* Feed one byte to the canonical line: returns -EINTR after ^C. */
static int line_feed(char c)
{
	const uint8_t *cc = console_termios.c_cc;

	if ((console_termios.c_lflag & ISIG) && c == cc[VINTR]) {
		line_len = 0;
		echo("^C\n", 3);
		if (current && current->mm)
			task_send_signal(current, SIGINT);
		return -EINTR;
	}
	if (c == cc[VERASE] || c == '\b') {
		if (line_len) {
			line_len--;
			echo("\b \b", 3);
		}
	} else if (c == cc[VKILL]) {
		for (; line_len; line_len--)
			echo("\b \b", 3);
	} else if (c == cc[VEOF]) {
		line_done = true;
	} else if (line_len < sizeof(line)) {
		line[line_len++] = c;
		echo(&c, 1);
		line_done = c == '\n' || line_len == sizeof(line);
	}
	return 0;
}

/* Hand out up to n bytes of the finished line. */
static size_t line_take(char *buf, size_t n)
{
	n = MIN(n, line_len);
	memcpy(buf, line, n);
	memmove(line, line + n, line_len - n);
	line_len -= n;
	if (!line_len)
		line_done = false;
	return n;
}

static ssize_t console_read_canon(struct file *f, char *buf, size_t n)
{
	while (!line_done) {
		int c = console_getc(f);
		if (c < 0)
			return c;
		if (c == '\r' && (console_termios.c_iflag & ICRNL))
			c = '\n';
		c = line_feed(c);
		if (c < 0)
			return c;
	}
	return line_take(buf, n);
}

/* Raw: wait for the first byte (unless VMIN is 0), then take what is there. */
static ssize_t console_read_raw(struct file *f, char *buf, size_t n)
{
	bool wait = console_termios.c_cc[VMIN] != 0;
	size_t done = 0;

	while (done < n) {
		int c = -EAGAIN;

		if (!done && wait)
			c = console_getc(f);
		else if (inb(COM1_BASE + UART_LSR) & LSR_DATA_READY)
			c = inb(COM1_BASE + UART_RBR);
		if (c < 0) {
			if (done)
				break;
			return c == -EAGAIN && !(f->flags & O_NONBLOCK) ? 0 : c;
		}
		if (c == '\r' && (console_termios.c_iflag & ICRNL))
			c = '\n';
		buf[done++] = c;
	}
	echo(buf, done);
	return done;
}

static ssize_t console_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	if (!n)
		return 0;
	if (console_termios.c_lflag & ICANON)
		return console_read_canon(f, buf, n);
	return console_read_raw(f, buf, n);
}

static ssize_t console_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	console_write_raw(buf, n);
	return n;
}

static long console_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct winsize ws = { 0 };
	struct termios tio;
	unsigned int cols, rows;

	switch (cmd) {
	case TCGETS:
		return copy_to_user((void *)arg, &console_termios, sizeof(console_termios));
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		if (copy_from_user(&tio, (const void *)arg, sizeof(tio)))
			return -EFAULT;
		console_termios = tio;
		return 0;
	case TIOCGWINSZ:
		fbcon_get_geometry(&cols, &rows);
		ws.ws_col = cols ? cols : 80;
		ws.ws_row = rows ? rows : 25;
		return copy_to_user((void *)arg, &ws, sizeof(ws));
	case TIOCSWINSZ:
		return 0;
	default:
		return -ENOTTY;
	}
}

/* A terminal is a stream: no position. */
static int64_t console_llseek(struct file *f, int64_t off, int whence)
{
	return -ESPIPE;
}

/* /dev/null and /dev/zero stay at position 0, as Linux's do. */
static int64_t null_llseek(struct file *f, int64_t off, int whence)
{
	f->pos = 0;
	return 0;
}

static ssize_t null_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	return 0;
}

static ssize_t null_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	return n;
}

static ssize_t zero_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	memset(buf, 0, n);
	return n;
}

/* Not a cryptographic generator: xorshift64*, seeded from the TSC. Enough
 * for programs that want varied seeds, not for keys. */
static ssize_t random_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	static uint64_t state;

	if (!state)
		state = rdtsc() | 1;
	for (size_t i = 0; i < n; i++) {
		state ^= state >> 12;
		state ^= state << 25;
		state ^= state >> 27;
		((uint8_t *)buf)[i] = (state * 0x2545f4914f6cdd1dULL) >> 56;
	}
	return n;
}

/* Readable when a line is ready (or, raw, a byte is at the UART): the
 * input is polled per tick, so a poller looks again each tick. Always
 * writable. */
static unsigned int console_poll(struct file *f, struct poll_table *pt)
{
	unsigned int mask = POLLOUT | POLLWRNORM;

	poll_tick(pt);
	if (line_done || (inb(COM1_BASE + UART_LSR) & LSR_DATA_READY))
		mask |= POLLIN | POLLRDNORM;
	return mask;
}

static const struct file_operations console_fops = {
	.poll = console_poll,
	.read = console_read,
	.write = console_write,
	.llseek = console_llseek,
	.ioctl = console_ioctl,
};
static const struct file_operations null_fops = {
	.read = null_read,
	.write = null_write,
	.llseek = null_llseek,
	.never_blocks = true,
	.discards_writes = true,
};
static const struct file_operations zero_fops = {
	.read = zero_read,
	.write = null_write,
	.llseek = null_llseek,
	.never_blocks = true,
	.discards_writes = true,
};
static const struct file_operations random_fops = {
	.read = random_read,
	.write = null_write,
	.llseek = null_llseek,
	.never_blocks = true,
};

static const struct {
	const char *path;
	uint32_t rdev;
	uint32_t mode;
	const struct file_operations *fops;
} devices[] = {
	{ "/dev/console", DEV(5, 1), 0600, &console_fops },
	{ "/dev/tty", DEV(5, 0), 0666, &console_fops },
	{ "/dev/null", DEV(1, 3), 0666, &null_fops },
	{ "/dev/zero", DEV(1, 5), 0666, &zero_fops },
	{ "/dev/random", DEV(1, 8), 0666, &random_fops },
	{ "/dev/urandom", DEV(1, 9), 0666, &random_fops },
};

const struct file_operations *chardev_fops(uint32_t rdev)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		if (devices[i].rdev == rdev)
			return devices[i].fops;
	return NULL;
}

int chardev_init(void)
{
	int err, ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		err = vfs_mknod_rdev(devices[i].path, S_IFCHR | devices[i].mode, devices[i].rdev,
				     devices[i].fops, NULL);
		if (err && err != -EEXIST)
			ret = err;
	}
	return ret;
}
