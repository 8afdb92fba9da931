/* Freestanding string/memory helpers (the compiler also emits calls to memset/memcpy).
 * Only the parts that libc lacks are compiled into the hosted tests (see KEEL_HOSTED). */
#include "lib.h"

/* an 8-byte word at any address: x86 loads and stores it unaligned in one instruction */
typedef u64 __attribute__((aligned(1), may_alias)) u64_any;

void *kmemcpy(void *d, const void *s, size_t n)
{
	u8 *dp = d;
	const u8 *sp = s;
	for (; n >= 8; n -= 8, dp += 8, sp += 8)
		*(u64_any *)dp = *(const u64_any *)sp;
	while (n--)
		*dp++ = *sp++;
	return d;
}

#ifndef KEEL_HOSTED
/* Word-at-a-time when both ends are 8-byte aligned: frames are zeroed and guest images
 * copied through these, and Bochs runs them instruction by instruction. */
void *memset(void *d, int c, size_t n)
{
	u8 *p = d;
	if (((uintptr_t)p & 7) == 0) {
		u64 w = 0x0101010101010101ULL * (u8)c;
		for (; n >= 8; n -= 8, p += 8)
			*(u64 *)p = w;
	}
	while (n--)
		*p++ = (u8)c;
	return d;
}

/* Word-at-a-time whatever the alignment: guest buffers (network frames at an offset of 2 or
 * 12 bytes) were copied byte by byte before, about 5 instructions a byte in Bochs. */
void *memcpy(void *d, const void *s, size_t n)
{
	return kmemcpy(d, s, n);
}

void *memmove(void *d, const void *s, size_t n)
{
	u8 *dp = d;
	const u8 *sp = s;
	if (dp < sp) {
		while (n--)
			*dp++ = *sp++;
	} else {
		while (n--)
			dp[n] = sp[n];
	}
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
#endif

size_t kstrlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = 0;
	}
	return n;
}

bool kparse_u64(const char *s, u64 *out)
{
	u64 v = 0;
	unsigned base = 10;
	if (!s || !*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return false;
	}
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}
