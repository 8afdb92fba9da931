/* String and memory helpers. The hypervisor provides its own (lib.c); hosted unit tests use
 * the C library's, so the pure modules compile unchanged in both builds. */
#ifndef KEEL_LIB_H
#define KEEL_LIB_H

#include "types.h"

#ifdef KEEL_HOSTED
#include <string.h>
#else
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

/* memcpy (non-overlapping), eight bytes at a time at any alignment: the hypervisor's memcpy,
 * and in the hosted tests the same code under its own name. */
void *kmemcpy(void *d, const void *s, size_t n);

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t kstrlcpy(char *dst, const char *src, size_t size);

/* Parses an unsigned decimal or 0x-hex number; the whole string must be a number.
 * Returns false on junk or overflow. */
bool kparse_u64(const char *s, u64 *out);

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
