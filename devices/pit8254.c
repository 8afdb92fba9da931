/* 8254 counters computed in closed form from the number of clocks that passed, so a late
 * update or a huge time jump costs the same as one clock. Writes, latches, gates and the
 * control word act on the state brought to the time of the access. */
#include "pit8254.h"
#include "../hypervisor/lib.h"

#define CTRL_PORT (PIT_BASE + 3)

#define PORT_B_GATE2   0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_RW      0x0f /* bits 0-3 read back as written */
#define PORT_B_REFRESH 0x10
#define PORT_B_OUT2    0x20
#define REFRESH_CLOCKS 18 /* the refresh bit toggles every ~15 us, as channel 1 runs */

/* ---- time: ns <-> PIT clocks, split so that nothing overflows ---- */

static u64 clocks_at(u64 ns)
{
	return (ns / NS_PER_SEC) * PIT_HZ + (ns % NS_PER_SEC) * PIT_HZ / NS_PER_SEC;
}

/* The first ns at which clocks_at() reaches `clock`; UINT64_MAX if beyond u64. */
static u64 ns_at(u64 clock)
{
	u64 q = clock / PIT_HZ, r = clock % PIT_HZ;
	if (q >= UINT64_MAX / NS_PER_SEC)
		return UINT64_MAX;
	return q * NS_PER_SEC + (r * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ;
}

/* ---- counts ---- */

static u32 modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/* Four BCD digits; digits above 9 are taken as they are, modulo 10000. */
static u32 bcd_to_bin(u16 v)
{
	return ((v >> 12) * 1000u + ((v >> 8) & 15) * 100u + ((v >> 4) & 15) * 10u + (v & 15)) %
	       10000u;
}

static u16 bin_to_bcd(u32 v)
{
	return (u16)(((v / 1000) % 10) << 12 | ((v / 100) % 10) << 8 | ((v / 10) % 10) << 4 |
		     (v % 10));
}

/* The initial count N: the count register, with 0 meaning 65536 (10000 in BCD). */
static u32 initial_count(const struct pit_channel *c)
{
	u32 n = c->bcd ? bcd_to_bin(c->cr) : c->cr;
	if (n == 0)
		n = modulus(c);
	if ((c->mode == 2 || c->mode == 3) && n < 2)
		n = 2; /* 1 is illegal in modes 2 and 3; the smallest period is 2 */
	return n;
}

/* Mode 3 counts down by two per clock, twice per period; an odd N spends one more clock
 * high (N, N-1, N-3, ... 2) than low (N, N-3, ... 2). */
static u32 mode3_count(u32 n, u32 p)
{
	if (!(n & 1))
		return n - 2 * (p < n / 2 ? p : p - n / 2);
	u32 high = (n + 1) / 2;
	if (p < high)
		return p ? n + 1 - 2 * p : n;
	p -= high;
	return p ? n - 1 - 2 * p : n;
}

static bool periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

/* Modes 0, 2, 3 and 4 count only while the gate is high; 1 and 5 use it as a trigger. */
static bool gate_counts(const struct pit_channel *c)
{
	return c->gate || c->mode == 1 || c->mode == 5;
}

static void periodic_out(struct pit_channel *c)
{
	if (c->mode == 2) {
		c->out = c->phase != c->period - 1; /* low for the clock before the reload */
		c->ce = (c->period - c->phase) % modulus(c);
	} else {
		c->out = c->phase < (c->period + 1) / 2;
		c->ce = mode3_count(c->period, c->phase) % modulus(c);
	}
}

/* The clock edge that moves the count register into the counter. */
static void load(struct pit_channel *c)
{
	u32 n = initial_count(c);
	c->state = PIT_COUNTING;
	c->null_count = false;
	if (periodic(c)) {
		c->period = n;
		c->phase = 0;
		periodic_out(c);
		return;
	}
	c->ce = n % modulus(c);
	c->tc = false;
	if (c->mode == 1)
		c->out = false; /* the one-shot pulse starts */
}

/* Moves one channel `k` clocks on; returns how many times OUT rose. */
static u64 advance(struct pit_channel *c, u64 k)
{
	u64 edges = 0;
	if (!k)
		return 0;
	if ((c->mode == 4 || c->mode == 5) && !c->out) {
		c->out = true; /* the strobe lasts one clock */
		edges++;
	}
	if (c->state == PIT_LOAD) {
		load(c);
		k--;
	}
	if (c->state != PIT_COUNTING || !k || !gate_counts(c))
		return edges;
	if (periodic(c)) {
		u64 total = c->phase + k;
		if (total >= c->period) {
			u64 rest = total - c->period;
			c->period = initial_count(c); /* a count written meanwhile starts here */
			c->null_count = false;
			edges += 1 + rest / c->period;
			c->phase = (u32)(rest % c->period);
		} else {
			c->phase = (u32)total;
		}
		periodic_out(c);
		return edges;
	}
	u32 m = modulus(c);
	if (!c->tc) {
		u64 to_tc = c->ce ? c->ce : m;
		if (k >= to_tc) {
			c->tc = true;
			if (c->mode == 0 || c->mode == 1) {
				c->out = true;
				edges++;
			} else if (k == to_tc) {
				c->out = false; /* modes 4, 5: the strobe is this clock */
			} else {
				edges++; /* ... and is already over */
			}
		}
	}
	c->ce = (u32)((c->ce + m - k % m) % m); /* counting goes on, wrapping, after TC */
	return edges;
}

/* Clocks from the current state to OUT's next rising edge; 0 if none is coming. */
static u64 clocks_to_rise(const struct pit_channel *c)
{
	bool strobe = c->mode == 4 || c->mode == 5;
	if (strobe && !c->out)
		return 1;
	if (c->state == PIT_LOAD) {
		if (!gate_counts(c))
			return 0;
		return 1 + initial_count(c) + (strobe ? 1 : 0);
	}
	if (c->state != PIT_COUNTING || !gate_counts(c))
		return 0;
	if (periodic(c))
		return c->period - c->phase;
	if (c->tc)
		return 0;
	return (c->ce ? c->ce : modulus(c)) + (strobe ? 1 : 0);
}

/* ---- the chip ---- */

static void set_out(struct pit8254 *pit, unsigned i, bool out)
{
	if (i == 0 && out && !pit->ch[0].out)
		pit->irq0_edge = true;
	pit->ch[i].out = out;
}

static void bring_to(struct pit8254 *pit, u64 now)
{
	if (now > pit->now_ns)
		pit->now_ns = now;
	u64 t = clocks_at(pit->now_ns);
	if (t <= pit->tick)
		return;
	u64 k = t - pit->tick;
	pit->tick = t;
	for (unsigned i = 0; i < 3; i++) {
		u64 edges = advance(&pit->ch[i], k);
		if (i == 0 && edges) {
			pit->irq0_coalesced += edges - 1; /* at most one pulse per update */
			pit->irq0_edge = true;
		}
	}
}

static void flush_irq0(struct pit8254 *pit)
{
	if (!pit->irq0_edge)
		return;
	pit->irq0_edge = false;
	pit->irq0_pulses++;
	irq_line_pulse(&pit->irq0);
}

static void set_gate(struct pit8254 *pit, unsigned i, bool gate)
{
	struct pit_channel *c = &pit->ch[i];
	if (gate == c->gate)
		return;
	c->gate = gate;
	if (gate) {
		/* a rising gate triggers modes 1 and 5 and restarts modes 2 and 3 */
		if (c->mode != 0 && c->mode != 4 && c->state != PIT_IDLE)
			c->state = PIT_LOAD;
	} else if (periodic(c)) {
		set_out(pit, i, true);
	}
}

static void latch_count(struct pit_channel *c)
{
	if (c->count_latched)
		return;
	c->latch = c->bcd ? bin_to_bcd(c->ce) : (u16)c->ce;
	c->count_latched = true;
	c->read_msb_next = false;
}

static void latch_status(struct pit_channel *c)
{
	if (c->status_latched)
		return;
	c->status = (u8)((c->out ? 0x80 : 0) | (c->null_count ? 0x40 : 0) | c->rw << 4 |
			 c->mode_bits << 1 | (c->bcd ? 1 : 0));
	c->status_latched = true;
}

static void write_control(struct pit8254 *pit, u8 v)
{
	unsigned sc = v >> 6;
	if (sc == 3) { /* read-back: bit 5 clear latches counts, bit 4 clear latches status */
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				latch_count(&pit->ch[i]);
			if (!(v & 0x10))
				latch_status(&pit->ch[i]);
		}
		return;
	}
	struct pit_channel *c = &pit->ch[sc];
	u8 rw = (v >> 4) & 3;
	if (rw == 0) { /* counter latch command */
		latch_count(c);
		return;
	}
	c->rw = rw;
	c->mode_bits = (v >> 1) & 7;
	c->mode = c->mode_bits > 5 ? (u8)(c->mode_bits - 4) : c->mode_bits;
	c->bcd = v & 1;
	c->ce %= modulus(c); /* a binary count read as BCD wraps below 10000 */
	c->state = PIT_IDLE;
	c->null_count = true;
	c->write_msb_next = c->read_msb_next = false;
	c->count_latched = c->status_latched = false;
	set_out(pit, sc, c->mode != 0);
}

