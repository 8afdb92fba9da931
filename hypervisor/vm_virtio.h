/* The virtio-pci functions of a VM, as its config asks: virtio-blk on the VM's disk
 * (`disk = ...` with disk_model virtio) in slot 1, virtio-console with the printer port in
 * slot 2. The board lists them (present predicates); this plugs them into the PCI host. */
#ifndef KEEL_VM_VIRTIO_H
#define KEEL_VM_VIRTIO_H

#include "types.h"

struct vm;
struct vm_config;

#define VM_VIRTIO_BLK_SLOT     1
#define VM_VIRTIO_CONSOLE_SLOT 2
#define VM_VIRTIO_BALLOON_SLOT 4 /* slot 3 is virtio-net's (vm_net.h) */

/* Whether the VM has a virtio-blk disk: a disk with model virtio. */
bool vm_has_virtio_disk(const struct vm_config *cfg);
/* Whether the VM has the virtio console with the printer port. Until the config has a
 * printer key this is false for every config (the spool branch adds `printer = on`). */
bool vm_has_console_ports(const struct vm_config *cfg);

/* Whether the VM has virtio-balloon (`balloon = on`). */
bool vm_has_balloon(const struct vm_config *cfg);

/* Frames the VM's balloon holds now: given back by inflate or free page reports and not
 * mapped again (by deflate, or a touch); 0 without a balloon. */
u64 vm_balloon_frames(const struct vm *vm);
/* The VM's balloon on the console: target, actual, counters, cost and the guest's stats
 * (brief: one line, for the VM's report at its end). */
void vm_balloon_print(const struct vm *vm, bool brief);

/* Sets up and plugs the virtio functions the platform attached; NULL or why not. */
const char *vm_virtio_plug(struct vm *vm);

#endif
