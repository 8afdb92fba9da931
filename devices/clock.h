/* Time as device models receive it: the hypervisor's monotonic guest time in nanoseconds,
 * read through a callback at each port access, so that models keep no clock of their own.
 * Models with time also take `now` explicitly in their update and next-event calls. */
#ifndef KEEL_DEV_CLOCK_H
#define KEEL_DEV_CLOCK_H

#include "../hypervisor/types.h"

#define NS_PER_SEC 1000000000ULL

struct dev_clock {
	u64 (*now_ns)(void *ctx);
	void *ctx;
};

/* Without a callback time stands still (0): models never let their time go backwards. */
static inline u64 dev_clock_now(const struct dev_clock *c)
{
	return (c && c->now_ns) ? c->now_ns(c->ctx) : 0;
}

#endif
