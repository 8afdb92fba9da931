/* isa-debug-exit model: stateless, reads return all ones like QEMU's. */
#include "debug_exit.h"

void debug_exit_access(void *dev, struct io_access *a)
{
	struct debug_exit *d = dev;
	if (!a->write) {
		a->value = io_size_mask(a->size);
		return;
	}
	if (d->on_exit)
		d->on_exit(d->ctx, (a->value << 1) | 1);
}

void debug_exit_save(const struct debug_exit *d, struct state_writer *w)
{
	(void)d;
	state_put_tag(w, "DBGX", 1);
}

bool debug_exit_load(struct debug_exit *d, struct state_reader *r)
{
	(void)d;
	return state_get_tag(r, "DBGX", 1);
}

/* ---- the device interface ---- */

static void dev_save(void *dev, struct state_writer *w)
{
	debug_exit_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return debug_exit_load(dev, r);
}

const struct device_ops debug_exit_device = {
    .name = "debug-exit",
    .port = debug_exit_access,
    .save = dev_save,
    .load = dev_load,
};
