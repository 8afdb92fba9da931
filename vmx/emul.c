/* The instruction-emulation glue: a guest instruction fetched through the guest's page
 * tables, carried out by hypervisor/emulate.c, each memory operand routed to a device
 * model, to RAM, or (ROM writes) nowhere. Used for MMIO (EPT violations and shadow #PFs)
 * and for writes to shadowed page tables. */
#include "emul.h"
#include "guest_access.h"
#include "vcpu_state.h"
#include "../hypervisor/keel.h"
#include "../hypervisor/lib.h"

struct mmio_emu {
	struct vcpu *v;
	bool lm64; /* 64-bit code: only FS and GS have a base */
};

static u64 linear(struct mmio_emu *m, enum emu_seg seg, u64 addr)
{
	if (m->lm64 && seg != EMU_SEG_FS && seg != EMU_SEG_GS)
		return addr;
	u64 lin = vcpu_seg_base(m->v, (unsigned)seg) + addr;
	return m->lm64 ? lin : lin & 0xffffffffULL;
}

static enum emu_result fault(struct emu_ctxt *c, struct vcpu *v, u64 lin, const struct gwalk *w)
{
	switch (w->status) {
	case GWALK_FAULT:
		v->regs.cr2 = lin;
		return emu_raise(c, EXC_PF, true, w->error);
	case GWALK_NONCANONICAL:
		return emu_raise(c, EXC_GP, true, 0);
	default:
		c->why = "an operand outside guest memory";
		return EMU_UNHANDLED;
	}
}

static enum emu_result access(struct emu_ctxt *c, enum emu_seg seg, u64 addr, void *val,
			      unsigned size, bool write)
{
	struct mmio_emu *m = c->opaque;
	struct vcpu *v = m->v;
	u64 lin = linear(m, seg, addr);
	struct gwalk w;
	/* the page of the first byte decides: a device, or memory */
	if (vcpu_translate(v, lin, write ? GACC_WRITE : 0, &w) != GWALK_OK)
		return fault(c, v, lin, &w);
	enum p2m_type t = p2m_lookup(&v->vm->p2m, w.gpa >> PAGE_SHIFT, NULL);
	if (t == P2M_MMIO) {
		if ((w.gpa & ~PAGE_MASK) + size > PAGE_SIZE) {
			c->why = "an MMIO access that crosses a page";
			return EMU_UNHANDLED;
		}
		struct mmio_access a = {0, (u8)size, write, 0};
		if (write)
			memcpy(&a.value, val, size);
		platform_mmio(v->vm, w.gpa, &a, time_now() + v->vm->tsc_offset);
		if (!write)
			memcpy(val, &a.value, size);
		return EMU_OK;
	}
	if (t == P2M_ROM && write)
		return EMU_OK; /* writes to ROM go nowhere, as on a PC */
	enum gwalk_status st = write ? vcpu_write_virt(v, lin, val, size, &w)
				     : vcpu_read_virt(v, lin, val, size, 0, &w);
	return st == GWALK_OK ? EMU_OK : fault(c, v, lin, &w);
}

static enum emu_result op_read(struct emu_ctxt *c, enum emu_seg seg, u64 addr, void *val,
			       unsigned size)
{
	return access(c, seg, addr, val, size, false);
}

static enum emu_result op_write(struct emu_ctxt *c, enum emu_seg seg, u64 addr, const void *val,
				unsigned size)
{
	return access(c, seg, addr, (void *)val, size, true);
}

static const struct emu_ops ops = {op_read, op_write};

void vcpu_emu_regs(struct vcpu *v, struct emu_regs *r)
{
	memcpy(r->gpr, v->regs.gpr, sizeof(r->gpr));
	r->gpr[GPR_RSP] = vcpu_reg(v, REG_RSP);
	r->rip = vcpu_reg(v, REG_RIP);
	r->rflags = vcpu_reg(v, REG_RFLAGS);
}

enum emu_result emulate_insn(struct vcpu *v, const char **why, u32 rep_cap)
{
	u8 insn[15];
	size_t n = vcpu_fetch_insn(v, insn, sizeof(insn));
	u64 efer = vcpu_efer(v), cs_ar = vmcs_read(VMCS_GUEST_CS_AR);
	u64 rflags = vcpu_reg(v, REG_RFLAGS);
	struct mmio_emu m = {v, vcpu_code64(v)};
	struct emu_regs regs;
	vcpu_emu_regs(v, &regs);
	struct emu_ctxt c = {
	    .mode = emu_mode_of(vcpu_cr0(v) & CR0_PE, rflags & RFLAGS_VM, efer & EFER_LMA,
				cs_ar & BIT(13), cs_ar & BIT(14)),
	    .ops = &ops,
	    .opaque = &m,
	    .regs = &regs,
	    .rep_cap = rep_cap,
	};
	enum emu_result r = n ? emulate(&c, insn, (unsigned)n) : EMU_UNHANDLED;
	switch (r) {
	case EMU_OK:
	case EMU_AGAIN:
		for (unsigned i = 0; i < 16; i++)
			if (i != GPR_RSP)
				v->regs.gpr[i] = regs.gpr[i];
		vcpu_set_reg(v, REG_RSP, regs.gpr[GPR_RSP]);
		if (r == EMU_OK) {
			v->exit_insn_len = (u32)(regs.rip - vcpu_reg(v, REG_RIP));
			vcpu_retire_insn(v, regs.rip); /* before RFLAGS: TF as the insn began */
		}
		vcpu_set_reg(v, REG_RFLAGS, regs.rflags);
		break;
	case EMU_EXCEPTION:
		vcpu_inject_exception(v, c.exc.vector, c.exc.has_error_code, c.exc.error_code);
		break;
	default:
		*why = n ? (c.why ? c.why : "unknown instruction") : "instruction not fetchable";
		break;
	}
	return r;
}

enum exit_action emulate_mmio(struct vcpu *v, u64 gpa)
{
	const char *why = NULL;
	/* done, or its exception queued (a triple fault stopped the VM: the run loop sees it) */
	if (emulate_insn(v, &why, 0) == EMU_UNHANDLED)
		vm_stop(v->vm,
			"unsupported: cannot emulate the access to gpa %llx at rip %llx (%s)",
			(unsigned long long)gpa, (unsigned long long)vcpu_reg(v, REG_RIP), why);
	return EXIT_ACT_RESUME;
}
