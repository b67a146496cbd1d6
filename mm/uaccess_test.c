/* Tests of the user-copy helpers (mm/uaccess.c).
 *
 * Each case runs in a fresh address space made active with mm_switch(), so
 * that the copies fault through the real #PF path and its exception-table
 * fixups. A pointer that access_ok() must reject is checked to fail with
 * no fault taken at all (last_fixup.count unchanged): a copy that reached
 * the memory would have faulted or, for a kernel address, succeeded. Every
 * case ends by checking that pmm_free_pages() is back where it started. */
#include <asm/cpu.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <asm/uaccess.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <asm/trap.h>
#include <pagoda/uaccess.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

#define BASE 0x0000100000000000UL /* 16 TiB */
#define P PAGE_SIZE
#define CR4_SMEP_BIT (1UL << 20) /* Intel SDM Vol. 3A, 2.5 (CR4) */
#define CR4_SMAP_BIT (1UL << 21)

static long map_anon(struct mm_struct *mm, uintptr_t addr, size_t len, int prot)
{
	return do_mmap(mm, addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
}

static bool mapped(struct mm_struct *mm, uintptr_t va)
{
	struct pt_lookup_result r;

	return pt_lookup(mm->pgd, va, &r) == 0;
}

static void *uptr(uintptr_t va) { return (void *)va; }


MM_CASE(uaccess_round_trip_across_page_boundary)
{
	enum { LEN = 6000, OFF = P - 1000 };
	uint8_t *in = kmalloc(LEN, GFP_KERNEL), *out = kzalloc(LEN, GFP_KERNEL);
	uint64_t w;

	if (!in || !out) {
		ktest_fail(t, __FILE__, __LINE__, "no buffers");
		goto out;
	}
	for (int i = 0; i < LEN; i++)
		in[i] = (uint8_t)(i * 7 + 3);
	KEXPECT_EQ(t, map_anon(mm, BASE, 3 * P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, copy_to_user(uptr(BASE + OFF), in, LEN), 0);
	KEXPECT_EQ(t, copy_from_user(out, uptr(BASE + OFF), LEN), 0);
	KEXPECT_EQ(t, memcmp(in, out, LEN), 0);
	/* Bytes on each side of the boundary landed where they belong. */
	KEXPECT_EQ(t, copy_from_user(&w, uptr(BASE + P - 4), sizeof(w)), 0);
	KEXPECT_EQ(t, memcmp(&w, in + (P - 4 - OFF), sizeof(w)), 0);
	KEXPECT_TRUE(t, mapped(mm, BASE) && mapped(mm, BASE + P) && mapped(mm, BASE + 2 * P));
out:
	kfree(in);
	kfree(out);
}

MM_CASE(uaccess_null_pointer_returns_efault)
{
	uint64_t v = 0x1234, w = 0x5678;

	KEXPECT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, copy_from_user(&w, NULL, sizeof(w)), -EFAULT);
	KEXPECT_EQ(t, copy_to_user(NULL, &v, sizeof(v)), -EFAULT);
	KEXPECT_EQ(t, clear_user(NULL, 8), -EFAULT);
	KEXPECT_EQ(t, w, 0x5678);
	KEXPECT_FALSE(t, mapped(mm, 0));
	/* And with no user address space at all (a kernel thread). */
	mm_switch(NULL);
	KEXPECT_EQ(t, copy_from_user(&w, NULL, sizeof(w)), -EFAULT);
	KEXPECT_EQ(t, copy_to_user(NULL, &v, sizeof(v)), -EFAULT);
	mm_switch(mm);
}

static uint64_t kernel_word = 0x6b65726e656cULL;

MM_CASE(uaccess_kernel_address_returns_efault_without_fault)
{
	uint64_t faults = last_fixup.count, v = 0x1111, w = 0x2222;
	uint64_t *heap = kmalloc(sizeof(*heap), GFP_KERNEL);

	KASSERT_NOT_NULL(t, heap);
	*heap = 0x4444;
	KEXPECT_EQ(t, copy_from_user(&w, &kernel_word, sizeof(w)), -EFAULT);
	KEXPECT_EQ(t, copy_to_user(&kernel_word, &v, sizeof(v)), -EFAULT);
	KEXPECT_EQ(t, clear_user(&kernel_word, sizeof(kernel_word)), -EFAULT);
	KEXPECT_EQ(t, copy_to_user(heap, &v, sizeof(v)), -EFAULT);
	KEXPECT_EQ(t, strncpy_from_user((char *)&w, (const char *)heap, 8), -EFAULT);
	KEXPECT_EQ(t, w, 0x2222);
	KEXPECT_EQ(t, kernel_word, 0x6b65726e656cULL);
	KEXPECT_EQ(t, *heap, 0x4444);
	KEXPECT_EQ(t, last_fixup.count, faults);
	kfree(heap);
}

MM_CASE(uaccess_non_canonical_address_returns_efault_without_fault)
{
	static const uintptr_t bad[] = { USER_SPACE_END, 0x0000800000001000UL,
					 0x8000000000000000UL, 0xffff7ffffffff000UL };
	uint64_t faults = last_fixup.count, v = 1, w = 2;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		KEXPECT_EQ(t, copy_from_user(&w, uptr(bad[i]), sizeof(w)), -EFAULT);
		KEXPECT_EQ(t, copy_to_user(uptr(bad[i]), &v, sizeof(v)), -EFAULT);
		KEXPECT_EQ(t, clear_user(uptr(bad[i]), 8), -EFAULT);
	}
	/* A range that starts in the user half and crosses USER_SPACE_END. */
	KEXPECT_EQ(t, copy_from_user(&w, uptr(USER_SPACE_END - 4), sizeof(w)), -EFAULT);
	KEXPECT_EQ(t, w, 2);
	KEXPECT_EQ(t, last_fixup.count, faults);
}

