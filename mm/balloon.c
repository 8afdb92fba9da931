/* Ballooning's bookkeeping: every page number from the guest is checked against the P2M
 * (its range, its type, whether the balloon holds it) before p2m_balloon_out_as or
 * p2m_balloon_in moves a frame; what is refused is counted, never acted on. */
#include "balloon.h"
#include "../hypervisor/lib.h"

#define PAGES_PER_MIB (1u << (20 - PAGE_SHIFT))

void balloon_init(struct balloon *b, struct p2m *p, u64 nr_gfn)
{
	memset(b, 0, sizeof(*b));
	b->p2m = p;
	b->nr_gfn = nr_gfn;
	p->balloon_refill = true;
}

const char *balloon_set_size(struct balloon *b, u64 mem_mib, u64 want_mib)
{
	if (want_mib > mem_mib)
		return "more than the VM's memory";
	if (want_mib < BALLOON_MIN_MIB && want_mib != mem_mib)
		return "less than the 16 MiB a guest keeps";
	u64 pages = (mem_mib - want_mib) * PAGES_PER_MIB;
	if (pages > 0xffffffffu)
		return "more pages than the protocol counts";
	b->target = (u32)pages;
	return NULL;
}

static bool refuse(struct balloon *b, enum balloon_refusal r)
{
	b->refused[r]++;
	return false;
}

bool balloon_inflate(struct balloon *b, u32 pfn)
{
	u64 tag;
	if (pfn >= b->nr_gfn)
		return refuse(b, BALLOON_BAD_RANGE);
	enum p2m_type t = p2m_lookup(b->p2m, pfn, &tag);
	if (t == P2M_SWAPPED) {
		/* Keel swapped it out before the guest chose it: back in, then given up as any
		 * other page (the slot is freed; reading it back is the simple, safe way) */
		if (!p2m_swap_fetch(b->p2m, pfn))
			return refuse(b, BALLOON_BAD_NOMEM);
		t = p2m_lookup(b->p2m, pfn, &tag);
	}
	if (t == P2M_BALLOONED) {
		if (tag == P2M_BALLOON_INFLATED)
			return refuse(b, BALLOON_BAD_TWICE);
		/* a page it reported free and has not touched since: no frame to take, only the
		 * balloon's mark */
		if (!p2m_set(b->p2m, pfn, P2M_BALLOON_INFLATED, P2M_BALLOONED))
			return refuse(b, BALLOON_BAD_NOMEM);
	} else if (t == P2M_RAM || t == P2M_SHARED) {
		if (!p2m_balloon_out_as(b->p2m, pfn, P2M_BALLOON_INFLATED))
			return refuse(b, BALLOON_BAD_NOMEM);
		b->frames_freed++;
	} else {
		return refuse(b, BALLOON_BAD_TYPE);
	}
	b->inflated++;
	b->in_balloon++;
	return true;
}

bool balloon_deflate(struct balloon *b, u32 pfn)
{
	u64 tag;
	if (pfn >= b->nr_gfn)
		return refuse(b, BALLOON_BAD_RANGE);
	enum p2m_type t = p2m_lookup(b->p2m, pfn, &tag);
	if (t == P2M_BALLOONED && tag == P2M_BALLOON_INFLATED) {
		/* without MUST_TELL_HOST it may already use the page: give it a frame now */
		/* the guest asks for it: like its own faults, only above the frame reserve */
		b->p2m->in_fault = true;
		bool given = p2m_balloon_in(b->p2m, pfn);
		b->p2m->in_fault = false;
		if (!given) {
			/* stays ballooned: its first touch refills it (or stops the VM, no memory)
			 */
			b->refused[BALLOON_BAD_NOMEM]++;
		} else {
			b->frames_given++;
		}
	} else if (t == P2M_RAM || t == P2M_SHARED) {
		/* a page of the balloon that the guest touched: refilled already. Hostile guests
		 * name any RAM page here: only the balloon's count can tell them apart */
		if (!b->in_balloon)
			return refuse(b, BALLOON_BAD_NOT_IN);
	} else if (t == P2M_BALLOONED) {
		return refuse(b, BALLOON_BAD_NOT_IN); /* reported free, never inflated */
	} else {
		return refuse(b, BALLOON_BAD_TYPE);
	}
	if (b->in_balloon <= b->target)
		b->oom_deflated++; /* below what Keel asked for: the guest needed it (OOM) */
	b->deflated++;
	if (b->in_balloon)
		b->in_balloon--;
	return true;
}

u64 balloon_report(struct balloon *b, u64 gpa, u64 len)
{
	u64 first = (gpa + PAGE_SIZE - 1) >> PAGE_SHIFT, dropped = 0;
	if (gpa + len < gpa || len < PAGE_SIZE) {
		b->refused[BALLOON_BAD_RANGE]++;
		return 0;
	}
	u64 end = (gpa + len) >> PAGE_SHIFT; /* whole pages only */
	b->report_ranges++;
	for (u64 g = first; g < end; g++) {
		if (g >= b->nr_gfn) {
			b->refused[BALLOON_BAD_RANGE] += end - g;
			break;
		}
		enum p2m_type t = p2m_lookup(b->p2m, g, NULL);
		if (t == P2M_RAM || t == P2M_SHARED) {
			if (!p2m_balloon_out_as(b->p2m, g, P2M_BALLOON_REPORTED)) {
				b->refused[BALLOON_BAD_NOMEM]++;
				continue;
			}
			dropped++;
		} else if (t == P2M_BALLOONED) {
			b->report_skipped++;
		} else {
			b->refused[BALLOON_BAD_TYPE]++;
		}
	}
	b->reported += dropped;
	b->frames_freed += dropped;
	return dropped;
}

void balloon_stat(struct balloon *b, u16 tag, u64 val)
{
	if (tag >= BALLOON_NSTATS) {
		b->stats_bad_tags++;
		return;
	}
	b->stats[tag] = val;
	b->stats_seen |= 1u << tag;
}

u64 balloon_refused(const struct balloon *b)
{
	u64 n = 0;
	for (unsigned i = 0; i < BALLOON_NREFUSALS; i++)
		n += b->refused[i];
	return n;
}

const char *balloon_refusal_name(enum balloon_refusal r)
{
	switch (r) {
	case BALLOON_BAD_RANGE:
		return "beyond its memory";
	case BALLOON_BAD_TYPE:
		return "not RAM";
	case BALLOON_BAD_TWICE:
		return "already in the balloon";
	case BALLOON_BAD_NOT_IN:
		return "not in the balloon";
	case BALLOON_BAD_NOMEM:
		return "out of memory";
	case BALLOON_NREFUSALS:
		break;
	}
	return "?";
}
