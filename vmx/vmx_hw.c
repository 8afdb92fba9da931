/* VMX bring-up on this CPU and the checked VMX instructions: VMXON, VMPTRLD, VMCLEAR,
 * VMREAD/VMWRITE (failures name the field and the VM-instruction error), INVEPT/INVVPID. */
#include "vmx.h"
#include "vmx_hw.h"
#include "vmcs.h"
#include "vmx_defs.h"
#include "../hypervisor/console.h"
#include "../hypervisor/cpu_hw.h"
#include "../hypervisor/keel.h"
#include "../hypervisor/lib.h"
#include "../hypervisor/trap.h"

struct vmx_cpu vmx_cpu;
static unsigned vmcs_error_count;
static bool in_dump;

void vmx_caps_read(struct vmx_caps *c)
{
	u32 a, b, cx, d;
	memset(c, 0, sizeof(*c));
	cpuid(1, 0, &a, &b, &cx, &d);
	c->vmx = cx & BIT(5);
	if (!c->vmx)
		return;
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	/* unlocked: we may enable VMX ourselves; locked: it must already allow it */
	c->feature_control_ok = !(fc & 1) || (fc & BIT(2));
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool t = c->basic & BIT(55);
	c->pin = rdmsr(t ? MSR_IA32_VMX_TRUE_PIN : MSR_IA32_VMX_PINBASED);
	c->proc = rdmsr(t ? MSR_IA32_VMX_TRUE_PROC : MSR_IA32_VMX_PROCBASED);
	c->exit = rdmsr(t ? MSR_IA32_VMX_TRUE_EXIT : MSR_IA32_VMX_EXIT);
	c->entry = rdmsr(t ? MSR_IA32_VMX_TRUE_ENTRY : MSR_IA32_VMX_ENTRY);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	if (c->proc & ((u64)PROC_SECONDARY << 32)) {
		c->proc2 = rdmsr(MSR_IA32_VMX_PROCBASED2);
		if (c->proc2 & ((u64)(PROC2_EPT | PROC2_VPID) << 32))
			c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
}

static u32 adjust(const char *what, u64 cap, u32 want, u32 optional)
{
	u32 missing;
	u32 v = vmx_ctl_adjust(cap, want | optional, &missing);
	if (missing & want)
		pr_warn("vmx: %s controls lack wanted bits %x\n", what, missing & want);
	return v;
}

const char *vmx_no_ept_reason;

/* Controls and CR masks chosen once for every VMCS on this CPU. */
static void choose_controls(struct vmx_cpu *c)
{
	const struct vmx_caps *k = &c->caps;
	/* without a preemption timer, slices end on the hypervisor's APIC tick instead */
	c->pin = adjust("pin-based", k->pin, PIN_EXT_INTR_EXIT | PIN_NMI_EXIT, PIN_PREEMPT_TIMER);
	c->proc = adjust("processor-based", k->proc,
			 PROC_HLT_EXIT | PROC_TSC_OFFSET | PROC_MWAIT_EXIT | PROC_MONITOR_EXIT |
			     PROC_RDPMC_EXIT | PROC_CR8_LOAD_EXIT | PROC_CR8_STORE_EXIT |
			     PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY,
			 0);
	/* EPT and unrestricted guest are used only when both work (vmx_no_ept_reason); INVPCID
	 * is not: PCID is hidden from guests so that they can move to shadow paging */
	c->proc2 = adjust("secondary", k->proc2, 0,
			  (vmx_no_ept_reason ? 0 : PROC2_EPT | PROC2_UNRESTRICTED) | PROC2_VPID |
			      PROC2_RDTSCP);
	c->exit =
	    adjust("exit", k->exit, EXIT_HOST_64 | EXIT_ACK_INTR | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
		   EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG);
	c->entry = adjust("entry", k->entry, ENTRY_LOAD_EFER, ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG);
	/* fixed bits: must-be-1 in FIXED0, may-be-1 in FIXED1; unrestricted guests may clear
	 * PE and PG */
	c->cr0_must1 = k->cr0_fixed0 & ~(CR0_PE | CR0_PG);
	c->cr0_must0 = ~k->cr0_fixed1 & 0xffffffffULL;
	c->cr4_must1 = k->cr4_fixed0;
	c->cr4_must0 = ~k->cr4_fixed1 & 0xffffffffULL;
	/* the guest owns every CR0/CR4 bit except the forced ones and what CPUID hides */
	c->cr0_mask = c->cr0_must1 | c->cr0_must0;
	c->cr4_mask = c->cr4_must1 | c->cr4_must0 | CR4_VMXE | CR4_SMXE;
	c->preempt_rate = vmx_preempt_rate(k);
}

static void setup_xsave(struct vmx_cpu *c)
{
	u32 a, b, cx, d;
	cpuid(1, 0, &a, &b, &cx, &d);
	u64 cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	c->xsave = cx & BIT(26);
	if (c->xsave) {
		write_cr4(cr4 | CR4_OSXSAVE);
		cpuid(0xd, 0, &a, &b, &cx, &d);
		c->xcr0_supported = ((u64)d << 32) | a;
		if (cx > PAGE_SIZE) {
			pr_warn("vmx: XSAVE area of %u bytes is over a page; using FXSAVE\n", cx);
			c->xsave = false;
		}
	} else {
		write_cr4(cr4);
	}
}

const char *vmx_init(void)
{
	struct vmx_cpu *c = &vmx_cpu;
	char buf[1024];
	vmx_caps_read(&c->caps);
	vmx_caps_describe(&c->caps, buf, sizeof(buf));
	kprintf("%s", buf);
	const char *why = vmx_caps_check(&c->caps);
	if (why)
		return why;
	u32 a, b, cx, d;
	cpuid(0x80000008, 0, &a, &b, &cx, &d);
	c->guest_maxphyaddr = (u8)(a & 0xff);
	cpuid(0x80000001, 0, &a, &b, &cx, &d);
	c->guest_gbpages = d & BIT(26);
	vmx_no_ept_reason = vmx_caps_ept_check(&c->caps);
	if (vmx_no_ept_reason)
		kprintf("vmx: EPT not usable (%s): every VM runs on shadow paging\n",
			vmx_no_ept_reason);
	choose_controls(c);
	setup_xsave(c);

	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & 1))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | 1 | BIT(2));
	write_cr0((read_cr0() | c->caps.cr0_fixed0) & c->caps.cr0_fixed1);
	write_cr4((read_cr4() | c->caps.cr4_fixed0 | CR4_VMXE) & c->caps.cr4_fixed1);

	c->vmxon_pa = frames_alloc(&machine_frames, FRAME_HV);
	if (!c->vmxon_pa)
		return "out of memory for the VMXON region";
	*(u32 *)phys_to_virt(c->vmxon_pa) = vmx_revision(&c->caps);
	u8 fail;
	__asm__ volatile("vmxon %1; setna %0" : "=qm"(fail) : "m"(c->vmxon_pa) : "cc", "memory");
	if (fail)
		return "VMXON failed";
	panic_set_hook(vmcs_dump);
	kprintf("vmx: VMX root mode entered (VMCS revision %u)\n", vmx_revision(&c->caps));
	return NULL;
}

