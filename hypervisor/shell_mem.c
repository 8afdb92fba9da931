/* The shell's memory commands: `mem` (machine memory by owner, and each VM's policy),
 * `share` (content-based page sharing: its counters, and turning it on or off per VM) and
 * `vm mem` (a VM's policy, working-set estimate and target; changing the policy live). */
/* The shell's memory commands: `mem` (machine memory by owner), `share` (content-based
 * page sharing: its counters, and turning it on or off per VM) and `swap` / `vm swap`
 * (the hypervisor swap: its slots and counters, and swapping part of a VM out now). */
#include "shell_priv.h"
#include "vm_mem.h"
/* The shell's memory commands: `mem` (machine memory by owner), `share` (content-based
 * page sharing: its counters, and turning it on or off per VM) and `vm balloon` (a VM's
 * balloon: its view, and the size Keel asks the guest to shrink to). */
#include "shell_priv.h"
#include "vm.h"
#include "vm_virtio.h"
#include "../mm/share.h"
#include "../mm/swap.h"

/* Pages of a lazy VM never touched yet (ballooned, P2M_BALLOON_UNPOPULATED): a walk of its
 * RAM, which only the shell asks for; 0 for an eager VM (no such pages). */
static u64 unpopulated_pages(struct vm *vm)
{
	u64 n = 0, mark;
	if (!vm->cfg || !vm->cfg->populate_lazy || !vm_mem_holds(vm))
		return 0;
	for (u64 g = 0; g < vm->mem_bytes >> PAGE_SHIFT; g++)
		if (p2m_lookup(&vm->p2m, g, &mark) == P2M_BALLOONED &&
		    mark == P2M_BALLOON_UNPOPULATED)
			n++;
	return n;
}

/* populate = lazy: one VM's pages never touched, populated on first touch, and its waits */
static void print_populate(struct vm *vm)
{
	if (vm->cfg && vm->cfg->populate_lazy)
		kprintf("  %-16s populate lazy: %llu pages never touched, %llu populated on first "
			"touch, %llu waits for memory\n",
			vm->name, (unsigned long long)unpopulated_pages(vm),
			(unsigned long long)vm->p2m.populated,
			(unsigned long long)vm->p2m.mem_waits);
}

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
	/* not an owner: frames the VMs' balloons gave back, counted in free above */
	u64 ballooned = 0;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		const struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		if (vm)
			ballooned += vm_balloon_frames(vm);
	}
	shell_print_frames("ballooned by VMs (in free)", ballooned);
	used += shared;
	/* every frame is free, boot's, the hypervisor's, a VM's or shared: anything else is a
	 * leak */
	if (fa->ntotal - fa->nfree != used)
		shell_print_frames("other owners", fa->ntotal - fa->nfree - used);
	/* not frames: pages of VMs that live on the swap partition instead */
	if (sh->swap)
		shell_print_frames("in swap (on disk)", sh->swap->nused);
	/* populate-on-demand: pages that got their first frame on touch, and touches that
	 * waited because free frames were at the reserve */
	u64 populated = 0, waits = 0, untouched = 0;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		if (vm) {
			populated += vm->p2m.populated;
			waits += vm->p2m.mem_waits;
			untouched += unpopulated_pages(vm);
		}
	}
	if (populated || waits || untouched)
		kprintf("populate-on-demand: %llu pages never touched, %llu populated on first "
			"touch, %llu waits for memory (reserve %llu frames, %llu wanted now)\n",
			(unsigned long long)untouched, (unsigned long long)populated,
			(unsigned long long)waits, (unsigned long long)fa->guest_reserve,
			(unsigned long long)fa->wanted);
	shell_mem_policies(sh, NULL);
	shell_mem_drive(sh);
	return 0;
}

