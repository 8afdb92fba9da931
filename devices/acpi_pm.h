/* ACPI fixed-hardware power management of one VM: the PM1a event and control blocks, the PM
 * timer, the reset control register at 0xcf9 and the SCI line. The port layout defined here is
 * what devices/acpi_tables.c advertises in the FADT. */
#ifndef KEEL_ACPI_PM_H
#define KEEL_ACPI_PM_H

#include "io_bus.h"
#include "irq.h"
#include "state.h"
#include "device.h"

/* Layout of the PM block at the configured base (ICH-like): registered as one io_bus range of
 * ACPI_PM_IO_LEN ports. Offsets 6-7 are a hole that reads 0. */
#define ACPI_PM1_EVT_OFF 0 /* PM1a_STS (16 bits), PM1a_EN (16 bits) */
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_OFF 4 /* PM1a_CNT (16 bits) */
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_OFF	 8 /* PM_TMR (32 bits, read-only) */
#define ACPI_PM_TMR_LEN	 4
#define ACPI_PM_IO_LEN	 12
#define ACPI_PM_IO_BASE	 0x600 /* the usual choice (QEMU's ICH9 uses it too) */

/* Reset control register (PIIX/ICH "RST_CNT"); 0xcf9 sits inside the PCI configuration
 * mechanism's 0xcf8-0xcff, where only byte accesses to 0xcf9 reach it. */
#define ACPI_RESET_PORT	 0xcf9
#define ACPI_RESET_VALUE 0x06 /* SYS_RST | RST_CPU: hard reset, as the FADT's RESET_VALUE */

/* SLP_TYP values, shared with the DSDT's \_S5 package. Only S5 exists. */
#define ACPI_SLP_TYP_S5 5

#define ACPI_PM_TIMER_HZ 3579545 /* the PM timer's fixed rate */

/* PM1 status / enable bits (the same positions in both registers). */
#define ACPI_PM1_TMR	BIT(0)
#define ACPI_PM1_BM	BIT(4) /* status only */
#define ACPI_PM1_GBL	BIT(5)
#define ACPI_PM1_PWRBTN BIT(8)
#define ACPI_PM1_SLPBTN BIT(9)
#define ACPI_PM1_RTC	BIT(10)
#define ACPI_PM1_WAK	BIT(15) /* status only */

/* PM1 control bits. */
#define ACPI_PM1_SCI_EN	       BIT(0)
#define ACPI_PM1_BM_RLD	       BIT(1)
#define ACPI_PM1_GBL_RLS       BIT(2)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP       (7u << ACPI_PM1_SLP_TYP_SHIFT)
#define ACPI_PM1_SLP_EN	       BIT(13)

/* What the model needs from the hypervisor. now_ns is the VM's clock: monotonic nanoseconds
 * (for example the guest TSC scaled by its frequency); the PM timer is derived from it.
 * poweroff and reset must stop the vCPU that made the access from running on (the guest
 * spins after requesting S5 and expects never to return). */
struct acpi_pm_ops {
	u64 (*now_ns)(void *ctx);
	void (*poweroff)(void *ctx);
	void (*reset)(void *ctx);
	void *ctx;
};

struct acpi_pm {
	u16 base;	    /* first port of the PM block */
	u16 sts, en, cnt;   /* PM1a_STS, PM1a_EN, PM1a_CNT (sticky bits only) */
	u8 rcr;		    /* reset control register: SYS_RST and FULL_RST as last written */
	u64 tmr_offset;	    /* PM timer = ticks(now_ns) + tmr_offset (64 bits, shown as 32) */
	u64 tmr_seen;	    /* timer value when TMR_STS was last brought up to date */
	bool sci;	    /* current level of the SCI output */
	u64 sleeps_refused; /* SLP_EN writes with a type other than S5 */
	struct irq_line sci_line;
	struct acpi_pm_ops ops;
};

/* Starts in ACPI mode (SCI_EN set), timer at 0, nothing pending, SCI low. */
void acpi_pm_init(struct acpi_pm *pm, u16 base, const struct acpi_pm_ops *ops,
		  const struct irq_line *sci);
/* The PM block: register at [base, base + ACPI_PM_IO_LEN). */
void acpi_pm_access(void *dev, struct io_access *a);
/* The reset control register: register at ACPI_RESET_PORT, length 1 (or have the PCI host
 * model forward byte accesses to 0xcf9 here once it owns 0xcf8-0xcff). */
void acpi_pm_reset_access(void *dev, struct io_access *a);

/* A press of the fixed-hardware power button: the guest's ACPI driver sees PWRBTN_STS and
 * shuts down cleanly (the polite way for the host to ask a VM to power off). */
void acpi_pm_power_button(struct acpi_pm *pm);
/* Brings TMR_STS up to date with the clock (accesses do it too); call it when
 * acpi_pm_next_event_ns() said so. */
void acpi_pm_poll(struct acpi_pm *pm);
/* Nanoseconds from now until the timer's bit 31 next changes while TMR_EN is set, i.e. when
 * acpi_pm_poll() would raise the SCI; ~0 when no timer interrupt is enabled. */
u64 acpi_pm_next_event_ns(struct acpi_pm *pm);
/* The 32-bit PM timer value now. */
u32 acpi_pm_timer(struct acpi_pm *pm);

/* The timer is saved as its value and continues from it on load, against the loading side's
 * clock. */
void acpi_pm_save(struct acpi_pm *pm, struct state_writer *w);
bool acpi_pm_load(struct acpi_pm *pm, struct state_reader *r);

/* The PM1a blocks and timer as the platform drives them; acpi_reset_device is the
 * 0xcf9 register on the same model (its state is saved with the PM device). */
extern const struct device_ops acpi_pm_device;
extern const struct device_ops acpi_reset_device;

#endif
