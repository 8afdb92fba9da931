/* Split virtqueues (virtio 1.x, section 2.6): the descriptor table, available and used rings
 * in guest memory, reached only through the guest-memory accessor. Every index, length and
 * address the guest wrote is hostile: a chain that loops, leaves its table, overflows the
 * byte cap or names memory outside RAM yields VIRTQ_BROKEN, never a wild access. */
#ifndef KEEL_VIRTQUEUE_H
#define KEEL_VIRTQUEUE_H

#include "state.h"
#include "../mm/gmem.h"

#define VIRTQ_MAX_SIZE	    256		   /* the largest queue a device offers */
#define VIRTQ_MAX_SEGS	    VIRTQ_MAX_SIZE /* descriptors in one chain, indirect ones too */
#define VIRTQ_MAX_CHAIN_LEN (8u << 20)	   /* bytes in one chain, readable + writable */

/* Descriptor flags and ring flags (little-endian in guest memory, as x86 is). */
#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_DESC_F_INDIRECT	   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* One queue's state as the transport's registers set it, and the device's progress. */
struct virtq {
	u16 size;	       /* entries (a power of two, at most VIRTQ_MAX_SIZE) */
	bool ready;	       /* queue_enable: the device may use it */
	u16 msix_vector;       /* 0xffff: none */
	u64 desc, avail, used; /* guest-physical addresses of the three parts */
	u16 last_avail;	       /* the next available entry the device takes */
	u16 used_idx;	       /* the next used entry the device writes */
	u32 max_chain;	       /* bytes one chain may hold, 0: VIRTQ_MAX_CHAIN_LEN (not saved) */
};

/* A buffer piece of a chain: guest memory the device reads (driver -> device) or writes. */
struct virtq_seg {
	u64 gpa;
	u32 len;
	bool write;
};

struct virtq_chain {
	u16 head; /* the id given back in the used ring */
	unsigned nseg;
	u32 readable, writable; /* total bytes of each kind */
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
};

enum virtq_result {
	VIRTQ_EMPTY,  /* nothing available */
	VIRTQ_CHAIN,  /* a chain was taken */
	VIRTQ_BROKEN, /* the guest broke the queue: the device needs a reset */
};

/* Whether the queue's rings are aligned and lie in the VM's RAM (checked at enable). NULL or
 * why not. */
const char *virtq_check(const struct virtq *q, struct p2m *p);

/* Takes the next available chain into *c. On VIRTQ_BROKEN, *why says what was wrong. */
enum virtq_result virtq_pop(struct virtq *q, struct p2m *p, struct virtq_chain *c,
			    const char **why);
/* Returns chain `head` with `written` bytes written by the device; false when the used ring
 * cannot be written (the queue is broken). */
bool virtq_push(struct virtq *q, struct p2m *p, u16 head, u32 written);
/* Whether the driver wants an interrupt for what was just pushed (no EVENT_IDX: its
 * VIRTQ_AVAIL_F_NO_INTERRUPT flag). */
bool virtq_wants_interrupt(const struct virtq *q, struct p2m *p);

/* What a device does with one chain virtq_drain took: returns the bytes it wrote into the
 * chain (the used ring's length), or VIRTQ_REFUSE with *why set when the chain breaks the
 * device's rules (the queue is then broken and the chain not given back). */
#define VIRTQ_REFUSE 0xffffffffu
typedef u32 virtq_handler(void *ctx, const struct virtq_chain *c, const char **why);

struct virtq_drained {
	unsigned pushed;    /* chains given back: the driver may want an interrupt */
	const char *broken; /* why the queue broke (NULL: it did not) */
};

/* Takes up to `max` available chains into *c, one at a time, hands each to fn and gives it
 * back; stops at an empty queue or at the first broken chain, refusal or unwritable used
 * ring. */
struct virtq_drained virtq_drain(struct virtq *q, struct p2m *p, struct virtq_chain *c,
				 unsigned max, virtq_handler *fn, void *ctx);

/* Copies the chain's readable bytes [off, off + len) into buf, or buf into its writable
 * bytes [off, off + len) (offsets count the bytes of that kind only). False when the range
 * is beyond the chain or guest memory refused it; a write may then have written part. */
bool virtq_chain_read(const struct virtq_chain *c, struct p2m *p, u32 off, void *buf, u32 len);
bool virtq_chain_write(const struct virtq_chain *c, struct p2m *p, u32 off, const void *buf,
		       u32 len);

/* Back to an unconfigured queue with `max` entries offered. */
void virtq_reset(struct virtq *q, u16 max);
void virtq_save(const struct virtq *q, struct state_writer *w);
/* Refuses a size that is not a power of two up to `max`, or a vector out of `nvec`. */
bool virtq_load(struct virtq *q, struct state_reader *r, u16 max, unsigned nvec);

#endif
