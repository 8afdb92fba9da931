/* Real mode under shadow paging, in virtual-8086 mode (docs/shadow-paging.md, "Real mode").
 * Without unrestricted guest, VM entry needs CR0.PE = 1. A guest that clears PE runs with
 * RFLAGS.VM = 1 and IOPL = 0 on Keel's own TSS (its I/O bitmap lets every port through to
 * the VMX I/O exits). Every exception exits: a #GP is an instruction that vm86 refuses and
 * real mode allows (CLI, STI, PUSHF, POPF, INT n, IRET, HLT, MOV CR/DR, LMSW, CLTS,
 * LGDT, LIDT, MSRs, caches), carried out here with real-mode semantics; anything else is
 * delivered to the guest through its IVT, as are interrupts. The rules are in v86.c. */
#include "vmx_ops.h"
#include "guest_access.h"
#include "v86.h"
#include "../hypervisor/console.h"
#include "../hypervisor/emulate.h"
#include "../hypervisor/keel.h"
#include "../hypervisor/lib.h"

/* Keel's vm86 TSS: three frames shared by every VM, read-only to all, shown to a vCPU in
 * real mode at guest-linear addresses real mode cannot form (above 1 MiB + 64 KiB). The
 * I/O bitmap is all zeros (every port allowed, so each I/O instruction reaches its VMX
 * exit) and ends with the 0xff byte the CPU wants after it. */
#define TSS_GVA	  0xffffb000ULL
#define TSS_PAGES 3
#define TSS_IOMAP 0x68
#define TSS_LIMIT (TSS_IOMAP + 0x2000) /* the bitmap's 8 KiB and its closing byte */

static u64 tss_mfn[TSS_PAGES];

static bool tss_ready(void)
{
	if (tss_mfn[TSS_PAGES - 1])
		return true;
	for (unsigned i = 0; i < TSS_PAGES; i++) {
		if (tss_mfn[i])
			continue;
		u64 pa = frames_alloc(&machine_frames, FRAME_HV);
		if (!pa)
			return false;
		tss_mfn[i] = pa >> PAGE_SHIFT;
	}
	u8 *t0 = phys_to_virt(tss_mfn[0] << PAGE_SHIFT);
	u8 *t2 = phys_to_virt(tss_mfn[2] << PAGE_SHIFT);
	t0[0x66] = TSS_IOMAP; /* I/O map base */
	t0[0x67] = 0;
	t2[TSS_LIMIT & 0xfff] = 0xff;
	return true;
}

bool rmode_tss_frame(struct vm *vm, u64 gfn, u64 *mfn)
{
	u64 first = TSS_GVA >> PAGE_SHIFT;
	if (!vm->rmode_vcpus || gfn < first || gfn >= first + TSS_PAGES)
		return false;
	*mfn = tss_mfn[gfn - first];
	return true;
}

/* ES, CS, SS, DS, FS, GS: their VMCS fields are 2 apart in each group. */
static void seg_read(unsigned i, struct v86_seg *s)
{
	s->sel = (u16)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_SEL + 2 * i));
	s->base = vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * i));
	s->limit = (u32)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_LIMIT + 2 * i));
	s->ar = (u32)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_AR + 2 * i));
}

static void seg_write(unsigned i, const struct v86_seg *s)
{
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_SEL + 2 * i), s->sel);
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * i), s->base);
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_LIMIT + 2 * i), s->limit);
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_AR + 2 * i), s->ar);
}

static const char *const seg_name[6] = {"ES", "CS", "SS", "DS", "FS", "GS"};

/* Whether the vCPU's state can run in vm86 now: the segments (out: their vm86 form, *worst
 * and *which: the least faithful and its register) and Keel's TSS range. */
