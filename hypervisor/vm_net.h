/* The VMs' network: Keel's one virtual switch, and each VM's virtio-net (config `net =`) in
 * PCI slot 3 as a port of it. The coordinator connects the switch's uplink port (VSW_UPLINK)
 * to the machine's NIC or Keel's own stack through vm_net_switch(). */
#ifndef KEEL_VM_NET_H
#define KEEL_VM_NET_H

#include "types.h"
#include "../devices/vswitch.h"

struct vm;
struct vm_config;

#define VM_VIRTIO_NET_SLOT 3

/* The switch, set up on first use (its clock: the TSC; learned addresses live
 * VSW_DEFAULT_AGE seconds). */
struct vswitch *vm_net_switch(void);

/* Whether the VM has virtio-net (`net = on` or `net = mac=...`). */
bool vm_has_net(const struct vm_config *cfg);
/* The VM's MAC: the config's, else 52:54:00 and three bytes of a hash of its name (locally
 * administered, unicast, the same at every boot). */
void vm_net_mac(const struct vm_config *cfg, u8 mac[6]);

/* Sets up the VM's virtio-net on a new switch port and plugs it (vm_virtio_plug calls
 * this); NULL or why not. */
const char *vm_net_plug(struct vm *vm);
/* The VM is going away: its port leaves the switch (harmless if it has none). */
void vm_net_release(struct vm *vm);
/* Link up or down on the VM's virtio-net and its switch port; false if it has none. */
bool vm_net_set_link(struct vm *vm, bool up);

#endif
