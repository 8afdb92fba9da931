/* Hypervisor swap (swap.h): the slot bitmap over the swap partition, swap-out and swap-in of
 * one page through p2m_swap_out/in, the P2M's swap-in hook, and the clock that picks victims.
 * The P2M entry of a swapped gfn names its slot; the slot's record names the page back, so
 * each is checked against the other before anything is read or freed. */
#include "swap.h"
#include "../hypervisor/lib.h"

#define WORDS	 (PAGE_SIZE / 8)
#define OWNER_VM 0xffULL

const char *swap_result_name(enum swap_result r)
{
	switch (r) {
	case SWAP_OK:
		return "ok";
	case SWAP_NO_VM:
		return "the VM is not in the swap";
	case SWAP_OFF:
		return "swap is off for this VM";
	case SWAP_NOT_RAM:
		return "not private RAM";
	case SWAP_FULL:
		return "the swap partition is full";
	case SWAP_IO:
		return "disk I/O error";
	case SWAP_NOMEM:
		return "out of memory";
	case SWAP_CHECKSUM:
		return "checksum mismatch";
	case SWAP_BAD_SLOT:
		return "the P2M names a slot that does not hold this page";
	}
	return "?";
}

u64 swap_hash(const void *page)
{
	const u64 *w = page;
	u64 h = 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < WORDS; i++) {
		h = (h ^ w[i]) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h ^ (h >> 29);
}

static u64 slots_of(u64 sectors)
{
	return sectors / SWAP_SECTORS_PER_PAGE;
}

static u64 bitmap_words(u64 nslots)
{
	return (nslots + 63) / 64;
}

u64 swap_meta_bytes(u64 sectors)
{
	u64 n = slots_of(sectors);
	return PAGE_SIZE + n * sizeof(struct swap_slot) + bitmap_words(n) * 8;
}

const char *swap_init(struct swap *s, const struct blk_backend *disk, void *meta, u64 meta_bytes,
		      u64 (*clock)(void))
{
	memset(s, 0, sizeof(*s));
	u64 n = slots_of(disk->sectors);
	if (!n)
		return "the partition is smaller than one page";
	if (disk->read_only)
		return "the partition is read-only";
	if (meta_bytes < swap_meta_bytes(disk->sectors))
		return "no room for the slot table";
	memset(meta, 0, (size_t)swap_meta_bytes(disk->sectors));
	s->disk = disk;
	s->nslots = n;
	s->bounce = meta;
	s->slots = (struct swap_slot *)((u8 *)meta + PAGE_SIZE);
	s->bitmap = (u64 *)(s->slots + n);
	s->clock = clock;
	return NULL;
}

static u64 now(const struct swap *s)
{
	return s->clock ? s->clock() : 0;
}

struct swap_vm *swap_vm_of(struct swap *s, const struct p2m *p)
{
	for (unsigned i = 0; i < SWAP_MAX_VMS; i++)
		if (s->vms[i].p2m == p)
			return &s->vms[i];
	return NULL;
}

static bool fetch(void *ctx, struct p2m *p, u64 gfn)
{
	return swap_in_gfn(ctx, p, gfn) == SWAP_OK;
}

bool swap_add_vm(struct swap *s, struct p2m *p, u64 nr_gfn, bool on,
		 void (*fail)(void *ctx, const char *why), void *fail_ctx)
{
	struct swap_vm *v = swap_vm_of(s, NULL);
	if (!v || !p || swap_vm_of(s, p))
		return false;
	*v = (struct swap_vm){
	    .p2m = p, .nr_gfn = nr_gfn, .on = on, .fail = fail, .fail_ctx = fail_ctx};
	p2m_set_fetch(p, fetch, s);
	return true;
}

static void slot_free(struct swap *s, u64 slot)
{
	s->bitmap[slot / 64] &= ~(1ULL << (slot % 64));
	s->slots[slot] = (struct swap_slot){0, 0};
	s->nused--;
}

u64 swap_remove_vm(struct swap *s, struct p2m *p)
{
	struct swap_vm *v = p ? swap_vm_of(s, p) : NULL;
	if (!v)
		return 0;
	u64 idx = (u64)(v - s->vms) + 1, freed = 0;
	for (u64 i = 0; i < s->nslots; i++) {
		if ((s->bitmap[i / 64] & (1ULL << (i % 64))) &&
		    (s->slots[i].owner & OWNER_VM) == idx) {
			slot_free(s, i);
			freed++;
		}
	}
	if (p->fetch == fetch)
		p2m_set_fetch(p, NULL, NULL);
	memset(v, 0, sizeof(*v));
	return freed;
}

void swap_set_policy(struct swap *s, struct p2m *p, bool on)
{
	struct swap_vm *v = p ? swap_vm_of(s, p) : NULL;
	if (v)
		v->on = on;
}

/* A free slot, marked in use; false when the partition is full. */
static bool slot_alloc(struct swap *s, u64 *slot)
{
	u64 words = bitmap_words(s->nslots);
	for (u64 k = 0; k < words; k++) {
		u64 w = (s->next / 64 + k) % words;
		if (s->bitmap[w] == ~0ULL)
			continue;
		for (unsigned b = 0; b < 64; b++) {
			u64 i = w * 64 + b;
			if (i < s->nslots && !(s->bitmap[w] & (1ULL << b))) {
				s->bitmap[w] |= 1ULL << b;
				s->nused++;
				s->next = i + 1 < s->nslots ? i + 1 : 0;
				*slot = i;
				return true;
			}
		}
	}
	return false;
}

static u64 lba_of(u64 slot)
{
	return slot * SWAP_SECTORS_PER_PAGE;
}

