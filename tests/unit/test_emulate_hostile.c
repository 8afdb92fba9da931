/* Tests of the emulator against hostile input: truncated instructions, the 15-byte limit,
 * LOCK where it is #UD, faulting reads that change nothing, unsupported opcodes, and every
 * opcode start in every mode with random tails. */
#include "emu_check.h"

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
				bytes[i] = test_rng(&rng_state);
			emu_test_clear_log(t);
			t->c.mode = mode;
			t->c.rep_cap = 3;
			for (unsigned i = 0; i < 16; i++)
				t->regs.gpr[i] = test_rng(&rng_state) & (i == 1 ? 7 : ~0ULL);
			t->regs.rflags =
			    0x2 | (test_rng(&rng_state) & (EMU_RFLAGS_ARITH | EMU_RFLAGS_DF));
			u64 rip = t->regs.rip = test_rng(&rng_state) & 0xffff;
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
