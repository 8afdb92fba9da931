/* Tests of the ACPI tables (devices/acpi_tables.c), read back the way an OS does: RSDP ->
 * XSDT -> each table by spec offsets (the DSDT's contents are test_acpi_dsdt.c's); then a
 * run that drives the PM device (devices/acpi_pm.c) at the ports and with the values the
 * generated tables name. */
#include "acpi_read.h"
#include "../../devices/io_bus.h"

/* ---- tables ---- */

TEST(acpi_rsdp_has_both_checksums_and_points_at_xsdt_and_rsdt)
{
	struct blob b;
	build_default(&b, 2);
	const u8 *r = rsdp(&b);
	CHECK_EQ(b.info.rsdp_offset, 0);
	CHECK_EQ((b.gpa + b.info.rsdp_offset) % 16, 0);
	CHECK(!memcmp(r, "RSD PTR ", 8));
	CHECK_EQ(sum(r, 20), 0);
	CHECK_EQ(sum(r, 36), 0);
	CHECK(!memcmp(r + 9, "KEEL  ", 6));
	CHECK_EQ(r[15], 2);
	CHECK_EQ(rd(r + 20, 4), 36);
	CHECK_EQ(rd(r + 16, 4), b.gpa + b.info.rsdt_offset);
	CHECK_EQ(rd(r + 24, 8), b.gpa + b.info.xsdt_offset);
	CHECK_EQ(r[33] | r[34] | r[35], 0);
}

TEST(acpi_xsdt_and_rsdt_list_the_same_tables)
{
	struct blob b;
	build_default(&b, 2);
	const u8 *x = table(&b, rd(rsdp(&b) + 24, 8), "XSDT");
	const u8 *r = table(&b, rd(rsdp(&b) + 16, 4), "RSDT");
	CHECK_EQ(x[8], 1);
	CHECK_EQ(r[8], 1);
	REQUIRE(rd(x + 4, 4) == 36 + 2 * 8);
	REQUIRE(rd(r + 4, 4) == 36 + 2 * 4);
	for (unsigned i = 0; i < 2; i++)
		CHECK_EQ(rd(x + 36 + 8 * i, 8), rd(r + 36 + 4 * i, 4));
	CHECK(!memcmp(at(&b, rd(x + 36, 8), 4), "FACP", 4));
	CHECK(!memcmp(at(&b, rd(x + 44, 8), 4), "APIC", 4));
}

static void check_io_gas(const u8 *g, u16 port, unsigned bits)
{
	CHECK_EQ(g[0], 1); /* SystemIO */
	CHECK_EQ(g[1], bits);
	CHECK_EQ(g[2], 0);
	CHECK_EQ(rd(g + 4, 8), port);
}

