/* Real mode under shadow paging, in virtual-8086 mode (docs/shadow-paging.md, "Real mode").
 * Without unrestricted guest, VM entry needs CR0.PE = 1. A guest that clears PE runs with
 * RFLAGS.VM = 1 and IOPL = 0 on Keel's own TSS (its I/O bitmap lets every port through to
 * the VMX I/O exits). Every exception exits: a #GP is an instruction that vm86 refuses and
 * real mode allows (CLI, STI, PUSHF, POPF, INT n, IRET, HLT, MOV CR/DR, LMSW, CLTS,
 * LGDT, LIDT, MSRs, caches), carried out here with real-mode semantics; anything else is
 * delivered to the guest through its IVT, as are interrupts. The rules are in v86.c. This
 * file owns entering and leaving the mode and delivering events; realmode_insn.c carries out
 * the instructions. */
#include "realmode.h"
#include "guest_access.h"
#include "vcpu_state.h"
#include "../hypervisor/console.h"
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
bool rmode_mem_read(void *ctx, u64 lin, void *buf, unsigned n)
{
	struct gwalk w;
	return vcpu_read_virt(ctx, lin, buf, n, 0, &w) == GWALK_OK;
}

bool rmode_mem_write(void *ctx, u64 lin, const void *buf, unsigned n)
{
	struct gwalk w;
	return vcpu_write_virt(ctx, lin, buf, n, &w) == GWALK_OK;
}

void rmode_cpu_load(struct vcpu *v, struct v86_cpu *s)
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

void rmode_cpu_store(struct vcpu *v, const struct v86_cpu *s)
{
	v->rm.hidden = s->flags & V86_HIDDEN_FLAGS;
	vcpu_set_reg(v, REG_RFLAGS, v86_hw_flags(s->flags));
	vmcs_write(VMCS_GUEST_CS_SEL, s->cs);
	vmcs_write(VMCS_GUEST_CS_BASE, s->cs_base);
	vcpu_set_reg(v, REG_RIP, s->ip);
	vcpu_set_reg(v, REG_RSP, s->sp);
}

void rmode_stop_not_ram(struct vcpu *v, const char *what, const struct v86_cpu *s)
{
	vm_stop(v->vm, "real mode: %s at %04x:%04llx with SS base %llx, SP %llx: not guest RAM",
		what, s->cs, (unsigned long long)s->ip, (unsigned long long)s->ss_base,
		(unsigned long long)(s->sp & 0xffff));
}

void rmode_inject(struct vcpu *v, u32 info, u32 insn_len)
{
	struct vm *vm = v->vm;
	struct v86_mem m = {rmode_mem_read, rmode_mem_write, v};
	struct v86_cpu s;
	u8 vector = info & INTR_INFO_VECTOR_MASK;
	rmode_cpu_load(v, &s);
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
		rmode_stop_not_ram(v, "interrupt delivery", &s);
		return;
	}
	rmode_cpu_store(v, &s);
	vm->rmode_stats.delivered++;
}
