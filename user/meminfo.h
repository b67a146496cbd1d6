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

/* The value of a /proc/meminfo field in kB ("MemFree:"), or -1. Reads
 * with open/read into a buffer touched beforehand, so that reading
 * allocates nothing that a second reading would not (no stdio buffer, no
 * first fault on the buffer after the kernel took its count). */
static inline long meminfo_kb(const char *field)
{
	static char buf[4096];
	long v = -1;
	ssize_t n;
	char *at;
	int fd;

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
