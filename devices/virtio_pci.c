/* virtio-pci modern transport: the BAR's windows (common configuration, ISR, device
 * configuration, notifications), the capabilities that describe them, feature negotiation,
 * the status machine and reset, interrupts, save/load. Registers are read and written as
 * byte images, so any access size or alignment the driver uses means what it says. */
#include "virtio_pci.h"
#include "../hypervisor/lib.h"

static u64 get_le(const u8 *p, unsigned n)
{
	u64 v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static void put_le(u8 *p, unsigned n, u64 v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* struct virtio_pci_common_cfg offsets */
#define CC_DFSELECT 0x00
#define CC_DF	    0x04
#define CC_GFSELECT 0x08
#define CC_GF	    0x0c
#define CC_MSIX	    0x10
#define CC_NUMQ	    0x12
#define CC_STATUS   0x14
#define CC_GEN	    0x15
#define CC_QSELECT  0x16
#define CC_QSIZE    0x18
#define CC_QVECTOR  0x1a
#define CC_QENABLE  0x1c
#define CC_QNOTIFY  0x1e
#define CC_QDESC    0x20
#define CC_QAVAIL   0x28
#define CC_QUSED    0x30

static struct virtq *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->nqueues ? &vp->q[vp->queue_select] : NULL;
}

static void common_image(struct virtio_pci *vp, u8 *img)
{
	memset(img, 0, VIRTIO_COMMON_LEN);
	put_le(img + CC_DFSELECT, 4, vp->dfselect);
	put_le(img + CC_DF, 4, vp->dfselect < 2 ? (u32)(vp->features >> (32 * vp->dfselect)) : 0);
	put_le(img + CC_GFSELECT, 4, vp->gfselect);
	put_le(img + CC_GF, 4,
	       vp->gfselect < 2 ? (u32)(vp->guest_features >> (32 * vp->gfselect)) : 0);
	put_le(img + CC_MSIX, 2, vp->msix_config);
	put_le(img + CC_NUMQ, 2, vp->nqueues);
	img[CC_STATUS] = vp->status | (vp->broken ? VIRTIO_STATUS_NEEDS_RESET : 0);
	img[CC_GEN] = 0; /* the configuration never changes under the driver */
	put_le(img + CC_QSELECT, 2, vp->queue_select);
	struct virtq *q = selected(vp);
	if (!q)
		return; /* a queue that does not exist reads as size 0 */
	put_le(img + CC_QSIZE, 2, q->size);
	put_le(img + CC_QVECTOR, 2, q->msix_vector);
	put_le(img + CC_QENABLE, 2, q->ready);
	put_le(img + CC_QNOTIFY, 2, vp->queue_select);
	put_le(img + CC_QDESC, 8, q->desc);
	put_le(img + CC_QAVAIL, 8, q->avail);
	put_le(img + CC_QUSED, 8, q->used);
}

static bool touched(unsigned off, unsigned size, unsigned at, unsigned len)
{
	return off < at + len && at < off + size;
}

/* A vector the function has, or NO_VECTOR: the driver reads back what was accepted. */
static u16 vector_or_none(const struct virtio_pci *vp, u64 v)
{
	return v < vp->nvec ? (u16)v : VIRTIO_NO_VECTOR;
}

static void set_status(struct virtio_pci *vp, u8 v)
{
	if (!v) {
		virtio_pci_reset(vp);
		return;
	}
	u8 old = vp->status;
	/* bits are only ever added until a reset; NEEDS_RESET is the device's */
	v = (u8)((v | old) & ~VIRTIO_STATUS_NEEDS_RESET);
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* a driver that cannot use version 1 or asks for what was not offered gets no
		 * FEATURES_OK: it reads the status back and gives up */
		if (!virtio_has(vp, VIRTIO_F_VERSION_1) || (vp->guest_features & ~vp->features))
			v &= (u8)~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
		v &= (u8)~VIRTIO_STATUS_DRIVER_OK; /* not before the features are settled */
	vp->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
		for (unsigned i = 0; i < vp->nqueues && virtio_pci_live(vp); i++)
			if (vp->q[i].ready)
				vp->ops->notify(vp, i); /* buffers added before DRIVER_OK */
}

static void enable_queue(struct virtio_pci *vp, struct virtq *q)
{
	const char *err = virtq_check(q, vp->p2m);
	if (err) {
		virtio_pci_break(vp, err);
		return;
	}
	q->ready = true;
	q->last_avail = q->used_idx = 0;
}

static void common_write(struct virtio_pci *vp, unsigned off, unsigned size, u64 val)
{
	u8 img[VIRTIO_COMMON_LEN];
	if (off >= VIRTIO_COMMON_LEN)
		return;
	size = MIN(size, VIRTIO_COMMON_LEN - off);
	common_image(vp, img);
	put_le(img + off, size, val);
	bool features_open = !(vp->status & VIRTIO_STATUS_FEATURES_OK);
	if (touched(off, size, CC_DFSELECT, 4))
		vp->dfselect = (u32)get_le(img + CC_DFSELECT, 4);
	if (touched(off, size, CC_GFSELECT, 4))
		vp->gfselect = (u32)get_le(img + CC_GFSELECT, 4);
	if (touched(off, size, CC_GF, 4) && features_open && vp->gfselect < 2) {
		unsigned sh = 32 * vp->gfselect;
		vp->guest_features =
		    (vp->guest_features & ~(0xffffffffULL << sh)) | get_le(img + CC_GF, 4) << sh;
	}
	if (touched(off, size, CC_MSIX, 2))
		vp->msix_config = vector_or_none(vp, get_le(img + CC_MSIX, 2));
	if (touched(off, size, CC_QSELECT, 2))
		vp->queue_select = (u16)get_le(img + CC_QSELECT, 2);
	struct virtq *q = selected(vp);
	/* a queue's registers change only while it is off; the select written in this same
	 * access is the one meant */
	if (q && !q->ready) {
		if (touched(off, size, CC_QSIZE, 2)) {
			u64 n = get_le(img + CC_QSIZE, 2);
			if (n && n <= vp->qmax && !(n & (n - 1)))
				q->size = (u16)n;
		}
		if (touched(off, size, CC_QDESC, 8))
			q->desc = get_le(img + CC_QDESC, 8);
		if (touched(off, size, CC_QAVAIL, 8))
			q->avail = get_le(img + CC_QAVAIL, 8);
		if (touched(off, size, CC_QUSED, 8))
			q->used = get_le(img + CC_QUSED, 8);
	}
	if (q && touched(off, size, CC_QVECTOR, 2))
		q->msix_vector = vector_or_none(vp, get_le(img + CC_QVECTOR, 2));
	if (q && touched(off, size, CC_QENABLE, 2) && get_le(img + CC_QENABLE, 2) == 1 &&
	    !q->ready && !vp->broken)
		enable_queue(vp, q);
	if (touched(off, size, CC_STATUS, 1))
		set_status(vp, img[CC_STATUS]);
}

static bool msix_on(const struct virtio_pci *vp)
{
	const struct pci_func *f = &vp->f;
	return f->msix_cap && (f->cfg[f->msix_cap + 3] & (PCI_MSIX_ENABLE >> 8));
}

static void raise(struct virtio_pci *vp, u16 vector, u8 isr)
{
	vp->isr |= isr;
	vp->interrupts++;
	if (!msix_on(vp))
		pci_func_intx(&vp->f, true); /* until the driver reads the ISR */
	else if (vector != VIRTIO_NO_VECTOR)
		pci_func_signal(&vp->f, vector);
}

void virtio_pci_queue_interrupt(struct virtio_pci *vp, unsigned q)
{
	if (q < vp->nqueues && virtq_wants_interrupt(&vp->q[q], vp->p2m))
		raise(vp, vp->q[q].msix_vector, VIRTIO_ISR_QUEUE);
}

void virtio_pci_drain(struct virtio_pci *vp, unsigned qi, struct virtq_chain *c, unsigned max,
		      virtq_handler *fn, void *ctx)
{
	struct virtq_drained d = virtq_drain(&vp->q[qi], vp->p2m, c, max, fn, ctx);
	if (d.broken)
		virtio_pci_break(vp, d.broken);
	/* what was given back before a break is done: the driver may take it */
	if (d.pushed)
		virtio_pci_queue_interrupt(vp, qi);
}

void virtio_pci_config_interrupt(struct virtio_pci *vp)
{
	raise(vp, vp->msix_config, VIRTIO_ISR_CONFIG);
}

void virtio_pci_break(struct virtio_pci *vp, const char *why)
{
	if (vp->broken)
		return;
	vp->broken = why;
	if (vp->on_break)
		vp->on_break(vp->break_ctx, why);
	/* before DRIVER_OK the driver reads the status itself; after, it learns by interrupt */
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_config_interrupt(vp);
}

bool virtio_pci_live(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) && !vp->broken;
}

