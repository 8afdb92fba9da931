/* Split virtqueues over the guest-memory accessor: taking chains (direct and indirect, each
 * walk bounded by its table's size), giving them back in the used ring, and copying to and
 * from a chain's buffers. Descriptors are copied out before use, so a guest rewriting them
 * meanwhile changes nothing the device already checked. */
#include "virtqueue.h"
#include "../hypervisor/lib.h"

/* struct virtq_desc in guest memory */
struct desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
} __attribute__((packed));

_Static_assert(sizeof(struct desc) == 16, "a split-queue descriptor is 16 bytes");

#define AVAIL_IDX  2
#define AVAIL_RING 4
#define USED_IDX   2
#define USED_RING  4

static u64 desc_bytes(u16 size)
{
	return 16ULL * size;
}

static u64 avail_bytes(u16 size)
{
	return 6 + 2ULL * size;
}

static u64 used_bytes(u16 size)
{
	return 6 + 8ULL * size;
}

/* Reads the whole range in pieces: all of it must be RAM (or ROM) the VM owns. */
static bool readable(struct p2m *p, u64 gpa, u64 len)
{
	u8 buf[256];
	while (len) {
		u64 n = MIN(len, sizeof(buf));
		if (gmem_read(p, gpa, buf, n) != GMEM_OK)
			return false;
		gpa += n;
		len -= n;
	}
	return true;
}

const char *virtq_check(const struct virtq *q, struct p2m *p)
{
	if (!q->size || q->size > VIRTQ_MAX_SIZE || (q->size & (q->size - 1)))
		return "queue size is not a power of two the device offers";
	if (q->desc % 16 || q->avail % 2 || q->used % 4)
		return "a ring is not aligned";
	if (!readable(p, q->desc, desc_bytes(q->size)) ||
	    !readable(p, q->avail, avail_bytes(q->size)) ||
	    !readable(p, q->used, used_bytes(q->size)))
		return "a ring is outside the VM's RAM";
	return NULL;
}

static enum virtq_result broken(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return VIRTQ_BROKEN;
}

static bool read_desc(struct p2m *p, u64 table, u16 i, struct desc *d)
{
	return gmem_read(p, table + 16ULL * i, d, sizeof(*d)) == GMEM_OK;
}

/* Appends one descriptor's buffer to the chain, with the ordering and size rules. */
static const char *add_seg(struct virtq_chain *c, const struct desc *d, u64 cap)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	if (!d->len)
		return NULL; /* an empty buffer carries nothing */
	if (d->addr + d->len < d->addr)
		return "a buffer wraps around the address space";
	if (!write && c->writable)
		return "a readable buffer after a writable one";
	if (c->nseg == VIRTQ_MAX_SEGS)
		return "too many buffers in one chain";
	if ((u64)c->readable + c->writable + d->len > cap)
		return "a chain larger than the device takes";
	c->seg[c->nseg++] = (struct virtq_seg){d->addr, d->len, write};
	if (write)
		c->writable += d->len;
	else
		c->readable += d->len;
	return NULL;
}

/* Follows the chain from `head`; at most one indirect table, each walk no longer than its
 * table, so a loop ends as an error. */
static enum virtq_result walk(const struct virtq *q, struct p2m *p, u16 head, struct virtq_chain *c,
			      const char **why)
{
	u64 table = q->desc;
	u32 n = q->size, steps = 0;
	bool indirect = false;
	u16 i = head;
	for (;;) {
		struct desc d;
		if (++steps > n)
			return broken(why, "a descriptor chain loops");
		if (!read_desc(p, table, i, &d))
			return broken(why, "a descriptor table is outside the VM's RAM");
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (indirect)
				return broken(why, "an indirect table inside an indirect table");
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return broken(why, "an indirect descriptor with NEXT");
			if (!d.len || d.len % 16 || d.len / 16 > VIRTQ_MAX_SEGS)
				return broken(why, "an indirect table of a bad size");
			if (d.addr + d.len < d.addr)
				return broken(why, "an indirect table wraps around");
			indirect = true;
			table = d.addr;
			n = d.len / 16;
			steps = 0;
			i = 0;
			continue;
		}
		const char *err = add_seg(c, &d, q->max_chain ? q->max_chain : VIRTQ_MAX_CHAIN_LEN);
		if (err)
			return broken(why, err);
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VIRTQ_CHAIN;
		i = d.next;
		if (i >= n)
			return broken(why, "a descriptor's next is outside its table");
	}
}

enum virtq_result virtq_pop(struct virtq *q, struct p2m *p, struct virtq_chain *c, const char **why)
{
	u16 idx, head;
	if (!q->ready)
		return VIRTQ_EMPTY;
	if (gmem_read(p, q->avail + AVAIL_IDX, &idx, sizeof(idx)) != GMEM_OK)
		return broken(why, "the available ring is outside the VM's RAM");
	u16 pending = (u16)(idx - q->last_avail);
	if (!pending)
		return VIRTQ_EMPTY;
	if (pending > q->size)
		return broken(why, "the available index ran past the ring");
	if (gmem_read(p, q->avail + AVAIL_RING + 2ULL * (q->last_avail & (q->size - 1)), &head,
		      sizeof(head)) != GMEM_OK)
		return broken(why, "the available ring is outside the VM's RAM");
	if (head >= q->size)
		return broken(why, "an available entry names no descriptor");
	c->head = head;
	c->nseg = 0;
	c->readable = c->writable = 0;
	enum virtq_result r = walk(q, p, head, c, why);
	if (r == VIRTQ_CHAIN)
		q->last_avail++;
	return r;
}

