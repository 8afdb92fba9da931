/* VM construction and teardown. */
#ifndef KEEL_VM_CREATE_H
#define KEEL_VM_CREATE_H

#include "vm.h"
#include "bootinfo.h"

/* test_hypercalls: the Keel command line enabled KEEL_HC_TEST_* for every VM. */
struct vm *vm_create(const struct vm_config *cfg, const struct boot_info *bi, bool test_hypercalls,
		     const char **err);
/* Builds an ended VM again from its config, in the same slot (so its vCPU pointers stay
 * valid): a fresh boot. NULL and *err on failure; the VM then stays, stopped with that
 * reason. */
struct vm *vm_restart(struct vm *vm, const struct boot_info *bi, const char **err);
/* Frees the VM's memory, tables and VMCS (the object itself stays for its report). */
void vm_release(struct vm *vm);
struct vm *vm_by_index(unsigned i);
/* The page-sharing scanner every VM joins when built (its config's `share` sets whether it
 * is scanned) and leaves when released; NULL until main sets it up. */
extern struct share *vm_sharing;
/* The working-set sampler every VM joins when built (its config's `wss` picks the method)
 * and leaves when released; NULL until main sets it up. */
struct wss;
extern struct wss *vm_wss;
/* The hypervisor swap every VM joins when built (its config's `swap` sets whether its pages
 * may go out) and leaves when released, its slots freed; NULL without a swap partition. */
extern struct swap *vm_swap;

#endif
