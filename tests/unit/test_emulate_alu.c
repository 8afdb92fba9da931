/* Tests of the emulator's ALU instructions: the eight two-operand ops to memory and to a
 * register, group 1 immediates, TEST, XCHG, CMPXCHG, the BT family and NOT/NEG/INC/DEC.
 * Flag arithmetic against the host CPU is in test_emulate_flags.c. */
#include "emu_check.h"

/* ---- ALU ---- */

struct alu_case {
	u8 op; /* enum emu_alu, ADD..CMP */
	u64 a, b;
	u64 want;
};

TEST(emu_alu_memory_destination_all_eight)
{
	static const struct alu_case cases[] = {
	    {EMU_ALU_ADD, 0xfffffff0, 0x20, 0x10},	 {EMU_ALU_OR, 0xf0f0, 0x0f00, 0xfff0},
	    {EMU_ALU_ADC, 5, 6, 12 /* CF set */},	 {EMU_ALU_SBB, 5, 6, 0xfffffffe},
	    {EMU_ALU_AND, 0xff00ff, 0x0ff0f0, 0x0f00f0}, {EMU_ALU_SUB, 5, 6, 0xffffffff},
	    {EMU_ALU_XOR, 0xffff, 0x0ff0, 0xf00f},	 {EMU_ALU_CMP, 5, 6, 5},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct alu_case *k = &cases[i];
		struct emu_test *t = emu_test_new(EMU_MODE_64);
		t->regs.gpr[RBX] = 0x1010;
		t->regs.gpr[RDX] = k->b;
		t->regs.rflags |= EMU_RFLAGS_CF;
		fake_put(t, 0x1010, k->a, 4);
		/* op [rbx], edx: opcode 8*op+1, ModRM 00 010 011 */
		REQUIRE(EMU(t, 8 * k->op + 1, 0x13) == EMU_OK);
		CHECK_EQ(fake_get(t, 0x1010, 4), k->want);
		CHECK_EQ(t->nlog, k->op == EMU_ALU_CMP ? 1 : 2);
		CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1010, 4, k->a);
		CHECK_EQ(t->regs.gpr[RDX], k->b);
		u64 flags = 0x2 | EMU_RFLAGS_CF;
		emu_alu(k->op, k->a, k->b, 4, &flags);
		CHECK_EQ(t->regs.rflags, flags);
		CHECK_EQ(t->regs.rip, RIP0 + 2);
	}
}

TEST(emu_alu_register_destination_and_sizes)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0x0102030405060708ULL, 8);
	t->regs.gpr[RAX] = 0xffffffffffffff00ULL;
	CHECK_EQ(EMU(t, 0x02, 0x03), EMU_OK); /* add al, [rbx] */
	CHECK_EQ(t->regs.gpr[RAX], 0xffffffffffffff08ULL);
	CHECK_EQ(t->nlog, 1);
	CHECK_EQ(EMU(t, 0x66, 0x2b, 0x03), EMU_OK); /* sub ax, [rbx]: ff08 - 0708 */
	CHECK_EQ(t->regs.gpr[RAX], 0xfffffffffffff800ULL);
	CHECK(t->regs.rflags & EMU_RFLAGS_SF);
	CHECK_EQ(EMU(t, 0x0b, 0x03), EMU_OK); /* or eax, [rbx]: zero-extends */
	CHECK_EQ(t->regs.gpr[RAX], 0xffffff08ULL);
	CHECK_EQ(EMU(t, 0x48, 0x33, 0x03), EMU_OK); /* xor rax, [rbx] */
	CHECK_EQ(t->regs.gpr[RAX], 0x01020304faf9f800ULL);
	CHECK_EQ(EMU(t, 0x3b, 0x03), EMU_OK); /* cmp eax, [rbx]: no write, eax untouched */
	CHECK_EQ(t->regs.gpr[RAX], 0x01020304faf9f800ULL);
	CHECK_EQ(t->nlog, 1);
	CHECK_EQ(EMU(t, 0x00, 0x23), EMU_OK); /* add [rbx], ah: 08 + f8 */
	CHECK_ACCESS(t, 1, W, EMU_SEG_DS, 0x1010, 1, 0x00);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK(t->regs.rflags & EMU_RFLAGS_ZF);
	CHECK_EQ(EMU(t, 0x4c, 0x01, 0x03), EMU_OK); /* add [rbx], r8 */
	CHECK_EQ(t->log[1].size, 8);
	/* register-register: adc ecx, edx with CF */
	t->regs.gpr[RCX] = 0xffffffff00000001ULL;
	t->regs.gpr[RDX] = 2;
	t->regs.rflags |= EMU_RFLAGS_CF;
	CHECK_EQ(EMU(t, 0x11, 0xd1), EMU_OK);
	CHECK_EQ(t->regs.gpr[RCX], 4);
}

