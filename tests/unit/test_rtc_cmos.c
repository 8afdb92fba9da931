/* Tests of the MC146818 RTC and CMOS (devices/rtc_cmos.c): Linux's reads with UIP polling
 * (mc146818_get_time / mc146818_avoid_UIP) and its set sequence (mc146818_set_time), the
 * three interrupts and their next-event times, formats, hostile time and save/load. */
#include "test.h"
#include "../../devices/rtc_cmos.h"

#define SEC  1000000000ULL
#define MSEC 1000000ULL
#define USEC 1000ULL

/* 2024-03-15 12:34:56 UTC, a Friday */
#define BASE 1710506096ULL
#define T0   (5 * SEC)

struct irq8_rec {
	unsigned rises, falls;
	bool level;
};

static void irq8_set(void *ctx, unsigned pin, bool level)
{
	struct irq8_rec *r = ctx;
	(void)pin;
	if (level && !r->level)
		r->rises++;
	if (!level && r->level)
		r->falls++;
	r->level = level;
}

static struct rtc_cmos *new_rtc(struct irq8_rec *rec, u64 base)
{
	struct rtc_cmos *rtc = test_alloc(sizeof(*rtc));
	struct irq_line irq = {irq8_set, rec, 8};
	rtc_init(rtc, &irq, NULL, base, T0);
	return rtc;
}

static void out(struct rtc_cmos *rtc, u16 port, u8 v, u64 now)
{
	struct io_access a = {port, 1, true, v};
	rtc_io(rtc, &a, now);
}

static u8 in(struct rtc_cmos *rtc, u16 port, u64 now)
{
	struct io_access a = {port, 1, false, 0x5a5a5a5a};
	rtc_io(rtc, &a, now);
	return (u8)a.value;
}

/* CMOS_READ / CMOS_WRITE */
static u8 cmos_read(struct rtc_cmos *rtc, u8 reg, u64 now)
{
	out(rtc, 0x70, reg, now);
	return in(rtc, 0x71, now);
}

static void cmos_write(struct rtc_cmos *rtc, u8 reg, u8 v, u64 now)
{
	out(rtc, 0x70, reg, now);
	out(rtc, 0x71, v, now);
}

struct linux_time {
	u8 sec, min, hour, mday, mon, year, century, ctrl;
	unsigned retries;
	u64 done;
};

/* mc146818_get_time(): mc146818_avoid_UIP() with udelay(100) while UIP is set, the time
 * read between two reads of the seconds; `step` is the cost of one port access. */
static struct linux_time linux_get_time(struct rtc_cmos *rtc, u64 now, u64 step)
{
	struct linux_time t = {0};
	for (;; t.retries++) {
		t.sec = cmos_read(rtc, RTC_SECONDS, now += step);
		if (cmos_read(rtc, RTC_REG_A, now += step) & RTC_A_UIP) {
			now += 100 * USEC;
			continue;
		}
		if (t.sec != cmos_read(rtc, RTC_SECONDS, now += step))
			continue;
		t.min = cmos_read(rtc, RTC_MINUTES, now += step);
		t.hour = cmos_read(rtc, RTC_HOURS, now += step);
		t.mday = cmos_read(rtc, RTC_DAY_OF_MONTH, now += step);
		t.mon = cmos_read(rtc, RTC_MONTH, now += step);
		t.year = cmos_read(rtc, RTC_YEAR, now += step);
		t.century = cmos_read(rtc, RTC_CENTURY, now += step);
		t.ctrl = cmos_read(rtc, RTC_REG_B, now += step);
		if (cmos_read(rtc, RTC_REG_A, now += step) & RTC_A_UIP) {
			now += 100 * USEC;
			continue;
		}
		if (t.sec != cmos_read(rtc, RTC_SECONDS, now += step))
			continue;
		t.done = now;
		return t;
	}
}

TEST(rtc_linux_reads_the_time_in_bcd)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	struct linux_time t = linux_get_time(rtc, T0 + 300 * MSEC, 2 * USEC);
	CHECK_EQ(t.retries, 0);
	CHECK_EQ(t.sec, 0x56);
	CHECK_EQ(t.min, 0x34);
	CHECK_EQ(t.hour, 0x12);
	CHECK_EQ(t.mday, 0x15);
	CHECK_EQ(t.mon, 0x03);
	CHECK_EQ(t.year, 0x24);
	CHECK_EQ(t.century, 0x20);
	CHECK_EQ(t.ctrl, RTC_B_24H); /* 24-hour BCD, as x86 Linux expects */
	CHECK_EQ(cmos_read(rtc, RTC_DAY_OF_WEEK, t.done), 6);
	CHECK_EQ(cmos_read(rtc, RTC_REG_D, t.done), RTC_D_VRT);
	CHECK_EQ(cmos_read(rtc, RTC_REG_A, t.done), 0x26);
	CHECK_EQ(rec.rises, 0);
}

