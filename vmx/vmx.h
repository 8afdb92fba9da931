/* The VMX layer's interface to the rest of the hypervisor: bring VMX up on this CPU, set
 * up a vCPU's VMCS, and run a vCPU until it must give the CPU back. */
#ifndef KEEL_VMX_H
#define KEEL_VMX_H

#include "caps.h"
#include "../hypervisor/vm.h"

/* Per physical CPU VMX state (one CPU for now). */
struct vmx_cpu {
	struct vmx_caps caps;
	u64 vmxon_pa;
	u64 current_vmcs;
	struct vcpu *fpu_owner; /* whose FPU/XSAVE state the CPU holds */
	struct vcpu *msr_owner; /* whose syscall MSRs the CPU holds */
	bool xsave;
	u64 xcr0_supported;
	u32 pin, proc, proc2, exit, entry;
	u64 cr0_must1, cr0_must0, cr4_must1, cr4_must0;
	u64 cr0_mask, cr4_mask;
	unsigned preempt_rate;
	u8 guest_maxphyaddr; /* what guests see in CPUID 0x80000008 (passed through) */
	bool guest_gbpages;  /* 1 GiB pages, CPUID 0x80000001 EDX[26] (passed through) */
};

extern struct vmx_cpu vmx_cpu;

/* Probes VT-x, prints what the CPU offers, chooses controls and enters VMX root mode.
 * NULL on success, else why Keel cannot run. */
const char *vmx_init(void);

/* The state a vCPU starts in, as a boot protocol hands over to the guest. */
enum boot_mode {
	BOOT_PROTECTED32, /* multiboot: flat 32-bit protected mode, paging off */
	BOOT_LONG64,	  /* Linux 64-bit boot protocol: long mode, identity page tables */
};

struct vcpu_boot {
	enum boot_mode mode;
	u64 rip, rsp;
	u64 gpr[16];  /* initial general registers (RSP's slot unused) */
	u64 cr3;      /* BOOT_LONG64: the loader's page tables */
	u64 gdt_base; /* BOOT_LONG64: the loader's GDT */
	u16 gdt_limit;
	u16 code_sel, data_sel; /* BOOT_LONG64: selectors in that GDT */
};

/* Builds the VMCS of a vCPU that starts in the given state. NULL or an error. */
const char *vmx_vcpu_init(struct vcpu *v, const struct vcpu_boot *boot);
void vmx_vcpu_free(struct vcpu *v);
/* Frees a VM's shadow page tables. */
void paging_free(struct vm *vm);
/* Whether VMs can use EPT on this CPU (EPT with unrestricted guest); else shadow only. */
extern const char *vmx_no_ept_reason;

enum run_result {
	RUN_YIELD, /* time slice over or the vCPU halted: pick again */
	RUN_DONE,  /* the VM exited or was stopped */
};

/* Runs v until its slice ends at host TSC `slice_end`, it halts, or its VM ends. */
enum run_result vmx_run(struct vcpu *v, u64 slice_end);

#endif
