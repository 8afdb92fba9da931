/* Tests of the 8254 PIT (devices/pit8254.c): Linux's TSC calibrations (pit_calibrate_tsc and
 * quick_pit_calibrate in arch/x86/kernel/tsc.c) to the exact PIT clock, the i8253 clockevent
 * modes, every counter mode, latches, read-back, gates, hostile time and save/load. */
#include "test.h"
#include "../../devices/pit8254.h"

struct pulse_rec {
	unsigned rises;
	bool level;
};

static void irq0_set(void *ctx, unsigned pin, bool level)
{
	struct pulse_rec *r = ctx;
	(void)pin;
	if (level && !r->level)
		r->rises++;
	r->level = level;
}

/* Reference conversions with 128-bit arithmetic, independent of the model's. */
static u64 tick_at(u64 ns)
{
	return (u64)((unsigned __int128)ns * PIT_HZ / 1000000000u);
}

static u64 ns_for(u64 tick)
{
	return (u64)(((unsigned __int128)tick * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static void out(struct pit8254 *pit, u16 port, u8 v, u64 now)
{
	struct io_access a = {port, 1, true, v};
	pit_io(pit, &a, now);
}

static u8 in(struct pit8254 *pit, u16 port, u64 now)
{
	struct io_access a = {port, 1, false, 0x5a5a5a5a};
	pit_io(pit, &a, now);
	return (u8)a.value;
}

static u16 read16(struct pit8254 *pit, u16 port, u64 now)
{
	u8 lo = in(pit, port, now);
	return (u16)(lo | in(pit, port, now) << 8);
}

static struct pit8254 *new_pit(struct pulse_rec *rec)
{
	struct pit8254 *pit = test_alloc(sizeof(*pit));
	struct irq_line irq0 = {irq0_set, rec, 0};
	pit_init(pit, &irq0, NULL, 0);
	return pit;
}

/* A time in the middle of PIT clock `tick`. */
static u64 mid(u64 tick)
{
	return (ns_for(tick) + ns_for(tick + 1)) / 2;
}

/* pit_calibrate_tsc(latch) up to its poll loop: gate on, speaker off, channel 2 mode 0. */
static void linux_pit_calibrate_start(struct pit8254 *pit, u64 now, u16 latch)
{
	out(pit, 0x61, (u8)((in(pit, 0x61, now) & ~0x02) | 0x01), now);
	out(pit, 0x43, 0xb0, now);
	out(pit, 0x42, (u8)latch, now);
	out(pit, 0x42, (u8)(latch >> 8), now);
}

TEST(pit_linux_pit_calibrate_tsc_is_exact)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u16 latches[] = {11931 /* CAL_LATCH, 10 ms */, 59659 /* CAL2_LATCH, 50 ms */};
	u64 now = mid(5000000);
	for (unsigned i = 0; i < ARRAY_SIZE(latches); i++) {
		u64 t = tick_at(now);
		linux_pit_calibrate_start(pit, now, latches[i]);
		/* loaded on the clock after the write, high `latch` clocks later */
		u64 edge = ns_for(t + 1 + latches[i]);
		unsigned polls = 0;
		for (; now < edge - 1; now += 997, polls++)
			CHECK_EQ(in(pit, 0x61, now) & 0x20, 0);
		CHECK(polls > 10000);
		CHECK_EQ(in(pit, 0x61, edge - 1) & 0x20, 0);
		CHECK_EQ(in(pit, 0x61, edge) & 0x23, 0x21);	/* OUT2, gate on, speaker off */
		CHECK(in(pit, 0x61, edge + 1000000000) & 0x20); /* and it stays high */
		now = edge + 1000000000 + 777;
	}
}

TEST(pit_linux_quick_pit_calibrate_reads_the_live_count)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(123456);
	u64 t = tick_at(now);
	out(pit, 0x61, (u8)((in(pit, 0x61, now) & ~0x02) | 0x01), now);
	out(pit, 0x43, 0xb0, now);
	out(pit, 0x42, 0xff, now);
	out(pit, 0x42, 0xff, now);
	u64 js[] = {0, 1, 2, 255, 256, 511, 512, 1000, 65534};
	for (unsigned i = 0; i < ARRAY_SIZE(js); i++) {
		u64 at = mid(t + 1 + js[i]);
		CHECK_EQ(read16(pit, 0x42, at), 0xffff - js[i]);
	}
	/* pit_expect_msb(0xff - i): the MSB steps down every 256 clocks */
	now = mid(t + 100000);
	t = tick_at(now);
	out(pit, 0x43, 0xb0, now);
	out(pit, 0x42, 0xff, now);
	out(pit, 0x42, 0xff, now);
	for (unsigned i = 0; i < 10; i++) {
		u64 at = mid(t + 1 + 256 * i + 128);
		in(pit, 0x42, at);
		CHECK_EQ(in(pit, 0x42, at), 0xff - i);
	}
}

/* The i8253 clockevent in periodic mode: 0x34 and LATCH. */
static u64 linux_periodic(struct pit8254 *pit, struct pulse_rec *rec, u16 latch, u64 now)
{
	out(pit, 0x43, 0x34, now);
	out(pit, 0x40, (u8)latch, now);
	out(pit, 0x40, (u8)(latch >> 8), now);
	rec->rises = 0;
	return tick_at(now);
}

TEST(pit_linux_periodic_tick_next_event_is_exact)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	const u16 latch = (1193182 + 500) / 1000; /* HZ=1000 */
	u64 now = mid(777777);
	u64 t = linux_periodic(pit, &rec, latch, now);
	u64 coalesced = pit->irq0_coalesced; /* the BIOS's 18.2 Hz before Linux took over */
	for (unsigned k = 1; k <= 100; k++) {
		u64 next = pit_next_event(pit, now);
		CHECK_EQ(next, ns_for(t + 1 + (u64)k * latch));
		pit_update(pit, next - 1);
		CHECK_EQ(rec.rises, k - 1);
		pit_update(pit, next);
		CHECK_EQ(rec.rises, k);
		now = next;
	}
	CHECK_EQ(pit->irq0_coalesced, coalesced);
}

