/* String formatting (lib/format.c): the kernel's vsnprintf, with the
 * conversions listed there. No kernel state: printk and everything else
 * that formats build on these. */
#ifndef PAGODA_FORMAT_H
#define PAGODA_FORMAT_H

#include <stdarg.h>
#include <pagoda/compiler.h>
#include <pagoda/types.h>

/* C99's vsnprintf/snprintf: at most size bytes written, NUL included;
 * returns the length the whole output would have had. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);

#endif
