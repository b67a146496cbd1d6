/* Test helpers: a fresh address space per case, with a leak check. */
#include <pagoda/ktest_mm.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>

uint64_t ktest_free_frames(void)
{
	kmalloc_shrink();
	return pmm_free_pages();
}

void ktest_run_in_mm(struct ktest *t, mm_body_fn body, bool activate)
{
	uint64_t before = ktest_free_frames(), after;
	struct mm_struct *mm = mm_create();

	if (!mm) {
		ktest_fail(t, __FILE__, __LINE__, "mm_create() returned NULL");
		return;
	}
	if (activate)
		mm_switch(mm);
	body(t, mm);
	pmm_fail_next(0);
	pmm_fail_after(PMM_NO_FAIL);
	if (activate)
		mm_switch(NULL);
	mm_destroy(mm);
	after = ktest_free_frames();
	if (after != before)
		ktest_fail(t, __FILE__, __LINE__, "%lld frames leaked by the case",
			   (long long)before - (long long)after);
}
