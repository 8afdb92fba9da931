/* QEMU-compatible isa-debug-exit: a write of v ends the VM with status (v << 1) | 1. */
#ifndef KEEL_DEBUG_EXIT_H
#define KEEL_DEBUG_EXIT_H

#include "io_bus.h"
#include "state.h"
#include "device.h"

#define DEBUG_EXIT_PORT 0xf4

struct debug_exit {
	void (*on_exit)(void *ctx, u32 status);
	void *ctx;
};

void debug_exit_access(void *dev, struct io_access *a);
void debug_exit_save(const struct debug_exit *d, struct state_writer *w);
bool debug_exit_load(struct debug_exit *d, struct state_reader *r);

/* isa-debug-exit as the platform drives it. */
extern const struct device_ops debug_exit_device;

#endif
