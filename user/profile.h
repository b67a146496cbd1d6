/* Per-row kernel profiles for the benchmarks, from /proc/profile (the
 * kernel's profile=N; docs/profile.md). Without /proc/profile (no
 * profile= on the command line, or a kernel without it) every call here
 * does nothing.
 *
 * A row's window opens with prof_begin() (the counters are reset) and
 * closes with prof_end(row) (the counters are read and added to the row's
 * sums), as often as the row runs. prof_dump() prints each row's sums,
 * sparse, for scripts/profile.py:
 *
 *   profile: ROW step=4 buckets=191364 samples=812
 *   profile: ROW 10355:3 10356:1 44120:97 ...     (bucket:count, non-zero)
 */
#ifndef USER_PROFILE_H
#define USER_PROFILE_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROF_MAX_ROWS 32

struct prof_row {
	char name[64];
	uint64_t *sum; /* per bucket */
};

static struct {
	int fd;            /* /proc/profile, or -1 */
	size_t words;      /* the file's unsigned ints: the step, then the buckets */
	uint32_t *snap;    /* the last read */
	bool open_window;  /* prof_begin() without its prof_end() yet */
	int nr_rows;
	struct prof_row rows[PROF_MAX_ROWS];
} prof = { .fd = -2 };

/* Open /proc/profile the first time; false when there is none. */
static bool prof_on(void)
{
	struct stat st;

	if (prof.fd == -2) {
		prof.fd = open("/proc/profile", O_RDWR);
		if (prof.fd >= 0 && (fstat(prof.fd, &st) < 0 || st.st_size < 8 ||
				     !(prof.snap = malloc(st.st_size)))) {
			close(prof.fd);
			prof.fd = -1;
		}
		if (prof.fd >= 0)
			prof.words = st.st_size / sizeof(uint32_t);
	}
	return prof.fd >= 0;
}

/* Open a window: zero the kernel's counters (a 1-byte write; a 4-byte one
 * would be the timer multiplier). */
static void prof_begin(void)
{
	if (prof_on() && pwrite(prof.fd, "0", 1, 0) == 1)
		prof.open_window = true;
}

static struct prof_row *prof_row(const char *name)
{
	for (int i = 0; i < prof.nr_rows; i++)
		if (!strcmp(prof.rows[i].name, name))
			return &prof.rows[i];
	if (prof.nr_rows == PROF_MAX_ROWS)
		return NULL;
	struct prof_row *r = &prof.rows[prof.nr_rows];
	if (!(r->sum = calloc(prof.words, sizeof(*r->sum))))
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	prof.nr_rows++;
	return r;
}

/* Close the open window, if any, and add its counts to row name. */
static void prof_end(const char *name)
{
	size_t want = prof.words * sizeof(uint32_t);
	struct prof_row *r;

	if (!prof.open_window)
		return;
	prof.open_window = false;
	if (pread(prof.fd, prof.snap, want, 0) != (ssize_t)want || !(r = prof_row(name)))
		return;
	r->sum[0] = prof.snap[0]; /* the step */
	for (size_t i = 1; i < prof.words; i++)
		r->sum[i] += prof.snap[i];
}

/* Print every row's sums (prefix: "profile:"). */
static void prof_dump(void)
{
	for (int i = 0; i < prof.nr_rows; i++) {
		struct prof_row *r = &prof.rows[i];
		uint64_t total = 0;
		int on_line = 0;

		for (size_t b = 1; b < prof.words; b++)
			total += r->sum[b];
		printf("profile: %s step=%llu buckets=%zu samples=%llu\n", r->name,
		       (unsigned long long)r->sum[0], prof.words - 1, (unsigned long long)total);
		for (size_t b = 1; b < prof.words; b++) {
			if (!r->sum[b])
				continue;
			if (!on_line)
				printf("profile: %s", r->name);
			printf(" %zu:%llu", b - 1, (unsigned long long)r->sum[b]);
			if (++on_line == 12) {
				printf("\n");
				on_line = 0;
			}
		}
		if (on_line)
			printf("\n");
	}
	fflush(stdout);
}

#endif