static void count_written(struct pit8254 *pit, unsigned i)
{
	struct pit_channel *c = &pit->ch[i];
	c->null_count = true;
	switch (c->mode) {
	case 0:
		set_out(pit, i, false);
		c->state = PIT_LOAD;
		break;
	case 4:
		c->state = PIT_LOAD;
		break;
	case 1:
	case 5: /* used at the next trigger */
		if (c->state == PIT_IDLE)
			c->state = PIT_WAIT_GATE;
		break;
	default: /* 2, 3: a running counter takes it at the end of the period */
		if (c->state == PIT_IDLE)
			c->state = PIT_LOAD;
		break;
	}
}

static void write_counter(struct pit8254 *pit, unsigned i, u8 v)
{
	struct pit_channel *c = &pit->ch[i];
	switch (c->rw) {
	case 1:
		c->cr = v;
		count_written(pit, i);
		break;
	case 2:
		c->cr = (u16)(v << 8);
		count_written(pit, i);
		break;
	default:
		if (!c->write_msb_next) {
			c->cr = (u16)((c->cr & 0xff00) | v);
			c->write_msb_next = true;
			if (c->mode == 0) { /* the first byte stops a mode-0 count */
				c->state = PIT_IDLE;
				set_out(pit, i, false);
			}
		} else {
			c->cr = (u16)((c->cr & 0x00ff) | v << 8);
			c->write_msb_next = false;
			count_written(pit, i);
		}
		break;
	}
}

