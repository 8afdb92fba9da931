/* Memory overcommit wired into the hypervisor's loop: the page-sharing scanner, the
 * working-set sampler with the policy's targets, and the hypervisor swap under pressure;
 * their Keel command-line options, setup at boot and one step per scheduler pass. */
#include "overcommit.h"
#include "console.h"
#include "keel.h"
#include "mem_drive.h"
#include "lib.h"
#include "memlog.h"
#include "time.h"
#include "vm_create.h"
#include "vm_mem.h"
#include "../devices/machine_disk.h"
#include "../mm/share.h"
#include "../mm/swap.h"
#include "../mm/wss.h"
#include "../vmx/caps.h"
#include "../vmx/vmx.h"

static struct shell *shell;
/* Content-based page sharing: the scanner, its candidate table, its rate (share_rate=) */
#define SHARE_TABLE_FRAMES 128
#define SHARE_BATCH	   256 /* pages at most per scan call: a VM waits no longer */
static struct share share;
static u64 share_rate = 2000; /* pages per second */
static u64 share_last_tsc;
static u64 share_cycles; /* hypervisor cycles the scanner spent (the timeline's) */
/* Working-set sampling (wss_period_ms=, wss_sample=) and the idle-memory tax (mem_tax=) */
static struct wss wss;
static u64 wss_period_ms = 1000;
static u64 wss_sample = 100;
static unsigned mem_tax = MP_TAX_DEFAULT;
/* Hypervisor swap on the machine disk's `swap` partition (mm/swap.h) */
static struct swap swap;
static struct blk_backend swap_part;
/* swap_free=MiB, swap_rate=pages/s: while free machine memory is below swap_free, pages of
 * VMs with swap = on go out at up to swap_rate a second (0, the default: only on request) */
#define SWAP_BATCH 32 /* pages at most per pass: about 10k cycles each */
static u64 swap_free_mib, swap_rate;
static u64 swap_last_tsc;
static unsigned swap_turn;
/* mem_reserve=MiB: free frames the guests' own faults leave to the hypervisor (its tables,
 * the shadow's, device accessors); a guest that needs one then waits while pages are
 * reclaimed for it. RECLAIM_ROOM frames above the reserve is what the reclaimer makes. */
static u64 mem_reserve_mib = 2;
static u64 reclaimed_now; /* pages the emergency reclaim asked the swap for */
#define RECLAIM_ROOM  512
#define RECLAIM_BATCH 64 /* pages at most per pass: ~10k cycles each */

void overcommit_parse_cmdline(const char *cmdline)
{
	char v[16];
	if (cmdline_get(cmdline, "share_rate", v, sizeof(v)) && !kparse_u64(v, &share_rate))
		pr_warn("keel: share_rate '%s' is not a number of pages per second\n", v);
	if (cmdline_get(cmdline, "wss_period_ms", v, sizeof(v)) &&
	    (!kparse_u64(v, &wss_period_ms) || !wss_period_ms || wss_period_ms > 3600000)) {
		pr_warn("keel: wss_period_ms '%s' is not 1 to 3600000 ms: 1000 used\n", v);
		wss_period_ms = 1000;
	}
	if (cmdline_get(cmdline, "wss_sample", v, sizeof(v)) &&
	    (!kparse_u64(v, &wss_sample) || !wss_sample || wss_sample > WSS_MAX_SAMPLE)) {
		pr_warn("keel: wss_sample '%s' is not 1 to %u pages: 100 used\n", v,
			WSS_MAX_SAMPLE);
		wss_sample = 100;
	}
	u64 tax;
	if (cmdline_get(cmdline, "mem_tax", v, sizeof(v))) {
		if (kparse_u64(v, &tax) && tax <= MP_TAX_MAX)
			mem_tax = (unsigned)tax;
		else
			pr_warn("keel: mem_tax '%s' is not a percentage 0 to %u: %u used\n", v,
				MP_TAX_MAX, mem_tax);
	}
	if (cmdline_get(cmdline, "swap_free", v, sizeof(v)) && !kparse_u64(v, &swap_free_mib))
		pr_warn("keel: swap_free '%s' is not a number of MiB\n", v);
	if (cmdline_get(cmdline, "swap_rate", v, sizeof(v)) && !kparse_u64(v, &swap_rate))
		pr_warn("keel: swap_rate '%s' is not a number of pages per second\n", v);
	if (cmdline_get(cmdline, "mem_reserve", v, sizeof(v)) &&
	    (!kparse_u64(v, &mem_reserve_mib) || mem_reserve_mib < 1 || mem_reserve_mib > 256)) {
		pr_warn("keel: mem_reserve '%s' is not 1 to 256 MiB: 2 used\n", v);
		mem_reserve_mib = 2;
	}
	mem_drive_parse_cmdline(cmdline);
	memlog_parse_cmdline(cmdline);
}

