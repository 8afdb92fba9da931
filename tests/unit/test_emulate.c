/* Tests of the instruction emulator (hypervisor/emu_decode.c, emulate.c) through emulate()
 * with fake memory: each opcode in the modes and sizes it has, prefixes, addressing forms,
 * REP with its cap, and hostile input. Flag arithmetic is in test_emulate_flags.c. */
#include "emu_fake.h"

#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSP 4
#define RBP 5
#define RSI 6
#define RDI 7
#define R8  8
#define R12 12
#define R13 13

#define RIP0 0x100000ULL

/* Checks the one access the last instruction made. */
#define CHECK_ACCESS(t, i, w, sg, a, sz, v)                                                        \
	do {                                                                                       \
		REQUIRE((t)->nlog > (i));                                                          \
		CHECK_EQ((t)->log[i].write, (w));                                                  \
		CHECK_EQ((t)->log[i].seg, (sg));                                                   \
		CHECK_EQ((t)->log[i].addr, (a));                                                   \
		CHECK_EQ((t)->log[i].size, (sz));                                                  \
		CHECK_EQ((t)->log[i].val, (v));                                                    \
	} while (0)

#define R 0
#define W 1

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

/* ---- string instructions ---- */

TEST(emu_stos_single_and_rep)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RDI] = 0x1010;
	t->regs.gpr[RAX] = 0x1122334455667788ULL;
	t->regs.gpr[RCX] = 5;
	CHECK_EQ(EMU(t, 0xaa), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_ES, 0x1010, 1, 0x88);
	CHECK_EQ(t->regs.gpr[RDI], 0x1011);
	CHECK_EQ(t->regs.gpr[RCX], 5); /* no REP: RCX untouched */
	CHECK_EQ(t->regs.rip, RIP0 + 1);

	t->regs.gpr[RDI] = 0x1010;
	CHECK_EQ(EMU(t, 0xf3, 0xab), EMU_OK); /* rep stosd */
	CHECK_EQ(t->nlog, 5);
	for (unsigned i = 0; i < 5; i++)
		CHECK_ACCESS(t, i, W, EMU_SEG_ES, 0x1010 + 4 * i, 4, 0x55667788);
	CHECK_EQ(t->regs.gpr[RDI], 0x1024);
	CHECK_EQ(t->regs.gpr[RCX], 0);
	CHECK_EQ(t->regs.rip, RIP0 + 3);

	/* backwards with DF; F2 repeats like F3 here */
	t->regs.rflags |= EMU_RFLAGS_DF;
	t->regs.gpr[RDI] = 0x1100;
	t->regs.gpr[RCX] = 3;
	CHECK_EQ(EMU(t, 0xf2, 0x48, 0xab), EMU_OK);
	CHECK_EQ(t->nlog, 3);
	CHECK_ACCESS(t, 0, W, EMU_SEG_ES, 0x1100, 8, 0x1122334455667788ULL);
	CHECK_ACCESS(t, 2, W, EMU_SEG_ES, 0x10f0, 8, 0x1122334455667788ULL);
	CHECK_EQ(t->regs.gpr[RDI], 0x10e8);

	/* a segment override does not move the destination off ES */
	t->regs.rflags &= ~EMU_RFLAGS_DF;
	CHECK_EQ(EMU(t, 0x64, 0x66, 0xab), EMU_OK);
	CHECK_ACCESS(t, 0, W, EMU_SEG_ES, 0x10e8, 2, 0x7788);
	CHECK_EQ(t->regs.gpr[RDI], 0x10ea);
}

TEST(emu_rep_with_zero_count_does_nothing)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RDI] = 0x1010;
	CHECK_EQ(EMU(t, 0xf3, 0xaa), EMU_OK);
	CHECK_EQ(t->nlog, 0);
	CHECK_EQ(t->regs.gpr[RDI], 0x1010);
	CHECK_EQ(t->regs.rip, RIP0 + 2);
}

