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
 * sleeps a little, so that init has forwarded the output so far and
 * waits in read() again: a blocked reader holds its kernel buffer, and
 * init must be in the same state at every count. */
static inline long meminfo_kb(const char *field)
{
	static char buf[4096];
	struct timespec settle = { 0, 20 * 1000 * 1000 };
	long v = -1;
	ssize_t n;
	char *at;
	int fd;

	nanosleep(&settle, NULL);
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
