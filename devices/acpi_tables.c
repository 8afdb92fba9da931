/* Builds a VM's ACPI tables: fixed-layout tables from packed structs (ACPI and x86 are both
 * little-endian), and the DSDT's AML from small emitters (names, packages, devices, buffers,
 * resource templates) that insert each PkgLength once its body is known. */
#include "acpi_tables.h"
#include "acpi_dsdt.h"
#include "acpi_pm.h"
#include "../hypervisor/lib.h"

/* ---- table layouts (ACPI 6.0) ---- */

struct sdt_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __packed;
STATIC_ASSERT(sizeof(struct sdt_header) == 36);

struct rsdp {
	char signature[8];
	u8 checksum; /* over the first 20 bytes (the ACPI 1.0 structure) */
	char oem_id[6];
	u8 revision;
	u32 rsdt;
	u32 length;
	u64 xsdt;
	u8 ext_checksum; /* over all 36 bytes */
	u8 reserved[3];
} __packed;
STATIC_ASSERT(sizeof(struct rsdp) == 36);

/* Generic Address Structure. */
struct gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size; /* 0 undefined (legacy), 1 byte, 2 word, 3 dword, 4 qword */
	u64 address;
} __packed;
STATIC_ASSERT(sizeof(struct gas) == 12);

struct fadt {
	struct sdt_header h;
	u32 firmware_ctrl;
	u32 dsdt;
	u8 reserved0;
	u8 pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	u32 pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	u8 gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct gas sleep_control_reg, sleep_status_reg;
	char hypervisor_vendor[8];
} __packed;
STATIC_ASSERT(sizeof(struct fadt) == 276);

struct facs {
	char signature[4];
	u32 length;
	u32 hardware_signature;
	u32 waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_waking_vector;
	u8 version;
	u8 reserved[3];
	u32 ospm_flags;
	u8 reserved2[24];
} __packed;
STATIC_ASSERT(sizeof(struct facs) == 64);

struct madt {
	struct sdt_header h;
	u32 lapic_addr;
	u32 flags;
} __packed;

struct madt_lapic {
	u8 type, length, uid, apic_id;
	u32 flags;
} __packed;

struct madt_ioapic {
	u8 type, length, id, reserved;
	u32 addr;
	u32 gsi_base;
} __packed;

struct madt_iso {
	u8 type, length, bus, source;
	u32 gsi;
	u16 flags;
} __packed;

struct madt_lapic_nmi {
	u8 type, length, uid;
	u16 flags;
	u8 lint;
} __packed;
STATIC_ASSERT(sizeof(struct madt) == 44 && sizeof(struct madt_lapic) == 8 &&
	      sizeof(struct madt_ioapic) == 12 && sizeof(struct madt_iso) == 10 &&
	      sizeof(struct madt_lapic_nmi) == 6);

#define GAS_SYSTEM_IO 1

/* FADT flags. */
#define FADT_WBINVD	   BIT(0)
#define FADT_PROC_C1	   BIT(2)
#define FADT_SLP_BUTTON	   BIT(5)
#define FADT_FIX_RTC	   BIT(6)
#define FADT_TMR_VAL_EXT   BIT(8)
#define FADT_RESET_REG_SUP BIT(10)

/* IA-PC boot architecture flags. */
#define BOOT_LEGACY_DEVICES  BIT(0)
#define BOOT_8042	     BIT(1)
#define BOOT_VGA_NOT_PRESENT BIT(2)
#define BOOT_NO_CMOS_RTC     BIT(5)

#define MADT_PCAT_COMPAT 1
#define MADT_TYPE_LAPIC	 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_ISO	 2
#define MADT_TYPE_NMI	 4
#define MADT_ENABLED	 1
/* MPS INTI flags: polarity in bits 1:0, trigger mode in bits 3:2. */
#define INTI_HIGH  0x1
#define INTI_EDGE  (0x1 << 2)
#define INTI_LEVEL (0x3 << 2)

#define CREATOR_ID  "KEEL"
#define CREATOR_REV 1
#define OEM_REV	    1

