/* The emulated parallel port (LPT1 at 0x378, IRQ 7) with a printer on it: the data latch,
 * the status register (busy, ack, select, paper) and the control register whose strobe
 * hands a byte to the VM's printer input; an idle timeout in VM time ends the job. */
#ifndef KEEL_LPT_H
#define KEEL_LPT_H

#include "clock.h"
#include "device.h"
#include "irq.h"
#include "printer.h"

#define LPT1_BASE 0x378
#define LPT_PORTS 3
#define LPT1_IRQ  7

/* registers, as offsets from the base */
#define LPT_DATA   0
#define LPT_STATUS 1
#define LPT_CTRL   2

/* status bits as a PC reads them (busy and ack are active low on the wire, so a 1 in bit 7
 * means ready and a 0 in bit 6 means the printer is acknowledging a byte) */
#define LPT_ST_NOT_BUSY BIT(7)
#define LPT_ST_NOT_ACK	BIT(6)
#define LPT_ST_PAPER	BIT(5) /* paper out */
#define LPT_ST_SELECT	BIT(4)
#define LPT_ST_NOT_ERR	BIT(3)

#define LPT_CTRL_STROBE	   BIT(0)
#define LPT_CTRL_AUTOFEED  BIT(1)
#define LPT_CTRL_NOT_INIT  BIT(2)
#define LPT_CTRL_SELECT_IN BIT(3)
#define LPT_CTRL_IRQ	   BIT(4)
#define LPT_CTRL_INPUT	   BIT(5) /* bidirectional ports: data lines read the printer */

/* A job ends after this much VM time without a byte (the default). */
#define LPT_IDLE_NS (2ULL * NS_PER_SEC)

struct lpt {
	u8 data;
	u8 ctrl;     /* bits 0-5 as last written */
	bool ack;    /* a byte was taken: nACK reads low until the status is read */
	u64 idle_at; /* ns of VM time when the open job ends by idleness, 0 none */
	u64 idle_ns;
	u64 bytes; /* bytes handed to the printer */
	u64 jobs_ended_idle;
	const struct printer_sink *sink;
	struct irq_line irq;
	const struct dev_clock *clock;
};

/* idle_ns 0: the default. The sink, line and clock stay the caller's. */
void lpt_init(struct lpt *l, const struct printer_sink *sink, const struct irq_line *irq,
	      const struct dev_clock *clock, u64 idle_ns);
void lpt_reset(struct lpt *l);
void lpt_access(void *dev, struct io_access *a);
void lpt_update(struct lpt *l, const struct dev_time *now);
u64 lpt_next_event(const struct lpt *l, const struct dev_time *now);
void lpt_save(const struct lpt *l, struct state_writer *w);
bool lpt_load(struct lpt *l, struct state_reader *r);

/* LPT1 as the platform drives it. */
extern const struct device_ops lpt_device;

#endif
