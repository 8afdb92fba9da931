/* Real mode in virtual-8086 mode (vmx/v86.c): segment conversion both ways, the flags the
 * CPU and the guest see, POPF/IRET flag rules, and IVT delivery on a fake 1 MiB memory:
 * stack wrap, IDTR limit, memory that is not RAM. Also the decoder's system instructions
 * (hypervisor/emu_decode.c), which the real-mode monitor carries out. */
#include "test.h"
#include "../../vmx/v86.h"
#include "../../hypervisor/emulate.h"

#define MEM_SIZE 0x110000 /* what real mode can address, A20 on */

static u8 mem[MEM_SIZE];
static u64 hole_lo, hole_hi; /* [lo, hi): not RAM */
static unsigned writes;

static bool fake_read(void *ctx, u64 lin, void *buf, unsigned n)
{
	(void)ctx;
	if (lin + n > MEM_SIZE || (lin + n > hole_lo && lin < hole_hi))
		return false;
	memcpy(buf, mem + lin, n);
	return true;
}

static bool fake_write(void *ctx, u64 lin, const void *buf, unsigned n)
{
	(void)ctx;
	if (lin + n > MEM_SIZE || (lin + n > hole_lo && lin < hole_hi))
		return false;
	memcpy(mem + lin, buf, n);
	writes++;
	return true;
}

static const struct v86_mem fake = {fake_read, fake_write, NULL};

static void reset_mem(void)
{
	memset(mem, 0, sizeof(mem));
	hole_lo = hole_hi = 0;
	writes = 0;
}

static u16 rd16(u64 a)
{
	return (u16)(mem[a] | (mem[a + 1] << 8));
}

static void wr16(u64 a, u16 v)
{
	mem[a] = (u8)v;
	mem[a + 1] = (u8)(v >> 8);
}

TEST(v86_seg_enter_exact_reselect_limit_impossible)
{
	struct v86_seg out;
	struct v86_seg rm = {0x1234, 0x12340, 0xffff, 0x93};
	CHECK_EQ(v86_seg_enter(&rm, false, &out), V86_EXACT);
	CHECK_EQ(out.sel, 0x1234);
	CHECK_EQ(out.base, 0x12340);
	CHECK_EQ(out.limit, 0xffff);
	CHECK_EQ(out.ar, V86_SEG_AR);

	/* a 16-bit protected-mode selector still loaded: the selector becomes base / 16 */
	struct v86_seg pm16 = {0x18, 0x8000, 0xffff, 0x9b};
	CHECK_EQ(v86_seg_enter(&pm16, true, &out), V86_RESELECT);
	CHECK_EQ(out.sel, 0x800);
	CHECK_EQ(out.base, 0x8000);

	/* flat 4 GiB data: "unreal mode", run with a 64 KiB limit */
	struct v86_seg flat = {0x10, 0, 0xffffffff, 0xc093};
	CHECK_EQ(v86_seg_enter(&flat, false, &out), V86_LIMIT);
	CHECK_EQ(out.limit, 0xffff);
	CHECK_EQ(out.sel, 0);

	/* 32-bit code, a base that is no paragraph, a base beyond FFFF0: impossible */
	struct v86_seg cs32 = {0x08, 0, 0xffff, 0x409b};
	CHECK_EQ(v86_seg_enter(&cs32, true, &out), V86_IMPOSSIBLE);
	CHECK_EQ(v86_seg_enter(&cs32, false, &out), V86_RESELECT); /* D means B for data */
	struct v86_seg odd = {0x10, 0x8008, 0xffff, 0x93};
	CHECK_EQ(v86_seg_enter(&odd, false, &out), V86_IMPOSSIBLE);
	struct v86_seg high = {0x10, 0x100000, 0xffff, 0x93};
	CHECK_EQ(v86_seg_enter(&high, false, &out), V86_IMPOSSIBLE);
	struct v86_seg top = {0x10, 0xffff0, 0xffff, 0x93};
	CHECK_EQ(v86_seg_enter(&top, false, &out), V86_RESELECT);
	CHECK_EQ(out.sel, 0xffff);

	/* a null selector loaded in protected mode (unusable): usable again, base 0 */
	struct v86_seg null = {0, 0x5000, 0, 0x10000};
	CHECK_EQ(v86_seg_enter(&null, false, &out), V86_EXACT);
	CHECK_EQ(out.base, 0);
	CHECK_EQ(out.ar, V86_SEG_AR);
}

