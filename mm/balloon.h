/* Ballooning's bookkeeping for one VM, pure: the balloon size Keel asks for, the pages the
 * guest's balloon driver gives back (inflate) and takes again (deflate), the free page
 * ranges it reports, each checked against the P2M before a frame moves. A page number that
 * is not the VM's RAM, or not in the state the request needs, is refused and counted.
 * devices/virtio_balloon.c speaks the virtio protocol and calls this. */
#ifndef KEEL_BALLOON_H
#define KEEL_BALLOON_H

#include "p2m.h"

#define BALLOON_MIN_MIB 16 /* a target never leaves the guest less than this */

/* The guest's statistics (virtio-balloon stats queue tags 0-9). */
enum balloon_stat {
	BALLOON_S_SWAP_IN,  /* pages swapped in */
	BALLOON_S_SWAP_OUT, /* pages swapped out */
	BALLOON_S_MAJFLT,   /* major faults */
	BALLOON_S_MINFLT,   /* minor faults */
	BALLOON_S_MEMFREE,  /* bytes free */
	BALLOON_S_MEMTOT,   /* bytes of memory the guest manages */
	BALLOON_S_AVAIL,    /* bytes available for new work (free + reclaimable) */
	BALLOON_S_CACHES,   /* bytes of page cache it could drop */
	BALLOON_S_HTLB_PGALLOC,
	BALLOON_S_HTLB_PGFAIL,
	BALLOON_NSTATS
};

/* Why a page number was refused. */
enum balloon_refusal {
	BALLOON_BAD_RANGE,  /* beyond the VM's memory */
	BALLOON_BAD_TYPE,   /* not RAM: MMIO, ROM, a hole */
	BALLOON_BAD_TWICE,  /* inflated while already in the balloon (a duplicate) */
	BALLOON_BAD_NOT_IN, /* deflated while not in the balloon */
	BALLOON_BAD_NOMEM,  /* no P2M table, or no frame to give back */
	BALLOON_NREFUSALS
};

struct balloon {
	struct p2m *p2m;
	u64 nr_gfn;	    /* gfns [0, nr_gfn) are the VM's memory */
	u32 target;	    /* pages the guest should hold in its balloon (config num_pages) */
	u32 actual;	    /* pages it says it holds (config actual, written by the guest) */
	u64 in_balloon;	    /* pages inflated and not deflated, as Keel counted them */
	u64 inflated;	    /* pages taken by inflate requests */
	u64 deflated;	    /* pages given back by deflate requests */
	u64 oom_deflated;   /* of them, deflated with the balloon at or below its target */
	u64 frames_freed;   /* frames returned to Keel's pool (inflate and free page reports) */
	u64 frames_given;   /* fresh frames mapped again on deflate */
	u64 reported;	    /* pages reported free whose frames Keel dropped */
	u64 report_ranges;  /* ranges reported */
	u64 report_skipped; /* reported pages without a frame already (reported twice) */
	u64 refused[BALLOON_NREFUSALS];
	u64 stats[BALLOON_NSTATS];
	u32 stats_seen;	    /* bit i: stats[i] was ever reported */
	u64 stats_updates;  /* stats buffers received */
	u64 stats_bad_tags; /* entries with a tag beyond BALLOON_NSTATS (ignored) */
};

/* The VM's balloon over its P2M, its memory gfns [0, nr_gfn): empty, target 0. Turns on the
 * P2M's refill of touched ballooned pages. */
void balloon_init(struct balloon *b, struct p2m *p, u64 nr_gfn);
/* Keel's target: the guest should shrink to `want_mib` of its `mem_mib` (the balloon holds
 * the rest). NULL, or why not (then nothing changed). */
const char *balloon_set_size(struct balloon *b, u64 mem_mib, u64 want_mib);
/* One page number (4 KiB units, as the protocol's) of an inflate or deflate request. False:
 * refused and counted. A deflated page gets a fresh zeroed frame at once. */
bool balloon_inflate(struct balloon *b, u32 pfn);
bool balloon_deflate(struct balloon *b, u32 pfn);
/* A free range the guest reported: each whole page in it that has a frame loses it (the
 * page reads as zero afterwards, and a touch gets a fresh frame). Returns the frames
 * dropped; pages outside the VM's RAM are refused and counted. */
u64 balloon_report(struct balloon *b, u64 gpa, u64 len);
/* One entry of a stats buffer. */
void balloon_stat(struct balloon *b, u16 tag, u64 val);
/* Pages refused for any reason. */
u64 balloon_refused(const struct balloon *b);
const char *balloon_refusal_name(enum balloon_refusal r);

#endif
