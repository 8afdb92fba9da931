/* Keel's memory timeline: per VM its frames held, shared, ballooned (inflated, reported,
 * unpopulated), swapped, target and active estimate, and the machine totals with the
 * hypervisor cycles of each mechanism, every mem_log_ms of TSC time (memlog.h). */
#include "memlog.h"
#include "console.h"
#include "keel.h"
#include "lib.h"
#include "vm_create.h"
#include "../mm/share.h"
#include "../mm/swap.h"
#include "../mm/wss.h"

static u64 log_ms;    /* 0: no timeline */
static u64 start_tsc; /* t=0: the first poll */
static u64 next_tsc;

void memlog_parse_cmdline(const char *cmdline)
{
	char v[16];
	if (cmdline_get(cmdline, "mem_log_ms", v, sizeof(v)) &&
	    (!kparse_u64(v, &log_ms) || log_ms > 3600000)) {
		pr_warn("keel: mem_log_ms '%s' is not 0 to 3600000 ms: no timeline\n", v);
		log_ms = 0;
	}
}

static unsigned long long ull(u64 v)
{
	return (unsigned long long)v;
}

/* One VM's line; adds its balloon and swap cycles to the totals. */
static void vm_line(const struct vm *vm, const struct memlog_src *src, u64 t_ms, u64 *bcyc,
		    u64 *scyc)
{
	const struct p2m *p = &vm->p2m;
	u64 zero = 0, swapped = p->count[P2M_SWAPPED];
	if (src->share) {
		const struct share_vm *sv = share_vm_of((struct share *)src->share, p);
		zero = sv ? sv->zero_shared : 0;
	}
	if (src->swap) {
		const struct swap_vm *sw = swap_vm_of((struct swap *)src->swap, p);
		*scyc += sw ? sw->st.cycles_out + sw->st.cycles_in : 0;
	}
	if (vm->cfg && vm->cfg->balloon)
		for (unsigned q = 0; q < VB_NROLES; q++)
			*bcyc += vm->plat.vballoon.cycles[q];
	u32 f = WSS_ONE;
	unsigned active = 100;
	if (src->wss && wss_active_fraction(src->wss, p, &f))
		active = (unsigned)((u64)f * 100 / WSS_ONE);
	kprintf("memlog t=%llu vm=%s held=%llu shared=%llu zero=%llu balloon=%llu reported=%llu "
		"unpop=%llu swapped=%llu target=%llu active=%u\n",
		ull(t_ms), vm->name, ull(p->count[P2M_RAM] + p->count[P2M_ROM]),
		ull(p->count[P2M_SHARED]), ull(zero), ull(p->balloon_count[P2M_BALLOON_INFLATED]),
		ull(p->balloon_count[P2M_BALLOON_REPORTED]),
		ull(p->balloon_count[P2M_BALLOON_UNPOPULATED]), ull(swapped), ull(vm->mem.target),
		active);
}

void memlog_poll(const struct memlog_src *src)
{
	if (!log_ms)
		return;
	u64 now = time_now(), period = log_ms * (tsc_hz / 1000);
	if (!start_tsc) {
		start_tsc = now ? now : 1;
		next_tsc = start_tsc;
	}
	if (now < next_tsc)
		return;
	/* a late poll prints one line set, not one per period missed */
	next_tsc = now - (now - next_tsc) % period + period;
	u64 t_ms = (now - start_tsc) / (tsc_hz / 1000), bcyc = 0, scyc = 0;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		const struct vm *vm = vm_by_index(i);
		if (vm && vm->p2m.root)
			vm_line(vm, src, t_ms, &bcyc, &scyc);
	}
	/* a scan of the owner array (one u16 a frame), once a period: no per-gfn walk */
	kprintf("memlog t=%llu total free=%llu guest=%llu shared_frames=%llu share_cycles=%llu "
		"balloon_cycles=%llu swap_cycles=%llu\n",
		ull(t_ms), ull(machine_frames.nfree),
		ull(machine_frames.ntotal - machine_frames.nboot - machine_frames.nhv),
		ull(frames_count_shared(&machine_frames)), ull(src->share_cycles), ull(bcyc),
		ull(scyc));
}