TEST(pit_late_updates_deliver_one_pulse_and_keep_the_phase)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	const u16 latch = 4773; /* HZ=250 */
	u64 now = mid(1000);
	u64 t = linux_periodic(pit, &rec, latch, now);
	u64 coalesced = pit->irq0_coalesced;
	pit_update(pit, mid(t + 1 + 1000ULL * latch + 5));
	CHECK_EQ(rec.rises, 1);
	CHECK_EQ(pit->irq0_coalesced - coalesced, 999);
	CHECK_EQ(pit_next_event(pit, 0), ns_for(t + 1 + 1001ULL * latch));
	/* a week late: still one pulse, still on the grid */
	u64 week = 7ULL * 86400 * 1000000000;
	pit_update(pit, week);
	CHECK_EQ(rec.rises, 2);
	u64 next = pit_next_event(pit, week);
	u64 k = (tick_at(week) - (t + 1)) / latch + 1;
	CHECK_EQ(next, ns_for(t + 1 + k * latch));
	CHECK(next > week);
	/* the live count agrees with the phase: reload value minus clocks since the reload */
	u64 at = mid(t + 1 + (k + 1) * latch - 100);
	out(pit, 0x43, 0x00, at);
	CHECK_EQ(read16(pit, 0x40, at), 100);
}

TEST(pit_mode0_one_shot_on_channel0)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(50);
	u64 t = tick_at(now);
	out(pit, 0x43, 0x30, now);
	out(pit, 0x40, 0x10, now);
	out(pit, 0x40, 0x27, now); /* 10000 */
	rec.rises = 0;
	u64 next = pit_next_event(pit, now);
	CHECK_EQ(next, ns_for(t + 1 + 10000));
	pit_update(pit, next);
	CHECK_EQ(rec.rises, 1);
	CHECK_EQ(pit_next_event(pit, next), UINT64_MAX);
	/* the counter wraps and goes on counting; OUT stays high */
	u64 at = mid(t + 1 + 10000 + 5);
	out(pit, 0x43, 0x00, at);
	CHECK_EQ(read16(pit, 0x40, at), 0xfffb);
	pit_update(pit, mid(t + 1 + 10000 + 70000));
	CHECK_EQ(rec.rises, 1);
	/* count 0 means 65536 */
	now = mid(t + 200000);
	t = tick_at(now);
	out(pit, 0x43, 0x30, now);
	out(pit, 0x40, 0, now);
	out(pit, 0x40, 0, now);
	CHECK_EQ(pit_next_event(pit, now), ns_for(t + 1 + 65536));
}

