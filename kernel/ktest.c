/* ktest: run the self-test suites and print KTAP version 1.
 *
 * The stream goes to the raw channel (COM1) only; make test reads it there.
 * The framebuffer gets the failures and a one-line summary, so that a run on
 * a real machine is readable without a serial cable. */
#include <stdarg.h>
#include <pagoda/cmdline.h>
#include <pagoda/ktest.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>

extern const struct ktest_suite *const __ktest_suites_start[];
extern const struct ktest_suite *const __ktest_suites_end[];

#define KTAP_INDENT "    "

void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->status = KTEST_FAIL;
	if (t->quiet)
		return;
	printk_raw(KTAP_INDENT "# %s: EXPECTATION FAILED at %s:%d\n", t->name, file, line);
	printk_raw(KTAP_INDENT "# %s\n", msg);
	/* The screen shows failures even while the tests keep it quiet. */
	bool was_quiet = printk_set_quiet(false);
	printk(KERN_ERR "ktest: %s FAILED at %s:%d: %s\n", t->name, file, line, msg);
	printk_set_quiet(was_quiet);
}

void ktest_skip(struct ktest *t, const char *reason)
{
	if (t->status != KTEST_FAIL)
		t->status = KTEST_SKIP;
	strlcpy(t->skip_reason, reason, sizeof(t->skip_reason));
}

void ktest_log(struct ktest *t, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (t->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk_raw(KTAP_INDENT "# %s: %s\n", t->name, msg);
}

static bool suite_selected(const char *filter, const struct ktest_suite *s)
{
	return !filter || !*filter || strcmp(filter, "all") == 0 || cmdline_list_has(filter, s->name);
}

struct ktest_counts {
	unsigned int pass, fail, skip;
};

static void run_case(const struct ktest_case *c, unsigned int n, struct ktest_counts *cnt)
{
	struct ktest t = { .name = c->name, .status = KTEST_PASS };

	c->run(&t);
	switch (t.status) {
	case KTEST_PASS:
		printk_raw(KTAP_INDENT "ok %u %s\n", n, c->name);
		cnt->pass++;
		break;
	case KTEST_SKIP:
		printk_raw(KTAP_INDENT "ok %u %s # SKIP %s\n", n, c->name, t.skip_reason);
		cnt->skip++;
		break;
	case KTEST_FAIL:
		printk_raw(KTAP_INDENT "not ok %u %s\n", n, c->name);
		cnt->fail++;
		break;
	}
}

static void run_suite(const struct ktest_suite *s, unsigned int n, struct ktest_counts *total)
{
	struct ktest_counts cnt = { 0 };

	printk_raw(KTAP_INDENT "KTAP version 1\n");
	printk_raw(KTAP_INDENT "# Subtest: %s\n", s->name);
	printk_raw(KTAP_INDENT "1..%zu\n", s->nr_cases);
	for (size_t i = 0; i < s->nr_cases; i++)
		run_case(&s->cases[i], i + 1, &cnt);
	printk_raw("# %s: pass:%u fail:%u skip:%u total:%zu\n", s->name, cnt.pass, cnt.fail,
		   cnt.skip, s->nr_cases);
	printk_raw("%s %u %s\n", cnt.fail ? "not ok" : "ok", n, s->name);
	total->pass += cnt.pass;
	total->fail += cnt.fail;
	total->skip += cnt.skip;
}

/* The totals of the last ktest_run_all(); written once, at boot. */
static struct ktest_counts last_run;
static bool ran;

void ktest_print_summary(void)
{
	if (!ran)
		return;
	printk(last_run.fail ? KERN_ERR "ktest: %u passed, %u failed, %u skipped\n"
			     : KERN_INFO "ktest: %u passed, %u failed, %u skipped\n",
	       last_run.pass, last_run.fail, last_run.skip);
}

int ktest_run_all(const char *filter, unsigned *passed, unsigned *failed, unsigned *skipped)
{
	struct ktest_counts total = { 0 };
	unsigned int nr = 0, n = 0;

	for (const struct ktest_suite *const *s = __ktest_suites_start; s < __ktest_suites_end; s++)
		nr += suite_selected(filter, *s);
	printk("ktest: running %u suites (results on the serial port)\n", nr);
	bool was_quiet = printk_set_quiet(true);

	printk_raw("KTAP version 1\n");
	printk_raw("1..%u\n", nr);
	for (const struct ktest_suite *const *s = __ktest_suites_start; s < __ktest_suites_end; s++)
		if (suite_selected(filter, *s))
			run_suite(*s, ++n, &total);
	printk_raw("# Totals: pass:%u fail:%u skip:%u total:%u\n", total.pass, total.fail,
		   total.skip, total.pass + total.fail + total.skip);
	printk_set_quiet(was_quiet);
	last_run = total;
	ran = true;
	*passed = total.pass;
	*failed = total.fail;
	*skipped = total.skip;
	return total.fail;
}
