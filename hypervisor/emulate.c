/* The execute half of the emulator: runs a decoded struct emu_insn against the register
 * file and the caller's memory ops, with x86 flag and register-width rules. Each handler
 * does its memory accesses before touching registers, so a fault leaves registers as they
 * were (REP string ops excepted: completed iterations stay, as on hardware). */
#include "emulate.h"
#include "lib.h"

static u64 size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static u64 sign_extend(u64 v, unsigned size)
{
	if (size >= 8)
		return v;
	u64 sign = 1ULL << (8 * size - 1);
	v &= (sign << 1) - 1;
	return (v ^ sign) - sign;
}

/* ---- flags ---- */

static bool parity_even(u64 v)
{
	u8 b = v;
	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return !(b & 1);
}

u64 emu_alu(enum emu_alu op, u64 a, u64 b, unsigned size, u64 *rflags)
{
	u64 mask = size_mask(size), top = 1ULL << (8 * size - 1);
	u64 carry_in = *rflags & EMU_RFLAGS_CF ? 1 : 0;
	u64 r, flags = 0;
	bool sub = false, logic = false, keep_cf = false;

	a &= mask;
	b &= mask;
	switch (op) {
	case EMU_ALU_ADD:
		r = a + b;
		break;
	case EMU_ALU_ADC:
		r = a + b + carry_in;
		break;
	case EMU_ALU_INC:
		b = 1, r = a + 1, keep_cf = true;
		break;
	case EMU_ALU_SUB:
	case EMU_ALU_CMP:
		r = a - b, sub = true;
		break;
	case EMU_ALU_SBB:
		r = a - b - carry_in, sub = true;
		break;
	case EMU_ALU_DEC:
		b = 1, r = a - 1, sub = true, keep_cf = true;
		break;
	case EMU_ALU_NEG:
		b = a, a = 0, r = 0 - b, sub = true;
		break;
	case EMU_ALU_OR:
		r = a | b, logic = true;
		break;
	case EMU_ALU_XOR:
		r = a ^ b, logic = true;
		break;
	case EMU_ALU_AND:
	case EMU_ALU_TEST:
	default:
		r = a & b, logic = true;
		break;
	}
	r &= mask;

	if (!logic) {
		/* carry/borrow out of the top bit, from the operands and the result alone (this
		 * also covers the carry-in of ADC/SBB) */
		u64 cf = sub ? (~a & b) | ((~a | b) & r) : (a & b) | ((a | b) & ~r);
		u64 of = sub ? (a ^ b) & (a ^ r) : (a ^ r) & (b ^ r);
		if (cf & top)
			flags |= EMU_RFLAGS_CF;
		if (of & top)
			flags |= EMU_RFLAGS_OF;
		if ((a ^ b ^ r) & 0x10)
			flags |= EMU_RFLAGS_AF;
	}
	if (keep_cf)
		flags = (flags & ~EMU_RFLAGS_CF) | (*rflags & EMU_RFLAGS_CF);
	if (r == 0)
		flags |= EMU_RFLAGS_ZF;
	if (r & top)
		flags |= EMU_RFLAGS_SF;
	if (parity_even(r))
		flags |= EMU_RFLAGS_PF;
	*rflags = (*rflags & ~EMU_RFLAGS_ARITH) | flags;
	return r;
}

/* ---- operands ---- */

/* A resolved operand: a register (with the AH/CH/DH/BH case) or a memory location. */
struct operand {
	bool mem;
	u8 size;
	u8 reg;
	bool high_byte;
	u8 seg;
	u64 addr;
};

static struct operand reg_operand(const struct emu_insn *in, unsigned num, unsigned size)
{
	struct operand op = {.size = size, .reg = num};
	/* without REX, byte registers 4-7 are AH, CH, DH, BH rather than SPL, BPL, SIL, DIL */
	if (size == 1 && !in->rex && num >= 4 && num < 8) {
		op.reg = num - 4;
		op.high_byte = true;
	}
	return op;
}

u64 emu_effective_address(const struct emu_ctxt *c)
{
	const struct emu_insn *in = &c->insn;
	u64 ea = (u64)in->disp;
	if (in->rip_rel)
		ea += c->regs->rip + in->len;
	if (in->base >= 0)
		ea += c->regs->gpr[in->base];
	if (in->index >= 0)
		ea += c->regs->gpr[in->index] * in->scale;
	return ea & size_mask(in->addr_size);
}

static struct operand mem_operand(unsigned seg, u64 addr, unsigned size)
{
	return (struct operand){.mem = true, .size = size, .seg = seg, .addr = addr};
}