/* The memory driver's state and totals (hypervisor/mem_drive.c). */
void shell_mem_drive(struct shell *sh)
{
	const struct reclaim_totals *d = sh->drive;
	if (!d) {
		kprintf("memory driver: off\n");
		return;
	}
	kprintf("memory driver: state %s; %llu steps (high %llu, soft %llu, hard %llu, low %llu), "
		"%llu cycles\n",
		reclaim_state_name(d->state), (unsigned long long)d->steps,
		(unsigned long long)d->in_state[RECLAIM_HIGH],
		(unsigned long long)d->in_state[RECLAIM_SOFT],
		(unsigned long long)d->in_state[RECLAIM_HARD],
		(unsigned long long)d->in_state[RECLAIM_LOW], (unsigned long long)d->cycles);
	kprintf("  reclaimed %llu pages by balloon, %llu by swap; %llu given back; %llu balloon "
		"sizes set, %llu refused; %llu balloons fell back to swap\n",
		(unsigned long long)d->by_balloon, (unsigned long long)d->by_swap,
		(unsigned long long)d->returned, (unsigned long long)d->balloon_asks,
		(unsigned long long)d->refused, (unsigned long long)d->fallbacks);
}

/* ---- memory policy: `vm mem`, and the table at the end of `mem` ---- */

static unsigned tax_of(const struct shell *sh)
{
	return sh->mem_tax ? *sh->mem_tax : MP_TAX_DEFAULT;
}

static u64 mib(u64 pages)
{
	return pages >> (20 - PAGE_SHIFT);
}

/* One VM's policy line: what the owner set, what sampling saw, what the policy wants. */
static void print_policy(struct shell *sh, const struct vm *vm, const struct mp_vm *t)
{
	const struct wss_vm *wv = sh->wss ? wss_vm_of(sh->wss, &vm->p2m) : NULL;
	char act[48];
	u32 f;
	if (sh->wss && wss_active_fraction(sh->wss, &vm->p2m, &f))
		ksnprintf(act, sizeof(act), "%llu%% active (%llu periods)",
			  (unsigned long long)(f * 100ULL / WSS_ONE),
			  (unsigned long long)wv->periods);
	else
		ksnprintf(act, sizeof(act), "no estimate (all taken as active)");
	kprintf("  %-16s min %llu MiB, max %llu MiB, shares %llu, wss %s: %s, estimate %llu MiB, "
		"holds %llu MiB, target %llu MiB\n",
		vm->name, (unsigned long long)mib(vm_mem_min_pages(vm)),
		(unsigned long long)mib(vm_mem_max_pages(vm)), (unsigned long long)vm->mem.shares,
		wv ? wss_method_name(wv->want) : "-", act, (unsigned long long)mib(t->active_pages),
		(unsigned long long)mib(vm->p2m.nr_ram), (unsigned long long)mib(t->target));
}

void shell_mem_policies(struct shell *sh, const struct vm *only)
{
	static struct vm *vms[MAX_VMS];
	static struct mp_vm t[MAX_VMS];
	unsigned n = 0;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		if (vm_mem_holds(vm))
			vms[n++] = vm;
	}
	if (!n && !only)
		return;
	u64 guest = sh->frames ? vm_mem_guest_pages(sh->frames) : 0;
	u64 sum = vm_mem_targets(vms, n, sh->wss, guest, tax_of(sh), t);
	kprintf("memory policy: %llu MiB for guests, targets sum to %llu MiB, idle-memory tax "
		"%u%%\n",
		(unsigned long long)mib(guest), (unsigned long long)mib(sum), tax_of(sh));
	for (unsigned i = 0; i < n; i++)
		if (!only || vms[i] == only)
			print_policy(sh, vms[i], &t[i]);
	if (only && !vm_mem_holds(only))
		kprintf("  %-16s holds no memory (ended)\n", only->name);
	if (only) {
		const struct reclaim_track *d = &only->drive;
		kprintf("  memory driver: %llu pages by balloon, %llu by swap, %llu given back, "
			"%llu fallbacks%s, balloon %s\n",
			(unsigned long long)d->by_balloon, (unsigned long long)d->by_swap,
			(unsigned long long)d->returned, (unsigned long long)d->fallbacks,
			d->fallback ? " (swapping instead now)" : "",
			d->manual ? "manual" : "auto");
	}
}

