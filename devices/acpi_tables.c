/* Builds a VM's ACPI tables: fixed-layout tables from packed structs (ACPI and x86 are both
 * little-endian), and the DSDT's AML from small emitters (names, packages, devices, buffers,
 * resource templates) that insert each PkgLength once its body is known. */
#include "acpi_tables.h"
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

/* ---- AML emitters ---- */

#define AML_ZERO       0x00
#define AML_ONE	       0x01
#define AML_NAME       0x08
#define AML_BYTE       0x0a
#define AML_WORD       0x0b
#define AML_DWORD      0x0c
#define AML_STRING     0x0d
#define AML_QWORD      0x0e
#define AML_SCOPE      0x10
#define AML_BUFFER     0x11
#define AML_PACKAGE    0x12
#define AML_EXT	       0x5b
#define AML_EXT_DEVICE 0x82
#define AML_ROOT       '\\'

/* Emits into buf[0..cap); past cap it only counts, so len is always the size the AML needs. */
struct aml {
	u8 *buf;
	size_t cap, len;
	bool overflow;
};

static void aml_byte(struct aml *a, u8 b)
{
	if (!a->overflow && a->len < a->cap)
		a->buf[a->len] = b;
	else
		a->overflow = true;
	a->len++;
}

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	const u8 *b = p;
	for (size_t i = 0; i < n; i++)
		aml_byte(a, b[i]);
}

/* A PkgLength counts itself: 1 byte up to 63, then 1-3 more bytes of 8 bits each after the
 * lead byte's low nibble (its bits 7:6 say how many). */
unsigned acpi_aml_pkglen(u8 out[4], size_t body)
{
	unsigned n;
	if (body + 1 < 0x40)
		n = 1;
	else if (body + 2 < 0x1000)
		n = 2;
	else if (body + 3 < 0x100000)
		n = 3;
	else if (body + 4 < 0x10000000)
		n = 4;
	else
		return 0;
	size_t total = body + n;
	if (n == 1) {
		out[0] = (u8)total;
		return 1;
	}
	out[0] = (u8)(((n - 1) << 6) | (total & 0xf));
	for (unsigned i = 1; i < n; i++)
		out[i] = (u8)(total >> (4 + 8 * (i - 1)));
	return n;
}

/* Where a PkgLength-prefixed body starts (the PkgLength goes right there). */
static size_t aml_open(struct aml *a)
{
	return a->len;
}

/* Inserts the PkgLength in front of everything emitted since start. (The DSDT stays far
 * below AML's 256 MiB limit: the blob is at most 4 GiB and in practice a few KiB.) */
static void aml_close(struct aml *a, size_t start)
{
	u8 len[4];
	size_t body = a->len - start;
	unsigned n = acpi_aml_pkglen(len, body);
	if (!a->overflow && n && a->len + n <= a->cap) {
		memmove(a->buf + start + n, a->buf + start, body);
		memcpy(a->buf + start, len, n);
	} else {
		a->overflow = true;
	}
	a->len += n ? n : 4;
}

/* A name: an optional root prefix and one 4-character segment ("\\_SB_", "PCI0"). */
static void aml_name_string(struct aml *a, const char *name)
{
	if (*name == AML_ROOT)
		aml_byte(a, (u8)*name++);
	aml_bytes(a, name, 4);
}

static void aml_integer(struct aml *a, u64 v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE);
		aml_byte(a, (u8)v);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD);
		aml_bytes(a, &(u16){(u16)v}, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD);
		aml_bytes(a, &(u32){(u32)v}, 4);
	} else {
		aml_byte(a, AML_QWORD);
		aml_bytes(a, &v, 8);
	}
}

static void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING);
	aml_bytes(a, s, strlen(s) + 1);
}

/* EisaId: the three letters in 5 bits each (A = 1) as a big-endian 16-bit value, then the
 * four hex digits as two bytes in reading order. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

u32 acpi_eisa_id(const char *id)
{
	if (strnlen(id, 8) != 7)
		return 0;
	u32 letters = 0, digits = 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		letters = letters << 5 | (u32)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);
		if (d < 0)
			return 0;
		digits = digits << 4 | (u32)d;
	}
	return (letters >> 8) | (letters & 0xff) << 8 | (digits >> 8) << 16 | (digits & 0xff) << 24;
}

static void aml_eisa_id(struct aml *a, const char *id)
{
	u32 v = acpi_eisa_id(id);
	aml_byte(a, AML_DWORD);
	aml_bytes(a, &v, 4);
}

/* Name(seg, ...): the value follows. */
static void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME);
	aml_name_string(a, name);
}