TEST(pit_mode4_software_strobe)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(999);
	u64 t = tick_at(now);
	out(pit, 0x43, 0x38, now); /* Linux's oneshot clockevent */
	out(pit, 0x40, 100, now);
	out(pit, 0x40, 0, now);
	rec.rises = 0;
	/* OUT strobes low for the clock at which the count reaches 0, then rises */
	out(pit, 0x43, 0xe2, mid(t + 1 + 100));
	CHECK_EQ(in(pit, 0x40, mid(t + 1 + 100)) & 0x80, 0);
	CHECK_EQ(rec.rises, 0);
	CHECK_EQ(pit_next_event(pit, mid(t + 1 + 100)), ns_for(t + 2 + 100));
	pit_update(pit, ns_for(t + 2 + 100));
	CHECK_EQ(rec.rises, 1);
	CHECK_EQ(pit_next_event(pit, ns_for(t + 2 + 100)), UINT64_MAX);
	/* a late update that jumps over the strobe still pulses once */
	now = mid(t + 1000);
	t = tick_at(now);
	out(pit, 0x40, 50, now);
	out(pit, 0x40, 0, now);
	pit_update(pit, mid(t + 5000));
	CHECK_EQ(rec.rises, 2);
}

TEST(pit_mode3_square_wave_on_channel2)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(10);
	u64 t = tick_at(now);
	out(pit, 0x61, 0x01, now);
	out(pit, 0x43, 0xb6, now);
	out(pit, 0x42, 100, now);
	out(pit, 0x42, 0, now);
	for (u64 p = 0; p < 300; p++) {
		u64 at = mid(t + 1 + p);
		bool high = (p % 100) < 50;
		CHECK_EQ(!!(in(pit, 0x61, at) & 0x20), high);
	}
	/* counts by two, twice a period */
	u64 ps[] = {0, 1, 49, 50, 51, 99};
	u16 want[] = {100, 98, 2, 100, 98, 2};
	for (unsigned i = 0; i < ARRAY_SIZE(ps); i++) {
		u64 at = mid(t + 1 + 300 + ps[i]);
		out(pit, 0x43, 0x80, at);
		CHECK_EQ(read16(pit, 0x42, at), want[i]);
	}
	/* odd count: high one clock longer than low; the running period ends first */
	u64 load = t + 1;
	now = mid(t + 1000);
	t = tick_at(now);
	out(pit, 0x42, 5, now);
	out(pit, 0x42, 0, now);
	u64 reload = load + ((t - load) / 100 + 1) * 100;
	bool pattern[5] = {true, true, true, false, false};
	u16 counts[5] = {5, 4, 2, 5, 2};
	for (unsigned p = 0; p < 10; p++) {
		u64 at = mid(reload + p);
		CHECK_EQ(!!(in(pit, 0x61, at) & 0x20), pattern[p % 5]);
		out(pit, 0x43, 0x80, at);
		CHECK_EQ(read16(pit, 0x42, at), counts[p % 5]);
	}
	CHECK_EQ(rec.rises, 0); /* channel 2 never touches IRQ0 */
}

TEST(pit_mode2_new_count_waits_for_the_period_end)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(100);
	u64 t = linux_periodic(pit, &rec, 1000, now);
	out(pit, 0x40, 0xf4, mid(t + 300));
	out(pit, 0x40, 0x01, mid(t + 300)); /* 500 */
	CHECK_EQ(pit_next_event(pit, mid(t + 300)), ns_for(t + 1 + 1000));
	pit_update(pit, ns_for(t + 1 + 1000));
	CHECK_EQ(pit_next_event(pit, ns_for(t + 1 + 1000)), ns_for(t + 1 + 1500));
	/* mode 2 OUT is low for exactly the clock before each reload */
	out(pit, 0x43, 0xe2, mid(t + 1 + 1499));	  /* read-back: status of channel 0 */
	CHECK_EQ(in(pit, 0x40, mid(t + 1 + 1499)), 0x34); /* OUT low, LSB/MSB, mode 2 */
	out(pit, 0x43, 0xe2, mid(t + 1 + 1500));
	CHECK_EQ(in(pit, 0x40, mid(t + 1 + 1500)), 0xb4);
	CHECK_EQ(read16(pit, 0x40, mid(t + 1 + 1500)), 500);
}

