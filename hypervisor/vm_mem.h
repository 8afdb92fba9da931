/* A VM's memory policy (mem_min, mem_max, mem_shares) between the config, the shell, the
 * working-set estimates (mm/wss.h) and the allocation arithmetic (mm/mempolicy.h): admission
 * control at creation, and each VM's target, which balloon and swap drive toward. Pure. */
#ifndef KEEL_VM_MEM_H
#define KEEL_VM_MEM_H

#include "vm.h"
#include "../mm/mempolicy.h"
#include "../mm/wss.h"

#define VM_MEM_SHARES_PER_MIB 10 /* ESX's "normal" shares */

/* The policy of a VM built from cfg: its config's values, shares by size when unset. */
void vm_mem_policy_init(struct vm_mem_policy *m, const struct vm_config *cfg);
/* Pages reserved and the most it may hold (its memory when mem_max is unset). */
u64 vm_mem_min_pages(const struct vm *vm);
u64 vm_mem_max_pages(const struct vm *vm);
/* Does the VM hold memory now (built, not yet released)? */
bool vm_mem_holds(const struct vm *vm);
/* Machine memory for guests: every frame not boot's or the hypervisor's (free, the VMs',
 * shared ones), from the allocator's counters (no scan: it runs for every VM built). */
u64 vm_mem_guest_pages(const struct frames *fa);
/* Admission: NULL when cfg's reservation fits beside those of the VMs that hold memory
 * (vms[0..n), NULLs skipped, `self` too: a restart replaces it); else why, in msg. */
const char *vm_mem_admit(struct vm *const *vms, unsigned n, const struct vm *self,
			 const struct vm_config *cfg, u64 guest_pages, char *msg, size_t size);
/* Targets of the VMs that hold memory (out[i] for vms[i]; 0 for the others), from their
 * policies and active pages (w NULL: all active), over guest_pages with tax_pct. Returns
 * the sum of the targets. Balloon and swap drive each VM toward out[i]. */
u64 vm_mem_targets(struct vm *const *vms, unsigned n, const struct wss *w, u64 guest_pages,
		   unsigned tax_pct, struct mp_vm *out);
/* The same, kept in each VM's mem.target (0 for those holding no memory): what main.c runs
 * at the end of each sampling period, so balloon and swap read a field, not a computation. */
u64 vm_mem_update_targets(struct vm *const *vms, unsigned n, const struct wss *w, u64 guest_pages,
			  unsigned tax_pct);

#endif
