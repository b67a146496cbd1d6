/* A recording console for tests: see include/pagoda/ktest_console.h. It
 * takes the raw channel too (printk is quiet on the other consoles while
 * the self-tests run), so the KTAP lines printed meanwhile are in it. */
#include <pagoda/ktest_console.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>

#define RECORD_SIZE 4096

static char record[RECORD_SIZE];
static size_t record_len;

static void record_write(struct console *con, const char *s, size_t n)
{
	n = MIN(n, RECORD_SIZE - 1 - record_len);
	memcpy(record + record_len, s, n);
	record_len += n;
	record[record_len] = '\0';
}

static struct console recorder = { .name = "ktest", .write = record_write,
				   .flags = CON_RAW_CHANNEL };

void ktest_console_start(void)
{
	record_len = 0;
	record[0] = '\0';
	console_register(&recorder);
}

void ktest_console_stop(void)
{
	console_unregister(&recorder);
}

const char *ktest_console_text(void)
{
	return record;
}

unsigned int ktest_console_count(const char *needle)
{
	size_t n = strlen(needle);
	unsigned int count = 0;

	for (size_t i = 0; n && i + n <= record_len; i++)
		if (memcmp(record + i, needle, n) == 0)
			count++;
	return count;
}
