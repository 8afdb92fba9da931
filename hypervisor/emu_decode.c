/* The decode half of the emulator: bytes -> struct emu_insn (prefixes, opcode, ModRM/SIB,
 * 16/32/64-bit addressing, immediates, exact length). It knows the instructions emulate.c
 * carries out and stops at the opcode of any other. Guest bytes are hostile: every read is
 * bounded by what the caller fetched and by the architectural 15-byte limit. */
#include "emulate.h"
#include "lib.h"

/* Both halves raise faults this way (the decoder #UD and #GP, emulate.c the rest). */
enum emu_result emu_raise(struct emu_ctxt *c, u8 vector, bool has_error_code, u32 error_code)
{
	c->exc = (struct emu_exception){vector, has_error_code, error_code};
	c->why = "exception";
	return EMU_EXCEPTION;
}

/* Decode attributes of one opcode (struct opdesc.flags). */
enum {
	F_MODRM = 1 << 0,
	F_BYTE = 1 << 1,     /* 8-bit operand size */
	F_IMM8 = 1 << 2,     /* an 8-bit immediate follows */
	F_IMMZ = 1 << 3,     /* a 16- or 32-bit immediate follows, by operand size */
	F_MOFFS = 1 << 4,    /* a memory offset of the address size follows (A0-A3) */
	F_GROUP = 1 << 5,    /* ModRM.reg picks the operation: see decode_group() */
	F_NO64 = 1 << 6,     /* #UD in 64-bit mode */
	F_ONLY64 = 1 << 7,   /* another instruction outside 64-bit mode (63 is ARPL there) */
	F_MEMONLY = 1 << 8,  /* #UD with a register operand (MOVNTI, MOVBE) */
	F_NOPFX = 1 << 9,    /* 66/F2/F3 make it another instruction (SSE, CRC32) */
	F_REGFORM = 1 << 10, /* ModRM.mod is ignored: the operand is a register (MOV CR/DR) */
};

struct opdesc {
	u8 op, sub, dst, src;
	u16 flags;
	u8 src_size;
};

#define RM	  EMU_OPND_RM
#define REG	  EMU_OPND_REG
#define IMM	  EMU_OPND_IMM
#define ACC	  EMU_OPND_ACC
#define NONE_OPND EMU_OPND_NONE

/* The four ModRM forms of each classic ALU operation: Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev. */
/* clang-format off */
#define ALU_ROW(a)                                                                                 \
	[(a) * 8 + 0] = {EMU_OP_ALU, (a), RM, REG, F_MODRM | F_BYTE, 0},                           \
	[(a) * 8 + 1] = {EMU_OP_ALU, (a), RM, REG, F_MODRM, 0},                                    \
	[(a) * 8 + 2] = {EMU_OP_ALU, (a), REG, RM, F_MODRM | F_BYTE, 0},                           \
	[(a) * 8 + 3] = {EMU_OP_ALU, (a), REG, RM, F_MODRM, 0}
/* clang-format on */

