/* The emulated IDE disk's saved state (a transfer in flight carried over, hostile streams
 * refused), random port traffic, its place on the PC board, and REP INS/OUTS in bulk. */
#include "ide_rig.h"

static size_t save(struct ide *d, u8 *buf, size_t size)
{
	struct state_writer w = {buf, size, 0, false};
	ide_save(d, &w);
	CHECK(!w.overflow);
	return w.len;
}

TEST(ide_save_and_load_carry_a_transfer_in_flight)
{
	struct rig *a = new_rig(false), *b = new_rig(false);
	static u8 st[16384];
	u8 want[2 * 512], got[2 * 512];
	memcpy(want, sector(a, 300), sizeof(want));
	/* a read of 2 sectors, 100 bytes into the first */
	tf28(&a->ide, 300, 2, 0x20);
	status(&a->ide);
	read_words(&a->ide, got, 100);
	size_t n = save(&a->ide, st, sizeof(st));
	struct state_reader rd = {st, n, 0, false};
	REQUIRE(ide_load(&b->ide, &rd));
	CHECK_EQ(rd.pos, n);
	read_words(&b->ide, got + 100, 412);
	CHECK_EQ(status(&b->ide), 0x58);
	read_words(&b->ide, got + 512, 512);
	CHECK(memcmp(got, want, sizeof(got)) == 0);
	CHECK_EQ(status(&b->ide), 0x50);

	/* a WRITE MULTIPLE half done: the loaded model finishes it on its own backend */
	u8 out[20 * 512];
	memset(out, 0xe7, sizeof(out));
	tf28(&a->ide, 40, 20, 0xc5);
	write_words(&a->ide, out, 16 * 512 + 30);
	n = save(&a->ide, st, sizeof(st));
	rd = (struct state_reader){st, n, 0, false};
	REQUIRE(ide_load(&b->ide, &rd));
	write_words(&b->ide, out + 16 * 512 + 30, 4 * 512 - 30);
	CHECK_EQ(status(&b->ide), 0x50);
	CHECK(memcmp(sector(b, 56), out, 4 * 512) == 0);
	CHECK(sector(b, 40)[0] != 0xe7); /* the first block went to a's backend before the save */
	/* the interrupt pending at save time is pending after load */
	outp(&a->ide, P(7), 1, 0xe1);
	n = save(&a->ide, st, sizeof(st));
	rd = (struct state_reader){st, n, 0, false};
	b->level = false;
	REQUIRE(ide_load(&b->ide, &rd));
	CHECK(b->level);
}

TEST(ide_load_refuses_hostile_state_and_stays_unchanged)
{
	struct rig *a = new_rig(false), *b = new_rig(false);
	static u8 st[16384], bad[16384];
	tf28(&a->ide, 100, 4, 0x20);
	size_t n = save(&a->ide, st, sizeof(st));
	/* b mid-transfer of its own, which a refused load must leave as it was */
	tf28(&b->ide, 7, 1, 0x20);
	struct ide before = b->ide;
	/* offsets: tag 8, 23 register bytes, then six u64: blk_lba, next_lba, blk_n, left, pos,
	 * len */
	const size_t X = 8 + 23;
	static const struct {
		size_t off;
		u64 v;
	} patch[] = {
	    {X + 0 * 8, RAM_SECTORS},	  /* block outside the disk */
	    {X + 1 * 8, RAM_SECTORS - 1}, /* next sectors run off the end */
	    {X + 3 * 8, ~0ULL},		  /* huge count left */
	    {X + 4 * 8, 512},		  /* pos at the end of the block */
	    {X + 5 * 8, 1ULL << 20},	  /* block bigger than the buffer */
	    {X + 5 * 8, 100},		  /* not whole sectors */
	    {8 + 20, 9},		  /* no such phase */
	    {8 + 15, 3},		  /* multiple count not a power of two */
	    {8 + 16, 0},		  /* no heads */
	    {8 + 13, 0x04},		  /* SRST held outside a reset */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(patch); i++) {
		memcpy(bad, st, n);
		if (patch[i].off < X)
			bad[patch[i].off] = (u8)patch[i].v;
		else
			memcpy(bad + patch[i].off, &patch[i].v, 8);
		struct state_reader rd = {bad, n, 0, false};
		CHECK(!ide_load(&b->ide, &rd));
		CHECK(memcmp(&b->ide, &before, sizeof(before)) == 0);
	}
	/* truncated anywhere, a foreign tag or version */
	for (size_t len = 0; len < n; len += 37) {
		struct state_reader rd = {st, len, 0, false};
		CHECK(!ide_load(&b->ide, &rd));
		CHECK(memcmp(&b->ide, &before, sizeof(before)) == 0);
	}
	memcpy(bad, st, n);
	bad[0] = 'X';
	struct state_reader rd = {bad, n, 0, false};
	CHECK(!ide_load(&b->ide, &rd));
	/* a write in flight does not load onto a read-only backend */
	struct rig *ro = new_rig(true);
	tf28(&a->ide, 100, 1, 0x30);
	n = save(&a->ide, st, sizeof(st));
	rd = (struct state_reader){st, n, 0, false};
	CHECK(!ide_load(&ro->ide, &rd));
}

