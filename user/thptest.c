/* thptest: transparent huge pages for anonymous memory, seen from user
 * space, as KTAP (suite "thptest"). Every expectation holds on Linux 6.1
 * too (scripts/linux-test.sh).
 *
 * Whether a range is one huge page is read from /proc/meminfo's
 * AnonHugePages (kB of anonymous memory mapped by 2 MiB entries), before
 * and after: Pagoda has no /proc/PID/smaps. Nothing else runs while a
 * test does, so the difference is this program's. Most cases assume
 * the policy in /sys/kernel/mm/transparent_hugepage/enabled is "always"
 * (Debian's and Pagoda's default) and skip, naming it, where it is not;
 * the ones about the other policies switch it for a moment, which needs
 * root, and put it back. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"
#include "meminfo.h"

#define PG 4096UL
#define HP (2UL << 20)
#define HP_KB ((long)(HP / 1024))
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"

/* ---- the policy file ---- */

/* Read ENABLED into buf (NUL-terminated); its length, or -1. */
static ssize_t read_enabled(char *buf, size_t size)
{
	int fd = open(ENABLED, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* The bracketed word of ENABLED ("always"), or "" if it cannot be read. */
static const char *policy(void)
{
	static char buf[128], word[32];
	char *open_b, *close_b;

	word[0] = '\0';
	if (read_enabled(buf, sizeof(buf)) <= 0 || !(open_b = strchr(buf, '[')) ||
	    !(close_b = strchr(open_b, ']')) || close_b - open_b - 1 >= (long)sizeof(word))
		return word;
	memcpy(word, open_b + 1, close_b - open_b - 1);
	word[close_b - open_b - 1] = '\0';
	return word;
}

/* Write s to ENABLED: write(2)'s result; errno as it left it. */
static ssize_t write_enabled(const char *s)
{
	int fd = open(ENABLED, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n;
}

/* Skip unless the policy is "always"; true if it is. */
static bool policy_always(void)
{
	const char *p = policy();
	char why[96];

	if (!strcmp(p, "always"))
		return true;
	snprintf(why, sizeof(why), "the THP policy is \"%s\", not always", p[0] ? p : "unreadable");
	ktap_skip(why);
	return false;
}

/* Switch the policy to p for a case (false, skipped, if that is not
 * allowed here); restore_policy() puts the old one back. */
static char saved_policy[32];

static bool switch_policy(const char *p)
{
	snprintf(saved_policy, sizeof(saved_policy), "%s", policy());
	if (!saved_policy[0] || write_enabled(p) != (ssize_t)strlen(p)) {
		ktap_skip("cannot write " ENABLED " (not root?)");
		return false;
	}
	return true;
}

static void restore_policy(void)
{
	write_enabled(saved_policy);
}

/* ---- memory ---- */

/* len bytes of private anonymous memory at a 2 MiB-aligned address
 * (Linux 6.1 does not align anonymous mappings itself): the mapping is
 * exactly [p, p + len). NULL on failure. */
static char *map_aligned(size_t len)
{
	char *raw = mmap(NULL, len + HP, RW, ANON, -1, 0);
	uintptr_t p;

	if (raw == MAP_FAILED)
		return NULL;
	p = ((uintptr_t)raw + HP - 1) & ~(HP - 1);
	if (p > (uintptr_t)raw)
		munmap(raw, p - (uintptr_t)raw);
	munmap((char *)p + len, (uintptr_t)raw + len + HP - (p + len));
	return (char *)p;
}

static uint8_t pattern(size_t page, uint8_t tag)
{
	return (uint8_t)(page * 7 + tag) | 1;
}

static void fill(char *p, size_t len, uint8_t tag)
{
	for (size_t off = 0; off < len; off += PG)
		memset(p + off, pattern(off / PG, tag), PG);
}

/* The first page of [p + from, p + to) whose bytes are not the pattern
 * fill(p, ..., tag) wrote, as a page index from p; -1 if none. */
static long first_bad(const char *p, size_t from, size_t to, uint8_t tag)
{
	for (size_t off = from; off < to; off += PG)
		for (size_t i = 0; i < PG; i += 64)
			if ((uint8_t)p[off + i] != pattern(off / PG, tag))
				return (long)(off / PG);
	return -1;
}

static long anon_huge_kb(void)
{
	return meminfo_kb("AnonHugePages:");
}

/* ---- cases ---- */

static void thp_enabled_shows_every_policy_with_the_current_one_bracketed(void)
{
	char buf[128];
	static const char *const lines[] = {
		"[always] madvise never\n",
		"always [madvise] never\n",
		"always madvise [never]\n",
	};
	bool known = false;

	ASSERT_TRUE(read_enabled(buf, sizeof(buf)) > 0);
	for (size_t i = 0; i < 3; i++)
		known |= !strcmp(buf, lines[i]);
	if (!known)
		ktap_log("enabled reads \"%s\"", buf);
	EXPECT_TRUE(known);
}

static void thp_enabled_rejects_a_bad_value_with_einval(void)
{
	char before[128], after[128];

	ASSERT_TRUE(read_enabled(before, sizeof(before)) > 0);
	errno = 0;
	if (write_enabled("sometimes") < 0 && errno == EACCES) {
		ktap_skip("cannot write " ENABLED " (not root)");
		return;
	}
	EXPECT_EQ(errno, EINVAL);
	EXPECT_ERRNO(write_enabled("[always]"), EINVAL);
	ASSERT_TRUE(read_enabled(after, sizeof(after)) > 0);
	EXPECT_TRUE(!strcmp(before, after));
}

static void thp_write_fault_in_an_aligned_2mib_range_maps_a_huge_page(void)
{
	char *p;
	long kb0, kb1;

	if (!policy_always())
		return;
	ASSERT_TRUE((p = map_aligned(2 * HP)) != NULL);
	kb0 = anon_huge_kb();
	p[HP / 2] = 1;
	kb1 = anon_huge_kb();
	EXPECT_EQ(kb1 - kb0, HP_KB);
	/* Zeroed, but for the byte written. */
	EXPECT_EQ(p[0] | p[HP - 1] | p[HP / 2 + 1], 0);
	EXPECT_EQ(p[HP / 2], 1);
	EXPECT_EQ(munmap(p, 2 * HP), 0);
	EXPECT_EQ(anon_huge_kb(), kb0);
}

/* The frames of a huge page come back when it is unmapped: exactly on
 * Pagoda, within Linux's slack elsewhere. */
static void thp_munmap_gives_the_2mib_back(void)
{
	long free0, free1, free2;
	char *p;

	if (!policy_always())
		return;
	ASSERT_TRUE((p = map_aligned(HP)) != NULL);
	free0 = meminfo_kb("MemFree:");
	p[0] = 1;
	free1 = meminfo_kb("MemFree:");
	EXPECT_EQ(munmap(p, HP), 0);
	free2 = meminfo_kb("MemFree:");
	ktap_log("MemFree %ld kB, after the fault %ld kB, after munmap %ld kB", free0, free1, free2);
	EXPECT_LE(HP_KB, free0 - free1 + (on_pagoda() ? 0 : 4096));
	if (on_pagoda())
		EXPECT_EQ(free2, free0);
}

static void thp_read_first_then_write_stays_4k(void)
{
	char buf[8] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/use_zero_page", O_RDONLY);
	volatile char *p;
	long kb0;

	if (fd >= 0) {
		read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (buf[0] == '0') {
		ktap_skip("use_zero_page is 0: a read fault allocates a huge page");
		return;
	}
	if (!policy_always())
		return;
	ASSERT_TRUE((p = map_aligned(HP)) != NULL);
	kb0 = anon_huge_kb();
	EXPECT_EQ(p[100], 0); /* Linux: the huge zero page; Pagoda: the 4 KiB one */
	p[200] = 1;           /* either way, a 4 KiB page of its own */
	EXPECT_EQ(anon_huge_kb(), kb0);
	EXPECT_EQ(p[200], 1);
	munmap((void *)p, HP);
}

static void thp_madv_nohugepage_gives_4k_pages(void)
{
	char *p;
	long kb0;

	if (!policy_always())
		return;
	ASSERT_TRUE((p = map_aligned(HP)) != NULL);
	ASSERT_EQ(madvise(p, HP, MADV_NOHUGEPAGE), 0);
	kb0 = anon_huge_kb();
	fill(p, HP, 0x11);
	EXPECT_EQ(anon_huge_kb(), kb0);
	EXPECT_EQ(first_bad(p, 0, HP, 0x11), -1);
	munmap(p, HP);
}

static void thp_policy_madvise_maps_huge_pages_only_where_advised(void)
{
	char *plain, *advised;
	long kb0;

	if (!switch_policy("madvise"))
		return;
	plain = map_aligned(HP);
	advised = map_aligned(HP);
	if (plain && advised && madvise(advised, HP, MADV_HUGEPAGE) == 0) {
		kb0 = anon_huge_kb();
		plain[0] = 1;
		EXPECT_EQ(anon_huge_kb(), kb0);
		advised[0] = 1;
		EXPECT_EQ(anon_huge_kb(), kb0 + HP_KB);
	} else {
		ktap_fail_at(__FILE__, __LINE__, "mmap or madvise(MADV_HUGEPAGE) failed");
	}
	restore_policy();
	if (plain)
		munmap(plain, HP);
	if (advised)
		munmap(advised, HP);
}

static void thp_policy_never_maps_no_huge_page_even_where_advised(void)
{
	char *p;
	long kb0;

	if (!switch_policy("never"))
		return;
	p = map_aligned(HP);
	if (p && madvise(p, HP, MADV_HUGEPAGE) == 0) {
		kb0 = anon_huge_kb();
		p[0] = 1;
		EXPECT_EQ(anon_huge_kb(), kb0);
	} else {
		ktap_fail_at(__FILE__, __LINE__, "mmap or madvise(MADV_HUGEPAGE) failed");
	}
	restore_policy();
	if (p)
		munmap(p, HP);
}

/* A huge page with a pattern in it, and AnonHugePages before it; false
 * (skipped or failed) if there is none. */
static bool huge_with_pattern(char **p, long *kb0, uint8_t tag)
{
	if (!policy_always())
		return false;
	if (!(*p = map_aligned(HP))) {
		ktap_fail_at(__FILE__, __LINE__, "mmap failed");
		return false;
	}
	*kb0 = anon_huge_kb();
	fill(*p, HP, tag);
	if (anon_huge_kb() != *kb0 + HP_KB) {
		ktap_fail_at(__FILE__, __LINE__, "the write faults mapped no huge page");
		return false;
	}
	return true;
}

static void thp_partial_munmap_splits_keeping_the_rest(void)
{
	char *p;
	long kb0;

	if (!huge_with_pattern(&p, &kb0, 0x21))
		return;
	ASSERT_EQ(munmap(p + 100 * PG, 2 * PG), 0);
	EXPECT_EQ(anon_huge_kb(), kb0);
	EXPECT_EQ(first_bad(p, 0, 100 * PG, 0x21), -1);
	EXPECT_EQ(first_bad(p, 102 * PG, HP, 0x21), -1);
	munmap(p, HP);
}

static void thp_partial_mprotect_splits_keeping_data(void)
{
	char *p;
	long kb0;

	if (!huge_with_pattern(&p, &kb0, 0x31))
		return;
	ASSERT_EQ(mprotect(p + 8 * PG, PG, PROT_READ), 0);
	EXPECT_EQ(anon_huge_kb(), kb0);
	EXPECT_EQ(first_bad(p, 0, HP, 0x31), -1);
	p[9 * PG] = pattern(9, 0x31); /* its neighbour is still writable */
	munmap(p, HP);
}

static void thp_mremap_to_an_aligned_place_keeps_the_huge_page(void)
{
	char *p, *dst, *q;
	long kb0;

	if (!huge_with_pattern(&p, &kb0, 0x41))
		return;
	ASSERT_TRUE((dst = map_aligned(HP)) != NULL);
	q = mremap(p, HP, HP, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_TRUE(q == dst);
	EXPECT_EQ(anon_huge_kb(), kb0 + HP_KB);
	EXPECT_EQ(first_bad(q, 0, HP, 0x41), -1);
	munmap(q, HP);
}

static void thp_mremap_to_an_unaligned_place_splits_keeping_data(void)
{
	char *p, *dst, *q;
	long kb0;

	if (!huge_with_pattern(&p, &kb0, 0x51))
		return;
	ASSERT_TRUE((dst = map_aligned(2 * HP)) != NULL);
	q = mremap(p, HP, HP, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PG);
	ASSERT_TRUE(q == dst + PG);
	EXPECT_EQ(anon_huge_kb(), kb0);
	EXPECT_EQ(first_bad(q, 0, HP, 0x51), -1);
	munmap(dst, 2 * HP);
}

static char *cow_area;

/* In the child: write into the shared huge page, check both its own
 * write and the parent's data around it. */
static int cow_child(void *arg)
{
	cow_area[5 * PG] = 0x7c;
	if (cow_area[5 * PG] != 0x7c)
		return 1;
	if (first_bad(cow_area, 0, 5 * PG, 0x61) != -1 ||
	    first_bad(cow_area, 6 * PG, HP, 0x61) != -1)
		return 2;
	return 0;
}

static void thp_fork_cow_each_side_keeps_its_data(void)
{
	long kb0;

	if (!huge_with_pattern(&cow_area, &kb0, 0x61))
		return;
	EXPECT_CHILD_OK(cow_child, NULL);
	/* The parent's page is untouched and still huge... */
	EXPECT_EQ(first_bad(cow_area, 0, HP, 0x61), -1);
	EXPECT_EQ(anon_huge_kb(), kb0 + HP_KB);
	/* ...and, the child gone, its write keeps it huge. */
	cow_area[5 * PG] = 0x5e;
	EXPECT_EQ(cow_area[5 * PG], 0x5e);
	EXPECT_EQ(anon_huge_kb(), kb0 + HP_KB);
	munmap(cow_area, HP);
}

/* Does this kernel place anonymous mappings of whole 2 MiB units on 2 MiB
 * boundaries? Pagoda does; Linux from 6.7 on. */
static bool aligns_anon(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (on_pagoda())
		return true;
	if (uname(&u) == 0)
		sscanf(u.release, "%d.%d", &major, &minor);
	return major > 6 || (major == 6 && minor >= 7);
}

static void thp_anonymous_mmap_of_2mib_units_is_aligned(void)
{
	void *p[3];

	if (!aligns_anon()) {
		ktap_skip("Linux before 6.7 does not align anonymous mappings");
		return;
	}
	for (int i = 0; i < 3; i++) {
		p[i] = mmap(NULL, (i + 1) * HP, RW, ANON, -1, 0);
		ASSERT_TRUE(p[i] != MAP_FAILED);
		EXPECT_EQ((uintptr_t)p[i] % HP, 0);
	}
	for (int i = 0; i < 3; i++)
		munmap(p[i], (i + 1) * HP);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(thp_enabled_shows_every_policy_with_the_current_one_bracketed),
		KTAP_CASE(thp_enabled_rejects_a_bad_value_with_einval),
		KTAP_CASE(thp_write_fault_in_an_aligned_2mib_range_maps_a_huge_page),
		KTAP_CASE(thp_munmap_gives_the_2mib_back),
		KTAP_CASE(thp_read_first_then_write_stays_4k),
		KTAP_CASE(thp_madv_nohugepage_gives_4k_pages),
		KTAP_CASE(thp_policy_madvise_maps_huge_pages_only_where_advised),
		KTAP_CASE(thp_policy_never_maps_no_huge_page_even_where_advised),
		KTAP_CASE(thp_partial_munmap_splits_keeping_the_rest),
		KTAP_CASE(thp_partial_mprotect_splits_keeping_data),
		KTAP_CASE(thp_mremap_to_an_aligned_place_keeps_the_huge_page),
		KTAP_CASE(thp_mremap_to_an_unaligned_place_splits_keeping_data),
		KTAP_CASE(thp_fork_cow_each_side_keeps_its_data),
		KTAP_CASE(thp_anonymous_mmap_of_2mib_units_is_aligned),
	};

	return ktap_run_suite("thptest", cases, KTAP_ARRAY_SIZE(cases));
}
