/* Working-set sampling (wss.h): the periods, the random samples, the two ways of seeing a
 * touch (withheld mappings through p2m_sample_*, EPT accessed flags through p2m_ad_*), the
 * moving averages and the idle hints. Pure: the P2M does the mapping work. */
#include "wss.h"
#include "../hypervisor/lib.h"

/* tries per sample slot before the slot stays empty (holes, MMIO, ballooned gfns) */
#define PICK_TRIES 8

void wss_init(struct wss *w, unsigned sample_size, u64 period)
{
	memset(w, 0, sizeof(*w));
	w->sample_size = MIN(sample_size, (unsigned)WSS_MAX_SAMPLE);
	w->period = period;
}

struct wss_vm *wss_vm_of(struct wss *w, const struct p2m *p)
{
	for (unsigned i = 0; i < WSS_MAX_VMS; i++)
		if (w->vms[i].p2m == p)
			return &w->vms[i];
	return NULL;
}

static const struct wss_vm *vm_of(const struct wss *w, const struct p2m *p)
{
	return p ? wss_vm_of((struct wss *)w, p) : NULL;
}

bool wss_add_vm(struct wss *w, struct p2m *p, u64 nr_gfn, enum wss_method m)
{
	struct wss_vm *v = wss_vm_of(w, NULL);
	if (!v || !p || wss_vm_of(w, p))
		return false;
	*v = (struct wss_vm){.p2m = p, .nr_gfn = nr_gfn, .want = m};
	/* a different sequence per slot; never zero (xorshift) */
	v->rng = 0x9e3779b97f4a7c15ULL ^ ((u64)(v - w->vms + 1) * 0xbf58476d1ce4e5b9ULL);
	return true;
}

void wss_remove_vm(struct wss *w, struct p2m *p)
{
	struct wss_vm *v = p ? wss_vm_of(w, p) : NULL;
	if (v)
		memset(v, 0, sizeof(*v));
}

void wss_set_method(struct wss *w, struct p2m *p, enum wss_method m)
{
	struct wss_vm *v = p ? wss_vm_of(w, p) : NULL;
	if (v)
		v->want = m;
}

const char *wss_method_name(enum wss_method m)
{
	switch (m) {
	case WSS_OFF:
		return "off";
	case WSS_INVALIDATE:
		return "invalidate";
	case WSS_ACCESSED:
		return "accessed";
	}
	return "?";
}