/* A length that wraps the address space: the copy must be refused before
 * it touches anything (the source is unmapped, so a copy that started
 * would fault, which the fixup count would show). */
MM_CASE(uaccess_wrapping_range_returns_efault_without_fault)
{
	uintptr_t a = BASE + 3 * P;
	uint64_t faults = last_fixup.count, w = 7;

	KEXPECT_EQ(t, copy_from_user(&w, uptr(a), -a + 16), -EFAULT);
	KEXPECT_EQ(t, copy_to_user(uptr(a), &w, ~(size_t)0), -EFAULT);
	KEXPECT_EQ(t, clear_user(uptr(a), -a), -EFAULT);
	KEXPECT_EQ(t, last_fixup.count, faults);
	KEXPECT_FALSE(t, access_ok(uptr(a), -a + 16));
	KEXPECT_FALSE(t, access_ok(uptr(1), ~(size_t)0));
}

MM_CASE(uaccess_unmapped_hole_in_range_returns_efault)
{
	uint8_t *buf = kzalloc(3 * P, GFP_KERNEL);

	KASSERT_NOT_NULL(t, buf);
	KEXPECT_EQ(t, map_anon(mm, BASE, 3 * P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, do_munmap(mm, BASE + P, P), 0);
	KEXPECT_EQ(t, copy_from_user(buf, uptr(BASE), 3 * P), -EFAULT);
	KEXPECT_EQ(t, copy_to_user(uptr(BASE + 8), buf, 3 * P - 16), -EFAULT);
	KEXPECT_EQ(t, clear_user(uptr(BASE + P - 8), 16), -EFAULT);
	/* The hole stays a hole: no VMA and no page were made for it. */
	KEXPECT_NULL(t, vma_lookup(mm, BASE + P));
	KEXPECT_FALSE(t, mapped(mm, BASE + P));
	/* Each side alone is fine. */
	KEXPECT_EQ(t, copy_from_user(buf, uptr(BASE), P), 0);
	KEXPECT_EQ(t, copy_to_user(uptr(BASE + 2 * P), buf, P), 0);
	kfree(buf);
}

MM_CASE(uaccess_read_only_mapping_rejects_copy_to_user)
{
	uint64_t v = 0x77, w = 0x99;

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ), (long)BASE);
	KEXPECT_EQ(t, copy_to_user(uptr(BASE), &v, sizeof(v)), -EFAULT);
	KEXPECT_EQ(t, clear_user(uptr(BASE), sizeof(v)), -EFAULT);
	KEXPECT_EQ(t, copy_from_user(&w, uptr(BASE), sizeof(w)), 0);
	KEXPECT_EQ(t, w, 0);
	/* The page is present now: the refusal comes from the PTE (CR0.WP). */
	KEXPECT_TRUE(t, mapped(mm, BASE));
	KEXPECT_EQ(t, copy_to_user(uptr(BASE), &v, sizeof(v)), -EFAULT);
	KEXPECT_EQ(t, copy_from_user(&w, uptr(BASE), sizeof(w)), 0);
	KEXPECT_EQ(t, w, 0);
}

/* mprotect(PROT_NONE) on a page that holds data: the kernel must not read
 * it on the process's behalf either (Linux's PROT_NONE PTEs are not
 * present, so the kernel's access faults and the fault path refuses). */
