/* The x86 instruction emulator: decodes one instruction from bytes the caller fetched and
 * carries out the memory-operand instructions guests aim at MMIO (MOV, ALU, BT, string ops).
 * Pure: it reaches memory only through struct emu_ops, so host tests drive it with fakes. */
#ifndef KEEL_EMULATE_H
#define KEEL_EMULATE_H

#include "types.h"

/*
 * Contract, in one place:
 *
 *   struct emu_regs regs = { guest GPRs by x86 number, RIP, RFLAGS };
 *   struct emu_ctxt c = { .mode = EMU_MODE_64, .ops = &my_ops, .opaque = vcpu, .regs = &regs };
 *   switch (emulate(&c, bytes, nbytes)) { ... }
 *
 * - bytes: the instruction as the caller fetched it from guest RIP, up to 15 of them (fewer
 *   when the fetch stopped at an unmapped page). emu_mode_of() gives the mode.
 * - Memory operands reach ops->read/write as (segment, offset in segment): the offset is the
 *   effective address already truncated to the address size. The caller adds the segment
 *   base, checks limits, canonical form, permissions and alignment, translates, and routes
 *   the access to RAM or a device; it reports a fault with emu_raise(). Sizes are 1, 2, 4 or
 *   8; data is little-endian. A read-modify-write (ALU, XCHG, BTS...) is a read then a write
 *   of the same place: LOCK is atomic only as far as the ops make that pair atomic, which
 *   suits MMIO; a RAM page under write protection is better unprotected and re-executed.
 * - Results:
 *     EMU_OK        done: registers, RFLAGS and memory updated, RIP advanced past it.
 *     EMU_AGAIN     a REP string op ran c->rep_cap iterations and has more to do: RCX/RSI/RDI
 *                   are updated and RIP still points at the instruction, so resuming the
 *                   guest (or calling again) continues it and interrupts get a window.
 *     EMU_UNHANDLED not an instruction this emulator does, bytes that run out before the
 *                   instruction ends, or an op that returned EMU_UNHANDLED; c->why says
 *                   which. The caller injects #UD or stops the VM.
 *     EMU_EXCEPTION inject c->exc (#GP(0) for more than 15 bytes, #UD for a misplaced LOCK
 *                   or register operand, or what an op raised).
 *   After EMU_UNHANDLED or EMU_EXCEPTION registers and RIP are as they were, except that a
 *   REP string op keeps the iterations it completed, as hardware does; memory accesses done
 *   before the failure stay done (MOVS read its source, then its destination faulted).
 * - 32-bit register results zero-extend to 64 bits in every mode (outside 64-bit mode the
 *   upper half is invisible to the guest); 8- and 16-bit results merge.
 * - RFLAGS.TF, RF, interrupt shadows and the like are the caller's to handle after EMU_OK.
 */

enum emu_mode {
	EMU_MODE_16, /* real, virtual-8086 or 16-bit protected mode code */
	EMU_MODE_32, /* 32-bit protected mode or compatibility mode code */
	EMU_MODE_64, /* 64-bit mode code (CS.L = 1) */
};

/* Segment registers by their x86 number (the order of the segment override prefixes). */
enum emu_seg {
	EMU_SEG_ES,
	EMU_SEG_CS,
	EMU_SEG_SS,
	EMU_SEG_DS,
	EMU_SEG_FS,
	EMU_SEG_GS,
};

enum emu_result {
	EMU_OK,
	EMU_AGAIN,
	EMU_UNHANDLED,
	EMU_EXCEPTION,
};

#define EMU_MAX_INSN_LEN    15
#define EMU_REP_CAP_DEFAULT 256 /* REP iterations per call when emu_ctxt.rep_cap is 0 */
#define EMU_VEC_UD	    6
#define EMU_VEC_GP	    13
#define EMU_RFLAGS_CF	    BIT(0)
#define EMU_RFLAGS_PF	    BIT(2)
#define EMU_RFLAGS_AF	    BIT(4)
#define EMU_RFLAGS_ZF	    BIT(6)
#define EMU_RFLAGS_SF	    BIT(7)
#define EMU_RFLAGS_DF	    BIT(10)
#define EMU_RFLAGS_OF	    BIT(11)
#define EMU_RFLAGS_ARITH                                                                           \
	(EMU_RFLAGS_CF | EMU_RFLAGS_PF | EMU_RFLAGS_AF | EMU_RFLAGS_ZF | EMU_RFLAGS_SF |           \
	 EMU_RFLAGS_OF)

