/* Tests of the emulator's string instructions: STOS and MOVS, single and REP, the REP cap
 * and resuming, address size selecting counter and pointers, a fault in the middle. */
#include "emu_check.h"

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
