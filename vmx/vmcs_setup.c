/* Builds a vCPU's VMCS: controls chosen at vmx_init, host state of this CPU, and a guest
 * in the multiboot handoff state (flat 32-bit protected mode, paging off). Failures of
 * individual VMWRITEs are collected and turn into one error. */
#include "vmx.h"
#include "entry.h"
#include "paging.h"
#include "pml.h"
#include "vcpu_state.h"
#include "vmx_hw.h"
#include "../hypervisor/console.h"
#include "../hypervisor/cpu_hw.h"
#include "../hypervisor/keel.h"
#include "../hypervisor/lib.h"
#include "../hypervisor/trap.h"

/* Syscall-related MSRs the guest reaches directly: the CPU holds the guest's values while
 * it runs, vmx_switch_guest_state() swaps them between vCPUs. */
static const u32 passthrough_msrs[] = {
    MSR_FS_BASE,
    MSR_GS_BASE,
    MSR_KERNEL_GS_BASE,
    MSR_STAR,
    MSR_LSTAR,
    MSR_CSTAR,
    MSR_SFMASK,
    MSR_IA32_SYSENTER_CS,
    MSR_IA32_SYSENTER_ESP,
    MSR_IA32_SYSENTER_EIP,
};

/* TSC_AUX (what RDTSCP returns in ECX) too, when RDTSCP is enabled. */
static void msr_bitmap_allow(u8 *bm, u32 msr)
{
	unsigned base;
	if (msr <= 0x1fff)
		base = 0;
	else if (msr >= 0xc0000000 && msr <= 0xc0001fff)
		base = 1024, msr -= 0xc0000000;
	else
		return;
	bm[base + msr / 8] &= (u8) ~(1u << (msr % 8));	      /* reads */
	bm[2048 + base + msr / 8] &= (u8) ~(1u << (msr % 8)); /* writes */
}

static u64 tss_base(void)
{
	struct desc_ptr g;
	sgdt(&g);
	const u64 *gdt = (const u64 *)(uintptr_t)g.base;
	u64 lo = gdt[GDT_TSS / 8], hi = gdt[GDT_TSS / 8 + 1];
	return ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | (hi << 32);
}

static void setup_host_state(void)
{
	struct desc_ptr g, i;
	sgdt(&g);
	sidt(&i);
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SEL, GDT_CODE);
	vmcs_write(VMCS_HOST_SS_SEL, GDT_DATA);
	vmcs_write(VMCS_HOST_DS_SEL, GDT_DATA);
	vmcs_write(VMCS_HOST_ES_SEL, GDT_DATA);
	vmcs_write(VMCS_HOST_FS_SEL, 0);
	vmcs_write(VMCS_HOST_GS_SEL, 0);
	vmcs_write(VMCS_HOST_TR_SEL, GDT_TSS);
	vmcs_write(VMCS_HOST_FS_BASE, 0);
	vmcs_write(VMCS_HOST_GS_BASE, 0);
	vmcs_write(VMCS_HOST_TR_BASE, tss_base());
	vmcs_write(VMCS_HOST_GDTR_BASE, g.base);
	vmcs_write(VMCS_HOST_IDTR_BASE, i.base);
	vmcs_write(VMCS_HOST_SYSENTER_CS, 0);
	vmcs_write(VMCS_HOST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_HOST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
	if (vmx_cpu.exit & EXIT_LOAD_PAT)
		vmcs_write(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(VMCS_HOST_RIP, (u64)(uintptr_t)vmx_exit_stub);
}

static void set_segment(enum vmcs_field sel, u16 s, u64 base, u32 limit, u32 ar)
{
	/* selector, limit, AR and base fields of one segment are 2 apart in each group */
	vmcs_write(sel, s);
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_LIMIT + (sel - VMCS_GUEST_ES_SEL)), limit);
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_AR + (sel - VMCS_GUEST_ES_SEL)), ar);
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_BASE + (sel - VMCS_GUEST_ES_SEL)), base);
}

