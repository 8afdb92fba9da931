/* Tests of the instruction emulator (hypervisor/emu_decode.c, emulate.c) through emulate()
 * with fake memory: data movement, MOV in each mode and size with its prefixes, MOVZX/MOVSX,
 * MOVSXD, MOVNTI and MOVBE. The other test_emulate_*.c files cover the rest. */
#include "emu_check.h"

/* ---- MOV ---- */

TEST(emu_mov_store_each_size)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	t->regs.gpr[RAX] = 0x1122334455667788ULL;

	CHECK_EQ(EMU(t, 0x88, 0x03), EMU_OK); /* mov [rbx], al */
	CHECK_EQ(t->nlog, 1);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 1, 0x88);
	CHECK_EQ(t->regs.rip, RIP0 + 2);
	CHECK_EQ(t->c.insn.len, 2);

	CHECK_EQ(EMU(t, 0x66, 0x89, 0x03), EMU_OK); /* mov [rbx], ax */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 2, 0x7788);
	CHECK_EQ(t->regs.rip, RIP0 + 5);

	CHECK_EQ(EMU(t, 0x89, 0x03), EMU_OK); /* mov [rbx], eax */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 4, 0x55667788);

	CHECK_EQ(EMU(t, 0x48, 0x89, 0x03), EMU_OK); /* mov [rbx], rax */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 8, 0x1122334455667788ULL);
	CHECK_EQ(fake_get(t, 0x1010, 8), 0x1122334455667788ULL);
	CHECK_EQ(t->regs.rip, RIP0 + 10);
	CHECK_EQ(t->regs.gpr[RAX], 0x1122334455667788ULL);
	CHECK_EQ(t->outside, 0);
}

TEST(emu_mov_load_zero_extends_32_and_merges_8_16)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0xf7f6f5f4f3f2f1f0ULL, 8);
	t->regs.gpr[RAX] = 0xaaaaaaaaaaaaaaaaULL;

	CHECK_EQ(EMU(t, 0x8a, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0xaaaaaaaaaaaaaaf0ULL);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1010, 1, 0xf0);
	CHECK_EQ(EMU(t, 0x66, 0x8b, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0xaaaaaaaaaaaaf1f0ULL);
	CHECK_EQ(EMU(t, 0x8b, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0xf3f2f1f0ULL);
	CHECK_EQ(EMU(t, 0x48, 0x8b, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0xf7f6f5f4f3f2f1f0ULL);
	CHECK_EQ(t->nlog, 1);
}

TEST(emu_mov_32bit_mode_sizes)
{
	struct emu_test *t = emu_test_new(EMU_MODE_32);
	t->regs.gpr[RBX] = 0xffffffff00001010ULL; /* only EBX counts */
	t->regs.gpr[RDX] = 0x11223344;
	CHECK_EQ(EMU(t, 0x89, 0x13), EMU_OK); /* mov [ebx], edx */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 4, 0x11223344);
	CHECK_EQ(EMU(t, 0x66, 0x89, 0x13), EMU_OK); /* mov [ebx], dx */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 2, 0x3344);
	CHECK_EQ(EMU(t, 0x48, 0x89, 0x13), EMU_UNHANDLED); /* 48 is DEC EAX here */
	CHECK_EQ(t->nlog, 0);
	CHECK_EQ(t->regs.rip, RIP0 + 5);
}

TEST(emu_mov_16bit_mode_sizes)
{
	struct emu_test *t = emu_test_new(EMU_MODE_16);
	t->regs.rip = 0x100;
	t->regs.gpr[RBX] = 0x1010;
	t->regs.gpr[RAX] = 0xdeadbeefcafe1234ULL;
	CHECK_EQ(EMU(t, 0x89, 0x07), EMU_OK); /* mov [bx], ax */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 2, 0x1234);
	CHECK_EQ(EMU(t, 0x66, 0x89, 0x07), EMU_OK); /* mov [bx], eax */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 4, 0xcafe1234);
	fake_put(t, 0x1010, 0x5678, 2);
	CHECK_EQ(EMU(t, 0x8b, 0x07), EMU_OK); /* mov ax, [bx] merges */
	CHECK_EQ(t->regs.gpr[RAX], 0xdeadbeefcafe5678ULL);
	CHECK_EQ(t->regs.rip, 0x100 + 2 + 3 + 2);
}

