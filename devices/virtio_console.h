/* virtio-console (virtio 1.x, section 5.3) with VIRTIO_CONSOLE_F_MULTIPORT: port 0, the
 * console, and port 1 named "printer". The control queues add the ports, name them and carry
 * the guest's opens and closes; what the guest writes to a port goes to that port's
 * callbacks (for the printer: the spool, where a close ends a job). No input is sent. */
#ifndef KEEL_VIRTIO_CONSOLE_H
#define KEEL_VIRTIO_CONSOLE_H

#include "device.h"
#include "virtio_pci.h"

#define VIRTIO_CONSOLE_F_MULTIPORT 1

/* control events */
#define VIRTIO_CONSOLE_DEVICE_READY 0
#define VIRTIO_CONSOLE_PORT_ADD	    1
#define VIRTIO_CONSOLE_PORT_REMOVE  2
#define VIRTIO_CONSOLE_PORT_READY   3
#define VIRTIO_CONSOLE_CONSOLE_PORT 4
#define VIRTIO_CONSOLE_RESIZE	    5
#define VIRTIO_CONSOLE_PORT_OPEN    6
#define VIRTIO_CONSOLE_PORT_NAME    7

#define VCON_PORTS	  2 /* port 0: console; port 1: printer */
#define VCON_PORT_PRINTER 1
#define VCON_QUEUES	  (2 * VCON_PORTS + 2)
#define VCON_QUEUE_SIZE	  64
#define VCON_PENDING	  8 /* control messages waiting for a guest buffer */
#define VCON_NAME_MAX	  16

/* Where a port's traffic goes; any member may be NULL. `out` gets the bytes the guest wrote,
 * in order; `opened` the guest's open (true) and close (false) of the port. */
struct vcon_port_ops {
	void (*out)(void *ctx, const u8 *buf, size_t n);
	void (*opened)(void *ctx, bool open);
	void *ctx;
};

struct vcon_ctrl {
	u32 id;
	u16 event, value;
};

struct virtio_console {
	struct virtio_pci vp; /* first: the transport's callbacks get it back */
	struct vcon_port_ops port[VCON_PORTS];
	bool guest_open[VCON_PORTS]; /* the guest has the port open */
	bool ready;		     /* the driver sent DEVICE_READY */
	struct vcon_ctrl pending[VCON_PENDING];
	unsigned npending;
	u64 bytes_out[VCON_PORTS], ctrl_dropped;
	u64 open_bytes[VCON_PORTS]; /* since the guest last opened the port (a printer job) */
	struct virtq_chain chain;
	u8 buf[4096];
};

/* A console with the two ports, wired to `console` (port 0) and `printer` (port 1) (either
 * may be NULL); plug vc->vp.f into the PCI host afterwards. */
bool virtio_console_init(struct virtio_console *vc, struct p2m *p2m,
			 const struct vcon_port_ops *console, const struct vcon_port_ops *printer);

/* The port's name as the guest sees it (/sys/class/virtio-ports/vportNpM/name), NULL none. */
const char *virtio_console_port_name(unsigned port);

extern const struct device_ops virtio_console_device;

#endif
