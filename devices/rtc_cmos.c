/* MC146818 clock kept as seconds since 1970 plus the divider's phase, turned into register
 * bytes (BCD or binary, 12- or 24-hour) when read; updates, the periodic rate and alarms are
 * computed in closed form from the time passed in, so late updates cost nothing extra. */
#include "rtc_cmos.h"
#include "../hypervisor/lib.h"

#define DIVIDER_MASK	0x70
#define DIVIDER_RESET	0x60 /* DV2-DV1 = 11: the divider chain is held in reset */
#define RATE_MASK	0x0f
#define RTC_HZ		32768ULL
#define UIP_NS		244141ULL /* UIP is set for 8 divider clocks before an update */
#define HALF_SECOND_NS	(NS_PER_SEC / 2)
#define SECS_PER_DAY	86400ULL
#define ALARM_DONT_CARE 0xc0

static u64 sat_add(u64 a, u64 b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static u64 sat_mul(u64 a, u64 b)
{
	return (b && a > UINT64_MAX / b) ? UINT64_MAX : a * b;
}

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ---- */

struct rtc_tm {
	unsigned sec, min, hour, wday /* 1 = Sunday */, mday, mon;
	u64 year;
};

static bool leap(u64 y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(u64 y, unsigned m)
{
	static const u8 days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d, y >= 1970 (eras of 400 years are 146097 days). */
static u64 days_from_civil(u64 y, unsigned m, unsigned d)
{
	y -= m <= 2;
	u64 era = y / 400, yoe = y % 400;
	u64 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	u64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void secs_to_tm(u64 secs, struct rtc_tm *tm)
{
	u64 days = secs / SECS_PER_DAY, rem = secs % SECS_PER_DAY;
	tm->hour = (unsigned)(rem / 3600);
	tm->min = (unsigned)(rem / 60 % 60);
	tm->sec = (unsigned)(rem % 60);
	tm->wday = (unsigned)((days + 4) % 7) + 1; /* 1970-01-01 was a Thursday */
	u64 z = days + 719468, era = z / 146097, doe = z % 146097;
	u64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	u64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	u64 mp = (5 * doy + 2) / 153;
	tm->mday = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	tm->mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	tm->year = era * 400 + yoe + (tm->mon <= 2);
}

/* ---- register formats ---- */

static bool binary(const struct rtc_cmos *rtc)
{
	return rtc->cmos[RTC_REG_B] & RTC_B_DM;
}

static u8 to_reg(const struct rtc_cmos *rtc, unsigned v)
{
	return binary(rtc) ? (u8)v : (u8)((v / 10) << 4 | v % 10);
}

/* Nibbles above 9 are taken as they are; callers clamp the result. */
static unsigned from_reg(const struct rtc_cmos *rtc, u8 b)
{
	return binary(rtc) ? b : (b >> 4) * 10u + (b & 15);
}

static u8 hour_to_reg(const struct rtc_cmos *rtc, unsigned h)
{
	if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
		return to_reg(rtc, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (u8)(to_reg(rtc, h12) | (h >= 12 ? 0x80 : 0)); /* bit 7: PM */
}

static unsigned hour_from_reg(const struct rtc_cmos *rtc, u8 b)
{
	if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
		return MIN(from_reg(rtc, b), 23u);
	unsigned h12 = from_reg(rtc, b & 0x7f);
	h12 = h12 < 1 ? 1 : MIN(h12, 12u);
	return h12 % 12 + ((b & 0x80) ? 12 : 0);
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The time bytes from `secs`, in the format register B selects now. */
static void time_to_regs(struct rtc_cmos *rtc)
{
	struct rtc_tm tm;
	secs_to_tm(rtc->secs, &tm);
	rtc->cmos[RTC_SECONDS] = to_reg(rtc, tm.sec);
	rtc->cmos[RTC_MINUTES] = to_reg(rtc, tm.min);
	rtc->cmos[RTC_HOURS] = hour_to_reg(rtc, tm.hour);
	rtc->cmos[RTC_DAY_OF_WEEK] = to_reg(rtc, tm.wday);
	rtc->cmos[RTC_DAY_OF_MONTH] = to_reg(rtc, tm.mday);
	rtc->cmos[RTC_MONTH] = to_reg(rtc, tm.mon);
	rtc->cmos[RTC_YEAR] = to_reg(rtc, (unsigned)(tm.year % 100));
	rtc->cmos[RTC_CENTURY] = to_reg(rtc, (unsigned)(tm.year / 100 % 100));
}

/* `secs` from the time bytes; every field is clamped into range (the day of the week is
 * derived from the date, not read). Years run from 1970 to 9999. */
static void regs_to_time(struct rtc_cmos *rtc)
{
	const u8 *c = rtc->cmos;
	unsigned year =
	    MIN(from_reg(rtc, c[RTC_CENTURY]), 99u) * 100 + MIN(from_reg(rtc, c[RTC_YEAR]), 99u);
	year = clamp(year, 1970, 9999);
	unsigned mon = clamp(from_reg(rtc, c[RTC_MONTH]), 1, 12);
	unsigned mday = clamp(from_reg(rtc, c[RTC_DAY_OF_MONTH]), 1, month_days(year, mon));
	u64 days = days_from_civil(year, mon, mday);
	rtc->secs = days * SECS_PER_DAY + hour_from_reg(rtc, c[RTC_HOURS]) * 3600ULL +
		    MIN(from_reg(rtc, c[RTC_MINUTES]), 59u) * 60ULL +
		    MIN(from_reg(rtc, c[RTC_SECONDS]), 59u);
}

static bool is_time_reg(unsigned i)
{
	return i == RTC_SECONDS || i == RTC_MINUTES || i == RTC_HOURS ||
	       (i >= RTC_DAY_OF_WEEK && i <= RTC_YEAR) || i == RTC_CENTURY;
}

/* ---- the divider: updates, periodic rate, alarm ---- */

static bool divider_on(const struct rtc_cmos *rtc)
{
	return (rtc->cmos[RTC_REG_A] & DIVIDER_RESET) != DIVIDER_RESET;
}

/* While stopped the time bytes are RAM the guest writes; running, `secs` is the time. */
static bool stopped(const struct rtc_cmos *rtc)
{
	return !divider_on(rtc) || (rtc->cmos[RTC_REG_B] & RTC_B_SET);
}

static u64 cycles_at(u64 ns)
{
	return (ns / NS_PER_SEC) * RTC_HZ + (ns % NS_PER_SEC) * RTC_HZ / NS_PER_SEC;
}

static u64 ns_at_cycle(u64 c)
{
	u64 q = c / RTC_HZ, r = c % RTC_HZ;
	return sat_add(sat_mul(q, NS_PER_SEC), (r * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ);
}

/* The periodic rate in divider clocks: RS 3-15 taps 2^(RS-1); 1 and 2 repeat 8 and 9. */
static u64 rate_cycles(unsigned rs)
{
	return rs <= 2 ? 1ULL << (rs + 6) : 1ULL << (rs - 1);
}

static bool alarm_field(u8 alarm, u8 value)
{
	return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == value;
}

/* The first second after `from` whose time of day matches the alarm bytes (compared in the
 * current register format, 0xc0-0xff matching anything); UINT64_MAX if none ever does. */
static u64 alarm_next(const struct rtc_cmos *rtc, u64 from)
{
	bool sec_ok[60], min_ok[60], hour_ok[24], any_sec = false;
	for (unsigned i = 0; i < 60; i++) {
		sec_ok[i] = alarm_field(rtc->cmos[RTC_SECONDS_ALARM], to_reg(rtc, i));
		min_ok[i] = alarm_field(rtc->cmos[RTC_MINUTES_ALARM], to_reg(rtc, i));
		any_sec |= sec_ok[i];
	}
	for (unsigned i = 0; i < 24; i++)
		hour_ok[i] = alarm_field(rtc->cmos[RTC_HOURS_ALARM], hour_to_reg(rtc, i));
	if (!any_sec || from >= RTC_MAX_SECS)
		return UINT64_MAX;
	u64 start = from + 1, tod = start % SECS_PER_DAY, day = start - tod;
	/* minute by minute over one day and the part of the first minute left out */
	for (u64 m = tod / 60; m <= tod / 60 + 1440; m++) {
		unsigned mi = (unsigned)(m % 1440);
		if (!hour_ok[mi / 60] || !min_ok[mi % 60])
			continue;
		for (unsigned s = m == tod / 60 ? (unsigned)(tod % 60) : 0; s < 60; s++)
			if (sec_ok[s])
				return day + m * 60 + s;
	}
	return UINT64_MAX;
}

static void update_irq(struct rtc_cmos *rtc)
{
	bool level = (rtc->flags & rtc->cmos[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE)) != 0;
	if (level != rtc->irq_level) {
		rtc->irq_level = level;
		irq_line_set(&rtc->irq, level);
	}
}

static void bring_to(struct rtc_cmos *rtc, u64 now)
{
	if (now <= rtc->now_ns)
		return;
	u64 prev = rtc->now_ns;
	rtc->now_ns = now;
	if (!divider_on(rtc))
		return;
	unsigned rs = rtc->cmos[RTC_REG_A] & RATE_MASK;
	if (rs) {
		u64 p = rate_cycles(rs);
		if (cycles_at(now - rtc->div_start_ns) / p !=
		    cycles_at(prev - rtc->div_start_ns) / p)
			rtc->flags |= RTC_C_PF;
	}
	if (now >= rtc->next_update_ns) {
		u64 n = (now - rtc->next_update_ns) / NS_PER_SEC + 1;
		rtc->next_update_ns = sat_add(rtc->next_update_ns, sat_mul(n, NS_PER_SEC));
		if (!(rtc->cmos[RTC_REG_B] & RTC_B_SET)) { /* SET holds the time, not the divider */
			u64 alarm = alarm_next(rtc, rtc->secs);
			rtc->secs = MIN(sat_add(rtc->secs, n), RTC_MAX_SECS);
			rtc->flags |= RTC_C_UF;
			if (alarm <= rtc->secs)
				rtc->flags |= RTC_C_AF;
		}
	}
}

static bool uip(const struct rtc_cmos *rtc)
{
	return !stopped(rtc) && rtc->next_update_ns - rtc->now_ns <= UIP_NS;
}

/* Writes to A and B that start or stop the clock move the time between `secs` and the
 * time bytes; leaving divider reset puts the first update half a second later. */
static void control_write(struct rtc_cmos *rtc, unsigned reg, u8 v)
{
	if (reg == RTC_REG_A)
		v &= (u8)~RTC_A_UIP;
	else if (v & RTC_B_SET)
		v &= (u8)~RTC_B_UIE; /* setting SET clears UIE */
	u8 a = reg == RTC_REG_A ? v : rtc->cmos[RTC_REG_A];
	u8 b = reg == RTC_REG_B ? v : rtc->cmos[RTC_REG_B];
	bool was_stopped = stopped(rtc), was_on = divider_on(rtc);
	bool will_stop = (a & DIVIDER_RESET) == DIVIDER_RESET || (b & RTC_B_SET);
	if (!was_stopped && will_stop)
		time_to_regs(rtc); /* in the format in force until now */
	rtc->cmos[reg] = v;
	if (!was_on && divider_on(rtc)) {
		rtc->div_start_ns = rtc->now_ns;
		rtc->next_update_ns = sat_add(rtc->now_ns, HALF_SECOND_NS);
	}
	if (was_stopped && !stopped(rtc))
		regs_to_time(rtc);
}

static u8 rtc_read(struct rtc_cmos *rtc, unsigned i)
{
	u8 v;
	switch (i) {
	case RTC_REG_A:
		return (u8)(rtc->cmos[RTC_REG_A] | (uip(rtc) ? RTC_A_UIP : 0));
	case RTC_REG_C:
		v = rtc->flags | (rtc->irq_level ? RTC_C_IRQF : 0);
		rtc->flags = 0; /* reading C clears the flags and lowers IRQ8 */
		update_irq(rtc);
		return v;
	case RTC_REG_D:
		return RTC_D_VRT; /* the battery is good */
	default:
		if (is_time_reg(i) && !stopped(rtc))
			time_to_regs(rtc);
		return rtc->cmos[i];
	}
}

static void rtc_write(struct rtc_cmos *rtc, unsigned i, u8 v)
{
	switch (i) {
	case RTC_REG_A:
	case RTC_REG_B:
		control_write(rtc, i, v);
		update_irq(rtc);
		break;
	case RTC_REG_C:
	case RTC_REG_D: /* read-only */
		break;
	default:
		if (is_time_reg(i) && !stopped(rtc)) {
			/* a running clock takes the new field at once and keeps its phase */
			time_to_regs(rtc);
			rtc->cmos[i] = v;
			regs_to_time(rtc);
		} else {
			rtc->cmos[i] = v;
		}
		break;
	}
}

static u8 rtc_byte(struct rtc_cmos *rtc, u32 port, bool write, u8 v)
{
	if (port == RTC_PORT) {
		if (!write)
			return 0xff; /* the index register is write-only */
		rtc->index = v & 0x7f;
		rtc->nmi_disabled = v & 0x80;
		return v;
	}
	if (port == RTC_PORT + 1) {
		if (!write)
			return rtc_read(rtc, rtc->index);
		rtc_write(rtc, rtc->index, v);
		return v;
	}
	return 0xff; /* a wide access that runs past the RTC's ports */
}

void rtc_io(struct rtc_cmos *rtc, struct io_access *a, u64 now)
{
	if (a->size != 1 && a->size != 2 && a->size != 4) {
		if (!a->write)
			a->value = 0xffffffff;
		return;
	}
	bring_to(rtc, now);
	u32 out = 0;
	for (unsigned i = 0; i < a->size; i++)
		out |= (u32)rtc_byte(rtc, (u32)a->port + i, a->write, (u8)(a->value >> (8 * i)))
		       << (8 * i);
	if (!a->write)
		a->value = out;
	update_irq(rtc);
}

void rtc_access(void *dev, struct io_access *a)
{
	struct rtc_cmos *rtc = dev;
	rtc_io(rtc, a, dev_clock_now(&rtc->clock));
}

void rtc_update(struct rtc_cmos *rtc, u64 now)
{
	bring_to(rtc, now);
	update_irq(rtc);
}

u64 rtc_next_event(struct rtc_cmos *rtc, u64 now)
{
	rtc_update(rtc, now);
	if (rtc->irq_level || !divider_on(rtc))
		return UINT64_MAX;
	u8 b = rtc->cmos[RTC_REG_B];
	unsigned rs = rtc->cmos[RTC_REG_A] & RATE_MASK;
	u64 next = UINT64_MAX;
	if ((b & RTC_B_PIE) && rs) {
		u64 p = rate_cycles(rs);
		u64 c = cycles_at(rtc->now_ns - rtc->div_start_ns);
		next = sat_add(rtc->div_start_ns, ns_at_cycle((c / p + 1) * p));
	}
	if (b & RTC_B_SET)
		return next;
	if (b & RTC_B_UIE)
		next = MIN(next, rtc->next_update_ns);
	if (b & RTC_B_AIE) {
		u64 alarm = alarm_next(rtc, rtc->secs);
		if (alarm != UINT64_MAX)
			next = MIN(next, sat_add(rtc->next_update_ns,
						 sat_mul(alarm - rtc->secs - 1, NS_PER_SEC)));
	}
	return next;
}

void rtc_init(struct rtc_cmos *rtc, const struct irq_line *irq, const struct dev_clock *clock,
	      u64 base_secs, u64 now)
{
	memset(rtc, 0, sizeof(*rtc));
	if (irq)
		rtc->irq = *irq;
	if (clock)
		rtc->clock = *clock;
	rtc->cmos[RTC_REG_A] = 0x26;
	rtc->cmos[RTC_REG_B] = RTC_B_24H;
	rtc->secs = MIN(base_secs, RTC_MAX_SECS);
	rtc->now_ns = now;
	rtc->div_start_ns = now;
	rtc->next_update_ns = sat_add(now, NS_PER_SEC);
}

static void put16(struct rtc_cmos *rtc, unsigned at, u64 v)
{
	rtc->cmos[at] = (u8)v;
	rtc->cmos[at + 1] = (u8)(v >> 8);
}

/* The AT checksum over 0x10-0x2d, big-endian at 0x2e. */
static void set_checksum(struct rtc_cmos *rtc)
{
	u16 sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum = (u16)(sum + rtc->cmos[i]);
	rtc->cmos[0x2e] = (u8)(sum >> 8);
	rtc->cmos[0x2f] = (u8)sum;
}

void rtc_cmos_set_memory(struct rtc_cmos *rtc, u64 below_4g, u64 above_4g)
{
	const u64 kib = 1024, mib = 1024 * kib;
	u64 ext = below_4g > mib ? MIN((below_4g - mib) / kib, 0xffffULL) : 0;
	u64 over16 = below_4g > 16 * mib ? MIN((below_4g - 16 * mib) >> 16, 0xffffULL) : 0;
	u64 high = MIN(above_4g >> 16, 0xffffffULL);
	put16(rtc, 0x15, MIN(below_4g / kib, 640ULL));
	put16(rtc, 0x17, ext);
	put16(rtc, 0x30, ext);
	put16(rtc, 0x34, over16);
	rtc->cmos[0x5b] = (u8)high;
	rtc->cmos[0x5c] = (u8)(high >> 8);
	rtc->cmos[0x5d] = (u8)(high >> 16);
	set_checksum(rtc);
}

/* What rtc_cmos_set_memory() writes: firmware sets these at every boot. */
static bool firmware_byte(unsigned i)
{
	return (i >= 0x15 && i <= 0x18) || (i >= 0x2e && i <= 0x31) || i == 0x34 || i == 0x35 ||
	       (i >= 0x5b && i <= 0x5d);
}

void rtc_cmos_keep_nvram(struct rtc_cmos *rtc, const u8 *saved)
{
	for (unsigned i = RTC_REG_D + 1; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY && !firmware_byte(i))
			rtc->cmos[i] = saved[i];
	set_checksum(rtc);
}

/* ---- save/load ---- */

#define RTC_STATE_VERSION 1

void rtc_save(const struct rtc_cmos *rtc, struct state_writer *w)
{
	u8 small[3] = {rtc->index, rtc->nmi_disabled, rtc->flags};
	state_put_tag(w, "CMOS", RTC_STATE_VERSION);
	state_put(w, rtc->cmos, sizeof(rtc->cmos));
	state_put(w, small, sizeof(small));
	state_put(w, &rtc->secs, 8);
	state_put(w, &rtc->next_update_ns, 8);
	state_put(w, &rtc->div_start_ns, 8);
	state_put(w, &rtc->now_ns, 8);
}

bool rtc_load(struct rtc_cmos *rtc, struct state_reader *r)
{
	u8 cmos[RTC_CMOS_SIZE], small[3];
	u64 secs, next_update, div_start, now;
	if (!state_get_tag(r, "CMOS", RTC_STATE_VERSION) || !state_get(r, cmos, sizeof(cmos)) ||
	    !state_get(r, small, sizeof(small)) || !state_get(r, &secs, 8) ||
	    !state_get(r, &next_update, 8) || !state_get(r, &div_start, 8) ||
	    !state_get(r, &now, 8))
		return false;
	if (small[0] >= RTC_CMOS_SIZE || small[1] > 1 ||
	    (small[2] & ~(RTC_C_PF | RTC_C_AF | RTC_C_UF)) || (cmos[RTC_REG_A] & RTC_A_UIP) ||
	    ((cmos[RTC_REG_B] & RTC_B_SET) && (cmos[RTC_REG_B] & RTC_B_UIE)) ||
	    secs > RTC_MAX_SECS || div_start > now) {
		r->error = true;
		return false;
	}
	memcpy(rtc->cmos, cmos, sizeof(cmos));
	rtc->index = small[0];
	rtc->nmi_disabled = small[1];
	rtc->flags = small[2];
	rtc->secs = secs;
	rtc->next_update_ns = next_update;
	rtc->div_start_ns = div_start;
	rtc->now_ns = now;
	rtc->irq_level = (rtc->flags & rtc->cmos[RTC_REG_B] & 0x70) != 0;
	irq_line_set(&rtc->irq, rtc->irq_level); /* the wiring may be new: say it once */
	return true;
}

/* ---- the device interface ---- */

static void dev_update(void *dev, const struct dev_time *now)
{
	rtc_update(dev, now->ns);
}

static u64 dev_next_event(void *dev, const struct dev_time *now)
{
	return dev_ns_to_tsc(now->tsc_hz, rtc_next_event(dev, now->ns));
}

static void dev_save(void *dev, struct state_writer *w)
{
	rtc_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return rtc_load(dev, r);
}

const struct device_ops rtc_device = {
    .name = "rtc",
    .port = rtc_access,
    .update = dev_update,
    .next_event = dev_next_event,
    .save = dev_save,
    .load = dev_load,
};
