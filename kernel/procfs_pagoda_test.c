/* Tests of /proc/pagoda (kernel/procfs.c): the exact free-frame count and
 * the invariant check, read through the VFS as a user program reads them.
 * Skipped when /proc is not served by procfs. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/pmm.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/vfs.h>

#define FREE_FRAMES "/proc/pagoda/free_frames"
#define INVARIANTS "/proc/pagoda/invariants"

static struct file *open_or_skip(struct ktest *t, const char *path)
{
	int err = 0;
	struct file *f = vfs_open("/", path, O_RDONLY, 0, &err);

	if (!f)
		ktest_skip(t, "no /proc/pagoda (procfs not mounted on /proc)");
	return f;
}

/* The number the file holds when read from offset 0, or UINT64_MAX. */
static uint64_t read_count(struct file *f)
{
	char buf[32];
	const char *end;
	uint64_t v;
	ssize_t n = vfs_pread(f, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return UINT64_MAX;
	buf[n] = '\0';
	return kstrtou64_prefix(buf, &end, &v) == 0 && *end == '\n' ? v : UINT64_MAX;
}

/* Leave kmalloc-2048 with a spare empty slab: four objects fill at least
 * one slab of their own (two per slab), which empties when they go. */
static void leave_a_spare_slab(void)
{
	void *obj[4];

	kmalloc_shrink();
	for (unsigned int i = 0; i < 4; i++)
		obj[i] = kmalloc(2048, GFP_KERNEL);
	for (unsigned int i = 0; i < 4; i++)
		kfree(obj[i]);
}

static void pagoda_free_frames_is_the_count_after_draining(struct ktest *t)
{
	struct file *f;
	uint64_t count;

	leave_a_spare_slab();
	f = open_or_skip(t, FREE_FRAMES);
	if (!f)
		return;
	count = read_count(f);
	kmalloc_shrink(); /* nothing left to give back: the read drained */
	KEXPECT_EQ(t, count, pmm_free_pages());
	file_put(f);
}

static void pagoda_free_frames_counts_again_at_each_read_from_offset_0(struct ktest *t)
{
	struct file *f = open_or_skip(t, FREE_FRAMES);
	struct page *p;
	uint64_t before;

	if (!f)
		return;
	before = read_count(f);
	p = alloc_page(GFP_KERNEL);
	KEXPECT_NOT_NULL(t, p);
	KEXPECT_EQ(t, read_count(f), before - 1);
	if (p)
		free_pages(p, 0);
	KEXPECT_EQ(t, read_count(f), before);
	file_put(f);
}

static const char *find(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncmp(hay, needle, n))
			return hay;
	return NULL;
}

/* The whole machine, at this point of the boot, passes the check. */
static void pagoda_invariants_is_a_passing_ktap_suite(struct ktest *t)
{
	struct file *f = open_or_skip(t, INVARIANTS);
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	ssize_t n;

	if (!f || !buf)
		goto out;
	n = vfs_pread(f, buf, PAGE_SIZE - 1, 0);
	KEXPECT_GT(t, n, 0);
	buf[n > 0 ? n : 0] = '\0';
	KEXPECT_NOT_NULL(t, find(buf, "    # Subtest: invariants\n"));
	KEXPECT_NOT_NULL(t, find(buf, "    1..11\n"));
	KEXPECT_NOT_NULL(t, find(buf, "# invariants: pass:11 fail:0 skip:0 total:11\n"));
	if (find(buf, "not ok"))
		ktest_log(t, "%s", find(buf, "not ok"));
out:
	kfree(buf);
	if (f)
		file_put(f);
}

static const struct ktest_case procfs_pagoda_cases[] = {
	KTEST_CASE(pagoda_free_frames_is_the_count_after_draining),
	KTEST_CASE(pagoda_free_frames_counts_again_at_each_read_from_offset_0),
	KTEST_CASE(pagoda_invariants_is_a_passing_ktap_suite),
};
KTEST_SUITE(procfs_pagoda, procfs_pagoda_cases);
