/* Tests of split virtqueues (devices/virtqueue.c) over a P2M: chains direct and indirect,
 * the used ring and the dirty log, and every hostile shape a driver can write: loops, indexes
 * out of range, nested or malformed indirect tables, huge and wrapping lengths, rings and
 * buffers outside RAM. */
#include "virtq_drv.h"

#define F_NEXT	VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE
#define F_IND	VIRTQ_DESC_F_INDIRECT

static struct virtq_chain chain;

/* Each test's driver side: guest memory and one enabled queue on it, and why the last pop
 * found the queue broken. */
struct vq {
	struct drv d;
	struct virtq q;
	const char *why;
};

static struct vq *vq_new(u16 size)
{
	struct vq *t = test_alloc(sizeof(*t));
	drv_mem(&t->d);
	drv_queue(&t->d, &t->q, size);
	return t;
}

static void vq_end(struct vq *t)
{
	p2m_destroy(t->d.p);
}

static enum virtq_result pop(struct vq *t)
{
	t->why = NULL;
	return virtq_pop(&t->q, t->d.p, &chain, &t->why);
}

TEST(virtq_chain_of_readable_and_writable_buffers)
{
	struct vq *t = vq_new(8);
	CHECK(virtq_check(&t->q, t->d.p) == NULL);
	CHECK_EQ(pop(t), VIRTQ_EMPTY);
	drv_put(&t->d, DRV_DATA, "hello, ", 7);
	drv_put(&t->d, DRV_DATA + 0x100, "world", 5);
	drv_desc(&t->d, 5, DRV_DATA, 7, F_NEXT, 2);
	drv_desc(&t->d, 2, DRV_DATA + 0x100, 5, F_NEXT, 7);
	drv_desc(&t->d, 7, DRV_DATA + 0x1ffe, 4, F_WRITE, 0); /* crosses a page */
	drv_avail(&t->d, 5);
	REQUIRE(pop(t) == VIRTQ_CHAIN);
	CHECK_EQ(chain.head, 5);
	CHECK_EQ(chain.nseg, 3);
	CHECK_EQ(chain.readable, 12);
	CHECK_EQ(chain.writable, 4);
	char buf[16] = {0};
	CHECK(virtq_chain_read(&chain, t->d.p, 0, buf, 12));
	CHECK(!memcmp(buf, "hello, world", 12));
	CHECK(virtq_chain_read(&chain, t->d.p, 5, buf, 4));
	CHECK(!memcmp(buf, ", wo", 4));
	CHECK(!virtq_chain_read(&chain, t->d.p, 10, buf, 3)); /* past the readable bytes */
	CHECK(!virtq_chain_write(&chain, t->d.p, 1, "abcd", 4));
	REQUIRE(p2m_log_enable(t->d.p) == NULL);
	u64 bits[1];
	p2m_log_take(t->d.p, 0, 1, bits);
	CHECK(virtq_chain_write(&chain, t->d.p, 0, "WXYZ", 4));
	CHECK(virtq_push(&t->q, t->d.p, chain.head, 4));
	/* the buffer's two pages and the used ring's page are in the log */
	CHECK_EQ(p2m_log_take(t->d.p, 0, 1, bits), 3);
	CHECK_EQ(bits[0], (1ULL << 3) | (1ULL << 9) | (1ULL << 10));
	drv_get(&t->d, DRV_DATA + 0x1ffe, buf, 4);
	CHECK(!memcmp(buf, "WXYZ", 4));
	u32 id, len;
	REQUIRE(drv_used(&t->d, &id, &len));
	CHECK_EQ(id, 5);
	CHECK_EQ(len, 4);
	CHECK_EQ(pop(t), VIRTQ_EMPTY);
	vq_end(t);
}