TEST(rtc_uip_is_set_for_244us_before_each_update)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	u64 update = T0 + SEC;
	CHECK_EQ(cmos_read(rtc, RTC_REG_A, update - 245 * USEC) & RTC_A_UIP, 0);
	CHECK_EQ(cmos_read(rtc, RTC_REG_A, update - 244 * USEC) & RTC_A_UIP, RTC_A_UIP);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, update - 1), 0x56);
	CHECK_EQ(cmos_read(rtc, RTC_REG_A, update - 1) & RTC_A_UIP, RTC_A_UIP);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, update), 0x57);
	CHECK_EQ(cmos_read(rtc, RTC_REG_A, update) & RTC_A_UIP, 0);
	/* Linux's loop started inside the window waits it out, then reads the new second */
	struct linux_time t = linux_get_time(rtc, update + SEC - 200 * USEC, 2 * USEC);
	CHECK_EQ(t.retries, 2);
	CHECK_EQ(t.sec, 0x58);
	CHECK(t.done > update + SEC);
	/* and if the second turns between its two reads of the seconds, it reads again */
	t = linux_get_time(rtc, update + 2 * SEC - 249 * USEC, 4 * USEC);
	CHECK_EQ(t.sec, 0x59);
	CHECK(t.retries >= 1);
}

TEST(rtc_binary_and_12_hour_formats)
{
	struct irq8_rec rec = {0};
	u64 base = BASE + 30 * 60; /* 13:04:56 */
	struct rtc_cmos *rtc = new_rtc(&rec, base);
	u64 now = T0 + 100 * MSEC;
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_DM, now);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, now), 56);
	CHECK_EQ(cmos_read(rtc, RTC_MINUTES, now), 4);
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), 13);
	CHECK_EQ(cmos_read(rtc, RTC_YEAR, now), 24);
	CHECK_EQ(cmos_read(rtc, RTC_CENTURY, now), 20);
	cmos_write(rtc, RTC_REG_B, RTC_B_DM, now); /* 12-hour binary */
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), 0x81);
	cmos_write(rtc, RTC_REG_B, 0, now); /* 12-hour BCD */
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), 0x81);
	struct rtc_cmos *noon = new_rtc(&rec, BASE - 34 * 60 - 56); /* 12:00:00 */
	cmos_write(noon, RTC_REG_B, 0, now);
	CHECK_EQ(cmos_read(noon, RTC_HOURS, now), 0x92);
	struct rtc_cmos *midnight = new_rtc(&rec, 1704067200); /* 2024-01-01 00:00:00 */
	cmos_write(midnight, RTC_REG_B, 0, now);
	CHECK_EQ(cmos_read(midnight, RTC_HOURS, now), 0x12);
	cmos_write(midnight, RTC_REG_B, RTC_B_24H, now);
	CHECK_EQ(cmos_read(midnight, RTC_HOURS, now), 0x00);
	CHECK_EQ(cmos_read(midnight, RTC_DAY_OF_WEEK, now), 2); /* Monday */
}

/* mc146818_set_time(): SET, divider reset, the fields in BCD, then both restored. */
static void linux_set_time(struct rtc_cmos *rtc, u64 now, const u8 f[7])
{
	u8 save_control = cmos_read(rtc, RTC_REG_B, now);
	cmos_write(rtc, RTC_REG_B, save_control | RTC_B_SET, now);
	u8 save_freq = cmos_read(rtc, RTC_REG_A, now);
	cmos_write(rtc, RTC_REG_A, save_freq | 0x70, now);
	cmos_write(rtc, RTC_YEAR, f[0], now);
	cmos_write(rtc, RTC_MONTH, f[1], now);
	cmos_write(rtc, RTC_DAY_OF_MONTH, f[2], now);
	cmos_write(rtc, RTC_HOURS, f[3], now);
	cmos_write(rtc, RTC_MINUTES, f[4], now);
	cmos_write(rtc, RTC_SECONDS, f[5], now);
	cmos_write(rtc, RTC_CENTURY, f[6], now);
	cmos_write(rtc, RTC_REG_B, save_control, now);
	cmos_write(rtc, RTC_REG_A, save_freq, now);
}