static u8 read_counter(struct pit_channel *c)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	u16 v = c->count_latched ? c->latch : (c->bcd ? bin_to_bcd(c->ce) : (u16)c->ce);
	bool msb;
	if (c->rw == 3) {
		msb = c->read_msb_next;
		c->read_msb_next = !msb;
	} else {
		msb = c->rw == 2;
	}
	if (c->rw != 3 || msb)
		c->count_latched = false; /* the latch holds until its last byte is read */
	return (u8)(msb ? v >> 8 : v);
}

static u8 pit_byte(struct pit8254 *pit, u32 port, bool write, u8 v)
{
	if (port >= PIT_BASE && port < CTRL_PORT) {
		if (write)
			write_counter(pit, port - PIT_BASE, v);
		else
			v = read_counter(&pit->ch[port - PIT_BASE]);
	} else if (port == CTRL_PORT) {
		if (write)
			write_control(pit, v);
		else
			v = 0xff; /* the control word is write-only */
	} else if (port == PIT_PORT_B) {
		if (write) {
			pit->port_b = v & PORT_B_RW;
			set_gate(pit, 2, v & PORT_B_GATE2);
		} else {
			v = (u8)(pit->port_b |
				 ((pit->tick / REFRESH_CLOCKS) & 1 ? PORT_B_REFRESH : 0) |
				 (pit->ch[2].out ? PORT_B_OUT2 : 0));
		}
	} else {
		v = 0xff; /* a wide access that runs past the PIT's ports */
	}
	return v;
}