static u64 vmread_raw(u32 f, bool *ok)
{
	u64 v = 0;
	u8 fail;
	__asm__ volatile("vmread %2, %0; setna %1" : "=r"(v), "=qm"(fail) : "r"((u64)f) : "cc");
	*ok = !fail;
	return v;
}

static void report(const char *insn, u32 f)
{
	bool ok;
	u32 err = (u32)vmread_raw(VMCS_VM_INSTRUCTION_ERROR, &ok);
	vmcs_error_count++;
	if (in_dump)
		return;
	if (ok)
		pr_err("vmx: %s %s (0x%04x) failed: VM-instruction error %u (%s)\n", insn,
		       vmcs_field_name(f), f, err, vmx_instruction_error_name(err));
	else
		pr_err("vmx: %s %s (0x%04x) failed: no current VMCS\n", insn, vmcs_field_name(f),
		       f);
}

u64 vmcs_read(enum vmcs_field f)
{
	bool ok;
	u64 v = vmread_raw(f, &ok);
	if (!ok)
		report("VMREAD", f);
	return v;
}

void vmcs_write(enum vmcs_field f, u64 v)
{
	u8 fail;
	if (!vmcs_value_fits(f, v)) {
		vmcs_error_count++;
		pr_err("vmx: VMWRITE %s: value %llx is wider than the field\n", vmcs_field_name(f),
		       (unsigned long long)v);
		return;
	}
	__asm__ volatile("vmwrite %1, %2; setna %0"
			 : "=qm"(fail)
			 : "r"(v), "r"((u64)f)
			 : "cc", "memory");
	if (fail)
		report("VMWRITE", f);
}

