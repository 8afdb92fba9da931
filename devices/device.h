/* The one interface every device model offers the platform: a const table of operations
 * (name, reset, port and MMIO access, timers, can-raise, save, load). The board file lists
 * which models a VM has and where; the platform drives them only through this table. */
#ifndef KEEL_DEVICE_H
#define KEEL_DEVICE_H

#include "io_bus.h"
#include "mmio.h"
#include "state.h"

/* Time as the platform hands it to models: guest TSC and the same instant in ns of VM
 * time, with the TSC rate so that a model counting in ns can answer in TSC ticks. */
struct dev_time {
	u64 tsc;
	u64 ns;
	u64 tsc_hz;
};

/* ns of VM time -> guest TSC at rate hz (UINT64_MAX stays "never"); no 64-bit overflow for
 * any rate below 18 GHz. */
static inline u64 dev_ns_to_tsc(u64 hz, u64 ns)
{
	if (ns == UINT64_MAX)
		return UINT64_MAX;
	u64 s = ns / 1000000000ULL, r = ns % 1000000000ULL;
	if (s > UINT64_MAX / hz)
		return UINT64_MAX;
	return s * hz + r * hz / 1000000000ULL;
}

static inline u64 dev_tsc_to_ns(u64 hz, u64 tsc)
{
	return tsc / hz * 1000000000ULL + tsc % hz * 1000000000ULL / hz;
}

/* Every entry but name may be NULL: the model has no such side. `dev` is the model. */
struct device_ops {
	const char *name;
	/* back to the power-on state; wiring (callbacks, config) stays */
	void (*reset)(void *dev);
	/* an access to one of the port ranges or the MMIO window the board gives the model */
	io_fn port;
	mmio_fn mmio;
	/* brings the model's timers to `now`, raising what fell due */
	void (*update)(void *dev, const struct dev_time *now);
	/* guest TSC of the model's next timer interrupt, UINT64_MAX when none */
	u64 (*next_event)(void *dev, const struct dev_time *now);
	/* whether an interrupt could still leave the model towards the vCPU of its own
	 * accord (an unmasked input, an armed timer): a halted vCPU can wake */
	bool (*can_raise)(const void *dev, const struct dev_time *now);
	/* tagged, versioned state; load refuses foreign or truncated state and then leaves the
	 * model unchanged */
	void (*save)(void *dev, struct state_writer *w);
	bool (*load)(void *dev, struct state_reader *r);
	/* REP INS/OUTS on its ports in bulk (io_bus.h); NULL: element by element through port */
	io_string_fn port_string;
};

#endif