TEST(emu_mov_high_byte_registers_and_rex)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	t->regs.gpr[RAX] = 0x1122334455667788ULL;
	t->regs.gpr[RSP] = 0x99aa;
	t->regs.gpr[R8] = 0x1020;

	CHECK_EQ(EMU(t, 0x88, 0x23), EMU_OK); /* mov [rbx], ah */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 1, 0x77);
	CHECK_EQ(EMU(t, 0x40, 0x88, 0x23), EMU_OK); /* mov [rbx], spl */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 1, 0xaa);
	CHECK_EQ(EMU(t, 0x44, 0x88, 0x03), EMU_OK); /* mov [rbx], r8b */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 1, 0x20);
	CHECK_EQ(EMU(t, 0x41, 0x88, 0x00), EMU_OK); /* mov [r8], al */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1020, 1, 0x88);

	fake_put(t, 0x1010, 0x5a, 1);
	t->regs.gpr[RCX] = 0xffffffffffffffffULL;
	CHECK_EQ(EMU(t, 0x8a, 0x2b), EMU_OK); /* mov ch, [rbx] */
	CHECK_EQ(t->regs.gpr[RCX], 0xffffffffffff5affULL);
	t->regs.gpr[RBP] = 0xffffffffffffffffULL;
	CHECK_EQ(EMU(t, 0x40, 0x8a, 0x2b), EMU_OK); /* mov bpl, [rbx] */
	CHECK_EQ(t->regs.gpr[RBP], 0xffffffffffffff5aULL);
	CHECK_EQ(t->regs.gpr[RCX], 0xffffffffffff5affULL);

	/* register forms: AL <- AH without REX, AL <- SPL with it */
	CHECK_EQ(EMU(t, 0x88, 0xe0), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0x1122334455667777ULL);
	CHECK_EQ(EMU(t, 0x40, 0x88, 0xe0), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0x11223344556677aaULL);
	CHECK_EQ(t->nlog, 0);
}

TEST(emu_mov_rex_w_beats_66_and_stale_rex_is_ignored)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	t->regs.gpr[R8 + 3] = 0x1040; /* r11 */
	t->regs.gpr[RAX] = 0x1122334455667788ULL;
	CHECK_EQ(EMU(t, 0x66, 0x48, 0x89, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 8, 0x1122334455667788ULL);
	/* a REX followed by a legacy prefix does not count: [rbx], 16 bits */
	CHECK_EQ(EMU(t, 0x49, 0x66, 0x89, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 2, 0x7788);
	CHECK_EQ(t->c.insn.rex, 0);
	CHECK_EQ(t->c.insn.len, 4);
	/* the last REX is the one in force */
	CHECK_EQ(EMU(t, 0x48, 0x41, 0x89, 0x03), EMU_OK); /* mov [r11], eax */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1040, 4, 0x55667788);
}

TEST(emu_mov_immediate)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	CHECK_EQ(EMU(t, 0xc6, 0x03, 0x5a), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 1, 0x5a);
	CHECK_EQ(t->c.insn.len, 3);
	CHECK_EQ(EMU(t, 0x66, 0xc7, 0x03, 0x34, 0x12), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 2, 0x1234);
	CHECK_EQ(t->c.insn.len, 5);
	CHECK_EQ(EMU(t, 0xc7, 0x03, 0x78, 0x56, 0x34, 0x12), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 4, 0x12345678);
	CHECK_EQ(EMU(t, 0x48, 0xc7, 0x03, 0x00, 0x00, 0x00, 0x80), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 8, 0xffffffff80000000ULL);
	CHECK_EQ(t->c.insn.len, 7);
	CHECK_EQ(EMU(t, 0xc7, 0x43, 0x08, 0x01, 0x00, 0x00, 0x00), EMU_OK); /* [rbx+8] */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1018, 4, 1);
	CHECK_EQ(t->c.insn.len, 7);
	/* register destination: mov ecx, imm32 via C7 /0 */
	t->regs.gpr[RCX] = ~0ULL;
	CHECK_EQ(EMU(t, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff), EMU_OK);
	CHECK_EQ(t->regs.gpr[RCX], 0xffffffffULL);
	/* C6/C7 /1-/7 are not MOV */
	CHECK_EQ(EMU(t, 0xc6, 0x0b, 0x00), EMU_UNHANDLED);
	CHECK_EQ(EMU(t, 0xc7, 0xf8, 0, 0, 0, 0), EMU_UNHANDLED); /* XBEGIN */
	CHECK_EQ(t->nlog, 0);
}

