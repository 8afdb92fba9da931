/* Tests of the emulator's decoder: ModRM/SIB addressing in each mode with default
 * segments, RIP-relative and 16-bit forms, RIP wrapping, mode of a CPU state, and
 * emu_decode() filling the instruction without executing it. */
#include "emu_check.h"

/* ---- addressing ---- */

TEST(emu_addressing_sib_disp_and_default_segments)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1000;
	t->regs.gpr[RCX] = 4;
	t->regs.gpr[RSP] = 0x1100;
	t->regs.gpr[RBP] = 0x1180;
	t->regs.gpr[R12] = 0x1020;
	t->regs.gpr[R13] = 0x1040;
	struct {
		u8 bytes[9];
		u8 n;
		u64 addr;
		u8 seg;
	} cases[] = {
	    {{0x89, 0x04, 0x8b}, 3, 0x1010, EMU_SEG_DS},		   /* [rbx+rcx*4] */
	    {{0x89, 0x44, 0x4b, 0x08}, 4, 0x1010, EMU_SEG_DS},		   /* [rbx+rcx*2+8] */
	    {{0x89, 0x43, 0xf0}, 3, 0x0ff0, EMU_SEG_DS},		   /* [rbx-16] */
	    {{0x89, 0x83, 0x10, 0x01, 0, 0}, 6, 0x1110, EMU_SEG_DS},	   /* [rbx+disp32] */
	    {{0x89, 0x04, 0x25, 0x10, 0x10, 0, 0}, 7, 0x1010, EMU_SEG_DS}, /* [disp32] */
	    {{0x89, 0x04, 0xcd, 0x10, 0x10, 0, 0}, 7, 0x1030, EMU_SEG_DS}, /* [rcx*8+disp32] */
	    {{0x89, 0x04, 0x24}, 3, 0x1100, EMU_SEG_SS},		   /* [rsp] */
	    {{0x89, 0x45, 0x00}, 3, 0x1180, EMU_SEG_SS},		   /* [rbp+0] */
	    {{0x89, 0x44, 0x1d, 0x00}, 4, 0x1180 + 0x1000, EMU_SEG_SS},	   /* [rbp+rbx] */
	    {{0x41, 0x89, 0x04, 0x24}, 4, 0x1020, EMU_SEG_DS},		   /* [r12] */
	    {{0x41, 0x89, 0x45, 0x00}, 4, 0x1040, EMU_SEG_DS},		   /* [r13+0] */
	    {{0x41, 0x89, 0x04, 0x25, 0x10, 0x10, 0, 0}, 8, 0x1010, EMU_SEG_DS}, /* no base */
	    {{0x42, 0x89, 0x04, 0x23}, 4, 0x2020, EMU_SEG_DS},			 /* [rbx+r12] */
	    {{0x42, 0x89, 0x04, 0xa3}, 4, 0x1000 + 4 * 0x1020, EMU_SEG_DS},	 /* [rbx+r12*4] */
	    {{0x36, 0x89, 0x03}, 3, 0x1000, EMU_SEG_DS}, /* SS override ignored in 64-bit mode */
	    {{0x3e, 0x89, 0x45, 0x00}, 4, 0x1180, EMU_SEG_SS}, /* so is DS */
	    {{0x64, 0x89, 0x45, 0x00}, 4, 0x1180, EMU_SEG_FS},
	    {{0x65, 0x89, 0x03}, 3, 0x1000, EMU_SEG_GS},
	    {{0x64, 0x26, 0x89, 0x03}, 4, 0x1000, EMU_SEG_FS}, /* ignored ES keeps FS */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		emu_test_clear_log(t);
		t->regs.rip = RIP0;
		CHECK_EQ(emulate(&t->c, cases[i].bytes, cases[i].n), EMU_OK);
		CHECK_EQ(t->c.insn.len, cases[i].n);
		CHECK_EQ(t->nlog, 1);
		CHECK_EQ(t->log[0].addr, cases[i].addr);
		CHECK_EQ(t->log[0].seg, cases[i].seg);
		CHECK_EQ(t->regs.rip, RIP0 + cases[i].n);
	}
}