MM_CASE(uaccess_prot_none_page_returns_efault)
{
	uint64_t v = 0x5ec2e7, w = 0;

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KASSERT_EQ(t, copy_to_user(uptr(BASE), &v, sizeof(v)), 0);
	KASSERT_EQ(t, do_mprotect(mm, BASE, P, PROT_NONE), 0);
	KEXPECT_EQ(t, copy_from_user(&w, uptr(BASE), sizeof(w)), -EFAULT);
	KEXPECT_EQ(t, w, 0);
	KEXPECT_EQ(t, strncpy_from_user((char *)&w, uptr(BASE), sizeof(w)), -EFAULT);
	KEXPECT_EQ(t, copy_to_user(uptr(BASE), &w, sizeof(w)), -EFAULT);
	KEXPECT_EQ(t, do_mprotect(mm, BASE, P, PROT_READ), 0);
	KEXPECT_EQ(t, copy_from_user(&w, uptr(BASE), sizeof(w)), 0);
	KEXPECT_EQ(t, w, 0x5ec2e7);
}

MM_CASE(strncpy_from_user_returns_length)
{
	char dst[16];

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KASSERT_EQ(t, copy_to_user(uptr(BASE + 100), "hello", 6), 0);
	memset(dst, 'x', sizeof(dst));
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE + 100), sizeof(dst)), 5);
	KEXPECT_STREQ(t, dst, "hello");
	/* Room for exactly the string and its NUL. */
	memset(dst, 'x', sizeof(dst));
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE + 100), 6), 5);
	KEXPECT_STREQ(t, dst, "hello");
	/* The empty string. */
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE + 200), sizeof(dst)), 0);
	KEXPECT_EQ(t, dst[0], '\0');
}

MM_CASE(strncpy_from_user_unterminated_returns_count)
{
	char dst[16];

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KASSERT_EQ(t, copy_to_user(uptr(BASE), "hello", 6), 0);
	memset(dst, 'x', sizeof(dst));
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE), 3), 3);
	KEXPECT_EQ(t, memcmp(dst, "helx", 4), 0); /* not terminated, nothing past count */
	memset(dst, 'x', sizeof(dst));
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE), 5), 5);
	KEXPECT_EQ(t, memcmp(dst, "hellox", 6), 0);
}

/* Linux: "If count is smaller than or equal to zero, zero is returned". A
 * negative count must not come back as if it were an errno. */
MM_CASE(strncpy_from_user_nonpositive_count_returns_zero)
{
	char dst[4] = "abc";

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE), 0), 0);
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE), -1), 0);
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE), -EFAULT), 0);
	KEXPECT_STREQ(t, dst, "abc");
}

MM_CASE(strncpy_from_user_bad_pointer_returns_efault)
{
	char dst[8];

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, strncpy_from_user(dst, NULL, sizeof(dst)), -EFAULT);
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE + P), sizeof(dst)), -EFAULT);
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(0x8000000000000000UL), sizeof(dst)), -EFAULT);
	KEXPECT_EQ(t, strncpy_from_user(dst, "kernel", sizeof(dst)), -EFAULT);
}

MM_CASE(strncpy_from_user_string_into_unmapped_page_returns_efault)
{
	char dst[16];

	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	/* "abc" in the last three bytes, no NUL before the unmapped page. */
	KASSERT_EQ(t, copy_to_user(uptr(BASE + P - 3), "abc", 3), 0);
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE + P - 3), sizeof(dst)), -EFAULT);
	/* A NUL before the page ends: the unmapped page is never needed. */
	KASSERT_EQ(t, copy_to_user(uptr(BASE + P - 3), "ab", 3), 0);
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE + P - 3), sizeof(dst)), 2);
	KEXPECT_STREQ(t, dst, "ab");
	/* count ends exactly at the page end: count, no fault needed. */
	KASSERT_EQ(t, copy_to_user(uptr(BASE + P - 3), "abc", 3), 0);
	KEXPECT_EQ(t, strncpy_from_user(dst, uptr(BASE + P - 3), 3), 3);
}

MM_CASE(clear_user_zeroes_exactly_the_range)
{
	enum { LEN = 2 * P };
	uint8_t *buf = kmalloc(LEN, GFP_KERNEL);
	size_t wrong = 0;

	KASSERT_NOT_NULL(t, buf);
	memset(buf, 0xee, LEN);
	KEXPECT_EQ(t, map_anon(mm, BASE, 2 * P, PROT_READ | PROT_WRITE), (long)BASE);
	KEXPECT_EQ(t, copy_to_user(uptr(BASE), buf, LEN), 0);
	KEXPECT_EQ(t, clear_user(uptr(BASE + 100), LEN - 200), 0);
	KEXPECT_EQ(t, copy_from_user(buf, uptr(BASE), LEN), 0);
	for (size_t i = 0; i < LEN; i++)
		wrong += buf[i] != (i < 100 || i >= LEN - 100 ? 0xee : 0);
	KEXPECT_EQ(t, wrong, 0);
	/* A range running off the mapping fails. */
	KEXPECT_EQ(t, clear_user(uptr(BASE + LEN - 8), 16), -EFAULT);
	kfree(buf);
}