static const struct opdesc onebyte[256] = {
    ALU_ROW(0),
    ALU_ROW(1),
    ALU_ROW(2),
    ALU_ROW(3),
    ALU_ROW(4),
    ALU_ROW(5),
    ALU_ROW(6),
    ALU_ROW(7),
    [0x63] = {EMU_OP_MOVSX, 0, REG, RM, F_MODRM | F_ONLY64, 0},
    [0x80] = {0, 0, 0, 0, F_GROUP | F_MODRM | F_BYTE | F_IMM8, 0},
    [0x81] = {0, 0, 0, 0, F_GROUP | F_MODRM | F_IMMZ, 0},
    [0x82] = {0, 0, 0, 0, F_GROUP | F_MODRM | F_BYTE | F_IMM8 | F_NO64, 0},
    [0x83] = {0, 0, 0, 0, F_GROUP | F_MODRM | F_IMM8, 0},
    [0x84] = {EMU_OP_TEST, 0, RM, REG, F_MODRM | F_BYTE, 0},
    [0x85] = {EMU_OP_TEST, 0, RM, REG, F_MODRM, 0},
    [0x86] = {EMU_OP_XCHG, 0, RM, REG, F_MODRM | F_BYTE, 0},
    [0x87] = {EMU_OP_XCHG, 0, RM, REG, F_MODRM, 0},
    [0x88] = {EMU_OP_MOV, 0, RM, REG, F_MODRM | F_BYTE, 0},
    [0x89] = {EMU_OP_MOV, 0, RM, REG, F_MODRM, 0},
    [0x8a] = {EMU_OP_MOV, 0, REG, RM, F_MODRM | F_BYTE, 0},
    [0x8b] = {EMU_OP_MOV, 0, REG, RM, F_MODRM, 0},
    [0xa0] = {EMU_OP_MOV, 0, ACC, RM, F_MOFFS | F_BYTE, 0},
    [0xa1] = {EMU_OP_MOV, 0, ACC, RM, F_MOFFS, 0},
    [0xa2] = {EMU_OP_MOV, 0, RM, ACC, F_MOFFS | F_BYTE, 0},
    [0xa3] = {EMU_OP_MOV, 0, RM, ACC, F_MOFFS, 0},
    [0xa4] = {EMU_OP_MOVS, 0, 0, 0, F_BYTE, 0},
    [0xa5] = {EMU_OP_MOVS, 0, 0, 0, 0, 0},
    [0xaa] = {EMU_OP_STOS, 0, 0, 0, F_BYTE, 0},
    [0xab] = {EMU_OP_STOS, 0, 0, 0, 0, 0},
    [0xc6] = {0, 0, 0, 0, F_GROUP | F_MODRM | F_BYTE | F_IMM8, 0},
    [0xc7] = {0, 0, 0, 0, F_GROUP | F_MODRM | F_IMMZ, 0},
    [0xf6] = {0, 0, 0, 0, F_GROUP | F_MODRM | F_BYTE, 0},
    [0xf7] = {0, 0, 0, 0, F_GROUP | F_MODRM, 0},
    [0xfe] = {0, 0, 0, 0, F_GROUP | F_MODRM | F_BYTE, 0},
    [0xff] = {0, 0, 0, 0, F_GROUP | F_MODRM, 0},
    [0x9c] = {EMU_OP_SYS, EMU_SYS_PUSHF, 0, 0, 0, 0},
    [0x9d] = {EMU_OP_SYS, EMU_SYS_POPF, 0, 0, 0, 0},
    [0xcd] = {EMU_OP_SYS, EMU_SYS_INT, 0, 0, F_IMM8, 0},
    [0xcf] = {EMU_OP_SYS, EMU_SYS_IRET, 0, 0, 0, 0},
    [0xf4] = {EMU_OP_SYS, EMU_SYS_HLT, 0, 0, 0, 0},
    [0xfa] = {EMU_OP_SYS, EMU_SYS_CLI, 0, 0, 0, 0},
    [0xfb] = {EMU_OP_SYS, EMU_SYS_STI, 0, 0, 0, 0},
};

static const struct opdesc twobyte[256] = {
    [0x01] = {0, 0, 0, 0, F_GROUP | F_MODRM, 0},
    [0x06] = {EMU_OP_SYS, EMU_SYS_CLTS, 0, 0, 0, 0},
    [0x08] = {EMU_OP_SYS, EMU_SYS_INVD, 0, 0, 0, 0},
    [0x09] = {EMU_OP_SYS, EMU_SYS_WBINVD, 0, 0, 0, 0},
    [0x20] = {EMU_OP_SYS, EMU_SYS_MOV_FROM_CR, RM, REG, F_MODRM | F_REGFORM, 0},
    [0x21] = {EMU_OP_SYS, EMU_SYS_MOV_FROM_DR, RM, REG, F_MODRM | F_REGFORM, 0},
    [0x22] = {EMU_OP_SYS, EMU_SYS_MOV_TO_CR, REG, RM, F_MODRM | F_REGFORM, 0},
    [0x23] = {EMU_OP_SYS, EMU_SYS_MOV_TO_DR, REG, RM, F_MODRM | F_REGFORM, 0},
    [0x30] = {EMU_OP_SYS, EMU_SYS_WRMSR, 0, 0, 0, 0},
    [0x32] = {EMU_OP_SYS, EMU_SYS_RDMSR, 0, 0, 0, 0},
    [0xa3] = {EMU_OP_BT, 0, RM, REG, F_MODRM, 0},
    [0xab] = {EMU_OP_BT, 1, RM, REG, F_MODRM, 0},
    [0xb3] = {EMU_OP_BT, 2, RM, REG, F_MODRM, 0},
    [0xbb] = {EMU_OP_BT, 3, RM, REG, F_MODRM, 0},
    [0xba] = {0, 0, 0, 0, F_GROUP | F_MODRM | F_IMM8, 0},
    [0xb6] = {EMU_OP_MOVZX, 0, REG, RM, F_MODRM, 1},
    [0xb7] = {EMU_OP_MOVZX, 0, REG, RM, F_MODRM, 2},
    [0xbe] = {EMU_OP_MOVSX, 0, REG, RM, F_MODRM, 1},
    [0xbf] = {EMU_OP_MOVSX, 0, REG, RM, F_MODRM, 2},
    [0xc3] = {EMU_OP_MOV, 0, RM, REG, F_MODRM | F_MEMONLY | F_NOPFX, 0},
    [0xb0] = {EMU_OP_CMPXCHG, 0, RM, REG, F_MODRM | F_BYTE, 0},
    [0xb1] = {EMU_OP_CMPXCHG, 0, RM, REG, F_MODRM, 0},
};