void pit_io(struct pit8254 *pit, struct io_access *a, u64 now)
{
	if (a->size != 1 && a->size != 2 && a->size != 4) {
		if (!a->write)
			a->value = 0xffffffff;
		return;
	}
	bring_to(pit, now);
	u32 out = 0;
	for (unsigned i = 0; i < a->size; i++)
		out |= (u32)pit_byte(pit, (u32)a->port + i, a->write, (u8)(a->value >> (8 * i)))
		       << (8 * i);
	if (!a->write)
		a->value = out;
	flush_irq0(pit);
}

void pit_access(void *dev, struct io_access *a)
{
	struct pit8254 *pit = dev;
	pit_io(pit, a, dev_clock_now(&pit->clock));
}

void pit_update(struct pit8254 *pit, u64 now)
{
	bring_to(pit, now);
	flush_irq0(pit);
}

u64 pit_next_event(struct pit8254 *pit, u64 now)
{
	pit_update(pit, now);
	u64 k = clocks_to_rise(&pit->ch[0]);
	if (!k || pit->tick > UINT64_MAX - k)
		return UINT64_MAX;
	return ns_at(pit->tick + k);
}

static void channel_init(struct pit_channel *c, u8 mode, u8 rw, u16 count, bool gate)
{
	c->mode = c->mode_bits = mode;
	c->rw = rw;
	c->cr = count;
	c->gate = gate;
	c->out = true;
	load(c);
}

void pit_init(struct pit8254 *pit, const struct irq_line *irq0, const struct dev_clock *clock,
	      u64 now)
{
	memset(pit, 0, sizeof(*pit));
	if (irq0)
		pit->irq0 = *irq0;
	if (clock)
		pit->clock = *clock;
	pit->now_ns = now;
	pit->tick = clocks_at(now);
	channel_init(&pit->ch[0], 3, 3, 0, true);
	channel_init(&pit->ch[1], 2, 1, 18, true);
	channel_init(&pit->ch[2], 3, 3, 0, false);
}

/* ---- save/load ---- */

#define PIT_STATE_VERSION 1

enum {
	F_BCD = 1 << 0,
	F_GATE = 1 << 1,
	F_OUT = 1 << 2,
	F_NULL = 1 << 3,
	F_WMSB = 1 << 4,
	F_RMSB = 1 << 5,
	F_CLATCH = 1 << 6,
	F_SLATCH = 1 << 7,
	F_TC = 1 << 8,
	F_ALL = (1 << 9) - 1,
};

struct pit_channel_rec {
	u8 mode_bits, rw, state, status;
	u16 flags, cr, latch;
	u32 ce, period, phase;
};

void pit_save(const struct pit8254 *pit, struct state_writer *w)
{
	state_put_tag(w, "PIT4", PIT_STATE_VERSION);
	for (unsigned i = 0; i < 3; i++) {
		const struct pit_channel *c = &pit->ch[i];
		struct pit_channel_rec rec = {
		    .mode_bits = c->mode_bits,
		    .rw = c->rw,
		    .state = c->state,
		    .status = c->status,
		    .flags =
			(u16)((c->bcd ? F_BCD : 0) | (c->gate ? F_GATE : 0) | (c->out ? F_OUT : 0) |
			      (c->null_count ? F_NULL : 0) | (c->write_msb_next ? F_WMSB : 0) |
			      (c->read_msb_next ? F_RMSB : 0) | (c->count_latched ? F_CLATCH : 0) |
			      (c->status_latched ? F_SLATCH : 0) | (c->tc ? F_TC : 0)),
		    .cr = c->cr,
		    .latch = c->latch,
		    .ce = c->ce,
		    .period = c->period,
		    .phase = c->phase,
		};
		state_put(w, &rec.mode_bits, 1);
		state_put(w, &rec.rw, 1);
		state_put(w, &rec.state, 1);
		state_put(w, &rec.status, 1);
		state_put(w, &rec.flags, 2);
		state_put(w, &rec.cr, 2);
		state_put(w, &rec.latch, 2);
		state_put(w, &rec.ce, 4);
		state_put(w, &rec.period, 4);
		state_put(w, &rec.phase, 4);
	}
	state_put(w, &pit->tick, 8);
	state_put(w, &pit->now_ns, 8);
	state_put(w, &pit->port_b, 1);
	state_put(w, &pit->irq0_pulses, 8);
	state_put(w, &pit->irq0_coalesced, 8);
}

