/* AML for ACPI definition blocks: emitters for names, integers, strings, packages, scopes,
 * devices and buffers that insert each PkgLength once its body is known, and resource
 * templates (the bytes of a _CRS buffer). The DSDT's device nodes are built from these. */
#ifndef KEEL_AML_H
#define KEEL_AML_H

#include "../hypervisor/types.h"

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

#define RES_MAX 128

struct res {
	u8 b[RES_MAX];
	size_t n;
	bool overflow;
};

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

/* Raw bytes. */
void aml_byte(struct aml *a, u8 b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* Writes the PkgLength of a body of `body` bytes (the length counts its own 1-4 bytes) and
 * returns its size; 0 when the body is too long for AML (2^28 bytes or more). */
unsigned acpi_aml_pkglen(u8 out[4], size_t body);
/* Where a PkgLength-prefixed body starts; aml_close() inserts its PkgLength there. */
size_t aml_open(struct aml *a);
void aml_close(struct aml *a, size_t start);

/* A name: an optional root prefix and one 4-character segment ("\\_SB_", "PCI0"). */
void aml_name_string(struct aml *a, const char *name);
/* The shortest encoding of an integer (Zero, One, Byte/Word/DWord/QWordConst). */
void aml_integer(struct aml *a, u64 v);
void aml_string(struct aml *a, const char *s);
/* The DWordConst value of EisaId("PNP0A03"): 3 letters A-Z and 4 uppercase hex digits; 0 for
 * a malformed id. */
u32 acpi_eisa_id(const char *id);
void aml_eisa_id(struct aml *a, const char *id);
/* Name(seg, ...): the value follows. */
void aml_name(struct aml *a, const char *name);
/* Scope(name) { ... } and Device(name) { ... }: close with aml_close(). */
size_t aml_scope(struct aml *a, const char *name);
size_t aml_device(struct aml *a, const char *name);
/* Package(n) { ... }: n elements follow; close with aml_close(). */
size_t aml_package(struct aml *a, u8 n);
/* Buffer() { bytes }. */
void aml_buffer(struct aml *a, const u8 *bytes, size_t n);

/* Resource descriptors appended to a template; overflow marks it broken. */
void res_put(struct res *r, const void *p, size_t n);
/* WordBusNumber / WordIO window of a host bridge: [min, max]. */
void res_word_window(struct res *r, u8 type, u8 type_flags, u16 min, u16 max);
/* DWordMemory window, read-write, non-cacheable: [min, max]. */
void res_dword_memory(struct res *r, u32 min, u32 max);
/* IO(Decode16, port, port, 1, len): a fixed range of ports. */
void res_io(struct res *r, u16 port, u8 len);
/* IRQNoFlags() { irq }. */
void res_irq(struct res *r, unsigned irq);
/* Name(_CRS, ResourceTemplate() { ... }) with the end tag (checksum 0: "treat as valid"). */
void aml_crs(struct aml *a, struct res *r, bool *broken);

#endif
