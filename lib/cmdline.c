/* Splitting the kernel command line into options. */
#include <pagoda/cmdline.h>
#include <pagoda/errno.h>
#include <pagoda/string.h>

struct cmdline kernel_cmdline;

/* Cut the next word out of *p in place, removing double quotes; returns
 * the word or NULL at the end of the string. */
static char *next_word(char **p)
{
	char *s = *p, *out, *start;
	bool quoted = false;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (!*s)
		return NULL;
	start = out = s;
	for (; *s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n')); s++) {
		if (*s == '"')
			quoted = !quoted;
		else
			*out++ = *s;
	}
	if (*s)
		s++;
	*out = '\0';
	*p = s;
	return start;
}

void cmdline_parse(struct cmdline *cl, const char *s)
{
	char *p = cl->buf, *w;
	bool init_args = false;

	strlcpy(cl->buf, s, sizeof(cl->buf));
	cl->nr = cl->nr_init_args = cl->nr_ignored = 0;
	while ((w = next_word(&p))) {
		if (init_args) {
			if (cl->nr_init_args < CMDLINE_MAX_PARAMS)
				cl->init_args[cl->nr_init_args++] = w;
			continue;
		}
		if (strcmp(w, "--") == 0) {
			init_args = true;
			continue;
		}
		if (cl->nr == CMDLINE_MAX_PARAMS) {
			cl->nr_ignored++;
			continue;
		}
		char *eq = strchr(w, '=');
		if (eq)
			*eq = '\0';
		cl->key[cl->nr] = w;
		cl->value[cl->nr] = eq ? eq + 1 : NULL;
		cl->nr++;
	}
}

const char *cmdline_get(const struct cmdline *cl, const char *key)
{
	for (unsigned int i = cl->nr; i-- > 0;)
		if (strcmp(cl->key[i], key) == 0)
			return cl->value[i] ? cl->value[i] : "";
	return NULL;
}

int cmdline_parse_size(const char *s, const char **end, uint64_t *out)
{
	uint64_t v;
	unsigned int shift = 0;
	int ret = kstrtou64_prefix(s, end, &v);

	if (ret)
		return -EINVAL;
	switch (**end) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	}
	if (shift) {
		if (v > (UINT64_MAX >> shift))
			return -EINVAL;
		v <<= shift;
		(*end)++;
	}
	*out = v;
	return 0;
}

bool cmdline_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len + (comma ? 1 : 0);
	}
	return false;
}