/* Guest registers as the emulator sees them; gpr[] is indexed by x86 register number
 * (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15), the order of enum gpr in vm.h. */
struct emu_regs {
	u64 gpr[16];
	u64 rip;
	u64 rflags;
};

struct emu_exception {
	u8 vector;
	bool has_error_code;
	u32 error_code;
};

/* What the decoder found the instruction to do (emu_insn.op). */
enum emu_op {
	EMU_OP_NONE, /* not an instruction this emulator carries out */
	EMU_OP_MOV,  /* MOV 88-8B, C6/C7 /0, A0-A3; MOVNTI 0F C3 */
	EMU_OP_MOVZX,
	EMU_OP_MOVSX, /* MOVSX 0F BE/BF and MOVSXD 63 */
	EMU_OP_MOVBE,
	EMU_OP_ALU,  /* ADD..CMP (00-3B, 80-83); emu_insn.sub is the enum emu_alu */
	EMU_OP_TEST, /* 84, 85, F6/F7 /0 /1 */
	EMU_OP_XCHG,
	EMU_OP_NOT,
	EMU_OP_NEG,
	EMU_OP_INC,
	EMU_OP_DEC,
	EMU_OP_BT, /* BT, BTS, BTR, BTC; emu_insn.sub is 0-3 in that order */
	EMU_OP_MOVS,
	EMU_OP_STOS,
	EMU_OP_CMPXCHG, /* 0F B0/B1 */
	EMU_OP_SYS,	/* decoded, never executed here: enum emu_sys in emu_insn.sub */
	EMU_OP_COUNT
};

/* System instructions the decoder recognizes for the hypervisor to carry out itself (the
 * real-mode monitor, vmx/realmode.c): emu_execute() refuses them. ModRM: MOV CR/DR keep
 * the control or debug register number in reg and the GPR in rm (always a register);
 * LGDT, LIDT and INVLPG take memory only; LMSW a register or a 16-bit memory operand;
 * INT n has its vector in imm. */
enum emu_sys {
	EMU_SYS_HLT,	     /* F4 */
	EMU_SYS_CLI,	     /* FA */
	EMU_SYS_STI,	     /* FB */
	EMU_SYS_PUSHF,	     /* 9C */
	EMU_SYS_POPF,	     /* 9D */
	EMU_SYS_INT,	     /* CD ib */
	EMU_SYS_IRET,	     /* CF */
	EMU_SYS_MOV_FROM_CR, /* 0F 20 */
	EMU_SYS_MOV_FROM_DR, /* 0F 21 */
	EMU_SYS_MOV_TO_CR,   /* 0F 22 */
	EMU_SYS_MOV_TO_DR,   /* 0F 23 */
	EMU_SYS_CLTS,	     /* 0F 06 */
	EMU_SYS_INVD,	     /* 0F 08 */
	EMU_SYS_WBINVD,	     /* 0F 09 */
	EMU_SYS_WRMSR,	     /* 0F 30 */
	EMU_SYS_RDMSR,	     /* 0F 32 */
	EMU_SYS_LGDT,	     /* 0F 01 /2 */
	EMU_SYS_LIDT,	     /* 0F 01 /3 */
	EMU_SYS_LMSW,	     /* 0F 01 /6 */
	EMU_SYS_INVLPG,	     /* 0F 01 /7 */
};

/* Where an operand comes from (emu_insn.dst, .src). */
enum emu_operand {
	EMU_OPND_NONE,
	EMU_OPND_RM,  /* ModRM r/m: a register or memory; also the moffs memory operand */
	EMU_OPND_REG, /* ModRM reg */
	EMU_OPND_IMM,
	EMU_OPND_ACC, /* AL/AX/EAX/RAX */
};

/* ALU operations; the first eight are numbered like the opcode bits and group-1 /reg. */
enum emu_alu {
	EMU_ALU_ADD,
	EMU_ALU_OR,
	EMU_ALU_ADC,
	EMU_ALU_SBB,
	EMU_ALU_AND,
	EMU_ALU_SUB,
	EMU_ALU_XOR,
	EMU_ALU_CMP,
	EMU_ALU_TEST,
	EMU_ALU_INC,
	EMU_ALU_DEC,
	EMU_ALU_NEG,
};

enum emu_map {
	EMU_MAP_1BYTE,
	EMU_MAP_0F,
	EMU_MAP_0F38,
};

