/* Attaching a VM's disk: a RAM disk from machine frames, or a partition of the machine's
 * disk, claimed in the VM's name (devices/machine_disk.c keeps a read-write one to one VM). */
#include "vm_disk.h"
#include "keel.h"
#include "lib.h"
#include "../devices/machine_disk.h"

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
		/* the reason is printed by the caller before the next VM is created */
		static char why[200];
		char reason[160];
		if (!machine_disk_claim(&machine_disk, cfg->disk, cfg->disk_ro, vm->name,
					&vm->disk_backend, reason, sizeof(reason))) {
			ksnprintf(why, sizeof(why), "disk: %s", reason);
			return why;
		}
	}
	vm->disk_backend.read_only |= cfg->disk_ro; /* a read-only medium stays so */
	vm->disk = &vm->disk_backend;
	return NULL;
}

void vm_disk_release(struct vm *vm)
{
	if (vm->disk == &vm->disk_backend && vm->disk_backend.ops && vm->ramdisk.dir)
		blk_ram_free(&vm->ramdisk);
	/* a partition goes back to the machine disk's free list (nothing when it held none) */
	machine_disk_release(&machine_disk, vm->name);
	vm->disk = NULL;
}
