/* kbench: in-kernel microbenchmarks measured with the TSC (kernel/kbench.c).
 * They run only when the command line says kbench (make bench does), after
 * the self-tests, and report figures; nothing is asserted about them. */
#ifndef PAGODA_KBENCH_H
#define PAGODA_KBENCH_H

#include <pagoda/compiler.h>
#include <pagoda/types.h>

struct kbench {
	const char *name;
	/* Run the measured operation iters times; return the TSC cycles the
	 * whole run took (kbench divides), or 0 if it could not run. */
	uint64_t (*run)(uint64_t iters);
	uint64_t iters;
};

#define KBENCH(fn, n)                                                          \
	static const struct kbench __kbench_##fn = { #fn, fn, n };            \
	static const struct kbench *__kbench_ptr_##fn __used                   \
		__section(".kbench") = &__kbench_##fn

/* Run the benchmarks named in filter (comma-separated; "" or "all": all)
 * and print one line each: "kbench: NAME: C cycles/op (N ops, T ns/op)". */
void kbench_run_all(const char *filter);

#endif
