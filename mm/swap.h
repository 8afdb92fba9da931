/* Hypervisor swap: guest pages written to Keel's own swap partition (any block backend) and
 * their frames given back, brought back on the next access. Slots of one page each are
 * handed out from a bitmap; each slot remembers whose page it holds and a 64-bit hash of it,
 * checked on the way back in: a page that does not read back as written is never given to
 * the guest (its VM is stopped with the reason). Victims come from a clock over the VM's
 * gfns, or from whoever passes a victim function (the working-set estimate). */
#ifndef KEEL_SWAP_H
#define KEEL_SWAP_H

#include "p2m.h"
#include "../devices/blk.h"

#define SWAP_MAX_VMS	      16
#define SWAP_SECTORS_PER_PAGE (PAGE_SIZE / BLK_SECTOR_SIZE)

/* What a slot holds: owner 0 when free, else gfn << 8 | (index in swap.vms + 1). */
struct swap_slot {
	u64 owner;
	u64 hash; /* swap_hash of the page as written */
};

struct swap_vm_stats {
	u64 out, in;		   /* pages written out / brought back */
	u64 checksum_failures;	   /* a page read back did not match its hash */
	u64 io_errors;		   /* the disk failed a read or a write */
	u64 in_nomem;		   /* no free frame to bring a page back into */
	u64 in_waits;		   /* guest accesses that waited: free frames at the reserve */
	u64 cycles_out, cycles_in; /* clock ticks spent (hash, disk, P2M), out and in */
	u64 freed_at_end;	   /* slots given back when the VM left */
};

/* one VM as the swap sees it */
struct swap_vm {
	struct p2m *p2m; /* NULL: the entry is free */
	u64 nr_gfn;	 /* gfns [0, nr_gfn) may be swapped */
	u64 hand;	 /* the clock's position */
	bool on;	 /* the VM's policy (swap = on) */
	u64 swapped;	 /* its pages in swap now */
	/* told when one of its pages cannot come back (the VM must stop: its memory is
	 * incomplete); why is one line */
	void (*fail)(void *ctx, const char *why);
	void *fail_ctx;
	struct swap_vm_stats st;
};

struct swap {
	const struct blk_backend *disk; /* NULL: no swap */
	u64 nslots, nused;
	u64 *bitmap; /* bit set: slot in use */
	struct swap_slot *slots;
	u8 *bounce;	    /* one page: a slot read back, checked before the guest sees it */
	u64 next;	    /* where the search for a free slot starts */
	u64 (*clock)(void); /* cycle counter for the costs, NULL: not measured */
	u64 full;	    /* swap-outs refused because every slot was in use */
	struct swap_vm vms[SWAP_MAX_VMS];
};

enum swap_result {
	SWAP_OK,
	SWAP_NO_VM,    /* the P2M has not joined the swap */
	SWAP_OFF,      /* the VM's policy is swap = off, or no swap partition */
	SWAP_NOT_RAM,  /* not private RAM: shared, ROM, MMIO, a hole, ballooned or swapped */
	SWAP_FULL,     /* every slot is in use */
	SWAP_IO,       /* the disk failed */
	SWAP_NOMEM,    /* no frame to swap into (or no P2M table) */
	SWAP_CHECKSUM, /* the page read back is not the page written */
	SWAP_BAD_SLOT, /* the P2M names a slot that is not this page's (hypervisor bug) */
};

const char *swap_result_name(enum swap_result r);

/* Bytes of metadata swap_init needs for a partition of `sectors`: one bounce page, the slot
 * table and the bitmap. */
u64 swap_meta_bytes(u64 sectors);
/* Swap on disk (sectors [0, disk->sectors) are its own), its metadata in `meta` (page
 * aligned, swap_meta_bytes long; the caller owns it). NULL or why not. */
const char *swap_init(struct swap *s, const struct blk_backend *disk, void *meta, u64 meta_bytes,
		      u64 (*clock)(void));
/* A VM joins (its gfns [0, nr_gfn)): its P2M's swap-in (p2m_set_fetch) is registered, so
 * faults and the guest-memory accessor bring its pages back. false when there is no room. */
bool swap_add_vm(struct swap *s, struct p2m *p, u64 nr_gfn, bool on,
		 void (*fail)(void *ctx, const char *why), void *fail_ctx);
/* The VM is going away (before p2m_destroy): every slot it holds is free again. Returns
 * the slots freed. */
u64 swap_remove_vm(struct swap *s, struct p2m *p);
void swap_set_policy(struct swap *s, struct p2m *p, bool on);
struct swap_vm *swap_vm_of(struct swap *s, const struct p2m *p);

/* One page out: gfn must be private RAM (a shared frame is skipped: it already saves
 * memory, and swapping it would first need a private copy); its contents go to a free slot
 * and its frame back to the allocator. Every vCPU of the VM must be out of guest mode (or
 * the page write-protected first): a write between the copy and the unmap would be lost. */
enum swap_result swap_out_gfn(struct swap *s, struct p2m *p, u64 gfn);
/* One page in: read, checked against its hash, mapped in a fresh frame, the slot freed.
 * On a checksum or I/O failure the page stays out, its slot kept, and the VM's fail
 * callback is told. Never swaps anything out (callers rely on that). */
enum swap_result swap_in_gfn(struct swap *s, struct p2m *p, u64 gfn);

/* The next candidate gfn for swap-out, false when there is none. */
typedef bool (*swap_victim_fn)(void *ctx, struct swap *s, struct p2m *p, u64 *gfn);
/* Swaps out up to count pages of the VM, candidates from victim (NULL: swap_clock_victim),
 * stopping early when the swap is full, the disk fails or candidates run out (at most two
 * turns of the VM's gfns are tried). Returns the pages swapped out. */
u64 swap_out_pages(struct swap *s, struct p2m *p, u64 count, swap_victim_fn victim, void *ctx);
/* The clock (second chance): the hand walks the VM's gfns; private RAM whose EPT accessed
 * flag is set (only while the EPT pointer has A/D on) loses the flag and is passed over once;
 * without accessed flags it is a plain round-robin scan. */
bool swap_clock_victim(void *ctx, struct swap *s, struct p2m *p, u64 *gfn);

/* 64-bit hash of one page (not cryptographic: it catches a disk or a driver returning
 * something other than what was written) */
u64 swap_hash(const void *page);

#endif
