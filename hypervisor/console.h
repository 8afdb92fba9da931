/* The hypervisor's console: formatted output with log levels, a ring buffer of recent
 * output (for the shell's `log`), and one sink (the UART) set at boot. */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include "types.h"

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

typedef void (*console_sink_fn)(const char *s, size_t n);

void console_set_sink(console_sink_fn fn);
void console_set_level(enum log_level lvl);
enum log_level console_level(void);
bool console_parse_level(const char *name, enum log_level *out);
const char *console_level_name(enum log_level lvl);
/* Called before each write that is not made from inside the hook itself (the shell erases
 * its half-typed line there); NULL removes it. */
void console_set_write_hook(void (*fn)(void *ctx), void *ctx);

void console_write(const char *s, size_t n);
void kprintf(const char *fmt, ...) __printf(1, 2);
void kvprintf(const char *fmt, va_list ap);
void klog(enum log_level lvl, const char *fmt, ...) __printf(2, 3);

/* Diverts all console output into buf (size bytes) until console_capture_end: the sink, the
 * history and the write hook see none of it (the control channel's command output). */
void console_capture_begin(char *buf, size_t size);
/* Ends the capture; returns the bytes kept, *truncated says whether more came. */
size_t console_capture_end(bool *truncated);

/* Copies the last up-to-`size` bytes of console output into buf; returns the count. */
size_t console_history(char *buf, size_t size);

#define pr_err(...)   klog(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  klog(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  klog(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

#endif