TEST(pit_counter_latch_and_read_back)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(1000);
	u64 t = linux_periodic(pit, &rec, 1000, now);
	/* null count: set by the write until the count reaches the counter */
	out(pit, 0x43, 0xe2, now); /* read-back: status only, channel 0 */
	CHECK_EQ(in(pit, 0x40, now), 0xf4);
	out(pit, 0x43, 0xe2, mid(t + 1));
	CHECK_EQ(in(pit, 0x40, mid(t + 1)), 0xb4);
	/* counter latch command: the value holds while time moves */
	out(pit, 0x43, 0x00, mid(t + 1 + 10));
	out(pit, 0x43, 0x00, mid(t + 1 + 20)); /* ignored: a latch is pending */
	CHECK_EQ(in(pit, 0x40, mid(t + 1 + 500)), (990 & 0xff));
	CHECK_EQ(in(pit, 0x40, mid(t + 1 + 600)), 990 >> 8);
	CHECK_EQ(read16(pit, 0x40, mid(t + 1 + 700)), 300); /* live again */
	/* read-back of status and count for all three: status first, then the count */
	out(pit, 0x43, 0xce, mid(t + 1 + 800));
	CHECK_EQ(in(pit, 0x40, mid(t + 1 + 900)), 0xb4);
	CHECK_EQ(read16(pit, 0x40, mid(t + 1 + 900)), 200);
	CHECK_EQ(in(pit, 0x41, mid(t + 1 + 900)), 0x94); /* ch1: OUT high, LSB only, mode 2 */
	in(pit, 0x41, mid(t + 1 + 900));
	CHECK_EQ(in(pit, 0x42, mid(t + 1 + 900)), 0xb6); /* ch2: mode 3, gate low: OUT high */
	out(pit, 0x43, 0xe8, mid(t + 1 + 900)); /* status again: it reads before the count */
	CHECK_EQ(in(pit, 0x42, mid(t + 1 + 900)), 0xb6);
	CHECK_EQ(read16(pit, 0x42, mid(t + 1 + 900)), 0);
	/* a control word drops pending latches */
	out(pit, 0x43, 0x00, mid(t + 2000));
	out(pit, 0x43, 0x34, mid(t + 2000));
	CHECK_EQ(in(pit, 0x43, mid(t + 2000)), 0xff); /* the control port is write-only */
	out(pit, 0x43, 0xe2, mid(t + 2000));
	CHECK_EQ(in(pit, 0x40, mid(t + 2000)), 0xf4); /* OUT high, null count, ... */
}

