/* The AML emitters and resource templates of aml.h. Past the buffer's end they only count,
 * so a caller learns the size it needs; nothing is ever written out of bounds. */
#include "aml.h"
#include "../hypervisor/lib.h"

void aml_byte(struct aml *a, u8 b)
{
	if (!a->overflow && a->len < a->cap)
		a->buf[a->len] = b;
	else
		a->overflow = true;
	a->len++;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
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
size_t aml_open(struct aml *a)
{
	return a->len;
}

/* Inserts the PkgLength in front of everything emitted since start. (The DSDT stays far
 * below AML's 256 MiB limit: the blob is at most 4 GiB and in practice a few KiB.) */
void aml_close(struct aml *a, size_t start)
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
void aml_name_string(struct aml *a, const char *name)
{
	if (*name == AML_ROOT)
		aml_byte(a, (u8)*name++);
	aml_bytes(a, name, 4);
}

void aml_integer(struct aml *a, u64 v)
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

void aml_string(struct aml *a, const char *s)
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

void aml_eisa_id(struct aml *a, const char *id)
{
	u32 v = acpi_eisa_id(id);
	aml_byte(a, AML_DWORD);
	aml_bytes(a, &v, 4);
}

/* Name(seg, ...): the value follows. */
void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME);
	aml_name_string(a, name);
}

/* Scope(name) { ... } and Device(name) { ... }: close with aml_close(). */
size_t aml_scope(struct aml *a, const char *name)
{
	aml_byte(a, AML_SCOPE);
	size_t start = aml_open(a);
	aml_name_string(a, name);
	return start;
}

size_t aml_device(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_EXT_DEVICE);
	size_t start = aml_open(a);
	aml_name_string(a, name);
	return start;
}

/* Package(n) { ... }: n elements follow; close with aml_close(). */
size_t aml_package(struct aml *a, u8 n)
{
	aml_byte(a, AML_PACKAGE);
	size_t start = aml_open(a);
	aml_byte(a, n);
	return start;
}

void aml_buffer(struct aml *a, const u8 *bytes, size_t n)
{
	aml_byte(a, AML_BUFFER);
	size_t start = aml_open(a);
	aml_integer(a, n);
	aml_bytes(a, bytes, n);
	aml_close(a, start);
}

/* ---- resource templates (the bytes of a _CRS buffer) ---- */

void res_put(struct res *r, const void *p, size_t n)
{
	if (n > RES_MAX - r->n) {
		r->overflow = true;
		return;
	}
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

void res_word_window(struct res *r, u8 type, u8 type_flags, u16 min, u16 max)
{
	u8 d[16] = {RES_WORD_ADDRESS, 13, 0, type, RES_WINDOW, type_flags};
	u16 len = (u16)(max - min + 1);
	memcpy(d + 8, &min, 2);
	memcpy(d + 10, &max, 2);
	memcpy(d + 14, &len, 2);
	res_put(r, d, sizeof(d));
}

void res_dword_memory(struct res *r, u32 min, u32 max)
{
	u8 d[26] = {RES_DWORD_ADDRESS, 23, 0, RES_TYPE_MEMORY, RES_WINDOW, RES_MEM_RW};
	u32 len = max - min + 1;
	memcpy(d + 10, &min, 4);
	memcpy(d + 14, &max, 4);
	memcpy(d + 22, &len, 4);
	res_put(r, d, sizeof(d));
}

/* IO(Decode16, port, port, 1, len): a fixed range of ports. */
void res_io(struct res *r, u16 port, u8 len)
{
	u8 d[8] = {RES_IO, 1, (u8)port, (u8)(port >> 8), (u8)port, (u8)(port >> 8), 1, len};
	res_put(r, d, sizeof(d));
}

void res_irq(struct res *r, unsigned irq)
{
	u16 mask = (u16)(1u << irq);
	u8 d[3] = {RES_IRQ_NOFLAGS, (u8)mask, (u8)(mask >> 8)};
	res_put(r, d, sizeof(d));
}

/* Name(_CRS, ResourceTemplate() { ... }) with the end tag (checksum 0: "treat as valid"). */
void aml_crs(struct aml *a, struct res *r, bool *broken)
{
	static const u8 end[2] = {RES_END, 0};
	res_put(r, end, sizeof(end));
	if (r->overflow)
		*broken = true;
	aml_name(a, "_CRS");
	aml_buffer(a, r->b, r->n);
}
