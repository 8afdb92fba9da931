/* virtio-blk (virtio 1.x, section 5.2) on a block backend: reads, writes, flushes and the
 * device ID, completed synchronously while the driver's notification exits. A request that
 * names a sector outside the backend fails with S_IOERR before any sector is touched. */
#ifndef KEEL_VIRTIO_BLK_H
#define KEEL_VIRTIO_BLK_H

#include "blk.h"
#include "device.h"
#include "virtio_pci.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO	      5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9

#define VIRTIO_BLK_T_IN	    0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK	    0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_QUEUE_SIZE 128
#define VIRTIO_BLK_SEG_MAX    (VIRTIO_BLK_QUEUE_SIZE - 2) /* a header and a status beside */
#define VIRTIO_BLK_SIZE_MAX   (32u << 10)		  /* so a request is at most 4 MiB */
#define VIRTIO_BLK_ID_BYTES   20
#define VIRTIO_BLK_CHUNK      (64u << 10) /* bytes moved per backend call */

struct virtio_blk {
	struct virtio_pci vp; /* first: the transport's callbacks get it back */
	const struct blk_backend *be;
	struct virtq_chain chain;
	u64 requests, errors; /* completed requests, those that failed (S_IOERR, S_UNSUPP) */
	u8 buf[VIRTIO_BLK_CHUNK];
};

/* A virtio-blk function over `be` (read-only when be->read_only), its queue in `p2m`'s
 * memory; plug vb->vp.f into the PCI host afterwards. */
bool virtio_blk_init(struct virtio_blk *vb, struct p2m *p2m, const struct blk_backend *be);

/* The model as the platform drives it (reset, save, load; its BAR is on the buses through
 * the PCI host). */
extern const struct device_ops virtio_blk_device;

#endif