TEST(emu_mov_moffs_each_mode)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	fake_put(t, 0x1020, 0x8877665544332211ULL, 8);
	t->regs.gpr[RAX] = 0xffffffffffffffffULL;
	CHECK_EQ(EMU(t, 0xa1, 0x20, 0x10, 0, 0, 0, 0, 0, 0), EMU_OK); /* mov eax, [0x1020] */
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1020, 4, 0x44332211);
	CHECK_EQ(t->regs.gpr[RAX], 0x44332211);
	CHECK_EQ(t->c.insn.len, 9);
	CHECK_EQ(EMU(t, 0x48, 0xa1, 0x20, 0x10, 0, 0, 0, 0, 0, 0), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0x8877665544332211ULL);
	CHECK_EQ(EMU(t, 0xa0, 0x21, 0x10, 0, 0, 0, 0, 0, 0), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0x8877665544332222ULL);
	CHECK_EQ(EMU(t, 0x48, 0xa3, 0x30, 0x10, 0, 0, 0, 0, 0, 0), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1030, 8, 0x8877665544332222ULL);
	CHECK_EQ(t->c.insn.len, 10);
	CHECK_EQ(EMU(t, 0x66, 0xa3, 0x30, 0x10, 0, 0, 0, 0, 0, 0), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1030, 2, 0x2222);
	/* the offset is 64 bits wide and not sign-extended: the local APIC, say */
	CHECK_EQ(EMU(t, 0xa2, 0x20, 0x00, 0xe0, 0xfe, 0, 0, 0, 0), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0xfee00020ULL, 1, 0x22);
	/* 67: a 32-bit offset */
	CHECK_EQ(EMU(t, 0x67, 0xa0, 0x20, 0x10, 0, 0), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1020, 1, 0x11);
	CHECK_EQ(t->c.insn.len, 6);
	CHECK_EQ(EMU(t, 0x65, 0xa2, 0x20, 0x10, 0, 0, 0, 0, 0, 0), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_GS, 0x1020, 1, 0x11);

	t->c.mode = EMU_MODE_32;
	t->regs.gpr[RAX] = 0xabcdef01;
	CHECK_EQ(EMU(t, 0xa3, 0x40, 0x10, 0, 0), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1040, 4, 0xabcdef01);
	CHECK_EQ(t->c.insn.len, 5);
	CHECK_EQ(EMU(t, 0x67, 0xa1, 0x40, 0x10), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1040, 4, 0xabcdef01);
	CHECK_EQ(t->c.insn.len, 4);

	t->c.mode = EMU_MODE_16;
	CHECK_EQ(EMU(t, 0xa1, 0x40, 0x10), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1040, 2, 0xef01);
	CHECK_EQ(t->c.insn.len, 3);
	CHECK_EQ(EMU(t, 0x2e, 0x66, 0xa1, 0x40, 0x10), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_CS, 0x1040, 4, 0xabcdef01);
	CHECK_EQ(EMU(t, 0x67, 0xa1, 0x40, 0x10, 0, 0), EMU_OK);
	CHECK_EQ(t->c.insn.len, 6);
}

