/* The shell's memory commands: `mem` (machine memory by owner), `share` (content-based
 * page sharing: its counters, and turning it on or off per VM) and `swap` / `vm swap`
 * (the hypervisor swap: its slots and counters, and swapping part of a VM out now). */
#include "shell_priv.h"
#include "../mm/share.h"
#include "../mm/swap.h"

int shell_cmd_mem(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct frames *fa = sh->frames;
	if (!fa) {
		kprintf("machine memory is not set up\n");
		return -1;
	}
	kprintf("machine memory: %llu frames usable, %llu free\n", (unsigned long long)fa->ntotal,
		(unsigned long long)fa->nfree);
	shell_print_frames("total", fa->ntotal);
	shell_print_frames("free", fa->nfree);
	u64 boot = frames_count(fa, FRAME_BOOT), hv = frames_count(fa, FRAME_HV);
	u64 used = boot + hv;
	shell_print_frames("boot (never freed)", boot);
	shell_print_frames("hypervisor", hv);
	for (unsigned i = 0; i < MAX_VMS; i++) {
		const struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		if (!vm)
			continue;
		char label[CFG_NAME_LEN + 8];
		u64 n = frames_count(fa, FRAME_VM(vm->id));
		ksnprintf(label, sizeof(label), "vm %s", vm->name);
		shell_print_frames(label, n);
		used += n;
	}
	u64 shared = frames_count_shared(fa);
	shell_print_frames("shared by VMs (page sharing)", shared);
	used += shared;
	/* every frame is free, boot's, the hypervisor's, a VM's or shared: anything else is a
	 * leak */
	if (fa->ntotal - fa->nfree != used)
		shell_print_frames("other owners", fa->ntotal - fa->nfree - used);
	/* not frames: pages of VMs that live on the swap partition instead */
	if (sh->swap)
		shell_print_frames("in swap (on disk)", sh->swap->nused);
	return 0;
}

/* ---- share ---- */

static int cmd_share_stats(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct share *s = sh->share;
	if (!s) {
		kprintf("page sharing is not set up\n");
		return -1;
	}
	const struct share_stats *st = &s->st;
	kprintf("page sharing: %llu pages scanned, %llu hashed, %llu shared (%llu zero), %llu "
		"stale hints, %llu same-hash different pages, %llu refused\n",
		(unsigned long long)st->scanned, (unsigned long long)st->hashed,
		(unsigned long long)st->shared, (unsigned long long)st->zero_shared,
		(unsigned long long)st->hint_stale, (unsigned long long)st->false_matches,
		(unsigned long long)st->share_failed);
	if (sh->frames)
		kprintf("shared frames now: %llu\n",
			(unsigned long long)frames_count_shared(sh->frames));
	for (unsigned i = 0; i < MAX_VMS; i++) {
		const struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		const struct share_vm *v = vm ? share_vm_of((struct share *)s, &vm->p2m) : NULL;
		if (!v)
			continue;
		kprintf("  %-16s %s  %llu scanned (%llu passes), %llu shared (%llu zero), %llu "
			"copies on write\n",
			vm->name, v->on ? "on " : "off", (unsigned long long)v->scanned,
			(unsigned long long)v->passes, (unsigned long long)v->shared,
			(unsigned long long)v->zero_shared, (unsigned long long)vm->p2m.cow_breaks);
	}
	return 0;
}

static int share_policy(struct shell *sh, char **argv, bool on)
{
	struct vm *vm = shell_find_vm(sh, argv[1]);
	if (!vm)
		return -1;
	if (!sh->share || !share_vm_of(sh->share, &vm->p2m)) {
		kprintf("vm %s is not in the page-sharing scan\n", vm->name);
		return -1;
	}
	share_set_policy(sh->share, &vm->p2m, on);
	kprintf("vm %s: page sharing %s\n", vm->name,
		on ? "on"
		   : "off (shared pages stay "
		     "shared until written)");
	return 0;
}

static int cmd_share_on(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	return share_policy(sh, argv, true);
}

static int cmd_share_off(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	return share_policy(sh, argv, false);
}

const struct shell_cmd shell_share_cmds[SHELL_NSHARE_CMDS] = {
    {"stats", "", "page sharing: pages scanned, shared, zero, copies on write, per VM", 0, 0,
     cmd_share_stats, NULL, 0},
    {"on", "<vm>", "scan this VM's memory for pages to share", 1, 1, cmd_share_on, NULL, 0},
    {"off", "<vm>", "stop scanning this VM (its shared pages stay until written)", 1, 1,
     cmd_share_off, NULL, 0},
};

/* ---- swap ---- */

int shell_cmd_swap(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct swap *s = sh->swap;
	if (!s) {
		kprintf("swap is off: the machine disk has no usable partition named swap\n");
		return -1;
	}
	kprintf("swap on %s: %llu slots, %llu used, %llu free; %llu swap-outs refused (full)\n",
		s->disk->name, (unsigned long long)s->nslots, (unsigned long long)s->nused,
		(unsigned long long)(s->nslots - s->nused), (unsigned long long)s->full);
	for (unsigned i = 0; i < MAX_VMS; i++) {
		const struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		const struct swap_vm *v = vm ? swap_vm_of((struct swap *)s, &vm->p2m) : NULL;
		if (!v)
			continue;
		const struct swap_vm_stats *st = &v->st;
		kprintf("  %-16s %s  %llu in swap now; %llu out, %llu in, %llu checksum failures, "
			"%llu I/O errors, %llu no frame; cycles %llu out, %llu in\n",
			vm->name, v->on ? "on " : "off", (unsigned long long)v->swapped,
			(unsigned long long)st->out, (unsigned long long)st->in,
			(unsigned long long)st->checksum_failures,
			(unsigned long long)st->io_errors, (unsigned long long)st->in_nomem,
			(unsigned long long)st->cycles_out, (unsigned long long)st->cycles_in);
	}
	return 0;
}

int shell_cmd_vm_swap(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = shell_find_vm(sh, argv[1]);
	u64 mib;
	if (!vm)
		return -1;
	if (!kparse_u64(argv[2], &mib) || mib > (vm->mem_bytes >> 20)) {
		kprintf("vm swap: '%s' is not a number of MiB up to the VM's %llu\n", argv[2],
			(unsigned long long)(vm->mem_bytes >> 20));
		return -1;
	}
	const struct swap_vm *v = vm->swap ? swap_vm_of(vm->swap, &vm->p2m) : NULL;
	if (!v) {
		kprintf("vm %s is not in the swap (no swap partition, or the VM has ended)\n",
			vm->name);
		return -1;
	}
	if (!v->on) {
		kprintf("vm %s has swap = off\n", vm->name);
		return -1;
	}
	u64 want = mib << (20 - PAGE_SHIFT), full = vm->swap->full;
	u64 done = swap_out_pages(vm->swap, &vm->p2m, want, NULL, NULL);
	kprintf("vm %s: %llu of %llu pages swapped out%s\n", vm->name, (unsigned long long)done,
		(unsigned long long)want,
		done == want		 ? ""
		: vm->swap->full != full ? " (the swap partition is full)"
					 : " (no more private RAM pages to take)");
	return done == want ? 0 : -1;
}
