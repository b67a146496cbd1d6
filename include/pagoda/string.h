/* The freestanding C string functions the kernel needs (lib in lib/string.c). */
#ifndef PAGODA_STRING_H
#define PAGODA_STRING_H

#include <pagoda/types.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);

/* Parse an unsigned integer in base 10, or 16 with a 0x prefix (base 0).
 * Stores the first unparsed character in *end. Returns 0 or -EINVAL when no
 * digit was read, -ERANGE on overflow. */
int kstrtou64_prefix(const char *s, const char **end, uint64_t *out);

#endif
