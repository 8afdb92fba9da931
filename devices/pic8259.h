/* The two 8259A interrupt controllers as a PC wires them: master at 0x20-0x21, slave at
 * 0xa0-0xa1 cascaded into the master's IR2, and the ELCR (0x4d0-0x4d1) that makes each
 * ISA input edge- or level-triggered. The master's INTR output goes to the vCPU. */
#ifndef KEEL_PIC8259_H
#define KEEL_PIC8259_H

#include "io_bus.h"
#include "irq.h"
#include "state.h"
#include "device.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE	0xa0
#define PIC_ELCR_BASE	0x4d0
#define PIC_CASCADE_IRQ 2

/* One 8259A. */
struct pic8259_chip {
	u8 irr;	  /* request latches of the edge-triggered inputs */
	u8 lines; /* the input pins as the devices drive them */
	u8 isr, imr;
	u8 elcr;	 /* level-triggered inputs (ELCR), within elcr_mask */
	u8 elcr_mask;	 /* inputs the chipset lets be level-triggered */
	u8 vector_base;	 /* ICW2, low three bits clear */
	u8 priority_add; /* the input with the highest priority (rotation) */
	u8 icw_next;	 /* 0: operational; 2, 3 or 4: the ICW the data port expects */
	u8 icw1, icw3;
	bool auto_eoi, rotate_on_aeoi, sfnm, special_mask, read_isr, poll;
};

struct pic8259 {
	struct pic8259_chip chip[2]; /* master, slave */
	struct irq_line intr;	     /* the master's INTR pin */
	bool intr_level;
	u64 spurious; /* acknowledges that found no request (vector IRQ7 or IRQ15) */
};

/* Resets both chips to the state a PC BIOS leaves: initialized, vectors 0x08 and 0x70,
 * every input masked and edge-triggered. `intr` may be NULL (polled with pic_pending). */
void pic_init(struct pic8259 *pic, const struct irq_line *intr);
/* Port handler for 0x20-0x21, 0xa0-0xa1 and 0x4d0-0x4d1 (register all three ranges with the
 * same device). Wider accesses act on consecutive ports, as the ISA bus splits them. */
void pic_access(void *dev, struct io_access *a);
/* A device drives ISA input `irq` (0-15). Input 2 is the cascade and cannot be driven;
 * out-of-range inputs are ignored. */
void pic_set_irq(struct pic8259 *pic, unsigned irq, bool level);
/* The same, shaped as struct irq_line's callback: {pic_irq_line_set, pic, irq}. */
void pic_irq_line_set(void *pic, unsigned irq, bool level);
/* The vector an INTA cycle would return now, or -1 when INTR is low. */
int pic_pending(const struct pic8259 *pic);
/* The INTA cycle: returns the vector and moves the request from IRR to ISR. With nothing to
 * deliver it returns the spurious vector (master base + 7) and changes nothing. */
u8 pic_acknowledge(struct pic8259 *pic);
void pic_save(const struct pic8259 *pic, struct state_writer *w);
/* Rejects (changing nothing) truncated, foreign or inconsistent state. */
bool pic_load(struct pic8259 *pic, struct state_reader *r);

/* The two PICs and the ELCR as the platform drives them. */
extern const struct device_ops pic_device;

#endif
