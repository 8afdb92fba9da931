/* Pure side of the VMCS field table: names, widths and VM-instruction error strings. */
#include "vmcs.h"

static const struct {
	u32 enc;
	const char *name;
} fields[] = {
#define VMCS_FIELD(name, enc) {enc, #name},
#include "vmcs_fields.def"
#undef VMCS_FIELD
};

const char *vmcs_field_name(u32 enc)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].enc == enc)
			return fields[i].name;
	return "UNKNOWN_FIELD";
}

unsigned vmcs_field_count(void)
{
	return ARRAY_SIZE(fields);
}

u32 vmcs_field_at(unsigned i)
{
	return i < ARRAY_SIZE(fields) ? fields[i].enc : 0;
}

/* Intel SDM vol. 3C, "VM-Instruction Error Numbers". */
static const char *const insn_errors[] = {
    [1] = "VMCALL executed in VMX root operation",
    [2] = "VMCLEAR with invalid physical address",
    [3] = "VMCLEAR with VMXON pointer",
    [4] = "VMLAUNCH with non-clear VMCS",
    [5] = "VMRESUME with non-launched VMCS",
    [6] = "VMRESUME after VMXOFF",
    [7] = "VM entry with invalid control field(s)",
    [8] = "VM entry with invalid host-state field(s)",
    [9] = "VMPTRLD with invalid physical address",
    [10] = "VMPTRLD with VMXON pointer",
    [11] = "VMPTRLD with incorrect VMCS revision identifier",
    [12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
    [13] = "VMWRITE to read-only VMCS component",
    [15] = "VMXON executed in VMX root operation",
    [16] = "VM entry with invalid executive-VMCS pointer",
    [17] = "VM entry with non-launched executive VMCS",
    [18] = "VM entry with executive-VMCS pointer not VMXON pointer",
    [19] = "VMCALL with non-clear VMCS",
    [20] = "VMCALL with invalid VM-exit control fields",
    [22] = "VMCALL with incorrect MSEG revision identifier",
    [23] = "VMXOFF under dual-monitor treatment",
    [24] = "VMCALL with invalid SMM-monitor features",
    [25] = "VM entry with invalid VM-execution control fields in executive VMCS",
    [26] = "VM entry with events blocked by MOV SS",
    [28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(u32 err)
{
	if (err < ARRAY_SIZE(insn_errors) && insn_errors[err])
		return insn_errors[err];
	return "unknown VM-instruction error";
}
