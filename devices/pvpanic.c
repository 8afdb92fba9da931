/* pvpanic: reads tell which events are supported, writes report them. No state beyond
 * the wiring. */
#include "pvpanic.h"

void pvpanic_access(void *dev, struct io_access *a)
{
	struct pvpanic *p = dev;
	u8 supported = (u8)(PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	if (!a->write) {
		a->value = a->size == 1 ? supported : io_size_mask(a->size) & supported;
		return;
	}
	u8 ev = (u8)a->value & supported;
	if (ev && p->event)
		p->event(p->ctx, ev);
}

/* ---- the device interface ---- */

void pvpanic_save(const struct pvpanic *p, struct state_writer *w)
{
	(void)p;
	state_put_tag(w, "PVPN", 1);
}

bool pvpanic_load(struct pvpanic *p, struct state_reader *r)
{
	(void)p;
	return state_get_tag(r, "PVPN", 1);
}

static void dev_save(void *dev, struct state_writer *w)
{
	pvpanic_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return pvpanic_load(dev, r);
}

const struct device_ops pvpanic_device = {
    .name = "pvpanic",
    .port = pvpanic_access,
    .save = dev_save,
    .load = dev_load,
};
