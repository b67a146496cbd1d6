/* Kernel stacks for tasks (mm/kstack.c): KSTACK_SIZE of memory mapped in
 * a slot of the kstack area, with the page below left unmapped, so that a
 * kernel stack overflow faults at once instead of corrupting a neighbour. */
#ifndef PAGODA_KSTACK_H
#define PAGODA_KSTACK_H

#include <pagoda/types.h>

/* Create the area's page-table root entry (at boot, before any mm). */
int kstack_init(void);

/* A new stack; returns its top (the initial RSP), or 0 when out of memory
 * or slots (nothing is left allocated then). */
uintptr_t kstack_alloc(void);

/* Free the stack whose top is top. */
void kstack_free(uintptr_t top);

#endif
