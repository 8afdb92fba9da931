/* The memory driver's decisions (reclaim.h): the free-memory state, then per VM the balloon
 * first, swap as the last resort, never below a VM's reservation. Pure arithmetic over the
 * table the glue fills; nothing here touches a VM. */
#include "reclaim.h"
#include "../hypervisor/lib.h"

static const char *const state_names[RECLAIM_NSTATES] = {"high", "soft", "hard", "low"};

const char *reclaim_state_name(enum reclaim_state s)
{
	return (unsigned)s < RECLAIM_NSTATES ? state_names[s] : "?";
}

enum reclaim_state reclaim_state_of(const struct reclaim_cfg *c, u64 free, u64 guest_pages)
{
	if (!guest_pages)
		return RECLAIM_HIGH; /* no memory for guests: nothing to take from anyone */
	/* free / guest < pct / 100  <=>  free * 100 < pct * guest (128 bits: no overflow) */
	unsigned __int128 f = (unsigned __int128)free * 100;
	if (f >= (unsigned __int128)c->soft_pct * guest_pages)
		return RECLAIM_HIGH;
	if (f >= (unsigned __int128)c->hard_pct * guest_pages)
		return RECLAIM_SOFT;
	if (f >= (unsigned __int128)c->low_pct * guest_pages)
		return RECLAIM_HARD;
	return RECLAIM_LOW;
}

/* The pages the VM should keep: its target, never below its reservation, at most its memory. */
static u64 floor_of(const struct reclaim_vm *v)
{
	return MIN(MAX(v->target, v->min), v->mem_pages);
}

/* The balloon's movement since the last step: counted, and it restarts the stuck clock. */
static void track_balloon(struct reclaim_vm *v, u64 now)
{
	struct reclaim_track *t = v->t;
	u64 a = MIN(v->balloon_actual, v->mem_pages);
	/* only a balloon the driver sized counts as its work */
	if (a != t->last_actual && !t->manual && t->balloon_asks) {
		if (a > t->last_actual)
			t->by_balloon += a - t->last_actual;
		else
			t->returned += t->last_actual - a;
	}
	if (a > t->last_actual) {
		t->waiting_since = now; /* it moves: not stuck */
		t->fallback = false;
	}
	t->last_actual = a;
}

static void ask_balloon(struct reclaim_vm *v, u64 ask)
{
	v->set_balloon = true;
	v->ask_pages = ask;
	v->t->balloon_asks++;
}

/* Soft state and worse: the balloon takes what the VM holds above its floor (less what it
 * was already asked and has not yet taken), within the device's limit and the reservation. */
static void inflate(struct reclaim_vm *v, u64 now, u64 stuck_ticks)
{
	struct reclaim_track *t = v->t;
	u64 fl = floor_of(v), excess = v->held > fl ? v->held - fl : 0;
	u64 size = MIN(v->balloon_size, v->mem_pages), actual = MIN(v->balloon_actual, size);
	if (!excess || t->manual || !v->balloon || t->fallback) {
		t->waiting = false;
		return;
	}
	if (v->driver_up) {
		u64 pending = size - actual;
		u64 ask = size + (excess > pending ? excess - pending : 0);
		u64 most = MIN(v->balloon_max, v->mem_pages - MIN(v->min, v->mem_pages));
		ask = MIN(ask, most) / RECLAIM_MIB_PAGES * RECLAIM_MIB_PAGES;
		if (ask > size)
			ask_balloon(v, ask);
		else if (actual >= size) {
			t->waiting = false; /* it took all it was asked: nothing to wait for */
			return;
		}
	}
	if (!t->waiting) {
		t->waiting = true;
		t->waiting_since = now;
	} else if (now - t->waiting_since >= stuck_ticks) {
		t->waiting = false;
		t->fallback = true;
		t->fallbacks++;
	}
}

/* High state: a balloon the driver owns gives back what keeps its VM below its floor. */
static void deflate(struct reclaim_vm *v)
{
	struct reclaim_track *t = v->t;
	t->waiting = false;
	t->fallback = false;
	u64 size = MIN(v->balloon_size, v->mem_pages);
	if (t->manual || !v->balloon || !v->driver_up || !size)
		return;
	/* no target yet: the whole balloon goes back */
	u64 fl = v->target ? floor_of(v) : v->mem_pages, back = fl > v->held ? fl - v->held : 0;
	u64 ask = size > back ? size - back : 0;
	ask = (ask + RECLAIM_MIB_PAGES - 1) / RECLAIM_MIB_PAGES * RECLAIM_MIB_PAGES;
	if (ask < size)
		ask_balloon(v, ask);
}