TEST(emu_rep_cap_returns_again_and_resumes)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->c.rep_cap = 4;
	t->regs.gpr[RDI] = 0x1010;
	t->regs.gpr[RCX] = 10;
	t->regs.gpr[RAX] = 0x42;
	CHECK_EQ(EMU(t, 0xf3, 0xaa), EMU_AGAIN);
	CHECK_EQ(t->nlog, 4);
	CHECK_EQ(t->regs.gpr[RCX], 6);
	CHECK_EQ(t->regs.gpr[RDI], 0x1014);
	CHECK_EQ(t->regs.rip, RIP0);
	CHECK_EQ(EMU(t, 0xf3, 0xaa), EMU_AGAIN);
	CHECK_EQ(t->regs.gpr[RCX], 2);
	CHECK_EQ(EMU(t, 0xf3, 0xaa), EMU_OK);
	CHECK_EQ(t->nlog, 2);
	CHECK_EQ(t->regs.gpr[RCX], 0);
	CHECK_EQ(t->regs.gpr[RDI], 0x101a);
	CHECK_EQ(t->regs.rip, RIP0 + 2);
	for (unsigned i = 0; i < 10; i++)
		CHECK_EQ(t->mem[0x10 + i], 0x42);
	CHECK_EQ(t->mem[0x1a], 0);

	/* exactly the cap: done, not AGAIN */
	t->regs.gpr[RCX] = 4;
	CHECK_EQ(EMU(t, 0xf3, 0xaa), EMU_OK);
	CHECK_EQ(t->regs.gpr[RCX], 0);

	/* the default cap bounds a huge count */
	t->c.rep_cap = 0;
	t->regs.gpr[RCX] = ~0ULL;
	t->regs.gpr[RDI] = 0x1000;
	t->regs.rip = RIP0;
	CHECK_EQ(EMU(t, 0xf3, 0xaa), EMU_AGAIN);
	CHECK_EQ(t->nlog, EMU_REP_CAP_DEFAULT);
	CHECK_EQ(t->regs.gpr[RCX], ~0ULL - EMU_REP_CAP_DEFAULT);
	CHECK_EQ(t->regs.rip, RIP0);
}

TEST(emu_string_address_size_selects_counter_and_pointers)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	/* 67 in 64-bit mode: ECX and EDI, written back zero-extended */
	t->regs.gpr[RCX] = 0xffffffff00000002ULL;
	t->regs.gpr[RDI] = 0xdeadbeef00001010ULL;
	CHECK_EQ(EMU(t, 0x67, 0xf3, 0xaa), EMU_OK);
	CHECK_EQ(t->nlog, 2);
	CHECK_ACCESS(t, 0, W, EMU_SEG_ES, 0x1010, 1, 0);
	CHECK_EQ(t->regs.gpr[RCX], 0);
	CHECK_EQ(t->regs.gpr[RDI], 0x1012);
	CHECK_EQ(t->c.insn.len, 3);

	/* 16-bit mode: DI wraps within 64 KiB and the upper bits stay */
	t->c.mode = EMU_MODE_16;
	t->regs.rip = 0x100;
	t->regs.gpr[RCX] = 0xabcd0002;
	t->regs.gpr[RDI] = 0x12340000ffffULL;
	CHECK_EQ(EMU(t, 0xf3, 0xaa), EMU_OK);
	CHECK_EQ(t->nlog, 2);
	CHECK_EQ(t->log[0].addr, 0xffff);
	CHECK_EQ(t->log[1].addr, 0);
	CHECK_EQ(t->regs.gpr[RDI], 0x123400000001ULL);
	CHECK_EQ(t->regs.gpr[RCX], 0xabcd0000);
}

