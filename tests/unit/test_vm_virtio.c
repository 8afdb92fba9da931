/* Tests of plugging a VM's virtio functions (hypervisor/vm_virtio.c): a config with a
 * virtio disk gets virtio-blk in slot 1 over vm->disk, one with an IDE disk or none gets no
 * function, and the platform's save/load carries the function's state. */
#include "test.h"
#include "../../hypervisor/platform.h"
#include "../../hypervisor/vm.h"
#include "../../hypervisor/vm_virtio.h"
#include "../../hypervisor/lib.h"

static bool nop_read(void *ctx, u64 lba, u32 n, void *buf)
{
	(void)ctx, (void)lba;
	memset(buf, 0, (size_t)n * BLK_SECTOR_SIZE);
	return true;
}

static bool nop_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	(void)ctx, (void)lba, (void)n, (void)buf;
	return true;
}

static const struct blk_ops nop_ops = {nop_read, nop_write, NULL};

static const char *make_vm(struct vm **out, struct vm_config *cfg, bool with_disk)
{
	struct vm *vm = test_alloc(sizeof(*vm));
	kstrlcpy(vm->name, "v", sizeof(vm->name));
	vm->cfg = cfg;
	vm->mem_bytes = 64 << 20;
	vm->nvcpus = 1;
	vm->vcpu[0].vm = vm;
	if (with_disk) {
		vm->disk_backend = (struct blk_backend){&nop_ops, NULL, 2048, false, "d"};
		vm->disk = &vm->disk_backend;
	}
	*out = vm;
	return platform_init(vm, &board_pc, 1000000000ULL, 0, 1767225600ULL);
}

static u32 cfg_read(struct vm *vm, unsigned slot, unsigned off)
{
	struct io_access a = {0xcf8, 4, true, 0x80000000u | slot << 11 | off};
	CHECK(io_bus_access(&vm->io, &a));
	a = (struct io_access){0xcfc, 4, false, 0};
	CHECK(io_bus_access(&vm->io, &a));
	return a.value;
}

TEST(vm_virtio_disk_gets_virtio_blk_in_slot_1)
{
	struct vm_config cfg = {.valid = true, .disk_model = DISK_VIRTIO};
	kstrlcpy(cfg.disk, "ram:1", sizeof(cfg.disk));
	struct vm *vm;
	REQUIRE(make_vm(&vm, &cfg, true) == NULL);
	CHECK(vm_has_virtio_disk(&cfg));
	CHECK_EQ(cfg_read(vm, VM_VIRTIO_BLK_SLOT, 0), 0x10421af4);
	CHECK_EQ(cfg_read(vm, VM_VIRTIO_CONSOLE_SLOT, 0), 0xffffffff);
	CHECK(vm->plat.vblk.be == vm->disk);
	CHECK(vm->plat.vblk.vp.p2m == &vm->p2m);
	/* INTA of slot 1 is wired to GSI 17 ((1 + 0) % 4 of 16-19) */
	CHECK_EQ(cfg_read(vm, VM_VIRTIO_BLK_SLOT, 0x3c) & 0xffff, 0x0100 | 17);
	/* the platform's state stream carries it, and takes it back */
	vm->plat.vblk.vp.status = VIRTIO_STATUS_ACKNOWLEDGE;
	static u8 buf[64 << 10];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	platform_save(vm, &w);
	REQUIRE(!w.overflow);
	vm->plat.vblk.vp.status = 0;
	struct state_reader r = {buf, w.len, 0, false};
	CHECK(platform_load(vm, &r));
	CHECK_EQ(vm->plat.vblk.vp.status, VIRTIO_STATUS_ACKNOWLEDGE);
	/* a device the guest broke says so in the VM's log, naming the VM */
	test_console_clear();
	virtio_pci_break(&vm->plat.vblk.vp, "a test reason");
	CHECK_CONTAINS(test_console(), "keel: vm v virtio-blk needs a reset: a test reason");
	/* a reset of the platform resets it */
	platform_reset(vm);
	CHECK_EQ(vm->plat.vblk.vp.status, 0);
}

TEST(vm_virtio_none_for_ide_disks_or_no_disk)
{
	struct vm_config cfg = {.valid = true, .disk_model = DISK_IDE};
	kstrlcpy(cfg.disk, "ram:1", sizeof(cfg.disk));
	struct vm *vm;
	REQUIRE(make_vm(&vm, &cfg, true) == NULL);
	CHECK(!vm_has_virtio_disk(&cfg));
	CHECK_EQ(cfg_read(vm, VM_VIRTIO_BLK_SLOT, 0), 0xffffffff);
	struct vm_config none = {.valid = true};
	REQUIRE(make_vm(&vm, &none, false) == NULL);
	CHECK_EQ(cfg_read(vm, VM_VIRTIO_BLK_SLOT, 0), 0xffffffff);
	/* a virtio disk the VM could not attach is a creation error, not a function over nothing */
	cfg.disk_model = DISK_VIRTIO;
	CHECK_CONTAINS(make_vm(&vm, &cfg, false), "without a disk");
}