/* Pages the swap should take from the VM in this state. */
static u64 swap_want(const struct reclaim_vm *v, enum reclaim_state st)
{
	const struct reclaim_track *t = v->t;
	u64 fl = floor_of(v), excess = v->held > fl ? v->held - fl : 0;
	if (!v->swap_on || !excess || st == RECLAIM_HIGH)
		return 0;
	bool ballooning = v->balloon && v->driver_up && !t->manual && !t->fallback;
	if (st == RECLAIM_SOFT)
		return t->fallback ? excess : 0;
	if (st == RECLAIM_LOW || !ballooning)
		return excess;
	/* hard: what the balloon was asked and has not yet taken is left to it */
	u64 size = MIN(v->set_balloon ? v->ask_pages : v->balloon_size, v->mem_pages);
	u64 pending = size - MIN(v->balloon_actual, size);
	return excess > pending ? excess - pending : 0;
}

enum reclaim_state reclaim_decide(const struct reclaim_cfg *c, struct reclaim_vm *v, unsigned n,
				  u64 free, u64 guest_pages, u64 now, u64 swap_budget)
{
	enum reclaim_state st = reclaim_state_of(c, free, guest_pages);
	for (unsigned i = 0; i < n; i++) {
		v[i].set_balloon = false;
		v[i].ask_pages = v[i].swap_pages = 0;
		if (!v[i].present || !v[i].t || !v[i].mem_pages)
			continue;
		track_balloon(&v[i], now);
		if (st == RECLAIM_HIGH)
			deflate(&v[i]);
		else if (v[i].target) /* no target yet: nothing to drive toward */
			inflate(&v[i], now, c->stuck_ticks);
	}
	if (st == RECLAIM_HIGH)
		return st;
	/* the swap's budget goes to the VMs furthest above their floor first */
	u64 budget = st == RECLAIM_LOW ? swap_budget * 2 : swap_budget;
	static u64 want[256];
	unsigned m = MIN(n, 256u);
	for (unsigned i = 0; i < m; i++)
		want[i] = v[i].present && v[i].t && v[i].mem_pages && v[i].target
			      ? swap_want(&v[i], st)
			      : 0;
	while (budget) {
		unsigned best = m;
		for (unsigned i = 0; i < m; i++)
			if (want[i] && (best == m || want[i] > want[best]))
				best = i;
		if (best == m)
			break;
		u64 give = MIN(want[best], budget);
		v[best].swap_pages = give;
		want[best] = 0;
		budget -= give;
	}
	return st;
}

/* one percentage of "a,b,c", up to the comma or the end */
static const char *pct(const char *s, unsigned *out)
{
	u64 v = 0;
	unsigned digits = 0;
	for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
		v = v * 10 + (u64)(*s - '0');
	if (!digits || (*s && *s != ','))
		return NULL;
	*out = (unsigned)v;
	return s;
}

const char *reclaim_parse_states(const char *s, struct reclaim_cfg *c)
{
	unsigned p[3];
	for (int i = 0; i < 3; i++) {
		s = s ? pct(s, &p[i]) : NULL;
		if (!s || (i < 2 && *s++ != ','))
			return "not three percentages soft,hard,low (e.g. 6,4,2)";
	}
	if (*s)
		return "not three percentages soft,hard,low (e.g. 6,4,2)";
	if (!(p[0] > p[1] && p[1] > p[2] && p[2] > 0 && p[0] <= 50))
		return "the percentages must fall (soft > hard > low > 0) and soft be at most 50";
	c->soft_pct = p[0];
	c->hard_pct = p[1];
	c->low_pct = p[2];
	return NULL;
}

bool reclaim_report(const struct reclaim_track *t, char *buf, size_t size)
{
	if (size)
		buf[0] = 0;
	if (!t->by_balloon && !t->by_swap && !t->returned && !t->fallbacks)
		return false;
	ksnprintf(buf, size,
		  "memory driver: %llu pages by balloon, %llu by swap, %llu given back, %llu "
		  "balloon fallbacks%s",
		  (unsigned long long)t->by_balloon, (unsigned long long)t->by_swap,
		  (unsigned long long)t->returned, (unsigned long long)t->fallbacks,
		  t->manual ? " (balloon manual)" : "");
	return true;
}
