/* The runtime of the undefined-behaviour sanitizer (kernel/ubsan.c).
 *
 * make UBSAN=1 builds the kernel with -fsanitize=undefined: the compiler
 * adds a check before each operation whose result C leaves undefined
 * (signed overflow, a shift past the width, an index out of an array's
 * bounds, a misaligned or null pointer, an invalid bool or enum load...)
 * and calls a __ubsan_handle_* function when it fails. Ours print one
 * line per report, "UBSAN: what at file:line:column", which makes
 * scripts/ktap.py fail the boot, and carry on. */
#ifndef PAGODA_UBSAN_H
#define PAGODA_UBSAN_H

#include <pagoda/types.h>

/* Reports so far (not counting the ones a test expected). */
unsigned int ubsan_reports(void);

/* Is the kernel built with the sanitizer? */
bool ubsan_enabled(void);

/* For the self-test: while expecting, reports are counted in *count and
 * printed as KTAP diagnostics, not as failures. */
void ubsan_expect(unsigned int *count);
void ubsan_expect_end(void);

#endif
