/* Content-based page sharing (share.h): the scanner, the candidate table and the zero page.
 * Nothing here trusts a page to stay as it was: an entry is checked against the P2M (and a
 * hint's contents against its hash) each time it is used, and pages are compared whole
 * before p2m_share backs one with the other's frame. */
#include "share.h"
#include "../hypervisor/lib.h"

#define WORDS (PAGE_SIZE / 8)

static const u64 *page_at(u64 mfn)
{
	return phys_to_virt(mfn << PAGE_SHIFT);
}

u64 share_hash(const void *page)
{
	const u64 *w = page;
	u64 h = 0xcbf29ce484222325ULL;
	for (unsigned i = 0; i < WORDS; i++) {
		h ^= w[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

static bool is_zero(const u64 *w)
{
	for (unsigned i = 0; i < WORDS; i++)
		if (w[i])
			return false;
	return true;
}

static u64 gcd(u64 a, u64 b)
{
	while (b) {
		u64 t = a % b;
		a = b;
		b = t;
	}
	return a;
}

void share_init(struct share *s, struct share_entry *table, u64 nentries)
{
	memset(s, 0, sizeof(*s));
	u64 n = SHARE_WAYS;
	while (n * 2 <= nentries)
		n *= 2;
	s->table = table;
	s->hash = share_hash;
	s->nbuckets = nentries >= SHARE_WAYS ? n / SHARE_WAYS : 0;
	memset(table, 0, (size_t)(s->nbuckets * SHARE_WAYS) * sizeof(*table));
}

struct share_vm *share_vm_of(struct share *s, const struct p2m *p)
{
	for (unsigned i = 0; i < SHARE_MAX_VMS; i++)
		if (s->vms[i].p2m == p)
			return &s->vms[i];
	return NULL;
}

bool share_add_vm(struct share *s, struct p2m *p, u64 nr_gfn, bool on)
{
	struct share_vm *v = share_vm_of(s, NULL);
	if (!v || !p || share_vm_of(s, p))
		return false;
	/* a stride near the golden section of the VM's size, prime to it: one pass visits
	 * every gfn once, spread over the whole memory rather than in address order */
	u64 step = nr_gfn > 2 ? nr_gfn * 618 / 1000 | 1 : 1;
	while (nr_gfn && gcd(step, nr_gfn) != 1)
		step += 2;
	*v = (struct share_vm){.p2m = p, .nr_gfn = nr_gfn, .step = step, .on = on};
	return true;
}

static void drop_entries_of(struct share *s, u8 idx)
{
	for (u64 i = 0; i < s->nbuckets * SHARE_WAYS; i++)
		if (s->table[i].vm == idx)
			s->table[i].vm = 0;
	if (s->zero.vm == idx)
		s->zero.vm = 0;
}

void share_remove_vm(struct share *s, struct p2m *p)
{
	struct share_vm *v = share_vm_of(s, p);
	if (!v || !p)
		return;
	drop_entries_of(s, (u8)(v - s->vms + 1));
	memset(v, 0, sizeof(*v));
}

void share_set_policy(struct share *s, struct p2m *p, bool on)
{
	struct share_vm *v = share_vm_of(s, p);
	if (v && p)
		v->on = on;
}

static struct share_vm *vm_of_entry(struct share *s, const struct share_entry *e)
{
	if (!e->vm || e->vm > SHARE_MAX_VMS)
		return NULL;
	struct share_vm *v = &s->vms[e->vm - 1];
	return v->p2m && v->on ? v : NULL;
}

/* Is the entry still what it says: a shared frame still mapped there, or a hint whose page
 * still hashes the same (zero: still zero)? *mfn is the frame behind it. */
static bool entry_holds(struct share *s, struct share_entry *e, bool zero, u64 *mfn)
{
	struct share_vm *a = vm_of_entry(s, e);
	if (!a)
		return false;
	enum p2m_type t = p2m_lookup(a->p2m, e->gfn, mfn);
	if (e->is_shared)
		return t == P2M_SHARED && *mfn == e->mfn;
	if (t != P2M_RAM)
		return false;
	bool same = zero ? is_zero(page_at(*mfn)) : s->hash(page_at(*mfn)) == e->hash;
	if (!same)
		s->st.hint_stale++;
	return same;
}

static void make_hint(struct share *s, struct share_entry *e, u8 idx, u64 gfn, u64 hash)
{
	*e = (struct share_entry){.hash = hash, .gfn = gfn, .vm = idx, .age = s->clock};
}

/* gfn of VM idx (frame mfn) equals the page of entry e (frame ma), compared whole: share. */
static bool join(struct share *s, struct share_entry *e, u8 idx, u64 gfn, u64 ma, bool zero)
{
	struct share_vm *a = &s->vms[e->vm - 1], *b = &s->vms[idx - 1];
	if (!p2m_share(a->p2m, e->gfn, b->p2m, gfn)) {
		/* a full reference count, or no table frame: this page starts afresh */
		s->st.share_failed++;
		return false;
	}
	e->is_shared = true;
	e->mfn = ma;
	e->age = s->clock;
	s->st.shared++;
	b->shared++;
	if (zero) {
		s->st.zero_shared++;
		b->zero_shared++;
	} else if (e->vm != idx) {
		s->st.cross_shared++;
		b->cross_shared++;
	}
	return true;
}

static void scan_zero(struct share *s, u8 idx, u64 gfn)
{
	struct share_entry *z = &s->zero;
	u64 ma;
	if (z->vm && z->vm == idx && z->gfn == gfn)
		return;
	if (entry_holds(s, z, true, &ma) && join(s, z, idx, gfn, ma, true))
		return;
	make_hint(s, z, idx, gfn, 0);
}

/* Which way of a bucket a new hint takes: an empty one, else the oldest hint, else the
 * oldest shared entry (its frame stays shared; it only stops being found). */
static bool evict_before(const struct share_entry *e, const struct share_entry *than)
{
	unsigned re = e->vm ? (e->is_shared ? 2 : 1) : 0,
		 rt = than->vm ? (than->is_shared ? 2 : 1) : 0;
	return re != rt ? re < rt : e->age < than->age;
}

static void scan_page(struct share *s, u8 idx, u64 gfn, u64 mfn)
{
	const u64 *page = page_at(mfn);
	if (is_zero(page)) {
		scan_zero(s, idx, gfn);
		return;
	}
	u64 h = s->hash(page);
	s->st.hashed++;
	struct share_entry *b = &s->table[(h & (s->nbuckets - 1)) * SHARE_WAYS], *victim = NULL;
	for (unsigned w = 0; w < SHARE_WAYS; w++) {
		struct share_entry *e = &b[w];
		if (!e->vm || e->hash != h) {
			if (!victim || evict_before(e, victim))
				victim = e;
			continue;
		}
		if (e->vm == idx && e->gfn == gfn) {
			e->age = s->clock;
			return;
		}
		u64 ma;
		if (!entry_holds(s, e, false, &ma)) {
			make_hint(s, e, idx, gfn, h);
			return;
		}
		if (memcmp(page_at(ma), page, PAGE_SIZE)) {
			s->st.false_matches++;
			return;
		}
		if (!join(s, e, idx, gfn, ma, false))
			make_hint(s, e, idx, gfn, h);
		return;
	}
	if (victim)
		make_hint(s, victim, idx, gfn, h);
}

/* The next gfn of v's pass; a pass ends when the walk comes back to 0. */
static u64 next_gfn(struct share_vm *v)
{
	u64 g = v->next;
	v->next = (v->next + v->step) % v->nr_gfn;
	if (!v->next)
		v->passes++;
	return g;
}

u64 share_scan(struct share *s, u64 budget)
{
	u64 done = 0, t0 = s->now ? s->now() : 0;
	unsigned idle = 0;
	if (!s->nbuckets)
		return 0;
	while (done < budget && idle < SHARE_MAX_VMS) {
		struct share_vm *v = &s->vms[s->turn];
		u8 idx = (u8)(s->turn + 1);
		s->turn = (s->turn + 1) % SHARE_MAX_VMS;
		if (!v->p2m || !v->on || !v->nr_gfn) {
			idle++;
			continue;
		}
		idle = 0;
		u64 gfn = next_gfn(v), mfn;
		done++;
		s->clock++;
		s->st.scanned++;
		v->scanned++;
		if (p2m_lookup(v->p2m, gfn, &mfn) != P2M_RAM) {
			s->st.skipped++;
			continue;
		}
		scan_page(s, idx, gfn, mfn);
	}
	if (s->now)
		s->st.cycles += s->now() - t0;
	return done;
}
