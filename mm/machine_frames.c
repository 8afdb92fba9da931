/* The machine's frame allocator: every usable 4 KiB frame of RAM, filled once at boot
 * (hypervisor/main.c) and shared by every VM and by the hypervisor's own tables. Owned by
 * mm/ so that the layers above it (vmx/, VM creation) need not reach the top to find it;
 * the host unit tests define their own. */
#include "frames.h"

struct frames machine_frames;
