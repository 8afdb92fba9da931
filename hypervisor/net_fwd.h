/* A VM's port forwards (keel.cfg `ip =` and `fwd =`) on the VMs' gateway: the VM's address
 * bound to its MAC, and each forwarded port of Keel's outside address a fixed mapping of the
 * translator to that address. */
#ifndef KEEL_NET_FWD_H
#define KEEL_NET_FWD_H

#include "types.h"

struct router;
struct netstack;
struct vm_config;

/* Installs cfg's address and forwards on r, all or nothing. keel is Keel's own outside stack
 * (its bound UDP ports are never given to a VM) or NULL. True, or false with why. */
bool net_fwd_install(struct router *r, const struct netstack *keel, const struct vm_config *cfg,
		     char *why, size_t size);
/* Takes cfg's forwards and address off r again (harmless for what was never installed). */
void net_fwd_remove(struct router *r, const struct vm_config *cfg);

#endif