TEST(acpi_fadt_describes_the_pm_device_and_reset_register)
{
	struct blob b;
	build_default(&b, 1);
	const u8 *f = xsdt_find(&b, "FACP");
	CHECK_EQ(rd(f + 4, 4), 276);
	CHECK_EQ(f[8], 6);
	CHECK_EQ(rd(f + 46, 2), 9); /* SCI_INT */
	CHECK_EQ(rd(f + 48, 4), 0); /* no SMI_CMD: ACPI mode from the start */
	CHECK_EQ(rd(f + 56, 4), ACPI_PM_IO_BASE + ACPI_PM1_EVT_OFF);
	CHECK_EQ(rd(f + 60, 4), 0); /* no PM1b */
	CHECK_EQ(rd(f + 64, 4), ACPI_PM_IO_BASE + ACPI_PM1_CNT_OFF);
	CHECK_EQ(rd(f + 76, 4), ACPI_PM_IO_BASE + ACPI_PM_TMR_OFF);
	CHECK_EQ(rd(f + 80, 4), 0); /* no GPE0 */
	CHECK_EQ(f[88], 4);
	CHECK_EQ(f[89], 2);
	CHECK_EQ(f[91], 4);
	CHECK_EQ(f[92], 0);
	CHECK(rd(f + 96, 2) > 100);  /* no C2 */
	CHECK(rd(f + 98, 2) > 1000); /* no C3 */
	u16 boot = (u16)rd(f + 109, 2);
	CHECK(boot & 1);       /* legacy devices */
	CHECK(!(boot & 2));    /* no 8042 */
	CHECK(boot & 4);       /* VGA not present */
	CHECK(!(boot & 0x20)); /* a CMOS RTC (default config) */
	u32 flags = (u32)rd(f + 112, 4);
	CHECK(flags & BIT(0));	   /* WBINVD */
	CHECK(!(flags & BIT(4)));  /* fixed power button */
	CHECK(flags & BIT(5));	   /* no sleep button */
	CHECK(flags & BIT(8));	   /* 32-bit PM timer */
	CHECK(flags & BIT(10));	   /* RESET_REG_SUP */
	CHECK(!(flags & BIT(20))); /* not hardware-reduced */
	check_io_gas(f + 116, 0xcf9, 8);
	CHECK_EQ(f[119], 1); /* byte access */
	CHECK_EQ(f[128], 0x06);
	/* The FACS by the 32-bit pointer only; the DSDT by both, equal. */
	u64 facs = rd(f + 36, 4);
	CHECK_EQ(rd(f + 132, 8), 0);
	CHECK_EQ(rd(f + 140, 8), rd(f + 40, 4));
	table(&b, rd(f + 140, 8), "DSDT");
	check_io_gas(f + 148, ACPI_PM_IO_BASE + ACPI_PM1_EVT_OFF, 32);
	CHECK_EQ(f[160], 0); /* X_PM1b_EVT_BLK empty */
	check_io_gas(f + 172, ACPI_PM_IO_BASE + ACPI_PM1_CNT_OFF, 16);
	check_io_gas(f + 208, ACPI_PM_IO_BASE + ACPI_PM_TMR_OFF, 32);
	CHECK_EQ(f[220 + 1], 0); /* X_GPE0_BLK empty */

	CHECK_EQ(facs % 64, 0);
	const u8 *s = at(&b, facs, 64);
	CHECK(!memcmp(s, "FACS", 4));
	CHECK_EQ(rd(s + 4, 4), 64);
	CHECK_EQ(s[32], 2);
	CHECK_EQ(rd(s + 16, 4), 0); /* global lock free */
}

TEST(acpi_fadt_follows_the_config)
{
	struct acpi_config cfg;
	struct blob b;
	acpi_config_default(&cfg, 1);
	cfg.pm_io_base = 0xb000;
	cfg.sci_irq = 11;
	cfg.cmos_rtc = false;
	build(&b, &cfg, 0xf0000);
	const u8 *f = xsdt_find(&b, "FACP");
	CHECK_EQ(rd(f + 46, 2), 11);
	CHECK_EQ(rd(f + 56, 4), 0xb000);
	CHECK_EQ(rd(f + 64, 4), 0xb004);
	CHECK_EQ(rd(f + 76, 4), 0xb008);
	CHECK_EQ(rd(f + 208 + 4, 8), 0xb008);
	CHECK(rd(f + 109, 2) & 0x20); /* CMOS RTC not present */
	const u8 *m = xsdt_find(&b, "APIC");
	bool found = false;
	for (u32 off = 44; off < rd(m + 4, 4); off += m[off + 1])
		if (m[off] == 2 && m[off + 3] == 11) {
			found = true;
			CHECK_EQ(rd(m + off + 4, 4), 11);
			CHECK_EQ(rd(m + off + 8, 2), 0xd); /* level, active high */
		}
	CHECK(found);
}

