/* Tests of the ACPI tables (devices/acpi_tables.c), read back the way an OS does: RSDP ->
 * XSDT -> each table by spec offsets, and the DSDT through a small AML reader written here
 * independently of the emitters; then a run that drives the PM device (devices/acpi_pm.c) at
 * the ports and with the values the generated tables name. */
#include <stdio.h>

#include "test.h"
#include "../../devices/acpi_pm.h"
#include "../../devices/acpi_tables.h"
#include "../../devices/io_bus.h"

/* ---- reading tables back ---- */

static u64 rd(const u8 *p, unsigned n)
{
	u64 v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static u8 sum(const u8 *p, size_t n)
{
	u8 s = 0;
	for (size_t i = 0; i < n; i++)
		s = (u8)(s + p[i]);
	return s;
}

struct blob {
	u8 *buf;
	size_t size;
	u64 gpa;
	struct acpi_blob_info info;
};

/* The bytes at guest-physical [addr, addr + n), which must lie inside the blob. */
static const u8 *at(const struct blob *b, u64 addr, size_t n)
{
	REQUIRE(addr >= b->gpa && addr - b->gpa <= b->info.size &&
		n <= b->info.size - (addr - b->gpa));
	return b->buf + (addr - b->gpa);
}

static void build(struct blob *b, const struct acpi_config *cfg, u64 gpa)
{
	b->gpa = gpa;
	b->size = ACPI_TABLES_MAX;
	b->buf = test_alloc(b->size);
	REQUIRE(acpi_tables_build(cfg, gpa, b->buf, b->size, &b->info) == ACPI_BUILD_OK);
	REQUIRE(b->info.error == NULL);
	REQUIRE(b->info.size <= b->size);
}

static void build_default(struct blob *b, unsigned ncpus)
{
	struct acpi_config cfg;
	acpi_config_default(&cfg, ncpus);
	build(b, &cfg, ACPI_TABLES_GPA);
}

/* A description table at addr with a valid header: signature, length inside the blob,
 * checksum 0. */
static const u8 *table(const struct blob *b, u64 addr, const char *sig)
{
	const u8 *h = at(b, addr, 36);
	REQUIRE(!memcmp(h, sig, 4));
	u32 len = (u32)rd(h + 4, 4);
	REQUIRE(len >= 36);
	const u8 *t = at(b, addr, len);
	CHECK_EQ(sum(t, len), 0);
	CHECK(!memcmp(t + 10, "KEEL  ", 6));
	CHECK(!memcmp(t + 28, "KEEL", 4));
	return t;
}

static const u8 *rsdp(const struct blob *b)
{
	return at(b, b->gpa + b->info.rsdp_offset, 36);
}

/* Finds a table through RSDP -> XSDT. */
static const u8 *xsdt_find(const struct blob *b, const char *sig)
{
	const u8 *x = table(b, rd(rsdp(b) + 24, 8), "XSDT");
	u32 len = (u32)rd(x + 4, 4);
	for (u32 off = 36; off + 8 <= len; off += 8) {
		u64 addr = rd(x + off, 8);
		if (!memcmp(at(b, addr, 4), sig, 4))
			return table(b, addr, sig);
	}
	test_abort(__FILE__, __LINE__, "no %s in the XSDT", sig);
}

/* ---- a small AML reader: names and their data objects, by full path ---- */

struct aml_obj {
	char path[40];
	const u8 *p;
	size_t len;
};

struct ns {
	struct aml_obj o[700];
	unsigned n;
};

static size_t rd_pkglen(const u8 *p, size_t avail, size_t *len)
{
	if (!avail)
		return 0;
	unsigned n = (p[0] >> 6) + 1u;
	if (n > avail)
		return 0;
	if (n == 1) {
		*len = p[0] & 0x3f;
		return 1;
	}
	if (p[0] & 0x30)
		return 0;
	size_t v = p[0] & 0xf;
	for (unsigned i = 1; i < n; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	*len = v;
	return n;
}

/* Length of the data object at p (integer, string, buffer, package); 0 if not one. */
static size_t data_len(const u8 *p, size_t avail)
{
	size_t len = 0, n;
	if (!avail)
		return 0;
	switch (p[0]) {
	case 0x00:
	case 0x01:
	case 0xff:
		n = 1;
		break;
	case 0x0a:
		n = 2;
		break;
	case 0x0b:
		n = 3;
		break;
	case 0x0c:
		n = 5;
		break;
	case 0x0e:
		n = 9;
		break;
	case 0x0d:
		n = strnlen((const char *)p + 1, avail - 1) + 2;
		break;
	case 0x11:
	case 0x12:
		if (!rd_pkglen(p + 1, avail - 1, &len))
			return 0;
		n = 1 + len;
		break;
	default:
		return 0;
	}
	return n <= avail ? n : 0;
}

static bool aml_int(const u8 *p, u64 *v)
{
	switch (p[0]) {
	case 0x00:
		*v = 0;
		return true;
	case 0x01:
		*v = 1;
		return true;
	case 0x0a:
		*v = rd(p + 1, 1);
		return true;
	case 0x0b:
		*v = rd(p + 1, 2);
		return true;
	case 0x0c:
		*v = rd(p + 1, 4);
		return true;
	case 0x0e:
		*v = rd(p + 1, 8);
		return true;
	}
	return false;
}

/* A NameString: optional root prefix, one NameSeg. Returns its length, 0 if not that. */
static size_t rd_name(const u8 *p, size_t avail, char out[6])
{
	size_t i = 0, o = 0;
	if (avail && p[0] == '\\') {
		out[o++] = '\\';
		i++;
	}
	if (avail < i + 4)
		return 0;
	for (unsigned k = 0; k < 4; k++) {
		u8 c = p[i + k];
		bool ok = (c >= 'A' && c <= 'Z') || c == '_' || (k && c >= '0' && c <= '9');
		if (!ok)
			return 0;
		out[o++] = (char)c;
	}
	out[o] = 0;
	return i + 4;
}

static void join(char *dst, size_t size, const char *scope, const char *name)
{
	if (name[0] == '\\')
		snprintf(dst, size, "%s", name);
	else if (!strcmp(scope, "\\"))
		snprintf(dst, size, "\\%s", name);
	else
		snprintf(dst, size, "%s.%s", scope, name);
}

/* Walks a TermList of Name, Scope and Device; anything else fails the test. */
static void parse_terms(struct ns *ns, const u8 *p, size_t len, const char *scope)
{
	size_t pos = 0;
	while (pos < len) {
		char name[6], path[40];
		size_t n, body, pl;
		if (p[pos] == 0x08) {
			n = rd_name(p + pos + 1, len - pos - 1, name);
			REQUIRE(n);
			size_t dl = data_len(p + pos + 1 + n, len - pos - 1 - n);
			REQUIRE(dl);
			REQUIRE(ns->n < ARRAY_SIZE(ns->o));
			join(ns->o[ns->n].path, sizeof(ns->o[0].path), scope, name);
			ns->o[ns->n].p = p + pos + 1 + n;
			ns->o[ns->n].len = dl;
			ns->n++;
			pos += 1 + n + dl;
			continue;
		}
		size_t op = p[pos] == 0x10					      ? 1
			    : (p[pos] == 0x5b && pos + 1 < len && p[pos + 1] == 0x82) ? 2
										      : 0;
		if (!op)
			test_abort(__FILE__, __LINE__, "unknown AML opcode 0x%02x at %zu", p[pos],
				   pos);
		pl = rd_pkglen(p + pos + op, len - pos - op, &body);
		REQUIRE(pl && body >= pl && body <= len - pos - op);
		n = rd_name(p + pos + op + pl, body - pl, name);
		REQUIRE(n);
		join(path, sizeof(path), scope, name);
		parse_terms(ns, p + pos + op + pl + n, body - pl - n, path);
		pos += op + body;
	}
	REQUIRE(pos == len);
}

static struct ns *parse_dsdt(const u8 *dsdt)
{
	struct ns *ns = test_alloc(sizeof(*ns));
	u32 len = (u32)rd(dsdt + 4, 4);
	parse_terms(ns, dsdt + 36, len - 36, "\\");
	return ns;
}

static const struct aml_obj *lookup(const struct ns *ns, const char *path)
{
	for (unsigned i = 0; i < ns->n; i++)
		if (!strcmp(ns->o[i].path, path))
			return &ns->o[i];
	return NULL;
}

static u64 lookup_int(const struct ns *ns, const char *path)
{
	const struct aml_obj *o = lookup(ns, path);
	u64 v = ~0ULL;
	if (!o)
		test_abort(__FILE__, __LINE__, "no %s", path);
	REQUIRE(aml_int(o->p, &v));
	return v;
}

/* A package's elements; the count must match NumElements and fill the package exactly. */
static unsigned pkg_elems(const u8 *p, size_t avail, const u8 **elems, unsigned max)
{
	size_t len, pl;
	REQUIRE(p[0] == 0x12);
	pl = rd_pkglen(p + 1, avail - 1, &len);
	REQUIRE(pl && len <= avail - 1);
	unsigned count = p[1 + pl], n = 0;
	size_t pos = 1 + pl + 1, end = 1 + len;
	while (pos < end) {
		size_t dl = data_len(p + pos, end - pos);
		REQUIRE(dl && n < max);
		elems[n++] = p + pos;
		pos += dl;
	}
	REQUIRE(pos == end);
	CHECK_EQ(n, count);
	return n;
}

/* A buffer's bytes; its BufferSize must equal what follows. */
static const u8 *buffer_bytes(const u8 *p, size_t avail, size_t *n)
{
	size_t len, pl;
	u64 size;
	REQUIRE(p[0] == 0x11);
	pl = rd_pkglen(p + 1, avail - 1, &len);
	REQUIRE(pl && len <= avail - 1);
	const u8 *q = p + 1 + pl;
	REQUIRE(aml_int(q, &size));
	size_t il = data_len(q, len - pl);
	REQUIRE(il && size == len - pl - il);
	*n = size;
	return q + il;
}

struct rdesc {
	u8 tag; /* large: the type byte; small: item name << 3 */
	const u8 *d;
	size_t len; /* whole descriptor */
};

/* Splits a resource template; it must end with the end tag exactly at the end. */
static unsigned resources(const u8 *b, size_t n, struct rdesc *out, unsigned max)
{
	size_t pos = 0;
	unsigned count = 0;
	while (pos < n) {
		REQUIRE(count < max);
		struct rdesc *r = &out[count++];
		r->d = b + pos;
		if (b[pos] & 0x80) {
			REQUIRE(pos + 3 <= n);
			r->tag = b[pos];
			r->len = 3 + rd(b + pos + 1, 2);
		} else {
			r->tag = (u8)(b[pos] & 0x78);
			r->len = 1 + (b[pos] & 7u);
		}
		REQUIRE(r->len <= n - pos);
		pos += r->len;
		if (r->tag == 0x78)
			break;
	}
	REQUIRE(pos == n);
	REQUIRE(count && out[count - 1].tag == 0x78);
	return count;
}

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
