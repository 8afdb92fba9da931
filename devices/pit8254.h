/* 8254 programmable interval timer at 0x40-0x43 and the bits of port 0x61 it owns (channel 2
 * gate, speaker data, refresh toggle, channel 2 output). Time is passed in as nanoseconds
 * and turned into 1,193,182 Hz clocks; channel 0's output drives IRQ0 as pulses. */
#ifndef KEEL_PIT8254_H
#define KEEL_PIT8254_H

#include "clock.h"
#include "io_bus.h"
#include "irq.h"
#include "state.h"
#include "device.h"

#define PIT_HZ	   1193182ULL
#define PIT_BASE   0x40 /* counters 0-2 and the control word at 0x43 */
#define PIT_PORT_B 0x61 /* system control port B */

enum pit_state {
	PIT_IDLE,      /* no count written since the control word */
	PIT_LOAD,      /* the count register moves into the counter on the next clock */
	PIT_WAIT_GATE, /* modes 1 and 5: counting starts at a rising gate */
	PIT_COUNTING,
};

struct pit_channel {
	u8 mode;      /* 0-5 */
	u8 mode_bits; /* M2-M0 as written (6 and 7 are modes 2 and 3), for the status byte */
	u8 rw;	      /* 1: LSB only, 2: MSB only, 3: LSB then MSB */
	u8 state;     /* enum pit_state */
	bool bcd, gate, out, null_count;
	bool write_msb_next, read_msb_next; /* the two byte flip-flops */
	bool count_latched, status_latched;
	bool tc;	   /* modes 0, 1, 4, 5: terminal count passed since the last load */
	u8 status;	   /* the latched status byte */
	u16 cr;		   /* count register, as written */
	u16 latch;	   /* the latched count */
	u32 ce;		   /* the counting element now: 0 to 65535 (9999 in BCD), binary */
	u32 period, phase; /* modes 2, 3: the count in use and clocks since the last reload */
};

struct pit8254 {
	struct pit_channel ch[3];
	u64 tick;	/* the PIT clock (clocks since time 0) the state has reached */
	u64 now_ns;	/* the latest time seen; an earlier time counts as this one */
	u8 port_b;	/* port 0x61 bits 0-3 as written */
	bool irq0_edge; /* a rising edge of OUT0 not yet pulsed */
	struct irq_line irq0;
	struct dev_clock clock;
	u64 irq0_pulses;    /* IRQ0 pulses sent */
	u64 irq0_coalesced; /* rising edges folded into another pulse (late updates) */
};

/* The state a PC BIOS leaves: channel 0 in mode 3 with count 65536 (18.2 Hz), channel 1 in
 * mode 2 with count 18 (refresh), channel 2 in mode 3 with its gate low. `irq0` and `clock`
 * may be NULL; `now` is the current time in ns. */
void pit_init(struct pit8254 *pit, const struct irq_line *irq0, const struct dev_clock *clock,
	      u64 now);
/* Port handler for 0x40-0x43 and 0x61 (register both ranges with this device); reads the
 * time from the clock given to pit_init. */
void pit_access(void *dev, struct io_access *a);
/* The same with the time given. */
void pit_io(struct pit8254 *pit, struct io_access *a, u64 now);
/* Brings the counters to `now` and pulses IRQ0 once if OUT0 rose since the last update,
 * however many periods passed (the missed ones are counted in irq0_coalesced). */
void pit_update(struct pit8254 *pit, u64 now);
/* pit_update(), then the time in ns (> now) at which OUT0 next rises, UINT64_MAX if never:
 * the hypervisor arms a timer for it and calls pit_update() when it fires. */
u64 pit_next_event(struct pit8254 *pit, u64 now);
void pit_save(const struct pit8254 *pit, struct state_writer *w);
/* Rejects (changing nothing) truncated, foreign or inconsistent state. */
bool pit_load(struct pit8254 *pit, struct state_reader *r);

/* The PIT and port 0x61 as the platform drives them (time in ns of VM time). */
extern const struct device_ops pit_device;

#endif
