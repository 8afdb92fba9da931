/* Carrying out the instructions real mode allows and virtual-8086 mode refuses (the #GP
 * they raise under shadow paging), and the other exceptions of real mode, which go to the
 * guest through its IVT. */
#include "realmode_insn.h"
#include "cr_ops.h"
#include "emul.h"
#include "exit_misc.h"
#include "exit_msr.h"
#include "guest_access.h"
#include "paging.h"
#include "realmode.h"
#include "vcpu_state.h"
#include "../hypervisor/emulate.h"

static void queue_event(struct vcpu *v, u8 vector, u32 type, u32 insn_len)
{
	vcpu_queue_event(v, intr_info(vector, type, false), 0, insn_len);
}

/* A memory operand of the decoded instruction: size bytes at its segment and offset, with
 * real mode's 64 KiB segment limit (#GP, or #SS through SS). */
static bool read_operand(struct vcpu *v, struct emu_ctxt *c, void *buf, unsigned size)
{
	const struct emu_insn *in = &c->insn;
	u64 off = emu_effective_address(c);
	if (off + size - 1 > 0xffff) {
		vcpu_inject_exception(v, in->seg == EMU_SEG_SS ? EXC_SS : EXC_GP, false, 0);
		return false;
	}
	u64 base = vcpu_seg_base(v, in->seg);
	if (!rmode_mem_read(v, base + off, buf, size)) {
		vm_stop(v->vm, "real mode: operand at %llx is not guest RAM (rip %llx)",
			(unsigned long long)(base + off), (unsigned long long)vcpu_reg(v, REG_RIP));
		return false;
	}
	return true;
}

static u64 read_dr(unsigned n)
{
	u64 val = 0;
	switch (n) {
	case 0:
		__asm__ volatile("mov %%dr0, %0" : "=r"(val));
		break;
	case 1:
		__asm__ volatile("mov %%dr1, %0" : "=r"(val));
		break;
	case 2:
		__asm__ volatile("mov %%dr2, %0" : "=r"(val));
		break;
	case 3:
		__asm__ volatile("mov %%dr3, %0" : "=r"(val));
		break;
	case 6:
		__asm__ volatile("mov %%dr6, %0" : "=r"(val));
		break;
	default:
		val = vmcs_read(VMCS_GUEST_DR7);
		break;
	}
	return val;
}

static void write_dr(unsigned n, u64 val)
{
	switch (n) {
	case 0:
		__asm__ volatile("mov %0, %%dr0" ::"r"(val));
		break;
	case 1:
		__asm__ volatile("mov %0, %%dr1" ::"r"(val));
		break;
	case 2:
		__asm__ volatile("mov %0, %%dr2" ::"r"(val));
		break;
	case 3:
		__asm__ volatile("mov %0, %%dr3" ::"r"(val));
		break;
	case 6:
		val = (val & 0x1e00fULL) | 0xffff0ff0ULL; /* B0-B3, BD, BS, BT, RTM */
		__asm__ volatile("mov %0, %%dr6" ::"r"(val));
		break;
	default:
		/* bits 11, 12, 14 and 15 read as 0, bit 10 as 1 */
		vmcs_write(VMCS_GUEST_DR7, (val & 0xffff27ffULL) | 0x400);
		break;
	}
}

/* MOV to or from DRn (the guest owns the debug registers: Keel does not intercept them). */
static bool mov_dr(struct vcpu *v, const struct emu_insn *in, bool to)
{
	unsigned n = in->reg & 7;
	if (n == 4 || n == 5) {
		if (vcpu_cr4(v) & CR4_DE)
			return false; /* #UD */
		n += 2;
	}
	if (to)
		write_dr(n, vcpu_gpr(v, in->rm, 4));
	else
		vcpu_set_gpr(v, in->rm, read_dr(n), 4);
	return true;
}

