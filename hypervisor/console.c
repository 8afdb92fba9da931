/* Console core: formatting, level filtering and the history ring. Pure C: the sink that
 * reaches the hardware is installed by the boot code (uart_hw.c). */
#include "console.h"
#include "lib.h"

#define HISTORY_SIZE 16384

static console_sink_fn sink;
static enum log_level level = LOG_INFO;
static char history[HISTORY_SIZE];
static size_t history_pos; /* total bytes ever written; index = pos % size */
static void (*write_hook)(void *ctx);
static void *write_hook_ctx;
static bool in_hook;
static char *capture_buf; /* console_capture_begin: output goes here instead */
static size_t capture_size, capture_len;
static bool capture_truncated;

static const char *const level_names[] = {"err", "warn", "info", "debug"};

void console_set_sink(console_sink_fn fn)
{
	sink = fn;
}

void console_set_level(enum log_level lvl)
{
	level = lvl;
}

enum log_level console_level(void)
{
	return level;
}

bool console_parse_level(const char *name, enum log_level *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (!strcmp(name, level_names[i])) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

const char *console_level_name(enum log_level lvl)
{
	return (unsigned)lvl < ARRAY_SIZE(level_names) ? level_names[lvl] : "?";
}

void console_set_write_hook(void (*fn)(void *ctx), void *ctx)
{
	write_hook = fn;
	write_hook_ctx = ctx;
}

void console_capture_begin(char *buf, size_t size)
{
	capture_buf = buf;
	capture_size = size;
	capture_len = 0;
	capture_truncated = false;
}

size_t console_capture_end(bool *truncated)
{
	size_t n = capture_len;
	*truncated = capture_truncated;
	capture_buf = NULL;
	capture_size = capture_len = 0;
	return n;
}

void console_write(const char *s, size_t n)
{
	if (capture_buf) {
		size_t take = MIN(n, capture_size - capture_len);
		memcpy(capture_buf + capture_len, s, take);
		capture_len += take;
		capture_truncated |= take < n;
		return;
	}
	if (write_hook && !in_hook && n) {
		in_hook = true;
		write_hook(write_hook_ctx);
		in_hook = false;
	}
	for (size_t i = 0; i < n; i++)
		history[(history_pos + i) % HISTORY_SIZE] = s[i];
	history_pos += n;
	if (sink)
		sink(s, n);
}

size_t console_history(char *buf, size_t size)
{
	size_t have = history_pos < HISTORY_SIZE ? history_pos : HISTORY_SIZE;
	size_t n = have < size ? have : size;
	size_t start = history_pos - n;
	for (size_t i = 0; i < n; i++)
		buf[i] = history[(start + i) % HISTORY_SIZE];
	return n;
}

void kvprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void klog(enum log_level lvl, const char *fmt, ...)
{
	if (lvl > level)
		return;
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
