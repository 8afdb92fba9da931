/* VMCS fields (generated from vmcs_fields.def) and checked VMREAD/VMWRITE. A failing
 * instruction is reported with the field's name and the VM-instruction error. */
#ifndef KEEL_VMCS_H
#define KEEL_VMCS_H

#include "../hypervisor/types.h"

enum vmcs_field {
#define VMCS_FIELD(name, enc) VMCS_##name = enc,
#include "vmcs_fields.def"
#undef VMCS_FIELD
};

enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };

static inline enum vmcs_width vmcs_field_width(u32 enc)
{
	return (enum vmcs_width)((enc >> 13) & 3);
}

/* Pure table helpers (host-tested). */
const char *vmcs_field_name(u32 enc);
unsigned vmcs_field_count(void);
u32 vmcs_field_at(unsigned i);
/* Does v fit the field's width? (A 64-bit value in a 32-bit field is a hypervisor bug.)
 * Inline: every VMWRITE asks, and the field is nearly always a constant. */
static inline bool vmcs_value_fits(u32 enc, u64 v)
{
	switch (vmcs_field_width(enc)) {
	case VMCS_W16:
		return v <= 0xffff;
	case VMCS_W32:
		return v <= 0xffffffffULL;
	default:
		return true;
	}
}
const char *vmx_instruction_error_name(u32 err);

/* Hardware accessors (vmcs_hw.c). Failures are reported and counted. */
u64 vmcs_read(enum vmcs_field f);
void vmcs_write(enum vmcs_field f, u64 v);
/* Number of VMREAD/VMWRITE failures since the last reset: setup code checks it. */
unsigned vmcs_errors(void);
void vmcs_errors_reset(void);
/* Prints every field of the current VMCS. */
void vmcs_dump(void);

#endif
