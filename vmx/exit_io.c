/* Port I/O exit: decode the qualification once, hand a plain io_access to the VM's bus. */
#include "vmx_ops.h"
#include "../hypervisor/console.h"

struct io_qual {
	u16 port;
	u8 size;
	bool in, string, rep;
};

static struct io_qual decode(u64 q)
{
	return (struct io_qual){
	    .port = (u16)(q >> 16),
	    .size = (u8)((q & 7) + 1),
	    .in = q & BIT(3),
	    .string = q & BIT(4),
	    .rep = q & BIT(5),
	};
}

enum exit_action exit_io(struct vcpu *v)
{
	struct io_qual q = decode(v->exit_qual);
	struct vm *vm = v->vm;
	if (q.string) {
		/* needs guest linear-address translation: arrives with the instruction emulator */
		vm_stop(vm, "unsupported: string I/O (%s) on port %x at rip %llx",
			q.in ? "INS" : "OUTS", q.port, (unsigned long long)vcpu_reg(v, REG_RIP));
		return EXIT_ACT_DONE;
	}
	struct io_access a = {q.port, q.size, !q.in, 0};
	u32 mask = io_size_mask(q.size);
	if (!q.in)
		a.value = (u32)v->regs.gpr[GPR_RAX] & mask;
	if (!io_bus_access(&vm->io, &a) && vm->io.unclaimed <= 8)
		pr_debug("keel: vm %s: %s of unclaimed port %x\n", vm->name,
			 q.in ? "read" : "write", q.port);
	if (q.in) {
		u64 *rax = &v->regs.gpr[GPR_RAX];
		/* IN AL/AX keeps the rest of RAX; IN EAX zero-extends, like any 32-bit write */
		*rax = q.size == 4 ? (a.value & mask) : (*rax & ~(u64)mask) | (a.value & mask);
	}
	vcpu_skip_insn(v);
	return vm_is_done(vm) ? EXIT_ACT_DONE : EXIT_ACT_RESUME;
}
