/* The kernel profiler (kernel/profile.c): Linux's profile=N and
 * /proc/profile. See docs/profile.md.
 *
 * Every timer tick of every CPU that interrupts kernel code adds one to
 * the counter of the bucket its RIP falls in. Buckets cover the kernel
 * text [__text_start, __text_end) in steps of 1 << shift bytes; a PC
 * outside the text counts in the last bucket, as Linux 6.1 does:
 *
 *     __text_start                                          __text_end
 *     |  bucket 0  |  bucket 1  |  ...  |  bucket len - 1  |
 *     <- 1<<shift ->
 *     bucket(pc) = min((pc - __text_start) >> shift, len - 1)
 *
 * The sampling rate is the tick's: TIMER_HZ (100) per CPU. */
#ifndef PAGODA_PROFILE_H
#define PAGODA_PROFILE_H

#include <pagoda/file.h>
#include <pagoda/types.h>

struct trap_frame;

/* One counter array over a text range [text_start, text_start + (len <<
 * shift)). counts[] is written by ticks on every CPU at once, so every
 * access to it is atomic; nothing else in the struct changes after
 * profile_buf_init(). */
struct profile_buf {
	uint32_t *counts;     /* len counters (kmalloc'd), atomic */
	uintptr_t text_start; /* the address of bucket 0 */
	unsigned long len;    /* buckets: (text_end - text_start) >> shift */
	unsigned int shift;   /* log2 of the bytes per bucket */
};

/* Set up pb over [start, end) with 1 << shift bytes per bucket (shift is
 * clamped to [0, 63], as Linux does) and allocate its zeroed counters.
 * Returns 0, -EINVAL when the text has less than one bucket, or -ENOMEM.
 * The caller frees pb->counts with profile_buf_fini(). */
int profile_buf_init(struct profile_buf *pb, uintptr_t start, uintptr_t end, int shift);
void profile_buf_fini(struct profile_buf *pb);

/* The bucket pc counts in: the last one for a pc outside the text. */
unsigned long profile_bucket(const struct profile_buf *pb, uintptr_t pc);
/* Count one sample at pc (atomic: any CPU, any context). */
void profile_hit(struct profile_buf *pb, uintptr_t pc);
/* Zero every counter. */
void profile_reset(struct profile_buf *pb);

/* Read /proc/profile's bytes [*pos, *pos + n) of pb into buf: the sample
 * step (1 << shift, the low 32 bits) as a native unsigned int, then one
 * unsigned int per bucket. Advances *pos; returns the byte count, 0 at
 * the end. */
ssize_t profile_read(const struct profile_buf *pb, void *buf, size_t n, uint64_t *pos);
/* Write to /proc/profile: a 4-byte write is Linux's timer multiplier,
 * which x86 does not support (-EINVAL, counters kept); any other write
 * zeroes the counters and returns n. */
ssize_t profile_write(struct profile_buf *pb, const void *buf, size_t n);

/* The profile= boot option: set up the boot profile if it is given
 * ("profile=N"). Never fails: a bad option or no memory is logged and the
 * kernel runs without profiling. After kmalloc_init(). */
void profile_init(void);

/* The timer tick (arch/x86/lapic.c): count tf's RIP if it interrupted
 * kernel code and a profile is on. */
void profile_tick(const struct trap_frame *tf);

/* The buffer ticks count into: the boot profile, or NULL. Tests may
 * install their own; profile_set_active() returns when no CPU can still be
 * counting into the buffer it replaced. Returns that buffer. */
struct profile_buf *profile_set_active(struct profile_buf *pb);

/* /proc/profile (fs/procfs.c): its size in bytes, 0 when the boot has no
 * profile (the file does not exist), and its operations. */
uint64_t profile_proc_size(void);
extern const struct file_operations profile_proc_fops;

#endif
