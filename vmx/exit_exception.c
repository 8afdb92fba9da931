/* The exception-or-NMI exit: #DB and #AC are intercepted (CVE-2015-5307/8104) and reflected,
 * #PF under shadow paging goes to the shadow, every exception of real mode under shadow
 * paging to realmode_insn.c; host NMIs are ignored. */
#include "exit_exception.h"
#include "paging.h"
#include "realmode_insn.h"
#include "vcpu_state.h"

enum exit_action exit_exception(struct vcpu *v)
{
	u32 info = (u32)vmcs_read(VMCS_EXIT_INTR_INFO);
	u8 vector = info & INTR_INFO_VECTOR_MASK;
	u32 type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if (type == INTR_TYPE_NMI)
		return EXIT_ACT_RESUME; /* a host NMI; nothing of the guest's */
	if (vector == EXC_DB) {
		/* an intercepted #DB does not update DR6: the qualification carries it */
		u64 dr6 = 0xffff0ff0ULL | (v->exit_qual & 0x600f);
		__asm__ volatile("mov %0, %%dr6" ::"r"(dr6));
	}
	bool err = info & INTR_INFO_ERROR_VALID;
	u32 code = err ? (u32)vmcs_read(VMCS_EXIT_INTR_ERROR) : 0;
	if (v->rm.active)
		return rmode_exception(v, vector, type, code);
	if (vector == EXC_PF && v->vm->paging == VM_PAGING_SHADOW)
		return exit_page_fault(v, code);
	if (type == INTR_TYPE_HW_EXCEPTION) {
		vcpu_inject_exception(v, vector, err, code);
	} else {
		/* INT1/INT3/INTO: re-deliver as the same software event */
		vcpu_queue_event(v, intr_info(vector, type, err), code, v->exit_insn_len);
	}
	return EXIT_ACT_RESUME;
}