static struct operand operand(const struct emu_ctxt *c, enum emu_operand which, unsigned size)
{
	const struct emu_insn *in = &c->insn;
	switch (which) {
	case EMU_OPND_RM:
		if (in->mem)
			return mem_operand(in->seg, emu_effective_address(c), size);
		return reg_operand(in, in->rm, size);
	case EMU_OPND_REG:
		return reg_operand(in, in->reg, size);
	case EMU_OPND_ACC:
	default:
		return reg_operand(in, 0, size);
	}
}

static u64 reg_get(const struct emu_regs *r, const struct operand *op)
{
	u64 v = r->gpr[op->reg];
	if (op->high_byte)
		v >>= 8;
	return v & size_mask(op->size);
}

/* Merges 8- and 16-bit results; 32-bit results zero-extend (hardware does so in 64-bit
 * mode; elsewhere the upper half is invisible to the guest, so the choice is free). */
static void reg_set(struct emu_regs *r, const struct operand *op, u64 v)
{
	u64 *g = &r->gpr[op->reg];
	switch (op->size) {
	case 1:
		if (op->high_byte)
			*g = (*g & ~0xff00ULL) | ((v & 0xff) << 8);
		else
			*g = (*g & ~0xffULL) | (v & 0xff);
		break;
	case 2:
		*g = (*g & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		*g = (u32)v;
		break;
	default:
		*g = v;
		break;
	}
}

/* An op's answer: anything but OK/EXCEPTION stops emulation as unhandled. */
static enum emu_result op_result(struct emu_ctxt *c, enum emu_result r, const char *what)
{
	if (r == EMU_OK || r == EMU_EXCEPTION)
		return r;
	if (!c->why) /* the op's own reason (outside guest memory, ...) says more */
		c->why = what;
	return EMU_UNHANDLED;
}

static enum emu_result mem_read(struct emu_ctxt *c, const struct operand *op, u64 *val)
{
	u8 buf[8] = {0};
	enum emu_result r = c->ops->read(c, op->seg, op->addr, buf, op->size);
	if (r != EMU_OK)
		return op_result(c, r, "memory read failed");
	u64 v = 0;
	for (unsigned i = 0; i < op->size; i++)
		v |= (u64)buf[i] << (8 * i);
	*val = v;
	return EMU_OK;
}

static enum emu_result mem_write(struct emu_ctxt *c, const struct operand *op, u64 val)
{
	u8 buf[8];
	for (unsigned i = 0; i < op->size; i++)
		buf[i] = val >> (8 * i);
	return op_result(c, c->ops->write(c, op->seg, op->addr, buf, op->size),
			 "memory write failed");
}

static enum emu_result opnd_read(struct emu_ctxt *c, const struct operand *op, u64 *val)
{
	if (op->mem)
		return mem_read(c, op, val);
	*val = reg_get(c->regs, op);
	return EMU_OK;
}

static enum emu_result opnd_write(struct emu_ctxt *c, const struct operand *op, u64 val)
{
	if (op->mem)
		return mem_write(c, op, val);
	reg_set(c->regs, op, val);
	return EMU_OK;
}

/* The source value: an immediate, or a register or memory operand. */
static enum emu_result src_read(struct emu_ctxt *c, unsigned size, u64 *val)
{
	if (c->insn.src == EMU_OPND_IMM) {
		*val = c->insn.imm & size_mask(size);
		return EMU_OK;
	}
	struct operand op = operand(c, c->insn.src, size);
	return opnd_read(c, &op, val);
}

/* Ends a completed instruction: RIP moves past it, within the mode's IP width. */
static enum emu_result finish(struct emu_ctxt *c)
{
	u64 rip = c->regs->rip + c->insn.len;
	if (c->mode == EMU_MODE_16)
		rip &= 0xffff;
	else if (c->mode == EMU_MODE_32)
		rip &= 0xffffffff;
	c->regs->rip = rip;
	return EMU_OK;
}

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		enum emu_result r_ = (expr);                                                       \
		if (r_ != EMU_OK)                                                                  \
			return r_;                                                                 \
	} while (0)

/* ---- instructions ---- */

static enum emu_result exec_mov(struct emu_ctxt *c)
{
	struct operand dst = operand(c, c->insn.dst, c->insn.op_size);
	u64 v;
	TRY(src_read(c, c->insn.op_size, &v));
	TRY(opnd_write(c, &dst, v));
	return finish(c);
}