/* Revisions: FADT 6.0 layout, MADT of ACPI 6.0, DSDT 2 (64-bit AML integers). */
#define FADT_REVISION 6
#define FADT_MINOR    0
#define MADT_REVISION 4
#define DSDT_REVISION 2
#define FACS_VERSION  2

/* ---- fixed tables ---- */

struct ids {
	char oem_id[6];
	char oem_table_id[8];
};

static void pad_copy(char *dst, const char *src, size_t n)
{
	size_t len = strnlen(src, n);
	memcpy(dst, src, len);
	memset(dst + len, ' ', n - len);
}

static u8 checksum(const void *p, size_t n)
{
	const u8 *b = p;
	u8 sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (u8)(sum + b[i]);
	return (u8)-sum;
}

static void sdt_header(struct sdt_header *h, const char sig[4], size_t len, u8 rev,
		       const struct ids *ids)
{
	memcpy(h->signature, sig, 4);
	h->length = (u32)len;
	h->revision = rev;
	h->checksum = 0;
	memcpy(h->oem_id, ids->oem_id, 6);
	memcpy(h->oem_table_id, ids->oem_table_id, 8);
	h->oem_revision = OEM_REV;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = CREATOR_REV;
}

/* The checksum byte makes the whole table sum to 0. */
static void sdt_seal(u8 *table)
{
	struct sdt_header h;
	memcpy(&h, table, sizeof(h));
	table[9] = 0;
	table[9] = checksum(table, h.length);
}

static struct gas io_gas(u16 port, unsigned bytes, u8 access)
{
	return (struct gas){GAS_SYSTEM_IO, (u8)(bytes * 8), 0, access, port};
}

/* Choices for a serial-only VM, in the order of the fields:
 * - no SMI_CMD: there is no SMM firmware, the platform is in ACPI mode from power-on
 *   (SCI_EN reads 1) and ACPICA takes SMI_CMD = 0 to mean exactly that;
 * - PM1a event/control and a 32-bit PM timer (TMR_VAL_EXT) at the acpi_pm block; no PM1b,
 *   PM2 or GPE blocks;
 * - C2/C3 latencies above 100/1000 us: not supported, idle is HLT (C1);
 * - boot flags: legacy devices yes (COM1 is an ISA device), 8042 no (nothing answers at
 *   0x60/0x64), VGA not present, CMOS RTC as configured; century register not described;
 * - fixed power button (PWR_BUTTON clear: the host can press it), no sleep button, RTC wake
 *   not in fixed registers (FIX_RTC);
 * - RESET_REG: byte at I/O 0xcf9, value 6 (hard reset), with RESET_REG_SUP;
 * - FACS through FIRMWARE_CTRL only (below 4 GiB, X_FIRMWARE_CTRL must then be 0), the DSDT
 *   through both DSDT and X_DSDT (the same address). */
static void build_fadt(u8 *dst, const struct acpi_config *cfg, u64 gpa,
		       const struct acpi_blob_info *info, const struct ids *ids)
{
	struct fadt f;
	memset(&f, 0, sizeof(f));
	sdt_header(&f.h, "FACP", sizeof(f), FADT_REVISION, ids);
	f.firmware_ctrl = (u32)(gpa + info->facs_offset);
	f.dsdt = (u32)(gpa + info->dsdt_offset);
	f.pm_profile = 0; /* unspecified */
	f.sci_int = cfg->sci_irq;
	f.pm1a_evt_blk = cfg->pm_io_base + ACPI_PM1_EVT_OFF;
	f.pm1a_cnt_blk = cfg->pm_io_base + ACPI_PM1_CNT_OFF;
	f.pm_tmr_blk = cfg->pm_io_base + ACPI_PM_TMR_OFF;
	f.pm1_evt_len = ACPI_PM1_EVT_LEN;
	f.pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f.pm_tmr_len = ACPI_PM_TMR_LEN;
	f.p_lvl2_lat = 0x0fff;
	f.p_lvl3_lat = 0x0fff;
	f.iapc_boot_arch = (u16)(BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT |
				 (cfg->cmos_rtc ? 0 : BOOT_NO_CMOS_RTC));
	f.flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_TMR_VAL_EXT |
		  FADT_RESET_REG_SUP;
	f.reset_reg = io_gas(ACPI_RESET_PORT, 1, 1);
	f.reset_value = ACPI_RESET_VALUE;
	f.minor_version = FADT_MINOR;
	f.x_dsdt = gpa + info->dsdt_offset;
	/* access size 0: registers are accessed at their natural width (ACPICA's reading) */
	f.x_pm1a_evt_blk = io_gas(cfg->pm_io_base + ACPI_PM1_EVT_OFF, ACPI_PM1_EVT_LEN, 0);
	f.x_pm1a_cnt_blk = io_gas(cfg->pm_io_base + ACPI_PM1_CNT_OFF, ACPI_PM1_CNT_LEN, 0);
	f.x_pm_tmr_blk = io_gas(cfg->pm_io_base + ACPI_PM_TMR_OFF, ACPI_PM_TMR_LEN, 0);
	memcpy(f.hypervisor_vendor, "KeelKeel", 8);
	memcpy(dst, &f, sizeof(f));
	sdt_seal(dst);
}

