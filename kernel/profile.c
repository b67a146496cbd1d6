/* The kernel profiler: Linux's profile=N and /proc/profile (see
 * include/pagoda/profile.h and docs/profile.md). Linux 6.1's
 * kernel/profile.c is the reference for the option, the file's format and
 * what a write does; the code is our own. */
#include <pagoda/atomic.h>
#include <pagoda/cmdline.h>
#include <pagoda/errno.h>
#include <pagoda/layout.h>
#include <pagoda/printk.h>
#include <pagoda/profile.h>
#include <pagoda/slab.h>
#include <pagoda/smp.h>
#include <pagoda/string.h>
#include <asm/trap.h>

#undef pr_fmt
#define pr_fmt(fmt) "profile: " fmt

/* The largest shift Linux accepts (BITS_PER_LONG - 1). */
#define PROFILE_SHIFT_MAX 63

/* The profile of profile=N, made once at boot and never freed: /proc/profile
 * reads it. */
static struct profile_buf boot_profile;
/* What ticks count into: &boot_profile, a test's buffer, or NULL. Read by
 * every CPU's tick without a lock; changed by profile_set_active(). */
static struct profile_buf *active_profile;

int profile_buf_init(struct profile_buf *pb, uintptr_t start, uintptr_t end, int shift)
{
	shift = shift < 0 ? 0 : MIN(shift, PROFILE_SHIFT_MAX);
	memset(pb, 0, sizeof(*pb));
	if (end <= start || !((end - start) >> shift))
		return -EINVAL;
	pb->text_start = start;
	pb->shift = shift;
	pb->len = (end - start) >> shift;
	pb->counts = kzalloc(pb->len * sizeof(*pb->counts), GFP_KERNEL);
	if (!pb->counts) {
		pb->len = 0;
		return -ENOMEM;
	}
	return 0;
}

void profile_buf_fini(struct profile_buf *pb)
{
	kfree(pb->counts);
	memset(pb, 0, sizeof(*pb));
}

/* pc below the text wraps to a huge offset and lands in the last bucket
 * too, as in Linux's min((pc - _stext) >> prof_shift, prof_len - 1). */
unsigned long profile_bucket(const struct profile_buf *pb, uintptr_t pc)
{
	unsigned long i = (pc - pb->text_start) >> pb->shift;

	return MIN(i, pb->len - 1);
}

void profile_hit(struct profile_buf *pb, uintptr_t pc)
{
	atomic_inc(&pb->counts[profile_bucket(pb, pc)]);
}

void profile_reset(struct profile_buf *pb)
{
	for (unsigned long i = 0; i < pb->len; i++)
		atomic_store(&pb->counts[i], 0);
}

/* Byte i of the file: the step's bytes, then the counters' (x86 is
 * little-endian, as the native unsigned ints readprofile expects). */
static uint8_t profile_byte(const struct profile_buf *pb, uint64_t i, uint32_t *word,
			    uint64_t *word_at)
{
	uint64_t w = i / sizeof(uint32_t);

	if (w != *word_at) {
		/* Linux writes the low bytes of an unsigned long 1UL << shift. */
		*word = w == 0 ? (uint32_t)(1ULL << pb->shift) : atomic_load(&pb->counts[w - 1]);
		*word_at = w;
	}
	return (uint8_t)(*word >> (8 * (i % sizeof(uint32_t))));
}

ssize_t profile_read(const struct profile_buf *pb, void *buf, size_t n, uint64_t *pos)
{
	uint64_t size = (pb->len + 1) * sizeof(uint32_t), word_at = UINT64_MAX;
	uint32_t word = 0;
	uint8_t *out = buf;

	if (*pos >= size)
		return 0;
	n = MIN((uint64_t)n, size - *pos);
	for (size_t i = 0; i < n; i++)
		out[i] = profile_byte(pb, *pos + i, &word, &word_at);
	*pos += n;
	return n;
}

ssize_t profile_write(struct profile_buf *pb, const void *buf, size_t n)
{
	/* In Linux, a write of sizeof(int) bytes sets a multiplier of the
	 * profiling timer, which x86 does not have (its
	 * setup_profiling_timer() refuses every value): the write fails with
	 * EINVAL and the counters stay, here as there. */
	if (n == sizeof(uint32_t))
		return -EINVAL;
	profile_reset(pb);
	return n;
}

/* "profile=N", optionally signed, in base 10 or 0x-hex (Linux's
 * get_option()). Returns false if s does not start with a number. */
static bool parse_shift(const char *s, int *shift)
{
	bool neg = *s == '-';
	const char *end;
	uint64_t v;

	if (kstrtou64_prefix(s + neg, &end, &v) < 0)
		return false;
	*shift = neg ? 0 : (int)MIN(v, (uint64_t)PROFILE_SHIFT_MAX);
	return true;
}

void profile_init(void)
{
	const char *opt = kernel_param("profile");
	int shift, ret;

	if (!opt)
		return;
	/* Linux's "schedule[,N]" and "kvm[,N]" count calls of schedule() and
	 * VM exits: Pagoda has neither kind of profiling. */
	if (!strncmp(opt, "schedule", 8) || !strncmp(opt, "kvm", 3)) {
		pr_warn("profile=%s: only CPU profiling (profile=N) is supported; profiling off\n",
			opt);
		return;
	}
	if (!parse_shift(opt, &shift)) {
		pr_warn("profile=%s: not a number; profiling off\n", opt);
		return;
	}
	ret = profile_buf_init(&boot_profile, (uintptr_t)__text_start, (uintptr_t)__text_end,
			       shift);
	if (ret == -EINVAL) {
		pr_warn("profiling shift: %d too large; profiling off\n", shift);
		return;
	}
	if (ret < 0) {
		pr_warn("no memory for %lu counters; profiling off\n",
			((uintptr_t)__text_end - (uintptr_t)__text_start) >> shift);
		return;
	}
	pr_info("kernel profiling enabled (shift: %u), %lu buckets\n", boot_profile.shift,
		boot_profile.len);
	active_profile = &boot_profile;
}

void profile_tick(const struct trap_frame *tf)
{
	struct profile_buf *pb = READ_ONCE(active_profile);

	if (pb && (tf->cs & 3) == 0) /* CPL 0: kernel code was interrupted */
		profile_hit(pb, tf->rip);
}

static void profile_sync_cpu(void *arg) { }

/* A tick reads active_profile and counts with interrupts off; a CPU that
 * has run a cross-call since the pointer changed has finished any tick
 * that read the old pointer. */
struct profile_buf *profile_set_active(struct profile_buf *pb)
{
	struct profile_buf *old = atomic_xchg(&active_profile, pb);

	smp_call_mask(~0ULL, profile_sync_cpu, NULL);
	return old;
}

/* ---- /proc/profile ---- */

uint64_t profile_proc_size(void)
{
	return boot_profile.len ? (boot_profile.len + 1) * sizeof(uint32_t) : 0;
}

static ssize_t profile_proc_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	return profile_read(&boot_profile, buf, n, pos);
}

static ssize_t profile_proc_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	return profile_write(&boot_profile, buf, n);
}

/* llseek NULL: the generic one over the inode's size, as Linux's
 * default_llseek() over proc_set_size(). */
const struct file_operations profile_proc_fops = {
	.read = profile_proc_read,
	.write = profile_proc_write,
};
