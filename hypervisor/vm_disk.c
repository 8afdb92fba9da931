/* Attaching a VM's disk: a RAM disk from machine frames, or (once Keel drives the machine's
 * disk) a partition of it. */
#include "vm_disk.h"
#include "keel.h"
#include "lib.h"

static void *ram_page(void *ctx)
{
	(void)ctx;
	u64 pa = frames_alloc(&machine_frames, FRAME_HV);
	if (!pa)
		return NULL;
	void *p = phys_to_virt(pa);
	memset(p, 0, PAGE_SIZE);
	return p;
}

static void ram_free(void *ctx, void *page)
{
	(void)ctx;
	frames_free(&machine_frames, virt_to_phys(page), FRAME_HV);
}

const char *vm_disk_attach(struct vm *vm, const struct vm_config *cfg)
{
	vm->disk = NULL;
	if (!cfg->disk[0])
		return NULL;
	if (cfg->disk_ram_mib) {
		static const struct blk_ram_alloc alloc = {ram_page, ram_free, NULL};
		u64 sectors = cfg->disk_ram_mib << (20 - BLK_SECTOR_SHIFT);
		if (!blk_ram_init(&vm->ramdisk, &vm->disk_backend, sectors, &alloc, cfg->disk))
			return "no machine memory for its RAM disk";
	} else {
		/* partitions come with the machine-disk driver */
		return "disk: partitions of the machine's disk are not available (no disk driver)";
	}
	vm->disk_backend.read_only = cfg->disk_ro;
	vm->disk = &vm->disk_backend;
	return NULL;
}

void vm_disk_release(struct vm *vm)
{
	if (vm->disk == &vm->disk_backend && vm->disk_backend.ops && vm->ramdisk.dir)
		blk_ram_free(&vm->ramdisk);
	vm->disk = NULL;
}
