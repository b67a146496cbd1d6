/* Tests of the kernel symbol table used by backtraces. If the three-step
 * link in the Makefile went wrong, addresses and names disagree here. */
#include <pagoda/ksyms.h>
#include <pagoda/ktest.h>
#include <pagoda/string.h>

void kmain(uint32_t magic, uint32_t mbi_phys);

static void ksyms_names_function_at_its_address(struct ktest *t)
{
	uintptr_t off = 99;

	KEXPECT_STREQ(t, ksyms_lookup((uintptr_t)kmain, &off), "kmain");
	KEXPECT_EQ(t, off, 0);
	KEXPECT_STREQ(t, ksyms_lookup((uintptr_t)ksyms_lookup, &off), "ksyms_lookup");
}

static void ksyms_names_function_containing_address(struct ktest *t)
{
	uintptr_t off = 0;

	KEXPECT_STREQ(t, ksyms_lookup((uintptr_t)memcmp + 3, &off), "memcmp");
	KEXPECT_EQ(t, off, 3);
}

static void ksyms_address_finds_by_name(struct ktest *t)
{
	KEXPECT_EQ(t, ksyms_address("kmain"), (uintptr_t)kmain);
	KEXPECT_EQ(t, ksyms_address("no_such_function_anywhere"), 0);
}

static void ksyms_rejects_addresses_outside_text(struct ktest *t)
{
	static int data_object;

	KEXPECT_NULL(t, ksyms_lookup((uintptr_t)&data_object, NULL));
	KEXPECT_NULL(t, ksyms_lookup(0x1000, NULL));
}

static const struct ktest_case ksyms_cases[] = {
	KTEST_CASE(ksyms_names_function_at_its_address),
	KTEST_CASE(ksyms_names_function_containing_address),
	KTEST_CASE(ksyms_address_finds_by_name),
	KTEST_CASE(ksyms_rejects_addresses_outside_text),
};
KTEST_SUITE(ksyms, ksyms_cases);