static void check_madt(unsigned ncpus)
{
	struct blob b;
	build_default(&b, ncpus);
	const u8 *m = xsdt_find(&b, "APIC");
	u32 len = (u32)rd(m + 4, 4);
	CHECK_EQ(m[8], 4);
	CHECK_EQ(rd(m + 36, 4), 0xfee00000);
	CHECK_EQ(rd(m + 40, 4), 1); /* PCAT_COMPAT */
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	u32 off = 44;
	while (off < len) {
		const u8 *e = m + off;
		REQUIRE(off + 2 <= len && e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			CHECK_EQ(e[1], 8);
			CHECK_EQ(e[2], lapics); /* processor UID */
			CHECK_EQ(e[3], lapics); /* APIC ID */
			CHECK_EQ(rd(e + 4, 4), 1);
			lapics++;
			break;
		case 1:
			CHECK_EQ(e[1], 12);
			CHECK_EQ(e[2], 0);
			CHECK_EQ(rd(e + 4, 4), 0xfec00000);
			CHECK_EQ(rd(e + 8, 4), 0);
			ioapics++;
			break;
		case 2:
			CHECK_EQ(e[1], 10);
			CHECK_EQ(e[2], 0); /* ISA */
			if (e[3] == 0) {
				CHECK_EQ(rd(e + 4, 4), 2);
				CHECK_EQ(rd(e + 8, 2), 0x5); /* edge, active high */
			} else {
				CHECK_EQ(e[3], 9);
				CHECK_EQ(rd(e + 4, 4), 9);
				CHECK_EQ(rd(e + 8, 2), 0xd); /* level, active high */
			}
			isos++;
			break;
		case 4:
			CHECK_EQ(e[1], 6);
			CHECK_EQ(e[2], 0xff); /* all processors */
			CHECK_EQ(e[5], 1);    /* LINT1 */
			nmis++;
			break;
		default:
			CHECK(!"unexpected MADT entry");
		}
		off += e[1];
	}
	CHECK_EQ(off, len);
	CHECK_EQ(lapics, ncpus);
	CHECK_EQ(ioapics, 1);
	CHECK_EQ(isos, 2);
	CHECK_EQ(nmis, 1);
}

TEST(acpi_madt_has_one_lapic_per_cpu_ioapic_overrides_and_nmi)
{
	check_madt(1);
	check_madt(4);
	check_madt(ACPI_MAX_CPUS);
}

TEST(acpi_tables_place_anywhere_16_byte_aligned)
{
	struct acpi_config cfg;
	acpi_config_default(&cfg, 2);
	u64 gpas[] = {0xe0000, 0xe0010, 0xe0030, 0xfff00000};
	for (unsigned i = 0; i < ARRAY_SIZE(gpas); i++) {
		struct blob b;
		build(&b, &cfg, gpas[i]);
		CHECK_EQ((gpas[i] + b.info.facs_offset) % 64, 0);
		const u8 *f = xsdt_find(&b, "FACP");
		CHECK_EQ(rd(f + 36, 4), gpas[i] + b.info.facs_offset);
		table(&b, rd(f + 40, 4), "DSDT");
		xsdt_find(&b, "APIC");
	}
}

TEST(acpi_oem_ids_are_space_padded)
{
	struct acpi_config cfg;
	struct blob b;
	acpi_config_default(&cfg, 1);
	cfg.oem_id = "AB";
	cfg.oem_table_id = "T1";
	b.gpa = ACPI_TABLES_GPA;
	b.buf = test_alloc(ACPI_TABLES_MAX);
	REQUIRE(acpi_tables_build(&cfg, b.gpa, b.buf, ACPI_TABLES_MAX, &b.info) == ACPI_BUILD_OK);
	CHECK(!memcmp(b.buf + 9, "AB    ", 6));
	const u8 *m = b.buf + b.info.madt_offset;
	CHECK(!memcmp(m + 10, "AB    ", 6));
	CHECK(!memcmp(m + 16, "T1      ", 8));
}

/* Every size short of what the tables need fails cleanly, says what is needed and writes
 * nothing past the end (each buffer is exactly that size, so ASan would see it). */
TEST(acpi_tables_refuse_small_buffers)
{
	struct acpi_config cfg;
	struct acpi_blob_info info;
	acpi_config_default(&cfg, 2);
	u8 *full = test_alloc(ACPI_TABLES_MAX);
	REQUIRE(acpi_tables_build(&cfg, ACPI_TABLES_GPA, full, ACPI_TABLES_MAX, &info) ==
		ACPI_BUILD_OK);
	size_t need = info.size;
	for (size_t size = 0; size < need; size++) {
		u8 *buf = test_alloc(size);
		REQUIRE(acpi_tables_build(&cfg, ACPI_TABLES_GPA, size ? buf : NULL, size, &info) ==
			ACPI_BUILD_NO_SPACE);
		CHECK_EQ(info.size, need);
		CHECK_STR(info.error, "buffer too small");
	}
	u8 *exact = test_alloc(need);
	CHECK(acpi_tables_build(&cfg, ACPI_TABLES_GPA, exact, need, &info) == ACPI_BUILD_OK);
	CHECK(!memcmp(exact, full, need));
}