TEST(pit_lsb_only_msb_only_and_bcd)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(10);
	u64 t = tick_at(now);
	out(pit, 0x61, 0x01, now);
	out(pit, 0x43, 0x90, now); /* ch2, LSB only, mode 0 */
	out(pit, 0x42, 0x40, now);
	CHECK_EQ(in(pit, 0x42, mid(t + 1 + 0x10)), 0x30);
	CHECK_EQ(in(pit, 0x42, mid(t + 1 + 0x11)), 0x2f); /* every read is the LSB */
	CHECK(in(pit, 0x61, ns_for(t + 1 + 0x40)) & 0x20);
	now = mid(t + 100);
	t = tick_at(now);
	out(pit, 0x43, 0xa0, now); /* MSB only */
	out(pit, 0x42, 0x02, now);
	CHECK_EQ(in(pit, 0x42, mid(t + 1 + 0x100)), 0x01);
	CHECK(!(in(pit, 0x61, mid(t + 0x200)) & 0x20));
	CHECK(in(pit, 0x61, ns_for(t + 1 + 0x200)) & 0x20);
	/* BCD: 0100 counts 100 clocks and reads back in BCD */
	now = mid(t + 1000);
	t = tick_at(now);
	out(pit, 0x43, 0xb1, now);
	out(pit, 0x42, 0x00, now);
	out(pit, 0x42, 0x01, now);
	CHECK_EQ(read16(pit, 0x42, mid(t + 1 + 30)), 0x0070);
	CHECK(!(in(pit, 0x61, mid(t + 100)) & 0x20));
	CHECK(in(pit, 0x61, ns_for(t + 1 + 100)) & 0x20);
	CHECK_EQ(read16(pit, 0x42, mid(t + 1 + 101)), 0x9999); /* wraps in BCD */
	/* BCD count 0 is 10000; digits above 9 do not crash */
	now = mid(t + 1000);
	t = tick_at(now);
	out(pit, 0x42, 0x00, now);
	out(pit, 0x42, 0x00, now);
	CHECK(!(in(pit, 0x61, mid(t + 10000)) & 0x20));
	CHECK(in(pit, 0x61, ns_for(t + 1 + 10000)) & 0x20);
	out(pit, 0x42, 0xff, mid(t + 20000));
	out(pit, 0x42, 0xff, mid(t + 20000));
	u16 v = read16(pit, 0x42, mid(t + 20005));
	CHECK((v & 0xf) <= 9 && (v >> 4 & 0xf) <= 9 && (v >> 8 & 0xf) <= 9 && (v >> 12) <= 9);
}

TEST(pit_gate_modes_0_1_2_5)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	/* mode 0 counts only with the gate high */
	u64 now = mid(100);
	u64 t = tick_at(now);
	out(pit, 0x61, 0x00, now);
	out(pit, 0x43, 0xb0, now);
	out(pit, 0x42, 100, now);
	out(pit, 0x42, 0, now);
	CHECK_EQ(read16(pit, 0x42, mid(t + 50)), 100);
	out(pit, 0x61, 0x01, mid(t + 50));
	CHECK(!(in(pit, 0x61, mid(t + 50 + 99)) & 0x20));
	CHECK(in(pit, 0x61, ns_for(t + 50 + 100)) & 0x20);
	/* mode 2: gate low forces OUT high and holds; a rising gate reloads */
	now = mid(t + 1000);
	t = tick_at(now);
	out(pit, 0x43, 0xb4, now);
	out(pit, 0x42, 10, now);
	out(pit, 0x42, 0, now);
	CHECK(!(in(pit, 0x61, mid(t + 1 + 9)) & 0x20));
	out(pit, 0x61, 0x00, mid(t + 1 + 9));
	CHECK(in(pit, 0x61, mid(t + 1 + 9)) & 0x20);
	CHECK(in(pit, 0x61, mid(t + 500)) & 0x20);
	out(pit, 0x61, 0x01, mid(t + 500));
	CHECK_EQ(read16(pit, 0x42, mid(t + 500 + 1 + 3)), 7);
	CHECK(!(in(pit, 0x61, mid(t + 500 + 1 + 9)) & 0x20));
	/* mode 1: a rising gate starts (and restarts) a low pulse of N clocks */
	now = mid(t + 2000);
	t = tick_at(now);
	out(pit, 0x43, 0xb2, now);
	CHECK(in(pit, 0x61, now) & 0x20);
	out(pit, 0x42, 20, now);
	out(pit, 0x42, 0, now);
	CHECK(in(pit, 0x61, mid(t + 100)) & 0x20); /* the gate is already high: no trigger */
	out(pit, 0x61, 0x00, mid(t + 100));
	out(pit, 0x61, 0x01, mid(t + 100));
	CHECK(!(in(pit, 0x61, mid(t + 101)) & 0x20));
	out(pit, 0x61, 0x00, mid(t + 110));
	out(pit, 0x61, 0x01, mid(t + 110)); /* retrigger */
	CHECK(!(in(pit, 0x61, mid(t + 110 + 20)) & 0x20));
	CHECK(in(pit, 0x61, ns_for(t + 111 + 20)) & 0x20);
	/* mode 5: the strobe comes N+1 clocks after the trigger */
	now = mid(t + 3000);
	t = tick_at(now);
	out(pit, 0x43, 0xba, now);
	out(pit, 0x42, 30, now);
	out(pit, 0x42, 0, now);
	out(pit, 0x61, 0x00, now);
	out(pit, 0x61, 0x01, now);
	CHECK(in(pit, 0x61, mid(t + 30)) & 0x20);
	CHECK(!(in(pit, 0x61, mid(t + 31)) & 0x20));
	CHECK(in(pit, 0x61, mid(t + 32)) & 0x20);
}