TEST(rtc_linux_sets_the_time)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	u64 now = T0 + 3 * SEC + 123 * MSEC;
	const u8 f[7] = {0x31, 0x07, 0x04, 0x09, 0x08, 0x07, 0x20}; /* 2031-07-04 09:08:07 */
	linux_set_time(rtc, now, f);
	struct linux_time t = linux_get_time(rtc, now, USEC);
	CHECK_EQ(t.year, 0x31);
	CHECK_EQ(t.mon, 0x07);
	CHECK_EQ(t.mday, 0x04);
	CHECK_EQ(t.hour, 0x09);
	CHECK_EQ(t.min, 0x08);
	CHECK_EQ(t.sec, 0x07);
	CHECK_EQ(t.century, 0x20);
	CHECK_EQ(t.ctrl, RTC_B_24H);
	CHECK_EQ(cmos_read(rtc, RTC_DAY_OF_WEEK, t.done), 6); /* derived: a Friday */
	/* leaving divider reset: the first update comes half a second later */
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, now + 500 * MSEC - 1), 0x07);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, now + 500 * MSEC), 0x08);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, now + 1500 * MSEC), 0x09);
}

TEST(rtc_set_holds_the_time_but_not_the_divider)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	u64 now = T0 + 250 * MSEC;
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_SET | RTC_B_UIE, now);
	CHECK_EQ(cmos_read(rtc, RTC_REG_B, now), RTC_B_24H | RTC_B_SET); /* SET clears UIE */
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, now + 3 * SEC), 0x56);	 /* frozen */
	CHECK_EQ(cmos_read(rtc, RTC_REG_A, now + 3 * SEC - 750 * MSEC - 100 * USEC) & RTC_A_UIP, 0);
	cmos_write(rtc, RTC_MINUTES, 0x40, now + 3 * SEC);
	CHECK_EQ(cmos_read(rtc, RTC_MINUTES, now + 3 * SEC), 0x40);
	cmos_write(rtc, RTC_REG_B, RTC_B_24H, now + 3 * SEC + 100 * MSEC);
	/* the divider kept its phase: the next update is still on the T0 + k seconds grid */
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, T0 + 4 * SEC - 1), 0x56);
	CHECK_EQ(cmos_read(rtc, RTC_MINUTES, T0 + 4 * SEC - 1), 0x40);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, T0 + 4 * SEC), 0x57);
	/* a field written while running takes effect at once, keeping the phase */
	cmos_write(rtc, RTC_HOURS, 0x21, T0 + 4 * SEC + 10 * MSEC);
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, T0 + 5 * SEC - 1), 0x21);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, T0 + 5 * SEC - 1), 0x57);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, T0 + 5 * SEC), 0x58);
}

TEST(rtc_periodic_interrupt)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	u64 now = T0 + 10 * USEC;
	CHECK_EQ(rtc_next_event(rtc, now), UINT64_MAX); /* nothing enabled */
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_PIE, now);
	cmos_read(rtc, RTC_REG_C, now);
	/* 1024 Hz: every 32 divider clocks, 976562.5 ns */
	u64 next = rtc_next_event(rtc, now);
	CHECK_EQ(next, T0 + 976563);
	rtc_update(rtc, next - 1);
	CHECK(!rec.level);
	rtc_update(rtc, next);
	CHECK(rec.level);
	CHECK_EQ(rtc_next_event(rtc, next), UINT64_MAX); /* high until register C is read */
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, next + 5), RTC_C_IRQF | RTC_C_PF);
	CHECK(!rec.level);
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, next + 6), 0);
	CHECK_EQ(rtc_next_event(rtc, next + 6), T0 + 1953125);
	/* missed periods fold into one flag, one edge */
	rtc_update(rtc, T0 + 50 * MSEC);
	CHECK_EQ(rec.rises, 2);
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, T0 + 50 * MSEC), RTC_C_IRQF | RTC_C_PF);
	/* 8192 Hz */
	cmos_write(rtc, RTC_REG_A, 0x23, T0 + 50 * MSEC);
	CHECK_EQ(rtc_next_event(rtc, T0 + 50 * MSEC), T0 + 50048829); /* divider clock 1640 */
	/* RS 1 and 2 repeat 256 Hz and 128 Hz */
	cmos_write(rtc, RTC_REG_A, 0x21, T0 + 50 * MSEC);
	CHECK_EQ(rtc_next_event(rtc, T0 + 50 * MSEC), T0 + 50781250); /* clock 1664 */
	/* with PIE clear the flag still sets, without an interrupt */
	cmos_write(rtc, RTC_REG_B, RTC_B_24H, T0 + 50 * MSEC);
	CHECK_EQ(rtc_next_event(rtc, T0 + 50 * MSEC), UINT64_MAX);
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, T0 + 60 * MSEC), RTC_C_PF);
	CHECK_EQ(rec.rises, 2);
	/* enabling PIE with PF already set raises IRQ8 at once */
	rtc_update(rtc, T0 + 70 * MSEC);
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_PIE, T0 + 70 * MSEC);
	CHECK(rec.level);
	/* rate 0 turns the periodic flag off */
	cmos_read(rtc, RTC_REG_C, T0 + 70 * MSEC);
	cmos_write(rtc, RTC_REG_A, 0x20, T0 + 70 * MSEC);
	CHECK_EQ(rtc_next_event(rtc, T0 + 70 * MSEC), UINT64_MAX);
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, T0 + 900 * MSEC), 0);
}

