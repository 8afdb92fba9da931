/* The SPP printer protocol: data on 0x378, wait while status bit 7 reads 0 (busy), then
 * control 0x0d (strobe with select-in and init high) and back to 0x0c, as Bochs' parport
 * and real printers take a byte. */
#include "parport.h"

#define DATA(p)	  ((p)->base)
#define STATUS(p) ((u16)((p)->base + 1))
#define CTRL(p)	  ((u16)((p)->base + 2))

#define ST_NOT_BUSY 0x80
#define CTRL_IDLE   0x0c /* init high, select-in: the printer selected and ready */
#define CTRL_STROBE 0x0d
#define CTRL_INIT   0x08 /* init low: the printer resets */

bool parport_init(struct parport *p, const struct parport_ops *ops, u16 base)
{
	p->ops = ops;
	p->base = base;
	p->bytes = p->busy = 0;
	ops->outb(ops->ctx, CTRL(p), CTRL_IDLE);
	ops->outb(ops->ctx, DATA(p), 0xa5);
	bool latch = ops->inb(ops->ctx, DATA(p)) == 0xa5;
	ops->outb(ops->ctx, DATA(p), 0x5a);
	latch = latch && ops->inb(ops->ctx, DATA(p)) == 0x5a;
	p->present = latch;
	if (!p->present)
		return false;
	ops->outb(ops->ctx, CTRL(p), CTRL_INIT);
	ops->outb(ops->ctx, CTRL(p), CTRL_IDLE);
	return true;
}

bool parport_put(struct parport *p, u8 c)
{
	if (!p->present)
		return false;
	const struct parport_ops *o = p->ops;
	unsigned polls = 0;
	while (!(o->inb(o->ctx, STATUS(p)) & ST_NOT_BUSY)) {
		if (++polls == PARPORT_BUSY_POLLS) {
			p->busy++;
			return false;
		}
	}
	o->outb(o->ctx, DATA(p), c);
	o->outb(o->ctx, CTRL(p), CTRL_STROBE);
	o->outb(o->ctx, CTRL(p), CTRL_IDLE);
	p->bytes++;
	return true;
}

bool parport_put_cb(void *p, u8 c)
{
	return parport_put(p, c);
}