TEST(v86_seg_leave_protected_and_unrestricted)
{
	struct v86_seg in = {0x07c3, 0x7c30, 0xffff, V86_SEG_AR}, out;
	/* protected mode: CS and SS RPL 0 (VM entry), data DPL = RPL */
	v86_seg_leave(&in, 1, true, &out);
	CHECK_EQ(out.sel, 0x07c0);
	CHECK_EQ(out.base, 0x7c30);
	CHECK_EQ(out.limit, 0xffff);
	CHECK_EQ(out.ar, 0x9b);
	v86_seg_leave(&in, 2, true, &out);
	CHECK_EQ(out.sel, 0x07c0);
	CHECK_EQ(out.ar, 0x93);
	v86_seg_leave(&in, 3, true, &out);
	CHECK_EQ(out.sel, 0x07c3);
	CHECK_EQ(out.ar, 0x93 | (3 << 5));
	/* unrestricted guest's real mode: selectors untouched, DPL 0 */
	v86_seg_leave(&in, 1, false, &out);
	CHECK_EQ(out.sel, 0x07c3);
	CHECK_EQ(out.ar, 0x9b);
	v86_seg_leave(&in, 5, false, &out);
	CHECK_EQ(out.ar, 0x93);
}

TEST(v86_flags_hide_iopl_and_ac)
{
	u64 guest = 0x3000 | V86_FLAG_AC | V86_FLAG_IF | 0x2 | 0x1;
	u64 hw = v86_hw_flags(guest);
	CHECK_EQ(hw & V86_FLAG_IOPL, 0);
	CHECK_EQ(hw & V86_FLAG_AC, 0);
	CHECK(hw & V86_FLAG_VM);
	CHECK(hw & V86_FLAG_IF);
	CHECK_EQ(v86_visible_flags(hw, guest & V86_HIDDEN_FLAGS), guest);
	/* the CPU's arithmetic flags win; VM never shows */
	CHECK_EQ(v86_visible_flags(hw | 0x40, 0), (guest & ~V86_HIDDEN_FLAGS) | 0x40);
}

TEST(v86_popf_and_iret_flag_rules)
{
	u64 cur = 0x2 | V86_FLAG_IF | V86_FLAG_RF | V86_FLAG_AC | BIT(19) | BIT(20);
	/* 16-bit: the low 16 bits, reserved bits 3, 5, 15 stay clear, bit 1 set */
	CHECK_EQ(v86_popf_flags(cur, 0xffff, 2), (cur & ~0xffffULL) | 0x7fd7);
	CHECK_EQ(v86_popf_flags(cur, 0, 2), (cur & ~0xffffULL) | 0x2);
	/* 32-bit POPFD: AC and ID change, RF is cleared, VIF/VIP/VM untouched */
	u64 f = v86_popf_flags(cur, 0xffffffff, 4);
	CHECK(!(f & V86_FLAG_RF));
	CHECK(f & BIT(21));
	CHECK(f & BIT(19));
	CHECK(!(f & V86_FLAG_VM));
	CHECK_EQ(v86_popf_flags(cur, 0x2, 4) & V86_FLAG_AC, 0);
	/* IRETD takes RF from the stack */
	CHECK(v86_iret_flags(0x2, V86_FLAG_RF, 4) & V86_FLAG_RF);
	CHECK_EQ(v86_iret_flags(0x2, 0x3202, 2), 0x3202);
}

