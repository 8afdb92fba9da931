/* `vm balloon` (hypervisor/shell_mem.c): the view of each VM's balloon, setting the size a
 * VM should shrink to, and the refusals (no balloon, a size beyond its memory or below the
 * floor, an ended VM). */
#include "shell_fake.h"
#include "../../hypervisor/vm.h"

static struct vm *add_balloon_vm(struct rig *r, struct vm_config *cfg)
{
	*cfg = (struct vm_config){.valid = true, .memory_mib = 64, .balloon = true};
	struct vm *vm = add_vm(r, 3, "bal");
	vm->cfg = cfg;
	vm->mem_bytes = 64ULL << 20;
	REQUIRE(virtio_balloon_init(&vm->plat.vballoon, &vm->p2m, 64 << 8, 64));
	return vm;
}

TEST(shell_vm_balloon_sets_the_size_and_shows_it)
{
	struct rig *r = rig_new();
	struct vm_config cfg;
	struct vm *vm = add_balloon_vm(r, &cfg);
	CHECK_CONTAINS(run(r, "vm balloon bal 40"),
		       "vm bal: balloon target 40 MiB (the balloon takes 24 MiB)\n");
	CHECK_EQ(vm->plat.vballoon.b.target, 24 << 8);
	const char *out = run(r, "vm balloon bal");
	CHECK_CONTAINS(out, "vm bal balloon: target 40 MiB of 64 (6144 pages in the balloon), "
			    "actual 0 pages, 0 by Keel's count; no driver\n");
	CHECK_CONTAINS(out,
		       "  refused 0: beyond its memory 0, not RAM 0, already in the balloon 0, "
		       "not in the balloon 0, out of memory 0\n");
	CHECK_CONTAINS(out, "  guest stats: none yet\n");
	/* every VM with a balloon, none of the others */
	out = run(r, "vm balloon");
	CHECK_CONTAINS(out, "vm bal balloon: target 40 MiB");
	CHECK_EQ(count(out, "balloon: target"), 1);
	/* back to its whole memory: an empty balloon */
	CHECK_CONTAINS(run(r, "vm balloon bal 64"),
		       "balloon target 64 MiB (the balloon takes 0 MiB)");
	CHECK_EQ(vm->plat.vballoon.b.target, 0);
}

TEST(shell_vm_balloon_refusals)
{
	struct rig *r = rig_new();
	struct vm_config cfg;
	struct vm *vm = add_balloon_vm(r, &cfg);
	CHECK_CONTAINS(run(r, "vm balloon tick1 8"), "vm tick1 has no balloon");
	CHECK_CONTAINS(run(r, "vm balloon bal 65"),
		       "vm bal: cannot shrink to 65 MiB: more than the VM's memory\n");
	CHECK_CONTAINS(run(r, "vm balloon bal 8"), "cannot shrink to 8 MiB: less than the 16 MiB");
	CHECK_CONTAINS(run(r, "vm balloon bal lots"), "vm balloon: 'lots' is not a size in MiB\n");
	CHECK_CONTAINS(run(r, "vm balloon nosuch 8"), "unknown vm 'nosuch'");
	CHECK_EQ(vm->plat.vballoon.b.target, 0);
	vm->state = VM_EXITED;
	CHECK_CONTAINS(run(r, "vm balloon bal 32"), "vm bal has ended: no balloon to set\n");
	CHECK_EQ(vm->plat.vballoon.b.target, 0);
	r->f.vms[3] = NULL;
	CHECK_CONTAINS(run(r, "vm balloon"), "no VM has a balloon (balloon = on in its config)\n");
}

TEST(shell_vm_balloon_size_is_manual_until_auto)
{
	struct rig *r = rig_new();
	struct vm_config cfg;
	struct vm *vm = add_balloon_vm(r, &cfg);
	CHECK(!vm->drive.manual);
	/* a refused size leaves the balloon with the driver */
	run(r, "vm balloon bal 8");
	CHECK(!vm->drive.manual);
	run(r, "vm balloon bal 40");
	CHECK(vm->drive.manual);
	CHECK_CONTAINS(run(r, "vm mem bal"), "balloon manual\n");
	CHECK_CONTAINS(
	    run(r, "vm balloon bal auto"),
	    "vm bal: balloon given to the memory driver (which is off: mem_drive=off)\n");
	CHECK(!vm->drive.manual);
	CHECK_EQ(vm->plat.vballoon.b.target,
		 24 << 8); /* the size stays until the driver moves it */
	CHECK_CONTAINS(run(r, "vm mem bal"), "balloon auto\n");
}
