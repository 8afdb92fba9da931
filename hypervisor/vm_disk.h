/* A VM's disk from its config (`disk = <partition | ram:<MiB>>[,ro]`): the block backend
 * its virtual disk model (virtio-blk or IDE) reads and writes, attached at creation and
 * given back when the VM is released. */
#ifndef KEEL_VM_DISK_H
#define KEEL_VM_DISK_H

#include "vm.h"

/* Sets vm->disk (NULL when the config names none); NULL, or why the VM cannot have it. */
const char *vm_disk_attach(struct vm *vm, const struct vm_config *cfg);
void vm_disk_release(struct vm *vm);

#endif