TEST(emu_alu_group1_immediates)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0x10, 8);
	CHECK_EQ(EMU(t, 0x80, 0x03, 0xff), EMU_OK); /* add byte [rbx], 0xff */
	CHECK_EQ(fake_get(t, 0x1010, 8), 0x0f);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK_EQ(t->c.insn.len, 3);
	CHECK_EQ(EMU(t, 0x48, 0x83, 0x03, 0xff), EMU_OK); /* add qword [rbx], -1 */
	CHECK_EQ(fake_get(t, 0x1010, 8), 0x0e);
	CHECK_EQ(EMU(t, 0x48, 0x83, 0x2b, 0x10), EMU_OK); /* sub qword [rbx], 16 */
	CHECK_EQ(fake_get(t, 0x1010, 8), 0xfffffffffffffffeULL);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK(t->regs.rflags & EMU_RFLAGS_SF);
	CHECK_EQ(EMU(t, 0x48, 0x81, 0x23, 0x00, 0xff, 0xff, 0x80), EMU_OK); /* and, sext imm32 */
	CHECK_EQ(fake_get(t, 0x1010, 8), 0xffffffff80ffff00ULL);
	CHECK_EQ(t->c.insn.len, 7);
	CHECK_EQ(EMU(t, 0x81, 0x33, 0xff, 0xff, 0xff, 0xff), EMU_OK); /* xor dword */
	CHECK_EQ(fake_get(t, 0x1010, 8), 0xffffffff7f0000ffULL);
	CHECK_EQ(EMU(t, 0x66, 0x81, 0x0b, 0x00, 0xf0), EMU_OK); /* or word, imm16 */
	CHECK_EQ(t->c.insn.len, 5);
	CHECK_EQ(fake_get(t, 0x1010, 8), 0xffffffff7f00f0ffULL);
	CHECK_EQ(EMU(t, 0x66, 0x83, 0x3b, 0x80), EMU_OK); /* cmp word, -128: no write */
	CHECK_EQ(t->nlog, 1);
	CHECK_EQ(t->log[0].size, 2);
	t->regs.rflags |= EMU_RFLAGS_CF;
	CHECK_EQ(EMU(t, 0x80, 0x13, 0x00), EMU_OK); /* adc byte, 0: ff + 0 + 1 */
	CHECK_EQ(t->mem[0x10], 0x00);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK_EQ(EMU(t, 0x80, 0x1b, 0x01), EMU_OK); /* sbb byte, 1: 0 - 1 - 1 */
	CHECK_EQ(t->mem[0x10], 0xfe);

	/* 82 is 80's alias outside 64-bit mode and #UD in it */
	CHECK_EQ(EMU(t, 0x82, 0x03, 0x01), EMU_EXCEPTION);
	CHECK_EQ(t->c.exc.vector, EMU_VEC_UD);
	CHECK_EQ(t->nlog, 0);
	t->c.mode = EMU_MODE_32;
	CHECK_EQ(EMU(t, 0x82, 0x03, 0x01), EMU_OK);
	CHECK_EQ(t->mem[0x10], 0xff);
	/* in 16-bit code the iz immediate is 16 bits */
	t->c.mode = EMU_MODE_16;
	t->regs.rip = 0;
	CHECK_EQ(EMU(t, 0x81, 0x07, 0x34, 0x12), EMU_OK); /* add word [bx], 0x1234 */
	CHECK_EQ(t->c.insn.len, 4);
	CHECK_EQ(fake_get(t, 0x1010, 2), (0xf0ff + 0x1234) & 0xffff);
}

