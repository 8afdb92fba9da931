/* Device state streams for checkpoint and migration: a bounded writer and a reader that
 * fails (instead of reading past the end) on truncated or hostile input. */
#ifndef KEEL_STATE_H
#define KEEL_STATE_H

#include "../hypervisor/types.h"

struct state_writer {
	u8 *buf;
	size_t size, len;
	bool overflow;
};

struct state_reader {
	const u8 *buf;
	size_t size, pos;
	bool error;
};

void state_put(struct state_writer *w, const void *p, size_t n);
bool state_get(struct state_reader *r, void *p, size_t n);
/* Section tag + version at the start of each device's state; the reader checks both. */
void state_put_tag(struct state_writer *w, const char tag[4], u32 version);
bool state_get_tag(struct state_reader *r, const char tag[4], u32 version);

/* Macros, not functions: they take the field itself so its size comes from sizeof and
 * cannot drift from its type. */
#define STATE_PUT(w, x) state_put(w, &(x), sizeof(x))
#define STATE_GET(r, x) state_get(r, &(x), sizeof(x))

#endif
