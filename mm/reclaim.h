/* The memory driver's decisions, pure (ESX's free-memory states, Waldspurger OSDI 2002 s. 6):
 * from the machine's free frames it picks a state (high, soft, hard, low) and, per VM, the
 * balloon size to ask and the pages to swap so that each VM moves toward its target. The
 * glue (hypervisor/mem_drive.c) fills the inputs and carries the outputs out. */
#ifndef KEEL_RECLAIM_H
#define KEEL_RECLAIM_H

#include "../hypervisor/types.h"

#define RECLAIM_MIB_PAGES 256ULL /* balloon sizes move in whole MiB (the shell's unit) */

enum reclaim_state {
	RECLAIM_HIGH, /* plenty free: nothing taken; the driver's balloons deflate */
	RECLAIM_SOFT, /* balloon VMs above their target */
	RECLAIM_HARD, /* also swap VMs (swap = on) above their target */
	RECLAIM_LOW,  /* swap harder: the whole excess, twice the rate */
	RECLAIM_NSTATES
};

/* Free frames as a percentage of guest memory: below soft_pct soft, below hard_pct hard,
 * below low_pct low (soft_pct > hard_pct > low_pct > 0; 6, 4, 2 by default). */
struct reclaim_cfg {
	unsigned soft_pct, hard_pct, low_pct;
	u64 stuck_ticks; /* a balloon that has not moved for this long falls back to swap */
};

/* What the driver keeps per VM between steps (zeroed with the VM). */
struct reclaim_track {
	bool manual;	   /* the shell set the balloon (`vm balloon <vm> <MiB>`) */
	bool fallback;	   /* the balloon did not move: the VM is swapped instead */
	bool waiting;	   /* reclaim by balloon is waiting for the guest */
	u64 waiting_since; /* since when (the balloon's last move restarts it) */
	u64 last_actual;   /* the balloon's actual at the last step */
	u64 by_balloon;	   /* pages the balloon took while the driver owned it (total) */
	u64 by_swap;	   /* pages the driver sent to swap (total; the glue counts) */
	u64 returned;	   /* pages the balloon gave back while the driver owned it */
	u64 fallbacks;	   /* times the balloon was declared stuck */
	u64 balloon_asks;  /* balloon sizes the driver set */
};

/* One VM as the driver sees it. Inputs in pages. */
struct reclaim_vm {
	bool present;	    /* holds memory and runs; false: skipped */
	u64 mem_pages;	    /* the VM's memory */
	u64 held;	    /* frames it holds (p2m.nr_ram) */
	u64 target;	    /* the policy's target (0: none yet: nothing taken) */
	u64 min;	    /* its reservation (mem_min) */
	bool balloon;	    /* has a balloon device */
	bool driver_up;	    /* the guest's balloon driver is live */
	u64 balloon_size;   /* pages the balloon is asked to hold now */
	u64 balloon_actual; /* pages the guest says it holds */
	u64 balloon_max;    /* most pages the device allows (16 MiB stay with the guest) */
	bool swap_on;	    /* swap = on and the swap is set up */
	struct reclaim_track *t;
	/* outputs */
	bool set_balloon; /* ask the balloon for ask_pages */
	u64 ask_pages;
	u64 swap_pages; /* pages to swap out now */
};

/* The driver's totals over all VMs (the shell's `mem`). */
struct reclaim_totals {
	enum reclaim_state state;      /* at the last step */
	u64 steps, cycles;	       /* steps taken, hypervisor cycles they cost */
	u64 in_state[RECLAIM_NSTATES]; /* steps spent in each state */
	u64 by_balloon, returned;      /* pages balloons took / gave back under the driver */
	u64 by_swap;		       /* pages it sent to swap */
	u64 fallbacks, balloon_asks;   /* balloons declared stuck; balloon sizes set */
	u64 refused;		       /* balloon sizes the device refused */
};

enum reclaim_state reclaim_state_of(const struct reclaim_cfg *c, u64 free, u64 guest_pages);
/* One step at time `now`: the state, and each VM's outputs. swap_budget: pages the swap may
 * take this step (doubled in the low state), spread over the VMs furthest above target. */
enum reclaim_state reclaim_decide(const struct reclaim_cfg *c, struct reclaim_vm *v, unsigned n,
				  u64 free, u64 guest_pages, u64 now, u64 swap_budget);
/* "6,4,2": three percentages, falling, above 0, at most 50. NULL or why not. */
const char *reclaim_parse_states(const char *s, struct reclaim_cfg *c);
/* The VM's end-report line (what the driver took from it, given back, stuck balloons) in
 * buf; false, and buf empty, when the driver never acted on it. */
bool reclaim_report(const struct reclaim_track *t, char *buf, size_t size);
const char *reclaim_state_name(enum reclaim_state s);

#endif