/* key=value with value a number in [lo, hi]; false after saying what is wrong */
static bool kv_number(const char *arg, const char *key, u64 lo, u64 hi, u64 *out)
{
	if (!kparse_u64(arg + strlen(key) + 1, out) || *out < lo || *out > hi) {
		kprintf("vm mem: %s must be a number from %llu to %llu\n", key,
			(unsigned long long)lo, (unsigned long long)hi);
		return false;
	}
	return true;
}

static bool has_key(const char *arg, const char *key)
{
	size_t n = strlen(key);
	return !strncmp(arg, key, n) && arg[n] == '=';
}

int shell_cmd_vm_mem(struct shell *sh, int argc, char **argv)
{
	struct vm *vm = shell_vm_arg(sh, argv[1]);
	if (!vm)
		return -1;
	if (argc == 2) {
		shell_mem_policies(sh, vm);
		print_populate(vm);
		return 0;
	}
	/* every argument is checked before anything changes */
	struct vm_mem_policy m = vm->mem;
	int method = -1;
	u64 mem_mib = vm->mem_bytes >> 20;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (has_key(a, "min")) {
			if (!kv_number(a, "min", 0, mem_mib, &m.min_mib))
				return -1;
		} else if (has_key(a, "max")) {
			if (!kv_number(a, "max", 1, mem_mib, &m.max_mib))
				return -1;
		} else if (has_key(a, "shares")) {
			if (!kv_number(a, "shares", 1, 1000000, &m.shares))
				return -1;
		} else if (has_key(a, "wss")) {
			static const char *const names[] = {"off", "invalidate", "accessed"};
			for (int k = 0; k < 3; k++)
				if (!strcmp(a + 4, names[k]))
					method = k;
			if (method < 0) {
				kprintf("vm mem: wss must be off, invalidate or accessed\n");
				return -1;
			}
		} else {
			kprintf("vm mem: '%s' is not min=, max=, shares= or wss=\n", a);
			return -1;
		}
	}
	if (m.max_mib && m.max_mib < m.min_mib) {
		kprintf("vm mem: max (%llu MiB) is less than min (%llu MiB)\n",
			(unsigned long long)m.max_mib, (unsigned long long)m.min_mib);
		return -1;
	}
	if (m.min_mib > vm->mem.min_mib && vm_mem_holds(vm)) {
		/* a bigger reservation must fit beside the others', as at admission */
		u64 reserved = 0;
		for (unsigned i = 0; i < MAX_VMS; i++) {
			struct vm *o = sh->ops->vm_at(sh->ctx, i);
			if (o && o != vm && vm_mem_holds(o))
				reserved += vm_mem_min_pages(o);
		}
		char msg[200];
		u64 guest = sh->frames ? vm_mem_guest_pages(sh->frames) : 0;
		const char *why = mempolicy_admit(reserved, m.min_mib << (20 - PAGE_SHIFT), guest,
						  msg, sizeof(msg));
		if (why) {
			kprintf("vm mem: %s: %s\n", vm->name, why);
			return -1;
		}
	}
	vm->mem = m;
	if (method >= 0) {
		if (!sh->wss || !wss_vm_of(sh->wss, &vm->p2m)) {
			kprintf("vm mem: vm %s is not in the working-set sampler\n", vm->name);
			return -1;
		}
		wss_set_method(sh->wss, &vm->p2m, (enum wss_method)method);
	}
	kprintf("vm %s: memory policy set%s\n", vm->name,
		method >= 0 ? " (sampling changes at the next period)" : "");
	shell_mem_policies(sh, vm);
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
		"stale hints, %llu same-hash different pages, %llu refused, %llu nonzero from "
		"another VM\n",
		(unsigned long long)st->scanned, (unsigned long long)st->hashed,
		(unsigned long long)st->shared, (unsigned long long)st->zero_shared,
		(unsigned long long)st->hint_stale, (unsigned long long)st->false_matches,
		(unsigned long long)st->share_failed, (unsigned long long)st->cross_shared);
	if (st->cycles && st->scanned)
		kprintf("scanner: %llu cycles, %llu a page scanned\n",
			(unsigned long long)st->cycles,
			(unsigned long long)(st->cycles / st->scanned));
	if (sh->frames)
		kprintf("shared frames now: %llu\n",
			(unsigned long long)frames_count_shared(sh->frames));
	for (unsigned i = 0; i < MAX_VMS; i++) {
		const struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		const struct share_vm *v = vm ? share_vm_of((struct share *)s, &vm->p2m) : NULL;
		if (!v)
			continue;
		kprintf("  %-16s %s  %llu scanned (%llu passes), %llu shared (%llu zero), %llu "
			"copies on write, %llu nonzero from another VM\n",
			vm->name, v->on ? "on " : "off", (unsigned long long)v->scanned,
			(unsigned long long)v->passes, (unsigned long long)v->shared,
			(unsigned long long)v->zero_shared, (unsigned long long)vm->p2m.cow_breaks,
			(unsigned long long)v->cross_shared);
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

/* ---- vm balloon ---- */

static bool has_balloon(const struct vm *vm)
{
	return vm->cfg && vm->cfg->balloon;
}

int shell_cmd_vm_balloon(struct shell *sh, int argc, char **argv)
{
	if (argc == 1) {
		unsigned n = 0;
		for (unsigned i = 0; i < MAX_VMS; i++) {
			struct vm *vm = sh->ops->vm_at(sh->ctx, i);
			if (!vm || !has_balloon(vm))
				continue;
			vm_balloon_print(vm, false);
			virtio_balloon_request_stats(&vm->plat.vballoon); /* fresh ones next time */
			n++;
		}
		if (!n)
			kprintf("no VM has a balloon (balloon = on in its config)\n");
		return 0;
	}
	struct vm *vm = shell_vm_arg(sh, argv[1]);
	if (!vm)
		return -1;
	if (!has_balloon(vm)) {
		kprintf("vm %s has no balloon (balloon = on in its config)\n", vm->name);
		return -1;
	}
	if (argc == 2) {
		vm_balloon_print(vm, false);
		virtio_balloon_request_stats(&vm->plat.vballoon);
		return 0;
	}
	if (vm->state == VM_EXITED || vm->state == VM_STOPPED) {
		kprintf("vm %s has ended: no balloon to set\n", vm->name);
		return -1;
	}
	if (!strcmp(argv[2], "auto")) {
		/* the memory driver sizes this balloon again from its next step */
		vm->drive.manual = false;
		kprintf("vm %s: balloon given to the memory driver%s\n", vm->name,
			sh->drive ? "" : " (which is off: mem_drive=off)");
		return 0;
	}
	u64 want;
	if (!kparse_u64(argv[2], &want)) {
		kprintf("vm balloon: '%s' is not a size in MiB\n", argv[2]);
		return -1;
	}
	const char *err = virtio_balloon_set_size(&vm->plat.vballoon, want);
	if (err) {
		kprintf("vm %s: cannot shrink to %llu MiB: %s\n", vm->name,
			(unsigned long long)want, err);
		return -1;
	}
	vm->drive.manual = true; /* the driver leaves it until `vm balloon <vm> auto` */
	virtio_balloon_request_stats(&vm->plat.vballoon);
	kprintf("vm %s: balloon target %llu MiB (the balloon takes %llu MiB)\n", vm->name,
		(unsigned long long)want, (unsigned long long)(vm->plat.vballoon.mem_mib - want));
	return 0;
}
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