static struct v86_cpu cpu_at(u16 cs, u16 ip, u64 ss_base, u16 sp)
{
	return (struct v86_cpu){.flags = 0x2 | V86_FLAG_IF | V86_FLAG_TF | 0x1,
				.cs = cs,
				.cs_base = (u64)cs << 4,
				.ip = ip,
				.ss_base = ss_base,
				.sp = sp,
				.idt_base = 0,
				.idt_limit = 0x3ff};
}

TEST(v86_deliver_pushes_frame_and_loads_vector)
{
	reset_mem();
	wr16(0x40 * 4, 0x1111);	    /* offset */
	wr16(0x40 * 4 + 2, 0x2222); /* segment */
	struct v86_cpu s = cpu_at(0x0800, 0x0100, 0x9000, 0x1000);
	REQUIRE(v86_deliver(&s, &fake, 0x40, 0x0102) == V86_OK);
	CHECK_EQ(s.cs, 0x2222);
	CHECK_EQ(s.cs_base, 0x22220);
	CHECK_EQ(s.ip, 0x1111);
	CHECK_EQ(s.sp, 0x0ffa);
	CHECK_EQ(rd16(0x9000 + 0x0ffe), 0x2 | V86_FLAG_IF | V86_FLAG_TF | 0x1); /* FLAGS */
	CHECK_EQ(rd16(0x9000 + 0x0ffc), 0x0800);				/* CS */
	CHECK_EQ(rd16(0x9000 + 0x0ffa), 0x0102);				/* IP */
	CHECK(!(s.flags & (V86_FLAG_IF | V86_FLAG_TF)));
	CHECK(s.flags & 0x1); /* CF untouched */

	/* IRET undoes it */
	REQUIRE(v86_iret(&s, &fake, 2) == V86_OK);
	CHECK_EQ(s.cs, 0x0800);
	CHECK_EQ(s.ip, 0x0102);
	CHECK_EQ(s.sp, 0x1000);
	CHECK(s.flags & V86_FLAG_IF);
	CHECK(s.flags & V86_FLAG_TF);
}

TEST(v86_deliver_uses_idtr_base_and_limit)
{
	reset_mem();
	wr16(0x9000 + 0x40 * 4, 0x0042);
	wr16(0x9000 + 0x40 * 4 + 2, 0x0100);
	struct v86_cpu s = cpu_at(0x0800, 0x0100, 0, 0x7000);
	s.idt_base = 0x9000;
	REQUIRE(v86_deliver(&s, &fake, 0x40, 0x0102) == V86_OK);
	CHECK_EQ(s.cs, 0x0100);
	CHECK_EQ(s.ip, 0x0042);

	/* an entry past the limit is a #GP, and nothing changes */
	struct v86_cpu t = cpu_at(0x0800, 0x0100, 0, 0x7000);
	t.idt_limit = 0x40 * 4 + 2; /* the entry's last byte is outside */
	unsigned before = writes;
	CHECK_EQ(v86_deliver(&t, &fake, 0x40, 0x0102), V86_GP);
	CHECK_EQ(t.sp, 0x7000);
	CHECK_EQ(t.ip, 0x0100);
	CHECK_EQ(writes, before);
	t.idt_limit = 0x40 * 4 + 3;
	CHECK_EQ(v86_deliver(&t, &fake, 0x40, 0x0102), V86_OK);
}

TEST(v86_stack_wraps_at_64k)
{
	reset_mem();
	struct v86_cpu s = cpu_at(0, 0, 0x20000, 0x0002);
	REQUIRE(v86_push(&s, &fake, 0xabcd, 2) == V86_OK);
	CHECK_EQ(s.sp, 0);
	CHECK_EQ(rd16(0x20000), 0xabcd);
	REQUIRE(v86_push(&s, &fake, 0x1234, 2) == V86_OK);
	CHECK_EQ(s.sp, 0xfffe);
	CHECK_EQ(rd16(0x2fffe), 0x1234);
	/* a dword across the wrap: bytes at FFFF, 0000, 0001, 0002 of the segment */
	s.sp = 0x0003;
	REQUIRE(v86_push(&s, &fake, 0x44332211, 4) == V86_OK);
	CHECK_EQ(s.sp, 0xffff);
	CHECK_EQ(mem[0x2ffff], 0x11);
	CHECK_EQ(mem[0x20000], 0x22);
	CHECK_EQ(mem[0x20002], 0x44);
	u64 v;
	REQUIRE(v86_pop(&s, &fake, &v, 4) == V86_OK);
	CHECK_EQ(v, 0x44332211);
	CHECK_EQ(s.sp, 0x0003);
	/* the upper half of ESP is kept */
	s.sp = 0x12340000;
	REQUIRE(v86_push(&s, &fake, 1, 2) == V86_OK);
	CHECK_EQ(s.sp, 0x1234fffe);
}