TEST(virtq_indexes_wrap_around_the_ring_and_16_bits)
{
	struct vq *t = vq_new(4);
	/* start near the 16-bit wrap, as a long-running driver is */
	t->q.last_avail = t->q.used_idx = 0xfffe;
	t->d.avail_idx = t->d.used_seen = 0xfffe;
	drv_put(&t->d, DRV_USED + 2, &t->q.used_idx, 2);
	for (unsigned i = 0; i < 4; i++) {
		drv_desc(&t->d, (u16)i, DRV_DATA + 16 * i, 16, F_WRITE, 0);
		drv_avail(&t->d, (u16)i);
	}
	for (unsigned i = 0; i < 4; i++) {
		REQUIRE(pop(t) == VIRTQ_CHAIN);
		CHECK_EQ(chain.head, i);
		CHECK(virtq_push(&t->q, t->d.p, chain.head, 16));
	}
	CHECK_EQ(pop(t), VIRTQ_EMPTY);
	CHECK_EQ(drv_used_idx(&t->d), 2); /* 0xfffe + 4 */
	u32 id, len;
	for (unsigned i = 0; i < 4; i++) {
		REQUIRE(drv_used(&t->d, &id, &len));
		CHECK_EQ(id, i);
	}
	vq_end(t);
}

TEST(virtq_indirect_table)
{
	struct vq *t = vq_new(4);
	u64 tbl = DRV_DATA + 0x3000;
	drv_idesc(&t->d, tbl, 0, DRV_DATA, 16, F_NEXT, 2);
	drv_idesc(&t->d, tbl, 2, DRV_DATA + 0x200, 512, F_NEXT | F_WRITE, 1);
	drv_idesc(&t->d, tbl, 1, DRV_DATA + 0x400, 1, F_WRITE, 0);
	drv_desc(&t->d, 3, tbl, 3 * 16, F_IND, 0);
	drv_avail(&t->d, 3);
	REQUIRE(pop(t) == VIRTQ_CHAIN);
	CHECK_EQ(chain.head, 3);
	CHECK_EQ(chain.nseg, 3);
	CHECK_EQ(chain.readable, 16);
	CHECK_EQ(chain.writable, 513);
	/* direct descriptors before the indirect one are part of the chain */
	drv_idesc(&t->d, tbl + 0x100, 0, DRV_DATA + 0x600, 16, 0, 0);
	drv_desc(&t->d, 0, DRV_DATA + 0x800, 8, F_NEXT, 1);
	drv_desc(&t->d, 1, tbl + 0x100, 16, F_IND, 0);
	drv_avail(&t->d, 0);
	REQUIRE(pop(t) == VIRTQ_CHAIN);
	CHECK_EQ(chain.nseg, 2);
	CHECK_EQ(chain.readable, 24);
	vq_end(t);
}

/* One hostile chain at head 0 of a fresh 8-entry queue: the queue must report it broken,
 * with the reason given. */
static void expect_broken(void (*build)(struct drv *), const char *reason)
{
	struct vq *t = vq_new(8);
	build(&t->d);
	u16 last = t->q.last_avail;
	CHECK_EQ(pop(t), VIRTQ_BROKEN);
	CHECK_CONTAINS(t->why, reason);
	CHECK_EQ(t->q.last_avail, last); /* nothing taken */
	vq_end(t);
}

static void self_loop(struct drv *d)
{
	drv_desc(d, 0, DRV_DATA, 8, F_NEXT, 0);
	drv_avail(d, 0);
}

static void long_loop(struct drv *d)
{
	for (u16 i = 0; i < 8; i++)
		drv_desc(d, i, DRV_DATA, 8, F_NEXT, (u16)((i + 1) % 8));
	drv_avail(d, 3);
}

static void loop_of_empty_buffers(struct drv *d)
{
	drv_desc(d, 0, 0, 0, F_NEXT, 1);
	drv_desc(d, 1, 0, 0, F_NEXT, 0);
	drv_avail(d, 0);
}

static void next_out_of_range(struct drv *d)
{
	drv_desc(d, 0, DRV_DATA, 8, F_NEXT, 8);
	drv_avail(d, 0);
}

static void head_out_of_range(struct drv *d)
{
	drv_avail(d, 0xffff);
}

static void avail_ran_ahead(struct drv *d)
{
	drv_desc(d, 0, DRV_DATA, 8, 0, 0);
	drv_set_avail_idx(d, 9);
}

static void nested_indirect(struct drv *d)
{
	u64 t = DRV_DATA + 0x1000;
	drv_idesc(d, t, 0, t, 16, F_IND, 0);
	drv_desc(d, 0, t, 16, F_IND, 0);
	drv_avail(d, 0);
}