static u64 next_rand(struct wss_vm *v)
{
	u64 x = v->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	v->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static bool in_sample(const struct wss_vm *v, u64 gfn)
{
	for (unsigned i = 0; i < v->nsample; i++)
		if (v->sample[i] == gfn)
			return true;
	return false;
}

/* The idle ring: a gfn found untouched goes in; found touched later, it comes out. */
static void idle_forget(struct wss_vm *v, u64 gfn)
{
	for (unsigned i = 0; i < v->idle_n; i++) {
		unsigned k = (v->idle_next + WSS_IDLE_RING - 1 - i) % WSS_IDLE_RING;
		if (v->idle[k] == gfn)
			v->idle[k] = ~0ULL;
	}
}

static void idle_note(struct wss_vm *v, u64 gfn)
{
	idle_forget(v, gfn);
	v->idle[v->idle_next] = gfn;
	v->idle_next = (v->idle_next + 1) % WSS_IDLE_RING;
	if (v->idle_n < WSS_IDLE_RING)
		v->idle_n++;
}

static bool ad_ok(struct wss *w, struct wss_vm *v)
{
	return w->ad_ok && w->ad_ok(w->ctx, v->p2m);
}

/* Picks and arms the period's sample. */
static void start_period(struct wss *w, struct wss_vm *v)
{
	v->nsample = 0;
	v->method = v->want;
	if (v->method == WSS_ACCESSED && !ad_ok(w, v)) {
		v->method = WSS_INVALIDATE; /* shadow paging, or a CPU without EPT A/D */
		v->fallbacks++;
	}
	p2m_use_ad(v->p2m, v->method == WSS_ACCESSED);
	if (v->method == WSS_OFF || !v->nr_gfn)
		return;
	v->faults_at = v->p2m->sample_faults;
	for (unsigned i = 0; i < w->sample_size; i++) {
		for (unsigned t = 0; t < PICK_TRIES; t++) {
			u64 gfn = next_rand(v) % v->nr_gfn;
			bool armed;
			if (v->method == WSS_INVALIDATE) {
				/* refuses what is not RAM and what this sample holds already */
				armed = p2m_sample_withhold(v->p2m, gfn);
			} else {
				enum p2m_type t = p2m_lookup(v->p2m, gfn, NULL);
				armed = (t == P2M_RAM || t == P2M_SHARED) && !in_sample(v, gfn) &&
					p2m_ad_clear(v->p2m, gfn);
			}
			if (armed) {
				v->sample[v->nsample++] = gfn;
				break;
			}
		}
	}
}

/* Counts the period's touches, gives withheld mappings back, updates the averages. */
static void end_period(struct wss *w, struct wss_vm *v)
{
	u64 touched = 0, valid = 0;
	if (v->method == WSS_OFF || !v->nsample)
		return;
	bool discard = v->method == WSS_ACCESSED && !ad_ok(w, v);
	for (unsigned i = 0; i < v->nsample; i++) {
		u64 gfn = v->sample[i];
		bool hit;
		if (v->method == WSS_INVALIDATE) {
			enum p2m_sample s = p2m_sample_end(v->p2m, gfn);
			if (s == P2M_SAMPLE_GONE) {
				v->gone++;
				continue;
			}
			hit = s == P2M_SAMPLE_TOUCHED;
		} else {
			enum p2m_type t = p2m_lookup(v->p2m, gfn, NULL);
			if (t != P2M_RAM && t != P2M_SHARED) {
				v->gone++;
				continue;
			}
			hit = p2m_ad_test(v->p2m, gfn);
		}
		if (discard)
			continue;
		valid++;
		if (hit) {
			touched++;
			idle_forget(v, gfn);
		} else {
			idle_note(v, gfn);
		}
	}
	v->faults += v->p2m->sample_faults - v->faults_at;
	v->nsample = 0;
	if (discard) {
		v->discarded++;
		return;
	}
	if (!valid)
		return;
	u32 f = (u32)(touched * WSS_ONE / valid);
	if (!v->periods) {
		v->fast = v->slow = f;
	} else {
		/* signed steps: the averages move down as well as up */
		v->fast = (u32)((s64)v->fast + (((s64)f - (s64)v->fast) >> WSS_FAST_SHIFT));
		v->slow = (u32)((s64)v->slow + (((s64)f - (s64)v->slow) >> WSS_SLOW_SHIFT));
	}
	v->last = f;
	v->periods++;
	v->sampled += valid;
	v->touched += touched;
}

void wss_period(struct wss *w)
{
	for (unsigned i = 0; i < WSS_MAX_VMS; i++) {
		struct wss_vm *v = &w->vms[i];
		if (!v->p2m)
			continue;
		u64 t0 = w->clock ? w->clock() : 0;
		end_period(w, v);
		start_period(w, v);
		if (w->clock)
			v->cycles += w->clock() - t0;
	}
}

bool wss_tick(struct wss *w, u64 now)
{
	if (!w->started) {
		w->started = true;
		w->period_start = now;
		wss_period(w); /* nothing to end: the first samples */
		return false;
	}
	if (now - w->period_start < w->period)
		return false;
	w->period_start = now;
	wss_period(w);
	return true;
}

bool wss_active_fraction(const struct wss *w, const struct p2m *p, u32 *f)
{
	const struct wss_vm *v = vm_of(w, p);
	if (!v || !v->periods) {
		*f = WSS_ONE;
		return false;
	}
	*f = MAX(v->fast, v->slow);
	return true;
}

u64 wss_active_pages(const struct wss *w, const struct p2m *p)
{
	u32 f;
	wss_active_fraction(w, p, &f);
	return p ? p->nr_ram * f / WSS_ONE : 0;
}

bool wss_page_idle(const struct wss *w, const struct p2m *p, u64 gfn)
{
	const struct wss_vm *v = vm_of(w, p);
	if (!v || gfn == ~0ULL)
		return false;
	for (unsigned i = 0; i < v->idle_n; i++)
		if (v->idle[i] == gfn)
			return true;
	return false;
}

unsigned wss_idle_gfns(const struct wss *w, const struct p2m *p, u64 *gfns, unsigned max)
{
	const struct wss_vm *v = vm_of(w, p);
	unsigned n = 0;
	for (unsigned i = 0; v && i < v->idle_n && n < max; i++) {
		u64 g = v->idle[(v->idle_next + WSS_IDLE_RING - 1 - i) % WSS_IDLE_RING];
		if (g != ~0ULL)
			gfns[n++] = g;
	}
	return n;
}