static void notify(struct virtio_pci *vp, u64 off)
{
	u64 qi = off / VIRTIO_NOTIFY_MULT;
	if (off % VIRTIO_NOTIFY_MULT || qi >= vp->nqueues || !vp->q[qi].ready ||
	    !virtio_pci_live(vp))
		return;
	vp->ops->notify(vp, (unsigned)qi);
}

static void bar_access(void *ctx, unsigned bar, struct mmio_access *a)
{
	struct virtio_pci *vp = ctx;
	u64 off = a->offset;
	unsigned size = a->size;
	u64 val = 0;
	if (bar != VIRTIO_BAR || size == 0 || size > 8) {
		if (!a->write)
			a->value = ~0ULL;
		return;
	}
	if (off < VIRTIO_COMMON_OFF + VIRTIO_COMMON_LEN) {
		u8 img[VIRTIO_COMMON_LEN + 8] = {0};
		if (a->write) {
			common_write(vp, (unsigned)off, size, a->value);
			return;
		}
		common_image(vp, img);
		val = get_le(img + off, size);
	} else if (off == VIRTIO_ISR_OFF) {
		if (a->write)
			return;
		/* reading the ISR acknowledges it and lowers INTx */
		val = vp->isr;
		vp->isr = 0;
		pci_func_intx(&vp->f, false);
	} else if (off >= VIRTIO_DEVCFG_OFF && off - VIRTIO_DEVCFG_OFF < vp->cfg_len) {
		unsigned at = (unsigned)(off - VIRTIO_DEVCFG_OFF);
		size = MIN(size, vp->cfg_len - at);
		if (a->write) {
			if (vp->ops->config_write)
				vp->ops->config_write(vp, at, size, a->value);
			return;
		}
		u8 cfg[VIRTIO_CFG_MAX] = {0};
		vp->ops->config(vp, cfg);
		val = get_le(cfg + at, size);
	} else if (off >= VIRTIO_NOTIFY_OFF && off - VIRTIO_NOTIFY_OFF < 0x1000) {
		if (a->write)
			notify(vp, off - VIRTIO_NOTIFY_OFF);
		return; /* reads as 0 */
	} else if (a->write) {
		return;
	}
	a->value = val;
}

