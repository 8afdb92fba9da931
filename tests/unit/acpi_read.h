/* Reading ACPI tables back in host tests: the blob, tables by signature, and a small AML
 * reader (names and their data objects by full path, packages, buffers, resource
 * descriptors). Shared by test_acpi.c and test_acpi_dsdt.c. */
#ifndef KEEL_UNIT_ACPI_READ_H
#define KEEL_UNIT_ACPI_READ_H

#include <stdio.h>

#include "test.h"
#include "../../devices/acpi_pm.h"
#include "../../devices/acpi_tables.h"
#include "../../devices/aml.h"

/* ---- reading tables back ---- */

static inline u64 rd(const u8 *p, unsigned n)
{
	u64 v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static inline u8 sum(const u8 *p, size_t n)
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
static inline const u8 *at(const struct blob *b, u64 addr, size_t n)
{
	REQUIRE(addr >= b->gpa && addr - b->gpa <= b->info.size &&
		n <= b->info.size - (addr - b->gpa));
	return b->buf + (addr - b->gpa);
}

static inline void build(struct blob *b, const struct acpi_config *cfg, u64 gpa)
{
	b->gpa = gpa;
	b->size = ACPI_TABLES_MAX;
	b->buf = test_alloc(b->size);
	REQUIRE(acpi_tables_build(cfg, gpa, b->buf, b->size, &b->info) == ACPI_BUILD_OK);
	REQUIRE(b->info.error == NULL);
	REQUIRE(b->info.size <= b->size);
}

static inline void build_default(struct blob *b, unsigned ncpus)
{
	struct acpi_config cfg;
	acpi_config_default(&cfg, ncpus);
	build(b, &cfg, ACPI_TABLES_GPA);
}

/* A description table at addr with a valid header: signature, length inside the blob,
 * checksum 0. */
static inline const u8 *table(const struct blob *b, u64 addr, const char *sig)
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

static inline const u8 *rsdp(const struct blob *b)
{
	return at(b, b->gpa + b->info.rsdp_offset, 36);
}

/* Finds a table through RSDP -> XSDT. */
static inline const u8 *xsdt_find(const struct blob *b, const char *sig)
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

static inline size_t rd_pkglen(const u8 *p, size_t avail, size_t *len)
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
static inline size_t data_len(const u8 *p, size_t avail)
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

static inline bool aml_int(const u8 *p, u64 *v)
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
static inline size_t rd_name(const u8 *p, size_t avail, char out[6])
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

static inline void join(char *dst, size_t size, const char *scope, const char *name)
{
	if (name[0] == '\\')
		snprintf(dst, size, "%s", name);
	else if (!strcmp(scope, "\\"))
		snprintf(dst, size, "\\%s", name);
	else
		snprintf(dst, size, "%s.%s", scope, name);
}

/* Walks a TermList of Name, Scope and Device; anything else fails the test. */
static inline void parse_terms(struct ns *ns, const u8 *p, size_t len, const char *scope)
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

static inline struct ns *parse_dsdt(const u8 *dsdt)
{
	struct ns *ns = test_alloc(sizeof(*ns));
	u32 len = (u32)rd(dsdt + 4, 4);
	parse_terms(ns, dsdt + 36, len - 36, "\\");
	return ns;
}

static inline const struct aml_obj *lookup(const struct ns *ns, const char *path)
{
	for (unsigned i = 0; i < ns->n; i++)
		if (!strcmp(ns->o[i].path, path))
			return &ns->o[i];
	return NULL;
}

static inline u64 lookup_int(const struct ns *ns, const char *path)
{
	const struct aml_obj *o = lookup(ns, path);
	u64 v = ~0ULL;
	if (!o)
		test_abort(__FILE__, __LINE__, "no %s", path);
	REQUIRE(aml_int(o->p, &v));
	return v;
}

/* A package's elements; the count must match NumElements and fill the package exactly. */
static inline unsigned pkg_elems(const u8 *p, size_t avail, const u8 **elems, unsigned max)
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
static inline const u8 *buffer_bytes(const u8 *p, size_t avail, size_t *n)
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
static inline unsigned resources(const u8 *b, size_t n, struct rdesc *out, unsigned max)
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

#endif