static void setup_sharing(void)
{
	u64 first = 0;
	for (unsigned i = 0; i < SHARE_TABLE_FRAMES; i++) {
		/* one contiguous run: frames come in address order from a fresh allocator */
		u64 pa = frames_alloc(&machine_frames, FRAME_HV);
		if (!pa || (i && pa != first + (u64)i * PAGE_SIZE)) {
			pr_warn("keel: page sharing off: no room for its table\n");
			return;
		}
		first = i ? first : pa;
	}
	share_init(&share, phys_to_virt(first),
		   SHARE_TABLE_FRAMES * PAGE_SIZE / sizeof(struct share_entry));
	vm_sharing = &share;
	shell->share = &share;
}

/* The machine disk's partition named `swap`, held by the swap alone, its slot table in
 * hypervisor frames; without one, no VM is swapped (`swap = on` is then a no-op). */
static void setup_swap(void)
{
	char why[96];
	if (!machine_disk.present || machine_disk_find(&machine_disk, "swap") < 0)
		return;
	if (!machine_disk_claim(&machine_disk, "swap", false, "swap", &swap_part, why,
				sizeof(why))) {
		pr_warn("swap: partition swap not usable: %s\n", why);
		return;
	}
	u64 frames = (swap_meta_bytes(swap_part.sectors) + PAGE_SIZE - 1) / PAGE_SIZE, first = 0;
	for (u64 i = 0; i < frames; i++) {
		/* one contiguous run: frames come in address order from a fresh allocator */
		u64 pa = frames_alloc(&machine_frames, FRAME_HV);
		if (!pa || (i && pa != first + i * PAGE_SIZE)) {
			pr_warn("swap: off: no room for its slot table\n");
			machine_disk_release(&machine_disk, "swap");
			return;
		}
		first = i ? first : pa;
	}
	const char *err =
	    swap_init(&swap, &swap_part, phys_to_virt(first), frames * PAGE_SIZE, time_now);
	if (err) {
		pr_warn("swap: off: %s\n", err);
		machine_disk_release(&machine_disk, "swap");
		return;
	}
	vm_swap = &swap;
	shell->swap = &swap;
	kprintf("swap: partition swap: %llu slots of 4 KiB (%llu MiB), table in %llu frames\n",
		(unsigned long long)swap.nslots, (unsigned long long)(swap.nslots >> 8),
		(unsigned long long)frames);
}

/* Scans at share_rate pages per second of TSC time, at most SHARE_BATCH at a time. Every
 * VM is out of guest mode here (one CPU): see share_scan. */
static void scan_for_sharing(void)
{
	u64 now = time_now();
	if (!vm_sharing || !share_rate) {
		share_last_tsc = now;
		return;
	}
	u64 budget = (now - share_last_tsc) / (tsc_hz / 1000) * share_rate / 1000;
	if (!budget)
		return;
	share_last_tsc = now;
	share_scan(&share, MIN(budget, (u64)SHARE_BATCH));
	share_cycles += time_now() - now;
}

/* A/D sampling needs the VM on EPT and a CPU with EPT accessed/dirty flags. */
static bool wss_ad_ok(void *ctx, struct p2m *p)
{
	(void)ctx;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		struct vm *vm = vm_by_index(i);
		if (vm && &vm->p2m == p)
			return vm->paging == VM_PAGING_EPT && !vmx_no_ept_reason &&
			       (vmx_cpu.caps.ept_vpid & EPTCAP_AD);
	}
	return false;
}

static void setup_wss(void)
{
	wss_init(&wss, (unsigned)wss_sample, wss_period_ms * (tsc_hz / 1000));
	wss.ad_ok = wss_ad_ok;
	wss.clock = time_now;
	vm_wss = &wss;
	shell->wss = &wss;
	shell->mem_tax = &mem_tax;
}

/* A sampling period ends every wss_period_ms of TSC time; every VM is out of guest mode
 * here (one CPU), as wss_tick wants. */