/* ---- the PCI configuration access capability: a window onto BAR 0 ---- */

#define PCICFG_BAR    4
#define PCICFG_OFFSET 8
#define PCICFG_LENGTH 12
#define PCICFG_DATA   16

static void cfg_access(void *ctx, unsigned off, unsigned size, bool write)
{
	struct virtio_pci *vp = ctx;
	u8 *c = &vp->f.cfg[vp->pcicfg_cap];
	if (!vp->pcicfg_cap || !touched(off, size, vp->pcicfg_cap + PCICFG_DATA, 4))
		return;
	u32 len = (u32)get_le(c + PCICFG_LENGTH, 4), at = (u32)get_le(c + PCICFG_OFFSET, 4);
	/* only 1, 2 or 4 bytes, aligned, at the virtio windows of BAR 0 */
	if (c[PCICFG_BAR] != VIRTIO_BAR || (len != 1 && len != 2 && len != 4) || at % len ||
	    at >= VIRTIO_MSIX_TABLE_OFF)
		return;
	struct mmio_access a = {at, (u8)len, write, write ? get_le(c + PCICFG_DATA, len) : 0};
	bar_access(vp, VIRTIO_BAR, &a);
	if (!write)
		put_le(c + PCICFG_DATA, 4,
		       a.value & (len == 4 ? 0xffffffffULL : (1ULL << (8 * len)) - 1));
}