TEST(emu_test_instructions)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0x80000001, 4);
	t->regs.gpr[RAX] = 1;
	t->regs.rflags |= EMU_RFLAGS_CF | EMU_RFLAGS_OF;
	CHECK_EQ(EMU(t, 0x85, 0x03), EMU_OK); /* test [rbx], eax */
	CHECK_EQ(t->nlog, 1);
	CHECK_EQ(t->regs.rflags & EMU_RFLAGS_ARITH, 0); /* 1: odd parity, CF/OF cleared */
	CHECK_EQ(EMU(t, 0x84, 0x23), EMU_OK);		/* test [rbx], ah */
	CHECK(t->regs.rflags & EMU_RFLAGS_ZF);
	CHECK_EQ(EMU(t, 0xf7, 0x03, 0x00, 0x00, 0x00, 0x80), EMU_OK); /* test dword, imm32 */
	CHECK_EQ(t->regs.rflags & EMU_RFLAGS_ARITH, EMU_RFLAGS_SF | EMU_RFLAGS_PF);
	CHECK_EQ(t->c.insn.len, 6);
	CHECK_EQ(EMU(t, 0x66, 0xf7, 0x03, 0x01, 0x00), EMU_OK);
	CHECK_EQ(t->c.insn.len, 5);
	CHECK_EQ(EMU(t, 0xf6, 0x03, 0x02), EMU_OK); /* test byte, imm8 */
	CHECK(t->regs.rflags & EMU_RFLAGS_ZF);
	CHECK_EQ(t->c.insn.len, 3);
	CHECK_EQ(EMU(t, 0xf6, 0x0b, 0x01), EMU_OK); /* /1: the undocumented alias */
	CHECK(!(t->regs.rflags & EMU_RFLAGS_ZF));
	CHECK_EQ(EMU(t, 0x48, 0xf7, 0x03, 0xff, 0xff, 0xff, 0xff), EMU_OK);
	CHECK_EQ(t->log[0].size, 8);
	CHECK_EQ(t->regs.rflags & EMU_RFLAGS_ARITH, 0); /* 64-bit 0x80000001: positive, odd */
	CHECK_EQ(fake_get(t, 0x1010, 4), 0x80000001);
}

TEST(emu_xchg)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0xaabbccdd, 4);
	t->regs.gpr[RAX] = 0xffffffff11223344ULL;
	CHECK_EQ(EMU(t, 0x87, 0x03), EMU_OK);
	CHECK_EQ(t->nlog, 2);
	CHECK_ACCESS(t, 1, W, EMU_SEG_DS, 0x1010, 4, 0x11223344);
	CHECK_EQ(t->regs.gpr[RAX], 0xaabbccdd);
	CHECK_EQ(EMU(t, 0x86, 0x23), EMU_OK); /* xchg [rbx], ah */
	CHECK_EQ(t->mem[0x10], 0xcc);
	CHECK_EQ(t->regs.gpr[RAX], 0xaabb44dd);
	CHECK_EQ(EMU(t, 0xf0, 0x48, 0x87, 0x03), EMU_OK); /* LOCK is fine */
	CHECK_EQ(t->log[0].size, 8);
	/* register form: xchg al, ah */
	t->regs.gpr[RAX] = 0x1234;
	CHECK_EQ(EMU(t, 0x86, 0xe0), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0x3412);
	/* a failed write leaves the register alone */
	t->regs.gpr[RAX] = 7;
	t->fault_write = true;
	t->fault_lo = 0x1010;
	t->fault_hi = 0x1011;
	t->fault_vector = 13;
	CHECK_EQ(EMU(t, 0x87, 0x03), EMU_EXCEPTION);
	CHECK_EQ(t->regs.gpr[RAX], 7);
}

