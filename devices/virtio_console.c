/* virtio-console with multiport: the control conversation (the driver's DEVICE_READY brings
 * PORT_ADD for both ports; each PORT_READY brings CONSOLE_PORT or PORT_NAME, then PORT_OPEN
 * since the host side is always connected) and the ports' transmit queues. */
#include "virtio_console.h"
#include "../hypervisor/lib.h"

#define Q_CTRL_RX 2
#define Q_CTRL_TX 3

static const char *const port_names[VCON_PORTS] = {NULL, "printer"};

const char *virtio_console_port_name(unsigned port)
{
	return port < VCON_PORTS ? port_names[port] : NULL;
}

static struct virtio_console *con_of(struct virtio_pci *vp)
{
	return (struct virtio_console *)vp;
}

static void con_config(struct virtio_pci *vp, u8 *cfg)
{
	(void)vp;
	u32 ports = VCON_PORTS;
	/* cols and rows 0: not known; emerg_wr not offered */
	memcpy(cfg + 4, &ports, 4);
}

/* The first waiting control message into a buffer of the control receive queue (a buffer
 * too small for it loses the message). */
static u32 ctrl_fill(void *ctx, const struct virtq_chain *c, const char **why)
{
	struct virtio_console *vc = ctx;
	(void)why;
	const struct vcon_ctrl *m = &vc->pending[0];
	u8 msg[8 + VCON_NAME_MAX];
	u32 len = 8;
	memcpy(msg, &m->id, 4);
	memcpy(msg + 4, &m->event, 2);
	memcpy(msg + 6, &m->value, 2);
	const char *name = m->event == VIRTIO_CONSOLE_PORT_NAME ? port_names[m->id] : NULL;
	if (name) {
		u32 n = (u32)strlen(name); /* the driver takes the rest of the buffer */
		memcpy(msg + 8, name, n);
		len += n;
	}
	u32 written = 0;
	if (c->writable >= len && virtq_chain_write(c, vc->vp.p2m, 0, msg, len))
		written = len;
	else
		vc->ctrl_dropped++;
	memmove(&vc->pending[0], &vc->pending[1], --vc->npending * sizeof(vc->pending[0]));
	return written;
}

/* Sends what waits while the driver has buffers in the control receive queue. */
static void ctrl_flush(struct virtio_console *vc)
{
	/* each buffer takes one message: at most npending of them */
	if (virtio_pci_live(&vc->vp))
		virtio_pci_drain(&vc->vp, Q_CTRL_RX, &vc->chain, vc->npending, ctrl_fill, vc);
}

static void ctrl_send(struct virtio_console *vc, u32 id, u16 event, u16 value)
{
	if (vc->npending == VCON_PENDING) {
		vc->ctrl_dropped++;
		return;
	}
	vc->pending[vc->npending++] = (struct vcon_ctrl){id, event, value};
}

static void set_open(struct virtio_console *vc, unsigned port, bool open)
{
	if (vc->guest_open[port] == open)
		return;
	vc->guest_open[port] = open;
	if (open)
		vc->open_bytes[port] = 0;
	const struct vcon_port_ops *o = &vc->port[port];
	if (o->opened)
		o->opened(o->ctx, open);
}

