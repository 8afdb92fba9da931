/* EPT violations and misconfigurations. The P2M says what the address is: MMIO (the APIC
 * windows) and writes to ROM are emulated against the MMIO bus (emul.c); copy-on-write,
 * dirty logging and swap-in are resolved by p2m_fault; any other access outside guest RAM,
 * or an MMIO access no model answers, ends the VM. */
#include "exit_ept.h"
#include "emul.h"
#include "vcpu_state.h"
#include "../hypervisor/keel.h"

struct ept_qual {
	bool read, write, fetch;
	bool readable, writable, executable; /* what the EPT entry allowed */
	bool gla_valid;
};

static struct ept_qual decode(u64 q)
{
	return (struct ept_qual){q & BIT(0), q & BIT(1), q & BIT(2), q & BIT(3),
				 q & BIT(4), q & BIT(5), q & BIT(7)};
}

static const char *access_name(const struct ept_qual *q)
{
	return q->write ? "write" : q->fetch ? "instruction fetch" : "read";
}

enum exit_action exit_ept_violation(struct vcpu *v)
{
	struct ept_qual q = decode(v->exit_qual);
	u64 gpa = vmcs_read(VMCS_GUEST_PHYS_ADDR);
	u64 mfn;
	const char *what;
	enum p2m_type t = p2m_lookup(&v->vm->p2m, gpa >> PAGE_SHIFT, &mfn);
	/* the device path first: a guest's APIC accesses are most of these exits */
	if (t == P2M_MMIO || (t == P2M_ROM && q.write))
		return emulate_mmio(v, gpa);
	/* dirty logging, copy-on-write, swap-in: the P2M resolves it and the access runs again */
	enum p2m_fault f = p2m_fault(&v->vm->p2m, gpa >> PAGE_SHIFT, q.write);
	if (f == P2M_FAULT_FIXED) {
		v->vm->mem.wait_since = 0;
		return EXIT_ACT_RESUME;
	}
	if (f == P2M_FAULT_WAIT)
		return exit_wait_for_memory(v, gpa);
	t = p2m_lookup(&v->vm->p2m, gpa >> PAGE_SHIFT, &mfn);
	switch (t) {
	case P2M_ROM:
		what = "ROM";
		break;
	case P2M_RAM:
		/* RAM is mapped with full rights: this means the EPT and P2M disagree */
		what = "which the P2M maps as RAM (hypervisor bug)";
		break;
	case P2M_SHARED:
		what = f == P2M_FAULT_NOMEM ? "shared RAM, and no free frame to copy it"
					    : "which the P2M maps as shared RAM (hypervisor bug)";
		break;
	case P2M_BALLOONED:
		what = p2m_type_name(t);
		break;
	case P2M_SWAPPED: /* p2m_fault swaps in; the swap has already said why it could not */
		what = "swapped-out RAM that could not be brought back";
		break;
	default:
		what = "outside guest memory";
		break;
	}
	vm_stop(v->vm, "EPT violation: %s at gpa %llx, %s (rip %llx)", access_name(&q),
		(unsigned long long)gpa, what, (unsigned long long)vcpu_reg(v, REG_RIP));
	return EXIT_ACT_RESUME;
}

enum exit_action exit_wait_for_memory(struct vcpu *v, u64 gpa)
{
	struct vm *vm = v->vm;
	u64 now = time_now();
	if (!vm->mem.wait_since) {
		vm->mem.wait_since = now;
	} else if (now - vm->mem.wait_since > MEM_WAIT_MAX_S * tsc_hz) {
		vm_stop(
		    vm,
		    "out of memory: no free frame for gpa %llx for %u s, and nothing to reclaim "
		    "(sharing, balloon and swap gave none back)",
		    (unsigned long long)gpa, MEM_WAIT_MAX_S);
		return EXIT_ACT_RESUME;
	}
	return EXIT_ACT_YIELD;
}

enum exit_action exit_ept_misconfig(struct vcpu *v)
{
	vm_stop(v->vm, "EPT misconfiguration at gpa %llx (hypervisor bug)",
		(unsigned long long)vmcs_read(VMCS_GUEST_PHYS_ADDR));
	return EXIT_ACT_RESUME;
}
