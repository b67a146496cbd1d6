/* Tests of the printk log ring (what pg-dmesg prints from a debugger).
 * The messages are KERN_DEBUG: the default console log level hides them,
 * so the serial log stays readable, and the ring must keep them anyway. */
#include <pagoda/ktest.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>

#define RING 16384 /* LOG_RING_SIZE in kernel/printk.c */

static char ring[RING + 64];

/* Does the ring's content end with s? */
static bool ring_ends_with(const char *s)
{
	size_t n = printk_ring_read(ring, RING), len = strlen(s);

	return n >= len && memcmp(ring + n - len, s, len) == 0;
}

static void printk_ring_ends_with_the_last_message(struct ktest *t)
{
	printk(KERN_DEBUG "printk_test: marker %d\n", 4242);
	KEXPECT_TRUE(t, ring_ends_with("printk_test: marker 4242\n"));
}

static void printk_ring_keeps_messages_the_console_level_hides(struct ktest *t)
{
	printk(KERN_DEBUG "printk_test: hidden %s\n", "debug");
	printk(KERN_DEBUG "printk_test: second\n");
	KEXPECT_TRUE(t, ring_ends_with("printk_test: hidden debug\nprintk_test: second\n"));
}

/* 40 bytes per line, numbered: after more than the ring's size, the ring
 * is exactly the newest RING bytes, whole lines in order with no gap. */
static void printk_ring_wraps_keeping_the_newest_bytes_in_order(struct ktest *t)
{
	const unsigned int lines = RING / 40 + 100;
	char want[48];
	size_t n;

	for (unsigned int i = 0; i < lines; i++)
		printk(KERN_DEBUG "printk_test: wrap line %08u .......\n", i);
	n = printk_ring_read(ring, sizeof(ring));
	KASSERT_EQ(t, n, (size_t)RING);
	snprintf(want, sizeof(want), "printk_test: wrap line %08u .......\n", lines - 1);
	KEXPECT_EQ(t, memcmp(ring + RING - 40, want, 40), 0);
	/* The oldest whole line is RING / 40 lines back: 16384 = 409 * 40 + 24,
	 * so the ring starts with the last 24 bytes of line lines - 410. */
	snprintf(want, sizeof(want), "printk_test: wrap line %08u .......\n", lines - 410);
	KEXPECT_EQ(t, memcmp(ring, want + 16, 24), 0);
	snprintf(want, sizeof(want), "printk_test: wrap line %08u .......\n", lines - 409);
	KEXPECT_EQ(t, memcmp(ring + 24, want, 40), 0);
}

static void printk_ring_read_into_a_small_buffer_gets_the_newest_bytes(struct ktest *t)
{
	char small[8];

	printk(KERN_DEBUG "printk_test: 0123456789\n");
	KASSERT_EQ(t, printk_ring_read(small, sizeof(small)), sizeof(small));
	KEXPECT_EQ(t, memcmp(small, "3456789\n", 8), 0);
	KEXPECT_EQ(t, printk_ring_read(small, 0), (size_t)0);
}

static const struct ktest_case printk_cases[] = {
	KTEST_CASE(printk_ring_ends_with_the_last_message),
	KTEST_CASE(printk_ring_keeps_messages_the_console_level_hides),
	KTEST_CASE(printk_ring_wraps_keeping_the_newest_bytes_in_order),
	KTEST_CASE(printk_ring_read_into_a_small_buffer_gets_the_newest_bytes),
};
KTEST_SUITE(printk, printk_cases);
