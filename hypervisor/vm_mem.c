/* VM memory policy (vm_mem.h): defaults, admission, targets. The arithmetic is
 * mm/mempolicy.c's; this file maps VMs and their estimates onto it. */
#include "vm_mem.h"
#include "lib.h"

#define MIB_PAGES   (1ULL << (20 - PAGE_SHIFT))
#define TARGET_STEP MIB_PAGES /* targets move by 1 MiB at a time */

void vm_mem_policy_init(struct vm_mem_policy *m, const struct vm_config *cfg)
{
	m->min_mib = cfg->mem_min_mib;
	m->max_mib = cfg->mem_max_mib;
	m->shares = cfg->mem_shares ? cfg->mem_shares : cfg->memory_mib * VM_MEM_SHARES_PER_MIB;
}

u64 vm_mem_min_pages(const struct vm *vm)
{
	return MIN(vm->mem.min_mib * MIB_PAGES, vm->mem_bytes >> PAGE_SHIFT);
}

u64 vm_mem_max_pages(const struct vm *vm)
{
	u64 all = vm->mem_bytes >> PAGE_SHIFT;
	return vm->mem.max_mib ? MIN(vm->mem.max_mib * MIB_PAGES, all) : all;
}

bool vm_mem_holds(const struct vm *vm)
{
	return vm && vm->p2m.root;
}

u64 vm_mem_guest_pages(const struct frames *fa)
{
	return fa->ntotal - fa->nboot - fa->nhv;
}

const char *vm_mem_admit(struct vm *const *vms, unsigned n, const struct vm *self,
			 const struct vm_config *cfg, u64 guest_pages, char *msg, size_t size)
{
	u64 reserved = 0;
	for (unsigned i = 0; i < n; i++)
		if (vms[i] != self && vm_mem_holds(vms[i]))
			reserved += vm_mem_min_pages(vms[i]);
	return mempolicy_admit(reserved, cfg->mem_min_mib * MIB_PAGES, guest_pages, msg, size);
}

u64 vm_mem_targets(struct vm *const *vms, unsigned n, const struct wss *w, u64 guest_pages,
		   unsigned tax_pct, struct mp_vm *out)
{
	struct mp_vm *held[MAX_VMS];
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		struct vm *vm = vms[i];
		out[i] = (struct mp_vm){0};
		if (!vm_mem_holds(vm) || k == MAX_VMS)
			continue;
		out[i] = (struct mp_vm){.min_pages = vm_mem_min_pages(vm),
					.max_pages = vm_mem_max_pages(vm),
					.shares = vm->mem.shares,
					.active_pages =
					    w ? wss_active_pages(w, &vm->p2m) : vm->p2m.nr_ram};
		held[k++] = &out[i];
	}
	/* mempolicy works on a packed table: copy in, divide, copy back */
	static struct mp_vm packed[MAX_VMS];
	for (unsigned i = 0; i < k; i++)
		packed[i] = *held[i];
	u64 sum = mempolicy_targets(packed, k, guest_pages, tax_pct, TARGET_STEP);
	for (unsigned i = 0; i < k; i++)
		held[i]->target = packed[i].target;
	return sum;
}

u64 vm_mem_update_targets(struct vm *const *vms, unsigned n, const struct wss *w, u64 guest_pages,
			  unsigned tax_pct)
{
	static struct mp_vm t[MAX_VMS];
	n = MIN(n, (unsigned)MAX_VMS);
	u64 sum = vm_mem_targets(vms, n, w, guest_pages, tax_pct, t);
	for (unsigned i = 0; i < n; i++)
		if (vms[i])
			vms[i]->mem.target = t[i].target;
	return sum;
}