TEST(rtc_update_ended_interrupt)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	u64 now = T0 + 400 * MSEC;
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_UIE, now);
	CHECK_EQ(rtc_next_event(rtc, now), T0 + SEC);
	rtc_update(rtc, T0 + SEC);
	CHECK(rec.level);
	/* PF is set too: the 1024 Hz rate runs whether or not PIE asks for it */
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, T0 + SEC + 1), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, T0 + SEC + 1), 0x57);
	CHECK_EQ(rtc_next_event(rtc, T0 + SEC + 1), T0 + 2 * SEC);
	/* with the divider in reset nothing happens */
	cmos_write(rtc, RTC_REG_A, 0x66, T0 + SEC + 2);
	CHECK_EQ(rtc_next_event(rtc, T0 + SEC + 2), UINT64_MAX);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, T0 + 9 * SEC), 0x57);
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, T0 + 9 * SEC), 0);
}

TEST(rtc_alarm_interrupt_with_dont_care_fields)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE); /* 12:34:56 */
	u64 now = T0 + 100 * MSEC;
	cmos_write(rtc, RTC_SECONDS_ALARM, 0x00, now);
	cmos_write(rtc, RTC_MINUTES_ALARM, 0x35, now);
	cmos_write(rtc, RTC_HOURS_ALARM, 0x12, now);
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_AIE, now);
	u64 next = rtc_next_event(rtc, now);
	CHECK_EQ(next, T0 + 4 * SEC); /* 12:35:00 */
	rtc_update(rtc, next - 1);
	CHECK(!rec.level);
	rtc_update(rtc, next);
	CHECK(rec.level);
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, next), RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF);
	/* the same time tomorrow */
	CHECK_EQ(rtc_next_event(rtc, next), T0 + 4 * SEC + 86400 * SEC);
	/* hours and minutes "don't care": every minute at :30 */
	cmos_write(rtc, RTC_HOURS_ALARM, 0xff, next);
	cmos_write(rtc, RTC_MINUTES_ALARM, 0xc0, next);
	cmos_write(rtc, RTC_SECONDS_ALARM, 0x30, next);
	CHECK_EQ(rtc_next_event(rtc, next), T0 + 34 * SEC);
	/* all three don't care: every second */
	cmos_write(rtc, RTC_SECONDS_ALARM, 0xc5, next);
	CHECK_EQ(rtc_next_event(rtc, next), T0 + 5 * SEC);
	/* a value that is neither valid nor don't care never matches */
	cmos_write(rtc, RTC_SECONDS_ALARM, 0x61, next);
	CHECK_EQ(rtc_next_event(rtc, next), UINT64_MAX);
	/* an alarm passed during a late update still sets AF */
	cmos_write(rtc, RTC_SECONDS_ALARM, 0x10, next);
	cmos_write(rtc, RTC_MINUTES_ALARM, 0x37, next);
	cmos_write(rtc, RTC_HOURS_ALARM, 0x12, next);
	rtc_update(rtc, T0 + 600 * SEC);
	CHECK(rec.level);
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, T0 + 600 * SEC),
		 RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF);
	/* a 12-hour alarm: 1 PM is 0x81 */
	cmos_write(rtc, RTC_REG_B, RTC_B_AIE, T0 + 600 * SEC);
	cmos_write(rtc, RTC_HOURS_ALARM, 0x81, T0 + 600 * SEC);
	cmos_write(rtc, RTC_MINUTES_ALARM, 0x00, T0 + 600 * SEC);
	cmos_write(rtc, RTC_SECONDS_ALARM, 0x00, T0 + 600 * SEC);
	/* now 12:44:56; 13:00:00 is 904 s away, the update after next at T0 + 601 s */
	CHECK_EQ(rtc_next_event(rtc, T0 + 600 * SEC), T0 + 1504 * SEC);
}