static const struct opdesc map0f38[256] = {
    [0xf0] = {EMU_OP_MOVBE, 0, REG, RM, F_MODRM | F_MEMONLY, 0},
    [0xf1] = {EMU_OP_MOVBE, 0, RM, REG, F_MODRM | F_MEMONLY, 0},
};

/* Group opcodes: the operation is ModRM.reg's (low three bits). */
static void decode_group(struct emu_insn *in, struct opdesc *d)
{
	unsigned r = in->reg & 7;
	d->dst = RM;
	switch (in->map == EMU_MAP_0F ? 0x100 | in->opcode : in->opcode) {
	case 0x80:
	case 0x81:
	case 0x82:
	case 0x83:
		d->op = EMU_OP_ALU, d->sub = r, d->src = IMM;
		break;
	case 0xc6:
	case 0xc7: /* /7 is XABORT/XBEGIN */
		if (r == 0)
			d->op = EMU_OP_MOV, d->src = IMM;
		break;
	case 0xf6:
	case 0xf7: /* /1 is an undocumented alias of TEST; /4-/7 are MUL, IMUL, DIV, IDIV */
		if (r <= 1) {
			d->op = EMU_OP_TEST, d->src = IMM;
			d->flags |= in->opcode == 0xf6 ? F_IMM8 : F_IMMZ;
		} else if (r <= 3) {
			d->op = r == 2 ? EMU_OP_NOT : EMU_OP_NEG;
		}
		break;
	case 0xfe:
	case 0xff: /* FF /2-/6 are indirect CALL/JMP and PUSH */
		if (r <= 1)
			d->op = r == 0 ? EMU_OP_INC : EMU_OP_DEC;
		break;
	case 0x1ba:
		if (r >= 4)
			d->op = EMU_OP_BT, d->sub = r - 4, d->src = IMM;
		break;
	case 0x101: /* with a register operand only LMSW and SMSW; the rest are others */
		if (r == 6)
			d->op = EMU_OP_SYS, d->sub = EMU_SYS_LMSW, d->dst = NONE_OPND;
		else if (in->mod != 3 && (r == 2 || r == 3 || r == 7))
			d->op = EMU_OP_SYS, d->dst = NONE_OPND,
			d->sub = r == 2	  ? EMU_SYS_LGDT
				 : r == 3 ? EMU_SYS_LIDT
					  : EMU_SYS_INVLPG;
		break;
	}
}

/* The instruction bytes: a read past what the caller fetched, or past 15 bytes, sets err. */
struct cursor {
	const u8 *bytes;
	unsigned avail; /* min(len, 15) */
	unsigned pos;
	enum { CUR_OK, CUR_SHORT, CUR_LONG } err;
};

