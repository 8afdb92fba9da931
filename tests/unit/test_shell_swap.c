/* The shell's swap commands (hypervisor/shell_mem.c): `swap` shows the slots and each VM's
 * counters, `vm swap <vm> <MiB>` swaps that much out now and says when the partition is
 * full, `mem` counts the pages on disk; bad arguments and VMs outside the swap refused. */
#include "shell_fake.h"
#include "../../devices/blk_ram.h"
#include "../../mm/swap.h"

static void *ram_page(void *ctx)
{
	(void)ctx;
	return test_alloc(BLK_RAM_PAGE);
}

static void ram_free(void *ctx, void *page)
{
	(void)ctx;
	(void)page;
}

TEST(shell_swap_and_vm_swap)
{
	struct rig *r = rig_new();
	CHECK_CONTAINS(run(r, "swap"), "swap is off: the machine disk has no usable partition");
	CHECK_CONTAINS(run(r, "vm swap hello 1"), "vm hello is not in the swap");
	/* hello: 1 MiB of RAM on 4 MiB of machine memory; a swap of 128 slots (512 KiB) */
	static struct frames fa;
	u8 *m = test_alloc_aligned(PAGE_SIZE, 4 << 20);
	struct mem_region reg = {virt_to_phys(m), 4 << 20, MEM_USABLE};
	REQUIRE(frames_init(&fa, &reg, 1, NULL, 0, UINT64_MAX) == NULL);
	struct vm *vm = r->f.vms[2];
	vm->mem_bytes = 1 << 20;
	REQUIRE(p2m_init(&vm->p2m, &fa, FRAME_VM(2)) == NULL);
	REQUIRE(p2m_populate(&vm->p2m, 0, 256));
	static struct blk_ram ram;
	static struct blk_backend disk;
	static struct swap s;
	struct blk_ram_alloc a = {ram_page, ram_free, NULL};
	REQUIRE(blk_ram_init(&ram, &disk, 128 * SWAP_SECTORS_PER_PAGE, &a, "swap"));
	u64 mb = swap_meta_bytes(disk.sectors);
	REQUIRE(swap_init(&s, &disk, test_alloc_aligned(PAGE_SIZE, mb), mb, NULL) == NULL);
	REQUIRE(swap_add_vm(&s, &vm->p2m, 256, false, NULL, NULL));
	vm->swap = &s;
	r->sh.swap = &s;
	r->sh.frames = &fa;
	CHECK_CONTAINS(run(r, "vm swap hello 1"), "vm hello has swap = off\n");
	swap_set_policy(&s, &vm->p2m, true);
	CHECK_CONTAINS(run(r, "vm swap hello x"), "'x' is not a number of MiB up to the VM's 1");
	CHECK_CONTAINS(run(r, "vm swap hello 2"), "not a number of MiB");
	CHECK_CONTAINS(run(r, "vm swap nosuch 1"), "nosuch");
	CHECK_CONTAINS(run(r, "vm swap hello 1"),
		       "vm hello: 128 of 256 pages swapped out (the swap partition is full)\n");
	const char *out = run(r, "swap");
	CHECK_CONTAINS(out,
		       "swap on swap: 128 slots, 128 used, 0 free; 1 swap-outs refused (full)\n");
	CHECK_CONTAINS(out, "  hello            on   128 in swap now; 128 out, 0 in, 0 checksum "
			    "failures, 0 I/O errors, 0 no frame; cycles 0 out, 0 in\n");
	CHECK(!strstr(out, "tick1"));
	CHECK_CONTAINS(run(r, "mem"), "  in swap (on disk)         128 frames       0.5 MiB\n");
	for (u64 g = 0; g < 64; g++)
		CHECK(p2m_swap_fetch(&vm->p2m, g));
	CHECK_CONTAINS(run(r, "vm swap hello 0"), "vm hello: 0 of 0 pages swapped out\n");
	CHECK_CONTAINS(run(r, "swap"), "64 in swap now; 128 out, 64 in");
	CHECK_EQ(swap_remove_vm(&s, &vm->p2m), 64u);
	p2m_destroy(&vm->p2m);
}
