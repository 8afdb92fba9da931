/* Shares-based memory allocation with ESX's idle-memory tax (Waldspurger, OSDI 2002, 5.2),
 * and admission control by reservations. Pure arithmetic over a table the caller fills:
 * which VM should hold how many pages when guests want more than the machine has. Balloon
 * and swap drive each VM toward its target; they never take a VM below its reservation. */
#ifndef KEEL_MEMPOLICY_H
#define KEEL_MEMPOLICY_H

#include "../hypervisor/types.h"

#define MP_TAX_DEFAULT 75 /* percent: ESX's default idle-memory tax rate */
#define MP_TAX_MAX     99 /* 100% would make an idle page infinitely dear */

struct mp_vm {
	u64 min_pages;	  /* reservation: never reclaimed */
	u64 max_pages;	  /* what it may hold: its limit, at most its memory */
	u64 shares;	  /* its weight */
	u64 active_pages; /* the working-set estimate (wss_active_pages) */
	u64 target;	  /* out: pages it should hold */
};

/* Which of a, b has the lower adjusted shares-per-page ratio at pages pa, pb:
 * rho = S / (P * (f + k * (1 - f))), k = 1 / (1 - tax), f = min(A, P) / P; so
 * P * (f + k(1 - f)) = A' + k (P - A') with A' = min(A, P). Compared exactly in integers,
 * both sides multiplied by (1 - tax): negative, zero or positive like a.rho - b.rho. */
int mp_rho_cmp(const struct mp_vm *a, u64 pa, const struct mp_vm *b, u64 pb, unsigned tax_pct);

/* Every VM's target for `avail` pages of guest memory: each starts at its max, and while
 * the sum is above avail, the VM with the lowest ratio (at its current target) gives up
 * `step` pages (or what brings the sum to avail), never going below its min. Returns the
 * sum of the targets: above avail only when the reservations alone are. */
u64 mempolicy_targets(struct mp_vm *vms, unsigned n, u64 avail, unsigned tax_pct, u64 step);

/* Admission: NULL when a VM reserving `min_pages` fits beside the reservations of the VMs
 * running (`reserved` pages) in `guest_pages` of memory for guests; else the reason, with
 * the numbers in MiB, written to msg. */
const char *mempolicy_admit(u64 reserved, u64 min_pages, u64 guest_pages, char *msg, size_t size);

#endif