static u64 take(struct cursor *cur, unsigned n)
{
	u64 v = 0;
	if (cur->err)
		return 0;
	if (cur->pos + n > cur->avail) {
		/* with all 15 bytes at hand, needing more means the instruction is too long */
		cur->err = cur->avail >= EMU_MAX_INSN_LEN ? CUR_LONG : CUR_SHORT;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (u64)cur->bytes[cur->pos + i] << (8 * i);
	cur->pos += n;
	return v;
}

static u64 sign_extend(u64 v, unsigned size)
{
	if (size >= 8)
		return v;
	u64 sign = 1ULL << (8 * size - 1);
	v &= (sign << 1) - 1;
	return (v ^ sign) - sign;
}

static void decode_mem16(struct emu_insn *in, struct cursor *cur, u8 modrm)
{
	/* BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 alone with mod 0), BX */
	static const s8 base16[8] = {3, 3, 5, 5, 6, 7, 5, 3};
	static const s8 index16[8] = {6, 7, 6, 7, -1, -1, -1, -1};
	unsigned rm = modrm & 7;
	in->base = base16[rm];
	in->index = index16[rm];
	if (in->mod == 0 && rm == 6) {
		in->base = -1;
		in->disp = sign_extend(take(cur, 2), 2);
	} else if (in->mod == 1) {
		in->disp = sign_extend(take(cur, 1), 1);
	} else if (in->mod == 2) {
		in->disp = sign_extend(take(cur, 2), 2);
	}
	if (in->base == 5 && !in->seg_override) /* BP-based forms default to the stack */
		in->seg = EMU_SEG_SS;
}

static void decode_mem32(struct emu_insn *in, struct cursor *cur, u8 modrm, bool mode64)
{
	unsigned rex_b = in->rex & 1 ? 8 : 0, rex_x = in->rex & 2 ? 8 : 0;
	unsigned rm = modrm & 7;
	if (rm == 4) {
		u8 sib = take(cur, 1);
		unsigned index = ((sib >> 3) & 7) | rex_x;
		in->scale = 1 << (sib >> 6);
		if (index != 4) /* RSP cannot be an index: this encoding means none (R12 can) */
			in->index = index;
		if ((sib & 7) == 5 && in->mod == 0)
			in->disp = sign_extend(take(cur, 4), 4);
		else
			in->base = (sib & 7) | rex_b;
	} else if (rm == 5 && in->mod == 0) {
		in->rip_rel = mode64; /* plain disp32 outside 64-bit mode */
		in->disp = sign_extend(take(cur, 4), 4);
	} else {
		in->base = rm | rex_b;
	}
	if (in->mod == 1)
		in->disp = sign_extend(take(cur, 1), 1);
	else if (in->mod == 2)
		in->disp = sign_extend(take(cur, 4), 4);
	/* RSP/RBP-based forms default to the stack; R12/R13 stay with DS */
	if ((in->base == 4 || in->base == 5) && !in->seg_override)
		in->seg = EMU_SEG_SS;
}

/* Whether LOCK is allowed: read-modify-write instructions with a memory destination. */
static bool lock_allowed(const struct emu_insn *in)
{
	if (!in->mem || in->dst != RM)
		return false;
	switch (in->op) {
	case EMU_OP_ALU:
		return in->sub != EMU_ALU_CMP;
	case EMU_OP_BT:
		return in->sub != 0;
	case EMU_OP_XCHG:
	case EMU_OP_CMPXCHG:
	case EMU_OP_NOT:
	case EMU_OP_NEG:
	case EMU_OP_INC:
	case EMU_OP_DEC:
		return true;
	default:
		return false;
	}
}

static enum emu_result unhandled(struct emu_ctxt *c, const char *why)
{
	c->why = why;
	return EMU_UNHANDLED;
}

static enum emu_result cursor_failed(struct emu_ctxt *c, const struct cursor *cur)
{
	if (cur->err == CUR_LONG) {
		emu_raise(c, EMU_VEC_GP, true, 0);
		c->why = "instruction longer than 15 bytes";
		return EMU_EXCEPTION;
	}
	return unhandled(c, "instruction runs past the fetched bytes");
}

static enum emu_result raise_ud(struct emu_ctxt *c, const char *why)
{
	emu_raise(c, EMU_VEC_UD, false, 0);
	c->why = why;
	return EMU_EXCEPTION;
}

/* Legacy prefixes and REX. A REX byte counts only right before the opcode. */
static void decode_prefixes(struct emu_insn *in, struct cursor *cur, bool mode64)
{
	for (;;) {
		u8 b = take(cur, 1);
		if (cur->err)
			return;
		switch (b) {
		case 0xf0:
			in->lock = true;
			break;
		case 0xf2:
		case 0xf3:
			in->rep = b;
			break;
		case 0x66:
			in->opsize_prefix = true;
			break;
		case 0x67:
			in->addrsize_prefix = true;
			break;
		case 0x26: /* ES, CS, SS, DS: bits 4:3 hold the segment number */
		case 0x2e:
		case 0x36:
		case 0x3e:
			if (!mode64) { /* 64-bit mode ignores these four */
				in->seg = (b >> 3) & 3;
				in->seg_override = true;
			}
			break;
		case 0x64:
		case 0x65:
			in->seg = b == 0x64 ? EMU_SEG_FS : EMU_SEG_GS;
			in->seg_override = true;
			break;
		default:
			if (mode64 && (b & 0xf0) == 0x40) {
				in->rex = b;
				continue;
			}
			in->opcode = b;
			return;
		}
		in->rex = 0;
	}
}

static void decode_sizes(struct emu_insn *in, enum emu_mode mode, const struct opdesc *d)
{
	if (mode == EMU_MODE_64)
		in->addr_size = in->addrsize_prefix ? 4 : 8;
	else if (mode == EMU_MODE_32)
		in->addr_size = in->addrsize_prefix ? 2 : 4;
	else
		in->addr_size = in->addrsize_prefix ? 4 : 2;

	if (d->flags & F_BYTE)
		in->op_size = 1;
	else if (in->rex & 8) /* REX.W wins over 66 */
		in->op_size = 8;
	else if (mode == EMU_MODE_16)
		in->op_size = in->opsize_prefix ? 4 : 2;
	else
		in->op_size = in->opsize_prefix ? 2 : 4;
}

static const struct opdesc *lookup(struct emu_insn *in, struct cursor *cur)
{
	if (in->opcode != 0x0f)
		return &onebyte[in->opcode];
	in->opcode = take(cur, 1);
	if (in->opcode == 0x38) {
		in->map = EMU_MAP_0F38;
		in->opcode = take(cur, 1);
		return &map0f38[in->opcode];
	}
	in->map = EMU_MAP_0F;
	return &twobyte[in->opcode];
}

enum emu_result emu_decode(struct emu_ctxt *c, const u8 *bytes, unsigned len)
{
	struct emu_insn *in = &c->insn;
	struct cursor cur = {bytes, MIN(len, EMU_MAX_INSN_LEN), 0, CUR_OK};
	bool mode64 = c->mode == EMU_MODE_64;

	memset(in, 0, sizeof(*in));
	in->base = in->index = -1;
	in->scale = 1;
	in->seg = EMU_SEG_DS;
	c->why = NULL;

	decode_prefixes(in, &cur, mode64);
	struct opdesc d = *lookup(in, &cur);
	if (cur.err)
		return cursor_failed(c, &cur);
	if (d.op == EMU_OP_NONE && !(d.flags & F_GROUP))
		return unhandled(c, "opcode not emulated");
	if ((d.flags & F_ONLY64) && !mode64)
		return unhandled(c, "opcode not emulated outside 64-bit mode");
	if ((d.flags & F_NO64) && mode64)
		return raise_ud(c, "opcode invalid in 64-bit mode");
	if ((d.flags & F_NOPFX) && (in->opsize_prefix || in->rep))
		return unhandled(c, "opcode not emulated with this prefix");
	if (in->map == EMU_MAP_0F38 && in->rep) /* F2 0F 38 F0/F1 is CRC32 */
		return unhandled(c, "opcode not emulated with this prefix");
	decode_sizes(in, c->mode, &d);

	if (d.flags & F_MODRM) {
		u8 modrm = take(&cur, 1);
		if (cur.err)
			return cursor_failed(c, &cur);
		in->has_modrm = true;
		in->mod = modrm >> 6;
		in->reg = ((modrm >> 3) & 7) | (in->rex & 4 ? 8 : 0);
		in->rm = (modrm & 7) | (in->rex & 1 ? 8 : 0);
		if (d.flags & F_GROUP) {
			decode_group(in, &d);
			if (d.op == EMU_OP_NONE)
				return unhandled(c, "opcode not emulated");
		}
		if (d.flags & F_REGFORM)
			in->mod = 3;
		if (in->mod != 3) {
			in->mem = true;
			if (in->addr_size == 2)
				decode_mem16(in, &cur, modrm);
			else
				decode_mem32(in, &cur, modrm, mode64);
		}
	} else if (d.flags & F_MOFFS) {
		in->mem = true;
		in->disp = (s64)take(&cur, in->addr_size); /* an offset: not sign-extended */
	}

	if (d.flags & F_IMM8)
		in->imm_size = 1;
	else if (d.flags & F_IMMZ)
		in->imm_size = in->op_size == 2 ? 2 : 4;
	if (in->imm_size)
		in->imm = sign_extend(take(&cur, in->imm_size), in->imm_size);
	if (cur.err)
		return cursor_failed(c, &cur);

	in->len = cur.pos;
	in->op = d.op;
	in->sub = d.sub;
	in->dst = d.dst;
	in->src = d.src;
	in->src_size = d.src_size ? d.src_size : in->op_size;
	if (in->op == EMU_OP_MOVSX && in->map == EMU_MAP_1BYTE) /* MOVSXD: at most 32 bits */
		in->src_size = MIN(in->op_size, 4);

	if ((d.flags & F_MEMONLY) && !in->mem)
		return raise_ud(c, "register operand where only memory is valid");
	if (in->lock && !lock_allowed(in))
		return raise_ud(c, "LOCK prefix on an instruction that cannot take it");
	return EMU_OK;
}