static void indirect_with_next(struct drv *d)
{
	drv_desc(d, 0, DRV_DATA + 0x1000, 16, F_IND | F_NEXT, 1);
	drv_desc(d, 1, DRV_DATA, 8, 0, 0);
	drv_avail(d, 0);
}

static void indirect_odd_size(struct drv *d)
{
	drv_desc(d, 0, DRV_DATA + 0x1000, 24, F_IND, 0);
	drv_avail(d, 0);
}

static void indirect_empty(struct drv *d)
{
	drv_desc(d, 0, DRV_DATA + 0x1000, 0, F_IND, 0);
	drv_avail(d, 0);
}

static void indirect_huge(struct drv *d)
{
	drv_desc(d, 0, DRV_DATA, 16 * (VIRTQ_MAX_SEGS + 1), F_IND, 0);
	drv_avail(d, 0);
}

static void indirect_outside_ram(struct drv *d)
{
	drv_idesc(d, DRV_HOLE - 16, 0, DRV_DATA, 8, F_NEXT, 1); /* the next one is in the hole */
	drv_desc(d, 0, DRV_HOLE - 16, 32, F_IND, 0);
	drv_avail(d, 0);
}

static void indirect_in_mmio(struct drv *d)
{
	drv_desc(d, 0, DRV_MMIO, 32, F_IND, 0);
	drv_avail(d, 0);
}

static void indirect_wraps(struct drv *d)
{
	drv_desc(d, 0, UINT64_MAX - 15, 32, F_IND, 0);
	drv_avail(d, 0);
}

static void indirect_loop(struct drv *d)
{
	u64 t = DRV_DATA + 0x1000;
	drv_idesc(d, t, 0, DRV_DATA, 8, F_NEXT, 1);
	drv_idesc(d, t, 1, DRV_DATA, 8, F_NEXT, 0);
	drv_desc(d, 0, t, 32, F_IND, 0);
	drv_avail(d, 0);
}

static void indirect_next_outside_table(struct drv *d)
{
	u64 t = DRV_DATA + 0x1000;
	drv_idesc(d, t, 0, DRV_DATA, 8, F_NEXT, 2); /* a table of 2: next 2 is past it */
	drv_desc(d, 0, t, 32, F_IND, 0);
	drv_avail(d, 0);
}

static void buffer_wraps(struct drv *d)
{
	drv_desc(d, 0, UINT64_MAX - 3, 8, 0, 0);
	drv_avail(d, 0);
}

static void chain_too_large(struct drv *d)
{
	/* four buffers of 4 GiB - 1 each: the sum must not wrap a 32-bit count */
	for (u16 i = 0; i < 4; i++)
		drv_desc(d, i, 0x100000000ULL * i, 0xffffffffu, F_NEXT, (u16)(i + 1));
	drv_desc(d, 4, DRV_DATA, 1, F_WRITE, 0);
	drv_avail(d, 0);
}

static void readable_after_writable(struct drv *d)
{
	drv_desc(d, 0, DRV_DATA, 8, F_WRITE | F_NEXT, 1);
	drv_desc(d, 1, DRV_DATA + 8, 8, 0, 0);
	drv_avail(d, 0);
}

TEST(virtq_hostile_chains_break_the_queue)
{
	expect_broken(self_loop, "loops");
	expect_broken(long_loop, "loops");
	expect_broken(loop_of_empty_buffers, "loops");
	expect_broken(next_out_of_range, "outside its table");
	expect_broken(head_out_of_range, "names no descriptor");
	expect_broken(avail_ran_ahead, "ran past the ring");
	expect_broken(nested_indirect, "inside an indirect");
	expect_broken(indirect_with_next, "with NEXT");
	expect_broken(indirect_odd_size, "bad size");
	expect_broken(indirect_empty, "bad size");
	expect_broken(indirect_huge, "bad size");
	expect_broken(indirect_outside_ram, "outside the VM's RAM");
	expect_broken(indirect_in_mmio, "outside the VM's RAM");
	expect_broken(indirect_wraps, "wraps");
	expect_broken(indirect_loop, "loops");
	expect_broken(indirect_next_outside_table, "outside its table");
	expect_broken(buffer_wraps, "wraps");
	expect_broken(chain_too_large, "larger than the device takes");
	expect_broken(readable_after_writable, "readable buffer after a writable");
}