TEST(rtc_ports_and_plain_cmos_ram)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	u64 now = T0;
	CHECK_EQ(in(rtc, 0x70, now), 0xff); /* the index port is write-only */
	out(rtc, 0x70, 0x8f, now);	    /* NMI off, register 0x0f */
	CHECK(rtc->nmi_disabled);
	out(rtc, 0x71, 0xa5, now);
	CHECK_EQ(cmos_read(rtc, 0x0f, now), 0xa5);
	CHECK(!rtc->nmi_disabled);
	for (unsigned i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			cmos_write(rtc, (u8)i, (u8)(i * 7), now);
	for (unsigned i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			CHECK_EQ(cmos_read(rtc, (u8)i, now), (u8)(i * 7));
	/* C and D are read-only; A's UIP bit cannot be written */
	cmos_write(rtc, RTC_REG_D, 0x00, now);
	CHECK_EQ(cmos_read(rtc, RTC_REG_D, now), RTC_D_VRT);
	cmos_write(rtc, RTC_REG_C, 0xff, now);
	CHECK_EQ(cmos_read(rtc, RTC_REG_C, now), 0);
	cmos_write(rtc, RTC_REG_A, 0xa6, now);
	CHECK_EQ(cmos_read(rtc, RTC_REG_A, now), 0x26);
	/* wide and odd accesses */
	struct io_access a = {0x70, 2, true, 0x3309}; /* index 9, then data 0x33 */
	rtc_io(rtc, &a, now);
	CHECK_EQ(rtc->index, RTC_YEAR);
	CHECK_EQ(cmos_read(rtc, RTC_YEAR, now), 0x33);
	a = (struct io_access){0x71, 2, false, 0};
	rtc_io(rtc, &a, now);
	CHECK_EQ(a.value, 0xff33);
	a = (struct io_access){0x70, 3, false, 0};
	rtc_io(rtc, &a, now);
	CHECK_EQ(a.value, 0xffffffff);
	a = (struct io_access){0x71, 0, true, 0};
	rtc_io(rtc, &a, now);
	CHECK_EQ(cmos_read(rtc, RTC_YEAR, now), 0x33);
	/* an RTC with no wire and no clock is still safe */
	struct rtc_cmos bare;
	rtc_init(&bare, NULL, NULL, BASE, 0);
	a = (struct io_access){0x71, 1, false, 0};
	rtc_access(&bare, &a);
	CHECK_EQ(a.value, 0x56); /* index 0: the seconds */
}

TEST(rtc_calendar_edges)
{
	struct irq8_rec rec = {0};
	struct {
		u64 base;
		u8 sec, min, hour, wday, mday, mon, year, century;
	} cases[] = {
	    {951868799, 0x00, 0x00, 0x00, 4, 0x01, 0x03, 0x00, 0x20},  /* 2000-02-29 + 1 s */
	    {4107542399, 0x00, 0x00, 0x00, 2, 0x01, 0x03, 0x00, 0x21}, /* 2100 is no leap year */
	    {946684799, 0x00, 0x00, 0x00, 7, 0x01, 0x01, 0x00, 0x20},  /* into 2000 */
	    {4102444799, 0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x00, 0x21}, /* into 2100 */
	    {0, 0x01, 0x00, 0x00, 5, 0x01, 0x01, 0x70, 0x19},	       /* the epoch + 1 s */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rtc_cmos *rtc = new_rtc(&rec, cases[i].base);
		u64 now = T0 + SEC;
		CHECK_EQ(cmos_read(rtc, RTC_SECONDS, now), cases[i].sec);
		CHECK_EQ(cmos_read(rtc, RTC_MINUTES, now), cases[i].min);
		CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), cases[i].hour);
		CHECK_EQ(cmos_read(rtc, RTC_DAY_OF_WEEK, now), cases[i].wday);
		CHECK_EQ(cmos_read(rtc, RTC_DAY_OF_MONTH, now), cases[i].mday);
		CHECK_EQ(cmos_read(rtc, RTC_MONTH, now), cases[i].mon);
		CHECK_EQ(cmos_read(rtc, RTC_YEAR, now), cases[i].year);
		CHECK_EQ(cmos_read(rtc, RTC_CENTURY, now), cases[i].century);
	}
	/* the last second the clock can show, and it stays there */
	struct rtc_cmos *end = new_rtc(&rec, UINT64_MAX);
	CHECK_EQ(end->secs, RTC_MAX_SECS);
	CHECK_EQ(cmos_read(end, RTC_YEAR, T0 + 10 * SEC), 0x99);
	CHECK_EQ(cmos_read(end, RTC_CENTURY, T0 + 10 * SEC), 0x99);
	CHECK_EQ(cmos_read(end, RTC_SECONDS, T0 + 10 * SEC), 0x59);
	CHECK_EQ(cmos_read(end, RTC_MONTH, T0 + 10 * SEC), 0x12);
}