static const char *fit_check(struct vcpu *v, struct v86_seg in[6], struct v86_seg out[6],
			     enum v86_fit *worst, unsigned *which)
{
	static char why[160];
	for (unsigned i = 0; i < TSS_PAGES; i++)
		if (p2m_lookup(&v->vm->p2m, (TSS_GVA >> PAGE_SHIFT) + i, NULL) != P2M_NONE)
			return "real mode under shadow paging needs guest-physical "
			       "0xffffb000-0xffffdfff free for the virtual-8086 TSS";
	*worst = V86_EXACT;
	*which = 0;
	for (unsigned i = 0; i < 6; i++) {
		seg_read(i, &in[i]);
		enum v86_fit f = v86_seg_enter(&in[i], i == 1, &out[i]);
		if (f > *worst)
			*worst = f, *which = i;
	}
	if (*worst != V86_IMPOSSIBLE)
		return NULL;
	ksnprintf(why, sizeof(why),
		  "real mode with %s base %llx, limit %x, access rights %x cannot run in "
		  "virtual-8086 mode (shadow paging has no unrestricted guest)",
		  seg_name[*which], (unsigned long long)in[*which].base, in[*which].limit,
		  in[*which].ar);
	return why;
}

const char *rmode_cannot_enter(struct vcpu *v)
{
	struct v86_seg in[6], out[6];
	enum v86_fit worst;
	unsigned which;
	return fit_check(v, in, out, &worst, &which);
}

bool rmode_enter(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct v86_seg in[6], out[6];
	enum v86_fit worst;
	unsigned which;
	if (!tss_ready()) {
		vm_stop(vm, "no memory for the virtual-8086 TSS of real mode");
		return false;
	}
	const char *why = fit_check(v, in, out, &worst, &which);
	if (why) {
		vm_stop(vm, "%s", why);
		return false;
	}
	if (worst == V86_LIMIT && !vm->rmode_warned) {
		vm->rmode_warned = true;
		pr_warn("keel: vm %s enters real mode with %s limit %x: virtual-8086 mode runs it "
			"with 64 KiB segments (\"unreal mode\" is not kept under shadow paging)\n",
			vm->name, seg_name[which], in[which].limit);
	}
	for (unsigned i = 0; i < 6; i++)
		seg_write(i, &out[i]);
	v->rm.tr_sel = (u16)vmcs_read(VMCS_GUEST_TR_SEL);
	v->rm.tr_base = vmcs_read(VMCS_GUEST_TR_BASE);
	v->rm.tr_limit = (u32)vmcs_read(VMCS_GUEST_TR_LIMIT);
	v->rm.tr_ar = (u32)vmcs_read(VMCS_GUEST_TR_AR);
	vmcs_write(VMCS_GUEST_TR_SEL, 0);
	vmcs_write(VMCS_GUEST_TR_BASE, TSS_GVA);
	vmcs_write(VMCS_GUEST_TR_LIMIT, TSS_LIMIT);
	vmcs_write(VMCS_GUEST_TR_AR, 0x8b); /* busy 32-bit TSS */
	u64 flags = vcpu_reg(v, REG_RFLAGS);
	v->rm.hidden = flags & V86_HIDDEN_FLAGS;
	vcpu_set_reg(v, REG_RFLAGS, v86_hw_flags(flags));
	v->rm.exc_bitmap = (u32)vmcs_read(VMCS_EXCEPTION_BITMAP);
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0xffffffffULL);
	v->rm.active = true;
	vm->rmode_vcpus++;
	vm->rmode_stats.entries++;
	return true;
}

