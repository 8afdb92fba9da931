/* Tests of the emulator's arithmetic and flags: emu_alu() against hand-checked values, and
 * every ALU, unary and BT instruction in every size against the host CPU running the same
 * operation natively (inline assembly lives here, in the test, never in the emulator). */
#include "emu_fake.h"

#define ARITH EMU_RFLAGS_ARITH
#define CF    EMU_RFLAGS_CF
#define PF    EMU_RFLAGS_PF
#define AF    EMU_RFLAGS_AF
#define ZF    EMU_RFLAGS_ZF
#define SF    EMU_RFLAGS_SF
#define OF    EMU_RFLAGS_OF

/* ---- known values ---- */

struct alu_known {
	u8 op, size;
	u64 a, b, flags_in;
	u64 result, flags;
};

TEST(emu_alu_known_values)
{
	static const struct alu_known k[] = {
	    {EMU_ALU_ADD, 1, 0xff, 0x01, 0, 0x00, CF | PF | AF | ZF},
	    {EMU_ALU_ADD, 1, 0x7f, 0x01, 0, 0x80, OF | SF | AF},
	    {EMU_ALU_ADD, 8, 0x7fffffffffffffffULL, 1, 0, 0x8000000000000000ULL, OF | SF | AF | PF},
	    {EMU_ALU_ADD, 4, 0x80000000, 0x80000000, 0, 0, CF | OF | ZF | PF},
	    {EMU_ALU_ADD, 2, 0x1234, 0x0001, ARITH, 0x1235, PF},
	    {EMU_ALU_SUB, 1, 0x00, 0x01, 0, 0xff, CF | PF | AF | SF},
	    {EMU_ALU_SUB, 1, 0x80, 0x01, 0, 0x7f, OF | AF},
	    {EMU_ALU_SUB, 2, 0x0010, 0x0001, 0, 0x000f, AF | PF},
	    {EMU_ALU_CMP, 4, 5, 5, CF | SF, 0, ZF | PF},
	    {EMU_ALU_ADC, 2, 0xffff, 0, CF, 0, CF | ZF | PF | AF},
	    {EMU_ALU_ADC, 1, 0x7f, 0x00, CF, 0x80, OF | SF | AF},
	    {EMU_ALU_ADC, 8, ~0ULL, ~0ULL, CF, ~0ULL, CF | SF | PF | AF},
	    {EMU_ALU_SBB, 4, 0, 0, CF, 0xffffffff, CF | PF | AF | SF},
	    {EMU_ALU_SBB, 1, 0x80, 0x7f, CF, 0x00, OF | ZF | PF | AF},
	    {EMU_ALU_AND, 8, 0x8000000000000000ULL, ~0ULL, ARITH, 0x8000000000000000ULL, SF | PF},
	    {EMU_ALU_OR, 1, 0, 0, CF | OF, 0, ZF | PF},
	    {EMU_ALU_XOR, 2, 0x00ff, 0x0001, 0, 0x00fe, 0},
	    {EMU_ALU_TEST, 4, 0xf0, 0x0f, 0, 0, ZF | PF},
	    {EMU_ALU_INC, 1, 0xff, 0, CF, 0x00, CF | ZF | PF | AF},
	    {EMU_ALU_INC, 1, 0xff, 0, 0, 0x00, ZF | PF | AF},
	    {EMU_ALU_DEC, 4, 0x80000000, 0, 0, 0x7fffffff, OF | AF | PF},
	    {EMU_ALU_DEC, 8, 0, 0, CF, ~0ULL, CF | SF | PF | AF},
	    {EMU_ALU_NEG, 1, 0x01, 0, 0, 0xff, CF | SF | PF | AF},
	    {EMU_ALU_NEG, 1, 0x00, 0, CF, 0x00, ZF | PF},
	    {EMU_ALU_NEG, 1, 0x80, 0, 0, 0x80, CF | OF | SF},
	    {EMU_ALU_NEG, 2, 0x0010, 0, 0, 0xfff0, CF | SF | PF},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		/* bits outside the six arithmetic flags pass through untouched */
		u64 flags = k[i].flags_in | 0x2 | EMU_RFLAGS_DF | BIT(9);
		u64 r = emu_alu(k[i].op, k[i].a, k[i].b, k[i].size, &flags);
		CHECK_EQ(r, k[i].result);
		CHECK_EQ(flags, k[i].flags | 0x2 | EMU_RFLAGS_DF | BIT(9));
		if (r != k[i].result || (flags & ARITH) != k[i].flags)
			test_fail(__FILE__, __LINE__, "case %u", i);
	}
}

TEST(emu_alu_operands_wider_than_size_are_truncated)
{
	u64 flags = 0x2;
	CHECK_EQ(emu_alu(EMU_ALU_ADD, 0x1ff, 0x101, 1, &flags), 0x00);
	CHECK_EQ(flags & ARITH, CF | ZF | PF | AF);
	CHECK_EQ(emu_alu(EMU_ALU_SUB, 0xffffffff00000000ULL, 1, 4, &flags), 0xffffffff);
	CHECK(flags & CF);
}