TEST(acpi_tables_refuse_bad_configs_and_addresses)
{
	struct acpi_config good, cfg;
	struct acpi_blob_info info;
	u8 *buf = test_alloc(ACPI_TABLES_MAX);
	acpi_config_default(&good, 1);
#define BAD(field, value, what)                                                                    \
	do {                                                                                       \
		cfg = good;                                                                        \
		cfg.field = value;                                                                 \
		CHECK(acpi_tables_build(&cfg, ACPI_TABLES_GPA, buf, ACPI_TABLES_MAX, &info) ==     \
		      ACPI_BUILD_BAD_CONFIG);                                                      \
		CHECK_CONTAINS(info.error, what);                                                  \
	} while (0)
	BAD(ncpus, 0, "ncpus");
	BAD(ncpus, ACPI_MAX_CPUS + 1, "ncpus");
	BAD(ioapic_addr, 0xfec00800, "ioapic_addr");
	BAD(ioapic_addr, 0xfee00000, "ioapic_addr");
	BAD(pm_io_base, 0, "pm_io_base");
	BAD(pm_io_base, 0x602, "pm_io_base");
	BAD(pm_io_base, 0xfff8, "pm_io_base");
	BAD(pm_io_base, 0xcf0, "pm_io_base");
	BAD(sci_irq, 0, "sci_irq");
	BAD(sci_irq, 2, "sci_irq");
	BAD(sci_irq, 16, "sci_irq");
	BAD(sci_irq, 4, "sci_irq");
	BAD(pci_mmio_size, 0, "pci_mmio");
	BAD(pci_mmio_size, 0x40000000, "pci_mmio"); /* covers the IOAPIC */
	BAD(pci_mmio_base, 0xfff00000, "pci_mmio"); /* past 4 GiB */
	BAD(pci_intx_gsi[0], 16, "pci_intx_gsi");   /* one of four */
	BAD(oem_id, "SEVENXX", "oem_id");
	BAD(oem_table_id, "NINECHARS", "oem_table_id");
	BAD(oem_id, "A\nB", "oem_id");
#undef BAD
	cfg = good;
	for (unsigned i = 0; i < 4; i++)
		cfg.pci_intx_gsi[i] = (u8)(i ? 17 : 15);
	CHECK(acpi_tables_build(&cfg, ACPI_TABLES_GPA, buf, ACPI_TABLES_MAX, &info) ==
	      ACPI_BUILD_BAD_CONFIG);

	CHECK(acpi_tables_build(&good, 0xe0008, buf, ACPI_TABLES_MAX, &info) ==
	      ACPI_BUILD_BAD_ADDRESS);
	CHECK(acpi_tables_build(&good, 0xffffff00, buf, ACPI_TABLES_MAX, &info) ==
	      ACPI_BUILD_BAD_ADDRESS);
	CHECK(acpi_tables_build(&good, 0x100000000ULL, buf, ACPI_TABLES_MAX, &info) ==
	      ACPI_BUILD_BAD_ADDRESS);
	CHECK(acpi_tables_build(&good, ~0xfULL, buf, ACPI_TABLES_MAX, &info) ==
	      ACPI_BUILD_BAD_ADDRESS);
	CHECK(acpi_tables_build(&good, ACPI_TABLES_GPA, buf, ACPI_TABLES_MAX, &info) ==
	      ACPI_BUILD_OK);
}