TEST(virtq_too_many_segments_in_an_indirect_table)
{
	struct vq *t = vq_new(8);
	/* a full table of one-byte buffers is fine... */
	u64 tbl = DRV_DATA + 0x2000;
	for (u16 i = 0; i < VIRTQ_MAX_SEGS; i++)
		drv_idesc(&t->d, tbl, i, DRV_DATA + i, 1, i + 1 < VIRTQ_MAX_SEGS ? F_NEXT : 0,
			  (u16)(i + 1));
	drv_desc(&t->d, 1, DRV_DATA, 1, F_NEXT, 0);
	drv_desc(&t->d, 0, tbl, 16 * VIRTQ_MAX_SEGS, F_IND, 0);
	drv_avail(&t->d, 0);
	REQUIRE(pop(t) == VIRTQ_CHAIN);
	CHECK_EQ(chain.nseg, VIRTQ_MAX_SEGS);
	/* ...one direct buffer more before it is not */
	drv_avail(&t->d, 1);
	CHECK_EQ(pop(t), VIRTQ_BROKEN);
	CHECK_CONTAINS(t->why, "too many buffers");
	vq_end(t);
}

TEST(virtq_buffers_outside_ram_fail_the_copy_only)
{
	struct vq *t = vq_new(8);
	drv_desc(&t->d, 0, DRV_HOLE - 4, 8, F_NEXT, 1); /* half in RAM */
	drv_desc(&t->d, 1, DRV_MMIO, 8, F_WRITE, 0);
	drv_avail(&t->d, 0);
	REQUIRE(pop(t) == VIRTQ_CHAIN);
	u8 buf[8];
	CHECK(!virtq_chain_read(&chain, t->d.p, 0, buf, 8));
	CHECK(virtq_chain_read(&chain, t->d.p, 0, buf, 4)); /* the part in RAM */
	CHECK(!virtq_chain_write(&chain, t->d.p, 0, buf, 8));
	CHECK(virtq_push(&t->q, t->d.p, chain.head, 0));
	vq_end(t);
}

TEST(virtq_rings_must_be_aligned_and_in_ram)
{
	struct vq *t = vq_new(8);
	CHECK(virtq_check(&t->q, t->d.p) == NULL);
	t->q.desc = DRV_DESC + 8;
	CHECK_CONTAINS(virtq_check(&t->q, t->d.p), "aligned");
	t->q.desc = DRV_DESC;
	t->q.avail = DRV_AVAIL + 1;
	CHECK_CONTAINS(virtq_check(&t->q, t->d.p), "aligned");
	t->q.avail = DRV_AVAIL;
	t->q.used = DRV_USED + 2;
	CHECK_CONTAINS(virtq_check(&t->q, t->d.p), "aligned");
	t->q.used = DRV_HOLE - 16; /* 6 + 8 * 8 bytes: runs into the hole */
	CHECK_CONTAINS(virtq_check(&t->q, t->d.p), "outside");
	t->q.used = DRV_USED;
	t->q.desc = DRV_MMIO;
	CHECK_CONTAINS(virtq_check(&t->q, t->d.p), "outside");
	t->q.desc = UINT64_MAX & ~15ULL;
	CHECK_CONTAINS(virtq_check(&t->q, t->d.p), "outside");
	t->q.desc = DRV_DESC;
	t->q.size = 6;
	CHECK_CONTAINS(virtq_check(&t->q, t->d.p), "power of two");
	t->q.size = 512;
	CHECK_CONTAINS(virtq_check(&t->q, t->d.p), "power of two");
	/* rings that move out of RAM after the check: the pop or push says so */
	t->q.size = 8;
	t->q.avail = DRV_HOLE;
	CHECK_EQ(pop(t), VIRTQ_BROKEN);
	CHECK_CONTAINS(t->why, "available ring");
	t->q.used = DRV_MMIO;
	CHECK(!virtq_push(&t->q, t->d.p, 0, 0));
	CHECK_EQ(t->q.used_idx, 0);
	vq_end(t);
}

