/* The control channel: shell command lines over UDP, authenticated with HMAC-SHA256 under a
 * key from Keel's command line. One request carries one line; the reply carries its output,
 * in numbered parts when it is longer than one datagram. A request id that Keel has run is
 * never run again: a retransmission gets the cached reply, an older id a "stale" answer.
 * The wire format is in docs/network.md and scripts/keelctl. */
#ifndef KEEL_CTL_H
#define KEEL_CTL_H

#include "netstack.h"
#include "sha256.h"

#define CTL_PORT_DEFAULT 7777
#define CTL_KEY_MAX	 64
#define CTL_KEY_MIN	 8
#define CTL_HDR		 34   /* magic .. len, see ctl.c */
#define CTL_PART_MAX	 1024 /* output bytes per reply datagram */
#define CTL_CMD_MAX	 255  /* bytes of a command line */
#define CTL_OUT_MAX	 16384
#define CTL_CACHE	 4 /* replies kept for retransmitted requests */

#define CTL_KIND_REQUEST 1
#define CTL_KIND_REPLY	 2
#define CTL_RAN		 0 /* status: the command ran; rc is its result */
#define CTL_STALE	 1 /* the session or the id is old: the payload says Keel's last id */
#define CTL_REFUSED	 2 /* not run: the payload says why */

/* Runs one command line (modified in place), its output into out (at most size bytes, the
 * length in *out_len); returns the command's result, 0 for success. */
typedef int (*ctl_run_fn)(void *ctx, char *line, char *out, size_t size, size_t *out_len);

struct ctl_reply {
	bool used;
	u64 id;
	s32 rc;
	u8 status;
	u16 len;
	char out[CTL_OUT_MAX];
};

struct ctl_stats {
	u64 requests, ran, resent, stale, bad_mac, malformed, send_failed;
};

struct ctl {
	struct netstack *ns;
	u8 key[CTL_KEY_MAX];
	size_t key_len;
	u16 port;
	ctl_run_fn run;
	void *run_ctx;
	u64 session; /* chosen at the first authentic request, so that it differs each boot */
	u64 last_id; /* the highest id run in this session */
	struct ctl_reply cache[CTL_CACHE];
	unsigned next_slot;
	struct ctl_stats st;
};

/* Opens the channel on UDP `port` of ns. Returns NULL, or why not (a key shorter than
 * CTL_KEY_MIN or longer than CTL_KEY_MAX, the port taken). Commands run inside
 * netstack_input: feed frames where the shell may run. */
const char *ctl_init(struct ctl *c, struct netstack *ns, const char *key, u16 port, ctl_run_fn run,
		     void *run_ctx);
void ctl_print(const struct ctl *c);

#endif