TEST(emu_addressing_rip_relative)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RAX] = 0x77;
	t->regs.rip = 0xf00;
	CHECK_EQ(EMU(t, 0x89, 0x05, 0x0a, 0x01, 0, 0), EMU_OK); /* next RIP 0xf06 + 0x10a */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 4, 0x77);
	CHECK(t->c.insn.rip_rel);
	/* the immediate counts in the next instruction's address */
	t->regs.rip = 0xf00;
	CHECK_EQ(EMU(t, 0xc7, 0x05, 0x06, 0x01, 0, 0, 1, 0, 0, 0), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 4, 1);
	/* negative displacement */
	t->regs.rip = 0x1100;
	CHECK_EQ(EMU(t, 0x8b, 0x0d, 0x0a, 0xff, 0xff, 0xff), EMU_OK); /* 0x1106 - 0xf6 */
	CHECK_EQ(t->log[0].addr, 0x1010);
	/* with 67 the sum wraps at 32 bits */
	t->regs.rip = 0x100000f00ULL;
	CHECK_EQ(EMU(t, 0x67, 0x89, 0x05, 0x09, 0x01, 0, 0), EMU_OK);
	CHECK_EQ(t->log[0].addr, 0x1010);
	CHECK_EQ(t->regs.rip, 0x100000f07ULL);
	/* and a segment override applies to it */
	t->regs.rip = 0xf00;
	CHECK_EQ(EMU(t, 0x65, 0x89, 0x05, 0x09, 0x01, 0, 0), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_GS, 0x1010, 4, 0x77);
	/* outside 64-bit mode the same encoding is an absolute disp32 */
	t->c.mode = EMU_MODE_32;
	CHECK_EQ(EMU(t, 0x89, 0x05, 0x10, 0x10, 0, 0), EMU_OK);
	CHECK_EQ(t->log[0].addr, 0x1010);
	CHECK(!t->c.insn.rip_rel);
}

TEST(emu_addressing_16bit_forms)
{
	struct emu_test *t = emu_test_new(EMU_MODE_16);
	t->regs.gpr[RBX] = 0xffff000000001000ULL; /* only BX counts */
	t->regs.gpr[RSI] = 0x10;
	t->regs.gpr[RDI] = 0x20;
	t->regs.gpr[RBP] = 0x1100;
	struct {
		u8 bytes[5];
		u8 n;
		u64 addr;
		u8 seg;
	} cases[] = {
	    {{0x89, 0x00}, 2, 0x1010, EMU_SEG_DS},	       /* [bx+si] */
	    {{0x89, 0x01}, 2, 0x1020, EMU_SEG_DS},	       /* [bx+di] */
	    {{0x89, 0x02}, 2, 0x1110, EMU_SEG_SS},	       /* [bp+si] */
	    {{0x89, 0x03}, 2, 0x1120, EMU_SEG_SS},	       /* [bp+di] */
	    {{0x89, 0x04}, 2, 0x10, EMU_SEG_DS},	       /* [si] */
	    {{0x89, 0x05}, 2, 0x20, EMU_SEG_DS},	       /* [di] */
	    {{0x89, 0x06, 0x34, 0x12}, 4, 0x1234, EMU_SEG_DS}, /* [disp16] */
	    {{0x89, 0x07}, 2, 0x1000, EMU_SEG_DS},	       /* [bx] */
	    {{0x89, 0x46, 0xfe}, 3, 0x10fe, EMU_SEG_SS},       /* [bp-2] */
	    {{0x89, 0x40, 0x7f}, 3, 0x108f, EMU_SEG_DS},       /* [bx+si+127] */
	    {{0x89, 0x87, 0x00, 0xf0}, 4, 0x0000, EMU_SEG_DS}, /* [bx+0xf000] wraps */
	    {{0x89, 0x82, 0xff, 0xff}, 4, 0x110f, EMU_SEG_SS}, /* [bp+si-1] */
	    {{0x3e, 0x89, 0x46, 0x00}, 4, 0x1100, EMU_SEG_DS}, /* override beats SS */
	    {{0x26, 0x89, 0x07}, 3, 0x1000, EMU_SEG_ES},
	    {{0x67, 0x89, 0x03}, 3, 0x1000, EMU_SEG_DS}, /* 67: [ebx], 32-bit addressing */
	};
	t->regs.gpr[RBX] = 0x1000;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		emu_test_clear_log(t);
		t->regs.rip = 0x100;
		CHECK_EQ(emulate(&t->c, cases[i].bytes, cases[i].n), EMU_OK);
		CHECK_EQ(t->c.insn.len, cases[i].n);
		CHECK_EQ(t->nlog, 1);
		CHECK_EQ(t->log[0].addr, cases[i].addr);
		CHECK_EQ(t->log[0].seg, cases[i].seg);
		CHECK_EQ(t->log[0].size, 2);
	}
	/* upper register bits never reach a 16-bit address */
	t->regs.gpr[RBX] = 0xffff000000011000ULL;
	CHECK_EQ(EMU(t, 0x89, 0x07), EMU_OK);
	CHECK_EQ(t->log[0].addr, 0x1000);

	/* 32-bit code with 67 uses the same forms */
	t->c.mode = EMU_MODE_32;
	CHECK_EQ(EMU(t, 0x67, 0x89, 0x02), EMU_OK);
	CHECK_EQ(t->log[0].addr, 0x1110);
	CHECK_EQ(t->log[0].seg, EMU_SEG_SS);
	CHECK_EQ(t->log[0].size, 4);
}