TEST(emu_movs_single_rep_and_segments)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	for (unsigned i = 0; i < 16; i++)
		t->mem[0x10 + i] = 0xa0 + i;
	t->regs.gpr[RSI] = 0x1010;
	t->regs.gpr[RDI] = 0x1080;
	CHECK_EQ(EMU(t, 0xa4), EMU_OK);
	CHECK_EQ(t->nlog, 2);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1010, 1, 0xa0);
	CHECK_ACCESS(t, 1, W, EMU_SEG_ES, 0x1080, 1, 0xa0);
	CHECK_EQ(t->regs.gpr[RSI], 0x1011);
	CHECK_EQ(t->regs.gpr[RDI], 0x1081);

	t->regs.gpr[RSI] = 0x1010;
	t->regs.gpr[RDI] = 0x1080;
	t->regs.gpr[RCX] = 4;
	CHECK_EQ(EMU(t, 0xf3, 0xa5), EMU_OK);
	CHECK_EQ(t->nlog, 8);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(t->log[2 * i].write, false);
		CHECK_EQ(t->log[2 * i].addr, 0x1010 + 4 * i);
		CHECK_EQ(t->log[2 * i + 1].write, true);
		CHECK_EQ(t->log[2 * i + 1].addr, 0x1080 + 4 * i);
	}
	CHECK(!memcmp(&t->mem[0x80], &t->mem[0x10], 16));
	CHECK_EQ(t->regs.gpr[RSI], 0x1020);
	CHECK_EQ(t->regs.gpr[RDI], 0x1090);
	CHECK_EQ(t->regs.gpr[RCX], 0);

	/* the source segment can be overridden; in 64-bit mode only FS and GS count */
	CHECK_EQ(EMU(t, 0x64, 0x48, 0xa5), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_FS, 0x1020, 8, 0);
	CHECK_ACCESS(t, 1, W, EMU_SEG_ES, 0x1090, 8, 0);
	CHECK_EQ(EMU(t, 0x26, 0xa4), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_DS, 0x1028, 1, 0);
	t->c.mode = EMU_MODE_32;
	CHECK_EQ(EMU(t, 0x26, 0xa4), EMU_OK);
	CHECK_ACCESS(t, 0, R, EMU_SEG_ES, 0x1029, 1, 0);

	/* backwards */
	t->regs.rflags |= EMU_RFLAGS_DF;
	t->regs.gpr[RCX] = 2;
	t->regs.gpr[RSI] = 0x1014;
	t->regs.gpr[RDI] = 0x1104;
	CHECK_EQ(EMU(t, 0xf3, 0x66, 0xa5), EMU_OK);
	CHECK_EQ(t->nlog, 4);
	CHECK_ACCESS(t, 2, R, EMU_SEG_DS, 0x1012, 2, 0xa3a2);
	CHECK_EQ(t->regs.gpr[RSI], 0x1010);
	CHECK_EQ(t->regs.gpr[RDI], 0x1100);
}

TEST(emu_rep_movs_fault_keeps_completed_iterations)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RSI] = 0x1010;
	t->regs.gpr[RDI] = 0x1080;
	t->regs.gpr[RCX] = 4;
	t->fault_read = true;
	t->fault_lo = 0x1018;
	t->fault_hi = 0x1019;
	t->fault_vector = 14;
	t->fault_ec = 4;
	CHECK_EQ(EMU(t, 0xf3, 0xa5), EMU_EXCEPTION);
	CHECK_EQ(t->c.exc.vector, 14);
	CHECK(t->c.exc.has_error_code);
	CHECK_EQ(t->c.exc.error_code, 4);
	CHECK_EQ(t->nlog, 5); /* R W R W R(fault) */
	CHECK_EQ(t->regs.gpr[RCX], 2);
	CHECK_EQ(t->regs.gpr[RSI], 0x1018);
	CHECK_EQ(t->regs.gpr[RDI], 0x1088);
	CHECK_EQ(t->regs.rip, RIP0);

	/* a write fault on the very first iteration changes nothing */
	t->fault_read = false;
	t->fault_write = true;
	t->fault_lo = 0x1088;
	t->fault_hi = 0x1089;
	CHECK_EQ(EMU(t, 0xf3, 0xa5), EMU_EXCEPTION);
	CHECK_EQ(t->regs.gpr[RCX], 2);
	CHECK_EQ(t->regs.gpr[RSI], 0x1018);
	CHECK_EQ(t->regs.gpr[RDI], 0x1088);
}

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

/* ---- hostile input ---- */

TEST(emu_truncated_instruction_at_every_cut)
{
	static const u8 full[] = {0x64, 0x48, 0xc7, 0x84, 0x8b, 0x10, 0,
				  0,	0,    0x78, 0x56, 0x34, 0x12};
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1000;
	for (unsigned n = 0; n < sizeof(full); n++) {
		u8 *copy = test_dup(full, n); /* exact size: ASan sees any read past n */
		emu_test_clear_log(t);
		CHECK_EQ(emulate(&t->c, copy, n), EMU_UNHANDLED);
		CHECK_STR(t->c.why, "instruction runs past the fetched bytes");
		CHECK_EQ(t->nlog, 0);
		CHECK_EQ(t->regs.rip, RIP0);
	}
	u8 *copy = test_dup(full, sizeof(full));
	CHECK_EQ(emulate(&t->c, copy, sizeof(full)), EMU_OK);
	CHECK_EQ(t->c.insn.len, sizeof(full));
	CHECK_ACCESS(t, 0, W, EMU_SEG_FS, 0x1010, 8, 0x12345678);
}