TEST(pit_port_61_bits)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	out(pit, 0x61, 0xff, 0);
	CHECK_EQ(in(pit, 0x61, 0) & 0xcf, 0x0f); /* bits 0-3 as written, 6-7 clear */
	out(pit, 0x61, 0x02, 0);
	CHECK_EQ(in(pit, 0x61, 0) & 0x0f, 0x02);
	/* the refresh bit flips every 18 clocks (about 15 us) */
	unsigned flips = 0;
	u8 last = in(pit, 0x61, 0) & 0x10;
	for (u64 ns = 0; ns < 1000000; ns += 1000) {
		u8 v = in(pit, 0x61, ns) & 0x10;
		CHECK_EQ(v, (tick_at(ns) / 18) & 1 ? 0x10 : 0);
		flips += v != last;
		last = v;
	}
	CHECK(flips >= 64 && flips <= 67);
}

TEST(pit_control_word_edges_on_out0)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(10);
	out(pit, 0x43, 0x30, now); /* mode 0: OUT0 low */
	rec.rises = 0;
	out(pit, 0x43, 0x34, now); /* mode 2: OUT0 high at once: an edge, as on a PC */
	CHECK_EQ(rec.rises, 1);
	out(pit, 0x43, 0x34, now); /* already high */
	CHECK_EQ(rec.rises, 1);
	/* modes 1 and 5 never trigger on channel 0: its gate is always high */
	out(pit, 0x43, 0x32, now);
	out(pit, 0x40, 10, now);
	out(pit, 0x40, 0, now);
	CHECK_EQ(pit_next_event(pit, now), UINT64_MAX);
	/* a control word with no count yet: nothing to wait for */
	out(pit, 0x43, 0x34, now);
	CHECK_EQ(pit_next_event(pit, now), UINT64_MAX);
	out(pit, 0x40, 10, now); /* half a count */
	CHECK_EQ(pit_next_event(pit, now), UINT64_MAX);
}

TEST(pit_hostile_time_and_accesses)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(100000);
	u64 t = linux_periodic(pit, &rec, 1000, now);
	/* time going backwards is clamped: the count never goes back up */
	u16 c1 = read16(pit, 0x40, mid(t + 500));
	u16 c2 = read16(pit, 0x40, mid(t - 50000));
	u16 c3 = read16(pit, 0x40, 0);
	CHECK_EQ(c1, 501);
	CHECK_EQ(c2, 501);
	CHECK_EQ(c3, 501);
	CHECK_EQ(pit_next_event(pit, 0), ns_for(t + 1 + 1000));
	/* wrong sizes */
	struct io_access a = {0x40, 3, false, 0};
	pit_io(pit, &a, mid(t + 500));
	CHECK_EQ(a.value, 0xffffffff);
	a = (struct io_access){0x43, 0, true, 0x30};
	pit_io(pit, &a, mid(t + 500));
	CHECK_EQ(pit_next_event(pit, mid(t + 500)), ns_for(t + 1 + 1000));
	/* a word read at 0x40 is the LSB of channel 0 and a byte of channel 1 */
	a = (struct io_access){0x40, 2, false, 0};
	pit_io(pit, &a, mid(t + 500));
	CHECK_EQ(a.value & 0xff, 501 & 0xff);
	CHECK_EQ(in(pit, 0x40, mid(t + 500)), 501 >> 8); /* the flip-flop moved once */
	a = (struct io_access){0x43, 4, false, 0};
	pit_io(pit, &a, mid(t + 500));
	CHECK_EQ(a.value, 0xffffffff);
	/* mode 2 with count 1 (illegal) runs as count 2 */
	now = mid(t + 1000);
	t = linux_periodic(pit, &rec, 1, now);
	CHECK_EQ(pit_next_event(pit, now), ns_for(t + 1 + 2));
	/* modes 6 and 7 are modes 2 and 3; the status shows what was written */
	out(pit, 0x43, 0x3c, now);
	out(pit, 0x43, 0xe2, now);
	CHECK_EQ(in(pit, 0x40, now) & 0x0e, 0x0c);
	out(pit, 0x40, 0x00, now);
	out(pit, 0x40, 0x10, now);
	CHECK_EQ(pit_next_event(pit, now), ns_for(t + 1 + 0x1000));
	/* the end of time: no overflow, no event we could never reach */
	pit_update(pit, UINT64_MAX);
	CHECK_EQ(pit_next_event(pit, UINT64_MAX), UINT64_MAX);
	CHECK_EQ(rec.rises, 1);
	in(pit, 0x40, 0);
	out(pit, 0x61, 0x01, UINT64_MAX - 1);
	/* no IRQ line, no clock: still safe */
	struct pit8254 bare;
	pit_init(&bare, NULL, NULL, 12345);
	struct io_access b = {0x40, 1, false, 0};
	pit_access(&bare, &b);
	pit_update(&bare, 1000000000000ULL);
}