static void sample_working_sets(void)
{
	if (!wss_tick(&wss, time_now()))
		return;
	/* new estimates: each VM's target (vm->mem.target) for balloon and swap to drive to */
	static struct vm *vms[MAX_VMS];
	for (unsigned i = 0; i < MAX_VMS; i++)
		vms[i] = vm_by_index(i);
	vm_mem_update_targets(vms, MAX_VMS, &wss, vm_mem_guest_pages(&machine_frames), mem_tax);
}

/* Memory pressure (swap_free=, swap_rate=): while free machine memory is below the mark,
 * one VM with swap = on at a time, in turn, gives up to SWAP_BATCH pages to the swap. No
 * vCPU is in guest mode here (one CPU): see swap_out_gfn. */
static void swap_under_pressure(void)
{
	u64 now = time_now(), want_free = swap_free_mib << (20 - PAGE_SHIFT);
	if (!vm_swap || !swap_rate || machine_frames.nfree >= want_free) {
		swap_last_tsc = now;
		return;
	}
	u64 budget = (now - swap_last_tsc) / (tsc_hz / 1000) * swap_rate / 1000;
	if (!budget)
		return;
	swap_last_tsc = now;
	budget = MIN(MIN(budget, (u64)SWAP_BATCH), want_free - machine_frames.nfree);
	for (unsigned n = 0; n < MAX_VMS; n++) {
		struct vm *vm = vm_by_index(swap_turn);
		swap_turn = (swap_turn + 1) % MAX_VMS;
		const struct swap_vm *sv =
		    vm && vm->swap && !vm_is_done(vm) ? swap_vm_of(vm->swap, &vm->p2m) : NULL;
		if (sv && sv->on && swap_out_pages(&swap, &vm->p2m, budget, NULL, NULL))
			return;
	}
}

/* What the reclaimer may take from a VM: its frames above its target (once targets are
 * set) and never below its reservation. */
static u64 reclaimable(const struct vm *vm, bool by_target)
{
	u64 held = vm->p2m.nr_ram, floor = vm_mem_min_pages(vm);
	if (by_target)
		floor = MAX(floor, vm->mem.target);
	return held > floor ? held - floor : 0;
}

/* Emergency reclaim (ESX's "low" state): a guest waits for a frame (p2m_fault said
 * P2M_FAULT_WAIT), or free frames are at the reserve. Pages of a VM with swap = on go to
 * swap at once, not at swap_rate: the one holding most above its target, else most above
 * its reservation. No vCPU is in guest mode here (one CPU): see swap_out_gfn. */
static void reclaim_now(void)
{
	struct frames *fa = &machine_frames;
	u64 want = fa->guest_reserve + RECLAIM_ROOM;
	bool asked = fa->wanted;
	fa->wanted = 0;
	if (!vm_swap || fa->nfree >= want || (!asked && fa->nfree > fa->guest_reserve))
		return;
	for (int by_target = 1; by_target >= 0; by_target--) {
		struct vm *best = NULL;
		u64 most = 0;
		for (unsigned i = 0; i < MAX_VMS; i++) {
			struct vm *vm = vm_by_index(i);
			const struct swap_vm *sv = vm && vm->swap && !vm_is_done(vm)
						       ? swap_vm_of(vm->swap, &vm->p2m)
						       : NULL;
			u64 r = sv && sv->on ? reclaimable(vm, by_target) : 0;
			if (r > most) {
				most = r;
				best = vm;
			}
		}
		if (best) {
			u64 n = MIN(MIN(want - fa->nfree, (u64)RECLAIM_BATCH), most);
			u64 got = swap_out_pages(&swap, &best->p2m, n, NULL, NULL);
			if (got) {
				reclaimed_now += got;
				return;
			}
		}
	}
}

/* Runs the VMs; when all have ended, shuts down (on_idle=shutdown) or keeps the shell
 * going, where `vm reset` can start a VM again. */
void overcommit_setup(struct shell *sh)
{
	shell = sh;
	machine_frames.guest_reserve = mem_reserve_mib << (20 - PAGE_SHIFT);
	setup_sharing();
	setup_wss();
	setup_swap();
	mem_drive_setup(sh, &wss);
}

void overcommit_poll(void)
{
	scan_for_sharing();
	sample_working_sets();
	reclaim_now();
	swap_under_pressure();
	mem_drive_poll();
	struct memlog_src src = {vm_sharing, vm_wss, vm_swap, share_cycles};
	memlog_poll(&src);
}
