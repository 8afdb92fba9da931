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
