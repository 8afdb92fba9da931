/* virtio-blk requests: the header from the chain's readable bytes, the data through a
 * bounce buffer in VIRTIO_BLK_CHUNK pieces, the status in the last writable byte. */
#include "virtio_blk.h"
#include "../hypervisor/lib.h"

#define HDR_LEN 16

static struct virtio_blk *blk_of(struct virtio_pci *vp)
{
	return (struct virtio_blk *)vp;
}

static void blk_config(struct virtio_pci *vp, u8 *cfg)
{
	const struct virtio_blk *vb = blk_of(vp);
	u64 cap = vb->be->sectors;
	u32 size_max = VIRTIO_BLK_SIZE_MAX, seg_max = VIRTIO_BLK_SEG_MAX, bs = BLK_SECTOR_SIZE;
	memcpy(cfg + 0, &cap, 8); /* capacity in 512-byte sectors, whatever blk_size says */
	memcpy(cfg + 8, &size_max, 4);
	memcpy(cfg + 12, &seg_max, 4);
	/* 16: geometry, not offered */
	memcpy(cfg + 20, &bs, 4);
}

/* IN: sectors to the chain's writable bytes before the status; OUT: the readable bytes after
 * the header to sectors. The whole range is checked before the first sector moves. */
static u8 transfer(struct virtio_blk *vb, bool in, u64 sector)
{
	const struct virtq_chain *c = &vb->chain;
	u32 len = in ? c->writable - 1 : c->readable - HDR_LEN;
	if (len % BLK_SECTOR_SIZE || !blk_in_range(vb->be, sector, len / BLK_SECTOR_SIZE))
		return VIRTIO_BLK_S_IOERR;
	if (!in && vb->be->read_only)
		return VIRTIO_BLK_S_IOERR;
	for (u32 off = 0; off < len;) {
		u32 n = MIN(len - off, VIRTIO_BLK_CHUNK);
		u64 lba = sector + off / BLK_SECTOR_SIZE;
		u32 ns = n / BLK_SECTOR_SIZE;
		if (in) {
			if (blk_read(vb->be, lba, ns, vb->buf) != BLK_OK ||
			    !virtq_chain_write(c, vb->vp.p2m, off, vb->buf, n))
				return VIRTIO_BLK_S_IOERR;
		} else {
			if (!virtq_chain_read(c, vb->vp.p2m, HDR_LEN + off, vb->buf, n) ||
			    blk_write(vb->be, lba, ns, vb->buf) != BLK_OK)
				return VIRTIO_BLK_S_IOERR;
		}
		off += n;
	}
	return VIRTIO_BLK_S_OK;
}

/* One request; returns the bytes written to the chain (data and status). */
static u32 request(struct virtio_blk *vb)
{
	const struct virtq_chain *c = &vb->chain;
	struct {
		u32 type, reserved;
		u64 sector;
	} hdr;
	u8 st = VIRTIO_BLK_S_IOERR;
	u32 written = 0;
	if (c->readable < HDR_LEN || !virtq_chain_read(c, vb->vp.p2m, 0, &hdr, HDR_LEN)) {
		/* no header to act on */
	} else if (hdr.type == VIRTIO_BLK_T_IN) {
		st = transfer(vb, true, hdr.sector);
		written = st == VIRTIO_BLK_S_OK ? c->writable - 1 : 0;
	} else if (hdr.type == VIRTIO_BLK_T_OUT) {
		st = transfer(vb, false, hdr.sector);
	} else if (hdr.type == VIRTIO_BLK_T_FLUSH) {
		st = blk_flush(vb->be) == BLK_OK ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	} else if (hdr.type == VIRTIO_BLK_T_GET_ID) {
		char id[VIRTIO_BLK_ID_BYTES] = {0};
		u32 n = MIN(c->writable - 1, (u32)VIRTIO_BLK_ID_BYTES);
		memcpy(id, vb->be->name, MIN(sizeof(id), strlen(vb->be->name)));
		st = virtq_chain_write(c, vb->vp.p2m, 0, id, n) ? VIRTIO_BLK_S_OK
								: VIRTIO_BLK_S_IOERR;
		written = st == VIRTIO_BLK_S_OK ? n : 0;
	} else {
		st = VIRTIO_BLK_S_UNSUPP;
	}
	vb->requests++;
	if (st != VIRTIO_BLK_S_OK)
		vb->errors++;
	if (!virtq_chain_write(c, vb->vp.p2m, c->writable - 1, &st, 1))
		return 0; /* the status byte is not in RAM: the driver learns nothing more */
	return written + 1;
}

/* A chain from the queue (taken into vb->chain); one without a writable byte has nowhere
 * for its status. */
static u32 blk_chain(void *ctx, const struct virtq_chain *c, const char **why)
{
	if (!c->writable) {
		*why = "a request without a status byte";
		return VIRTQ_REFUSE;
	}
	return request(ctx);
}

static void blk_notify(struct virtio_pci *vp, unsigned qi)
{
	struct virtio_blk *vb = blk_of(vp);
	/* at most a ring's worth per notification: the guest does not run meanwhile */
	virtio_pci_drain(vp, qi, &vb->chain, vp->q[qi].size, blk_chain, vb);
}

static const struct virtio_dev_ops blk_ops = {
    .config = blk_config,
    .notify = blk_notify,
};

bool virtio_blk_init(struct virtio_blk *vb, struct p2m *p2m, const struct blk_backend *be)
{
	u64 f = BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |
		BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH);
	if (be->read_only)
		f |= BIT(VIRTIO_BLK_F_RO);
	/* class 0x0180: mass storage, other */
	if (!virtio_pci_init(&vb->vp, p2m, VIRTIO_ID_BLOCK, 0x018000, f, 24, 1, VIRTIO_BLK_QUEUE_SIZE,
			     &blk_ops))
		return false;
	vb->be = be;
	vb->requests = vb->errors = 0;
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	virtio_pci_reset(&((struct virtio_blk *)dev)->vp);
}

#define VBLK_STATE_VERSION 1

static void dev_save(void *dev, struct state_writer *w)
{
	struct virtio_blk *vb = dev;
	state_put_tag(w, "VBLK", VBLK_STATE_VERSION);
	virtio_pci_save(&vb->vp, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	struct virtio_blk *vb = dev;
	return state_get_tag(r, "VBLK", VBLK_STATE_VERSION) && virtio_pci_load(&vb->vp, r);
}

const struct device_ops virtio_blk_device = {
    .name = "virtio-blk",
    .reset = dev_reset,
    .save = dev_save,
    .load = dev_load,
};