void rmode_leave(struct vcpu *v, bool pe)
{
	for (unsigned i = 0; i < 6; i++) {
		struct v86_seg s, out;
		seg_read(i, &s);
		v86_seg_leave(&s, i, pe, &out);
		seg_write(i, &out);
	}
	vmcs_write(VMCS_GUEST_TR_SEL, v->rm.tr_sel);
	vmcs_write(VMCS_GUEST_TR_BASE, v->rm.tr_base);
	vmcs_write(VMCS_GUEST_TR_LIMIT, v->rm.tr_limit);
	vmcs_write(VMCS_GUEST_TR_AR, v->rm.tr_ar);
	vcpu_set_reg(v, REG_RFLAGS, v86_visible_flags(vcpu_reg(v, REG_RFLAGS), v->rm.hidden));
	vmcs_write(VMCS_EXCEPTION_BITMAP, v->rm.exc_bitmap);
	v->rm.active = false;
	/* unpaged protected mode keeps the direct tables, but no longer sees the TSS (the
	 * P2M has nothing at those addresses, so real mode found no stale entries there) */
	if (!--v->vm->rmode_vcpus)
		for (unsigned i = 0; i < TSS_PAGES; i++)
			shadow_unmap_frame(&v->vm->shadow, tss_mfn[i]);
}

u64 rmode_flags(struct vcpu *v)
{
	u64 hw = vcpu_reg(v, REG_RFLAGS);
	return v->rm.active ? v86_visible_flags(hw, v->rm.hidden) : hw;
}

/* Guest memory by linear address (real mode: guest-physical). */
static bool mem_read(void *ctx, u64 lin, void *buf, unsigned n)
{
	struct gwalk w;
	return vcpu_read_virt(ctx, lin, buf, n, 0, &w) == GWALK_OK;
}

static bool mem_write(void *ctx, u64 lin, const void *buf, unsigned n)
{
	struct gwalk w;
	return vcpu_write_virt(ctx, lin, buf, n, &w) == GWALK_OK;
}

static void cpu_load(struct vcpu *v, struct v86_cpu *s)
{
	s->flags = rmode_flags(v);
	s->cs = (u16)vmcs_read(VMCS_GUEST_CS_SEL);
	s->cs_base = vmcs_read(VMCS_GUEST_CS_BASE);
	s->ip = vcpu_reg(v, REG_RIP);
	s->ss_base = vmcs_read(VMCS_GUEST_SS_BASE);
	s->sp = vcpu_reg(v, REG_RSP);
	s->idt_base = vmcs_read(VMCS_GUEST_IDTR_BASE);
	s->idt_limit = (u32)vmcs_read(VMCS_GUEST_IDTR_LIMIT);
}

static void cpu_store(struct vcpu *v, const struct v86_cpu *s)
{
	v->rm.hidden = s->flags & V86_HIDDEN_FLAGS;
	vcpu_set_reg(v, REG_RFLAGS, v86_hw_flags(s->flags));
	vmcs_write(VMCS_GUEST_CS_SEL, s->cs);
	vmcs_write(VMCS_GUEST_CS_BASE, s->cs_base);
	vcpu_set_reg(v, REG_RIP, s->ip);
	vcpu_set_reg(v, REG_RSP, s->sp);
}

static void stop_not_ram(struct vcpu *v, const char *what, const struct v86_cpu *s)
{
	vm_stop(v->vm, "real mode: %s at %04x:%04llx with SS base %llx, SP %llx: not guest RAM",
		what, s->cs, (unsigned long long)s->ip, (unsigned long long)s->ss_base,
		(unsigned long long)(s->sp & 0xffff));
}

void rmode_inject(struct vcpu *v, u32 info, u32 insn_len)
{
	struct vm *vm = v->vm;
	struct v86_mem m = {mem_read, mem_write, v};
	struct v86_cpu s;
	u8 vector = info & INTR_INFO_VECTOR_MASK;
	cpu_load(v, &s);
	/* software interrupts return past the instruction; faults to it */
	u64 ret = (s.ip + insn_len) & 0xffff;
	enum v86_result r = v86_deliver(&s, &m, vector, ret);
	/* an IVT entry beyond the IDTR limit is a #GP, then a #DF, then shutdown */
	if (r == V86_GP)
		r = v86_deliver(&s, &m, EXC_GP, s.ip);
	if (r == V86_GP)
		r = v86_deliver(&s, &m, EXC_DF, s.ip);
	if (r == V86_GP) {
		vm_stop(vm, "triple fault in real mode: vector %u beyond the IDTR limit %x", vector,
			s.idt_limit);
		return;
	}
	if (r == V86_NOT_RAM) {
		stop_not_ram(v, "interrupt delivery", &s);
		return;
	}
	cpu_store(v, &s);
	vm->rmode_stats.delivered++;
}

