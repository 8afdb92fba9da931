/* The memory driver (mem_drive.h): ESX's free-memory states over Keel's machine frames, the
 * balloon sizes it asks and the pages it swaps, its options and counters. */
#include "mem_drive.h"
#include "keel.h"
#include "lib.h"
#include "console.h"
#include "bootinfo.h"
#include "vm_create.h"
#include "vm_mem.h"
#include "../devices/virtio_balloon.h"
#include "../mm/swap.h"
#include "../mm/wss.h"

#define DRIVE_IDLE_HINTS 64 /* idle gfns from the sampler tried before the clock */

static bool drive_on = true;
static struct reclaim_cfg cfg = {6, 4, 2, 0};
static u64 drive_ms = 100, stuck_ms = 10000;
static u64 swap_step = 128; /* pages the swap may take per step (doubled in the low state) */
static u64 last_tsc;
static struct reclaim_totals totals;
static struct wss *wss;

void mem_drive_parse_cmdline(const char *cmdline)
{
	char v[24];
	const char *err;
	if (cmdline_get(cmdline, "mem_states", v, sizeof(v)) &&
	    (err = reclaim_parse_states(v, &cfg)))
		pr_warn("keel: mem_states '%s': %s: %u,%u,%u used\n", v, err, cfg.soft_pct,
			cfg.hard_pct, cfg.low_pct);
	if (cmdline_get(cmdline, "mem_drive", v, sizeof(v))) {
		if (!strcmp(v, "off") || !strcmp(v, "on"))
			drive_on = !strcmp(v, "on");
		else
			pr_warn("keel: mem_drive '%s' is not on or off: on used\n", v);
	}
	u64 n;
	if (cmdline_get(cmdline, "mem_drive_ms", v, sizeof(v))) {
		if (kparse_u64(v, &n) && n >= 10 && n <= 60000)
			drive_ms = n;
		else
			pr_warn("keel: mem_drive_ms '%s' is not 10 to 60000 ms: %llu used\n", v,
				(unsigned long long)drive_ms);
	}
	if (cmdline_get(cmdline, "mem_stuck_ms", v, sizeof(v))) {
		if (kparse_u64(v, &n) && n >= 100 && n <= 3600000)
			stuck_ms = n;
		else
			pr_warn("keel: mem_stuck_ms '%s' is not 100 to 3600000 ms: %llu used\n", v,
				(unsigned long long)stuck_ms);
	}
}

void mem_drive_setup(struct shell *sh, struct wss *w)
{
	wss = w;
	cfg.stuck_ticks = stuck_ms * (tsc_hz / 1000);
	if (!drive_on)
		return;
	sh->drive = &totals;
	pr_info("keel: memory driver: states at %u/%u/%u%% free, every %llu ms, balloon stuck "
		"after %llu ms\n",
		cfg.soft_pct, cfg.hard_pct, cfg.low_pct, (unsigned long long)drive_ms,
		(unsigned long long)stuck_ms);
}

/* Swap victims: the gfns the sampler last found idle, then the clock. */
struct victims {
	u64 gfn[DRIVE_IDLE_HINTS];
	unsigned n, next;
};

static bool idle_first(void *ctx, struct swap *s, struct p2m *p, u64 *gfn)
{
	struct victims *v = ctx;
	if (v->next < v->n) {
		*gfn = v->gfn[v->next++];
		return true;
	}
	return swap_clock_victim(NULL, s, p, gfn);
}

static void fill(struct reclaim_vm *r, struct vm *vm)
{
	*r = (struct reclaim_vm){0};
	if (!vm || !vm_mem_holds(vm) || vm_is_done(vm))
		return;
	u64 mem_mib = vm->mem_bytes >> 20;
	const struct swap_vm *sv = vm->swap ? swap_vm_of(vm->swap, &vm->p2m) : NULL;
	*r = (struct reclaim_vm){.present = true,
				 .mem_pages = vm->mem_bytes >> PAGE_SHIFT,
				 .held = vm->p2m.nr_ram,
				 .target = vm->mem.target,
				 .min = vm_mem_min_pages(vm),
				 .swap_on = sv && sv->on,
				 .t = &vm->drive};
	if (vm->cfg && vm->cfg->balloon) {
		const struct virtio_balloon *vb = &vm->plat.vballoon;
		r->balloon = true;
		r->driver_up = virtio_pci_live(&vb->vp);
		r->balloon_size = vb->b.target;
		r->balloon_actual = vb->b.actual;
		r->balloon_max =
		    mem_mib > BALLOON_MIN_MIB ? (mem_mib - BALLOON_MIN_MIB) * RECLAIM_MIB_PAGES : 0;
	}
}

static void carry_out(struct vm *vm, const struct reclaim_vm *r)
{
	if (r->set_balloon) {
		u64 mem_mib = vm->mem_bytes >> 20, ask_mib = r->ask_pages / RECLAIM_MIB_PAGES;
		if (virtio_balloon_set_size(&vm->plat.vballoon, mem_mib - MIN(ask_mib, mem_mib)))
			totals.refused++;
		else
			totals.balloon_asks++;
	}
	if (r->swap_pages && vm->swap) {
		static struct victims v;
		v.next = 0;
		v.n = wss ? wss_idle_gfns(wss, &vm->p2m, v.gfn, DRIVE_IDLE_HINTS) : 0;
		u64 done = swap_out_pages(vm->swap, &vm->p2m, r->swap_pages, idle_first, &v);
		vm->drive.by_swap += done;
		totals.by_swap += done;
	}
}

void mem_drive_poll(void)
{
	u64 now = time_now();
	if (!drive_on || now - last_tsc < drive_ms * (tsc_hz / 1000))
		return;
	last_tsc = now;
	static struct reclaim_vm r[MAX_VMS];
	u64 balloon_before = 0, returned_before = 0, fallbacks_before = 0;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		fill(&r[i], vm_by_index(i));
		if (r[i].t) {
			balloon_before += r[i].t->by_balloon;
			returned_before += r[i].t->returned;
			fallbacks_before += r[i].t->fallbacks;
		}
	}
	enum reclaim_state st = reclaim_decide(&cfg, r, MAX_VMS, machine_frames.nfree,
					       vm_mem_guest_pages(&machine_frames), now, swap_step);
	if (st != totals.state && totals.steps)
		pr_info("keel: memory state %s (%llu frames free)\n", reclaim_state_name(st),
			(unsigned long long)machine_frames.nfree);
	totals.state = st;
	totals.steps++;
	totals.in_state[st]++;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		if (!r[i].t)
			continue;
		totals.by_balloon += r[i].t->by_balloon;
		totals.returned += r[i].t->returned;
		totals.fallbacks += r[i].t->fallbacks;
		carry_out(vm_by_index(i), &r[i]);
	}
	totals.by_balloon -= balloon_before;
	totals.returned -= returned_before;
	totals.fallbacks -= fallbacks_before;
	totals.cycles += time_now() - now;
}
