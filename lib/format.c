/* vsnprintf: the kernel's printf formatting.
 *
 * Supports %d %i %u %x %X %o %p %s %c %%, the flags '-', '0', '#', ' ' and
 * '+', a width and a precision (both may be '*'), and the length modifiers
 * hh h l ll z t j. Output is always NUL-terminated when size > 0; the return
 * value is the length the full output would have had, as in C. */
#include <stdarg.h>
#include <pagoda/format.h>
#include <pagoda/string.h>

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

struct fmt_spec {
	bool left, zero, alt, plus, space;
	int width;
	int precision; /* -1: none */
	int length;    /* 0 int, 1 long, 2 long long, -1 short, -2 char */
};

static void out_char(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

static void out_string(struct fmt_out *o, const char *s, const struct fmt_spec *sp)
{
	int n;

	if (!s)
		s = "(null)";
	n = sp->precision >= 0 ? (int)strnlen(s, sp->precision) : (int)strlen(s);
	if (!sp->left)
		out_pad(o, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		out_char(o, s[i]);
	if (sp->left)
		out_pad(o, ' ', sp->width - n);
}

static void out_number(struct fmt_out *o, uint64_t v, bool negative, unsigned base,
		       bool upper, const struct fmt_spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24], prefix[3] = { 0 };
	int n = 0, plen = 0, zeros, total;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (negative)
		prefix[plen++] = '-';
	else if (sp->plus)
		prefix[plen++] = '+';
	else if (sp->space)
		prefix[plen++] = ' ';
	if (sp->alt && base == 16) {
		prefix[plen++] = '0';
		prefix[plen++] = upper ? 'X' : 'x';
	}
	zeros = sp->precision > n ? sp->precision - n : 0;
	total = plen + zeros + n;
	if (sp->zero && !sp->left && sp->precision < 0 && sp->width > total) {
		zeros += sp->width - total;
		total = sp->width;
	}
	if (!sp->left)
		out_pad(o, ' ', sp->width - total);
	for (int i = 0; i < plen; i++)
		out_char(o, prefix[i]);
	out_pad(o, '0', zeros);
	while (n)
		out_char(o, tmp[--n]);
	if (sp->left)
		out_pad(o, ' ', sp->width - total);
}

static const char *parse_spec(const char *f, struct fmt_spec *sp, va_list *ap)
{
	*sp = (struct fmt_spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-') sp->left = true;
		else if (*f == '0') sp->zero = true;
		else if (*f == '#') sp->alt = true;
		else if (*f == '+') sp->plus = true;
		else if (*f == ' ') sp->space = true;
		else break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp->width = sp->width * 10 + (*f - '0');
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->precision = va_arg(*ap, int);
			f++;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			sp->precision = sp->precision * 10 + (*f - '0');
	}
	for (;; f++) {
		if (*f == 'h') sp->length--;
		else if (*f == 'l') sp->length++;
		else if (*f == 'z' || *f == 't' || *f == 'j') sp->length = 1;
		else break;
	}
	return f;
}

static uint64_t fetch_unsigned(const struct fmt_spec *sp, va_list *ap)
{
	if (sp->length >= 1)
		return sp->length == 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned long long);
	unsigned int v = va_arg(*ap, unsigned int);
	return sp->length == -1 ? (unsigned short)v : sp->length <= -2 ? (unsigned char)v : v;
}

static int64_t fetch_signed(const struct fmt_spec *sp, va_list *ap)
{
	if (sp->length >= 1)
		return sp->length == 1 ? va_arg(*ap, long) : va_arg(*ap, long long);
	int v = va_arg(*ap, int);
	return sp->length == -1 ? (short)v : sp->length <= -2 ? (signed char)v : v;
}

static void format_one(struct fmt_out *o, char conv, struct fmt_spec *sp, va_list *ap)
{
	int64_t s;
	char c;

	switch (conv) {
	case 'd': case 'i':
		s = fetch_signed(sp, ap);
		out_number(o, s < 0 ? -(uint64_t)s : (uint64_t)s, s < 0, 10, false, sp);
		break;
	case 'u': out_number(o, fetch_unsigned(sp, ap), false, 10, false, sp); break;
	case 'x': out_number(o, fetch_unsigned(sp, ap), false, 16, false, sp); break;
	case 'X': out_number(o, fetch_unsigned(sp, ap), false, 16, true, sp); break;
	case 'o': out_number(o, fetch_unsigned(sp, ap), false, 8, false, sp); break;
	case 'p':
		sp->alt = true;
		sp->length = 1;
		out_number(o, (uintptr_t)va_arg(*ap, void *), false, 16, false, sp);
		break;
	case 's': out_string(o, va_arg(*ap, const char *), sp); break;
	case 'c':
		c = (char)va_arg(*ap, int);
		if (!sp->left) out_pad(o, ' ', sp->width - 1);
		out_char(o, c);
		if (sp->left) out_pad(o, ' ', sp->width - 1);
		break;
	default: /* %% and anything unknown print as themselves */
		out_char(o, conv);
		break;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };
	struct fmt_spec sp;
	va_list aq;

	va_copy(aq, ap);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			out_char(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &aq);
		if (!*f)
			break;
		format_one(&o, *f, &sp, &aq);
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
