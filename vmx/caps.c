/* Decoding of the VMX capability MSRs into features and the go/no-go check. */
#include "caps.h"
#include "vmx_defs.h"
#include "../hypervisor/lib.h"

u32 vmx_ctl_adjust(u64 cap, u32 want, u32 *missing)
{
	u32 must = (u32)cap, may = (u32)(cap >> 32);
	if (missing)
		*missing = want & ~may;
	return (want | must) & may;
}

bool vmx_ctl_can(u64 cap, u32 bit)
{
	return (u32)(cap >> 32) & bit;
}

bool vmx_has_true_ctls(const struct vmx_caps *c)
{
	return c->basic & BIT(55);
}

u32 vmx_revision(const struct vmx_caps *c)
{
	return (u32)c->basic & 0x7fffffff;
}

unsigned vmx_preempt_rate(const struct vmx_caps *c)
{
	return (unsigned)(c->misc & 0x1f);
}

static bool has2(const struct vmx_caps *c, u32 bit)
{
	return vmx_ctl_can(c->proc, PROC_SECONDARY) && vmx_ctl_can(c->proc2, bit);
}

bool vmx_caps_pml(const struct vmx_caps *c)
{
	return has2(c, PROC2_PML) && (c->ept_vpid & EPTCAP_AD);
}

const char *vmx_caps_check(const struct vmx_caps *c)
{
	if (!c->vmx)
		return "this CPU has no VT-x (CPUID.1:ECX.VMX is clear)";
	if (!c->feature_control_ok)
		return "VT-x is disabled by the firmware (IA32_FEATURE_CONTROL is locked without "
		       "VMX)";
	if (((c->basic >> 50) & 0xf) != 6)
		return "VMCS memory type is not write-back";
	if (c->basic & BIT(48))
		return "VMX addresses are limited to 32 bits";
	if (!vmx_ctl_can(c->proc, PROC_SECONDARY))
		return "no secondary processor-based controls";
	if (!vmx_ctl_can(c->proc, PROC_IO_BITMAPS) || !vmx_ctl_can(c->proc, PROC_MSR_BITMAPS))
		return "no I/O or MSR bitmaps";
	if (!vmx_ctl_can(c->exit, EXIT_ACK_INTR) || !vmx_ctl_can(c->exit, EXIT_HOST_64))
		return "no 64-bit host or interrupt acknowledgement on exit";
	if (!vmx_ctl_can(c->exit, EXIT_SAVE_EFER) || !vmx_ctl_can(c->exit, EXIT_LOAD_EFER) ||
	    !vmx_ctl_can(c->entry, ENTRY_LOAD_EFER))
		return "no EFER save/load on VM entry and exit";
	return NULL;
}

const char *vmx_caps_ept_check(const struct vmx_caps *c)
{
	if (!has2(c, PROC2_EPT))
		return "no EPT";
	if (!(c->ept_vpid & EPTCAP_PWL4) || !(c->ept_vpid & EPTCAP_WB))
		return "EPT lacks 4-level tables or write-back memory type";
	if (!(c->ept_vpid & EPTCAP_INVEPT) ||
	    !(c->ept_vpid & (EPTCAP_INVEPT_SINGLE | EPTCAP_INVEPT_ALL)))
		return "no INVEPT";
	/* EPT alone would still need real-mode emulation for unpaged guests */
	if (!has2(c, PROC2_UNRESTRICTED))
		return "no unrestricted guest";
	return NULL;
}

struct sbuf {
	char *buf;
	size_t size, len;
};

static void add(struct sbuf *s, const char *fmt, ...) __printf(2, 3);
static void add(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (s->len < s->size) {
		int n = kvsnprintf(s->buf + s->len, s->size - s->len, fmt, ap);
		s->len += n > 0 ? (size_t)n : 0;
		if (s->len > s->size)
			s->len = s->size;
	}
	va_end(ap);
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

void vmx_caps_describe(const struct vmx_caps *c, char *buf, size_t size)
{
	struct sbuf s = {buf, size, 0};
	bool ept = has2(c, PROC2_EPT);
	if (size)
		buf[0] = 0;
	add(&s, "vmx: VT-x %s, VMCS revision %u, true controls %s\n", yes_no(c->vmx),
	    vmx_revision(c), yes_no(vmx_has_true_ctls(c)));
	add(&s, "vmx: EPT %s", yes_no(ept));
	if (ept)
		add(&s,
		    " (4-level %s, WB %s, 2M pages %s, 1G pages %s, A/D bits %s, execute-only %s, "
		    "INVEPT single %s all %s)",
		    yes_no(c->ept_vpid & EPTCAP_PWL4), yes_no(c->ept_vpid & EPTCAP_WB),
		    yes_no(c->ept_vpid & EPTCAP_2M), yes_no(c->ept_vpid & EPTCAP_1G),
		    yes_no(c->ept_vpid & EPTCAP_AD), yes_no(c->ept_vpid & EPTCAP_EXEC_ONLY),
		    yes_no(c->ept_vpid & EPTCAP_INVEPT_SINGLE),
		    yes_no(c->ept_vpid & EPTCAP_INVEPT_ALL));
	add(&s, "\n");
	add(&s, "vmx: VPID %s, unrestricted guest %s, preemption timer %s (rate 2^%u), PML %s\n",
	    yes_no(has2(c, PROC2_VPID)), yes_no(has2(c, PROC2_UNRESTRICTED)),
	    yes_no(vmx_ctl_can(c->pin, PIN_PREEMPT_TIMER)), vmx_preempt_rate(c),
	    yes_no(has2(c, PROC2_PML)));
	add(&s,
	    "vmx: APIC virtualization %s, virtual interrupt delivery %s, posted interrupts %s, "
	    "VMCS shadowing %s, XSAVES %s, RDTSCP %s, INVPCID %s\n",
	    yes_no(has2(c, PROC2_VIRT_APIC_ACCESS)), yes_no(has2(c, PROC2_VIRT_INTR_DELIV)),
	    yes_no(vmx_ctl_can(c->pin, PIN_POSTED_INTR)), yes_no(has2(c, PROC2_VMCS_SHADOW)),
	    yes_no(has2(c, PROC2_XSAVES)), yes_no(has2(c, PROC2_RDTSCP)),
	    yes_no(has2(c, PROC2_INVPCID)));
}
