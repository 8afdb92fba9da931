/* pvpanic: reads tell which events are supported, writes report them. Stateless. */
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
