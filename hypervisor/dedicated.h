/* Dedicated devices: real port-I/O devices of the machine (COM2-COM4, LPT2), each given
 * whole to one VM. Owns the one table of dedicatable devices, who owns each, and the path of
 * a device's interrupt from Keel's handler to the owner's virtual ISA line. Pure: the
 * machine's IOAPIC and the device's ports are reached through struct ded_hw_ops
 * (dedicated_hw.c), the owner's interrupt controllers through struct ded_guest's callbacks. */
#ifndef KEEL_DEDICATED_H
#define KEEL_DEDICATED_H

#include "types.h"

#define DED_MAX_DEVICES 8
#define DED_ISA_IRQS	16

enum ded_kind { DED_UART, DED_PARPORT };

/* One dedicatable device of the machine: a fixed ISA port range and interrupt line. */
struct ded_device {
	const char *name;
	u16 base, len;
	u8 irq;
	enum ded_kind kind; /* how to silence it when its owner ends */
};

extern const struct ded_device ded_devices[];
extern const unsigned ded_ndevices;

/* Index in ded_devices of a device name ("com2"), -1 when it is not dedicatable. */
int ded_lookup(const char *name);
/* "com2,lpt2" (commas, optional spaces) to a mask of ded_devices indices (bit i). NULL, or
 * why not (a sentence naming the word) in msg. */
const char *ded_parse(const char *list, u32 *mask, char *msg, size_t size);

/* What the machine side does for the pure logic. */
struct ded_hw_ops {
	/* ISA line irq to Keel's handler, level-triggered and masked (on), or taken away */
	void (*route)(void *ctx, unsigned irq, bool on);
	void (*mask)(void *ctx, unsigned irq, bool masked);
	/* the device's own interrupt enables off: an owner that ended leaves it silent */
	void (*quiesce)(void *ctx, const struct ded_device *d);
	void *ctx;
};

struct ded_guest;

/* One ISA interrupt line of the machine. */
struct ded_line {
	struct ded_guest *owner; /* the VM its interrupts go to; NULL: none (masked) */
	u32 devices;		 /* the owned devices on it */
	bool masked;		 /* the machine's pin is masked now */
	u64 arrived;		 /* interrupts Keel's handler took */
	u64 unowned;		 /* ... that found no owner (left masked) */
};

/* The registry of the machine's dedicated devices (one per machine). */
struct dedicated {
	struct ded_hw_ops ops;
	struct ded_guest *owner[DED_MAX_DEVICES];
	struct ded_line line[DED_ISA_IRQS];
};

/* A VM's side: its devices, its interrupts queued and in flight, and how to reach its
 * virtual interrupt controllers. Lives in struct vm; zero means no dedicated device. */
struct ded_guest {
	struct dedicated *reg; /* NULL until it claims a device */
	const char *name;      /* the VM's name, for messages */
	u32 devices;	       /* ded_devices indices it owns */
	u32 lines;	       /* their ISA lines */
	u32 queued;	       /* host interrupts taken, not yet on the virtual line */
	u32 in_flight; /* raised to the guest: the machine's pin stays masked until it is done */
	u64 injected[DED_ISA_IRQS]; /* interrupts raised on each virtual line */
	/* drives the VM's virtual ISA line (PIC input and IOAPIC pin) */
	void (*set_line)(void *ctx, unsigned irq, bool level);
	/* the guest still has that line's interrupt pending or in service (not yet EOI'd), or
	 * no route to take it (every controller masks it) */
	bool (*line_busy)(void *ctx, unsigned irq);
	/* a host interrupt was queued: look at this VM before it next runs (or wakes) */
	void (*kick)(void *ctx);
	void *ctx;
};

void ded_init(struct dedicated *d, const struct ded_hw_ops *ops);
/* Gives the devices of `mask` to guest g (its callbacks and name set), all or none: each
 * device silenced, its ports now the caller's to open, its line routed to Keel's handler.
 * NULL, or why not in msg ("com2 is dedicated to vm linux1"). */
const char *ded_claim(struct dedicated *d, struct ded_guest *g, u32 mask, char *msg, size_t size);
/* The owner ended: its devices silenced and free, their lines masked and unrouted. */
void ded_release(struct ded_guest *g);
/* Keel's handler of ISA line irq: the machine's pin is masked (it is level-triggered and
 * the device keeps asserting until the guest services it) and the interrupt is queued. */
void ded_irq(struct dedicated *d, unsigned irq);
/* Whether the VM has something to look at before its entry (cheap: called every entry). */
static inline bool ded_has_work(const struct ded_guest *g)
{
	return (g->queued | g->in_flight) != 0;
}
/* Before the owner's entry: lines the guest is done with are unmasked at the machine's pin,
 * queued interrupts are raised on their virtual lines (an edge, as on the ISA bus). */
void ded_update(struct ded_guest *g);
/* Interrupts raised on the VM's virtual lines, all lines together. */
u64 ded_injected_total(const struct ded_guest *g);

#endif