/* ---- capabilities ---- */

static bool add_cap(struct virtio_pci *vp, u8 type, u32 off, u32 len, u32 mult)
{
	u8 body[20] = {0}, wm[20] = {0};
	unsigned n = type == VIRTIO_PCI_CAP_NOTIFY || type == VIRTIO_PCI_CAP_PCICFG ? 20 : 16;
	body[2] = (u8)n;
	body[3] = type;
	body[4] = type == VIRTIO_PCI_CAP_PCICFG ? 0 : VIRTIO_BAR;
	put_le(body + 8, 4, off);
	put_le(body + 12, 4, len);
	if (type == VIRTIO_PCI_CAP_NOTIFY)
		put_le(body + 16, 4, mult);
	if (type == VIRTIO_PCI_CAP_PCICFG) /* the guest picks bar, offset, length, data */
		memset(wm + 4, 0xff, 1), memset(wm + 8, 0xff, 12);
	u8 at = pci_func_add_cap(&vp->f, PCI_CAP_ID_VENDOR, n, body, wm);
	if (type == VIRTIO_PCI_CAP_PCICFG)
		vp->pcicfg_cap = at;
	return at != 0;
}

bool virtio_pci_init(struct virtio_pci *vp, struct p2m *p2m, u16 id, u32 class_code, u64 features,
		     unsigned cfg_len, unsigned nqueues, u16 qmax, const struct virtio_dev_ops *ops)
{
	memset(vp, 0, sizeof(*vp));
	if (!nqueues || nqueues > VIRTIO_MAX_QUEUES || cfg_len > VIRTIO_CFG_MAX || !qmax ||
	    qmax > VIRTQ_MAX_SIZE || (qmax & (qmax - 1)))
		return false;
	vp->p2m = p2m;
	vp->ops = ops;
	vp->features = features | BIT(VIRTIO_F_INDIRECT_DESC) | 1ULL << VIRTIO_F_VERSION_1;
	vp->cfg_len = cfg_len;
	vp->nqueues = nqueues;
	vp->nvec = nqueues + 1;
	vp->qmax = qmax;
	struct pci_func_ops fo = {.bar_access = bar_access, .ctx = vp, .cfg_access = cfg_access};
	/* revision 1: a modern-only device; class in bits 31:8 */
	pci_func_init(&vp->f, VIRTIO_PCI_VENDOR, (u16)(VIRTIO_PCI_DEVICE0 + id),
		      class_code << 8 | 1, 1, &fo);
	put_le(&vp->f.cfg[0x2c], 2, VIRTIO_PCI_VENDOR); /* subsystem vendor */
	put_le(&vp->f.cfg[0x2e], 2, 0x40 + id);		/* subsystem: 0x40 or more, modern */
	if (!pci_func_add_bar(&vp->f, VIRTIO_BAR, PCI_BAR_MEM64, VIRTIO_BAR_SIZE, false) ||
	    !add_cap(vp, VIRTIO_PCI_CAP_COMMON, VIRTIO_COMMON_OFF, VIRTIO_COMMON_LEN, 0) ||
	    !add_cap(vp, VIRTIO_PCI_CAP_NOTIFY, VIRTIO_NOTIFY_OFF, VIRTIO_NOTIFY_MULT * nqueues,
		     VIRTIO_NOTIFY_MULT) ||
	    !add_cap(vp, VIRTIO_PCI_CAP_ISR, VIRTIO_ISR_OFF, 1, 0) ||
	    (cfg_len && !add_cap(vp, VIRTIO_PCI_CAP_DEVICE, VIRTIO_DEVCFG_OFF, cfg_len, 0)) ||
	    !add_cap(vp, VIRTIO_PCI_CAP_PCICFG, 0, 0, 0) ||
	    !pci_func_add_msix(&vp->f, vp->nvec, VIRTIO_BAR, VIRTIO_MSIX_TABLE_OFF,
			       VIRTIO_MSIX_PBA_OFF))
		return false;
	virtio_pci_reset(vp);
	return true;
}