TEST(emu_fifteen_byte_limit)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1000;
	/* three prefixes + REX + C7 ModRM SIB disp32 imm32 = exactly 15 bytes: fine */
	u8 ok[] = {0x64, 0x64, 0x64, 0x48, 0xc7, 0x84, 0x8b, 0x10, 0, 0, 0, 1, 0, 0, 0};
	CHECK_EQ(emulate(&t->c, ok, sizeof(ok)), EMU_OK);
	CHECK_EQ(t->c.insn.len, 15);
	/* one more prefix: 16 bytes, #GP(0), whether or not the caller fetched the 16th */
	u8 longer[] = {0x64, 0x64, 0x64, 0x64, 0x48, 0xc7, 0x84, 0x8b, 0x10, 0, 0, 0, 1, 0, 0, 0};
	emu_test_clear_log(t);
	t->regs.rip = RIP0;
	CHECK_EQ(emulate(&t->c, longer, sizeof(longer)), EMU_EXCEPTION);
	CHECK_EQ(t->c.exc.vector, EMU_VEC_GP);
	CHECK(t->c.exc.has_error_code);
	CHECK_EQ(t->c.exc.error_code, 0);
	CHECK_EQ(emulate(&t->c, longer, 15), EMU_EXCEPTION);
	CHECK_EQ(t->nlog, 0);
	CHECK_EQ(t->regs.rip, RIP0);

	/* 16 bytes of prefixes */
	u8 prefixes[16];
	memset(prefixes, 0x66, sizeof(prefixes));
	CHECK_EQ(emulate(&t->c, prefixes, sizeof(prefixes)), EMU_EXCEPTION);
	CHECK_EQ(t->c.exc.vector, EMU_VEC_GP);
	/* 15 prefixes: the opcode would be the 16th byte */
	CHECK_EQ(emulate(&t->c, prefixes, 15), EMU_EXCEPTION);
	/* 14 of them and a short fetch: not knowable, so unhandled */
	CHECK_EQ(emulate(&t->c, prefixes, 14), EMU_UNHANDLED);
	/* 14 prefixes + MOV needs a 16th byte for ModRM */
	prefixes[14] = 0x89;
	CHECK_EQ(emulate(&t->c, prefixes, 16), EMU_EXCEPTION);
	CHECK_EQ(t->c.exc.vector, EMU_VEC_GP);
	/* mixed prefixes and REX all count */
	static const u8 mixed[16] = {0x40, 0x66, 0x41, 0xf3, 0x42, 0x2e, 0x43, 0x67,
				     0x44, 0x36, 0x45, 0xf0, 0x46, 0x65, 0x47, 0x89};
	CHECK_EQ(emulate(&t->c, mixed, 16), EMU_EXCEPTION);
	CHECK_EQ(t->nlog, 0);
}

