/* Tests of the command-line splitter. */
#include <pagoda/cmdline.h>
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/string.h>

static struct cmdline cl;

static void cmdline_splits_keys_and_values(struct ktest *t)
{
	cmdline_parse(&cl, "console=ttyS0 quiet  mem=64M");
	KEXPECT_EQ(t, cl.nr, 3);
	KEXPECT_STREQ(t, cmdline_get(&cl, "console"), "ttyS0");
	KEXPECT_STREQ(t, cmdline_get(&cl, "quiet"), "");
	KEXPECT_STREQ(t, cmdline_get(&cl, "mem"), "64M");
	KEXPECT_NULL(t, cmdline_get(&cl, "absent"));
}

static void cmdline_last_option_wins(struct ktest *t)
{
	cmdline_parse(&cl, "loglevel=3 loglevel=7");
	KEXPECT_STREQ(t, cmdline_get(&cl, "loglevel"), "7");
}

static void cmdline_ignores_linux_options_it_does_not_know(struct ktest *t)
{
	/* A Linux command line parses without complaint; we just never ask. */
	cmdline_parse(&cl, "root=/dev/sda1 ro rd.break nokaslr ktest=multiboot2");
	KEXPECT_EQ(t, cl.nr, 5);
	KEXPECT_STREQ(t, cmdline_get(&cl, "ktest"), "multiboot2");
}

static void cmdline_value_may_be_quoted(struct ktest *t)
{
	cmdline_parse(&cl, "a=\"x y z\" b=1");
	KEXPECT_STREQ(t, cmdline_get(&cl, "a"), "x y z");
	KEXPECT_STREQ(t, cmdline_get(&cl, "b"), "1");
}

static void cmdline_words_after_dashes_are_init_args(struct ktest *t)
{
	cmdline_parse(&cl, "init=/bin/sh -- -c \"echo hi\"");
	KEXPECT_EQ(t, cl.nr, 1);
	KEXPECT_EQ(t, cl.nr_init_args, 2);
	KEXPECT_STREQ(t, cl.init_args[0], "-c");
	KEXPECT_STREQ(t, cl.init_args[1], "echo hi");
}

static void cmdline_value_may_contain_equals_and_dollar(struct ktest *t)
{
	cmdline_parse(&cl, "memmap=64M$0x180000000 x=a=b");
	KEXPECT_STREQ(t, cmdline_get(&cl, "memmap"), "64M$0x180000000");
	KEXPECT_STREQ(t, cmdline_get(&cl, "x"), "a=b");
}

static void cmdline_parse_size_reads_suffixes(struct ktest *t)
{
	const char *end;
	uint64_t v;

	KEXPECT_EQ(t, cmdline_parse_size("64M", &end, &v), 0);
	KEXPECT_EQ(t, v, 64ULL << 20);
	KEXPECT_EQ(t, cmdline_parse_size("8G$", &end, &v), 0);
	KEXPECT_EQ(t, v, 8ULL << 30);
	KEXPECT_EQ(t, *end, '$');
	KEXPECT_EQ(t, cmdline_parse_size("0x180000000", &end, &v), 0);
	KEXPECT_EQ(t, v, 0x180000000ULL);
	KEXPECT_EQ(t, cmdline_parse_size("4k", &end, &v), 0);
	KEXPECT_EQ(t, v, 4096);
}

static void cmdline_parse_size_rejects_garbage_and_overflow(struct ktest *t)
{
	const char *end;
	uint64_t v = 7;

	KEXPECT_EQ(t, cmdline_parse_size("M64", &end, &v), -EINVAL);
	KEXPECT_EQ(t, cmdline_parse_size("", &end, &v), -EINVAL);
	KEXPECT_EQ(t, cmdline_parse_size("99999999999999999999", &end, &v), -EINVAL);
	KEXPECT_EQ(t, cmdline_parse_size("17179869184T", &end, &v), -EINVAL);
	KEXPECT_EQ(t, v, 7); /* untouched on failure */
}

static void cmdline_list_has_matches_whole_words(struct ktest *t)
{
	KEXPECT_TRUE(t, cmdline_list_has("pmm,vma,mmap", "vma"));
	KEXPECT_TRUE(t, cmdline_list_has("pmm,vma,mmap", "mmap"));
	KEXPECT_FALSE(t, cmdline_list_has("pmm,vma,mmap", "mm")); /* not a prefix match */
	KEXPECT_FALSE(t, cmdline_list_has("pmm,vmas", "vma"));
	KEXPECT_FALSE(t, cmdline_list_has("", "vma"));
}

static const struct ktest_case cmdline_cases[] = {
	KTEST_CASE(cmdline_list_has_matches_whole_words),
	KTEST_CASE(cmdline_splits_keys_and_values),
	KTEST_CASE(cmdline_last_option_wins),
	KTEST_CASE(cmdline_ignores_linux_options_it_does_not_know),
	KTEST_CASE(cmdline_value_may_be_quoted),
	KTEST_CASE(cmdline_words_after_dashes_are_init_args),
	KTEST_CASE(cmdline_value_may_contain_equals_and_dollar),
	KTEST_CASE(cmdline_parse_size_reads_suffixes),
	KTEST_CASE(cmdline_parse_size_rejects_garbage_and_overflow),
};
KTEST_SUITE(cmdline, cmdline_cases);
