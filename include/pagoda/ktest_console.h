/* A console that records what printk() prints, for tests of messages
 * (kernel/ktest_console.c). */
#ifndef PAGODA_KTEST_CONSOLE_H
#define PAGODA_KTEST_CONSOLE_H

#include <pagoda/types.h>

/* Start recording (clearing what was recorded); stop. One recording at
 * a time; it keeps the first 4 KiB. */
void ktest_console_start(void);
void ktest_console_stop(void);

/* The text recorded so far (NUL-terminated), and how many times needle
 * occurs in it. */
const char *ktest_console_text(void);
unsigned int ktest_console_count(const char *needle);

#endif
