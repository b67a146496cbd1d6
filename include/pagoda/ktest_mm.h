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

/* User memory of the active mm, through copy_to_user()/copy_from_user()
 * (so pages fault in as a process's accesses would). ktest_user_fill()
 * writes byte over [addr, addr + len): 0 or -EFAULT. ktest_user_all()
 * reads it back: 1 if every byte is byte, 0 if one is not, -EFAULT. */
int ktest_user_fill(uintptr_t addr, size_t len, uint8_t byte);
int ktest_user_all(uintptr_t addr, size_t len, uint8_t byte);

/* One word of mm's memory, which becomes the active address space, read
 * or written through the #PF path as a process's access would be.
 * ktest_put_word() returns 0 or -EFAULT; ktest_get_word() the word, or
 * KTEST_BAD_WORD if the read faulted. */
#define KTEST_BAD_WORD 0xbadbadbadbadULL
int ktest_put_word(struct mm_struct *mm, uintptr_t va, uint64_t v);
uint64_t ktest_get_word(struct mm_struct *mm, uintptr_t va);

/* Fail the case unless the VMA at addr covers exactly [start, end). */
void ktest_expect_vma_at(struct ktest *t, const char *file, int line, struct mm_struct *mm,
			 uintptr_t addr, uintptr_t start, uintptr_t end);
#define ktest_expect_vma(t, mm, addr, start, end)                              \
	ktest_expect_vma_at(t, __FILE__, __LINE__, mm, addr, start, end)

/* MM_CASE(name) { ... }: a case whose body runs in an active fresh mm. */
#define MM_CASE(name)                                                          \
	static void name##_body(struct ktest *t, struct mm_struct *mm);        \
	static void name(struct ktest *t) { ktest_run_in_mm(t, name##_body, true); } \
	static void name##_body(struct ktest *t, struct mm_struct *mm)

#endif