TEST(pit_lsb_write_stops_mode0)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(10);
	u64 t = tick_at(now);
	out(pit, 0x61, 0x01, now);
	out(pit, 0x43, 0xb0, now);
	out(pit, 0x42, 10, now);
	out(pit, 0x42, 0, now);
	CHECK(in(pit, 0x61, mid(t + 20)) & 0x20);
	out(pit, 0x42, 10, mid(t + 20)); /* first byte: OUT low, counting stops */
	CHECK(!(in(pit, 0x61, mid(t + 20)) & 0x20));
	CHECK(!(in(pit, 0x61, mid(t + 500)) & 0x20));
	out(pit, 0x42, 0, mid(t + 500));
	CHECK(!(in(pit, 0x61, mid(t + 510)) & 0x20));
	CHECK(in(pit, 0x61, ns_for(t + 511)) & 0x20);
}

static size_t save(const struct pit8254 *pit, u8 *buf, size_t size)
{
	struct state_writer w = {buf, size, 0, false};
	pit_save(pit, &w);
	REQUIRE(!w.overflow);
	return w.len;
}

TEST(pit_save_load_round_trip)
{
	struct pulse_rec rec = {0}, rec2 = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 now = mid(5000);
	u64 t = linux_periodic(pit, &rec, 1193, now);
	out(pit, 0x61, 0x03, now);
	out(pit, 0x43, 0xb0, now);
	out(pit, 0x42, 0x34, now);
	out(pit, 0x42, 0x12, now);
	now = mid(t + 700);
	out(pit, 0x43, 0x00, now); /* a pending latch and a half-read count */
	in(pit, 0x40, now);
	in(pit, 0x42, now);
	u8 buf[256];
	size_t len = save(pit, buf, sizeof(buf));

	struct pit8254 *copy = new_pit(&rec2);
	struct state_reader r = {buf, len, 0, false};
	REQUIRE(pit_load(copy, &r));
	CHECK_EQ(r.pos, len);
	CHECK_EQ(pit_next_event(copy, now), pit_next_event(pit, now));
	CHECK_EQ(in(copy, 0x40, now), in(pit, 0x40, now));
	CHECK_EQ(in(copy, 0x42, now), in(pit, 0x42, now));
	CHECK_EQ(in(copy, 0x61, now), in(pit, 0x61, now));
	u64 later = mid(t + 1 + 0x1234 + 3);
	CHECK_EQ(in(copy, 0x61, later), in(pit, 0x61, later));
	pit_update(copy, later);
	pit_update(pit, later);
	CHECK_EQ(rec2.rises, rec.rises);
	u8 buf2[256];
	CHECK_EQ(save(copy, buf2, sizeof(buf2)), len);
	u8 buf3[256];
	save(pit, buf3, sizeof(buf3));
	CHECK(!memcmp(buf2, buf3, len));
}