static enum emu_result exec_movx(struct emu_ctxt *c)
{
	struct operand src = operand(c, EMU_OPND_RM, c->insn.src_size);
	struct operand dst = operand(c, EMU_OPND_REG, c->insn.op_size);
	u64 v;
	TRY(opnd_read(c, &src, &v));
	if (c->insn.op == EMU_OP_MOVSX)
		v = sign_extend(v, c->insn.src_size);
	reg_set(c->regs, &dst, v);
	return finish(c);
}

static u64 byte_swap(u64 v, unsigned size)
{
	u64 r = 0;
	for (unsigned i = 0; i < size; i++)
		r = (r << 8) | ((v >> (8 * i)) & 0xff);
	return r;
}

static enum emu_result exec_movbe(struct emu_ctxt *c)
{
	struct operand dst = operand(c, c->insn.dst, c->insn.op_size);
	u64 v;
	TRY(src_read(c, c->insn.op_size, &v));
	TRY(opnd_write(c, &dst, byte_swap(v, c->insn.op_size)));
	return finish(c);
}

static enum emu_result exec_alu(struct emu_ctxt *c)
{
	const struct emu_insn *in = &c->insn;
	struct operand dst = operand(c, in->dst, in->op_size);
	u64 a, b, flags = c->regs->rflags;
	TRY(opnd_read(c, &dst, &a));
	TRY(src_read(c, in->op_size, &b));
	u64 r = emu_alu(in->op == EMU_OP_TEST ? EMU_ALU_TEST : in->sub, a, b, in->op_size, &flags);
	if (in->op == EMU_OP_ALU && in->sub != EMU_ALU_CMP)
		TRY(opnd_write(c, &dst, r));
	c->regs->rflags = flags;
	return finish(c);
}

static enum emu_result exec_unary(struct emu_ctxt *c)
{
	static const u8 alu_of[EMU_OP_COUNT] = {
	    [EMU_OP_NEG] = EMU_ALU_NEG, [EMU_OP_INC] = EMU_ALU_INC, [EMU_OP_DEC] = EMU_ALU_DEC};
	const struct emu_insn *in = &c->insn;
	struct operand dst = operand(c, EMU_OPND_RM, in->op_size);
	u64 v, flags = c->regs->rflags;
	TRY(opnd_read(c, &dst, &v));
	if (in->op == EMU_OP_NOT)
		v = ~v; /* NOT changes no flags */
	else
		v = emu_alu(alu_of[in->op], v, 0, in->op_size, &flags);
	TRY(opnd_write(c, &dst, v));
	c->regs->rflags = flags;
	return finish(c);
}

static enum emu_result exec_xchg(struct emu_ctxt *c)
{
	struct operand rm = operand(c, EMU_OPND_RM, c->insn.op_size);
	struct operand reg = operand(c, EMU_OPND_REG, c->insn.op_size);
	u64 a, b;
	TRY(opnd_read(c, &rm, &a));
	b = reg_get(c->regs, &reg);
	TRY(opnd_write(c, &rm, b));
	reg_set(c->regs, &reg, a);
	return finish(c);
}

/* CMPXCHG: the accumulator against the destination (flags as CMP acc, dest); equal: the
 * destination takes the source, else the accumulator takes the destination. A failed
 * compare writes nothing back: the read already was the locked access's effect. */
static enum emu_result exec_cmpxchg(struct emu_ctxt *c)
{
	const struct emu_insn *in = &c->insn;
	struct operand dst = operand(c, EMU_OPND_RM, in->op_size);
	struct operand src = operand(c, EMU_OPND_REG, in->op_size);
	struct operand acc = operand(c, EMU_OPND_ACC, in->op_size);
	u64 d, flags = c->regs->rflags;
	TRY(opnd_read(c, &dst, &d));
	u64 a = reg_get(c->regs, &acc);
	emu_alu(EMU_ALU_CMP, a, d, in->op_size, &flags);
	if (flags & EMU_RFLAGS_ZF)
		TRY(opnd_write(c, &dst, reg_get(c->regs, &src)));
	else
		reg_set(c->regs, &acc, d);
	c->regs->rflags = flags;
	return finish(c);
}

/* BT/BTS/BTR/BTC. A register bit offset is signed and, with a memory operand, can reach
 * outside it: the address moves by whole operands, like hardware's bit-string view. */