bool virtq_push(struct virtq *q, struct p2m *p, u16 head, u32 written)
{
	struct {
		u32 id, len;
	} e = {head, written};
	u64 slot = q->used + USED_RING + 8ULL * (q->used_idx & (q->size - 1));
	u16 idx = (u16)(q->used_idx + 1);
	/* the element before the index, so the driver never sees an index ahead of its entry */
	if (gmem_write(p, slot, &e, sizeof(e)) != GMEM_OK ||
	    gmem_write(p, q->used + USED_IDX, &idx, sizeof(idx)) != GMEM_OK)
		return false;
	q->used_idx = idx;
	return true;
}

bool virtq_wants_interrupt(const struct virtq *q, struct p2m *p)
{
	u16 flags;
	if (gmem_read(p, q->avail, &flags, sizeof(flags)) != GMEM_OK)
		return true; /* an interrupt is harmless; the next pop reports the ring */
	return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

struct virtq_drained virtq_drain(struct virtq *q, struct p2m *p, struct virtq_chain *c,
				 unsigned max, virtq_handler *fn, void *ctx)
{
	struct virtq_drained d = {0, NULL};
	for (unsigned i = 0; i < max; i++) {
		const char *why = NULL;
		enum virtq_result r = virtq_pop(q, p, c, &why);
		if (r == VIRTQ_EMPTY)
			break;
		u32 written = r == VIRTQ_CHAIN ? fn(ctx, c, &why) : VIRTQ_REFUSE;
		if (written == VIRTQ_REFUSE) {
			d.broken = why ? why : "a chain the device refused";
			break;
		}
		if (!virtq_push(q, p, c->head, written)) {
			d.broken = "the used ring is outside the VM's RAM";
			break;
		}
		d.pushed++;
	}
	return d;
}

/* Copies between buf and the chain's bytes of one kind, [off, off + len). */
static bool chain_copy(const struct virtq_chain *c, struct p2m *p, bool write, u32 off, u8 *buf,
		       u32 len)
{
	if ((u64)off + len > (write ? c->writable : c->readable))
		return false;
	for (unsigned i = 0; i < c->nseg && len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (s->write != write)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		u32 n = MIN(len, s->len - off);
		enum gmem_result r = write ? gmem_write(p, s->gpa + off, buf, n)
					   : gmem_read(p, s->gpa + off, buf, n);
		if (r != GMEM_OK)
			return false;
		buf += n;
		len -= n;
		off = 0;
	}
	return len == 0;
}

bool virtq_chain_read(const struct virtq_chain *c, struct p2m *p, u32 off, void *buf, u32 len)
{
	return chain_copy(c, p, false, off, buf, len);
}

bool virtq_chain_write(const struct virtq_chain *c, struct p2m *p, u32 off, const void *buf,
		       u32 len)
{
	return chain_copy(c, p, true, off, (u8 *)buf, len);
}

void virtq_reset(struct virtq *q, u16 max)
{
	*q = (struct virtq){.size = max, .msix_vector = 0xffff};
}

#define VIRTQ_STATE_VERSION 1

void virtq_save(const struct virtq *q, struct state_writer *w)
{
	u8 ready = q->ready;
	state_put_tag(w, "VIRQ", VIRTQ_STATE_VERSION);
	STATE_PUT(w, q->size);
	STATE_PUT(w, ready);
	STATE_PUT(w, q->msix_vector);
	STATE_PUT(w, q->desc);
	STATE_PUT(w, q->avail);
	STATE_PUT(w, q->used);
	STATE_PUT(w, q->last_avail);
	STATE_PUT(w, q->used_idx);
}

bool virtq_load(struct virtq *q, struct state_reader *r, u16 max, unsigned nvec)
{
	struct virtq n = {0};
	u8 ready;
	if (!state_get_tag(r, "VIRQ", VIRTQ_STATE_VERSION) || !STATE_GET(r, n.size) ||
	    !STATE_GET(r, ready) || !STATE_GET(r, n.msix_vector) || !STATE_GET(r, n.desc) ||
	    !STATE_GET(r, n.avail) || !STATE_GET(r, n.used) || !STATE_GET(r, n.last_avail) ||
	    !STATE_GET(r, n.used_idx))
		return false;
	if (!n.size || n.size > max || (n.size & (n.size - 1)) || ready > 1 ||
	    (n.msix_vector != 0xffff && n.msix_vector >= nvec))
		return false;
	n.ready = ready;
	*q = n;
	return true;
}