static void build_facs(u8 *dst)
{
	struct facs f;
	memset(&f, 0, sizeof(f));
	memcpy(f.signature, "FACS", 4);
	f.length = sizeof(f);
	f.version = FACS_VERSION;
	memcpy(dst, &f, sizeof(f));
}

static size_t madt_size(unsigned ncpus)
{
	return sizeof(struct madt) + ncpus * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic) + 2 * sizeof(struct madt_iso) +
	       sizeof(struct madt_lapic_nmi);
}

static void build_madt(u8 *dst, const struct acpi_config *cfg, const struct ids *ids)
{
	size_t len = madt_size(cfg->ncpus), off = sizeof(struct madt);
	struct madt m;
	memset(&m, 0, sizeof(m));
	sdt_header(&m.h, "APIC", len, MADT_REVISION, ids);
	m.lapic_addr = ACPI_LAPIC_ADDR;
	m.flags = MADT_PCAT_COMPAT; /* the 8259s exist and are masked by the OS */
	memcpy(dst, &m, sizeof(m));

	for (unsigned i = 0; i < cfg->ncpus; i++) {
		struct madt_lapic l = {MADT_TYPE_LAPIC, sizeof(l), (u8)i, (u8)i, MADT_ENABLED};
		memcpy(dst + off, &l, sizeof(l));
		off += sizeof(l);
	}
	struct madt_ioapic io = {MADT_TYPE_IOAPIC, sizeof(io), cfg->ioapic_id, 0,
				 cfg->ioapic_addr, 0};
	memcpy(dst + off, &io, sizeof(io));
	off += sizeof(io);
	/* The PIT's IRQ 0 is on IOAPIC pin 2 (pin 0 takes the 8259's ExtINT), edge high; the
	 * SCI is level, active high (a virtual wire has no inverter). */
	struct madt_iso iso[2] = {
	    {MADT_TYPE_ISO, sizeof(struct madt_iso), 0, 0, 2, INTI_EDGE | INTI_HIGH},
	    {MADT_TYPE_ISO, sizeof(struct madt_iso), 0, cfg->sci_irq, cfg->sci_irq,
	     INTI_LEVEL | INTI_HIGH},
	};
	memcpy(dst + off, iso, sizeof(iso));
	off += sizeof(iso);
	/* NMI on every processor's LINT1 (UID 0xff: all), edge high as the 8259-era wiring. */
	struct madt_lapic_nmi nmi = {MADT_TYPE_NMI, sizeof(nmi), 0xff, INTI_EDGE | INTI_HIGH, 1};
	memcpy(dst + off, &nmi, sizeof(nmi));
	sdt_seal(dst);
}

static void build_xsdt(u8 *dst, u64 gpa, const struct acpi_blob_info *info, const struct ids *ids)
{
	struct sdt_header h;
	u64 entries[2] = {gpa + info->fadt_offset, gpa + info->madt_offset};
	sdt_header(&h, "XSDT", sizeof(h) + sizeof(entries), 1, ids);
	memcpy(dst, &h, sizeof(h));
	memcpy(dst + sizeof(h), entries, sizeof(entries));
	sdt_seal(dst);
}

