/* COM1 output for the test guests and a small printf (%s %c %d %i %u %x %X %p %%, widths,
 * zero padding, l/ll sizes) that needs no libc and no 64-bit division from libgcc. */
#include "testlib.h"

#define UART_THR      0
#define UART_LSR      5
#define UART_LSR_THRE 0x20

/*
 * No UART setup: QEMU and Keel both start the port ready to send. The wait is bounded so
 * that a UART which never reports THRE slows output down instead of hanging the test.
 */
void serial_putc(char c)
{
	for (int i = 0; i < 100000; i++) {
		if (inb(COM1_PORT + UART_LSR) & UART_LSR_THRE)
			break;
		cpu_relax();
	}
	outb(COM1_PORT + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

/* 64-by-32 division from two 32-bit DIVs: the high half first, its remainder then leads the low. */
static uint64_t div64_u32(uint64_t n, uint32_t d, uint32_t *rem)
{
	uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
	uint32_t qhi = hi / d, r = hi % d, qlo;

	asm("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
	*rem = r;
	return ((uint64_t)qhi << 32) | qlo;
}

struct fmt_spec {
	int width;
	int zero_pad;
	int left;
};

static void put_padded(const char *s, int len, const struct fmt_spec *spec)
{
	int pad = spec->width > len ? spec->width - len : 0;

	if (!spec->left)
		while (pad-- > 0)
			serial_putc(spec->zero_pad ? '0' : ' ');
	for (int i = 0; i < len; i++)
		serial_putc(s[i]);
	if (spec->left)
		while (pad-- > 0)
			serial_putc(' ');
}

static void put_number(uint64_t v, unsigned base, int negative, int upper,
		       const struct fmt_spec *spec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int i = sizeof(buf);

	do {
		uint32_t rem;

		if (base == 16) {
			rem = (uint32_t)v & 15;
			v >>= 4;
		} else {
			v = div64_u32(v, base, &rem);
		}
		buf[--i] = digits[rem];
	} while (v);

	if (negative) {
		/* the sign goes before zero padding, not after it */
		if (spec->zero_pad && spec->width > 0) {
			struct fmt_spec rest = *spec;

			serial_putc('-');
			rest.width--;
			put_padded(buf + i, sizeof(buf) - i, &rest);
			return;
		}
		buf[--i] = '-';
	}
	put_padded(buf + i, sizeof(buf) - i, spec);
}

void tvprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		struct fmt_spec spec = {0, 0, 0};
		int longs = 0;
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			serial_putc(*fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				spec.zero_pad = 1;
			else if (*fmt == '-')
				spec.left = 1;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			spec.width = spec.width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}

		switch (*fmt) {
		case 'd':
		case 'i':
			s = longs >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
			put_number(s < 0 ? -(uint64_t)s : (uint64_t)s, 10, s < 0, 0, &spec);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
			put_number(u, *fmt == 'u' ? 10 : 16, 0, *fmt == 'X', &spec);
			break;
		case 'p':
			serial_puts("0x");
			spec.width = 8;
			spec.zero_pad = 1;
			put_number((uintptr_t)va_arg(ap, void *), 16, 0, 0, &spec);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (!str)
				str = "(null)";
			put_padded(str, (int)tg_strlen(str), &spec);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			put_padded(&c, 1, &spec);
			break;
		}
		case '%':
			serial_putc('%');
			break;
		case '\0':
			return;
		default:
			/* show the unknown conversion rather than silently eating arguments */
			serial_putc('%');
			serial_putc(*fmt);
			break;
		}
	}
}

void tprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tvprintf(fmt, ap);
	va_end(ap);
}