static void setup_guest_state(struct vcpu *v, const struct vcpu_boot *b)
{
	const struct vmx_cpu *c = &vmx_cpu;
	bool lm = b->mode == BOOT_LONG64;
	u64 cr0 = CR0_PE | CR0_ET | (lm ? CR0_PG : 0);
	u64 cr4 = lm ? CR4_PAE : 0;
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, c->cr0_mask);
	vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_write(VMCS_GUEST_CR0, (cr0 | c->cr0_must1) & ~c->cr0_must0);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, c->cr4_mask);
	vmcs_write(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_write(VMCS_GUEST_CR4, (cr4 | c->cr4_must1) & ~c->cr4_must0);
	vmcs_write(VMCS_GUEST_CR3, lm ? b->cr3 : 0);
	vmcs_write(VMCS_GUEST_DR7, 0x400);

	/* flat segments; in long mode CS is a 64-bit code segment (L=1, D=0) */
	u16 cs = lm ? b->code_sel : 0x08, ds = lm ? b->data_sel : 0x10;
	set_segment(VMCS_GUEST_CS_SEL, cs, 0, 0xffffffff, lm ? 0xa09b : 0xc09b);
	set_segment(VMCS_GUEST_SS_SEL, ds, 0, 0xffffffff, 0xc093);
	set_segment(VMCS_GUEST_DS_SEL, ds, 0, 0xffffffff, 0xc093);
	set_segment(VMCS_GUEST_ES_SEL, ds, 0, 0xffffffff, 0xc093);
	set_segment(VMCS_GUEST_FS_SEL, ds, 0, 0xffffffff, 0xc093);
	set_segment(VMCS_GUEST_GS_SEL, ds, 0, 0xffffffff, 0xc093);
	set_segment(VMCS_GUEST_LDTR_SEL, 0, 0, 0, 0x10000); /* unusable */
	set_segment(VMCS_GUEST_TR_SEL, 0, 0, 0x67, 0x8b);   /* busy TSS (type 11: valid in both) */
	vmcs_write(VMCS_GUEST_GDTR_BASE, lm ? b->gdt_base : 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, lm ? b->gdt_limit : 0);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);

	vmcs_write(VMCS_GUEST_RIP, b->rip);
	vmcs_write(VMCS_GUEST_RSP, b->rsp);
	vmcs_write(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmcs_write(VMCS_GUEST_EFER, lm ? EFER_LME | EFER_LMA : 0);
	if (lm)
		vmcs_write(VMCS_ENTRY_CONTROLS, c->entry | ENTRY_IA32E_GUEST);
	if (c->entry & ENTRY_LOAD_PAT)
		vmcs_write(VMCS_GUEST_PAT, 0x0007040600070406ULL); /* power-on default */
	vmcs_write(VMCS_GUEST_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	vmcs_write(VMCS_VMCS_LINK_PTR, ~0ULL);

	memset(&v->regs, 0, sizeof(v->regs));
	for (unsigned r = 0; r < 16; r++)
		if (r != GPR_RSP)
			v->regs.gpr[r] = b->gpr[r];
}

const char *vmx_vcpu_init(struct vcpu *v, const struct vcpu_boot *boot)
{
	const struct vmx_cpu *c = &vmx_cpu;
	struct vm *vm = v->vm;

	if (!vm->io_bitmap) {
		u64 a = frames_alloc(&machine_frames, FRAME_HV);
		u64 b = frames_alloc(&machine_frames, FRAME_HV);
		u64 m = frames_alloc(&machine_frames, FRAME_HV);
		if (!a || !b || !m)
			return "out of memory for I/O and MSR bitmaps";
		/* the two I/O bitmap pages need not be adjacent: the VMCS has one pointer each */
		memset(phys_to_virt(a), 0xff, PAGE_SIZE);
		memset(phys_to_virt(b), 0xff, PAGE_SIZE);
		memset(phys_to_virt(m), 0xff, PAGE_SIZE);
		vm->io_bitmap = phys_to_virt(a);
		vm->msr_bitmap = phys_to_virt(m);
		for (unsigned i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
			msr_bitmap_allow(vm->msr_bitmap, passthrough_msrs[i]);
		if (c->proc2 & PROC2_RDTSCP)
			msr_bitmap_allow(vm->msr_bitmap, MSR_TSC_AUX);
		vm->io_bitmap_b = b;
	}

	v->vmcs_pa = frames_alloc(&machine_frames, FRAME_HV);
	u64 fpu = frames_alloc(&machine_frames, FRAME_HV);
	if (!v->vmcs_pa || !fpu)
		return "out of memory for the VMCS";
	v->fpu_area = phys_to_virt(fpu);
	/* initial x87/SSE control words as after FNINIT and reset; XSTATE_BV 0 = init */
	*(u16 *)(v->fpu_area + 0) = 0x37f;
	*(u32 *)(v->fpu_area + 24) = 0x1f80;
	v->xcr0 = 1;
	v->misc_enable = 1; /* fast strings */
	v->pending_irq = -1;
	*(u32 *)phys_to_virt(v->vmcs_pa) = vmx_revision(&c->caps);
	if (!vmx_vmclear(v->vmcs_pa) || !vmx_vmptrld(v->vmcs_pa))
		return "VMCLEAR/VMPTRLD of a new VMCS failed";
	v->launched = false;

	vmcs_errors_reset();
	vmcs_write(VMCS_PIN_CONTROLS, c->pin);
	vmcs_write(VMCS_PROC_CONTROLS, c->proc);
	vmcs_write(VMCS_PROC_CONTROLS2, c->proc2);
	vmcs_write(VMCS_EXIT_CONTROLS, c->exit);
	vmcs_write(VMCS_ENTRY_CONTROLS, c->entry);
	/* #DB and #AC are intercepted so a guest cannot wedge the CPU in an endless chain of
	 * them (CVE-2015-5307, CVE-2015-8104); the handler reflects them back */
	vmcs_write(VMCS_EXCEPTION_BITMAP, BIT(EXC_DB) | BIT(EXC_AC));
	vmcs_write(VMCS_PF_ERROR_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_IO_BITMAP_A, virt_to_phys(vm->io_bitmap));
	vmcs_write(VMCS_IO_BITMAP_B, vm->io_bitmap_b);
	vmcs_write(VMCS_MSR_BITMAP, virt_to_phys(vm->msr_bitmap));
	vmcs_write(VMCS_TSC_OFFSET, vm->tsc_offset);
	vmcs_write(VMCS_EPT_POINTER, p2m_eptp(&vm->p2m));
	if (c->proc2 & PROC2_VPID)
		vmcs_write(VMCS_VPID, vm->vpid);
	setup_host_state();
	setup_guest_state(v, boot);
	vcpu_invalidate_regs(v);
	if (vmcs_errors())
		return "VMCS setup failed (see the VMWRITE errors above)";
	const char *err = paging_init_vcpu(v);
	if (!err && vmcs_errors())
		err = "VMCS setup failed (see the VMWRITE errors above)";
	return err;
}

void vmx_vcpu_free(struct vcpu *v)
{
	if (v->vmcs_pa) {
		vmx_vmclear(v->vmcs_pa);
		frames_free(&machine_frames, v->vmcs_pa, FRAME_HV);
		v->vmcs_pa = 0;
	}
	if (v->fpu_area) {
		if (vmx_cpu.fpu_owner == v)
			vmx_cpu.fpu_owner = NULL;
		frames_free(&machine_frames, virt_to_phys(v->fpu_area), FRAME_HV);
		v->fpu_area = NULL;
	}
	if (vmx_cpu.msr_owner == v)
		vmx_cpu.msr_owner = NULL;
	pml_free(v);
}
