/* Shares-based allocation with the idle-memory tax, and admission control (mempolicy.h).
 * Ratios are compared by cross-multiplying in 128 bits: no division, no rounding, no floats
 * (the hypervisor has none). */
#include "mempolicy.h"
#include "../hypervisor/lib.h"

/* P * (f + k(1 - f)) * (1 - tax), in hundredths: A' * (100 - tax) + 100 * (P - A'). */
static unsigned __int128 taxed_pages(const struct mp_vm *v, u64 pages, unsigned tax_pct)
{
	u64 act = MIN(v->active_pages, pages);
	return (unsigned __int128)act * (100u - tax_pct) + (unsigned __int128)(pages - act) * 100u;
}

int mp_rho_cmp(const struct mp_vm *a, u64 pa, const struct mp_vm *b, u64 pb, unsigned tax_pct)
{
	tax_pct = MIN(tax_pct, (unsigned)MP_TAX_MAX);
	/* Sa / Da < Sb / Db  <=>  Sa * Db < Sb * Da (D > 0; a VM holding nothing ranks last) */
	unsigned __int128 da = taxed_pages(a, pa, tax_pct), db = taxed_pages(b, pb, tax_pct);
	if (!da || !db)
		return !da && !db ? 0 : !da ? 1 : -1;
	unsigned __int128 l = (unsigned __int128)a->shares * db,
			  r = (unsigned __int128)b->shares * da;
	return l < r ? -1 : l > r ? 1 : 0;
}

u64 mempolicy_targets(struct mp_vm *vms, unsigned n, u64 avail, unsigned tax_pct, u64 step)
{
	u64 sum = 0;
	if (!step)
		step = 1;
	for (unsigned i = 0; i < n; i++) {
		vms[i].target = MAX(vms[i].max_pages, vms[i].min_pages);
		sum += vms[i].target;
	}
	while (sum > avail) {
		int low = -1;
		for (unsigned i = 0; i < n; i++) {
			struct mp_vm *v = &vms[i];
			if (v->target <= v->min_pages)
				continue;
			/* the lowest ratio gives first; on a tie the bigger holder */
			int c = low < 0
				    ? -1
				    : mp_rho_cmp(v, v->target, &vms[low], vms[low].target, tax_pct);
			if (c < 0 || (c == 0 && v->target > vms[low].target))
				low = (int)i;
		}
		if (low < 0)
			break; /* every VM at its reservation */
		struct mp_vm *v = &vms[low];
		u64 give = MIN(MIN(step, v->target - v->min_pages), sum - avail);
		v->target -= give;
		sum -= give;
	}
	return sum;
}

const char *mempolicy_admit(u64 reserved, u64 min_pages, u64 guest_pages, char *msg, size_t size)
{
	if (min_pages <= guest_pages && reserved <= guest_pages - min_pages)
		return NULL;
	ksnprintf(msg, size,
		  "its reservation (mem_min %llu MiB) does not fit: VMs running reserve %llu MiB "
		  "of the %llu MiB Keel has for guests",
		  (unsigned long long)(min_pages >> 8), (unsigned long long)(reserved >> 8),
		  (unsigned long long)(guest_pages >> 8));
	return msg;
}
