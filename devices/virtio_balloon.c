/* virtio-balloon's queues: page numbers of inflate and deflate chains to mm/balloon.c,
 * 1024 at most per chain; the stats buffer read and held until Keel asks again; reported
 * free ranges (the chain's buffers themselves) to balloon_report. */
#include "virtio_balloon.h"
#include "../hypervisor/lib.h"

#define STAT_BYTES 10 /* struct virtio_balloon_stat: le16 tag, le64 val, packed */

static struct virtio_balloon *vb_of(struct virtio_pci *vp)
{
	return (struct virtio_balloon *)vp;
}

int virtio_balloon_queue(const struct virtio_balloon *vb, enum vballoon_queue r)
{
	const struct virtio_pci *vp = &vb->vp;
	/* queues of features not taken do not exist and take no index (spec 5.5.2) */
	int qi = 2;
	switch (r) {
	case VB_INFLATE:
		return 0;
	case VB_DEFLATE:
		return 1;
	case VB_STATS:
		return virtio_has(vp, VIRTIO_BALLOON_F_STATS_VQ) ? 2 : -1;
	case VB_REPORTING:
		if (!virtio_has(vp, VIRTIO_BALLOON_F_PAGE_REPORTING))
			return -1;
		if (virtio_has(vp, VIRTIO_BALLOON_F_STATS_VQ))
			qi++;
		if (virtio_has(vp, VIRTIO_BALLOON_F_FREE_PAGE_HINT))
			qi++;
		return qi;
	case VB_NROLES:
		break;
	}
	return -1;
}

static enum vballoon_queue role_of(const struct virtio_balloon *vb, unsigned qi)
{
	for (unsigned r = 0; r < VB_NROLES; r++)
		if (virtio_balloon_queue(vb, r) == (int)qi)
			return r;
	return VB_NROLES;
}

static void vb_config(struct virtio_pci *vp, u8 *cfg)
{
	const struct virtio_balloon *vb = vb_of(vp);
	memcpy(cfg + 0, &vb->b.target, 4); /* num_pages */
	memcpy(cfg + 4, &vb->b.actual, 4); /* actual */
}

/* The driver writes `actual` (byte by byte or whole); num_pages is Keel's. */
static void vb_config_write(struct virtio_pci *vp, unsigned off, unsigned size, u64 val)
{
	struct virtio_balloon *vb = vb_of(vp);
	u8 a[4];
	memcpy(a, &vb->b.actual, 4);
	for (unsigned i = 0; i < size; i++)
		if (off + i >= 4 && off + i < 8)
			a[off + i - 4] = (u8)(val >> (8 * i));
	memcpy(&vb->b.actual, a, 4);
}

/* An inflate or deflate chain: its readable bytes are page numbers (a trailing part of
 * one is ignored). */
static u32 pfn_chain(void *ctx, const struct virtq_chain *c, bool inflate)
{
	struct virtio_balloon *vb = ctx;
	u32 pfns[256];
	for (u32 off = 0; off + 4 <= c->readable;) {
		u32 n = MIN((c->readable - off) / 4, (u32)ARRAY_SIZE(pfns));
		if (!virtq_chain_read(c, vb->vp.p2m, off, pfns, n * 4))
			return 0; /* not in RAM: nothing more to act on */
		for (u32 i = 0; i < n; i++) {
			if (inflate)
				balloon_inflate(&vb->b, pfns[i]);
			else
				balloon_deflate(&vb->b, pfns[i]);
		}
		off += n * 4;
	}
	return 0;
}

static u32 inflate_chain(void *ctx, const struct virtq_chain *c, const char **why)
{
	(void)why;
	return pfn_chain(ctx, c, true);
}

static u32 deflate_chain(void *ctx, const struct virtq_chain *c, const char **why)
{
	(void)why;
	return pfn_chain(ctx, c, false);
}

/* A report chain: each buffer is a free range (Linux adds them as device-writable). */
static u32 report_chain(void *ctx, const struct virtq_chain *c, const char **why)
{
	(void)why;
	struct virtio_balloon *vb = ctx;
	for (unsigned i = 0; i < c->nseg; i++)
		balloon_report(&vb->b, c->seg[i].gpa, c->seg[i].len);
	return 0;
}

/* The stats buffer: read now, given back when Keel wants fresh numbers. */
static void take_stats(struct virtio_balloon *vb, unsigned qi)
{
	struct virtq *q = &vb->vp.q[qi];
	for (unsigned n = 0; n < q->size; n++) {
		const char *why = NULL;
		enum virtq_result r = virtq_pop(q, vb->vp.p2m, &vb->chain, &why);
		if (r == VIRTQ_EMPTY)
			return;
		if (r == VIRTQ_BROKEN) {
			virtio_pci_break(&vb->vp, why);
			return;
		}
		/* a second buffer while one is held: the older one goes back (the driver has
		 * one; a hostile one gets its buffers back, not a leak of heads) */
		if (vb->stats_held)
			virtio_balloon_request_stats(vb);
		const struct virtq_chain *c = &vb->chain;
		u8 e[STAT_BYTES];
		for (u32 off = 0, i = 0;
		     off + STAT_BYTES <= c->readable && i < VIRTIO_BALLOON_STATS_MAX;
		     off += STAT_BYTES, i++) {
			if (!virtq_chain_read(c, vb->vp.p2m, off, e, STAT_BYTES))
				break;
			u16 tag;
			u64 val;
			memcpy(&tag, e, 2);
			memcpy(&val, e + 2, 8);
			balloon_stat(&vb->b, tag, val);
		}
		vb->b.stats_updates++;
		vb->stats_held = true;
		vb->stats_head = c->head;
	}
}

