/* Real mode run in virtual-8086 mode: the pure rules (v86.h). */
#include "v86.h"

#define FLAGS_FIXED BIT(1)
/* what POPF/IRET may change in real mode at CPL 0 (SDM POPF and IRET): CF PF AF ZF SF TF
 * IF DF OF IOPL NT in 16 bits, and RF AC ID in 32 */
#define FLAGS_LOW16 0x7fd5ULL
#define FLAGS_ALL32 0x257fd5ULL

enum v86_fit v86_seg_enter(const struct v86_seg *in, bool cs, struct v86_seg *out)
{
	out->limit = V86_SEG_LIMIT;
	out->ar = V86_SEG_AR;
	if (in->ar & BIT(16)) {
		/* a null selector loaded in protected mode: only a reload makes it useful */
		out->sel = in->sel;
		out->base = (u64)in->sel << 4;
		return V86_EXACT;
	}
	if (cs && (in->ar & BIT(14)))
		return V86_IMPOSSIBLE; /* 32-bit code: vm86 decodes 16-bit */
	if ((in->base & 0xf) || in->base > 0xffff0ULL)
		return V86_IMPOSSIBLE;
	out->base = in->base;
	out->sel = (u16)(in->base >> 4);
	if (in->limit != V86_SEG_LIMIT)
		return V86_LIMIT;
	return out->sel == in->sel ? V86_EXACT : V86_RESELECT;
}

void v86_seg_leave(const struct v86_seg *in, unsigned which, bool pe, struct v86_seg *out)
{
	bool cs = which == 1, ss = which == 2;
	out->base = in->base;
	out->limit = in->limit;
	out->sel = in->sel;
	out->ar = cs ? 0x9b : 0x93; /* 16-bit, present, accessed: code read/exec, data r/w */
	if (!pe)
		return; /* unrestricted guest's real mode: DPL 0, any selector */
	if (cs || ss)
		out->sel &= (u16)~3;
	else
		out->ar |= (u32)(in->sel & 3) << 5; /* DPL = RPL: VM entry wants DPL >= RPL */
}

u64 v86_hw_flags(u64 visible)
{
	return (visible & ~V86_HIDDEN_FLAGS) | V86_FLAG_VM | FLAGS_FIXED;
}

u64 v86_visible_flags(u64 hw, u64 hidden)
{
	return (hw & ~(V86_HIDDEN_FLAGS | V86_FLAG_VM)) | (hidden & V86_HIDDEN_FLAGS) | FLAGS_FIXED;
}

u64 v86_popf_flags(u64 cur, u64 popped, unsigned size)
{
	u64 mask = size == 2 ? FLAGS_LOW16 : FLAGS_ALL32 & ~V86_FLAG_RF;
	u64 f = (cur & ~mask) | (popped & mask);
	if (size != 2)
		f &= ~V86_FLAG_RF; /* POPFD clears RF */
	return f | FLAGS_FIXED;
}

u64 v86_iret_flags(u64 cur, u64 popped, unsigned size)
{
	u64 mask = size == 2 ? FLAGS_LOW16 : FLAGS_ALL32;
	return (cur & ~mask) | (popped & mask) | FLAGS_FIXED;
}

enum v86_result v86_push(struct v86_cpu *s, const struct v86_mem *m, u64 val, unsigned size)
{
	u64 sp = (s->sp - size) & 0xffff;
	for (unsigned i = 0; i < size; i++) {
		u8 b = (u8)(val >> (8 * i));
		if (!m->write(m->ctx, s->ss_base + ((sp + i) & 0xffff), &b, 1))
			return V86_NOT_RAM;
	}
	s->sp = (s->sp & ~0xffffULL) | sp;
	return V86_OK;
}

enum v86_result v86_pop(struct v86_cpu *s, const struct v86_mem *m, u64 *val, unsigned size)
{
	u64 sp = s->sp & 0xffff, v = 0;
	for (unsigned i = 0; i < size; i++) {
		u8 b;
		if (!m->read(m->ctx, s->ss_base + ((sp + i) & 0xffff), &b, 1))
			return V86_NOT_RAM;
		v |= (u64)b << (8 * i);
	}
	s->sp = (s->sp & ~0xffffULL) | ((sp + size) & 0xffff);
	*val = v;
	return V86_OK;
}

enum v86_result v86_deliver(struct v86_cpu *s, const struct v86_mem *m, u8 vector, u64 ret_ip)
{
	u8 e[4];
	if ((u64)vector * 4 + 3 > s->idt_limit)
		return V86_GP;
	if (!m->read(m->ctx, (s->idt_base + (u64)vector * 4) & 0xffffffffULL, e, sizeof(e)))
		return V86_NOT_RAM;
	struct v86_cpu t = *s;
	enum v86_result r = v86_push(&t, m, t.flags & 0xffff, 2);
	if (r == V86_OK)
		r = v86_push(&t, m, t.cs, 2);
	if (r == V86_OK)
		r = v86_push(&t, m, ret_ip & 0xffff, 2);
	if (r != V86_OK)
		return r;
	t.flags &= ~(V86_FLAG_IF | V86_FLAG_TF | V86_FLAG_AC);
	t.ip = (u64)e[0] | ((u64)e[1] << 8);
	t.cs = (u16)(e[2] | (e[3] << 8));
	t.cs_base = (u64)t.cs << 4;
	*s = t;
	return V86_OK;
}

enum v86_result v86_iret(struct v86_cpu *s, const struct v86_mem *m, unsigned size)
{
	struct v86_cpu t = *s;
	u64 ip, cs, fl;
	enum v86_result r = v86_pop(&t, m, &ip, size);
	if (r == V86_OK)
		r = v86_pop(&t, m, &cs, size);
	if (r == V86_OK)
		r = v86_pop(&t, m, &fl, size);
	if (r != V86_OK)
		return r;
	if (ip > 0xffff)
		return V86_GP; /* beyond the code segment's 64 KiB limit */
	t.ip = ip;
	t.cs = (u16)cs;
	t.cs_base = (u64)t.cs << 4;
	t.flags = v86_iret_flags(t.flags, fl, size);
	*s = t;
	return V86_OK;
}
