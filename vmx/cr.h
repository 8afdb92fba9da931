/* Emulated control-register writes (the ones that exit: bits the hypervisor owns). Pure:
 * given the guest-visible old state and the value written, decide #GP or the new guest
 * value, the value the CPU must really hold, and what else changes (EFER.LMA, TLBs). */
#ifndef KEEL_CR_H
#define KEEL_CR_H

#include "../hypervisor/types.h"

struct cr_policy {
	u64 cr0_must1, cr0_must0; /* forced by VMX (FIXED0/FIXED1, PE/PG exempt) */
	u64 cr4_must1, cr4_must0;
	u64 cr4_hidden; /* bits CPUID does not offer the guest: setting them #GPs */
};

struct cr_state {
	u64 cr0, cr4, efer; /* guest-visible values */
	bool cs_long;	    /* CS.L: running 64-bit code */
};

struct cr_write {
	bool gp;	  /* the write faults: nothing changes */
	u64 guest;	  /* new guest-visible value (read shadow) */
	u64 hw;		  /* value for GUEST_CR0/GUEST_CR4 */
	u64 efer;	  /* new guest EFER (LMA follows CR0.PG when LME is set) */
	bool flush_tlb;	  /* a paging-related bit changed */
	bool load_pdptes; /* PAE paging without long mode is now on: load the PDPTEs */
};

void cr0_write(const struct cr_policy *p, const struct cr_state *s, u64 val, struct cr_write *out);
void cr4_write(const struct cr_policy *p, const struct cr_state *s, u64 val, struct cr_write *out);
/* LMSW changes CR0 bits 0-3 only and cannot clear PE. */
u64 lmsw_value(u64 cr0, u16 src);

#endif
