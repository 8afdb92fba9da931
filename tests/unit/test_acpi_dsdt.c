/* Tests of the DSDT a VM gets (devices/acpi_dsdt.c) read back with a small AML reader:
 * \\_S5, the PCI host bridge and its windows, COM1, the processors, _PRT, and the AML
 * builder's encodings (devices/aml.c). */
#include "acpi_read.h"

TEST(acpi_dsdt_has_s5_with_the_pm_devices_sleep_type)
{
	struct blob b;
	build_default(&b, 1);
	const u8 *d = table(&b, b.gpa + b.info.dsdt_offset, "DSDT");
	CHECK_EQ(d[8], 2);
	CHECK_EQ(b.info.dsdt_offset + rd(d + 4, 4), b.info.size); /* the DSDT ends the blob */
	struct ns *ns = parse_dsdt(d);
	const struct aml_obj *s5 = lookup(ns, "\\_S5_");
	REQUIRE(s5);
	const u8 *el[8];
	u64 v;
	REQUIRE(pkg_elems(s5->p, s5->len, el, 8) == 4);
	REQUIRE(aml_int(el[0], &v));
	CHECK_EQ(v, ACPI_SLP_TYP_S5);
	CHECK(lookup(ns, "\\_S3_") == NULL);
}

TEST(acpi_dsdt_has_the_pci_host_bridge_with_its_windows)
{
	struct acpi_config cfg;
	struct blob b;
	acpi_config_default(&cfg, 1);
	cfg.pci_mmio_base = 0xe0000000;
	cfg.pci_mmio_size = 0x10000000;
	build(&b, &cfg, ACPI_TABLES_GPA);
	struct ns *ns = parse_dsdt(table(&b, b.gpa + b.info.dsdt_offset, "DSDT"));
	CHECK_EQ(lookup_int(ns, "\\_SB_.PCI0._HID"), 0x030ad041); /* EisaId("PNP0A03") */
	CHECK_EQ(lookup_int(ns, "\\_SB_.PCI0._UID"), 0);
	CHECK_EQ(lookup_int(ns, "\\_SB_.PCI0._BBN"), 0);
	CHECK(lookup(ns, "\\_SB_.PCI0._PRT") == NULL);

	const struct aml_obj *crs = lookup(ns, "\\_SB_.PCI0._CRS");
	REQUIRE(crs);
	size_t n;
	const u8 *bytes = buffer_bytes(crs->p, crs->len, &n);
	struct rdesc r[8];
	unsigned count = resources(bytes, n, r, 8);
	REQUIRE(count == 6);
	/* bus numbers 0-255 */
	CHECK_EQ(r[0].tag, 0x88);
	CHECK_EQ(r[0].d[3], 2);
	CHECK_EQ(r[0].d[4] & 1, 0); /* produced */
	CHECK_EQ(rd(r[0].d + 8, 2), 0);
	CHECK_EQ(rd(r[0].d + 10, 2), 0xff);
	CHECK_EQ(rd(r[0].d + 14, 2), 0x100);
	/* the config ports */
	CHECK_EQ(r[1].tag, 0x40);
	CHECK_EQ(rd(r[1].d + 2, 2), 0xcf8);
	CHECK_EQ(r[1].d[7], 8);
	/* the two I/O windows around them */
	CHECK_EQ(r[2].tag, 0x88);
	CHECK_EQ(r[2].d[3], 1);
	CHECK_EQ(rd(r[2].d + 8, 2), 0);
	CHECK_EQ(rd(r[2].d + 10, 2), 0xcf7);
	CHECK_EQ(rd(r[2].d + 14, 2), 0xcf8);
	CHECK_EQ(r[3].tag, 0x88);
	CHECK_EQ(rd(r[3].d + 8, 2), 0xd00);
	CHECK_EQ(rd(r[3].d + 10, 2), 0xffff);
	CHECK_EQ(rd(r[3].d + 14, 2), 0xf300);
	/* the 32-bit memory window from the config */
	CHECK_EQ(r[4].tag, 0x87);
	CHECK_EQ(r[4].len, 26);
	CHECK_EQ(r[4].d[3], 0);
	CHECK_EQ(rd(r[4].d + 10, 4), 0xe0000000);
	CHECK_EQ(rd(r[4].d + 14, 4), 0xefffffff);
	CHECK_EQ(rd(r[4].d + 22, 4), 0x10000000);
	CHECK_EQ(r[5].tag, 0x78);
}

TEST(acpi_dsdt_describes_com1_and_the_cpus)
{
	struct blob b;
	build_default(&b, 3);
	struct ns *ns = parse_dsdt(table(&b, b.gpa + b.info.dsdt_offset, "DSDT"));
	CHECK_EQ(lookup_int(ns, "\\_SB_.COM1._HID"), 0x0105d041); /* EisaId("PNP0501") */
	const struct aml_obj *crs = lookup(ns, "\\_SB_.COM1._CRS");
	REQUIRE(crs);
	size_t n;
	const u8 *bytes = buffer_bytes(crs->p, crs->len, &n);
	struct rdesc r[4];
	REQUIRE(resources(bytes, n, r, 4) == 3);
	CHECK_EQ(r[0].tag, 0x40);
	CHECK_EQ(rd(r[0].d + 2, 2), 0x3f8);
	CHECK_EQ(rd(r[0].d + 4, 2), 0x3f8);
	CHECK_EQ(r[0].d[7], 8);
	CHECK_EQ(r[1].tag, 0x20);
	CHECK_EQ(rd(r[1].d + 1, 2), 1u << 4);

	for (unsigned i = 0; i < 3; i++) {
		char path[32];
		snprintf(path, sizeof(path), "\\_SB_.CP%02X._HID", i);
		const struct aml_obj *hid = lookup(ns, path);
		REQUIRE(hid);
		CHECK(hid->p[0] == 0x0d && !strcmp((const char *)hid->p + 1, "ACPI0007"));
		snprintf(path, sizeof(path), "\\_SB_.CP%02X._UID", i);
		CHECK_EQ(lookup_int(ns, path), i);
	}
	CHECK(lookup(ns, "\\_SB_.CP03._HID") == NULL);

	struct acpi_config cfg;
	acpi_config_default(&cfg, 1);
	cfg.com1 = false;
	build(&b, &cfg, ACPI_TABLES_GPA);
	ns = parse_dsdt(table(&b, b.gpa + b.info.dsdt_offset, "DSDT"));
	CHECK(lookup(ns, "\\_SB_.COM1._HID") == NULL);
	CHECK(lookup(ns, "\\_SB_.PCI0._HID") != NULL);
}

