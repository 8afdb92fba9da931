/* A virtio driver's side of one split queue, for host tests: guest RAM in a P2M (gfn 0-63,
 * a hole after it, one MMIO page at gfn 80), the rings at fixed places, and helpers that
 * write descriptors and available entries and read used ones as a guest driver would. */
#ifndef KEEL_TEST_VIRTQ_DRV_H
#define KEEL_TEST_VIRTQ_DRV_H

#include "p2m_env.h"
#include "../../devices/virtqueue.h"

#define DRV_RAM_PAGES 64
#define DRV_DESC      0x1000ULL
#define DRV_AVAIL     0x2000ULL
#define DRV_USED      0x3000ULL
#define DRV_DATA      0x8000ULL /* buffers from here */
#define DRV_HOLE      (DRV_RAM_PAGES * PAGE_SIZE)
#define DRV_MMIO      0x50000ULL

struct drv {
	struct env m;
	struct p2m *p;
	u64 desc, avail, used; /* where this queue's rings are */
	u16 size, avail_idx, used_seen;
};

static inline void drv_mem(struct drv *d)
{
	env_init(&d->m);
	d->p = &d->m.p;
	d->desc = DRV_DESC;
	d->avail = DRV_AVAIL;
	d->used = DRV_USED;
	REQUIRE(p2m_populate(d->p, 0, DRV_RAM_PAGES));
	REQUIRE(p2m_set(d->p, DRV_MMIO >> PAGE_SHIFT, 0xfee00, P2M_MMIO));
}

static inline void drv_put(struct drv *d, u64 gpa, const void *src, size_t len)
{
	REQUIRE(gmem_write(d->p, gpa, src, len) == GMEM_OK);
}

static inline void drv_get(struct drv *d, u64 gpa, void *dst, size_t len)
{
	REQUIRE(gmem_read(d->p, gpa, dst, len) == GMEM_OK);
}

/* A second queue's driver on mem's memory, its rings in the 12 KiB at `base`. */
static inline void drv_on(struct drv *d, const struct drv *mem, u64 base, u16 size)
{
	d->p = mem->p;
	d->desc = base;
	d->avail = base + 0x1000;
	d->used = base + 0x2000;
	d->size = size;
	d->avail_idx = d->used_seen = 0;
}

/* Queue q with `size` entries on the driver's rings, enabled. */
static inline void drv_queue(struct drv *d, struct virtq *q, u16 size)
{
	virtq_reset(q, size);
	q->desc = d->desc;
	q->avail = d->avail;
	q->used = d->used;
	q->ready = true;
	d->size = size;
	d->avail_idx = d->used_seen = 0;
}

static inline void drv_desc(struct drv *d, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	struct {
		u64 addr;
		u32 len;
		u16 flags, next;
	} __attribute__((packed)) x = {addr, len, flags, next};
	drv_put(d, d->desc + 16ULL * i, &x, 16);
}

/* A descriptor inside an indirect table at `table`. */
static inline void drv_idesc(struct drv *d, u64 table, u16 i, u64 addr, u32 len, u16 flags,
			     u16 next)
{
	struct {
		u64 addr;
		u32 len;
		u16 flags, next;
	} __attribute__((packed)) x = {addr, len, flags, next};
	drv_put(d, table + 16ULL * i, &x, 16);
}

static inline void drv_set_avail_idx(struct drv *d, u16 idx)
{
	drv_put(d, d->avail + 2, &idx, 2);
}

/* Makes chain `head` available. */
static inline void drv_avail(struct drv *d, u16 head)
{
	drv_put(d, d->avail + 4 + 2ULL * (d->avail_idx % d->size), &head, 2);
	d->avail_idx++;
	drv_set_avail_idx(d, d->avail_idx);
}

static inline u16 drv_used_idx(struct drv *d)
{
	u16 idx;
	drv_get(d, d->used + 2, &idx, 2);
	return idx;
}

/* The next used entry the driver has not seen; false if there is none. */
static inline bool drv_used(struct drv *d, u32 *id, u32 *len)
{
	if (drv_used_idx(d) == d->used_seen)
		return false;
	u32 e[2];
	drv_get(d, d->used + 4 + 8ULL * (d->used_seen % d->size), e, 8);
	d->used_seen++;
	*id = e[0];
	*len = e[1];
	return true;
}

#endif
