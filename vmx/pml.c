/* Page-Modification Logging (SDM vol. 3C, "Page-Modification Logging") for the dirty log:
 * the per-vCPU buffer, its VMCS fields, the EPTP's A/D flag and the PML-full exit. What the
 * buffer means for the log (drain, dirty flags) is mm/p2m.c's; this file moves it. */
#include "pml.h"
#include "caps.h"
#include "vmcs.h"
#include "vmx.h"
#include "../hypervisor/lib.h"
#include "../hypervisor/keel.h"

static bool pml_possible(const struct vcpu *v)
{
	return v->vm->paging == VM_PAGING_EPT && !vmx_no_ept_reason && vmx_caps_pml(&vmx_cpu.caps);
}

/* The vCPU's PML buffer, allocated the first time PML is wanted; 0 if out of memory. */
static u64 buffer(struct vcpu *v)
{
	if (!v->pml_pa)
		v->pml_pa = frames_alloc(&machine_frames, FRAME_HV);
	return v->pml_pa;
}

u32 pml_proc2(const struct vcpu *v)
{
	return v->pml_armed ? PROC2_PML : 0;
}

/* Moves the buffer's entries into the log and empties it (the CPU fills it downwards). */
static void drain(struct vcpu *v)
{
	struct vm *vm = v->vm;
	u16 index = (u16)vmcs_read(VMCS_GUEST_PML_INDEX);
	u64 ignored = 0;
	vm->pml_logged += p2m_log_drain_pml(&vm->p2m, phys_to_virt(v->pml_pa), index,
					    vm->mem_bytes >> PAGE_SHIFT, &ignored);
	vm->pml_ignored += ignored;
	vmcs_write(VMCS_GUEST_PML_INDEX, P2M_PML_ENTRIES - 1);
}

void pml_sync(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool want = vm->p2m.log.enabled && pml_possible(v) && buffer(v);
	if (want == v->pml_armed)
		return;
	/* the buffer holds writes the bitmap has not seen yet */
	if (v->pml_armed)
		drain(v);
	p2m_log_use_pml(&vm->p2m, want);
	if (want) {
		vmcs_write(VMCS_PML_ADDR, v->pml_pa);
		vmcs_write(VMCS_GUEST_PML_INDEX, P2M_PML_ENTRIES - 1);
		vm->pml_used = true;
	}
	v->pml_armed = want;
	/* under shadow paging PML is off already (pml_possible) and EPT with it */
	if (vm->paging == VM_PAGING_EPT)
		vmcs_write(VMCS_PROC_CONTROLS2, vmx_cpu.proc2 | pml_proc2(v));
	vmcs_write(VMCS_EPT_POINTER, p2m_eptp(&vm->p2m));
}

const char *pml_log_round(struct vcpu *v, u64 *dirty)
{
	struct vm *vm = v->vm;
	bool starting = !vm->p2m.log.enabled;
	if (v->pml_armed)
		drain(v);
	/* start with dirty flags cleared rather than write access taken */
	if (starting && pml_possible(v) && buffer(v))
		p2m_log_use_pml(&vm->p2m, true);
	const char *err = p2m_log_round(&vm->p2m, vm->mem_bytes >> PAGE_SHIFT, dirty);
	if (starting)
		pml_sync(v);
	return err;
}

enum exit_action exit_pml_full(struct vcpu *v)
{
	if (!v->pml_armed) {
		vm_stop(v->vm, "PML-full exit with PML off (hypervisor bug)");
		return EXIT_ACT_RESUME;
	}
	/* the write that found the buffer full did not happen: it runs again after the drain */
	v->vm->pml_full_exits++;
	drain(v);
	return EXIT_ACT_RESUME;
}

void pml_free(struct vcpu *v)
{
	if (v->pml_pa)
		frames_free(&machine_frames, v->pml_pa, FRAME_HV);
	v->pml_pa = 0;
	v->pml_armed = false;
}
