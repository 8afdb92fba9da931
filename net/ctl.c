/* The control channel's server side. A datagram, request or reply, is
 *   0 "KCTL" | 4 version 1 | 5 kind | 6 status | 7 0 | 8 session u64 | 16 id u64 |
 *   24 rc s32 | 28 part u16 | 30 nparts u16 | 32 len u16 | 34 payload[len] | HMAC[32]
 * all big-endian, the HMAC-SHA256 under the shared key over everything before it. */
#include "ctl.h"
#include "net_priv.h"
#include "../hypervisor/console.h"
#include "../hypervisor/lib.h"

static const u8 ctl_magic[4] = {'K', 'C', 'T', 'L'};

struct ctl_hdr {
	u8 kind, status;
	u64 session, id;
	s32 rc;
	u16 part, nparts, len;
};

static u64 get_be64(const u8 *p)
{
	u64 v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be64(u8 *p, u64 v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (u8)v;
}

static void ctl_send(struct ctl *c, u32 ip, u16 port, const struct ctl_hdr *h, const void *payload)
{
	u8 d[CTL_HDR + CTL_PART_MAX + SHA256_LEN];
	memcpy(d, ctl_magic, 4);
	d[4] = 1;
	d[5] = h->kind;
	d[6] = h->status;
	d[7] = 0;
	put_be64(d + 8, h->session);
	put_be64(d + 16, h->id);
	put_be32(d + 24, (u32)h->rc);
	put_be16(d + 28, h->part);
	put_be16(d + 30, h->nparts);
	put_be16(d + 32, h->len);
	memcpy(d + CTL_HDR, payload, h->len);
	hmac_sha256(c->key, c->key_len, d, CTL_HDR + h->len, d + CTL_HDR + h->len);
	if (!netstack_udp_send(c->ns, c->port, ip, port, d, CTL_HDR + h->len + SHA256_LEN))
		c->st.send_failed++;
}

/* Every part of a reply; a retransmitted request gets them all again. */
static void ctl_send_reply(struct ctl *c, u32 ip, u16 port, const struct ctl_reply *r)
{
	u16 nparts = (u16)(r->len ? (r->len + CTL_PART_MAX - 1) / CTL_PART_MAX : 1);
	for (u16 i = 0; i < nparts; i++) {
		size_t off = (size_t)i * CTL_PART_MAX;
		struct ctl_hdr h = {
		    CTL_KIND_REPLY, r->status,
		    c->session,	    r->id,
		    r->rc,	    i,
		    nparts,	    (u16)MIN((size_t)CTL_PART_MAX, r->len - MIN(off, r->len))};
		ctl_send(c, ip, port, &h, r->out + MIN(off, r->len));
	}
}

static void ctl_send_short(struct ctl *c, u32 ip, u16 port, u64 id, u8 status, const void *payload,
			   u16 len)
{
	struct ctl_hdr h = {CTL_KIND_REPLY, status, c->session, id, -1, 0, 1, len};
	ctl_send(c, ip, port, &h, payload);
}

static struct ctl_reply *ctl_cached(struct ctl *c, u64 id)
{
	for (unsigned i = 0; i < CTL_CACHE; i++)
		if (c->cache[i].used && c->cache[i].id == id)
			return &c->cache[i];
	return NULL;
}

/* A session id unknown before this boot's first request: what the request and the moment
 * it came add, under the key, so it does not repeat when Bochs replays the same boot. */
static void ctl_new_session(struct ctl *c, const u8 *d, size_t len)
{
	struct hmac_sha256 h;
	u8 mac[SHA256_LEN], t[16];
	put_be64(t, c->ns->now_ns);
	put_be64(t + 8, c->ns->st.rx_frames);
	hmac_sha256_init(&h, c->key, c->key_len);
	hmac_sha256_update(&h, "keel-ctl-session", 16);
	hmac_sha256_update(&h, t, sizeof(t));
	hmac_sha256_update(&h, d, len);
	hmac_sha256_final(&h, mac);
	c->session = get_be64(mac) | 1; /* never 0: a client's "no session yet" */
}

static void ctl_rx(void *ctx, struct netstack *ns, u32 ip, u16 port, const u8 *d, size_t len)
{
	struct ctl *c = ctx;
	(void)ns;
	c->st.requests++;
	if (len < CTL_HDR + SHA256_LEN || memcmp(d, ctl_magic, 4) || d[4] != 1) {
		c->st.malformed++;
		return;
	}
	struct ctl_hdr h = {d[5], d[6], get_be64(d + 8), get_be64(d + 16), 0,
			    0,	  0,	get_be16(d + 32)};
	if ((size_t)CTL_HDR + h.len + SHA256_LEN != len) {
		c->st.malformed++;
		return;
	}
	u8 mac[SHA256_LEN];
	hmac_sha256(c->key, c->key_len, d, CTL_HDR + h.len, mac);
	if (!mac_equal(mac, d + CTL_HDR + h.len, SHA256_LEN)) {
		c->st.bad_mac++; /* no answer: an attacker learns nothing, not even that we exist */
		return;
	}
	if (h.kind != CTL_KIND_REQUEST) {
		c->st.malformed++; /* one of our own replies sent back to us */
		return;
	}
	if (!c->session)
		ctl_new_session(c, d, len);
	struct ctl_reply *r = h.session == c->session ? ctl_cached(c, h.id) : NULL;
	if (r) {
		c->st.resent++;
		ctl_send_reply(c, ip, port, r);
		return;
	}
	if (h.session != c->session || h.id <= c->last_id) {
		u8 last[8];
		put_be64(last, c->last_id);
		c->st.stale++;
		ctl_send_short(c, ip, port, h.id, CTL_STALE, last, sizeof(last));
		return;
	}
	c->last_id = h.id;
	r = &c->cache[c->next_slot];
	c->next_slot = (c->next_slot + 1) % CTL_CACHE;
	r->used = true;
	r->id = h.id;
	bool nul = false;
	for (size_t i = 0; i < h.len; i++)
		nul |= d[CTL_HDR + i] == 0;
	if (h.len > CTL_CMD_MAX || nul) {
		static const char why[] = "the command line is too long or holds a NUL byte";
		r->status = CTL_REFUSED;
		r->rc = -1;
		r->len = sizeof(why) - 1;
		memcpy(r->out, why, r->len);
	} else {
		char line[CTL_CMD_MAX + 1];
		size_t out_len = 0;
		memcpy(line, d + CTL_HDR, h.len);
		line[h.len] = 0;
		r->status = CTL_RAN;
		r->rc = c->run(c->run_ctx, line, r->out, sizeof(r->out), &out_len);
		r->len = (u16)MIN(out_len, sizeof(r->out));
		c->st.ran++;
	}
	ctl_send_reply(c, ip, port, r);
}

const char *ctl_init(struct ctl *c, struct netstack *ns, const char *key, u16 port, ctl_run_fn run,
		     void *run_ctx)
{
	memset(c, 0, sizeof(*c));
	size_t n = strlen(key);
	if (n < CTL_KEY_MIN || n > CTL_KEY_MAX)
		return "the key must have 8 to 64 characters";
	if (!port)
		return "port 0";
	memcpy(c->key, key, n);
	c->key_len = n;
	c->ns = ns;
	c->port = port;
	c->run = run;
	c->run_ctx = run_ctx;
	if (!netstack_udp_bind(ns, port, ctl_rx, c))
		return "the UDP port is taken";
	return NULL;
}

void ctl_print(const struct ctl *c)
{
	const struct ctl_stats *s = &c->st;
	kprintf("  control channel: udp port %u, %llu requests, %llu ran, %llu replies resent, "
		"%llu stale, %llu bad MAC, %llu malformed, %llu sends failed\n",
		c->port, (unsigned long long)s->requests, (unsigned long long)s->ran,
		(unsigned long long)s->resent, (unsigned long long)s->stale,
		(unsigned long long)s->bad_mac, (unsigned long long)s->malformed,
		(unsigned long long)s->send_failed);
}