TEST(emu_cmpxchg)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0x1111222233334444ULL, 8);
	/* lock cmpxchg [rbx], rcx with rax equal: the destination takes rcx, ZF set */
	t->regs.gpr[RAX] = 0x1111222233334444ULL;
	t->regs.gpr[RCX] = 0x5555666677778888ULL;
	CHECK_EQ(EMU(t, 0xf0, 0x48, 0x0f, 0xb1, 0x0b), EMU_OK);
	CHECK_EQ(t->c.insn.len, 5);
	CHECK_EQ(fake_get(t, 0x1010, 8), 0x5555666677778888ULL);
	CHECK(t->regs.rflags & EMU_RFLAGS_ZF);
	CHECK_EQ(t->regs.gpr[RAX], 0x1111222233334444ULL);
	/* not equal: rax takes the destination, memory is not written, ZF clear */
	t->nlog = 0;
	CHECK_EQ(EMU(t, 0x48, 0x0f, 0xb1, 0x0b), EMU_OK);
	CHECK_EQ(t->nlog, 1);
	CHECK(!(t->regs.rflags & EMU_RFLAGS_ZF));
	CHECK_EQ(t->regs.gpr[RAX], 0x5555666677778888ULL);
	/* flags as CMP rax, [rbx]: 1 - 2 borrows */
	fake_put(t, 0x1010, 2, 8);
	t->regs.gpr[RAX] = 1;
	CHECK_EQ(EMU(t, 0x48, 0x0f, 0xb1, 0x0b), EMU_OK);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK(t->regs.rflags & EMU_RFLAGS_SF);
	/* byte form with AL: cmpxchg [rbx], cl */
	fake_put(t, 0x1010, 0x42, 1);
	t->regs.gpr[RAX] = 0x142;
	t->regs.gpr[RCX] = 0x99;
	CHECK_EQ(EMU(t, 0x0f, 0xb0, 0x0b), EMU_OK);
	CHECK_EQ(t->mem[0x10], 0x99);
	CHECK_EQ(t->regs.gpr[RAX], 0x142);
}

/* ---- BT family ---- */

TEST(emu_bt_register_offset_reaches_outside_the_operand)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0x20, 4);
	fake_put(t, 0x1014, 0x08, 4);
	fake_put(t, 0x100c, 0x80000000, 4);
	t->regs.rflags |= EMU_RFLAGS_ZF;

	t->regs.gpr[RAX] = 5;
	CHECK_EQ(EMU(t, 0x0f, 0xa3, 0x03), EMU_OK); /* bt [rbx], eax */
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1010, 4, 0x20);
	CHECK_EQ(t->nlog, 1);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK(t->regs.rflags & EMU_RFLAGS_ZF); /* kept */

	t->regs.gpr[RAX] = 35;
	CHECK_EQ(EMU(t, 0x0f, 0xa3, 0x03), EMU_OK);
	CHECK_EQ(t->log[0].addr, 0x1014);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);

	t->regs.gpr[RAX] = 0xffffffff; /* -1: bit 31 of the dword below */
	CHECK_EQ(EMU(t, 0x0f, 0xa3, 0x03), EMU_OK);
	CHECK_EQ(t->log[0].addr, 0x100c);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);

	t->regs.gpr[RAX] = (u64)-65; /* qword: two below, bit 63 */
	CHECK_EQ(EMU(t, 0x48, 0x0f, 0xa3, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1000, 8, 0);
	CHECK(!(t->regs.rflags & EMU_RFLAGS_CF));

	t->regs.gpr[RAX] = 0xffff8000; /* 16 bits: -32768 is 2048 words below */
	CHECK_EQ(EMU(t, 0x66, 0x0f, 0xa3, 0x03), EMU_OK);
	CHECK_EQ(t->log[0].addr, 0x1010 - 4096);
	CHECK_EQ(t->log[0].size, 2);

	/* 32-bit addressing wraps the moved address */
	t->regs.gpr[RBX] = 0;
	t->regs.gpr[RAX] = 0xffffffe0; /* -32: one dword below 0 */
	CHECK_EQ(EMU(t, 0x67, 0x0f, 0xa3, 0x03), EMU_OK);
	CHECK_EQ(t->log[0].addr, 0xfffffffcULL);

	/* register destination: the offset is taken modulo the size */
	t->regs.gpr[RCX] = 0x100;
	t->regs.gpr[RAX] = 40;
	CHECK_EQ(EMU(t, 0x0f, 0xa3, 0xc1), EMU_OK); /* bt ecx, eax: bit 8 */
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK_EQ(t->nlog, 0);
}

