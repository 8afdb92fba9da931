/* Local APIC model, one per vCPU: the xAPIC MMIO page and the x2APIC MSRs, IA32_APIC_BASE,
 * IRR/ISR/TMR and priorities, the LVTs and LINT0/1 pins, the ICR (IPIs leave through a
 * callback) and the timer (lapic_timer.c). Time comes in as guest TSC values. */
#ifndef KEEL_LAPIC_H
#define KEEL_LAPIC_H

#include "irq.h"
#include "lapic_timer.h"
#include "mmio.h"
#include "state.h"
#include "device.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ULL
#define LAPIC_WINDOW	   0x1000
#define LAPIC_VERSION	   0x00060014u /* integrated APIC (0x14), 7 LVT entries (max index 6) */

/* IA32_APIC_BASE bits. */
#define APIC_BASE_BSP  BIT(8)
#define APIC_BASE_EXTD BIT(10) /* x2APIC mode */
#define APIC_BASE_EN   BIT(11)

#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST	 0x8ff

/* The LVT entries: the registers at 0x320-0x370 in order, then CMCI (0x2f0). */
enum lapic_lvt {
	LAPIC_LVT_TIMER,
	LAPIC_LVT_THERMAL,
	LAPIC_LVT_PMC,
	LAPIC_LVT_LINT0,
	LAPIC_LVT_LINT1,
	LAPIC_LVT_ERROR,
	LAPIC_LVT_CMCI,
	LAPIC_LVT_COUNT
};

enum lapic_mode { LAPIC_MODE_DISABLED, LAPIC_MODE_XAPIC, LAPIC_MODE_X2APIC };

/* Events for the vCPU that are not vectors in the IRR; read with lapic_take_events(). */
#define LAPIC_EV_NMI  BIT(0)
#define LAPIC_EV_INIT BIT(1)
#define LAPIC_EV_SIPI BIT(2) /* the vector is in lapic.sipi_vector */
#define LAPIC_EV_SMI  BIT(3)
#define LAPIC_EV_ALL  (LAPIC_EV_NMI | LAPIC_EV_INIT | LAPIC_EV_SIPI | LAPIC_EV_SMI)

/* Who an IPI written to the ICR goes to. */
enum lapic_ipi_scope {
	LAPIC_IPI_DEST,	       /* every APIC that msg->dest/logical selects, the sender included */
	LAPIC_IPI_ALL_BUT_SELF /* every APIC except the sender (msg->dest is the broadcast ID) */
};

struct lapic_config {
	u32 id;		/* initial APIC ID; below 0xff (0xff is the broadcast ID) */
	bool bsp;	/* IA32_APIC_BASE.BSP; LINT0 starts as an unmasked ExtINT (virtual wire) */
	bool x2apic;	/* x2APIC mode may be entered (CPUID.1:ECX[21] must say the same) */
	u8 phys_bits;	/* MAXPHYADDR: IA32_APIC_BASE bits from here up are reserved */
	u32 tsc_ratio;	/* TSC cycles per APIC bus clock, 1..LAPIC_TIMER_MAX_RATIO */
	u64 min_period; /* shortest periodic timer period in TSC cycles, 0 = no limit */
	/* Outputs. Any may be NULL. They may call back into this APIC (lapic_accept). */
	void (*ipi)(void *ctx, const struct apic_msg *m, enum lapic_ipi_scope scope);
	void (*eoi)(void *ctx, u8 vector); /* EOI of a level-triggered vector: to the IOAPIC */
	void (*kick)(void *ctx);	   /* something became pending: wake or kick the vCPU */
	void *ctx;
};

struct lapic_stats {
	u64 bad_mmio;	 /* non-architectural MMIO size/offset: read 0, write ignored */
	u64 mmio_off;	 /* MMIO while not in xAPIC mode: read 0, write ignored */
	u64 msr_gp;	 /* x2APIC MSR accesses answered with #GP */
	u64 dropped;	 /* messages refused: APIC disabled or illegal vector */
	u64 timer_fired; /* timer expiries delivered to the IRR */
	u64 bad_ipi;	 /* ICR writes not sent: ExtINT/reserved mode, INIT de-assert */
};

struct lapic {
	struct lapic_config cfg;
	u64 base_msr;
	u8 xapic_id; /* the xAPIC ID register (writable); x2APIC mode uses cfg.id */
	u8 tpr;
	u32 ldr, dfr, svr;
	u32 isr[8], tmr[8], irr[8];
	u32 esr;	 /* what a read returns */
	u32 esr_pending; /* errors since the last ESR write */
	u32 icr_lo, icr_hi;
	u32 lvt[LAPIC_LVT_COUNT];
	bool lint[2];	 /* LINT0/1 pin levels as driven */
	bool extint_msg; /* an ExtINT message (IOAPIC) waits for the PIC's vector */
	u32 events;	 /* LAPIC_EV_* */
	u8 sipi_vector;
	struct lapic_timer timer;
	bool in_error; /* delivering the error LVT: errors then only accumulate */
	struct lapic_stats stats;
};