static void access_ok_ends_at_user_space_end_and_not_beyond(struct ktest *t)
{
	KEXPECT_TRUE(t, access_ok(uptr(USER_SPACE_END - P), P));
	KEXPECT_TRUE(t, access_ok(uptr(USER_SPACE_END - 1), 1));
	KEXPECT_TRUE(t, access_ok(uptr(0), USER_SPACE_END));
	KEXPECT_TRUE(t, access_ok(uptr(BASE), 0));
	KEXPECT_FALSE(t, access_ok(uptr(USER_SPACE_END - P), P + 1));
	KEXPECT_FALSE(t, access_ok(uptr(USER_SPACE_END), 1));
	KEXPECT_FALSE(t, access_ok(uptr(0), USER_SPACE_END + 1));
	KEXPECT_FALSE(t, access_ok(uptr(~0UL - 3), 8));
	KEXPECT_FALSE(t, access_ok(&kernel_word, sizeof(kernel_word)));
}

static void uaccess_cr4_has_smep_and_smap_when_cpu_has_them(struct ktest *t)
{
	uint64_t cr4 = read_cr4();

	if (!cpu.smep && !cpu.smap) {
		ktest_skip(t, "CPU has neither SMEP nor SMAP");
		return;
	}
	KEXPECT_EQ(t, !!(cr4 & CR4_SMEP_BIT), cpu.smep);
	KEXPECT_EQ(t, !!(cr4 & CR4_SMAP_BIT), cpu.smap);
	ktest_log(t, "CR4=%#llx smep=%d smap=%d", (unsigned long long)cr4, cpu.smep, cpu.smap);
}

/* With SMAP on, a plain kernel load from a present user page faults (no
 * stac): the fault path must refuse it rather than call it resolved. */
MM_CASE(uaccess_smap_blocks_plain_kernel_read_of_user_page)
{
	uint64_t faults = last_fixup.count;
	uint8_t b = 0x42;

	if (!cpu.smap) {
		ktest_skip(t, "CPU has no SMAP");
		return;
	}
	KASSERT_EQ(t, map_anon(mm, BASE, P, PROT_READ | PROT_WRITE), (long)BASE);
	KASSERT_EQ(t, clear_user(uptr(BASE), 1), 0);
	KEXPECT_EQ(t, probe_read_u8(uptr(BASE), &b), -EFAULT);
	KEXPECT_EQ(t, last_fixup.count, faults + 1);
	KEXPECT_EQ(t, last_fixup.cr2, BASE);
	KEXPECT_TRUE(t, last_fixup.error_code & PF_PRESENT);
}

static const struct ktest_case uaccess_cases[] = {
	KTEST_CASE(uaccess_round_trip_across_page_boundary),
	KTEST_CASE(uaccess_null_pointer_returns_efault),
	KTEST_CASE(uaccess_kernel_address_returns_efault_without_fault),
	KTEST_CASE(uaccess_non_canonical_address_returns_efault_without_fault),
	KTEST_CASE(uaccess_wrapping_range_returns_efault_without_fault),
	KTEST_CASE(uaccess_unmapped_hole_in_range_returns_efault),
	KTEST_CASE(uaccess_read_only_mapping_rejects_copy_to_user),
	KTEST_CASE(uaccess_prot_none_page_returns_efault),
	KTEST_CASE(strncpy_from_user_returns_length),
	KTEST_CASE(strncpy_from_user_unterminated_returns_count),
	KTEST_CASE(strncpy_from_user_nonpositive_count_returns_zero),
	KTEST_CASE(strncpy_from_user_bad_pointer_returns_efault),
	KTEST_CASE(strncpy_from_user_string_into_unmapped_page_returns_efault),
	KTEST_CASE(clear_user_zeroes_exactly_the_range),
	KTEST_CASE(access_ok_ends_at_user_space_end_and_not_beyond),
	KTEST_CASE(uaccess_cr4_has_smep_and_smap_when_cpu_has_them),
	KTEST_CASE(uaccess_smap_blocks_plain_kernel_read_of_user_page),
};
KTEST_SUITE(uaccess, uaccess_cases);