TEST(emu_movzx_movsx)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0xff80, 2);
	t->regs.gpr[RAX] = ~0ULL;
	CHECK_EQ(EMU(t, 0x0f, 0xb6, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1010, 1, 0x80);
	CHECK_EQ(t->regs.gpr[RAX], 0x80);
	CHECK_EQ(t->c.insn.len, 3);
	CHECK_EQ(EMU(t, 0x0f, 0xbe, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0xffffff80ULL);
	CHECK_EQ(EMU(t, 0x48, 0x0f, 0xbe, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0xffffffffffffff80ULL);
	t->regs.gpr[RAX] = 0x1111111111111111ULL;
	CHECK_EQ(EMU(t, 0x66, 0x0f, 0xbe, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0x111111111111ff80ULL);
	CHECK_EQ(EMU(t, 0x66, 0x0f, 0xb6, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0x1111111111110080ULL);
	CHECK_EQ(EMU(t, 0x0f, 0xb7, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1010, 2, 0xff80);
	CHECK_EQ(t->regs.gpr[RAX], 0xff80);
	CHECK_EQ(EMU(t, 0x0f, 0xbf, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0xffffff80ULL);
	CHECK_EQ(EMU(t, 0x48, 0x0f, 0xbf, 0x03), EMU_OK);
	CHECK_EQ(t->regs.gpr[RAX], 0xffffffffffffff80ULL);
	CHECK_EQ(EMU(t, 0x4c, 0x0f, 0xb7, 0x03), EMU_OK); /* movzx r8, word [rbx] */
	CHECK_EQ(t->regs.gpr[R8], 0xff80);
	/* a high-byte source register: movzx ecx, ah */
	t->regs.gpr[RAX] = 0x9a00;
	CHECK_EQ(EMU(t, 0x0f, 0xb6, 0xcc), EMU_OK);
	CHECK_EQ(t->regs.gpr[RCX], 0x9a);
	CHECK_EQ(EMU(t, 0x40, 0x0f, 0xb6, 0xcc), EMU_OK); /* with REX: SPL */
	CHECK_EQ(t->regs.gpr[RCX], t->regs.gpr[RSP] & 0xff);
}

TEST(emu_movsxd)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	fake_put(t, 0x1010, 0x80000000, 4);
	CHECK_EQ(EMU(t, 0x48, 0x63, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1010, 4, 0x80000000);
	CHECK_EQ(t->regs.gpr[RAX], 0xffffffff80000000ULL);
	CHECK_EQ(EMU(t, 0x4c, 0x63, 0x03), EMU_OK); /* movsxd r8 */
	CHECK_EQ(t->regs.gpr[R8], 0xffffffff80000000ULL);
	CHECK_EQ(EMU(t, 0x63, 0x03), EMU_OK); /* without REX.W: a 32-bit move */
	CHECK_EQ(t->regs.gpr[RAX], 0x80000000ULL);
	t->regs.gpr[RAX] = 0x1234567812345678ULL;
	CHECK_EQ(EMU(t, 0x66, 0x63, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1010, 2, 0);
	CHECK_EQ(t->regs.gpr[RAX], 0x1234567812340000ULL);
	t->c.mode = EMU_MODE_32; /* ARPL there */
	CHECK_EQ(EMU(t, 0x63, 0x03), EMU_UNHANDLED);
	CHECK_EQ(t->nlog, 0);
}

/* ---- MOVNTI, MOVBE ---- */

TEST(emu_movnti_and_movbe)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	t->regs.gpr[RAX] = 0x1122334455667788ULL;
	CHECK_EQ(EMU(t, 0x0f, 0xc3, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 4, 0x55667788);
	CHECK_EQ(EMU(t, 0x48, 0x0f, 0xc3, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 8, 0x1122334455667788ULL);
	CHECK_EQ(EMU(t, 0x0f, 0xc3, 0xc0), EMU_EXCEPTION); /* register form: #UD */
	CHECK_EQ(t->c.exc.vector, EMU_VEC_UD);
	CHECK_EQ(EMU(t, 0x66, 0x0f, 0xc3, 0x03), EMU_UNHANDLED);

	CHECK_EQ(EMU(t, 0x0f, 0x38, 0xf1, 0x03), EMU_OK); /* movbe [rbx], eax */
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 4, 0x88776655);
	CHECK_EQ(t->c.insn.len, 4);
	CHECK_EQ(EMU(t, 0x66, 0x0f, 0x38, 0xf1, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 2, 0x8877);
	CHECK_EQ(EMU(t, 0x48, 0x0f, 0x38, 0xf1, 0x03), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_DS, 0x1010, 8, 0x8877665544332211ULL);
	CHECK_EQ(EMU(t, 0x0f, 0x38, 0xf0, 0x0b), EMU_OK); /* movbe ecx, [rbx] */
	CHECK_EQ(t->regs.gpr[RCX], 0x11223344);
	t->regs.gpr[RCX] = ~0ULL;
	CHECK_EQ(EMU(t, 0x66, 0x0f, 0x38, 0xf0, 0x0b), EMU_OK);
	CHECK_EQ(t->regs.gpr[RCX], 0xffffffffffff1122ULL);
	CHECK_EQ(EMU(t, 0x0f, 0x38, 0xf0, 0xc1), EMU_EXCEPTION);
	CHECK_EQ(EMU(t, 0xf2, 0x0f, 0x38, 0xf0, 0x03), EMU_UNHANDLED); /* CRC32 */
	CHECK_EQ(EMU(t, 0x0f, 0x38, 0x00, 0x03), EMU_UNHANDLED);       /* PSHUFB */
}