static void build_rsdt(u8 *dst, u64 gpa, const struct acpi_blob_info *info, const struct ids *ids)
{
	struct sdt_header h;
	u32 entries[2] = {(u32)(gpa + info->fadt_offset), (u32)(gpa + info->madt_offset)};
	sdt_header(&h, "RSDT", sizeof(h) + sizeof(entries), 1, ids);
	memcpy(dst, &h, sizeof(h));
	memcpy(dst + sizeof(h), entries, sizeof(entries));
	sdt_seal(dst);
}

static void build_rsdp(u8 *dst, u64 gpa, const struct acpi_blob_info *info, const struct ids *ids)
{
	struct rsdp r;
	memset(&r, 0, sizeof(r));
	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, ids->oem_id, 6);
	r.revision = 2; /* ACPI 2.0+: XSDT, length, extended checksum */
	r.rsdt = (u32)(gpa + info->rsdt_offset);
	r.length = sizeof(r);
	r.xsdt = gpa + info->xsdt_offset;
	r.checksum = checksum(&r, 20);
	r.ext_checksum = checksum(&r, sizeof(r));
	memcpy(dst, &r, sizeof(r));
}

/* ---- configuration and layout ---- */

void acpi_config_default(struct acpi_config *cfg, unsigned ncpus)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = ncpus;
	cfg->ioapic_id = 0;
	cfg->ioapic_addr = ACPI_IOAPIC_ADDR;
	cfg->pm_io_base = ACPI_PM_IO_BASE;
	cfg->sci_irq = 9;
	cfg->pci_mmio_base = ACPI_PCI_MMIO_BASE;
	cfg->pci_mmio_size = ACPI_PCI_MMIO_SIZE;
	cfg->com1 = true;
	cfg->cmos_rtc = true;
}

static bool overlaps(u64 base, u64 size, u64 b2, u64 size2)
{
	return base < b2 + size2 && b2 < base + size;
}

static bool id_ok(const char *s, size_t max)
{
	if (!s)
		return true;
	size_t n = strnlen(s, max + 1);
	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static const char *check_config(const struct acpi_config *cfg)
{
	if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS)
		return "ncpus: 1 to 255";
	if (cfg->ioapic_addr & 0xfff)
		return "ioapic_addr: not page aligned";
	if (overlaps(cfg->ioapic_addr, 0x1000, ACPI_LAPIC_ADDR, 0x1000))
		return "ioapic_addr: on the local APIC";
	if (cfg->pm_io_base == 0 || (cfg->pm_io_base & 3) ||
	    (u32)cfg->pm_io_base + ACPI_PM_IO_LEN > 0x10000)
		return "pm_io_base: not a 4-aligned block of 12 ports";
	if (overlaps(cfg->pm_io_base, ACPI_PM_IO_LEN, 0xcf8, 8))
		return "pm_io_base: on the PCI configuration ports";
	if (cfg->sci_irq == 0 || cfg->sci_irq == 2 || cfg->sci_irq > 15)
		return "sci_irq: an ISA IRQ other than 0 and 2";
	if (cfg->com1 && cfg->sci_irq == 4)
		return "sci_irq: IRQ 4 is COM1's";
	u64 mmio_end = (u64)cfg->pci_mmio_base + cfg->pci_mmio_size;
	if (cfg->pci_mmio_size == 0 || mmio_end > 0x100000000ULL)
		return "pci_mmio: empty or past 4 GiB";
	if (overlaps(cfg->pci_mmio_base, cfg->pci_mmio_size, cfg->ioapic_addr, 0x1000) ||
	    overlaps(cfg->pci_mmio_base, cfg->pci_mmio_size, ACPI_LAPIC_ADDR, 0x1000))
		return "pci_mmio: covers an APIC";
	bool prt = cfg->pci_intx_gsi[0] != 0;
	for (unsigned i = 0; i < 4; i++) {
		u8 g = cfg->pci_intx_gsi[i];
		if (prt ? (g < 16 || g >= ACPI_IOAPIC_PINS) : g != 0)
			return "pci_intx_gsi: four GSIs 16-23, or none";
	}
	if (!id_ok(cfg->oem_id, 6))
		return "oem_id: up to 6 printable characters";
	if (!id_ok(cfg->oem_table_id, 8))
		return "oem_table_id: up to 8 printable characters";
	return NULL;
}