/* A MOV CR, CLTS or LMSW goes through the same checks as its exit in protected mode. */
static enum exit_action via_cr_ops(struct vcpu *v, unsigned cr, enum cr_op op, unsigned gpr,
				   u16 src)
{
	return cr_access(v, &(struct cr_access){cr, op, gpr, src});
}

/* The #GP of an instruction vm86 refuses: carry it out as real mode would. false: the
 * #GP is the guest's own (a segment limit, a bad encoding): deliver it. */
static bool emulate_sensitive(struct vcpu *v, enum exit_action *act)
{
	struct vm *vm = v->vm;
	u8 bytes[EMU_MAX_INSN_LEN];
	size_t n = vcpu_fetch_insn(v, bytes, sizeof(bytes));
	struct emu_regs regs; /* for the operand's effective address */
	vcpu_emu_regs(v, &regs);
	struct emu_ctxt c = {.mode = EMU_MODE_16, .regs = &regs};
	enum emu_result r = n ? emu_decode(&c, bytes, (unsigned)n) : EMU_UNHANDLED;
	*act = EXIT_ACT_RESUME;
	if (r == EMU_EXCEPTION) { /* LOCK where it may not be, or too long: #UD, #GP */
		vcpu_inject_exception(v, c.exc.vector, false, 0);
		return true;
	}
	if (r != EMU_OK || c.insn.op != EMU_OP_SYS)
		return false;
	const struct emu_insn *in = &c.insn;
	struct v86_mem m = {rmode_mem_read, rmode_mem_write, v};
	struct v86_cpu s;
	rmode_cpu_load(v, &s);
	v->exit_insn_len = in->len;
	vm->rmode_stats.emulated++;

	switch ((enum emu_sys)in->sub) {
	case EMU_SYS_HLT:
		*act = exit_hlt(v);
		return true;
	case EMU_SYS_CLI:
		vcpu_skip_insn(v);
		vcpu_set_reg(v, REG_RFLAGS, vcpu_reg(v, REG_RFLAGS) & ~(u64)RFLAGS_IF);
		return true;
	case EMU_SYS_STI: {
		bool was = s.flags & V86_FLAG_IF;
		vcpu_skip_insn(v);
		vcpu_set_reg(v, REG_RFLAGS, vcpu_reg(v, REG_RFLAGS) | RFLAGS_IF);
		if (!was) /* the instruction after STI runs before any interrupt */
			vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
				   vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_STI);
		return true;
	}
	case EMU_SYS_PUSHF: {
		u64 img =
		    s.flags & (in->op_size == 2 ? 0xffffULL : ~(u64)(V86_FLAG_VM | V86_FLAG_RF));
		if (v86_push(&s, &m, img, in->op_size) != V86_OK) {
			rmode_stop_not_ram(v, "PUSHF", &s);
			return true;
		}
		vcpu_set_reg(v, REG_RSP, s.sp);
		vcpu_skip_insn(v);
		return true;
	}
	case EMU_SYS_POPF: {
		u64 val;
		if (v86_pop(&s, &m, &val, in->op_size) != V86_OK) {
			rmode_stop_not_ram(v, "POPF", &s);
			return true;
		}
		vcpu_skip_insn(v); /* single-step: TF as it was before the POPF counts */
		s.flags = v86_popf_flags(s.flags, val, in->op_size);
		v->rm.hidden = s.flags & V86_HIDDEN_FLAGS;
		vcpu_set_reg(v, REG_RFLAGS, v86_hw_flags(s.flags));
		vcpu_set_reg(v, REG_RSP, s.sp);
		return true;
	}
	case EMU_SYS_INT:
		queue_event(v, (u8)in->imm, INTR_TYPE_SW_INTR, in->len);
		return true;
	case EMU_SYS_IRET:
		switch (v86_iret(&s, &m, in->op_size)) {
		case V86_OK:
			vcpu_retire_insn(v, s.ip); /* before the flags: TF as IRET began */
			rmode_cpu_store(v, &s);
			break;
		case V86_GP:
			vcpu_inject_exception(v, EXC_GP, false, 0);
			break;
		case V86_NOT_RAM:
			rmode_stop_not_ram(v, "IRET", &s);
			break;
		}
		return true;
	case EMU_SYS_MOV_TO_CR:
		if (in->reg == 0 || in->reg == 3 || in->reg == 4) {
			*act = via_cr_ops(v, in->reg, CR_MOV_TO, in->rm, 0);
		} else if (in->reg == 2) {
			v->regs.cr2 = vcpu_gpr(v, in->rm, 4);
			vcpu_skip_insn(v);
		} else {
			vcpu_inject_ud(v);
		}
		return true;
	case EMU_SYS_MOV_FROM_CR: {
		u64 val;
		switch (in->reg) {
		case 0:
			val = vcpu_cr0(v);
			break;
		case 2:
			val = v->regs.cr2;
			break;
		case 3:
			val = vcpu_cr3(v);
			break;
		case 4:
			val = vcpu_cr4(v);
			break;
		default:
			vcpu_inject_ud(v);
			return true;
		}
		vcpu_set_gpr(v, in->rm, val, 4);
		vcpu_skip_insn(v);
		return true;
	}
	case EMU_SYS_MOV_TO_DR:
	case EMU_SYS_MOV_FROM_DR:
		if (mov_dr(v, in, in->sub == EMU_SYS_MOV_TO_DR))
			vcpu_skip_insn(v);
		else
			vcpu_inject_ud(v);
		return true;
	case EMU_SYS_CLTS:
		*act = via_cr_ops(v, 0, CR_CLTS, 0, 0);
		return true;
	case EMU_SYS_LMSW: {
		u16 src = 0;
		if (in->mem) {
			if (!read_operand(v, &c, &src, 2))
				return true;
		} else {
			src = (u16)vcpu_gpr(v, in->rm, 4);
		}
		*act = via_cr_ops(v, 0, CR_LMSW, 0, src);
		return true;
	}
	case EMU_SYS_LGDT:
	case EMU_SYS_LIDT: {
		u8 d[6];
		if (!read_operand(v, &c, d, sizeof(d)))
			return true;
		u64 limit = d[0] | (d[1] << 8);
		u64 base = d[2] | (d[3] << 8) | ((u64)d[4] << 16) | ((u64)d[5] << 24);
		if (in->op_size == 2)
			base &= 0xffffff; /* a 16-bit operand loads 24 bits of base */
		bool gdt = in->sub == EMU_SYS_LGDT;
		vmcs_write(gdt ? VMCS_GUEST_GDTR_BASE : VMCS_GUEST_IDTR_BASE, base);
		vmcs_write(gdt ? VMCS_GUEST_GDTR_LIMIT : VMCS_GUEST_IDTR_LIMIT, limit);
		vcpu_skip_insn(v);
		return true;
	}
	case EMU_SYS_INVLPG: /* no paging in real mode: no translation to drop */
	case EMU_SYS_INVD:
	case EMU_SYS_WBINVD:
		vcpu_skip_insn(v);
		return true;
	case EMU_SYS_RDMSR:
		*act = exit_rdmsr(v);
		return true;
	case EMU_SYS_WRMSR:
		*act = exit_wrmsr(v);
		return true;
	}
	return false;
}

enum exit_action rmode_exception(struct vcpu *v, u8 vector, u32 type, u32 code)
{
	if (vector == EXC_PF) /* the shadow's direct map, Keel's TSS, or device memory */
		return exit_page_fault(v, code);
	if (vector == EXC_GP && type == INTR_TYPE_HW_EXCEPTION && code == 0) {
		enum exit_action act;
		if (emulate_sensitive(v, &act))
			return act;
	}
	/* an exception real mode takes as well: through the IVT, with no error code */
	if (type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_PRIV_SW_EXCEPTION)
		queue_event(v, vector, type, v->exit_insn_len); /* INT3, INTO, INT1 */
	else
		vcpu_inject_exception(v, vector, false, 0);
	return EXIT_ACT_RESUME;
}
