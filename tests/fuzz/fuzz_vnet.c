/* libFuzzer target for virtio-net's transmit path into the virtual switch and on into a
 * second VM's receive queue (devices/virtio_net.c, devices/vswitch.c): the input is the
 * queues' registers, the features the driver took, and the bytes of the VMs' RAM (rings,
 * descriptors, headers, frames, all hostile). Every frame the switch delivers must be a
 * legal one (14..1514 bytes, a VM's source only from that VM), and every access must stay
 * in RAM (ASan sees the arena's edges). Built by `make fuzz-vnet`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/virtio_net.h"
#include "../../devices/vswitch.h"
#include "../../hypervisor/assert.h"

#define RAM_PAGES 16
#define ARENA	  (1u << 20)

void assert_failed(const char *file, int line, const char *expr)
{
	(void)file, (void)line, (void)expr;
	abort();
}

static struct frames fa;
static struct p2m p;
static struct virtio_net tx, rx;
static struct vswitch sw;
static const u8 mac_tx[6] = {0x52, 0x54, 0, 0, 0, 1}, mac_rx[6] = {0x52, 0x54, 0, 0, 0, 2};
static int port_tx, port_rx;

static void uplink(void *ctx, const u8 *frame, size_t len)
{
	(void)ctx;
	/* only legal frames leave, and the sender's source is its own */
	if (len < ETH_HLEN || len > ETH_MAX_FRAME || memcmp(frame + 6, mac_tx, 6))
		abort();
}

static void to_rx(void *ctx, const u8 *frame, size_t len)
{
	if (len < ETH_HLEN || len > ETH_MAX_FRAME || memcmp(frame + 6, mac_tx, 6))
		abort();
	virtio_net_receive(ctx, frame, len);
}

static void setup(void)
{
	void *m = aligned_alloc(PAGE_SIZE, ARENA);
	if (!m)
		abort();
	memset(m, 0, ARENA);
	struct mem_region r = {virt_to_phys(m), ARENA, MEM_USABLE};
	if (frames_init(&fa, &r, 1, NULL, 0, UINT64_MAX) || p2m_init(&p, &fa, FRAME_VM(1)) ||
	    !p2m_populate(&p, 0, RAM_PAGES) || !p2m_set(&p, 20, 0xfee00, P2M_MMIO))
		abort();
}

static u64 get(const uint8_t **d, size_t *n, unsigned bytes)
{
	u64 v = 0;
	for (unsigned i = 0; i < bytes && *n; i++, (*d)++, (*n)--)
		v |= (u64) * *d << (8 * i);
	return v;
}

/* A queue from the input: a size up to 256, rings mostly in RAM. */
static void queue(struct virtq *q, const uint8_t **d, size_t *n)
{
	u64 sel = get(d, n, 1);
	q->size = (u16)(1u << (sel % 9));
	q->desc = get(d, n, 3) & ~15ULL;
	q->avail = get(d, n, 3) & ~1ULL;
	q->used = get(d, n, 3) & ~3ULL;
	q->last_avail = q->used_idx = 0;
	q->ready = virtq_check(q, &p) == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	struct net_endpoint up = {uplink, NULL}, in_rx = {to_rx, &rx};
	vswitch_init(&sw, NULL, NULL, 0);
	vswitch_set_uplink(&sw, &up);
	port_tx = vswitch_add_port(&sw, VSW_PORT_VM, "tx", mac_tx, NULL);
	port_rx = vswitch_add_port(&sw, VSW_PORT_VM, "rx", mac_rx, &in_rx);
	struct net_endpoint in_tx = vswitch_port_input(&sw, (unsigned)port_tx);
	if (port_tx < 0 || port_rx < 0 || !virtio_net_init(&tx, &p, mac_tx, &in_tx) ||
	    !virtio_net_init(&rx, &p, mac_rx, NULL))
		abort();
	u64 feat = get(&data, &size, 1);
	tx.vp.guest_features = tx.vp.features & ((feat & 1) | (feat & 2 ? ~0ULL : 0));
	rx.vp.guest_features = rx.vp.features;
	tx.vp.status = rx.vp.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	queue(&tx.vp.q[VNET_TXQ], &data, &size);
	queue(&rx.vp.q[VNET_RXQ], &data, &size);
	if (feat & 4)
		virtio_net_set_link(&rx, false);
	static u8 ram[RAM_PAGES * PAGE_SIZE];
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data, size < sizeof(ram) ? size : sizeof(ram));
	if (gmem_write(&p, 0, ram, sizeof(ram)) != GMEM_OK)
		abort();
	for (unsigned k = 0; k < 4; k++)
		tx.vp.ops->notify(&tx.vp, VNET_TXQ);
	if (tx.tx_frames > 4 * 256 || sw.port[port_tx].st.rx_frames > tx.tx_frames)
		abort();
	return 0;
}
