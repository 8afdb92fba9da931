/* Time: the TSC calibrated against PIT channel 2, and the local APIC timer as the
 * hypervisor's periodic tick (it wakes an idle CPU and makes time visible in exits). */
#include "keel.h"
#include "console.h"
#include "cpu_hw.h"
#include "time.h"
#include "trap.h"

#define PIT_HZ	     1193182
#define CALIBRATE_MS 10

#define LAPIC_EOI      0xb0
#define LAPIC_SVR      0xf0
#define LAPIC_LVT_TMR  0x320
#define LAPIC_TMR_INIT 0x380
#define LAPIC_TMR_CUR  0x390
#define LAPIC_TMR_DIV  0x3e0
#define LVT_MASKED     BIT(16)
#define LVT_PERIODIC   BIT(17)

u64 tsc_hz;
static volatile u32 *lapic;
static volatile u64 ticks;

u64 time_now(void)
{
	return rdtsc();
}

u64 time_ticks(void)
{
	return ticks;
}

static void lapic_write(u32 reg, u32 v)
{
	lapic[reg / 4] = v;
}

static u32 lapic_read(u32 reg)
{
	return lapic[reg / 4];
}

/* Counts TSC ticks across CALIBRATE_MS of PIT channel 2 (gate on, speaker off, mode 0). */
static u64 calibrate_tsc(void)
{
	u16 count = PIT_HZ / (1000 / CALIBRATE_MS);
	outb(0x61, (u8)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	outb(0x42, (u8)count);
	outb(0x42, (u8)(count >> 8));
	u64 t0 = rdtsc();
	u64 spins = 0;
	while (!(inb(0x61) & 0x20)) {
		if (++spins > 100000000ULL)
			return 0;
	}
	return (rdtsc() - t0) * (1000 / CALIBRATE_MS);
}

static void timer_tick(u8 vector)
{
	(void)vector;
	ticks++;
	lapic_write(LAPIC_EOI, 0);
}

static void spurious(u8 vector)
{
	(void)vector; /* no EOI for the spurious vector */
}

void time_init(void)
{
	/* the legacy PICs would deliver on vectors 8-15, over CPU exceptions: mask them */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	tsc_hz = calibrate_tsc();
	if (!tsc_hz) {
		pr_warn("time: PIT calibration failed; assuming 1 GHz\n");
		tsc_hz = 1000000000ULL;
	}

	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	wrmsr(MSR_IA32_APIC_BASE, base | BIT(11)); /* xAPIC enabled */
	lapic = phys_to_virt(base & 0xfffff000ULL);
	irq_set_handler(VEC_TIMER, timer_tick);
	irq_set_handler(VEC_SPURIOUS, spurious);
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_write(LAPIC_TMR_DIV, 0x3); /* divide by 16 */

	/* measure the APIC timer against the TSC, then run it periodically at TIMER_HZ */
	lapic_write(LAPIC_LVT_TMR, LVT_MASKED | VEC_TIMER);
	lapic_write(LAPIC_TMR_INIT, 0xffffffffu);
	u64 t0 = rdtsc(), wait = tsc_hz / 100;
	while (rdtsc() - t0 < wait)
		cpu_relax();
	u32 elapsed = 0xffffffffu - lapic_read(LAPIC_TMR_CUR);
	u64 per_tick = (u64)elapsed * 100 / TIMER_HZ;
	if (!per_tick)
		per_tick = 1;
	lapic_write(LAPIC_LVT_TMR, LVT_PERIODIC | VEC_TIMER);
	lapic_write(LAPIC_TMR_INIT, (u32)MIN(per_tick, 0xffffffffULL));
	kprintf("time: TSC %llu.%03llu MHz (PIT), APIC timer %llu Hz tick\n",
		(unsigned long long)(tsc_hz / 1000000), (unsigned long long)(tsc_hz / 1000 % 1000),
		(unsigned long long)TIMER_HZ);
}