/* One decoded instruction: everything the execute step needs, nothing it computes. */
struct emu_insn {
	u8 len;	      /* bytes, prefixes included */
	u8 map;	      /* enum emu_map */
	u8 opcode;    /* the last opcode byte */
	u8 op;	      /* enum emu_op */
	u8 sub;	      /* enum emu_alu for EMU_OP_ALU, 0-3 for EMU_OP_BT */
	u8 dst, src;  /* enum emu_operand */
	u8 op_size;   /* operand size in bytes: 1, 2, 4 or 8 */
	u8 src_size;  /* the source's size where it differs (MOVZX, MOVSX) */
	u8 addr_size; /* 2, 4 or 8 */

	/* prefixes */
	u8 rex; /* the REX byte in force (it must come last), 0 if none */
	bool opsize_prefix, addrsize_prefix, lock;
	u8 rep;		   /* 0xf2 or 0xf3, the last one seen, or 0 */
	u8 seg;		   /* enum emu_seg of the memory operand: override or default */
	bool seg_override; /* an override that applies (64-bit mode ignores ES/CS/SS/DS) */

	/* ModRM; reg and rm include REX.R and REX.B */
	bool has_modrm;
	u8 mod, reg, rm;

	/* memory operand: (base + index * scale + disp [+ next RIP]) mod 2^(8 * addr_size) */
	bool mem;
	s8 base, index; /* register numbers, -1 for none */
	u8 scale;	/* 1, 2, 4 or 8 */
	bool rip_rel;	/* RIP-relative: add the address of the next instruction */
	s64 disp;

	u64 imm; /* sign-extended to 64 bits; the execute step truncates it */
	u8 imm_size;
};

struct emu_ctxt;

/* Memory access for the emulator. Return EMU_OK, or emu_raise()'s EMU_EXCEPTION for a
 * fault to inject, or EMU_UNHANDLED when the access cannot be done at all (the emulator
 * then stops and returns EMU_UNHANDLED). */
struct emu_ops {
	enum emu_result (*read)(struct emu_ctxt *c, enum emu_seg seg, u64 addr, void *val,
				unsigned size);
	enum emu_result (*write)(struct emu_ctxt *c, enum emu_seg seg, u64 addr, const void *val,
				 unsigned size);
};

struct emu_ctxt {
	/* set by the caller */
	enum emu_mode mode;
	const struct emu_ops *ops;
	void *opaque; /* the caller's, for the ops (a vcpu, a test's fake memory) */
	struct emu_regs *regs;
	u32 rep_cap; /* REP iterations per call; 0 means EMU_REP_CAP_DEFAULT */

	/* set by emulate() */
	struct emu_insn insn;
	struct emu_exception exc; /* valid with EMU_EXCEPTION */
	const char *why;	  /* a short reason with EMU_UNHANDLED or EMU_EXCEPTION */
};

/* The decode mode of guest code: 64-bit with EFER.LMA and CS.L, 16-bit in real and
 * virtual-8086 mode, otherwise CS.D chooses. */
enum emu_mode emu_mode_of(bool cr0_pe, bool rflags_vm, bool efer_lma, bool cs_l, bool cs_d);

/* Decodes and executes one instruction: see the contract above. */
enum emu_result emulate(struct emu_ctxt *c, const u8 *bytes, unsigned len);

/* The two halves of emulate(). emu_decode() fills c->insn (and c->exc or c->why); it reads
 * only c->mode. emu_execute() runs a decoded instruction against c->regs and c->ops. */
enum emu_result emu_decode(struct emu_ctxt *c, const u8 *bytes, unsigned len);
enum emu_result emu_execute(struct emu_ctxt *c);

/* The memory operand's offset in its segment (emu_insn.seg) for c->regs: base + index *
 * scale + displacement (+ next RIP), truncated to the address size. */
u64 emu_effective_address(const struct emu_ctxt *c);

/* For ops and the decoder: records an exception to inject and returns EMU_EXCEPTION. */
enum emu_result emu_raise(struct emu_ctxt *c, u8 vector, bool has_error_code, u32 error_code);

/* The ALU with x86 flags: returns a op b (truncated to size bytes) and sets the arithmetic
 * flags of *rflags as hardware does. ADC/SBB take CF from *rflags; INC/DEC keep CF; NEG
 * ignores b; AND/OR/XOR/TEST clear CF, OF and AF (AF is architecturally undefined there). */
u64 emu_alu(enum emu_alu op, u64 a, u64 b, unsigned size, u64 *rflags);

#endif
