/* kvsnprintf: the one formatter behind every console and log line.
 * Supports %d %i %u %x %X %p %s %c %% with flags '-' '0', width, and l/ll/z/h/hh. */
#include "lib.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;
	if (!left)
		while (fill-- > 0)
			put(o, pad);
	while (n--)
		put(o, *s++);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

static void put_number(struct out *o, u64 v, bool neg, unsigned base, bool upper, int width,
		       bool left, bool zero)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg) {
		if (zero && !left) {
			put(o, '-');
			width--;
		} else {
			tmp[n++] = '-';
		}
	}
	char rev[24];
	for (int i = 0; i < n; i++)
		rev[i] = tmp[n - 1 - i];
	put_padded(o, rev, (size_t)n, width, left, zero && !left ? '0' : ' ');
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		bool left = false, zero = false;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else
				break;
		}
		int width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t; h/hh read as int */
		for (;; fmt++) {
			if (*fmt == 'l')
				lng = lng ? 2 : 1;
			else if (*fmt == 'z')
				lng = 3;
			else if (*fmt == 'h')
				continue;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 v = lng == 0   ? va_arg(ap, int)
				: lng == 1 ? va_arg(ap, long)
				: lng == 2 ? va_arg(ap, long long)
					   : (s64)va_arg(ap, size_t);
			u64 mag = v < 0 ? (u64)0 - (u64)v : (u64)v;
			put_number(&o, mag, v < 0, 10, false, width, left, zero);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			u64 v = lng == 0   ? va_arg(ap, unsigned)
				: lng == 1 ? va_arg(ap, unsigned long)
				: lng == 2 ? va_arg(ap, unsigned long long)
					   : va_arg(ap, size_t);
			put_number(&o, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, left,
				   zero);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, (u64)(uintptr_t)va_arg(ap, void *), false, 16, false, width,
				   left, zero);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			put_padded(&o, s, strlen(s), width, left, ' ');
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		case 0:
			fmt--; /* a lone '%' at the end */
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