TEST(rtc_hostile_time)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	/* backwards: clamped to the latest time seen */
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, T0 + 2 * SEC), 0x58);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, T0 + SEC), 0x58);
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, 0), 0x58);
	/* ten years and three leap days in one step */
	u64 now = T0 + (10 * 365 + 3) * 86400 * SEC + SEC / 2;
	struct linux_time t = linux_get_time(rtc, now, USEC);
	CHECK_EQ(t.century, 0x20);
	CHECK_EQ(t.year, 0x34);
	CHECK_EQ(t.mon, 0x03);
	CHECK_EQ(t.mday, 0x16);
	CHECK_EQ(t.hour, 0x12);
	CHECK_EQ(t.min, 0x34);
	CHECK_EQ(t.sec, 0x56);
	/* the end of time */
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_PIE | RTC_B_UIE | RTC_B_AIE, now);
	rtc_update(rtc, UINT64_MAX);
	CHECK(rec.level);
	cmos_read(rtc, RTC_REG_C, UINT64_MAX);
	CHECK_EQ(rtc_next_event(rtc, UINT64_MAX), UINT64_MAX);
	u8 y = cmos_read(rtc, RTC_YEAR, UINT64_MAX);
	CHECK((y & 0x0f) <= 9 && (y >> 4) <= 9);
}

TEST(rtc_garbage_time_fields_are_clamped)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	u64 now = T0 + 10 * MSEC;
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_SET, now);
	cmos_write(rtc, RTC_SECONDS, 0xff, now);
	cmos_write(rtc, RTC_MINUTES, 0xaa, now);
	cmos_write(rtc, RTC_HOURS, 0x77, now);
	cmos_write(rtc, RTC_DAY_OF_MONTH, 0x45, now);
	cmos_write(rtc, RTC_MONTH, 0x99, now);
	cmos_write(rtc, RTC_YEAR, 0x99, now);
	cmos_write(rtc, RTC_CENTURY, 0x00, now);
	CHECK_EQ(cmos_read(rtc, RTC_MONTH, now), 0x99); /* stored as written while SET */
	cmos_write(rtc, RTC_REG_B, RTC_B_24H, now);
	/* year 0099 is before 1970: 1970-12-31 23:59:59 */
	CHECK_EQ(cmos_read(rtc, RTC_SECONDS, now), 0x59);
	CHECK_EQ(cmos_read(rtc, RTC_MINUTES, now), 0x59);
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), 0x23);
	CHECK_EQ(cmos_read(rtc, RTC_DAY_OF_MONTH, now), 0x31);
	CHECK_EQ(cmos_read(rtc, RTC_MONTH, now), 0x12);
	CHECK_EQ(cmos_read(rtc, RTC_YEAR, now), 0x70);
	CHECK_EQ(cmos_read(rtc, RTC_CENTURY, now), 0x19);
	/* the 31st of February is the 29th in a leap year */
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_SET, now);
	cmos_write(rtc, RTC_CENTURY, 0x20, now);
	cmos_write(rtc, RTC_YEAR, 0x24, now);
	cmos_write(rtc, RTC_MONTH, 0x02, now);
	cmos_write(rtc, RTC_DAY_OF_MONTH, 0x31, now);
	cmos_write(rtc, RTC_REG_B, RTC_B_24H, now);
	CHECK_EQ(cmos_read(rtc, RTC_DAY_OF_MONTH, now), 0x29);
	CHECK_EQ(cmos_read(rtc, RTC_DAY_OF_WEEK, now), 5); /* 2024-02-29: Thursday */
	/* the fields are parsed in the format in force when SET is cleared: 12-hour here */
	cmos_write(rtc, RTC_REG_B, RTC_B_SET, now);
	cmos_write(rtc, RTC_HOURS, 0x92, now); /* 12 PM */
	cmos_write(rtc, RTC_REG_B, 0, now);
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), 0x92);
	cmos_write(rtc, RTC_REG_B, RTC_B_24H, now);
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), 0x12);
	cmos_write(rtc, RTC_REG_B, RTC_B_SET, now);
	cmos_write(rtc, RTC_HOURS, 0x12, now); /* 12 AM */
	cmos_write(rtc, RTC_REG_B, 0, now);
	cmos_write(rtc, RTC_REG_B, RTC_B_24H, now);
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), 0x00);
	/* 12-hour garbage: hour 0 and hour 13 are clamped to 1 and 12 */
	cmos_write(rtc, RTC_REG_B, RTC_B_SET, now);
	cmos_write(rtc, RTC_HOURS, 0x80, now);
	cmos_write(rtc, RTC_REG_B, 0, now);
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), 0x81);
	cmos_write(rtc, RTC_REG_B, RTC_B_SET, now);
	cmos_write(rtc, RTC_HOURS, 0x13, now);
	cmos_write(rtc, RTC_REG_B, 0, now);
	CHECK_EQ(cmos_read(rtc, RTC_HOURS, now), 0x12);
}

