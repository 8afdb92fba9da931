/* libFuzzer target for the split-virtqueue parser (devices/virtqueue.c): the input is a
 * queue's registers and the bytes of a small VM's RAM (descriptor tables, rings, indirect
 * tables, all hostile). Every chain taken must respect the bounds the parser promises, and
 * every copy must stay in the VM's RAM (ASan sees the frames arena's edges). Built by
 * `make fuzz-virtqueue`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/virtqueue.h"
#include "../../hypervisor/assert.h"

#define RAM_PAGES 16
#define ARENA	  (1u << 20)

void assert_failed(const char *file, int line, const char *expr)
{
	(void)file, (void)line, (void)expr;
	abort(); /* an invariant of the P2M or accessor broke */
}

static struct frames fa;
static struct p2m p;
static struct virtq_chain chain;

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	struct virtq q;
	virtq_reset(&q, 16);
	/* the registers: a size up to 256 (not always a power of two: virtq_check decides),
	 * ring addresses mostly in RAM, sometimes anywhere */
	u64 sel = get(&data, &size, 1);
	q.size = (u16)(1u << (sel % 9));
	q.desc = get(&data, &size, 3);
	q.avail = get(&data, &size, 3);
	q.used = get(&data, &size, 3);
	if (sel & 0x80)
		q.desc |= get(&data, &size, 8);
	q.last_avail = (u16)get(&data, &size, 2);
	q.used_idx = (u16)get(&data, &size, 2);
	q.ready = virtq_check(&q, &p) == NULL || (sel & 0x40);
	/* the rest is the VM's RAM */
	static u8 ram[RAM_PAGES * PAGE_SIZE];
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data, size < sizeof(ram) ? size : sizeof(ram));
	if (gmem_write(&p, 0, ram, sizeof(ram)) != GMEM_OK)
		abort();
	for (unsigned k = 0; k < 64; k++) {
		const char *why = NULL;
		enum virtq_result r = virtq_pop(&q, &p, &chain, &why);
		if (r == VIRTQ_BROKEN && !why)
			abort();
		if (r != VIRTQ_CHAIN)
			break;
		if (chain.nseg > VIRTQ_MAX_SEGS ||
		    (u64)chain.readable + chain.writable > VIRTQ_MAX_CHAIN_LEN ||
		    chain.head >= q.size)
			abort();
		u64 sum_r = 0, sum_w = 0;
		for (unsigned i = 0; i < chain.nseg; i++) {
			const struct virtq_seg *s = &chain.seg[i];
			if (!s->len || s->gpa + s->len < s->gpa)
				abort();
			*(s->write ? &sum_w : &sum_r) += s->len;
		}
		if (sum_r != chain.readable || sum_w != chain.writable)
			abort();
		static u8 buf[8192];
		u32 nr = chain.readable < sizeof(buf) ? chain.readable : sizeof(buf);
		u32 nw = chain.writable < sizeof(buf) ? chain.writable : sizeof(buf);
		virtq_chain_read(&chain, &p, 0, buf, nr);
		virtq_chain_write(&chain, &p, 0, buf, nw);
		if (!virtq_push(&q, &p, chain.head, nw))
			break;
	}
	return 0;
}
