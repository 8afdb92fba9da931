/* virtio-balloon (virtio 1.x, section 5.5): Keel asks the guest for a balloon size (config
 * num_pages), the guest's driver gives pages back on the inflate queue and takes them again
 * on the deflate queue (page numbers in 4 KiB units, 32-bit), reports its memory
 * statistics on the stats queue and its free page ranges on the reporting queue. Every page
 * number goes through mm/balloon.c, which checks it before a frame moves. */
#ifndef KEEL_VIRTIO_BALLOON_H
#define KEEL_VIRTIO_BALLOON_H

#include "device.h"
#include "virtio_pci.h"
#include "../mm/balloon.h"

#define VIRTIO_ID_BALLOON 5

#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ	1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT 3
#define VIRTIO_BALLOON_F_PAGE_POISON	4
#define VIRTIO_BALLOON_F_PAGE_REPORTING 5

#define VIRTIO_BALLOON_QUEUE_SIZE 128  /* Linux's page reporting needs at least 32 */
#define VIRTIO_BALLOON_NQUEUES	  4    /* inflate, deflate, stats, reporting */
#define VIRTIO_BALLOON_PFN_BYTES  4096 /* an inflate or deflate chain: at most 1024 pages */
#define VIRTIO_BALLOON_STATS_MAX  32   /* stats entries read from one buffer */
/* a report chain: Linux sends at most 32 ranges of at most 4 MiB */
#define VIRTIO_BALLOON_REPORT_BYTES (256u << 20)

/* What each queue is for; which index it has depends on the features the driver took. */
enum vballoon_queue { VB_INFLATE, VB_DEFLATE, VB_STATS, VB_REPORTING, VB_NROLES };

struct virtio_balloon {
	struct virtio_pci vp; /* first: the transport's callbacks get it back */
	struct balloon b;
	u64 mem_mib; /* the VM's memory: targets are sizes the guest shrinks to */
	/* the driver's stats buffer, kept until Keel wants fresh numbers (the protocol) */
	bool stats_held;
	u16 stats_head;
	u64 (*clock)(void); /* TSC, for the cost of each queue; NULL: not measured */
	u64 kicks[VB_NROLES], chains[VB_NROLES], cycles[VB_NROLES];
	struct virtq_chain chain;
};

/* A balloon for a VM of mem_mib MiB whose memory is gfns [0, nr_gfn) of p2m; plug
 * vb->vp.f into the PCI host afterwards. */
bool virtio_balloon_init(struct virtio_balloon *vb, struct p2m *p2m, u64 nr_gfn, u64 mem_mib);
/* Keel's target: the guest should shrink to want_mib (its whole memory: an empty balloon).
 * The driver learns it by the configuration interrupt. NULL or why not. */
const char *virtio_balloon_set_size(struct virtio_balloon *vb, u64 want_mib);
/* Gives the stats buffer back so the driver sends fresh numbers; false if the driver has
 * none with Keel now. */
bool virtio_balloon_request_stats(struct virtio_balloon *vb);
/* The queue index of role r under the features the driver took, -1 if it has none. */
int virtio_balloon_queue(const struct virtio_balloon *vb, enum vballoon_queue r);

extern const struct device_ops virtio_balloon_device;

#endif
