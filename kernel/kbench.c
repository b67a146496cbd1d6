/* Running the in-kernel microbenchmarks. Each reports TSC cycles per
 * operation: the median of several runs, so one timer interrupt in the
 * middle of a run does not decide the figure. */
#include <pagoda/cmdline.h>
#include <pagoda/kbench.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/timer.h>

extern const struct kbench *const __kbench_start[];
extern const struct kbench *const __kbench_end[];

#define KBENCH_RUNS 5

static bool selected(const char *filter, const char *name)
{
	return !filter || !*filter || strcmp(filter, "all") == 0 || cmdline_list_has(filter, name);
}

static uint64_t median(uint64_t *v, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++)
		for (unsigned int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t tmp = v[j];
			v[j] = v[j - 1];
			v[j - 1] = tmp;
		}
	return v[n / 2];
}

static void run_one(const struct kbench *b)
{
	uint64_t runs[KBENCH_RUNS], per_op, hz = tsc_hz();

	for (unsigned int i = 0; i < KBENCH_RUNS; i++) {
		runs[i] = b->run(b->iters);
		if (!runs[i]) {
			printk("kbench: %s: could not run\n", b->name);
			return;
		}
	}
	per_op = median(runs, KBENCH_RUNS) / b->iters;
	printk("kbench: %s: %llu cycles/op (%llu ops, %llu ns/op)\n", b->name,
	       (unsigned long long)per_op, (unsigned long long)b->iters,
	       hz ? (unsigned long long)(per_op * 1000000000ULL / hz) : 0ULL);
}

void kbench_run_all(const char *filter)
{
	for (const struct kbench *const *b = __kbench_start; b < __kbench_end; b++)
		if (selected(filter, (*b)->name))
			run_one(*b);
}