/* ---- the host CPU as the oracle ---- */

#if defined(__x86_64__)

/* Load RFLAGS, run the instruction on registers, save RFLAGS. The stack pointer steps over
 * the red zone first: the compiler may keep locals there. */
#define NATIVE(name, body, ...)                                                                    \
	static u64 name(u64 a, u64 b, u64 *flags)                                                  \
	{                                                                                          \
		u64 f = *flags;                                                                    \
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"                                      \
				 "push %[f]\n\t"                                                   \
				 "popfq\n\t" body "\n\t"                                           \
				 "pushfq\n\t"                                                      \
				 "pop %[f]\n\t"                                                    \
				 "lea 128(%%rsp), %%rsp"                                           \
				 : [a] "+r"(a), [f] "+r"(f)                                        \
				 : [b] "r"(b)                                                      \
				 : "cc", "memory");                                                \
		*flags = f;                                                                        \
		return a;                                                                          \
	}
#define BINARY(op)                                                                                 \
	NATIVE(native_##op##_1, #op " %b[b], %b[a]")                                               \
	NATIVE(native_##op##_2, #op " %w[b], %w[a]")                                               \
	NATIVE(native_##op##_4, #op " %k[b], %k[a]")                                               \
	NATIVE(native_##op##_8, #op " %q[b], %q[a]")
#define UNARY(op)                                                                                  \
	NATIVE(native_##op##_1, #op " %b[a]")                                                      \
	NATIVE(native_##op##_2, #op " %w[a]")                                                      \
	NATIVE(native_##op##_4, #op " %k[a]")                                                      \
	NATIVE(native_##op##_8, #op " %q[a]")
#define BITOP(op)                                                                                  \
	NATIVE(native_##op##_2, #op " %w[b], %w[a]")                                               \
	NATIVE(native_##op##_4, #op " %k[b], %k[a]")                                               \
	NATIVE(native_##op##_8, #op " %q[b], %q[a]")

BINARY(add)
BINARY(or)
BINARY(adc)
BINARY(sbb)
BINARY(and)
BINARY(sub)
BINARY(xor)
BINARY(cmp)
BINARY(test)
UNARY(inc)
UNARY(dec)
UNARY(neg)
UNARY(not )
BITOP(bt)
BITOP(bts)
BITOP(btr)
BITOP(btc)

typedef u64 (*native_fn)(u64 a, u64 b, u64 *flags);

/* One instruction: how the host runs it, and its encoding with r/m and reg operands (the
 * emulator gets it as "op [rbx], rdx" and as "op rax, rdx"). */
struct oracle_op {
	const char *name;
	native_fn fn[4]; /* by size 1, 2, 4, 8; NULL where the size does not exist */
	u8 opcode[2];	 /* opcode bytes for sizes 2-8 (0F-escaped where opcode[0] is 0x0f) */
	u8 opcode8;	 /* the byte-size opcode, 0 if none */
	u8 reg_field;	 /* ModRM.reg: 2 (RDX) for two-operand forms, /digit for groups */
	u64 undefined;	 /* flags the SDM leaves undefined: not compared */
	bool bit_offset; /* BT*: the register is a bit offset */
};

#define FNS(op)                                                                                    \
	{                                                                                          \
		native_##op##_1, native_##op##_2, native_##op##_4, native_##op##_8                 \
	}
#define BITFNS(op)                                                                                 \
	{                                                                                          \
		NULL, native_##op##_2, native_##op##_4, native_##op##_8                            \
	}

static const struct oracle_op oracle_ops[] = {
    {"add", FNS(add), {0x01}, 0x00, 2, 0, false},
    {"or", FNS(or), {0x09}, 0x08, 2, AF, false},
    {"adc", FNS(adc), {0x11}, 0x10, 2, 0, false},
    {"sbb", FNS(sbb), {0x19}, 0x18, 2, 0, false},
    {"and", FNS(and), {0x21}, 0x20, 2, AF, false},
    {"sub", FNS(sub), {0x29}, 0x28, 2, 0, false},
    {"xor", FNS(xor), {0x31}, 0x30, 2, AF, false},
    {"cmp", FNS(cmp), {0x39}, 0x38, 2, 0, false},
    {"test", FNS(test), {0x85}, 0x84, 2, AF, false},
    {"inc", FNS(inc), {0xff}, 0xfe, 0, 0, false},
    {"dec", FNS(dec), {0xff}, 0xfe, 1, 0, false},
    {"not", FNS(not ), {0xf7}, 0xf6, 2, 0, false},
    {"neg", FNS(neg), {0xf7}, 0xf6, 3, 0, false},
    {"bt", BITFNS(bt), {0x0f, 0xa3}, 0, 2, OF | SF | AF | PF, true},
    {"bts", BITFNS(bts), {0x0f, 0xab}, 0, 2, OF | SF | AF | PF, true},
    {"btr", BITFNS(btr), {0x0f, 0xb3}, 0, 2, OF | SF | AF | PF, true},
    {"btc", BITFNS(btc), {0x0f, 0xbb}, 0, 2, OF | SF | AF | PF, true},
};

static const u64 edge_values[] = {
    0,
    1,
    2,
    0x0f,
    0x10,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x10000,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    0x100000000ULL,
    0x7fffffffffffffffULL,
    0x8000000000000000ULL,
    0xfffffffffffffffeULL,
    0xffffffffffffffffULL,
    0x123456789abcdef0ULL,
};

static u64 rng_state = 0x2545f4914f6cdd1dULL;
/* Encodes op for the given size with ModRM mod/rm and reg 2 (or the group digit). */
static unsigned encode(const struct oracle_op *o, unsigned size, u8 modrm_mod_rm, u8 *out)
{
	unsigned n = 0;
	if (size == 2)
		out[n++] = 0x66;
	if (size == 8)
		out[n++] = 0x48;
	if (size == 1) {
		out[n++] = o->opcode8;
	} else {
		out[n++] = o->opcode[0];
		if (o->opcode[0] == 0x0f)
			out[n++] = o->opcode[1];
	}
	out[n++] = modrm_mod_rm | (o->reg_field << 3);
	return n;
}

static unsigned mismatches;

static void compare_one(struct emu_test *t, const struct oracle_op *o, unsigned size, u64 a, u64 b,
			u64 flags_in)
{
	unsigned si = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
	u64 mask = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	u64 cmp_flags = ARITH & ~o->undefined;
	u8 insn[4];
	unsigned n;

	/* the host: a in a register, full 64 bits, so 8/16-bit merges and 32-bit zero
	 * extension are part of what is compared */
	u64 native_flags = flags_in;
	u64 native = o->fn[si](a, b, &native_flags);

	/* register form: op rax, rdx (ModRM 11 reg 000) */
	n = encode(o, size, 0xc0, insn);
	emu_test_clear_log(t);
	t->regs.gpr[0] = a;
	t->regs.gpr[2] = b;
	t->regs.rflags = flags_in;
	t->regs.rip = 0x1000;
	REQUIRE(emulate(&t->c, insn, n) == EMU_OK);
	bool bad = t->regs.gpr[0] != native || t->regs.gpr[2] != b ||
		   (t->regs.rflags & cmp_flags) != (native_flags & cmp_flags) ||
		   (t->regs.rflags & ~ARITH) != (flags_in & ~ARITH);

	/* memory form: op [rbx], rdx (ModRM 00 reg 011); BT offsets kept inside the operand */
	u64 bm = o->bit_offset ? b & (8 * size - 1) : b;
	n = encode(o, size, 0x03, insn);
	emu_test_clear_log(t);
	t->regs.gpr[3] = 0x1010;
	t->regs.gpr[2] = bm;
	t->regs.rflags = flags_in;
	fake_put(t, 0x1010, a, 8);
	REQUIRE(emulate(&t->c, insn, n) == EMU_OK);
	u64 mem = fake_get(t, 0x1010, 8);
	bad = bad || (mem & mask) != (native & mask) || (mem & ~mask) != (a & ~mask) ||
	      (t->regs.rflags & cmp_flags) != (native_flags & cmp_flags);

	if (bad && mismatches++ < 10)
		test_fail(__FILE__, __LINE__,
			  "%s size %u a=%#llx b=%#llx flags_in=%#llx: native %#llx flags %#llx, "
			  "emulated reg %#llx mem %#llx flags %#llx",
			  o->name, size, (unsigned long long)a, (unsigned long long)b,
			  (unsigned long long)flags_in, (unsigned long long)native,
			  (unsigned long long)native_flags, (unsigned long long)t->regs.gpr[0],
			  (unsigned long long)mem, (unsigned long long)t->regs.rflags);
}

TEST(emu_flags_match_the_host_cpu)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	unsigned compared = 0;
	mismatches = 0;
	for (unsigned oi = 0; oi < ARRAY_SIZE(oracle_ops); oi++) {
		const struct oracle_op *o = &oracle_ops[oi];
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = 1u << si;
			if (!o->fn[si])
				continue;
			for (unsigned i = 0; i < ARRAY_SIZE(edge_values); i++) {
				for (unsigned j = 0; j < ARRAY_SIZE(edge_values); j++) {
					u64 f = 0x2 | (test_rng(&rng_state) & ARITH);
					compare_one(t, o, size, edge_values[i], edge_values[j], f);
					compare_one(t, o, size, edge_values[i], edge_values[j],
						    f ^ CF);
					compared += 2;
				}
			}
			for (unsigned i = 0; i < 500; i++) {
				u64 a = test_rng(&rng_state), b = test_rng(&rng_state);
				if (i & 1) /* small numbers meet at the carries more often */
					a &= 0x1ff, b &= 0x1ff;
				compare_one(t, o, size, a, b, 0x2 | (test_rng(&rng_state) & ARITH));
				compared++;
			}
		}
	}
	CHECK_EQ(mismatches, 0);
	CHECK(compared > 60000);
}

#endif