/* Sets up a powered-on APIC (xAPIC mode at LAPIC_DEFAULT_BASE); false on a bad config. */
bool lapic_init(struct lapic *l, const struct lapic_config *cfg);
/* Power-on reset (init = false) or the INIT signal (init = true: keeps IA32_APIC_BASE and
 * the ID). The hypervisor calls the latter when it performs an INIT on the vCPU. */
void lapic_reset(struct lapic *l, bool init);

/* Time: the guest TSC now. Call before every other call that touches the APIC (accesses are
 * timed at the last update); it delivers a due timer expiry. */
void lapic_update(struct lapic *l, u64 now_tsc);
/* Guest TSC of the next timer interrupt (<= now: due now), UINT64_MAX when none. */
u64 lapic_next_event(const struct lapic *l, u64 now_tsc);

/* The xAPIC page (an mmio_fn); offset is within the 4 KiB window at lapic_base_addr(). */
void lapic_mmio(void *dev, struct mmio_access *a);
/* x2APIC MSRs 0x800-0x8ff; false: the guest gets #GP. */
bool lapic_msr_read(struct lapic *l, u32 msr, u64 *val);
bool lapic_msr_write(struct lapic *l, u32 msr, u64 val);

/* IA32_APIC_BASE; false: #GP (reserved bits, invalid mode transition). */
bool lapic_set_base(struct lapic *l, u64 val);
u64 lapic_get_base(const struct lapic *l);
u64 lapic_base_addr(const struct lapic *l);
enum lapic_mode lapic_mode(const struct lapic *l);

/* IA32_TSC_DEADLINE: reads 0 and ignores writes unless the LVT timer is in deadline mode. */
void lapic_tsc_deadline_write(struct lapic *l, u64 val);
u64 lapic_tsc_deadline_read(const struct lapic *l);

/* CR8 is TPR[7:4]. */
void lapic_cr8_write(struct lapic *l, u64 cr8);
u64 lapic_cr8_read(const struct lapic *l);

/* A message for this APIC (the router has decided it is a destination, lapic_matches()).
 * Fixed/lowest priority set the IRR (and TMR for level); NMI/INIT/SIPI/SMI become events;
 * ExtINT sets lapic_extint_pending(). False when refused (APIC disabled, vector < 16). */
bool lapic_accept(struct lapic *l, const struct apic_msg *m);
/* Whether this APIC is a destination of m (physical, flat or cluster logical, broadcast). */
bool lapic_matches(const struct lapic *l, const struct apic_msg *m);
/* Arbitration priority, for choosing the target of a lowest-priority message. */
u8 lapic_apr(const struct lapic *l);
u8 lapic_ppr(const struct lapic *l);

/* Injection: the highest IRR vector whose class beats the PPR, or -1; then, once the vector
 * is injected, acknowledge moves it from IRR to ISR (false if it was not in the IRR). */
int lapic_pending(const struct lapic *l);
bool lapic_acknowledge(struct lapic *l, u8 vector);

/* The vCPU should take its vector from the PIC (INTA): LINT0 programmed ExtINT and
 * asserted, the APIC globally disabled with LINT0 asserted (INTR passes straight through),
 * or an ExtINT message arrived. Call lapic_extint_acknowledge() after the injection. */
bool lapic_extint_pending(const struct lapic *l);
void lapic_extint_acknowledge(struct lapic *l);

/* Returns the pending LAPIC_EV_* bits among `mask` and clears them. */
u32 lapic_take_events(struct lapic *l, u32 mask);

/* The LINT0/LINT1 pins (wire the PIC's INTR to LINT0); pins other than 0 and 1 ignored. */
void lapic_set_lint(struct lapic *l, unsigned pin, bool level);
struct irq_line lapic_lint_line(struct lapic *l, unsigned pin);
/* A local source (thermal, performance counter, CMCI) signals through its LVT entry. */
void lapic_raise_lvt(struct lapic *l, enum lapic_lvt lvt);

void lapic_save(const struct lapic *l, struct state_writer *w);
/* Refuses state that is malformed or taken with another tsc_ratio or without x2APIC
 * support; the APIC is unchanged then. Callbacks and config stay the loader's own. */
bool lapic_load(struct lapic *l, struct state_reader *r);

/* The APIC as the platform drives it (MMIO window, timer in guest TSC). */
extern const struct device_ops lapic_device;

#endif
