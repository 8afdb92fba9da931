/* Real mode run in virtual-8086 mode: the pure rules (docs/shadow-paging.md, "Real mode").
 * Without unrestricted guest (shadow paging) VM entry needs CR0.PE = 1, so Keel runs a
 * real-mode guest with RFLAGS.VM = 1 and IOPL = 0: the CPU executes ordinary code itself,
 * and every instruction whose meaning differs between real mode and vm86 faults (#GP) for
 * Keel to carry out with real-mode semantics. What the guest sees of RFLAGS.IOPL and AC is
 * kept aside; interrupts and exceptions are delivered through the guest's IVT by Keel.
 * vmx/realmode.c applies these rules to the VMCS; the host tests drive them directly. */
#ifndef KEEL_V86_H
#define KEEL_V86_H

#include "../hypervisor/types.h"

#define V86_FLAG_CF   BIT(0)
#define V86_FLAG_TF   BIT(8)
#define V86_FLAG_IF   BIT(9)
#define V86_FLAG_IOPL (3ULL << 12)
#define V86_FLAG_NT   BIT(14)
#define V86_FLAG_RF   BIT(16)
#define V86_FLAG_VM   BIT(17)
#define V86_FLAG_AC   BIT(18)
/* Flags the guest owns in real mode that the CPU must not have in vm86: IOPL (0, so that
 * CLI, STI, PUSHF, POPF, INT n and IRET fault) and AC (no alignment checks at CPL 0). */
#define V86_HIDDEN_FLAGS (V86_FLAG_IOPL | V86_FLAG_AC)

/* VM-entry's vm86 segment: present, DPL 3, read/write data, accessed. */
#define V86_SEG_AR    0xf3
#define V86_SEG_LIMIT 0xffff

/* One segment register as the VMCS holds it. */
struct v86_seg {
	u16 sel;
	u64 base;
	u32 limit;
	u32 ar; /* VMCS access-rights format; bit 16 = unusable */
};

/* How a guest segment became a vm86 one. */
enum v86_fit {
	V86_EXACT,     /* base = selector * 16 and a 64 KiB limit: nothing lost */
	V86_RESELECT,  /* the selector was not base / 16 (a protected-mode selector still
			* loaded): it now reads base / 16 */
	V86_LIMIT,     /* also the limit was not 64 KiB ("unreal mode"): it is now */
	V86_IMPOSSIBLE /* the base is no real-mode paragraph, or CS is 32-bit: cannot run */
};

/* The vm86 form of a guest segment on entering real mode (cs: the code segment). */
enum v86_fit v86_seg_enter(const struct v86_seg *in, bool cs, struct v86_seg *out);
/* Leaving vm86: the segment as protected mode (pe) or unrestricted-guest real mode (!pe)
 * needs it in the VMCS. which: 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS. Base and limit stay;
 * CS and SS get RPL 0 (VM entry wants CS.RPL = SS.RPL = DPL = 0 at CPL 0). */
void v86_seg_leave(const struct v86_seg *in, unsigned which, bool pe, struct v86_seg *out);

/* RFLAGS for the CPU from what the guest sees, and back. */
u64 v86_hw_flags(u64 visible);
u64 v86_visible_flags(u64 hw, u64 hidden);
/* Real mode at CPL 0: POPF (size 2 or 4) and IRET's new flags from the popped value. */
u64 v86_popf_flags(u64 cur, u64 popped, unsigned size);
u64 v86_iret_flags(u64 cur, u64 popped, unsigned size);

/* The real-mode CPU state an emulated instruction or event delivery works on. */
struct v86_cpu {
	u64 flags; /* guest-visible */
	u16 cs;
	u64 cs_base;
	u64 ip;
	u64 ss_base;
	u64 sp;
	u64 idt_base;
	u32 idt_limit;
};

/* Linear guest memory (real mode: linear = guest-physical). false: not RAM. */
struct v86_mem {
	bool (*read)(void *ctx, u64 lin, void *buf, unsigned n);
	bool (*write)(void *ctx, u64 lin, const void *buf, unsigned n);
	void *ctx;
};

enum v86_result {
	V86_OK,
	V86_NOT_RAM, /* the stack or the IVT is not guest RAM */
	V86_GP,	     /* #GP: the IVT entry lies beyond the IDTR limit, or IRETD to an IP
		      * beyond the 64 KiB code segment */
};

/* Push or pop size (2 or 4) bytes on the 16-bit stack SS:SP (SP wraps at 64 KiB). */
enum v86_result v86_push(struct v86_cpu *s, const struct v86_mem *m, u64 val, unsigned size);
enum v86_result v86_pop(struct v86_cpu *s, const struct v86_mem *m, u64 *val, unsigned size);
/* Real-mode interrupt or exception delivery (SDM INT n, "REAL-ADDRESS-MODE"): push FLAGS,
 * CS and ret_ip, clear IF, TF and AC, load CS:IP from the IVT at IDTR.base + vector * 4.
 * Nothing changes unless it returns V86_OK. */
enum v86_result v86_deliver(struct v86_cpu *s, const struct v86_mem *m, u8 vector, u64 ret_ip);
/* IRET (size 2) or IRETD (size 4) in real mode. Nothing changes unless V86_OK. */
enum v86_result v86_iret(struct v86_cpu *s, const struct v86_mem *m, unsigned size);

#endif