static void queue_event(struct vcpu *v, u8 vector, u32 type, u32 insn_len)
{
	v->event.valid = true;
	v->event.info = vector | (type << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;
	v->event.error = 0;
	v->event.insn_len = insn_len;
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
	u64 base = vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * in->seg));
	if (!mem_read(v, base + off, buf, size)) {
		vm_stop(v->vm, "real mode: operand at %llx is not guest RAM (rip %llx)",
			(unsigned long long)(base + off), (unsigned long long)vcpu_reg(v, REG_RIP));
		return false;
	}
	return true;
}

static u64 gpr32(struct vcpu *v, unsigned r)
{
	return (r == GPR_RSP ? vcpu_reg(v, REG_RSP) : v->regs.gpr[r]) & 0xffffffffULL;
}

static void set_gpr32(struct vcpu *v, unsigned r, u64 val)
{
	val &= 0xffffffffULL;
	if (r == GPR_RSP)
		vcpu_set_reg(v, REG_RSP, val);
	else
		v->regs.gpr[r] = val;
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
		write_dr(n, gpr32(v, in->rm));
	else
		set_gpr32(v, in->rm, read_dr(n));
	return true;
}

/* A MOV CR, CLTS or LMSW goes through the same checks as its exit in protected mode. */
static enum exit_action via_cr_exit(struct vcpu *v, unsigned cr, unsigned type, unsigned gpr,
				    u16 src)
{
	v->exit_qual = cr | (type << 4) | (gpr << 8) | ((u64)src << 16);
	return exit_cr_access(v);
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
	struct v86_mem m = {mem_read, mem_write, v};
	struct v86_cpu s;
	cpu_load(v, &s);
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
			stop_not_ram(v, "PUSHF", &s);
			return true;
		}
		vcpu_set_reg(v, REG_RSP, s.sp);
		vcpu_skip_insn(v);
		return true;
	}
	case EMU_SYS_POPF: {
		u64 val;
		if (v86_pop(&s, &m, &val, in->op_size) != V86_OK) {
			stop_not_ram(v, "POPF", &s);
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
			cpu_store(v, &s);
			break;
		case V86_GP:
			vcpu_inject_exception(v, EXC_GP, false, 0);
			break;
		case V86_NOT_RAM:
			stop_not_ram(v, "IRET", &s);
			break;
		}
		return true;
	case EMU_SYS_MOV_TO_CR:
		if (in->reg == 0 || in->reg == 3 || in->reg == 4) {
			*act = via_cr_exit(v, in->reg, 0, in->rm, 0);
		} else if (in->reg == 2) {
			v->regs.cr2 = gpr32(v, in->rm);
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
		set_gpr32(v, in->rm, val);
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
		*act = via_cr_exit(v, 0, 2, 0, 0);
		return true;
	case EMU_SYS_LMSW: {
		u16 src = 0;
		if (in->mem) {
			if (!read_operand(v, &c, &src, 2))
				return true;
		} else {
			src = (u16)gpr32(v, in->rm);
		}
		*act = via_cr_exit(v, 0, 3, 0, src);
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
			return vm_is_done(v->vm) ? EXIT_ACT_DONE : act;
	}
	/* an exception real mode takes as well: through the IVT, with no error code */
	if (type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_PRIV_SW_EXCEPTION)
		queue_event(v, vector, type, v->exit_insn_len); /* INT3, INTO, INT1 */
	else
		vcpu_inject_exception(v, vector, false, 0);
	return vm_is_done(v->vm) ? EXIT_ACT_DONE : EXIT_ACT_RESUME;
}