static void vb_notify(struct virtio_pci *vp, unsigned qi)
{
	struct virtio_balloon *vb = vb_of(vp);
	enum vballoon_queue r = role_of(vb, qi);
	if (r == VB_NROLES)
		return; /* a queue of a feature the driver did not take */
	u64 t0 = vb->clock ? vb->clock() : 0;
	u64 pushed0 = vp->q[qi].used_idx;
	vb->kicks[r]++;
	switch (r) {
	case VB_INFLATE:
	case VB_DEFLATE:
		vp->q[qi].max_chain = VIRTIO_BALLOON_PFN_BYTES;
		virtio_pci_drain(vp, qi, &vb->chain, vp->q[qi].size,
				 r == VB_INFLATE ? inflate_chain : deflate_chain, vb);
		break;
	case VB_STATS:
		vp->q[qi].max_chain = VIRTIO_BALLOON_STATS_MAX * STAT_BYTES;
		take_stats(vb, qi);
		break;
	case VB_REPORTING:
		vp->q[qi].max_chain = VIRTIO_BALLOON_REPORT_BYTES;
		virtio_pci_drain(vp, qi, &vb->chain, vp->q[qi].size, report_chain, vb);
		break;
	case VB_NROLES:
		break;
	}
	vb->chains[r] += (u16)(vp->q[qi].used_idx - pushed0);
	if (vb->clock)
		vb->cycles[r] += vb->clock() - t0;
}

bool virtio_balloon_request_stats(struct virtio_balloon *vb)
{
	int qi = virtio_balloon_queue(vb, VB_STATS);
	if (!vb->stats_held || qi < 0 || !virtio_pci_live(&vb->vp))
		return false;
	vb->stats_held = false;
	if (!virtq_push(&vb->vp.q[qi], vb->vp.p2m, vb->stats_head, 0)) {
		virtio_pci_break(&vb->vp, "the used ring is outside the VM's RAM");
		return false;
	}
	virtio_pci_queue_interrupt(&vb->vp, (unsigned)qi);
	return true;
}

const char *virtio_balloon_set_size(struct virtio_balloon *vb, u64 want_mib)
{
	const char *err = balloon_set_size(&vb->b, vb->mem_mib, want_mib);
	if (err)
		return err;
	if (virtio_pci_live(&vb->vp))
		virtio_pci_config_interrupt(&vb->vp);
	return NULL;
}

static void vb_reset(struct virtio_pci *vp)
{
	struct virtio_balloon *vb = vb_of(vp);
	vb->stats_held = false; /* the queue is gone; the driver gives a new buffer */
	vb->b.actual = 0;
}

static const struct virtio_dev_ops vb_ops = {
    .config = vb_config,
    .config_write = vb_config_write,
    .notify = vb_notify,
    .reset = vb_reset,
};

bool virtio_balloon_init(struct virtio_balloon *vb, struct p2m *p2m, u64 nr_gfn, u64 mem_mib)
{
	u64 f = BIT(VIRTIO_BALLOON_F_STATS_VQ) | BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) |
		BIT(VIRTIO_BALLOON_F_PAGE_REPORTING);
	memset(vb, 0, sizeof(*vb));
	/* class 0x0500: memory controller, RAM (as QEMU's balloon reads) */
	if (!virtio_pci_init(&vb->vp, p2m, VIRTIO_ID_BALLOON, 0x050000, f, 8,
			     VIRTIO_BALLOON_NQUEUES, VIRTIO_BALLOON_QUEUE_SIZE, &vb_ops))
		return false;
	balloon_init(&vb->b, p2m, nr_gfn);
	vb->mem_mib = mem_mib;
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	virtio_pci_reset(&((struct virtio_balloon *)dev)->vp);
}

#define VBAL_STATE_VERSION 1

static void dev_save(void *dev, struct state_writer *w)
{
	struct virtio_balloon *vb = dev;
	u8 held = vb->stats_held;
	state_put_tag(w, "VBAL", VBAL_STATE_VERSION);
	virtio_pci_save(&vb->vp, w);
	STATE_PUT(w, vb->b.target);
	STATE_PUT(w, vb->b.actual);
	STATE_PUT(w, held);
	STATE_PUT(w, vb->stats_head);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	struct virtio_balloon *vb = dev;
	u32 target, actual;
	u8 held;
	u16 head;
	if (!state_get_tag(r, "VBAL", VBAL_STATE_VERSION) || !virtio_pci_load(&vb->vp, r) ||
	    !STATE_GET(r, target) || !STATE_GET(r, actual) || !STATE_GET(r, held) ||
	    !STATE_GET(r, head) || held > 1)
		return false;
	int qi = virtio_balloon_queue(vb, VB_STATS);
	if (held && (qi < 0 || head >= vb->vp.q[qi].size))
		return false;
	if (target > vb->mem_mib << (20 - PAGE_SHIFT))
		return false;
	vb->b.target = target;
	vb->b.actual = actual;
	vb->stats_held = held;
	vb->stats_head = head;
	return true;
}

const struct device_ops virtio_balloon_device = {
    .name = "virtio-balloon",
    .reset = dev_reset,
    .save = dev_save,
    .load = dev_load,
};
