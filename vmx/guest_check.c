/* Guest-state entry checks, in the SDM's order. */
#include "guest_check.h"
#include "vmx_defs.h"

#define AR_TYPE(ar) ((ar)&0xf)
#define AR_S	    BIT(4)
#define AR_DPL(ar)  (((ar) >> 5) & 3)
#define AR_P	    BIT(7)
#define AR_L	    BIT(13)
#define AR_DB	    BIT(14)
#define AR_G	    BIT(15)
#define AR_UNUSABLE BIT(16)
#define AR_RESERVED (0xf00ULL | 0xfffe0000ULL)

static bool limit_granularity_ok(u32 limit, u32 ar)
{
	/* any of limit bits 11:0 clear: G must be 0; any of bits 31:20 set: G must be 1 */
	if ((limit & 0xfff) != 0xfff && (ar & AR_G))
		return false;
	if ((limit & 0xfff00000) && !(ar & AR_G))
		return false;
	return true;
}

static const char *check_data_seg(const struct seg_state *s, const char *name_bad_type,
				  const char *name_bad_ar)
{
	if (s->ar & AR_UNUSABLE)
		return NULL;
	if (!(AR_TYPE(s->ar) & 1))
		return name_bad_type; /* must be accessed */
	if ((AR_TYPE(s->ar) & 8) && !(AR_TYPE(s->ar) & 2))
		return name_bad_type; /* code segments must be readable */
	if (!(s->ar & AR_S) || !(s->ar & AR_P) || (s->ar & AR_RESERVED) ||
	    !limit_granularity_ok(s->limit, s->ar))
		return name_bad_ar;
	return NULL;
}

const char *guest_state_check(const struct guest_state *g)
{
	bool ug = g->proc2 & PROC2_UNRESTRICTED;
	bool ia32e = g->entry_ctls & ENTRY_IA32E_GUEST;
	u64 must1 = g->cr0_fixed0 & (ug ? ~(CR0_PE | CR0_PG) : ~0ULL);

	/* control registers */
	if ((g->cr0 & must1) != must1 || (g->cr0 & ~g->cr0_fixed1))
		return "guest CR0 violates the VMX fixed bits (IA32_VMX_CR0_FIXED0/1)";
	if ((g->cr0 & CR0_PG) && !(g->cr0 & CR0_PE))
		return "guest CR0.PG is set without CR0.PE";
	if ((g->cr4 & g->cr4_fixed0) != g->cr4_fixed0 || (g->cr4 & ~g->cr4_fixed1))
		return "guest CR4 violates the VMX fixed bits (CR4.VMXE must stay set)";
	if (ia32e && (!(g->cr0 & CR0_PG) || !(g->cr4 & CR4_PAE)))
		return "IA-32e mode guest without CR0.PG and CR4.PAE";
	if (!ia32e && (g->cr4 & CR4_PCIDE))
		return "CR4.PCIDE set outside IA-32e mode";
	if (g->dr7 >> 32)
		return "guest DR7 bits 63:32 are not zero";
	if ((g->efer & EFER_LMA) != (ia32e ? EFER_LMA : 0))
		return "guest EFER.LMA differs from the IA-32e mode guest entry control";
	if ((g->cr0 & CR0_PG) && ((g->efer & EFER_LMA) != 0) != ((g->efer & EFER_LME) != 0))
		return "guest EFER.LME differs from EFER.LMA while paging is on";

	/* segments */
	const struct seg_state *cs = &g->seg[SEG_CS], *ss = &g->seg[SEG_SS];
	const struct seg_state *tr = &g->seg[SEG_TR], *ldtr = &g->seg[SEG_LDTR];
	bool v86 = g->rflags & RFLAGS_VM;
	if (!v86) {
		u32 t = AR_TYPE(cs->ar);
		if (!((t == 9 || t == 11 || t == 13 || t == 15) || (ug && t == 3)))
			return "guest CS type must be accessed code (or read/write data with "
			       "unrestricted guest)";
		if (!(cs->ar & AR_S) || !(cs->ar & AR_P) || (cs->ar & AR_RESERVED))
			return "guest CS access rights: S, P or reserved bits wrong";
		if (!limit_granularity_ok(cs->limit, cs->ar))
			return "guest CS limit does not match its granularity bit";
		if (ia32e && (cs->ar & AR_L) && (cs->ar & AR_DB))
			return "guest CS has both L and D/B set";
		if (!(ss->ar & AR_UNUSABLE) && AR_TYPE(ss->ar) != 3 && AR_TYPE(ss->ar) != 7)
			return "guest SS type must be read/write data";
		if (!ug && AR_DPL(ss->ar) != (ss->sel & 3))
			return "guest SS.DPL differs from SS.RPL";
		if (!(g->cr0 & CR0_PE) && AR_DPL(ss->ar) != 0)
			return "guest SS.DPL must be 0 in real mode";
		const char *e;
		if ((e = check_data_seg(&g->seg[SEG_SS], "guest SS type invalid",
					"guest SS access rights invalid")) ||
		    (e = check_data_seg(&g->seg[SEG_DS], "guest DS type invalid",
					"guest DS access rights invalid")) ||
		    (e = check_data_seg(&g->seg[SEG_ES], "guest ES type invalid",
					"guest ES access rights invalid")) ||
		    (e = check_data_seg(&g->seg[SEG_FS], "guest FS type invalid",
					"guest FS access rights invalid")) ||
		    (e = check_data_seg(&g->seg[SEG_GS], "guest GS type invalid",
					"guest GS access rights invalid")))
			return e;
	}
	if (tr->ar & AR_UNUSABLE)
		return "guest TR is unusable";
	if (tr->sel & 4)
		return "guest TR selector points into the LDT";
	if (!(AR_TYPE(tr->ar) == 11 || (!ia32e && AR_TYPE(tr->ar) == 3)))
		return "guest TR type must be a busy TSS (11, or 3 outside IA-32e mode)";
	if ((tr->ar & AR_S) || !(tr->ar & AR_P) || (tr->ar & AR_RESERVED) ||
	    !limit_granularity_ok(tr->limit, tr->ar))
		return "guest TR access rights or limit invalid";
	if (!(ldtr->ar & AR_UNUSABLE)) {
		if (AR_TYPE(ldtr->ar) != 2 || (ldtr->ar & AR_S) || !(ldtr->ar & AR_P) ||
		    (ldtr->ar & AR_RESERVED))
			return "guest LDTR is usable but not a present LDT descriptor";
	}

	/* RIP, RFLAGS, non-register state */
	if (!(ia32e && (cs->ar & AR_L)) && (g->rip >> 32))
		return "guest RIP bits 63:32 set outside 64-bit mode";
	if (!(g->rflags & RFLAGS_FIXED) || (g->rflags & 0xffffffffffc08028ULL))
		return "guest RFLAGS reserved bits wrong (bit 1 must be 1)";
	if ((ia32e || !(g->cr0 & CR0_PE)) && v86)
		return "guest RFLAGS.VM set in IA-32e mode or real mode";
	if (g->activity > 3)
		return "guest activity state invalid";
	if ((g->interruptibility & 3) == 3)
		return "guest blocked by both STI and MOV SS";
	if ((g->interruptibility & INTERRUPTIBILITY_STI) && !(g->rflags & RFLAGS_IF))
		return "guest blocked by STI while RFLAGS.IF is 0";
	if (g->link != ~0ULL)
		return "VMCS link pointer is not all ones";
	return NULL;
}
