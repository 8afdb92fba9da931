/* Walking the guest's own page tables (its V2P) in whatever mode it is in: no paging,
 * 32-bit (with PSE 4 MiB pages), PAE, IA-32e (2 MiB and 1 GiB pages). Checks permissions
 * as the CPU does (U/S, R/W with CR0.WP, NX, SMEP, SMAP), sets accessed and dirty bits, and
 * produces the #PF error code. Pure: guest memory is reached through pt_ops.map. Used to
 * fetch instructions for emulation now, and by shadow paging to compose V2M tables. */
#ifndef KEEL_GUEST_PT_H
#define KEEL_GUEST_PT_H

#include "pt.h"

enum guest_paging_mode { GPM_NONE, GPM_32BIT, GPM_PAE, GPM_LONG4 };

/* The guest's control state that decides translation. */
struct guest_paging {
	u64 cr0, cr3, cr4, efer;
	u64 pdpte[4];	/* PAE: the PDPTE registers (loaded at CR3 time, not at walk time) */
	bool rflags_ac; /* SMAP: EFLAGS.AC allows explicit supervisor accesses */
	u8 maxphyaddr;	/* guest-physical address width (CPUID 0x80000008) */
	bool gbpages;	/* 1 GiB pages are offered (CPUID.80000001:EDX[26]) */
};

/* What is being done to the address. */
#define GACC_WRITE    BIT(0)
#define GACC_USER     BIT(1) /* CPL 3 */
#define GACC_FETCH    BIT(2)
#define GACC_IMPLICIT BIT(3) /* supervisor access the CPU makes itself (GDT, IDT, TSS) */

/* Page-fault error code bits. */
#define PFEC_PRESENT BIT(0)
#define PFEC_WRITE   BIT(1)
#define PFEC_USER    BIT(2)
#define PFEC_RSVD    BIT(3)
#define PFEC_FETCH   BIT(4)

enum gwalk_status {
	GWALK_OK,
	GWALK_FAULT,	    /* the guest takes #PF(error) with CR2 = the address */
	GWALK_UNREACHABLE,  /* a page-table address is not guest RAM */
	GWALK_NONCANONICAL, /* IA-32e address not canonical: #GP (or #SS), not #PF */
};

struct gwalk {
	enum gwalk_status status;
	u64 gpa;			 /* the translation (GWALK_OK) */
	u32 error;			 /* #PF error code (GWALK_FAULT) */
	unsigned level;			 /* leaf level */
	bool writable, user, executable; /* the page's combined rights */
	bool dirty;			 /* the leaf's D bit after the walk */
	struct pt_path path;		 /* the entries used, A/D as set (GWALK_OK) */
	u8 levels;			 /* levels of the format walked (path.n <= levels) */
};

enum guest_paging_mode guest_paging_mode(const struct guest_paging *gp);

/* Translates gva for `access` (GACC_*). With set_ad, marks accessed (and dirty on a write)
 * in the entries used, as the CPU does on a successful translation. */
void guest_walk(const struct guest_paging *gp, const struct pt_ops *mem, u64 gva, unsigned access,
		bool set_ad, struct gwalk *out);

extern const struct pt_format pt_fmt_guest32, pt_fmt_guest_pae, pt_fmt_guest64;

#endif