enum swap_result swap_out_gfn(struct swap *s, struct p2m *p, u64 gfn)
{
	struct swap_vm *v = p ? swap_vm_of(s, p) : NULL;
	u64 mfn, slot, t0 = now(s);
	if (!v)
		return SWAP_NO_VM;
	if (!v->on || !s->disk)
		return SWAP_OFF;
	if (gfn >= v->nr_gfn || p2m_lookup(p, gfn, &mfn) != P2M_RAM)
		return SWAP_NOT_RAM;
	if (!slot_alloc(s, &slot)) {
		s->full++;
		return SWAP_FULL;
	}
	const void *page = phys_to_virt(mfn << PAGE_SHIFT);
	u64 hash = swap_hash(page);
	if (blk_write(s->disk, lba_of(slot), SWAP_SECTORS_PER_PAGE, page) != BLK_OK) {
		slot_free(s, slot);
		v->st.io_errors++;
		return SWAP_IO;
	}
	if (!p2m_swap_out(p, gfn, slot)) {
		slot_free(s, slot);
		return SWAP_NOMEM; /* a P2M table (or a dirty-log frame) could not be had */
	}
	s->slots[slot] = (struct swap_slot){gfn << 8 | (u64)(v - s->vms + 1), hash};
	v->swapped++;
	v->st.out++;
	v->st.cycles_out += now(s) - t0;
	return SWAP_OK;
}

static enum swap_result in_failed(struct swap_vm *v, u64 gfn, enum swap_result r)
{
	char why[128];
	ksnprintf(why, sizeof(why), "swap-in of gfn %llx failed: %s", (unsigned long long)gfn,
		  swap_result_name(r));
	if (v->fail)
		v->fail(v->fail_ctx, why);
	return r;
}

enum swap_result swap_in_gfn(struct swap *s, struct p2m *p, u64 gfn)
{
	struct swap_vm *v = p ? swap_vm_of(s, p) : NULL;
	u64 slot, t0 = now(s);
	if (!v)
		return SWAP_NO_VM;
	if (p2m_lookup(p, gfn, &slot) != P2M_SWAPPED)
		return SWAP_NOT_RAM;
	u64 idx = (u64)(v - s->vms) + 1;
	/* the P2M and the slot must name each other: anything else is Keel's bug, and reading
	 * that slot could hand this VM another's page */
	if (!s->disk || slot >= s->nslots || !(s->bitmap[slot / 64] & (1ULL << (slot % 64))) ||
	    s->slots[slot].owner != (gfn << 8 | idx))
		return in_failed(v, gfn, SWAP_BAD_SLOT);
	if (p->in_fault && p->fa->nfree <= p->fa->guest_reserve) {
		/* the guest's own access, free frames at the reserve: it waits (p2m_fault), the
		 * page stays out until the reclaimer has made room */
		v->st.in_waits++;
		return SWAP_NOMEM;
	}
	if (blk_read(s->disk, lba_of(slot), SWAP_SECTORS_PER_PAGE, s->bounce) != BLK_OK) {
		v->st.io_errors++;
		return in_failed(v, gfn, SWAP_IO);
	}
	if (swap_hash(s->bounce) != s->slots[slot].hash) {
		v->st.checksum_failures++;
		return in_failed(v, gfn, SWAP_CHECKSUM);
	}
	if (!p2m_swap_in(p, gfn, s->bounce)) {
		v->st.in_nomem++;
		return in_failed(v, gfn, SWAP_NOMEM);
	}
	slot_free(s, slot);
	v->swapped--;
	v->st.in++;
	v->st.cycles_in += now(s) - t0;
	return SWAP_OK;
}

/* The EPT accessed flag of gfn's leaf, cleared (with a flush asked for) when it was set. */
static bool test_clear_accessed(struct p2m *p, u64 gfn)
{
	if (!p->ept_root)
		return false;
	u64 *e = pt_entry(&pt_fmt_ept, &p->ops, p->ept_root, gfn << PAGE_SHIFT, 0, false);
	if (!e || !(*e & EPT_A))
		return false;
	*e &= ~EPT_A;
	p->ept_stale = true; /* a cached translation would not set it again */
	return true;
}

bool swap_clock_victim(void *ctx, struct swap *s, struct p2m *p, u64 *gfn)
{
	(void)ctx;
	struct swap_vm *v = swap_vm_of(s, p);
	if (!v || !v->nr_gfn)
		return false;
	/* two turns: one to clear accessed flags, one to find a page that stayed unused */
	for (u64 n = 0; n < 2 * v->nr_gfn; n++) {
		u64 g = v->hand;
		v->hand = v->hand + 1 < v->nr_gfn ? v->hand + 1 : 0;
		if (p2m_lookup(p, g, NULL) != P2M_RAM || test_clear_accessed(p, g))
			continue;
		*gfn = g;
		return true;
	}
	return false;
}

u64 swap_out_pages(struct swap *s, struct p2m *p, u64 count, swap_victim_fn victim, void *ctx)
{
	struct swap_vm *v = swap_vm_of(s, p);
	u64 done = 0;
	if (!v || !p)
		return 0;
	if (!victim)
		victim = swap_clock_victim;
	for (u64 tries = 0; done < count && tries < 2 * v->nr_gfn; tries++) {
		u64 gfn;
		if (!victim(ctx, s, p, &gfn))
			break;
		enum swap_result r = swap_out_gfn(s, p, gfn);
		if (r == SWAP_OK)
			done++;
		else if (r != SWAP_NOT_RAM)
			break; /* full, off, disk failing, no memory: the next page fares no better
				*/
	}
	return done;
}