TEST(v86_not_ram_changes_nothing_in_the_cpu)
{
	reset_mem();
	hole_lo = 0x9000;
	hole_hi = 0xa000;
	struct v86_cpu s = cpu_at(0x0800, 0x0100, 0x9000, 0x0100);
	CHECK_EQ(v86_deliver(&s, &fake, 0x10, 0x0102), V86_NOT_RAM);
	CHECK_EQ(s.sp, 0x0100);
	CHECK_EQ(s.cs, 0x0800);
	CHECK(s.flags & V86_FLAG_IF);
	/* IVT not RAM */
	struct v86_cpu t = cpu_at(0x0800, 0x0100, 0x1000, 0x0100);
	t.idt_base = 0x9000;
	CHECK_EQ(v86_deliver(&t, &fake, 0x10, 0x0102), V86_NOT_RAM);
	/* IRET with a stack that is not RAM */
	CHECK_EQ(v86_iret(&s, &fake, 2), V86_NOT_RAM);
	CHECK_EQ(s.sp, 0x0100);
}

TEST(v86_iretd_beyond_64k_is_gp)
{
	reset_mem();
	struct v86_cpu s = cpu_at(0x0800, 0x0100, 0x1000, 0x0100);
	/* EIP 0x10000, CS 0x0800, EFLAGS 0x202 */
	mem[0x1100] = 0x00, mem[0x1101] = 0x00, mem[0x1102] = 0x01, mem[0x1103] = 0x00;
	wr16(0x1104, 0x0800);
	wr16(0x1108, 0x0202);
	CHECK_EQ(v86_iret(&s, &fake, 4), V86_GP);
	CHECK_EQ(s.sp, 0x0100);
	mem[0x1102] = 0;
	REQUIRE(v86_iret(&s, &fake, 4) == V86_OK);
	CHECK_EQ(s.ip, 0);
	CHECK_EQ(s.sp, 0x010c);
	CHECK_EQ(s.flags & 0xffff, 0x0202);
}

/* ---- the decoder's system instructions ---- */

static enum emu_result decode16(struct emu_ctxt *c, const u8 *b, unsigned n)
{
	static struct emu_regs regs;
	memset(c, 0, sizeof(*c));
	c->mode = EMU_MODE_16;
	c->regs = &regs;
	return emu_decode(c, b, n);
}