TEST(rtc_memory_size_bytes)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	const u64 mib = 1 << 20;
	rtc_cmos_set_memory(rtc, 512 * mib, 2048 * mib);
	u8 *c = rtc->cmos;
	CHECK_EQ(c[0x15] | c[0x16] << 8, 640);
	CHECK_EQ(c[0x17] | c[0x18] << 8, 0xffff); /* 511 MiB does not fit: capped */
	CHECK_EQ(c[0x30] | c[0x31] << 8, 0xffff);
	CHECK_EQ(c[0x34] | c[0x35] << 8, (512 - 16) * 16);
	CHECK_EQ(c[0x5b] | c[0x5c] << 8 | c[0x5d] << 16, 2048 * 16);
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += c[i];
	CHECK_EQ(c[0x2e] << 8 | c[0x2f], sum & 0xffff);
	/* and through the ports */
	CHECK_EQ(cmos_read(rtc, 0x34, T0), 0x00);
	CHECK_EQ(cmos_read(rtc, 0x35, T0), 0x1f);
	rtc_cmos_set_memory(rtc, 32 * mib, 0);
	CHECK_EQ(c[0x17] | c[0x18] << 8, 31 * 1024);
	CHECK_EQ(c[0x34] | c[0x35] << 8, 16 * 16);
	CHECK_EQ(c[0x5b] | c[0x5c] | c[0x5d], 0);
	rtc_cmos_set_memory(rtc, 600 * 1024, 0);
	CHECK_EQ(c[0x15] | c[0x16] << 8, 600);
	CHECK_EQ(c[0x17] | c[0x18] << 8, 0);
	CHECK_EQ(c[0x34] | c[0x35] << 8, 0);
	rtc_cmos_set_memory(rtc, 4096 * mib, 1ULL << 50);
	CHECK_EQ(c[0x34] | c[0x35] << 8, 0xff00);
	CHECK_EQ(c[0x5b] | c[0x5c] << 8 | c[0x5d] << 16, 0xffffff);
	rtc_cmos_set_memory(rtc, 1ULL << 40, 0); /* nonsense: capped, not wrapped */
	CHECK_EQ(c[0x34] | c[0x35] << 8, 0xffff);
	CHECK_EQ(c[0x5b] | c[0x5c] << 8 | c[0x5d] << 16, 0);
}

static size_t save(const struct rtc_cmos *rtc, u8 *buf, size_t size)
{
	struct state_writer w = {buf, size, 0, false};
	rtc_save(rtc, &w);
	REQUIRE(!w.overflow);
	return w.len;
}

TEST(rtc_save_load_round_trip)
{
	struct irq8_rec rec = {0}, rec2 = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	u64 now = T0 + 1500 * MSEC;
	cmos_write(rtc, RTC_REG_B, RTC_B_24H | RTC_B_PIE | RTC_B_UIE, now);
	cmos_write(rtc, 0x40, 0x99, now);
	rtc_update(rtc, now + 5 * MSEC);
	REQUIRE(rec.level);
	out(rtc, 0x70, 0x80 | RTC_SECONDS, now + 5 * MSEC);
	u8 buf[512];
	size_t len = save(rtc, buf, sizeof(buf));
	CHECK_EQ(len, 8 + 128 + 3 + 4 * 8);

	struct rtc_cmos *copy = new_rtc(&rec2, 0);
	struct state_reader r = {buf, len, 0, false};
	REQUIRE(rtc_load(copy, &r));
	CHECK_EQ(r.pos, len);
	CHECK(rec2.level); /* the wire hears the level at once */
	CHECK(copy->nmi_disabled);
	u64 later = now + 700 * MSEC;
	CHECK_EQ(in(copy, 0x71, later), in(rtc, 0x71, later));
	CHECK_EQ(cmos_read(copy, 0x40, later), 0x99);
	CHECK_EQ(cmos_read(copy, RTC_REG_C, later), cmos_read(rtc, RTC_REG_C, later));
	CHECK_EQ(rtc_next_event(copy, later), rtc_next_event(rtc, later));
	u8 a[512], b[512];
	CHECK_EQ(save(copy, a, sizeof(a)), save(rtc, b, sizeof(b)));
	CHECK(!memcmp(a, b, len));
}

TEST(rtc_load_rejects_malformed_state)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	rtc_update(rtc, T0 + 3 * SEC);
	u8 good[512];
	size_t len = save(rtc, good, sizeof(good));
	struct rtc_cmos *victim = new_rtc(&rec, 12345);
	u8 before[512];
	size_t before_len = save(victim, before, sizeof(before));
	for (size_t n = 0; n < len; n++) {
		u8 *p = test_dup(good, n);
		struct state_reader r = {p, n, 0, false};
		CHECK(!rtc_load(victim, &r));
	}
	/* tag 8, CMOS 128, index, NMI, flags, secs, next update, divider start, now */
	struct {
		size_t off;
		u8 value;
	} bad[] = {
	    {1, 'x'},		   /* tag */
	    {4, 9},		   /* version */
	    {136, 0x80},	   /* index beyond the RAM */
	    {137, 2},		   /* NMI flag */
	    {138, 0x81},	   /* register C bits that are not flags */
	    {8 + RTC_REG_A, 0xa6}, /* UIP stored */
	    {8 + RTC_REG_B, 0x92}, /* SET with UIE */
	    {139 + 5, 0xff},	   /* a time beyond 9999 */
	    {155 + 7, 0xff},	   /* the divider started after `now` */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		u8 copy[512];
		memcpy(copy, good, len);
		copy[bad[i].off] = bad[i].value;
		struct state_reader r = {copy, len, 0, false};
		CHECK(!rtc_load(victim, &r));
		CHECK(r.error);
	}
	u8 after[512];
	CHECK_EQ(save(victim, after, sizeof(after)), before_len);
	CHECK(!memcmp(before, after, before_len));
}