TEST(emu_lock_on_what_cannot_take_it_is_ud)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	static const u8 bad[][5] = {
	    {0xf0, 0x89, 0x03},	      /* mov */
	    {0xf0, 0x8b, 0x03},	      /* mov load */
	    {0xf0, 0x39, 0x03},	      /* cmp */
	    {0xf0, 0x80, 0x3b, 0x01}, /* cmp imm */
	    {0xf0, 0x01, 0xc0},	      /* add to a register */
	    {0xf0, 0x03, 0x03},	      /* add with a register destination */
	    {0xf0, 0x85, 0x03},	      /* test */
	    {0xf0, 0xf7, 0x03, 0, 0}, /* test imm: still only 5 bytes given */
	    {0xf0, 0xa4},	      /* movs */
	    {0xf0, 0xf3, 0xaa},	      /* rep stos */
	    {0xf0, 0x0f, 0xb6, 0x03}, /* movzx */
	    {0xf0, 0x87, 0xc0},	      /* xchg eax, eax */
	    {0xf0, 0xff, 0xc0},	      /* inc eax */
	};
	static const u8 len[] = {3, 3, 3, 4, 3, 3, 3, 5, 2, 3, 4, 3, 3};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		emu_test_clear_log(t);
		enum emu_result r = emulate(&t->c, bad[i], len[i]);
		if (i == 7) { /* F7 /0 with a truncated imm32 */
			CHECK_EQ(r, EMU_UNHANDLED);
			continue;
		}
		CHECK_EQ(r, EMU_EXCEPTION);
		CHECK_EQ(t->c.exc.vector, EMU_VEC_UD);
		CHECK(!t->c.exc.has_error_code);
		CHECK_EQ(t->nlog, 0);
		CHECK_EQ(t->regs.rip, RIP0);
	}
	static const u8 good[][4] = {
	    {0xf0, 0x01, 0x03}, {0xf0, 0x80, 0x03, 0x01}, {0xf0, 0x86, 0x03}, {0xf0, 0xf7, 0x13},
	    {0xf0, 0xf6, 0x1b}, {0xf0, 0xff, 0x03},	  {0xf0, 0x19, 0x03}, {0xf0, 0x31, 0x03},
	};
	static const u8 glen[] = {3, 4, 3, 3, 3, 3, 3, 3};
	for (unsigned i = 0; i < ARRAY_SIZE(good); i++) {
		emu_test_clear_log(t);
		CHECK_EQ(emulate(&t->c, good[i], glen[i]), EMU_OK);
		CHECK_EQ(t->nlog, 2);
	}
}

TEST(emu_faulting_read_changes_nothing)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	t->regs.gpr[RBX] = 0x1010;
	t->regs.gpr[RAX] = 0x1234;
	t->regs.rflags = 0x2 | EMU_RFLAGS_ZF;
	t->fault_read = true;
	t->fault_lo = 0x1010;
	t->fault_hi = 0x2000; /* BTS with EAX = 0x1234 goes to 0x1254 */
	t->fault_vector = 14;
	t->fault_ec = 0x5;
	struct emu_regs before = t->regs;
	CHECK_EQ(EMU(t, 0x8b, 0x03), EMU_EXCEPTION);
	CHECK_EQ(t->c.exc.vector, 14);
	CHECK_EQ(t->c.exc.error_code, 5);
	CHECK(!memcmp(&t->regs, &before, sizeof(before)));
	CHECK_EQ(EMU(t, 0x01, 0x03), EMU_EXCEPTION); /* add [rbx], eax: no write, no flags */
	CHECK_EQ(t->nlog, 1);
	CHECK(!memcmp(&t->regs, &before, sizeof(before)));
	CHECK_EQ(EMU(t, 0x0f, 0xab, 0x03), EMU_EXCEPTION);
	CHECK_EQ(EMU(t, 0xff, 0x03), EMU_EXCEPTION);
	CHECK_EQ(EMU(t, 0x87, 0x03), EMU_EXCEPTION);
	CHECK(!memcmp(&t->regs, &before, sizeof(before)));

	/* a write fault after the read: flags and RIP stay too */
	t->fault_read = false;
	t->fault_write = true;
	CHECK_EQ(EMU(t, 0x29, 0x03), EMU_EXCEPTION);
	CHECK_EQ(t->nlog, 2);
	CHECK(!memcmp(&t->regs, &before, sizeof(before)));

	/* an op that cannot do the access at all, or answers nonsense */
	t->fault_result = EMU_UNHANDLED;
	CHECK_EQ(EMU(t, 0x89, 0x03), EMU_UNHANDLED);
	CHECK_STR(t->c.why, "memory write failed");
	t->fault_result = EMU_AGAIN;
	CHECK_EQ(EMU(t, 0x89, 0x03), EMU_UNHANDLED);
	t->fault_result = (enum emu_result)77;
	CHECK_EQ(EMU(t, 0x89, 0x03), EMU_UNHANDLED);
	CHECK(!memcmp(&t->regs, &before, sizeof(before)));

	/* the op's own reason (an operand outside guest memory) is what the VM's stop names */
	t->fault_result = EMU_UNHANDLED;
	t->fault_why = "an operand outside guest memory";
	CHECK_EQ(EMU(t, 0x89, 0x03), EMU_UNHANDLED);
	CHECK_STR(t->c.why, "an operand outside guest memory");
	t->fault_read = true;
	t->fault_write = false;
	t->fault_why = "an MMIO access that crosses a page";
	CHECK_EQ(EMU(t, 0x8b, 0x03), EMU_UNHANDLED);
	CHECK_STR(t->c.why, "an MMIO access that crosses a page");
	CHECK(!memcmp(&t->regs, &before, sizeof(before)));
}