TEST(acpi_dsdt_prt_swizzles_pci_interrupts)
{
	struct acpi_config cfg;
	struct blob b;
	acpi_config_default(&cfg, 1);
	cfg.pci_intx_gsi[0] = 16;
	cfg.pci_intx_gsi[1] = 17;
	cfg.pci_intx_gsi[2] = 18;
	cfg.pci_intx_gsi[3] = 19;
	build(&b, &cfg, ACPI_TABLES_GPA);
	struct ns *ns = parse_dsdt(table(&b, b.gpa + b.info.dsdt_offset, "DSDT"));
	const struct aml_obj *prt = lookup(ns, "\\_SB_.PCI0._PRT");
	REQUIRE(prt);
	const u8 *el[128], *f[4];
	REQUIRE(pkg_elems(prt->p, prt->len, el, 128) == 128);
	for (unsigned i = 0; i < 128; i++) {
		u64 addr, pin, src, gsi;
		REQUIRE(pkg_elems(el[i], prt->len - (size_t)(el[i] - prt->p), f, 4) == 4);
		REQUIRE(aml_int(f[0], &addr) && aml_int(f[1], &pin) && aml_int(f[2], &src) &&
			aml_int(f[3], &gsi));
		unsigned slot = i / 4;
		CHECK_EQ(addr, (u64)slot << 16 | 0xffff);
		CHECK_EQ(pin, i % 4);
		CHECK_EQ(src, 0);
		CHECK_EQ(gsi, 16 + (slot + pin) % 4);
	}
}

/* Sizes that need 1-, 2- and 3-byte PkgLengths (255 CPUs make \_SB_ longer than 4 KiB), all
 * read back consistently by the parser. */
TEST(acpi_dsdt_pkglength_encodings_round_trip)
{
	struct acpi_config cfg;
	struct blob b;
	acpi_config_default(&cfg, ACPI_MAX_CPUS);
	for (unsigned i = 0; i < 4; i++)
		cfg.pci_intx_gsi[i] = (u8)(20 + i);
	build(&b, &cfg, ACPI_TABLES_GPA);
	const u8 *d = table(&b, b.gpa + b.info.dsdt_offset, "DSDT");
	CHECK(rd(d + 4, 4) > 0x1000);
	struct ns *ns = parse_dsdt(d);
	CHECK_EQ(lookup_int(ns, "\\_SB_.CPFE._UID"), 254);
	CHECK(lookup(ns, "\\_SB_.PCI0._PRT") != NULL);
	CHECK(lookup(ns, "\\_S5_") != NULL);
	/* every 3-byte PkgLength has a lead byte of 0b10xxxxxx: at least one (\_SB_) exists */
	const u8 *sb = NULL;
	for (u32 i = 36 + 4; i + 5 <= rd(d + 4, 4) && !sb; i++)
		if (!memcmp(d + i, "\\_SB_", 5))
			sb = d + i;
	REQUIRE(sb);
	CHECK_EQ(sb[-4], 0x10); /* ScopeOp, then a 3-byte PkgLength */
	CHECK_EQ(sb[-3] & 0xc0, 0x80);
}

/* Each encoding at both sides of its limit, read back by the test's own decoder. */
TEST(acpi_aml_pkglen_boundaries)
{
	static const struct {
		size_t body;
		unsigned size;
	} cases[] = {
	    {0, 1},    {62, 1},	     {63, 2},	   {64, 2},	   {4093, 2},
	    {4094, 3}, {0xffffc, 3}, {0xffffd, 4}, {0xffffffb, 4}, {0xffffffc, 0},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		u8 enc[4];
		size_t len = 0;
		unsigned n = acpi_aml_pkglen(enc, cases[i].body);
		CHECK_EQ(n, cases[i].size);
		if (!n)
			continue;
		CHECK_EQ(rd_pkglen(enc, n, &len), n);
		CHECK_EQ(len, cases[i].body + n);
	}
}

TEST(acpi_eisa_id_encoding)
{
	CHECK_EQ(acpi_eisa_id("PNP0A03"), 0x030ad041);
	CHECK_EQ(acpi_eisa_id("PNP0501"), 0x0105d041);
	CHECK_EQ(acpi_eisa_id("PNP0C0F"), 0x0f0cd041);
	CHECK_EQ(acpi_eisa_id("ABC12EF"), 0xef124304); /* A=1 B=2 C=3: 0x0443 */
	CHECK_EQ(acpi_eisa_id("ZZZFFFF"), 0xffff5a6b);
	CHECK_EQ(acpi_eisa_id("pnp0a03"), 0);
	CHECK_EQ(acpi_eisa_id("PNP0A0"), 0);
	CHECK_EQ(acpi_eisa_id("PNP0A03X"), 0);
	CHECK_EQ(acpi_eisa_id("PNP0G03"), 0);
}