TEST(virtq_a_queue_not_ready_has_nothing)
{
	struct vq *t = vq_new(8);
	drv_desc(&t->d, 0, DRV_DATA, 8, 0, 0);
	drv_avail(&t->d, 0);
	t->q.ready = false;
	CHECK_EQ(pop(t), VIRTQ_EMPTY);
	vq_end(t);
}

TEST(virtq_interrupt_suppression_by_the_avail_flag)
{
	struct vq *t = vq_new(8);
	CHECK(virtq_wants_interrupt(&t->q, t->d.p));
	u16 f = VIRTQ_AVAIL_F_NO_INTERRUPT;
	drv_put(&t->d, DRV_AVAIL, &f, 2);
	CHECK(!virtq_wants_interrupt(&t->q, t->d.p));
	vq_end(t);
}

TEST(virtq_save_load_round_trip_and_refusals)
{
	struct virtq q, r;
	virtq_reset(&q, 64);
	q.size = 32;
	q.ready = true;
	q.msix_vector = 3;
	q.desc = 0x1000;
	q.avail = 0x2000;
	q.used = 0x3000;
	q.last_avail = 77;
	q.used_idx = 70;
	u8 buf[128];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	virtq_save(&q, &w);
	REQUIRE(!w.overflow);
	struct state_reader rd = {buf, w.len, 0, false};
	CHECK(virtq_load(&r, &rd, 64, 4));
	CHECK(r.size == q.size && r.ready && r.msix_vector == 3 && r.desc == q.desc &&
	      r.avail == q.avail && r.used == q.used && r.last_avail == 77 && r.used_idx == 70);
	rd = (struct state_reader){buf, w.len, 0, false};
	CHECK(!virtq_load(&r, &rd, 16, 4)); /* larger than this device's queues */
	rd = (struct state_reader){buf, w.len, 0, false};
	CHECK(!virtq_load(&r, &rd, 64, 3)); /* a vector it does not have */
	rd = (struct state_reader){buf, w.len - 1, 0, false};
	CHECK(!virtq_load(&r, &rd, 64, 4)); /* truncated */
}

TEST(virtq_random_tables_never_reach_outside_the_vm)
{
	struct vq *t = vq_new(16);
	u8 junk[PAGE_SIZE];
	u64 seed = 0x7669727471ULL;
	for (unsigned round = 0; round < 200; round++) {
		drv_queue(&t->d, &t->q, 16);
		t->q.last_avail = (u16)test_rng(&seed);
		/* descriptors, rings and an indirect area of random bytes, with addresses
		 * pointing anywhere (RAM, the hole, MMIO, the top of the address space) */
		for (unsigned page = 1; page < 4; page++) {
			for (unsigned i = 0; i < sizeof(junk); i++)
				junk[i] = (u8)test_rng(&seed);
			drv_put(&t->d, page * PAGE_SIZE, junk, sizeof(junk));
		}
		for (unsigned i = 0; i < 16; i++) {
			u64 r = test_rng(&seed);
			u64 addr = (r & 3) == 0	  ? DRV_DATA + (r >> 8) % 0x8000
				   : (r & 3) == 1 ? DRV_DESC + (r >> 8) % 0x3000
				   : (r & 3) == 2 ? DRV_HOLE - (r >> 8) % 64
						  : test_rng(&seed);
			drv_desc(&t->d, (u16)i, addr, (u32)(test_rng(&seed) % 0x3000),
				 (u16)(test_rng(&seed) & 7), (u16)(test_rng(&seed) % 20));
		}
		for (unsigned k = 0; k < 40; k++) {
			enum virtq_result res = pop(t);
			if (res != VIRTQ_CHAIN)
				break;
			u8 buf[64];
			CHECK(chain.nseg <= VIRTQ_MAX_SEGS);
			CHECK(chain.readable + (u64)chain.writable <= VIRTQ_MAX_CHAIN_LEN);
			virtq_chain_read(&chain, t->d.p, 0, buf, MIN(chain.readable, sizeof(buf)));
			virtq_chain_write(&chain, t->d.p, 0, buf, MIN(chain.writable, sizeof(buf)));
			virtq_push(&t->q, t->d.p, chain.head, 0);
		}
	}
	vq_end(t);
}

/* virtq_drain's handler here: records the heads it is given, refuses head `refuse`, and says
 * it wrote every writable byte. */