/* Random port traffic: the model never reaches outside the backend (rd_read/rd_write
 * REQUIRE it; ASan watches the buffer) and always answers. */
TEST(ide_random_port_traffic_stays_inside)
{
	struct rig *r = new_rig(false);
	u64 rng = 0x1de1de;
	static const u16 ports[] = {0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6};
	static const u8 cmds[] = {0x20, 0x24, 0x29, 0x30, 0x34, 0x39, 0xc4, 0xc5, 0xc6,
				  0x91, 0xec, 0xef, 0x40, 0x42, 0x70, 0x90, 0xe7};
	for (unsigned i = 0; i < 200000; i++) {
		u64 x = test_rng(&rng);
		u16 port = ports[x % ARRAY_SIZE(ports)];
		u8 size = (u8)(1u << ((x >> 8) % 3));
		bool write = (x >> 12) & 1;
		u32 v = (u32)(x >> 32);
		if (port == 0x1f7 && write)
			v = cmds[(x >> 16) % ARRAY_SIZE(cmds)];
		if (port == 0x1f6 && write)
			v &= 0xef; /* mostly device 0, so that commands run */
		if (port == 0x3f6 && write)
			v &= 0x86;
		if (write)
			outp(&r->ide, port, size, v);
		else
			inp(&r->ide, port, size);
		REQUIRE(r->ide.pos <= r->ide.len);
	}
	CHECK(r->ide.commands > 1000);
}

/* ---- on the PC board: present for disk_model = ide, wired to ISA IRQ 14 ---- */

#include "../../hypervisor/vm.h"

TEST(ide_is_on_the_board_only_for_an_ide_disk_and_raises_irq_14)
{
	for (int model = 0; model < 3; model++) {
		struct rig *r = new_rig(false);
		struct vm *vm = test_alloc(sizeof(*vm));
		struct vm_config cfg = {.valid = true, .memory_mib = 64};
		/* 0: no disk; 1: a virtio disk; 2: an IDE disk */
		if (model) {
			kstrlcpy(cfg.disk, "ram:2", sizeof(cfg.disk));
			cfg.disk_ram_mib = 2;
			cfg.disk_model = model == 2 ? DISK_IDE : DISK_VIRTIO;
			vm->disk = &r->be;
		}
		vm->cfg = &cfg;
		vm->mem_bytes = 64 << 20;
		vm->nvcpus = 1;
		vm->vcpu[0].vm = vm;
		REQUIRE(platform_init(vm, &board_pc, 1000000000ULL, 0, 1767225600ULL) == NULL);
		struct io_access a = {IDE_PRIMARY_BASE + 7, 1, false, 0};
		CHECK_EQ(io_bus_access(&vm->io, &a), model == 2);
		CHECK_EQ(a.value & 0xff, model == 2 ? 0x50 : 0xff);
		a = (struct io_access){IDE_PRIMARY_CTRL, 1, false, 0};
		CHECK_EQ(io_bus_access(&vm->io, &a), model == 2);
		/* 0x3f7 stays the floppy controller's (unclaimed here) */
		a = (struct io_access){0x3f7, 1, false, 0};
		CHECK(!io_bus_access(&vm->io, &a));
		if (model != 2)
			continue;
		/* IDENTIFY: the interrupt reaches the slave PIC's input 6 (ISA IRQ 14) */
		vm->plat.pic.chip[1].imr = 0;
		a = (struct io_access){IDE_PRIMARY_BASE + 7, 1, true, 0xec};
		CHECK(io_bus_access(&vm->io, &a));
		CHECK(vm->plat.pic.chip[1].irr & (1u << 6));
		/* and it is in the platform's saved state, transfer and all */
		static u8 st[65536];
		struct state_writer w = {st, sizeof(st), 0, false};
		platform_save(vm, &w);
		CHECK(!w.overflow);
		struct state_reader rd = {st, w.len, 0, false};
		CHECK(platform_load(vm, &rd));
		CHECK_EQ(vm->ide.phase, IDE_DATA_IN);
		a = (struct io_access){IDE_PRIMARY_BASE, 2, false, 0};
		CHECK(io_bus_access(&vm->io, &a));
		CHECK_EQ(a.value, 0x0040);
	}
}

