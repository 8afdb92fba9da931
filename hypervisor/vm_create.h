/* VM construction and teardown, and re-creation of an ended VM from its config. */
#ifndef KEEL_VM_CREATE_H
#define KEEL_VM_CREATE_H

#include "vm.h"
#include "bootinfo.h"

/* test_hypercalls: the Keel command line enabled KEEL_HC_TEST_* for every VM. */
struct vm *vm_create(const struct vm_config *cfg, const struct boot_info *bi, bool test_hypercalls,
		     const char **err);
/* Frees the VM's memory, tables and VMCS (the object itself stays for its report). */
void vm_release(struct vm *vm);
struct vm *vm_by_index(unsigned i);
/* Creates an ended VM again, in its slot, from the config it was first created from (a
 * reset). NULL or why not; then the VM stays stopped with that reason. */
const char *vm_recreate(struct vm *vm, const struct boot_info *bi);

#endif
