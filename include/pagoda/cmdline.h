/* The kernel command line (lib/cmdline.c).
 *
 * Options are space-separated "key" or "key=value" words; a value may be
 * double-quoted to hold spaces. Options the kernel does not know are ignored,
 * as Linux does, so a command line written for Linux boots here too. Words
 * after "--" are the arguments for init. */
#ifndef PAGODA_CMDLINE_H
#define PAGODA_CMDLINE_H

#include <pagoda/types.h>

#define CMDLINE_MAX_PARAMS 64

struct cmdline {
	char buf[1024];
	unsigned int nr;
	const char *key[CMDLINE_MAX_PARAMS];
	const char *value[CMDLINE_MAX_PARAMS]; /* NULL for a bare "key" */
	unsigned int nr_init_args;
	const char *init_args[CMDLINE_MAX_PARAMS];
	unsigned int nr_ignored; /* options beyond CMDLINE_MAX_PARAMS */
};

/* Split s into *cl (s is copied; later edits to s do not matter). Options
 * beyond CMDLINE_MAX_PARAMS are counted in nr_ignored, for the caller to
 * report. */
void cmdline_parse(struct cmdline *cl, const char *s);

/* The value of the last "key=value" for key; "" for a bare "key"; NULL if
 * key is absent. */
const char *cmdline_get(const struct cmdline *cl, const char *key);

/* Parse a size with an optional K/M/G/T suffix ("64M", "0x1000", "8G").
 * Returns 0 or -EINVAL; *end gets the first character not parsed. */
int cmdline_parse_size(const char *s, const char **end, uint64_t *out);

/* Is name one of the comma-separated words of list ("pmm,vma")? */
bool cmdline_list_has(const char *list, const char *name);

/* The boot command line, parsed in kmain. */
extern struct cmdline kernel_cmdline;
static inline const char *kernel_param(const char *key)
{
	return cmdline_get(&kernel_cmdline, key);
}

#endif