void virtio_pci_reset(struct virtio_pci *vp)
{
	vp->dfselect = vp->gfselect = 0;
	vp->guest_features = 0;
	vp->queue_select = 0;
	vp->msix_config = VIRTIO_NO_VECTOR;
	vp->status = vp->isr = 0;
	vp->broken = NULL;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_reset(&vp->q[i], i < vp->nqueues ? vp->qmax : 0);
	pci_func_intx(&vp->f, false);
	if (vp->ops && vp->ops->reset)
		vp->ops->reset(vp);
}

#define VIRTIO_PCI_STATE_VERSION 1

void virtio_pci_save(const struct virtio_pci *vp, struct state_writer *w)
{
	u8 broken = vp->broken != NULL;
	state_put_tag(w, "VIRP", VIRTIO_PCI_STATE_VERSION);
	STATE_PUT(w, vp->dfselect);
	STATE_PUT(w, vp->gfselect);
	STATE_PUT(w, vp->guest_features);
	STATE_PUT(w, vp->queue_select);
	STATE_PUT(w, vp->msix_config);
	STATE_PUT(w, vp->status);
	STATE_PUT(w, vp->isr);
	STATE_PUT(w, broken);
	for (unsigned i = 0; i < vp->nqueues; i++)
		virtq_save(&vp->q[i], w);
}

bool virtio_pci_load(struct virtio_pci *vp, struct state_reader *r)
{
	u32 dfselect, gfselect;
	u64 guest_features;
	u16 queue_select, msix_config;
	u8 status, isr, broken;
	struct virtq q[VIRTIO_MAX_QUEUES];
	if (!state_get_tag(r, "VIRP", VIRTIO_PCI_STATE_VERSION) || !STATE_GET(r, dfselect) ||
	    !STATE_GET(r, gfselect) || !STATE_GET(r, guest_features) ||
	    !STATE_GET(r, queue_select) || !STATE_GET(r, msix_config) || !STATE_GET(r, status) ||
	    !STATE_GET(r, isr) || !STATE_GET(r, broken))
		return false;
	if (broken > 1 || (guest_features & ~vp->features) || (isr & ~3) ||
	    (status & VIRTIO_STATUS_NEEDS_RESET) ||
	    (msix_config != VIRTIO_NO_VECTOR && msix_config >= vp->nvec))
		return false;
	for (unsigned i = 0; i < vp->nqueues; i++)
		if (!virtq_load(&q[i], r, vp->qmax, vp->nvec))
			return false;
	vp->dfselect = dfselect;
	vp->gfselect = gfselect;
	vp->guest_features = guest_features;
	vp->queue_select = queue_select;
	vp->msix_config = msix_config;
	vp->status = status;
	vp->isr = isr;
	vp->broken = broken ? "broken before the state was saved" : NULL;
	memcpy(vp->q, q, sizeof(q[0]) * vp->nqueues);
	return true;
}