/* Random register writes at random times: rtc_next_event() is always the first time IRQ8
 * rises, and every read gives well-formed BCD while the format is BCD. */
TEST(rtc_random_programming_next_event_is_the_first_rise)
{
	struct irq8_rec rec = {0};
	struct rtc_cmos *rtc = new_rtc(&rec, BASE);
	u64 seed = 0x13198a2e03707344ULL, now = T0;
	unsigned checked = 0;
	for (unsigned i = 0; i < 20000; i++) {
		u64 r = test_rng(&seed);
		u64 t = (r >> 40) % 8 == 0 ? now - MIN(now, r % SEC) : now + r % (3 * SEC);
		u8 reg = (u8)((r >> 8) % 14);
		u8 v = (u8)(r >> 16);
		if (reg == RTC_REG_A)
			v = (u8)((v & 0x0f) | ((r >> 24) % 4 ? 0x20 : 0x70));
		if (reg == RTC_REG_B)
			v &= (u8)~RTC_B_DM;
		if ((r >> 32) & 1)
			cmos_write(rtc, reg, v, t);
		else if (reg != RTC_REG_C && reg != RTC_REG_A && !(reg & 1) && reg < 10)
			CHECK((cmos_read(rtc, reg, t) & 0x0f) <= 9 ||
			      (rtc->cmos[RTC_REG_B] & RTC_B_SET) ||
			      (rtc->cmos[RTC_REG_A] & 0x60) == 0x60);
		else
			cmos_read(rtc, reg, t);
		now = MAX(now, t);
		if (rec.level && (r >> 36) % 2)
			cmos_read(rtc, RTC_REG_C, now);
		u64 next = rtc_next_event(rtc, now);
		if (next == UINT64_MAX)
			continue;
		CHECK(next > now);
		CHECK(!rec.level);
		rtc_update(rtc, next - 1);
		CHECK(!rec.level);
		rtc_update(rtc, next);
		CHECK(rec.level);
		now = next;
		checked++;
	}
	CHECK(checked > 1000);
}

TEST(rtc_keep_nvram_takes_ram_bytes_but_not_clock_century_or_memory_sizes)
{
	struct irq8_rec rec = {0}, rec2 = {0};
	struct rtc_cmos *old = new_rtc(&rec, BASE);
	const u64 mib = 1 << 20;
	rtc_cmos_set_memory(old, 64 * mib, 0);
	cmos_write(old, 0x40, 0x99, T0);
	cmos_write(old, 0x7f, 0x5a, T0);
	cmos_write(old, 0x10, 0x21, T0); /* inside the checksummed range */
	cmos_write(old, 0x17, 0xee, T0); /* a memory-size byte the guest scribbled on */
	cmos_write(old, RTC_REG_B, RTC_B_24H | RTC_B_DM, T0);
	u8 saved[RTC_CMOS_SIZE];
	memcpy(saved, old->cmos, sizeof(saved));

	struct rtc_cmos *n = new_rtc(&rec2, BASE + 3600);
	rtc_cmos_set_memory(n, 32 * mib, 0);
	u8 reg_b = n->cmos[RTC_REG_B], sec = n->cmos[RTC_SECONDS], century = n->cmos[RTC_CENTURY];
	rtc_cmos_keep_nvram(n, saved);
	CHECK_EQ(n->cmos[0x40], 0x99);
	CHECK_EQ(n->cmos[0x7f], 0x5a);
	CHECK_EQ(n->cmos[0x10], 0x21);
	CHECK_EQ(n->cmos[0x17] | n->cmos[0x18] << 8, 31 * 1024); /* the new VM's size */
	CHECK_EQ(n->cmos[RTC_REG_B], reg_b);
	CHECK_EQ(n->cmos[RTC_SECONDS], sec);
	CHECK_EQ(n->cmos[RTC_CENTURY], century);
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += n->cmos[i];
	CHECK_EQ(n->cmos[0x2e] << 8 | n->cmos[0x2f], sum & 0xffff);
}
