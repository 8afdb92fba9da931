/* Architectural checks of MOV to CR0/CR4 (SDM vol. 3A 2.5 and the MOV CRn #GP list). */
#include "cr.h"
#include "vmx_defs.h"

#define CR0_PAGING_BITS (CR0_PG | CR0_WP | CR0_PE)
#define CR4_PAGING_BITS (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PCIDE | CR4_LA57)

static bool pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA);
}

void cr0_write(const struct cr_policy *p, const struct cr_state *s, u64 val, struct cr_write *out)
{
	out->gp = true;
	if (val >> 32)
		return;
	if ((val & CR0_PG) && !(val & CR0_PE))
		return;
	if ((val & CR0_NW) && !(val & CR0_CD))
		return;
	bool pg_on = !(s->cr0 & CR0_PG) && (val & CR0_PG);
	bool pg_off = (s->cr0 & CR0_PG) && !(val & CR0_PG);
	if (pg_on && (s->efer & EFER_LME) && !(s->cr4 & CR4_PAE))
		return;
	if (pg_off && s->cs_long)
		return;
	out->gp = false;
	val |= CR0_ET; /* hardwired to 1 */
	out->guest = val;
	out->hw = (val | p->cr0_must1) & ~p->cr0_must0;
	out->efer = s->efer;
	if (pg_on && (s->efer & EFER_LME))
		out->efer |= EFER_LMA;
	if (pg_off)
		out->efer &= ~EFER_LMA;
	out->flush_tlb = ((s->cr0 ^ val) & CR0_PAGING_BITS) != 0;
	/* SDM 4.4.1: under PAE paging, MOV to CR0 that changes PG, CD or NW loads the PDPTEs */
	out->load_pdptes =
	    pae_paging(val, s->cr4, out->efer) &&
	    (((s->cr0 ^ val) & (CR0_PG | CR0_CD | CR0_NW)) || !pae_paging(s->cr0, s->cr4, s->efer));
}

void cr4_write(const struct cr_policy *p, const struct cr_state *s, u64 val, struct cr_write *out)
{
	out->gp = true;
	if (val >> 32)
		return;
	/* bits the CPU cannot hold in VMX operation, minus those VMX forces on (VMXE) */
	if (val & (p->cr4_must0 | p->cr4_hidden))
		return;
	if ((s->efer & EFER_LMA) && !(val & CR4_PAE))
		return;
	if ((s->efer & EFER_LMA) && ((s->cr4 ^ val) & CR4_LA57))
		return;
	if (!(s->cr4 & CR4_PCIDE) && (val & CR4_PCIDE) && !(s->efer & EFER_LMA))
		return;
	out->gp = false;
	out->guest = val;
	out->hw = (val | p->cr4_must1) & ~p->cr4_must0;
	out->efer = s->efer;
	out->flush_tlb = ((s->cr4 ^ val) & CR4_PAGING_BITS) != 0;
	out->load_pdptes =
	    pae_paging(s->cr0, val, s->efer) &&
	    (((s->cr4 ^ val) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP)) != 0);
}

u64 lmsw_value(u64 cr0, u16 src)
{
	/* PE can be set but not cleared by LMSW */
	return (cr0 & ~0xeULL) | (src & 0xf) | (cr0 & CR0_PE);
}
