/* Reading /proc/meminfo, and knowing which kernel runs the test. Pagoda
 * keeps MemFree exact (the allocator's free frames, its caches drained),
 * so a test there can ask for "every frame came back"; Linux's MemFree
 * moves with per-CPU lists and caches, so the same test on Linux allows
 * a margin. */
#ifndef PAGODA_USER_MEMINFO_H
#define PAGODA_USER_MEMINFO_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

/* The state letter of process pid in /proc/PID/stat ('R', 'S'...), or 0. */
static inline char proc_state(int pid)
{
	char path[32], buf[256], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* Wait until init sleeps (in its read of our output, which holds a
 * kernel buffer of up to 8 KiB): it may still be drawing our last lines
 * on the framebuffer console, which under emulation takes a while. */
static inline void settle(void)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 200; i++) {
		nanosleep(&tick, NULL);
		if (proc_state(1) == 'S')
			return;
	}
}

/* Touch, before a count, what the parsing after it will use: 32 KiB of
 * stack below the caller, and sscanf's own first use. A page first
 * touched between two counts would look like memory the test lost. */
static inline void meminfo_warm_up(void)
{
	volatile char stack[32 * 1024];
	long v;

	memset((char *)stack, 0, sizeof(stack));
	sscanf("1", "%ld", &v);
}

/* The value of a /proc/meminfo field in kB ("MemFree:"), or -1. Reads
 * with open/read into a buffer touched beforehand, so that reading
 * allocates nothing that a second reading would not (no stdio buffer, no
 * first fault on the buffer after the kernel took its count). It first
 * waits for init to have forwarded the output so far and to wait in
 * read() again: a blocked reader holds its kernel buffer, and init must
 * be in the same state at every count. */
static inline long meminfo_kb(const char *field)
{
	static char buf[4096];
	long v = -1;
	ssize_t n;
	char *at;
	int fd;

	settle();
	meminfo_warm_up();
	memset(buf, 0, sizeof(buf));
	fd = open("/proc/meminfo", O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	at = strstr(buf, field);
	if (at && sscanf(at + strlen(field), "%ld", &v) != 1)
		v = -1;
	return v;
}

/* Is the kernel Pagoda (whose MemFree is exact)? */
static inline bool on_pagoda(void)
{
	struct utsname u;

	return uname(&u) == 0 && strcmp(u.sysname, "Pagoda") == 0;
}

#endif
