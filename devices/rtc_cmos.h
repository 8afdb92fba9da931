/* MC146818 real-time clock and its 128 bytes of CMOS RAM at 0x70-0x71 (index with the
 * NMI-disable bit, data). The clock runs from a wall-clock base given at creation and
 * the time passed in (ns); periodic, alarm and update-ended interrupts leave on IRQ8. */
#ifndef KEEL_RTC_CMOS_H
#define KEEL_RTC_CMOS_H

#include "clock.h"
#include "io_bus.h"
#include "irq.h"
#include "state.h"
#include "device.h"

#define RTC_PORT      0x70
#define RTC_CMOS_SIZE 128

/* Registers and CMOS bytes with a meaning. */
#define RTC_SECONDS	  0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES	  0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS	  0x04
#define RTC_HOURS_ALARM	  0x05
#define RTC_DAY_OF_WEEK	  0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH	  0x08
#define RTC_YEAR	  0x09
#define RTC_REG_A	  0x0a
#define RTC_REG_B	  0x0b
#define RTC_REG_C	  0x0c
#define RTC_REG_D	  0x0d
#define RTC_CENTURY	  0x32 /* the ACPI FADT century byte */

#define RTC_A_UIP  0x80
#define RTC_B_SET  0x80
#define RTC_B_PIE  0x40
#define RTC_B_AIE  0x20
#define RTC_B_UIE  0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM   0x04 /* binary, not BCD */
#define RTC_B_24H  0x02
#define RTC_B_DSE  0x01 /* stored only: no daylight-saving switch is made */
#define RTC_C_IRQF 0x80
#define RTC_C_PF   0x40
#define RTC_C_AF   0x20
#define RTC_C_UF   0x10
#define RTC_D_VRT  0x80

/* The last second the clock shows: 9999-12-31 23:59:59. */
#define RTC_MAX_SECS 253402300799ULL

struct rtc_cmos {
	/* CMOS RAM and the alarm and control bytes. The time bytes (0, 2, 4, 6-9 and the
	 * century) hold the time only while it is stopped (SET or divider reset). */
	u8 cmos[RTC_CMOS_SIZE];
	u8 index;	   /* selected by port 0x70 */
	bool nmi_disabled; /* bit 7 of the last index write; the platform may honour it */
	u8 flags;	   /* register C: PF, AF, UF (IRQF is derived) */
	bool irq_level;
	u64 secs;	    /* the time shown: seconds since 1970-01-01 00:00:00 */
	u64 next_update_ns; /* when `secs` next advances: the divider's phase */
	u64 div_start_ns;   /* when the divider last started: the periodic rate's phase */
	u64 now_ns;	    /* the latest time seen; an earlier time counts as this one */
	struct irq_line irq;
	struct dev_clock clock;
};

/* Registers A = 0x26 (32.768 kHz, 1024 Hz), B = 0x02 (24-hour, BCD), time `base_secs`
 * (seconds since 1970, clamped to RTC_MAX_SECS) at time `now` (ns), first update one
 * second later. `irq` and `clock` may be NULL. */
void rtc_init(struct rtc_cmos *rtc, const struct irq_line *irq, const struct dev_clock *clock,
	      u64 base_secs, u64 now);
/* Port handler for 0x70-0x71; reads the time from the clock given to rtc_init. */
void rtc_access(void *dev, struct io_access *a);
/* The same with the time given. */
void rtc_io(struct rtc_cmos *rtc, struct io_access *a, u64 now);
/* Brings the clock and the flags to `now`; IRQ8 rises if an enabled flag got set. */
void rtc_update(struct rtc_cmos *rtc, u64 now);
/* rtc_update(), then the time in ns (> now) at which IRQ8 would next rise, UINT64_MAX if
 * never (or while it is high: only reading register C lowers it). */
u64 rtc_next_event(struct rtc_cmos *rtc, u64 now);
/* Fills the memory-size bytes a BIOS leaves: 0x15-0x16 base KiB, 0x17-0x18 and 0x30-0x31
 * KiB above 1 MiB (at most 0xffff), 0x34-0x35 64 KiB units above 16 MiB below 4 GiB,
 * 0x5b-0x5d 64 KiB units above 4 GiB, and the checksum of 0x10-0x2d at 0x2e-0x2f. */
void rtc_cmos_set_memory(struct rtc_cmos *rtc, u64 below_4g, u64 above_4g);
/* A VM built again (reset, restart) keeps the CMOS RAM it had, as a PC's battery does: every
 * byte from 0x0e but the century and what rtc_cmos_set_memory() wrote anew. */
void rtc_cmos_keep_nvram(struct rtc_cmos *rtc, const u8 *saved);
void rtc_save(const struct rtc_cmos *rtc, struct state_writer *w);
/* Rejects (changing nothing) truncated, foreign or inconsistent state. */
bool rtc_load(struct rtc_cmos *rtc, struct state_reader *r);

/* The RTC as the platform drives it; no reset: the clock and CMOS keep running on battery. */
extern const struct device_ops rtc_device;

#endif
