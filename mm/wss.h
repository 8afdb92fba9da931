/* Working-set sampling (ESX's statistical estimate): each period a random sample of each
 * VM's RAM gfns is watched, by invalidation (the mappings withheld, the faults counted) or
 * by EPT accessed flags (cleared, read at the period's end); touched / sampled is the active
 * fraction of that period, smoothed by a slow and a fast moving average whose larger is the
 * estimate. Memory policy (mempolicy.h), balloon and swap read the estimates from here. */
#ifndef KEEL_WSS_H
#define KEEL_WSS_H

#include "p2m.h"

#define WSS_MAX_VMS    64
#define WSS_MAX_SAMPLE 256    /* gfns watched per VM and period, at most */
#define WSS_IDLE_RING  256    /* gfns last seen idle, per VM: swap's victim hints */
#define WSS_ONE	       65536u /* fractions are parts of WSS_ONE */
#define WSS_FAST_SHIFT 1      /* fast average: half the old, half the new */
#define WSS_SLOW_SHIFT 4      /* slow average: 15/16 the old, 1/16 the new */

enum wss_method {
	WSS_OFF,	/* not sampled: no estimate (policy takes the VM as all active) */
	WSS_INVALIDATE, /* mappings withheld, faults counted: EPT and shadow paging */
	WSS_ACCESSED,	/* EPT accessed flags: EPT with A/D only (else invalidation) */
};

struct wss_vm {
	struct p2m *p2m;	/* NULL: the slot is free */
	u64 nr_gfn;		/* gfns [0, nr_gfn) are sampled (RAM and shared ones) */
	enum wss_method want;	/* the VM's policy */
	enum wss_method method; /* what the running period uses */
	u64 rng;
	u64 sample[WSS_MAX_SAMPLE];
	unsigned nsample;
	u64 faults_at; /* p2m->sample_faults when the period started */
	/* estimates, parts of WSS_ONE; valid once `periods` is nonzero */
	u32 last, fast, slow;
	u64 periods, sampled, touched; /* over all periods: touched / sampled is the mean */
	u64 gone;		       /* samples the P2M changed under (shared, ballooned...) */
	u64 discarded;		       /* periods dropped: the VM left EPT under A-flag sampling */
	u64 fallbacks;		       /* periods that wanted A flags and used invalidation */
	u64 faults;		       /* sampling faults: exits invalidation cost the guest */
	u64 cycles;		       /* hypervisor cycles starting and ending periods */
	u64 idle[WSS_IDLE_RING];       /* gfns found untouched, newest at idle_next - 1 */
	unsigned idle_next, idle_n;
};

struct wss {
	struct wss_vm vms[WSS_MAX_VMS];
	unsigned sample_size; /* gfns per VM and period (WSS_MAX_SAMPLE at most) */
	u64 period;	      /* TSC ticks */
	u64 period_start;
	bool started;
	/* may this VM use EPT accessed flags now (EPT paging, a CPU with EPT A/D)? */
	bool (*ad_ok)(void *ctx, struct p2m *p);
	void *ctx;
	u64 (*clock)(void); /* cycles, for the sampler's own cost; NULL: not measured */
};

void wss_init(struct wss *w, unsigned sample_size, u64 period);
bool wss_add_vm(struct wss *w, struct p2m *p, u64 nr_gfn, enum wss_method m);
/* The VM is going away: its slot is dropped (its P2M is destroyed next: nothing restored). */
void wss_remove_vm(struct wss *w, struct p2m *p);
/* Takes effect at the next period; WSS_OFF keeps the estimate made so far. */
void wss_set_method(struct wss *w, struct p2m *p, enum wss_method m);
/* Ends the period and starts the next when `period` ticks have passed since it started
 * (the first call starts one). Every VM must be out of guest mode (one CPU: between
 * slices), as for share_scan. Returns true when a period ended. */
bool wss_tick(struct wss *w, u64 now);
/* Ends the running period and starts the next now (the shell, tests). */
void wss_period(struct wss *w);
struct wss_vm *wss_vm_of(struct wss *w, const struct p2m *p);

/* ---- what other mechanisms call ---- */
/* The VM's active fraction (parts of WSS_ONE): max of the slow and fast averages. false
 * (and *f = WSS_ONE, all active) when it has no estimate yet or is not sampled. */
bool wss_active_fraction(const struct wss *w, const struct p2m *p, u32 *f);
/* Active pages: the fraction of the frames it holds now (p->nr_ram). */
u64 wss_active_pages(const struct wss *w, const struct p2m *p);
/* Victim hint for swap: gfn was found untouched by a recent sample and not touched since
 * in a later one. Only sampled gfns are known: false says "no evidence", not "active". */
bool wss_page_idle(const struct wss *w, const struct p2m *p, u64 gfn);
/* Up to max gfns found idle, newest first: swap's candidates. */
unsigned wss_idle_gfns(const struct wss *w, const struct p2m *p, u64 *gfns, unsigned max);
const char *wss_method_name(enum wss_method m);

#endif