TEST(emu_bts_btr_btc_and_immediate_group)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	t->regs.gpr[RAX] = 33;			    /* second dword, bit 1 */
	CHECK_EQ(EMU(t, 0x0f, 0xab, 0x03), EMU_OK); /* bts */
	CHECK_EQ(t->nlog, 2);
	CHECK_ACCESS(t, 1, W, EMU_SEG_DS, 0x1014, 4, 2);
	CHECK(!(t->regs.rflags & EMU_RFLAGS_CF));
	CHECK_EQ(EMU(t, 0xf0, 0x0f, 0xbb, 0x03), EMU_OK); /* lock btc */
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK_EQ(fake_get(t, 0x1014, 4), 0);
	CHECK_EQ(EMU(t, 0x0f, 0xbb, 0x03), EMU_OK);
	CHECK_EQ(fake_get(t, 0x1014, 4), 2);
	CHECK_EQ(EMU(t, 0x0f, 0xb3, 0x03), EMU_OK); /* btr */
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK_EQ(fake_get(t, 0x1014, 4), 0);

	/* 0F BA: the immediate is masked to the size and never moves the address */
	CHECK_EQ(EMU(t, 0x0f, 0xba, 0x2b, 0x25), EMU_OK); /* bts dword [rbx], 37 -> bit 5 */
	CHECK_ACCESS(t, 1, W, EMU_SEG_DS, 0x1010, 4, 0x20);
	CHECK_EQ(t->c.insn.len, 4);
	CHECK_EQ(EMU(t, 0x0f, 0xba, 0x23, 0x05), EMU_OK); /* bt */
	CHECK_EQ(t->nlog, 1);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK_EQ(EMU(t, 0x48, 0x0f, 0xba, 0x3b, 0x3f), EMU_OK); /* btc qword, 63 */
	CHECK_EQ(fake_get(t, 0x1010, 8), 0x8000000000000020ULL);
	CHECK(!(t->regs.rflags & EMU_RFLAGS_CF));
	CHECK_EQ(EMU(t, 0x66, 0x0f, 0xba, 0x33, 0x15), EMU_OK); /* btr word, 21 -> bit 5 */
	CHECK_ACCESS(t, 1, W, EMU_SEG_DS, 0x1010, 2, 0);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	CHECK_EQ(EMU(t, 0x0f, 0xba, 0x03, 0x01), EMU_UNHANDLED);       /* /0-/3 do not exist */
	CHECK_EQ(EMU(t, 0xf0, 0x0f, 0xba, 0x23, 0x01), EMU_EXCEPTION); /* lock bt */
	CHECK_EQ(t->c.exc.vector, EMU_VEC_UD);
	CHECK_EQ(EMU(t, 0xf0, 0x0f, 0xa3, 0x03), EMU_EXCEPTION);
	CHECK_EQ(t->nlog, 0);
}