struct drain_log {
	unsigned calls;
	u16 heads[8];
	int refuse; /* -1: none */
};

static u32 drain_record(void *ctx, const struct virtq_chain *c, const char **why)
{
	struct drain_log *l = ctx;
	if (c->head == l->refuse) {
		*why = "a chain this device refuses";
		return VIRTQ_REFUSE;
	}
	REQUIRE(l->calls < 8);
	l->heads[l->calls++] = c->head;
	return c->writable;
}

static struct virtq_drained drain(struct vq *t, unsigned max, struct drain_log *l)
{
	return virtq_drain(&t->q, t->d.p, &chain, max, drain_record, l);
}

/* Chains with heads 4, 1, 6 (16, 32, 48 writable bytes) made available on queue q. */
static void three_chains(struct drv *d)
{
	static const u16 heads[3] = {4, 1, 6};
	for (unsigned i = 0; i < 3; i++) {
		drv_desc(d, heads[i], DRV_DATA + 0x100 * i, 16 * (i + 1), F_WRITE, 0);
		drv_avail(d, heads[i]);
	}
}

TEST(virtq_drain_gives_each_chain_back_with_what_the_handler_wrote)
{
	struct drain_log l = {.refuse = -1};
	struct vq *t = vq_new(8);
	three_chains(&t->d);
	struct virtq_drained r = drain(t, t->q.size, &l);
	CHECK_EQ(r.pushed, 3);
	CHECK(r.broken == NULL);
	CHECK_EQ(l.calls, 3);
	u32 id, len;
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(l.heads[i], i == 0 ? 4 : i == 1 ? 1 : 6);
		REQUIRE(drv_used(&t->d, &id, &len));
		CHECK_EQ(id, l.heads[i]);
		CHECK_EQ(len, 16 * (i + 1));
	}
	r = drain(t, t->q.size, &l); /* nothing left */
	CHECK_EQ(r.pushed, 0);
	CHECK(r.broken == NULL);
	CHECK_EQ(l.calls, 3);
	vq_end(t);
}

TEST(virtq_drain_takes_at_most_max_chains)
{
	struct drain_log l = {.refuse = -1};
	struct vq *t = vq_new(8);
	three_chains(&t->d);
	CHECK_EQ(drain(t, 2, &l).pushed, 2);
	CHECK_EQ(drv_used_idx(&t->d), 2);
	CHECK_EQ(drain(t, 0, &l).pushed, 0);
	CHECK_EQ(drain(t, 8, &l).pushed, 1);
	CHECK_EQ(l.calls, 3);
	CHECK_EQ(l.heads[2], 6);
	vq_end(t);
}

TEST(virtq_drain_stops_at_a_refused_or_broken_chain_keeping_what_it_gave_back)
{
	struct drain_log l = {.refuse = 1};
	struct vq *t = vq_new(8);
	three_chains(&t->d);
	struct virtq_drained r = drain(t, t->q.size, &l);
	CHECK_EQ(r.pushed, 1);
	CHECK_CONTAINS(r.broken, "refuses");
	CHECK_EQ(l.calls, 1);
	CHECK_EQ(drv_used_idx(&t->d), 1); /* the refused chain is not given back */
	/* a chain the queue itself refuses: the handler never sees it */
	vq_end(t);
	t = vq_new(8);
	l = (struct drain_log){.refuse = -1};
	drv_desc(&t->d, 0, DRV_DATA, 8, F_WRITE, 0);
	drv_avail(&t->d, 0);
	drv_avail(&t->d, 0xffff);
	r = drain(t, t->q.size, &l);
	CHECK_EQ(r.pushed, 1);
	CHECK_CONTAINS(r.broken, "names no descriptor");
	CHECK_EQ(l.calls, 1);
	vq_end(t);
}

TEST(virtq_drain_breaks_on_a_used_ring_outside_ram)
{
	struct drain_log l = {.refuse = -1};
	struct vq *t = vq_new(8);
	three_chains(&t->d);
	t->q.used = DRV_MMIO;
	struct virtq_drained r = drain(t, t->q.size, &l);
	CHECK_EQ(r.pushed, 0);
	CHECK_CONTAINS(r.broken, "used ring");
	CHECK_EQ(l.calls, 1);
	vq_end(t);
}
