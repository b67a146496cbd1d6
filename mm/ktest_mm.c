/* Test helpers: a fresh address space per case, with a leak check. */
#include <pagoda/ktest_mm.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/uaccess.h>
#include <pagoda/vma.h>

static uint8_t page_buf[PAGE_SIZE];

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

int ktest_user_fill(uintptr_t addr, size_t len, uint8_t byte)
{
	memset(page_buf, byte, sizeof(page_buf));
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		int ret = copy_to_user((void *)(addr + off), page_buf, MIN(len - off, PAGE_SIZE));
		if (ret)
			return ret;
	}
	return 0;
}

int ktest_user_all(uintptr_t addr, size_t len, uint8_t byte)
{
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		size_t n = MIN(len - off, PAGE_SIZE);
		int ret = copy_from_user(page_buf, (const void *)(addr + off), n);
		if (ret)
			return ret;
		for (size_t i = 0; i < n; i++)
			if (page_buf[i] != byte)
				return 0;
	}
	return 1;
}

int ktest_put_word(struct mm_struct *mm, uintptr_t va, uint64_t v)
{
	mm_switch(mm);
	return copy_to_user((void *)va, &v, sizeof(v));
}

uint64_t ktest_get_word(struct mm_struct *mm, uintptr_t va)
{
	uint64_t v = 0xdeadbeefdeadbeefULL;

	mm_switch(mm);
	if (copy_from_user(&v, (const void *)va, sizeof(v)) < 0)
		return KTEST_BAD_WORD;
	return v;
}

void ktest_expect_vma_at(struct ktest *t, const char *file, int line, struct mm_struct *mm,
			 uintptr_t addr, uintptr_t start, uintptr_t end)
{
	struct vm_area_struct *v = vma_lookup(mm, addr);

	if (!v)
		ktest_fail(t, file, line, "no VMA at %#lx, expected [%#lx, %#lx)",
			   (unsigned long)addr, (unsigned long)start, (unsigned long)end);
	else if (v->vm_start != start || v->vm_end != end)
		ktest_fail(t, file, line, "VMA at %#lx is [%#lx, %#lx), expected [%#lx, %#lx)",
			   (unsigned long)addr, (unsigned long)v->vm_start, (unsigned long)v->vm_end,
			   (unsigned long)start, (unsigned long)end);
}