unsigned vmcs_errors(void)
{
	return vmcs_error_count;
}

void vmcs_errors_reset(void)
{
	vmcs_error_count = 0;
}

void vmcs_dump(void)
{
	if (!vmx_cpu.current_vmcs) {
		kprintf("vmx: no current VMCS to dump\n");
		return;
	}
	in_dump = true;
	kprintf("vmx: VMCS dump (%llx):\n", (unsigned long long)vmx_cpu.current_vmcs);
	for (unsigned i = 0; i < vmcs_field_count(); i++) {
		u32 f = vmcs_field_at(i);
		bool ok;
		u64 v = vmread_raw(f, &ok);
		if (ok)
			kprintf("  %-24s %016llx\n", vmcs_field_name(f), (unsigned long long)v);
	}
	in_dump = false;
}

bool vmx_vmptrld(u64 pa)
{
	u8 fail;
	if (vmx_cpu.current_vmcs == pa)
		return true;
	__asm__ volatile("vmptrld %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	if (fail) {
		pr_err("vmx: VMPTRLD %llx failed\n", (unsigned long long)pa);
		return false;
	}
	vmx_cpu.current_vmcs = pa;
	return true;
}

bool vmx_vmclear(u64 pa)
{
	u8 fail;
	__asm__ volatile("vmclear %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	if (vmx_cpu.current_vmcs == pa)
		vmx_cpu.current_vmcs = 0;
	return !fail;
}

void vmx_invept_context(u64 eptp)
{
	struct {
		u64 eptp, zero;
	} desc = {eptp, 0};
	u64 type = (vmx_cpu.caps.ept_vpid & EPTCAP_INVEPT_SINGLE) ? 1 : 2;
	u8 fail;
	__asm__ volatile("invept %1, %2; setna %0"
			 : "=qm"(fail)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	if (fail)
		panic("INVEPT type %llu failed", (unsigned long long)type);
}

/* INVVPID of the given type; a CPU without INVVPID (or without VPID in use) needs none:
 * every entry and exit then flushes the guest's translations anyway. */
static void invvpid(u64 type, u16 vpid, u64 addr)
{
	struct {
		u64 vpid, addr;
	} desc = {vpid, addr};
	u8 fail;
	if (!(vmx_cpu.caps.ept_vpid & VPIDCAP_INVVPID) || !(vmx_cpu.proc2 & PROC2_VPID))
		return;
	__asm__ volatile("invvpid %1, %2; setna %0"
			 : "=qm"(fail)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	if (fail)
		pr_warn("vmx: INVVPID type %llu failed\n", (unsigned long long)type);
}

void vmx_invvpid_addr(u16 vpid, u64 addr)
{
	u64 caps = vmx_cpu.caps.ept_vpid;
	invvpid((caps & VPIDCAP_ADDR) ? 0 : (caps & VPIDCAP_SINGLE) ? 1 : 2, vpid, addr);
}

void vmx_invvpid_context(u16 vpid)
{
	invvpid((vmx_cpu.caps.ept_vpid & VPIDCAP_SINGLE) ? 1 : 2, vpid, 0);
}