TEST(acpi_tables_fit_the_e_segment_at_the_most_cpus)
{
	struct acpi_config cfg;
	struct acpi_blob_info info;
	acpi_config_default(&cfg, ACPI_MAX_CPUS);
	for (unsigned i = 0; i < 4; i++)
		cfg.pci_intx_gsi[i] = (u8)(16 + i);
	u8 *buf = test_alloc(ACPI_TABLES_MAX);
	REQUIRE(acpi_tables_build(&cfg, ACPI_TABLES_GPA, buf, ACPI_TABLES_MAX, &info) ==
		ACPI_BUILD_OK);
	CHECK(info.size < ACPI_TABLES_MAX / 2);
}

/* ---- tables and device together ---- */

struct host {
	u64 ns;
	unsigned poweroffs, resets;
	bool sci;
};

static u64 host_now(void *ctx)
{
	return ((struct host *)ctx)->ns;
}

static void host_poweroff(void *ctx)
{
	((struct host *)ctx)->poweroffs++;
}

static void host_reset(void *ctx)
{
	((struct host *)ctx)->resets++;
}

static void host_sci(void *ctx, unsigned pin, bool level)
{
	(void)pin;
	((struct host *)ctx)->sci = level;
}

/* What Linux does: read the FADT for the ports and the reset register, the DSDT for \_S5,
 * then power off and reset through an io_bus wired as the hypervisor would. */
TEST(acpi_tables_and_pm_device_agree)
{
	struct blob b;
	build_default(&b, 2);
	const u8 *f = xsdt_find(&b, "FACP");
	struct ns *ns = parse_dsdt(table(&b, rd(f + 140, 8), "DSDT"));
	const struct aml_obj *s5 = lookup(ns, "\\_S5_");
	REQUIRE(s5);
	const u8 *el[4];
	u64 slp_typ;
	REQUIRE(pkg_elems(s5->p, s5->len, el, 4) == 4 && aml_int(el[0], &slp_typ));

	struct acpi_pm pm;
	struct host h = {0};
	struct io_bus bus = {0};
	struct bus_range nodes[2] = {0};
	struct acpi_pm_ops ops = {host_now, host_poweroff, host_reset, &h};
	struct irq_line sci = {host_sci, &h, (unsigned)f[46]};
	u16 base = (u16)rd(f + 56, 4);
	acpi_pm_init(&pm, base, &ops, &sci);
	REQUIRE(
	    io_bus_register(&bus, &nodes[0], base, ACPI_PM_IO_LEN, "acpi-pm", acpi_pm_access, &pm));
	REQUIRE(io_bus_register(&bus, &nodes[1], ACPI_RESET_PORT, 1, "reset", acpi_pm_reset_access,
				&pm));

	/* SCI_EN reads set at PM1a_CNT: ACPI mode, no handshake needed */
	struct io_access a = {(u16)rd(f + 64, 4), 2, false, 0};
	REQUIRE(io_bus_access(&bus, &a));
	CHECK(a.value & ACPI_PM1_SCI_EN);
	/* the timer at PM_TMR_BLK moves */
	h.ns = 1000000;
	a = (struct io_access){(u16)rd(f + 76, 4), 4, false, 0};
	REQUIRE(io_bus_access(&bus, &a));
	CHECK_EQ(a.value, 3579);
	/* power button: enable at PM1a_EVT_BLK + 2 (PM1_EVT_LEN / 2) */
	a = (struct io_access){(u16)(rd(f + 56, 4) + f[88] / 2), 2, true, ACPI_PM1_PWRBTN};
	REQUIRE(io_bus_access(&bus, &a));
	acpi_pm_power_button(&pm);
	CHECK(h.sci);
	/* poweroff */
	a = (struct io_access){(u16)rd(f + 64, 4), 2, true,
			       (u32)(slp_typ << ACPI_PM1_SLP_TYP_SHIFT) | ACPI_PM1_SLP_EN};
	REQUIRE(io_bus_access(&bus, &a));
	CHECK_EQ(h.poweroffs, 1);
	/* reset: RESET_VALUE at RESET_REG, a byte */
	a = (struct io_access){(u16)rd(f + 116 + 4, 8), f[116 + 1] / 8, true, f[128]};
	REQUIRE(io_bus_access(&bus, &a));
	CHECK_EQ(h.resets, 1);
}