/* ---- unary group ---- */

TEST(emu_not_neg_inc_dec)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0x0000ffff, 4);
	t->regs.rflags |= EMU_RFLAGS_CF | EMU_RFLAGS_ZF;
	u64 flags = t->regs.rflags;
	CHECK_EQ(EMU(t, 0xf7, 0x13), EMU_OK); /* not dword */
	CHECK_EQ(fake_get(t, 0x1010, 4), 0xffff0000);
	CHECK_EQ(t->regs.rflags, flags);      /* NOT touches no flag */
	CHECK_EQ(EMU(t, 0xf6, 0x13), EMU_OK); /* not byte */
	CHECK_EQ(fake_get(t, 0x1010, 4), 0xffff00ff);

	CHECK_EQ(EMU(t, 0xf7, 0x1b), EMU_OK); /* neg dword */
	CHECK_EQ(fake_get(t, 0x1010, 4), 0x0000ff01);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF);
	fake_put(t, 0x1010, 0, 8);
	CHECK_EQ(EMU(t, 0x48, 0xf7, 0x1b), EMU_OK); /* neg of 0: CF clear */
	CHECK(!(t->regs.rflags & EMU_RFLAGS_CF));
	CHECK(t->regs.rflags & EMU_RFLAGS_ZF);
	fake_put(t, 0x1010, 0x80, 1);
	CHECK_EQ(EMU(t, 0xf6, 0x1b), EMU_OK); /* neg byte 0x80: overflows */
	CHECK_EQ(t->mem[0x10], 0x80);
	CHECK(t->regs.rflags & EMU_RFLAGS_OF);

	t->regs.rflags |= EMU_RFLAGS_CF;
	fake_put(t, 0x1010, 0x7fffffff, 4);
	CHECK_EQ(EMU(t, 0xff, 0x03), EMU_OK); /* inc dword */
	CHECK_EQ(fake_get(t, 0x1010, 4), 0x80000000);
	CHECK(t->regs.rflags & EMU_RFLAGS_OF);
	CHECK(t->regs.rflags & EMU_RFLAGS_CF); /* kept */
	CHECK_EQ(EMU(t, 0xff, 0x0b), EMU_OK);  /* dec dword */
	CHECK_EQ(fake_get(t, 0x1010, 4), 0x7fffffff);
	fake_put(t, 0x1010, 0xff, 1);
	t->regs.rflags &= ~EMU_RFLAGS_CF;
	CHECK_EQ(EMU(t, 0xfe, 0x03), EMU_OK); /* inc byte: wraps, CF still clear */
	CHECK_EQ(t->mem[0x10], 0);
	CHECK(t->regs.rflags & EMU_RFLAGS_ZF);
	CHECK(!(t->regs.rflags & EMU_RFLAGS_CF));
	CHECK_EQ(EMU(t, 0x66, 0xff, 0x0b), EMU_OK); /* dec word */
	CHECK_EQ(t->log[1].size, 2);
	CHECK_EQ(fake_get(t, 0x1010, 2), 0xfeff);   /* 7fffff00 after INC byte */
	CHECK_EQ(EMU(t, 0xf0, 0xfe, 0x0b), EMU_OK); /* lock dec byte */

	/* the rest of the groups are not emulated */
	CHECK_EQ(EMU(t, 0xff, 0x13), EMU_UNHANDLED); /* call [rbx] */
	CHECK_EQ(EMU(t, 0xff, 0x33), EMU_UNHANDLED); /* push [rbx] */
	CHECK_EQ(EMU(t, 0xfe, 0x13), EMU_UNHANDLED);
	CHECK_EQ(EMU(t, 0xf7, 0x23), EMU_UNHANDLED); /* mul */
	CHECK_EQ(EMU(t, 0xf6, 0x3b), EMU_UNHANDLED); /* idiv */
	CHECK_EQ(t->nlog, 0);
}