TEST(decode_system_instructions_in_16_bit_code)
{
	static const struct {
		u8 b[8];
		unsigned n, len, sub, op_size;
	} cases[] = {
	    {{0xf4}, 1, 1, EMU_SYS_HLT, 2},
	    {{0xfa}, 1, 1, EMU_SYS_CLI, 2},
	    {{0xfb}, 1, 1, EMU_SYS_STI, 2},
	    {{0x9c}, 1, 1, EMU_SYS_PUSHF, 2},
	    {{0x66, 0x9c}, 2, 2, EMU_SYS_PUSHF, 4},
	    {{0x66, 0x9d}, 2, 2, EMU_SYS_POPF, 4},
	    {{0xcd, 0x21}, 2, 2, EMU_SYS_INT, 2},
	    {{0x66, 0xcf}, 2, 2, EMU_SYS_IRET, 4},
	    {{0x0f, 0x22, 0xc0}, 3, 3, EMU_SYS_MOV_TO_CR, 2},
	    {{0x0f, 0x20, 0xe3}, 3, 3, EMU_SYS_MOV_FROM_CR, 2},
	    {{0x0f, 0x23, 0xf8}, 3, 3, EMU_SYS_MOV_TO_DR, 2},
	    {{0x0f, 0x21, 0x01}, 3, 3, EMU_SYS_MOV_FROM_DR, 2}, /* mod 0: still a register */
	    {{0x0f, 0x06}, 2, 2, EMU_SYS_CLTS, 2},
	    {{0x0f, 0x09}, 2, 2, EMU_SYS_WBINVD, 2},
	    {{0x0f, 0x30}, 2, 2, EMU_SYS_WRMSR, 2},
	    {{0x0f, 0x32}, 2, 2, EMU_SYS_RDMSR, 2},
	    {{0x0f, 0x01, 0x16, 0x34, 0x12}, 5, 5, EMU_SYS_LGDT, 2}, /* [0x1234] */
	    {{0x66, 0x0f, 0x01, 0x1e, 0x34, 0x12}, 6, 6, EMU_SYS_LIDT, 4},
	    {{0x0f, 0x01, 0xf0}, 3, 3, EMU_SYS_LMSW, 2}, /* lmsw ax */
	    {{0x0f, 0x01, 0x3f}, 3, 3, EMU_SYS_INVLPG, 2},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct emu_ctxt c;
		enum emu_result r = decode16(&c, cases[i].b, cases[i].n);
		CHECK_EQ(r, EMU_OK);
		CHECK_EQ(c.insn.op, EMU_OP_SYS);
		CHECK_EQ(c.insn.sub, cases[i].sub);
		CHECK_EQ(c.insn.len, cases[i].len);
		CHECK_EQ(c.insn.op_size, cases[i].op_size);
	}
	struct emu_ctxt c;
	/* MOV CR: CR number in reg, GPR in rm */
	REQUIRE(decode16(&c, (const u8[]){0x0f, 0x20, 0xe3}, 3) == EMU_OK);
	CHECK_EQ(c.insn.reg, 4);
	CHECK_EQ(c.insn.rm, 3);
	CHECK(!c.insn.mem);
	/* INT n: the vector */
	REQUIRE(decode16(&c, (const u8[]){0xcd, 0x80}, 2) == EMU_OK);
	CHECK_EQ(c.insn.imm & 0xff, 0x80);
	/* LGDT [bp+si+4]: SS-relative, the effective address from the registers */
	REQUIRE(decode16(&c, (const u8[]){0x0f, 0x01, 0x52, 0x04}, 4) == EMU_OK);
	CHECK(c.insn.mem);
	CHECK_EQ(c.insn.seg, EMU_SEG_SS);
	c.regs->gpr[5] = 0xfff0; /* BP */
	c.regs->gpr[6] = 0x0010; /* SI */
	CHECK_EQ(emu_effective_address(&c), 0x0004);
}

TEST(decode_system_instruction_misfits)
{
	struct emu_ctxt c;
	/* LGDT with a register operand is another instruction (0F 01 D0 is XGETBV) */
	CHECK_EQ(decode16(&c, (const u8[]){0x0f, 0x01, 0xd0}, 3), EMU_UNHANDLED);
	/* VMCALL (0F 01 C1) is not LGDT either */
	CHECK_EQ(decode16(&c, (const u8[]){0x0f, 0x01, 0xc1}, 3), EMU_UNHANDLED);
	/* LOCK CLI: #UD */
	CHECK_EQ(decode16(&c, (const u8[]){0xf0, 0xfa}, 2), EMU_EXCEPTION);
	CHECK_EQ(c.exc.vector, EMU_VEC_UD);
	/* the emulator itself does not carry them out */
	static struct emu_regs regs;
	memset(&c, 0, sizeof(c));
	c.mode = EMU_MODE_16;
	c.regs = &regs;
	CHECK_EQ(emulate(&c, (const u8[]){0xfa}, 1), EMU_UNHANDLED);
}
