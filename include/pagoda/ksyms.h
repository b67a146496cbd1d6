/* The kernel's own symbol table, for backtraces (kernel/ksyms.c; the table
 * is generated at link time by scripts/ksyms.py). */
#ifndef PAGODA_KSYMS_H
#define PAGODA_KSYMS_H

#include <pagoda/types.h>

/* The name of the function containing addr and addr's offset into it, or
 * NULL if addr is outside the kernel's text. */
const char *ksyms_lookup(uintptr_t addr, uintptr_t *offset);

/* The address of the function called name, or 0. */
uintptr_t ksyms_address(const char *name);

#endif