static bool channel_load(struct pit_channel *c, struct state_reader *r, bool fixed_gate)
{
	struct pit_channel_rec rec;
	if (!state_get(r, &rec.mode_bits, 1) || !state_get(r, &rec.rw, 1) ||
	    !state_get(r, &rec.state, 1) || !state_get(r, &rec.status, 1) ||
	    !state_get(r, &rec.flags, 2) || !state_get(r, &rec.cr, 2) ||
	    !state_get(r, &rec.latch, 2) || !state_get(r, &rec.ce, 4) ||
	    !state_get(r, &rec.period, 4) || !state_get(r, &rec.phase, 4))
		return false;
	if (rec.mode_bits > 7 || rec.rw < 1 || rec.rw > 3 || rec.state > PIT_COUNTING ||
	    (rec.flags & ~F_ALL) || (fixed_gate && !(rec.flags & F_GATE)))
		return false;
	struct pit_channel n = {
	    .mode_bits = rec.mode_bits,
	    .mode = rec.mode_bits > 5 ? (u8)(rec.mode_bits - 4) : rec.mode_bits,
	    .rw = rec.rw,
	    .state = rec.state,
	    .bcd = rec.flags & F_BCD,
	    .gate = rec.flags & F_GATE,
	    .out = rec.flags & F_OUT,
	    .null_count = rec.flags & F_NULL,
	    .write_msb_next = rec.flags & F_WMSB,
	    .read_msb_next = rec.flags & F_RMSB,
	    .count_latched = rec.flags & F_CLATCH,
	    .status_latched = rec.flags & F_SLATCH,
	    .tc = rec.flags & F_TC,
	    .status = rec.status,
	    .cr = rec.cr,
	    .latch = rec.latch,
	    .ce = rec.ce,
	    .period = rec.period,
	    .phase = rec.phase,
	};
	if (n.ce >= modulus(&n))
		return false;
	if (periodic(&n) && n.state == PIT_COUNTING &&
	    (n.period < 2 || n.period > modulus(&n) || n.phase >= n.period))
		return false;
	*c = n;
	return true;
}

bool pit_load(struct pit8254 *pit, struct state_reader *r)
{
	struct pit_channel ch[3];
	u64 tick, now_ns, pulses, coalesced;
	u8 port_b;
	if (!state_get_tag(r, "PIT4", PIT_STATE_VERSION))
		return false;
	for (unsigned i = 0; i < 3; i++) {
		if (!channel_load(&ch[i], r, i != 2)) {
			r->error = true;
			return false;
		}
	}
	if (!state_get(r, &tick, 8) || !state_get(r, &now_ns, 8) || !state_get(r, &port_b, 1) ||
	    !state_get(r, &pulses, 8) || !state_get(r, &coalesced, 8))
		return false;
	if (tick != clocks_at(now_ns) || (port_b & ~PORT_B_RW) ||
	    ch[2].gate != ((port_b & PORT_B_GATE2) != 0)) {
		r->error = true;
		return false;
	}
	memcpy(pit->ch, ch, sizeof(ch));
	pit->tick = tick;
	pit->now_ns = now_ns;
	pit->port_b = port_b;
	pit->irq0_pulses = pulses;
	pit->irq0_coalesced = coalesced;
	pit->irq0_edge = false;
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	struct pit8254 *pit = dev;
	struct irq_line irq0 = pit->irq0;
	struct dev_clock clock = pit->clock;
	pit_init(pit, &irq0, &clock, pit->now_ns);
}

static void dev_update(void *dev, const struct dev_time *now)
{
	pit_update(dev, now->ns);
}

static u64 dev_next_event(void *dev, const struct dev_time *now)
{
	return dev_ns_to_tsc(now->tsc_hz, pit_next_event(dev, now->ns));
}

static void dev_save(void *dev, struct state_writer *w)
{
	pit_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return pit_load(dev, r);
}

const struct device_ops pit_device = {
    .name = "pit",
    .reset = dev_reset,
    .port = pit_access,
    .update = dev_update,
    .next_event = dev_next_event,
    .save = dev_save,
    .load = dev_load,
};