TEST(emu_addressing_32bit_mode)
{
	struct emu_test *t = emu_test_new(EMU_MODE_32);
	t->regs.gpr[RBX] = 0xffffffff00001010ULL;
	t->regs.gpr[RBP] = 0x1080;
	static const u8 segs[] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
	for (unsigned i = 0; i < ARRAY_SIZE(segs); i++) {
		u8 b[3] = {segs[i], 0x89, 0x03};
		emu_test_clear_log(t);
		CHECK_EQ(emulate(&t->c, b, 3), EMU_OK);
		CHECK_EQ(t->log[0].seg, i);
		CHECK_EQ(t->log[0].addr, 0x1010);
	}
	CHECK_EQ(EMU(t, 0x26, 0x64, 0x89, 0x03), EMU_OK); /* the last override wins */
	CHECK_EQ(t->log[0].seg, EMU_SEG_FS);
	CHECK_EQ(EMU(t, 0x89, 0x45, 0x10), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_SS, 0x1090, 4, 0);
	t->regs.gpr[RBX] = 0xfffffff0;
	CHECK_EQ(EMU(t, 0x89, 0x43, 0x20), EMU_OK); /* wraps at 4 GiB */
	CHECK_EQ(t->log[0].addr, 0x10);
}

/* ---- instruction pointer ---- */

TEST(emu_rip_wraps_at_the_mode_width)
{
	struct emu_test *t = emu_test_new(EMU_MODE_16);
	t->regs.gpr[RBX] = 0x1010;
	t->regs.rip = 0xffff;
	CHECK_EQ(EMU(t, 0x89, 0x07), EMU_OK);
	CHECK_EQ(t->regs.rip, 1);
	t->c.mode = EMU_MODE_32;
	t->regs.rip = 0xfffffffe;
	CHECK_EQ(EMU(t, 0x89, 0x03), EMU_OK);
	CHECK_EQ(t->regs.rip, 0);
	t->c.mode = EMU_MODE_64;
	t->regs.rip = 0xfffffffe;
	CHECK_EQ(EMU(t, 0x89, 0x03), EMU_OK);
	CHECK_EQ(t->regs.rip, 0x100000000ULL);
}

TEST(emu_mode_of_cpu_state)
{
	/* cr0_pe, rflags_vm, efer_lma, cs_l, cs_d */
	CHECK_EQ(emu_mode_of(false, false, false, false, false), EMU_MODE_16); /* real mode */
	CHECK_EQ(emu_mode_of(false, false, false, false, true), EMU_MODE_16);
	CHECK_EQ(emu_mode_of(true, true, false, false, true), EMU_MODE_16); /* virtual-8086 */
	CHECK_EQ(emu_mode_of(true, false, false, false, false), EMU_MODE_16);
	CHECK_EQ(emu_mode_of(true, false, false, false, true), EMU_MODE_32);
	CHECK_EQ(emu_mode_of(true, false, true, false, true), EMU_MODE_32); /* compatibility */
	CHECK_EQ(emu_mode_of(true, false, true, false, false), EMU_MODE_16);
	CHECK_EQ(emu_mode_of(true, false, true, true, false), EMU_MODE_64);
	CHECK_EQ(emu_mode_of(true, false, false, true, true), EMU_MODE_32); /* L without LMA */
}

/* ---- decode only ---- */

TEST(emu_decode_fills_the_insn)
{
	struct emu_ctxt c = {.mode = EMU_MODE_64};
	static const u8 b[] = {0xf0, 0x65, 0x67, 0x66, 0x47, 0x81, 0x84,
			       0x8d, 0x78, 0x56, 0x34, 0x12, 0xcd, 0xab};
	REQUIRE(emu_decode(&c, b, sizeof(b)) == EMU_OK);
	const struct emu_insn *in = &c.insn;
	CHECK_EQ(in->len, 14);
	CHECK_EQ(in->map, EMU_MAP_1BYTE);
	CHECK_EQ(in->opcode, 0x81);
	CHECK_EQ(in->op, EMU_OP_ALU);
	CHECK_EQ(in->sub, EMU_ALU_ADD);
	CHECK_EQ(in->dst, EMU_OPND_RM);
	CHECK_EQ(in->src, EMU_OPND_IMM);
	CHECK_EQ(in->op_size, 2);
	CHECK_EQ(in->addr_size, 4);
	CHECK_EQ(in->rex, 0x47);
	CHECK(in->lock && in->opsize_prefix && in->addrsize_prefix);
	CHECK_EQ(in->seg, EMU_SEG_GS);
	CHECK_EQ(in->mod, 2);
	CHECK_EQ(in->reg, 8); /* REX.R */
	CHECK_EQ(in->base, 13);
	CHECK_EQ(in->index, 9);
	CHECK_EQ(in->scale, 4);
	CHECK_EQ(in->disp, 0x12345678);
	CHECK_EQ(in->imm, 0xffffffffffffabcdULL);
	CHECK_EQ(in->imm_size, 2);
	CHECK(!in->rip_rel);
}
