/* A VM's memory for host tests: a frames arena in heap memory and one or two P2Ms on it,
 * plus a change hook that records what it was told. Used by the guest-memory, P2M-type,
 * dirty-log and shadow-coherence tests. */
#ifndef KEEL_TEST_P2M_ENV_H
#define KEEL_TEST_P2M_ENV_H

#include "test.h"
#include "../../mm/gmem.h"

#define ENV_ARENA (8ULL << 20)
#define ENV_OWNER FRAME_VM(1)
#define ENV_OTHER FRAME_VM(2)

struct hook_log {
	unsigned calls, unmaps, protects;
	u64 last_mfn;
	bool last_unmapped;
};

struct env {
	struct frames fa;
	struct p2m p, q; /* q: a second VM, initialised by env_init2 */
	u64 free0;	 /* free frames before the P2Ms */
	struct hook_log hook;
};

static inline void env_hook(void *ctx, u64 mfn, bool unmapped)
{
	struct hook_log *h = ctx;
	h->calls++;
	if (unmapped)
		h->unmaps++;
	else
		h->protects++;
	h->last_mfn = mfn;
	h->last_unmapped = unmapped;
}

static inline void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	u8 *m = test_alloc_aligned(PAGE_SIZE, ENV_ARENA);
	struct mem_region r = {virt_to_phys(m), ENV_ARENA, MEM_USABLE};
	REQUIRE(frames_init(&e->fa, &r, 1, NULL, 0, UINT64_MAX) == NULL);
	e->free0 = e->fa.nfree;
	REQUIRE(p2m_init(&e->p, &e->fa, ENV_OWNER) == NULL);
	p2m_set_hook(&e->p, env_hook, &e->hook);
}

static inline void env_init2(struct env *e)
{
	env_init(e);
	REQUIRE(p2m_init(&e->q, &e->fa, ENV_OTHER) == NULL);
}

/* The EPT leaf of gpa, 0 if none. */
static inline u64 env_ept(struct p2m *p, u64 gpa)
{
	struct pt_walk w;
	return pt_walk(&pt_fmt_ept, &p->ops, p->ept_root, gpa, &w) ? w.entry : 0;
}

static inline u8 *env_host(struct p2m *p, u64 gfn)
{
	u64 mfn;
	REQUIRE(p2m_type_has_frame(p2m_lookup(p, gfn, &mfn)));
	return phys_to_virt(mfn << PAGE_SHIFT);
}

static inline u64 env_mfn(struct p2m *p, u64 gfn)
{
	u64 mfn = 0;
	p2m_lookup(p, gfn, &mfn);
	return mfn;
}

#endif
