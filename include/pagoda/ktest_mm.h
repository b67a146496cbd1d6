/* Helpers for self-tests that need an address space (mm/ktest_mm.c). */
#ifndef PAGODA_KTEST_MM_H
#define PAGODA_KTEST_MM_H

#include <pagoda/ktest.h>
#include <pagoda/mm.h>

typedef void (*mm_body_fn)(struct ktest *t, struct mm_struct *mm);

/* Run body in a fresh mm (the active one when activate), then reset the
 * forced-OOM hooks, destroy the mm and fail the case if any frame leaked.
 * A body may return early (KASSERT): the teardown still runs. */
void ktest_run_in_mm(struct ktest *t, mm_body_fn body, bool activate);

/* Free frames once kmalloc has given back its spare empty slabs. */
uint64_t ktest_free_frames(void);

/* MM_CASE(name) { ... }: a case whose body runs in an active fresh mm. */
#define MM_CASE(name)                                                          \
	static void name##_body(struct ktest *t, struct mm_struct *mm);        \
	static void name(struct ktest *t) { ktest_run_in_mm(t, name##_body, true); } \
	static void name##_body(struct ktest *t, struct mm_struct *mm)

#endif