TEST(emu_unsupported_opcodes_are_unhandled_untouched)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	static const u8 insns[][3] = {
	    {0x90},
	    {0x0f, 0x05},
	    {0xe4, 0x60},
	    {0xcc},
	    {0x0f, 0x0b},
	    {0x04, 0x01},
	    {0xd1, 0x23},
	    {0x8d, 0x03},
	    {0x0f, 0x3a, 0x0f},
	    {0x0f, 0xc7, 0x0b}, /* cmpxchg8b [rbx] */
	};
	struct emu_regs before = t->regs;
	for (unsigned i = 0; i < ARRAY_SIZE(insns); i++) {
		emu_test_clear_log(t);
		CHECK_EQ(emulate(&t->c, insns[i], 3), EMU_UNHANDLED);
		CHECK(t->c.why != NULL);
		CHECK_EQ(t->nlog, 0);
	}
	CHECK(!memcmp(&t->regs, &before, sizeof(before)));
	CHECK_EQ(emulate(&t->c, insns[0], 0), EMU_UNHANDLED);
	CHECK_EQ(emulate(&t->c, NULL, 0), EMU_UNHANDLED);
}

/* Every one- and two-byte opcode start, in every mode, with pseudo-random tails and
 * registers: the result is one of the four, OK means RIP moved by a length of at most 15,
 * and every access has a legal size and an address within the address size. */
static u64 rng_state = 0x9e3779b97f4a7c15ULL;
static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

TEST(emu_every_opcode_pair_is_safe)
{
	struct emu_test *t = emu_test_new(EMU_MODE_64);
	unsigned counts[4] = {0};
	for (unsigned mode = 0; mode < 3; mode++) {
		for (unsigned op = 0; op < 0x10000; op++) {
			u8 bytes[EMU_MAX_INSN_LEN];
			bytes[0] = op >> 8;
			bytes[1] = op;
			for (unsigned i = 2; i < sizeof(bytes); i++)
				bytes[i] = rng();
			emu_test_clear_log(t);
			t->c.mode = mode;
			t->c.rep_cap = 3;
			for (unsigned i = 0; i < 16; i++)
				t->regs.gpr[i] = rng() & (i == 1 ? 7 : ~0ULL);
			t->regs.rflags = 0x2 | (rng() & (EMU_RFLAGS_ARITH | EMU_RFLAGS_DF));
			u64 rip = t->regs.rip = rng() & 0xffff;
			enum emu_result r = emulate(&t->c, bytes, sizeof(bytes));
			REQUIRE(r <= EMU_EXCEPTION);
			counts[r]++;
			if (r == EMU_OK) {
				REQUIRE(t->c.insn.len >= 1 && t->c.insn.len <= 15);
				CHECK_EQ(t->regs.rip, rip + t->c.insn.len);
			} else if (r != EMU_EXCEPTION) {
				CHECK_EQ(t->regs.rip, rip);
			}
			u64 amask = t->c.insn.addr_size == 8   ? ~0ULL
				    : t->c.insn.addr_size == 4 ? 0xffffffffULL
							       : 0xffffULL;
			for (unsigned i = 0; i < MIN(t->nlog, FAKE_LOG_MAX); i++) {
				u8 s = t->log[i].size;
				REQUIRE(s == 1 || s == 2 || s == 4 || s == 8);
				REQUIRE(t->log[i].addr <= amask);
			}
		}
	}
	/* the sweep exercised every outcome */
	CHECK(counts[EMU_OK] > 1000);
	CHECK(counts[EMU_AGAIN] > 10);
	CHECK(counts[EMU_UNHANDLED] > 1000);
	CHECK(counts[EMU_EXCEPTION] > 100);
}