TEST(pit_load_rejects_malformed_state)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	linux_periodic(pit, &rec, 1000, mid(100));
	pit_update(pit, mid(110)); /* counting: phase 9 of 1000 */
	u8 good[256];
	size_t len = save(pit, good, sizeof(good));
	CHECK_EQ(len, 8 + 3 * 22 + 8 + 8 + 1 + 8 + 8);

	struct pit8254 *victim = new_pit(&rec);
	u8 before[256];
	size_t before_len = save(victim, before, sizeof(before));
	for (size_t n = 0; n < len; n++) {
		u8 *p = test_dup(good, n);
		struct state_reader r = {p, n, 0, false};
		CHECK(!pit_load(victim, &r));
	}
	/* channel k at 8 + 22k: mode, rw, state, status, flags(2), cr(2), latch(2), ce(4),
	 * period(4), phase(4); then tick, now, port B */
	struct {
		size_t off;
		u8 value;
	} bad[] = {
	    {0, 'Q'},		 /* tag */
	    {5, 1},		 /* version */
	    {8 + 0, 8},		 /* mode */
	    {8 + 1, 0},		 /* rw 0 is the latch command, not a mode */
	    {8 + 1, 4},		 /* rw */
	    {8 + 2, 4},		 /* state */
	    {8 + 5, 0x02},	 /* unknown flag */
	    {8 + 4, 0x00},	 /* channel 0 with its gate low */
	    {8 + 19, 0xff},	 /* phase beyond the period */
	    {8 + 15, 0x00},	 /* period below 2 */
	    {8 + 13, 0x01},	 /* counter beyond 65535 */
	    {8 + 66 + 3, 0x55},	 /* tick not the one `now` gives */
	    {8 + 66 + 16, 0x10}, /* port B bits it does not own */
	    {8 + 66 + 16, 0x01}, /* gate 2 on in port B, off in channel 2 */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		u8 copy[256];
		memcpy(copy, good, len);
		copy[bad[i].off] = bad[i].value;
		if (bad[i].off == 8 + 15) /* period 0x000003e8 -> 0x00000001 */
			copy[8 + 14] = 1;
		struct state_reader r = {copy, len, 0, false};
		CHECK(!pit_load(victim, &r));
		CHECK(r.error);
	}
	/* a BCD channel with a binary-sized counter */
	u8 copy[256];
	memcpy(copy, good, len);
	copy[8 + 4] |= 0x01;
	copy[8 + 10] = 0x10;
	copy[8 + 11] = 0x27; /* 10000 */
	struct state_reader r = {copy, len, 0, false};
	CHECK(!pit_load(victim, &r));
	u8 after[256];
	CHECK_EQ(save(victim, after, sizeof(after)), before_len);
	CHECK(!memcmp(before, after, before_len)); /* nothing changed */
}

/* Random programming of channel 0 (and the rest) at random times, some going backwards:
 * pit_next_event() is always the first time IRQ0 pulses, never in the past. */
TEST(pit_random_programming_next_event_is_the_first_pulse)
{
	struct pulse_rec rec = {0};
	struct pit8254 *pit = new_pit(&rec);
	u64 seed = 0x243f6a8885a308d3ULL, now = 0;
	unsigned checked = 0;
	for (unsigned i = 0; i < 20000; i++) {
		u64 r = test_rng(&seed);
		u64 t = (r >> 40) % 8 == 0 ? now - MIN(now, r % 5000000) : now + r % 3000000;
		u16 port = (u16)(0x40 + (r >> 8) % 5);
		if (port == 0x44)
			port = 0x61;
		u8 v = (u8)(r >> 16);
		if (port == 0x43 && (r >> 24) % 2)
			v = (u8)((v & 0x0e) | 0x30); /* mostly channel 0, lo/hi */
		if (port == 0x40 && (r >> 24) % 4)
			v = (u8)(v | 0x40); /* no tiny periods all the time */
		struct io_access a = {port, 1, (r >> 32) & 1, v};
		pit_io(pit, &a, t);
		now = MAX(now, t);
		u64 next = pit_next_event(pit, now);
		if (next == UINT64_MAX)
			continue;
		CHECK(next > now);
		unsigned before = rec.rises;
		pit_update(pit, next - 1);
		CHECK_EQ(rec.rises, before);
		pit_update(pit, next);
		CHECK_EQ(rec.rises, before + 1);
		now = next;
		checked++;
	}
	CHECK(checked > 1000);
}
