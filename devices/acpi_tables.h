/* The ACPI tables a VM boots with: RSDP, XSDT and RSDT, FADT, FACS, MADT and a DSDT in AML,
 * built as one blob for a fixed guest-physical address. What the tables describe (the PM
 * ports, S5's sleep type, the reset register) is what devices/acpi_pm.c implements.
 *
 * Where the blob goes: guest ROM in the BIOS area [0xe0000, 0x100000), reserved in the e820.
 * The RSDP leads the blob, 16-byte aligned, so Linux finds it by scanning 0xe0000-0xfffff;
 * its address (gpa + info.rsdp_offset) can also be handed over as boot_params.acpi_rsdp_addr.
 * ACPI_TABLES_GPA is the suggested place: the E segment, leaving the F segment (where the
 * SMBIOS and MP-table anchors must be) free. */
#ifndef KEEL_ACPI_TABLES_H
#define KEEL_ACPI_TABLES_H

#include "../hypervisor/types.h"

#define ACPI_TABLES_GPA	   0xe0000
#define ACPI_TABLES_MAX	   0x10000 /* up to 0xf0000 */
#define ACPI_MAX_CPUS	   255	   /* xAPIC IDs 0..254 (0xff is the broadcast ID) */
#define ACPI_LAPIC_ADDR	   0xfee00000u
#define ACPI_IOAPIC_ADDR   0xfec00000u
#define ACPI_IOAPIC_PINS   24
#define ACPI_OEM_ID	   "KEEL  "
#define ACPI_OEM_TABLE_ID  "KEELVM  "
#define ACPI_PCI_MMIO_BASE 0xc0000000u /* default 32-bit PCI window: up to the IOAPIC */
#define ACPI_PCI_MMIO_SIZE (ACPI_IOAPIC_ADDR - ACPI_PCI_MMIO_BASE)

struct acpi_config {
	unsigned ncpus; /* 1..ACPI_MAX_CPUS; APIC IDs and processor UIDs 0..n-1 */
	u8 ioapic_id;
	u32 ioapic_addr;   /* its 4 KiB page; GSI base 0 */
	u16 pm_io_base;	   /* the acpi_pm block, ACPI_PM_IO_LEN ports, 4-aligned */
	u8 sci_irq;	   /* ISA IRQ of the SCI = its GSI (level, active high); not 0 or 2 */
	u32 pci_mmio_base; /* the host bridge's 32-bit memory window */
	u32 pci_mmio_size;
	/* GSIs of PCI INTA..INTD for slot 0 (slot s, pin p uses [(s + p) % 4]); all 0: no _PRT,
	 * and Linux falls back to each function's Interrupt Line register. */
	u8 pci_intx_gsi[4];
	bool com1;		  /* describe the 16550 at 0x3f8, IRQ 4 (PNP0501) */
	bool cmos_rtc;		  /* false sets the FADT's "CMOS RTC not present" boot flag */
	u16 pvpanic_port;	  /* describe a pvpanic device (QEMU0001) at this port; 0: none */
	const char *oem_id;	  /* up to 6 characters, space-padded; NULL: ACPI_OEM_ID */
	const char *oem_table_id; /* up to 8; NULL: ACPI_OEM_TABLE_ID */
};

enum acpi_build_result {
	ACPI_BUILD_OK,
	ACPI_BUILD_BAD_CONFIG,	/* info.error says which field */
	ACPI_BUILD_BAD_ADDRESS, /* gpa not 16-byte aligned, or the blob would cross 4 GiB */
	ACPI_BUILD_NO_SPACE,	/* info.size is what the tables need */
};

/* Offsets are from the start of the blob. */
struct acpi_blob_info {
	size_t size;
	size_t rsdp_offset, xsdt_offset, rsdt_offset, fadt_offset, facs_offset, madt_offset,
	    dsdt_offset;
	const char *error; /* why the build failed, for the log */
};

/* Fills cfg with a one-IOAPIC PC: IOAPIC 0 at ACPI_IOAPIC_ADDR, PM block at ACPI_PM_IO_BASE,
 * SCI on IRQ 9, the default PCI window, COM1 and a CMOS RTC described, no _PRT. */
void acpi_config_default(struct acpi_config *cfg, unsigned ncpus);

/* Builds the tables into buf[0..size) for placement at guest-physical gpa. On failure the
 * buffer's contents are unspecified (never written past size). */
enum acpi_build_result acpi_tables_build(const struct acpi_config *cfg, u64 gpa, void *buf,
					 size_t size, struct acpi_blob_info *info);

#endif