/* Places n bytes at the next offset whose guest-physical address is aligned to align. */
static size_t place(size_t *off, u64 gpa, size_t n, size_t align)
{
	size_t at = (size_t)(ALIGN_UP(gpa + *off, align) - gpa);
	*off = at + n;
	return at;
}

enum acpi_build_result acpi_tables_build(const struct acpi_config *cfg, u64 gpa, void *buf,
					 size_t size, struct acpi_blob_info *info)
{
	u8 *out = buf;
	memset(info, 0, sizeof(*info));
	info->error = check_config(cfg);
	if (info->error)
		return ACPI_BUILD_BAD_CONFIG;
	if (gpa >= 0x100000000ULL) {
		info->error = "the tables must lie below 4 GiB";
		return ACPI_BUILD_BAD_ADDRESS;
	}
	if (gpa & 15) {
		info->error = "the RSDP must be 16-byte aligned";
		return ACPI_BUILD_BAD_ADDRESS;
	}

	struct ids ids;
	pad_copy(ids.oem_id, cfg->oem_id ? cfg->oem_id : ACPI_OEM_ID, 6);
	pad_copy(ids.oem_table_id, cfg->oem_table_id ? cfg->oem_table_id : ACPI_OEM_TABLE_ID, 8);

	/* The RSDP first (where a scan finds it), the FACS 64-byte aligned as required, then
	 * the fixed-size tables and the DSDT last, since only its size depends on the AML. */
	size_t off = 0;
	info->rsdp_offset = place(&off, gpa, sizeof(struct rsdp), 16);
	info->facs_offset = place(&off, gpa, sizeof(struct facs), 64);
	info->fadt_offset = place(&off, gpa, sizeof(struct fadt), 16);
	info->xsdt_offset = place(&off, gpa, sizeof(struct sdt_header) + 2 * 8, 16);
	info->rsdt_offset = place(&off, gpa, sizeof(struct sdt_header) + 2 * 4, 16);
	info->madt_offset = place(&off, gpa, madt_size(cfg->ncpus), 16);
	info->dsdt_offset = place(&off, gpa, sizeof(struct sdt_header), 16);

	struct aml a = {0};
	if (size > off) {
		a.buf = out + off;
		a.cap = size - off;
	}
	bool broken = false;
	acpi_dsdt_body(&a, cfg, &broken);
	info->size = off + a.len;
	if (broken) {
		info->error = "a resource template outgrew its buffer";
		return ACPI_BUILD_BAD_CONFIG;
	}
	if (info->size > 0x100000000ULL || gpa > 0x100000000ULL - info->size) {
		info->error = "the tables must lie below 4 GiB";
		return ACPI_BUILD_BAD_ADDRESS;
	}
	if (a.overflow || info->size > size) {
		info->error = "buffer too small";
		return ACPI_BUILD_NO_SPACE;
	}

	/* Padding between tables reads as zeros. */
	memset(out, 0, info->dsdt_offset);
	struct sdt_header dsdt;
	sdt_header(&dsdt, "DSDT", info->size - info->dsdt_offset, DSDT_REVISION, &ids);
	memcpy(out + info->dsdt_offset, &dsdt, sizeof(dsdt));
	sdt_seal(out + info->dsdt_offset);
	build_madt(out + info->madt_offset, cfg, &ids);
	build_rsdt(out + info->rsdt_offset, gpa, info, &ids);
	build_xsdt(out + info->xsdt_offset, gpa, info, &ids);
	build_fadt(out + info->fadt_offset, cfg, gpa, info, &ids);
	build_facs(out + info->facs_offset);
	build_rsdp(out + info->rsdp_offset, gpa, info, &ids);
	return ACPI_BUILD_OK;
}
