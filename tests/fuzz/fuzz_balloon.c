/* libFuzzer target for virtio-balloon (devices/virtio_balloon.c, mm/balloon.c): the input is
 * the features the driver took, Keel's target, the four queues' registers and the bytes of a
 * small VM's RAM (rings, page-number arrays, stats, report ranges, all hostile). Frames must
 * never leak or be lost (the VM's and the free ones always add up), only RAM may lose its
 * frame, and every access must stay in the arena (ASan). Built by `make fuzz-balloon`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/virtio_balloon.h"
#include "../../hypervisor/assert.h"

#define RAM_PAGES 16
#define NR_GFN	  24 /* RAM 0-15, ROM 16, a hole, MMIO 20, a hole */
#define ARENA	  (1u << 20)

void assert_failed(const char *file, int line, const char *expr)
{
	(void)file, (void)line, (void)expr;
	abort();
}

static struct frames fa;
static struct p2m p;
static struct virtio_balloon vb;
static u64 total; /* the VM's frames and the free ones */

static void setup(void)
{
	void *m = aligned_alloc(PAGE_SIZE, ARENA);
	if (!m)
		abort();
	memset(m, 0, ARENA);
	struct mem_region r = {virt_to_phys(m), ARENA, MEM_USABLE};
	if (frames_init(&fa, &r, 1, NULL, 0, UINT64_MAX) || p2m_init(&p, &fa, FRAME_VM(1)) ||
	    !p2m_populate(&p, 0, RAM_PAGES) || !p2m_populate_as(&p, 16, 1, P2M_ROM) ||
	    !p2m_set(&p, 20, 0xfee00, P2M_MMIO))
		abort();
	total = fa.nfree + frames_count(&fa, FRAME_VM(1));
}

static u64 get(const uint8_t **d, size_t *n, unsigned bytes)
{
	u64 v = 0;
	for (unsigned i = 0; i < bytes && *n; i++, (*d)++, (*n)--)
		v |= (u64) * *d << (8 * i);
	return v;
}

static void queue(struct virtq *q, const uint8_t **d, size_t *n)
{
	u64 sel = get(d, n, 1);
	q->size = (u16)(1u << (sel % 8));
	q->desc = get(d, n, 2) & ~15ULL;
	q->avail = get(d, n, 2) & ~1ULL;
	q->used = get(d, n, 2) & ~3ULL;
	q->last_avail = q->used_idx = 0;
	q->ready = virtq_check(q, &p) == NULL;
}

static void check(void)
{
	if (fa.nfree + frames_count(&fa, FRAME_VM(1)) != total)
		abort(); /* a frame leaked or was freed twice */
	for (u64 g = 0; g < NR_GFN; g++) {
		enum p2m_type t = p2m_lookup(&p, g, NULL);
		bool ram = g < RAM_PAGES;
		if (ram != (t == P2M_RAM || t == P2M_BALLOONED))
			abort(); /* only RAM changes type */
	}
	if (vb.b.in_balloon > vb.b.inflated || vb.b.reported > vb.b.frames_freed)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	/* every page back as RAM, then a fresh device */
	for (u64 g = 0; g < RAM_PAGES; g++)
		if (p2m_lookup(&p, g, NULL) == P2M_BALLOONED && !p2m_balloon_in(&p, g))
			abort();
	if (!virtio_balloon_init(&vb, &p, NR_GFN, 1))
		abort();
	u64 feat = get(&data, &size, 1);
	vb.vp.guest_features = vb.vp.features & (feat | ~0xffULL);
	vb.vp.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	vb.b.target = (u32)get(&data, &size, 1);
	for (unsigned q = 0; q < VIRTIO_BALLOON_NQUEUES; q++)
		queue(&vb.vp.q[q], &data, &size);
	static u8 ram[RAM_PAGES * PAGE_SIZE];
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data, size < sizeof(ram) ? size : sizeof(ram));
	if (gmem_write(&p, 0, ram, sizeof(ram)) != GMEM_OK)
		abort();
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned q = 0; q < VIRTIO_BALLOON_NQUEUES; q++) {
			if (vb.vp.q[q].ready && virtio_pci_live(&vb.vp))
				vb.vp.ops->notify(&vb.vp, q);
			check();
		}
		virtio_balloon_request_stats(&vb);
	}
	return 0;
}