/* ---- REP INS/OUTS in bulk: the same bytes as word by word ---- */

TEST(ide_string_runs_move_whole_blocks_like_single_words)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	static u8 out[40 * 512], in[40 * 512];
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (u8)(i * 5 + 3);
	/* WRITE MULTIPLE of 40 (blocks of 16): runs of 100 words, split across blocks */
	tf28(d, 500, 40, 0xc5);
	unsigned off = 0;
	while (off < sizeof(out)) {
		u32 want = MIN(100u, (u32)(sizeof(out) - off) / 2);
		u32 k = ide_device.port_string(d, IDE_PRIMARY_BASE, 2, true, out + off, want);
		REQUIRE(k > 0 && k <= want);
		off += k * 2;
	}
	CHECK_EQ(status(d), 0x50);
	CHECK_EQ(r->rd.writes, 3u);
	CHECK(memcmp(sector(r, 500), out, sizeof(out)) == 0);
	/* read back in dword runs; a run never crosses a block's end */
	tf28(d, 500, 40, 0xc4);
	off = 0;
	while (off < sizeof(in)) {
		u32 k = ide_device.port_string(d, IDE_PRIMARY_BASE, 4, false, in + off, 1000);
		REQUIRE(k > 0);
		CHECK(k * 4 <= 16 * 512);
		off += k * 4;
	}
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	CHECK_EQ(status(d), 0x50);
	/* declined: no transfer, the wrong direction, another port, a split last element */
	CHECK_EQ(ide_device.port_string(d, IDE_PRIMARY_BASE, 2, false, in, 4), 0u);
	tf28(d, 0, 1, 0x20);
	CHECK_EQ(ide_device.port_string(d, IDE_PRIMARY_BASE, 2, true, in, 4), 0u);
	CHECK_EQ(ide_device.port_string(d, IDE_PRIMARY_BASE + 2, 1, false, in, 4), 0u);
	for (unsigned i = 0; i < 255; i++)
		inp(d, P(0), 2);
	CHECK_EQ(ide_device.port_string(d, IDE_PRIMARY_BASE, 4, false, in, 4), 0u);
	CHECK_EQ(ide_device.port_string(d, IDE_PRIMARY_BASE, 2, false, in, 4), 1u);
	CHECK_EQ(status(d), 0x50);
}

static u32 count_string(void *dev, u16 port, u8 size, bool write, u8 *buf, u32 count)
{
	(void)port;
	(void)write;
	(void)size;
	(void)buf;
	*(u32 *)dev += count;
	return count > 3 ? 3 : 0;
}

TEST(io_bus_string_goes_to_the_ports_string_handler_only)
{
	struct io_bus bus = {0};
	struct bus_range n[2] = {0};
	u32 calls = 0;
	REQUIRE(io_bus_register(&bus, &n[0], 0x1f0, 8, "ide", ide_access, &calls));
	REQUIRE(io_bus_register(&bus, &n[1], 0x3f6, 1, "ctl", ide_access, &calls));
	u8 buf[16];
	/* no string handler: the caller goes element by element */
	CHECK_EQ(io_bus_string(&bus, 0x1f0, 2, false, buf, 8), 0u);
	io_bus_set_string(&n[0], count_string);
	CHECK_EQ(io_bus_string(&bus, 0x1f0, 2, false, buf, 8), 3u);
	CHECK_EQ(io_bus_string(&bus, 0x1f0, 2, false, buf, 2), 0u);
	CHECK_EQ(calls, 10u);
	CHECK_EQ(io_bus_string(&bus, 0x3f6, 1, false, buf, 8), 0u);
	CHECK_EQ(io_bus_string(&bus, 0x2e0, 1, false, buf, 8), 0u);
	CHECK_EQ(io_bus_string(&bus, 0x1f0, 3, false, buf, 8), 0u);
	CHECK_EQ(calls, 10u);
}