/* One control message from the driver; ids and values are the guest's, so checked. */
static void ctrl_message(struct virtio_console *vc, const struct vcon_ctrl *m)
{
	switch (m->event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (m->value != 1 || vc->ready)
			return;
		vc->ready = true;
		for (u32 p = 0; p < VCON_PORTS; p++)
			ctrl_send(vc, p, VIRTIO_CONSOLE_PORT_ADD, 0);
		return;
	case VIRTIO_CONSOLE_PORT_READY:
		if (m->id >= VCON_PORTS || m->value != 1)
			return;
		if (m->id == 0)
			ctrl_send(vc, m->id, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
		if (port_names[m->id])
			ctrl_send(vc, m->id, VIRTIO_CONSOLE_PORT_NAME, 1);
		ctrl_send(vc, m->id, VIRTIO_CONSOLE_PORT_OPEN, 1); /* the host end is there */
		return;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (m->id < VCON_PORTS)
			set_open(vc, m->id, m->value != 0);
		return;
	default:
		return; /* nothing else is the driver's to send */
	}
}

/* A control message from the driver (a buffer shorter than one is ignored). */
static u32 ctrl_take(void *ctx, const struct virtq_chain *c, const char **why)
{
	struct virtio_console *vc = ctx;
	(void)why;
	u8 raw[8];
	if (virtq_chain_read(c, vc->vp.p2m, 0, raw, sizeof(raw))) {
		struct vcon_ctrl m;
		memcpy(&m.id, raw, 4);
		memcpy(&m.event, raw + 4, 2);
		memcpy(&m.value, raw + 6, 2);
		ctrl_message(vc, &m);
	}
	return 0;
}

static void ctrl_receive(struct virtio_console *vc)
{
	struct virtio_pci *vp = &vc->vp;
	virtio_pci_drain(vp, Q_CTRL_TX, &vc->chain, vp->q[Q_CTRL_TX].size, ctrl_take, vc);
	ctrl_flush(vc);
}

/* A port's transmit queue hands every readable byte to its `out`, in order. */
struct port_tx {
	struct virtio_console *vc;
	unsigned port;
};

static u32 port_out(void *ctx, const struct virtq_chain *c, const char **why)
{
	const struct port_tx *t = ctx;
	struct virtio_console *vc = t->vc;
	const struct vcon_port_ops *o = &vc->port[t->port];
	(void)why;
	for (u32 off = 0; off < c->readable;) {
		u32 n = MIN(c->readable - off, (u32)sizeof(vc->buf));
		if (!virtq_chain_read(c, vc->vp.p2m, off, vc->buf, n))
			break; /* a buffer outside RAM: the rest of this one is lost */
		if (o->out)
			o->out(o->ctx, vc->buf, n);
		vc->bytes_out[t->port] += n;
		vc->open_bytes[t->port] += n;
		off += n;
	}
	return 0;
}

static void port_transmit(struct virtio_console *vc, unsigned port, unsigned qi)
{
	struct port_tx t = {vc, port};
	virtio_pci_drain(&vc->vp, qi, &vc->chain, vc->vp.q[qi].size, port_out, &t);
}

static void con_notify(struct virtio_pci *vp, unsigned qi)
{
	struct virtio_console *vc = con_of(vp);
	if (qi == Q_CTRL_RX)
		ctrl_flush(vc);
	else if (qi == Q_CTRL_TX)
		ctrl_receive(vc);
	else if (qi % 2 == 1)
		port_transmit(vc, qi == 1 ? 0 : qi / 2 - 1, qi);
	/* a receive queue: the guest offers buffers for input, and there is none */
}

static void con_reset(struct virtio_pci *vp)
{
	struct virtio_console *vc = con_of(vp);
	for (unsigned p = 0; p < VCON_PORTS; p++)
		set_open(vc, p, false); /* a reset closes what the guest had open */
	vc->ready = false;
	vc->npending = 0;
}

static const struct virtio_dev_ops con_ops = {
    .config = con_config,
    .notify = con_notify,
    .reset = con_reset,
};

bool virtio_console_init(struct virtio_console *vc, struct p2m *p2m,
			 const struct vcon_port_ops *console, const struct vcon_port_ops *printer)
{
	memset(vc->port, 0, sizeof(vc->port));
	memset(vc->guest_open, 0, sizeof(vc->guest_open));
	if (console)
		vc->port[0] = *console;
	if (printer)
		vc->port[VCON_PORT_PRINTER] = *printer;
	/* class 0x0780: communication, other */
	if (!virtio_pci_init(&vc->vp, p2m, VIRTIO_ID_CONSOLE, 0x078000,
			     BIT(VIRTIO_CONSOLE_F_MULTIPORT), 12, VCON_QUEUES, VCON_QUEUE_SIZE,
			     &con_ops))
		return false;
	memset(vc->bytes_out, 0, sizeof(vc->bytes_out));
	memset(vc->open_bytes, 0, sizeof(vc->open_bytes));
	vc->ctrl_dropped = 0;
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	virtio_pci_reset(&((struct virtio_console *)dev)->vp);
}

#define VCON_STATE_VERSION 1

static void dev_save(void *dev, struct state_writer *w)
{
	struct virtio_console *vc = dev;
	u8 flags = (u8)(vc->ready | vc->guest_open[0] << 1 | vc->guest_open[1] << 2);
	u8 n = (u8)vc->npending;
	state_put_tag(w, "VCON", VCON_STATE_VERSION);
	STATE_PUT(w, flags);
	STATE_PUT(w, n);
	state_put(w, vc->pending, n * sizeof(vc->pending[0]));
	virtio_pci_save(&vc->vp, w);
}

/* The console's own part first, into locals; the transport's load is all or nothing, so a
 * refused stream leaves the model as it was. */
static bool dev_load(void *dev, struct state_reader *r)
{
	struct virtio_console *vc = dev;
	struct vcon_ctrl pending[VCON_PENDING];
	u8 flags, n;
	if (!state_get_tag(r, "VCON", VCON_STATE_VERSION) || !STATE_GET(r, flags) ||
	    !STATE_GET(r, n) || flags > 7 || n > VCON_PENDING ||
	    !state_get(r, pending, n * sizeof(pending[0])))
		return false;
	/* only messages this device sends */
	for (unsigned i = 0; i < n; i++)
		if (pending[i].id >= VCON_PORTS ||
		    (pending[i].event != VIRTIO_CONSOLE_PORT_ADD &&
		     pending[i].event != VIRTIO_CONSOLE_CONSOLE_PORT &&
		     pending[i].event != VIRTIO_CONSOLE_PORT_NAME &&
		     pending[i].event != VIRTIO_CONSOLE_PORT_OPEN))
			return false;
	if (!virtio_pci_load(&vc->vp, r))
		return false;
	vc->ready = flags & 1;
	vc->guest_open[0] = flags & 2;
	vc->guest_open[1] = flags & 4;
	vc->npending = n;
	memcpy(vc->pending, pending, n * sizeof(pending[0]));
	return true;
}

const struct device_ops virtio_console_device = {
    .name = "virtio-console",
    .reset = dev_reset,
    .save = dev_save,
    .load = dev_load,
};
