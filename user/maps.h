/* Reading /proc/self/maps: one line per VMA,
 *
 *   55d4c1a00000-55d4c1a21000 rw-p 00000000 00:00 0          [heap]
 *   start        end          perms offset dev   inode      name
 *
 * covering [start, end). The checks below ask whether a range is covered
 * by lines with given permissions (however many lines: the kernel may
 * merge or split neighbours), or by no line at all. */
#ifndef PAGODA_USER_MAPS_H
#define PAGODA_USER_MAPS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktap.h"

struct map_line {
	uintptr_t start, end;
	char perms[5];
	char name[128]; /* "" for an anonymous mapping */
};

#define MAPS_MAX 1024
static struct map_line maps[MAPS_MAX];
static int nr_maps;
static char maps_text[128 * 1024];

/* Parse one line into *m; false if it is not a maps line. */
static inline bool maps_parse_line(const char *s, struct map_line *m)
{
	char *p;
	int field;

	m->start = strtoul(s, &p, 16);
	if (*p != '-')
		return false;
	m->end = strtoul(p + 1, &p, 16);
	if (*p != ' ' || strlen(p) < 5)
		return false;
	memcpy(m->perms, p + 1, 4);
	m->perms[4] = 0;
	/* Skip perms, offset, dev and inode; the rest is the name. */
	for (field = 0; field < 4 && *p; field++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
	}
	while (*p == ' ')
		p++;
	snprintf(m->name, sizeof(m->name), "%s", p);
	return true;
}

/* Read /proc/self/maps into maps[]. Returns the line count, or -1 with
 * a diagnostic if the file cannot be read. */
static inline int maps_read(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	nr_maps = 0;
	if (fd < 0) {
		ktap_log("cannot open /proc/self/maps: %s", strerror(errno));
		return -1;
	}
	while (len < sizeof(maps_text) - 1 &&
	       (n = read(fd, maps_text + len, sizeof(maps_text) - 1 - len)) > 0)
		len += n;
	close(fd);
	maps_text[len] = 0;
	for (char *line = maps_text; *line && nr_maps < MAPS_MAX;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (maps_parse_line(line, &maps[nr_maps]))
			nr_maps++;
		if (!nl)
			break;
		line = nl + 1;
	}
	return nr_maps;
}

/* The line containing addr, from the last maps_read(), or NULL. */
static inline const struct map_line *maps_find(uintptr_t addr)
{
	for (int i = 0; i < nr_maps; i++)
		if (maps[i].start <= addr && addr < maps[i].end)
			return &maps[i];
	return NULL;
}

/* Log the lines around [start, end), to explain a failed check. */
static inline void maps_log_range(uintptr_t start, uintptr_t end)
{
	int shown = 0;

	for (int i = 0; i < nr_maps; i++) {
		if (maps[i].end + 0x10000 <= start || maps[i].start >= end + 0x10000)
			continue;
		ktap_log("maps: %lx-%lx %s %s", (unsigned long)maps[i].start,
			 (unsigned long)maps[i].end, maps[i].perms, maps[i].name);
		shown++;
	}
	if (!shown)
		ktap_log("maps: no line near %lx-%lx (%d lines)", (unsigned long)start,
			 (unsigned long)end, nr_maps);
}

/* Is every byte of [start, end) in a line with these perms ("rw-p")? */
static inline bool maps_covers(uintptr_t start, uintptr_t end, const char *perms)
{
	if (maps_read() < 0)
		return false;
	for (uintptr_t a = start; a < end;) {
		const struct map_line *m = maps_find(a);
		if (!m || strcmp(m->perms, perms) != 0)
			return false;
		a = m->end;
	}
	return true;
}

/* Does no line overlap [start, end)? */
static inline bool maps_absent(uintptr_t start, uintptr_t end)
{
	if (maps_read() < 0)
		return false;
	for (int i = 0; i < nr_maps; i++)
		if (maps[i].start < end && start < maps[i].end)
			return false;
	return true;
}

#define EXPECT_MAPPED(start, len, perms)                                       \
	do {                                                                   \
		uintptr_t __s = (uintptr_t)(start), __e = __s + (len);         \
		if (!maps_covers(__s, __e, perms)) {                           \
			char __m[160];                                         \
			snprintf(__m, sizeof(__m),                             \
				 "expected /proc/self/maps to show %lx-%lx as %s", \
				 (unsigned long)__s, (unsigned long)__e, perms); \
			ktap_fail_at(__FILE__, __LINE__, __m);                 \
			maps_log_range(__s, __e);                              \
		}                                                              \
	} while (0)

#define EXPECT_UNMAPPED(start, len)                                            \
	do {                                                                   \
		uintptr_t __s = (uintptr_t)(start), __e = __s + (len);         \
		if (!maps_absent(__s, __e)) {                                  \
			char __m[160];                                         \
			snprintf(__m, sizeof(__m),                             \
				 "expected /proc/self/maps to show nothing in %lx-%lx", \
				 (unsigned long)__s, (unsigned long)__e);      \
			ktap_fail_at(__FILE__, __LINE__, __m);                 \
			maps_log_range(__s, __e);                              \
		}                                                              \
	} while (0)

#endif