static enum emu_result exec_bt(struct emu_ctxt *c)
{
	const struct emu_insn *in = &c->insn;
	unsigned bits = 8 * in->op_size, shift = in->op_size == 2 ? 4 : in->op_size == 4 ? 5 : 6;
	struct operand dst = operand(c, EMU_OPND_RM, in->op_size);
	u64 off, v;
	TRY(src_read(c, in->op_size, &off));
	if (in->src == EMU_OPND_REG && dst.mem) {
		u64 soff = sign_extend(off, in->op_size);
		/* floor(soff / bits), written without shifting a negative number */
		u64 units = (s64)soff >= 0 ? soff >> shift : ~(~soff >> shift);
		dst.addr = (dst.addr + units * in->op_size) & size_mask(in->addr_size);
	}
	unsigned bit = off & (bits - 1);
	TRY(opnd_read(c, &dst, &v));
	u64 flags = c->regs->rflags & ~EMU_RFLAGS_CF;
	if ((v >> bit) & 1)
		flags |= EMU_RFLAGS_CF;
	switch (in->sub) {
	case 1:
		v |= 1ULL << bit;
		break;
	case 2:
		v &= ~(1ULL << bit);
		break;
	case 3:
		v ^= 1ULL << bit;
		break;
	}
	if (in->sub != 0)
		TRY(opnd_write(c, &dst, v));
	c->regs->rflags = flags; /* CF only: ZF is kept, OF/SF/AF/PF are undefined */
	return finish(c);
}

/* MOVS and STOS, with or without REP (F2 acts as F3 here). At most rep_cap iterations per
 * call; registers are committed after each one so that a fault or the cap leaves a state
 * the guest can resume from. */
static enum emu_result exec_string(struct emu_ctxt *c)
{
	const struct emu_insn *in = &c->insn;
	struct emu_regs *regs = c->regs;
	unsigned size = in->op_size, asz = in->addr_size;
	u64 amask = size_mask(asz);
	u64 step = regs->rflags & EMU_RFLAGS_DF ? -(u64)size : size;
	u64 count = in->rep ? regs->gpr[1] & amask : 1;
	u32 cap = c->rep_cap ? c->rep_cap : EMU_REP_CAP_DEFAULT;
	/* the counter and pointers are as wide as the address size */
	struct operand rcx = {.size = asz, .reg = 1};
	struct operand rsi = {.size = asz, .reg = 6};
	struct operand rdi = {.size = asz, .reg = 7};

	for (u32 n = 0; count != 0; n++) {
		if (n == cap)
			return EMU_AGAIN;
		u64 v = regs->gpr[0] & size_mask(size);
		if (in->op == EMU_OP_MOVS) {
			struct operand src = mem_operand(in->seg, regs->gpr[6] & amask, size);
			TRY(mem_read(c, &src, &v));
		}
		struct operand dst = mem_operand(EMU_SEG_ES, regs->gpr[7] & amask, size);
		TRY(mem_write(c, &dst, v));
		if (in->op == EMU_OP_MOVS)
			reg_set(regs, &rsi, regs->gpr[6] + step);
		reg_set(regs, &rdi, regs->gpr[7] + step);
		count--;
		if (in->rep)
			reg_set(regs, &rcx, count);
	}
	return finish(c);
}

typedef enum emu_result (*exec_fn)(struct emu_ctxt *c);

static const exec_fn exec_table[EMU_OP_COUNT] = {
    [EMU_OP_MOV] = exec_mov,	 [EMU_OP_MOVZX] = exec_movx,  [EMU_OP_MOVSX] = exec_movx,
    [EMU_OP_MOVBE] = exec_movbe, [EMU_OP_ALU] = exec_alu,     [EMU_OP_TEST] = exec_alu,
    [EMU_OP_XCHG] = exec_xchg,	 [EMU_OP_NOT] = exec_unary,   [EMU_OP_NEG] = exec_unary,
    [EMU_OP_INC] = exec_unary,	 [EMU_OP_DEC] = exec_unary,   [EMU_OP_BT] = exec_bt,
    [EMU_OP_MOVS] = exec_string, [EMU_OP_STOS] = exec_string, [EMU_OP_CMPXCHG] = exec_cmpxchg,
};

enum emu_result emu_execute(struct emu_ctxt *c)
{
	if (c->insn.op >= EMU_OP_COUNT || !exec_table[c->insn.op]) {
		c->why = "opcode not emulated";
		return EMU_UNHANDLED;
	}
	c->why = NULL;
	return exec_table[c->insn.op](c);
}

enum emu_mode emu_mode_of(bool cr0_pe, bool rflags_vm, bool efer_lma, bool cs_l, bool cs_d)
{
	if (efer_lma && cs_l)
		return EMU_MODE_64;
	if (!cr0_pe || rflags_vm)
		return EMU_MODE_16;
	return cs_d ? EMU_MODE_32 : EMU_MODE_16;
}

enum emu_result emulate(struct emu_ctxt *c, const u8 *bytes, unsigned len)
{
	enum emu_result r = emu_decode(c, bytes, len);
	if (r != EMU_OK)
		return r;
	return emu_execute(c);
}
