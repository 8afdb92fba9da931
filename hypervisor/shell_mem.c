/* The shell's memory commands: `mem` (machine memory by owner) and `share` (content-based
 * page sharing: its counters, and turning it on or off per VM). */
#include "shell_priv.h"
#include "../mm/share.h"

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