/* Scope(name) { ... } and Device(name) { ... }: close with aml_close(). */
static size_t aml_scope(struct aml *a, const char *name)
{
	aml_byte(a, AML_SCOPE);
	size_t start = aml_open(a);
	aml_name_string(a, name);
	return start;
}

static size_t aml_device(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_EXT_DEVICE);
	size_t start = aml_open(a);
	aml_name_string(a, name);
	return start;
}

/* Package(n) { ... }: n elements follow; close with aml_close(). */
static size_t aml_package(struct aml *a, u8 n)
{
	aml_byte(a, AML_PACKAGE);
	size_t start = aml_open(a);
	aml_byte(a, n);
	return start;
}

static void aml_buffer(struct aml *a, const u8 *bytes, size_t n)
{
	aml_byte(a, AML_BUFFER);
	size_t start = aml_open(a);
	aml_integer(a, n);
	aml_bytes(a, bytes, n);
	aml_close(a, start);
}

/* ---- resource templates (the bytes of a _CRS buffer) ---- */

#define RES_MAX 128

struct res {
	u8 b[RES_MAX];
	size_t n;
	bool overflow;
};

static void res_put(struct res *r, const void *p, size_t n)
{
	if (n > RES_MAX - r->n) {
		r->overflow = true;
		return;
	}
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

#define RES_WORD_ADDRESS  0x88
#define RES_DWORD_ADDRESS 0x87
#define RES_IO		  0x47 /* small item 8, 7 bytes */
#define RES_IRQ_NOFLAGS	  0x22 /* small item 4, 2 bytes */
#define RES_END		  0x79 /* small item 15, 1 byte */
#define RES_TYPE_MEMORY	  0
#define RES_TYPE_IO	  1
#define RES_TYPE_BUS	  2
/* General flags of a bridge window: produced (bit 0 clear), positive decode, min and max
 * fixed. */
#define RES_WINDOW    0x0c
#define RES_IO_ENTIRE 0x03 /* _RNG: ISA and non-ISA ranges */
#define RES_MEM_RW    0x01 /* _RW, non-cacheable */

static void res_word_window(struct res *r, u8 type, u8 type_flags, u16 min, u16 max)
{
	u8 d[16] = {RES_WORD_ADDRESS, 13, 0, type, RES_WINDOW, type_flags};
	u16 len = (u16)(max - min + 1);
	memcpy(d + 8, &min, 2);
	memcpy(d + 10, &max, 2);
	memcpy(d + 14, &len, 2);
	res_put(r, d, sizeof(d));
}

static void res_dword_memory(struct res *r, u32 min, u32 max)
{
	u8 d[26] = {RES_DWORD_ADDRESS, 23, 0, RES_TYPE_MEMORY, RES_WINDOW, RES_MEM_RW};
	u32 len = max - min + 1;
	memcpy(d + 10, &min, 4);
	memcpy(d + 14, &max, 4);
	memcpy(d + 22, &len, 4);
	res_put(r, d, sizeof(d));
}

/* IO(Decode16, port, port, 1, len): a fixed range of ports. */
static void res_io(struct res *r, u16 port, u8 len)
{
	u8 d[8] = {RES_IO, 1, (u8)port, (u8)(port >> 8), (u8)port, (u8)(port >> 8), 1, len};
	res_put(r, d, sizeof(d));
}

static void res_irq(struct res *r, unsigned irq)
{
	u16 mask = (u16)(1u << irq);
	u8 d[3] = {RES_IRQ_NOFLAGS, (u8)mask, (u8)(mask >> 8)};
	res_put(r, d, sizeof(d));
}

/* Name(_CRS, ResourceTemplate() { ... }) with the end tag (checksum 0: "treat as valid"). */
static void aml_crs(struct aml *a, struct res *r, bool *broken)
{
	static const u8 end[2] = {RES_END, 0};
	res_put(r, end, sizeof(end));
	if (r->overflow)
		*broken = true;
	aml_name(a, "_CRS");
	aml_buffer(a, r->b, r->n);
}

/* ---- the DSDT ---- */

static void dsdt_pci0(struct aml *a, const struct acpi_config *cfg, bool *broken)
{
	size_t dev = aml_device(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisa_id(a, "PNP0A03");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);

	struct res r = {0};
	res_word_window(&r, RES_TYPE_BUS, 0, 0x00, 0xff);
	res_io(&r, 0xcf8, 8); /* the configuration mechanism's own ports */
	res_word_window(&r, RES_TYPE_IO, RES_IO_ENTIRE, 0x0000, 0x0cf7);
	res_word_window(&r, RES_TYPE_IO, RES_IO_ENTIRE, 0x0d00, 0xffff);
	res_dword_memory(&r, cfg->pci_mmio_base, cfg->pci_mmio_base + cfg->pci_mmio_size - 1);
	aml_crs(a, &r, broken);

	/* _PRT: Package { Address (slot << 16 | 0xffff: any function), Pin, Source (0: the
	 * next field is a GSI), GSI }, the usual (slot + pin) % 4 swizzle. */
	if (cfg->pci_intx_gsi[0]) {
		aml_name(a, "_PRT");
		size_t prt = aml_package(a, 32 * 4);
		for (unsigned slot = 0; slot < 32; slot++) {
			for (unsigned pin = 0; pin < 4; pin++) {
				size_t e = aml_package(a, 4);
				aml_integer(a, (u64)slot << 16 | 0xffff);
				aml_integer(a, pin);
				aml_integer(a, 0);
				aml_integer(a, cfg->pci_intx_gsi[(slot + pin) % 4]);
				aml_close(a, e);
			}
		}
		aml_close(a, prt);
	}
	aml_close(a, dev);
}

static void dsdt_com1(struct aml *a, bool *broken)
{
	size_t dev = aml_device(a, "COM1");
	aml_name(a, "_HID");
	aml_eisa_id(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	struct res r = {0};
	res_io(&r, 0x3f8, 8);
	res_irq(&r, 4);
	aml_crs(a, &r, broken);
	aml_close(a, dev);
}

/* The pvpanic device (QEMU's ISA "QEMU0001"): a guest kernel's panic notifier writes to
 * its port, so the hypervisor learns of the crash and applies on_crash. */
static void dsdt_pvpanic(struct aml *a, u16 port, bool *broken)
{
	size_t dev = aml_device(a, "PEVT");
	aml_name(a, "_HID");
	aml_string(a, "QEMU0001");
	struct res r = {0};
	res_io(&r, port, 1);
	aml_crs(a, &r, broken);
	aml_close(a, dev);
}

/* Processor devices whose _UID matches the MADT's processor UID, so that Linux's ACPI
 * processor driver binds each CPU (no _CST: C1 by HLT only, per the FADT). */
static void dsdt_cpus(struct aml *a, unsigned ncpus)
{
	static const char hex[] = "0123456789ABCDEF";
	for (unsigned i = 0; i < ncpus; i++) {
		char name[5] = {'C', 'P', hex[i >> 4], hex[i & 15], 0};
		size_t dev = aml_device(a, name);
		aml_name(a, "_HID");
		aml_string(a, "ACPI0007");
		aml_name(a, "_UID");
		aml_integer(a, i);
		aml_close(a, dev);
	}
}

/* The DSDT's AML body (after its header). */
static void dsdt_body(struct aml *a, const struct acpi_config *cfg, bool *broken)
{
	/* \_S5: SLP_TYP for PM1a and PM1b (none here), two reserved. Only S5 is offered. */
	aml_name(a, "\\_S5_");
	size_t pkg = aml_package(a, 4);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_close(a, pkg);

	size_t sb = aml_scope(a, "\\_SB_");
	dsdt_pci0(a, cfg, broken);
	if (cfg->com1)
		dsdt_com1(a, broken);
	if (cfg->pvpanic_port)
		dsdt_pvpanic(a, cfg->pvpanic_port, broken);
	dsdt_cpus(a, cfg->ncpus);
	aml_close(a, sb);
}

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
	dsdt_body(&a, cfg, &broken);
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
