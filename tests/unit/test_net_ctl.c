/* The control channel (net/ctl.c): the wire format scripts/keelctl speaks (a packet made by
 * its Python code is replayed byte for byte), the session handshake, retransmissions that
 * never run a command twice, replays and forgeries refused, replies in parts; then one run
 * end to end: DHCP from a slirp-like wire, a ping, and a shell command through the real
 * shell with its output captured. */
#include "net_fake.h"
#include "shell_fake.h"
#include "../../hypervisor/console.h"
#include "../../net/ctl.h"

#define KEY  "s3cret-key"
#define PORT 7777

struct runner {
	unsigned runs;
	char last[CTL_CMD_MAX + 1];
	size_t out_len; /* 0: echo the line */
	int rc;
};

static int fake_run(void *ctx, char *line, char *out, size_t size, size_t *out_len)
{
	struct runner *r = ctx;
	r->runs++;
	kstrlcpy(r->last, line, sizeof(r->last));
	if (r->out_len) {
		*out_len = r->out_len < size ? r->out_len : size;
		for (size_t i = 0; i < *out_len; i++)
			out[i] = (char)('a' + i % 26);
	} else {
		*out_len = (size_t)ksnprintf(out, size, "ran: %s\n", line);
	}
	return r->rc;
}

static size_t ctl_pack(u8 *d, const char *key, u8 kind, u64 session, u64 id, const void *cmd,
		       size_t len)
{
	memcpy(d, "KCTL", 4);
	d[4] = 1;
	d[5] = kind;
	d[6] = d[7] = 0;
	for (int i = 0; i < 8; i++) {
		d[8 + i] = (u8)(session >> (56 - 8 * i));
		d[16 + i] = (u8)(id >> (56 - 8 * i));
	}
	memset(d + 24, 0, 4);
	put_be16(d + 28, 0);
	put_be16(d + 30, 1);
	put_be16(d + 32, (u16)len);
	memcpy(d + CTL_HDR, cmd, len);
	hmac_sha256(key, strlen(key), d, CTL_HDR + len, d + CTL_HDR + len);
	return CTL_HDR + len + SHA256_LEN;
}

struct reply {
	u8 status;
	u64 session, id;
	s32 rc;
	u16 part, nparts, len;
	u8 payload[CTL_PART_MAX];
};

static u64 be64(const u8 *p)
{
	u64 v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The control reply in wire frame i, its MAC checked; false when there is none. */
static bool reply_at(struct wire *w, unsigned i, struct reply *r)
{
	if (i >= w->n || i >= WIRE_MAX)
		return false;
	const u8 *f = w->f[i];
	if (get_be16(f + 12) != ETH_TYPE_IPV4 || f[ETH_HLEN + 9] != IP_PROTO_UDP)
		return false;
	const u8 *u = f + ETH_HLEN + IP_HLEN;
	if (get_be16(u) != PORT)
		return false;
	size_t len = get_be16(u + 4) - UDP_HLEN;
	const u8 *d = u + UDP_HLEN;
	REQUIRE(len >= CTL_HDR + SHA256_LEN && !memcmp(d, "KCTL", 4) && d[5] == CTL_KIND_REPLY);
	r->len = get_be16(d + 32);
	REQUIRE((size_t)CTL_HDR + r->len + SHA256_LEN == len);
	u8 mac[SHA256_LEN];
	hmac_sha256(KEY, strlen(KEY), d, CTL_HDR + r->len, mac);
	CHECK(!memcmp(mac, d + CTL_HDR + r->len, SHA256_LEN));
	r->status = d[6];
	r->session = be64(d + 8);
	r->id = be64(d + 16);
	r->rc = (s32)get_be32(d + 24);
	r->part = get_be16(d + 28);
	r->nparts = get_be16(d + 30);
	memcpy(r->payload, d + CTL_HDR, r->len);
	return true;
}

struct ctl_rig {
	struct wire w;
	struct netstack *ns;
	struct ctl c;
	struct runner run;
};

static struct ctl_rig *ctl_rig(void)
{
	struct ctl_rig *r = test_alloc(sizeof(*r));
	r->ns = net_static(&r->w);
	REQUIRE(!ctl_init(&r->c, r->ns, KEY, PORT, fake_run, &r->run));
	net_learn_peer(r->ns, &r->w);
	return r;
}

static void send_dgram(struct ctl_rig *r, const u8 *d, size_t len)
{
	u8 f[ETH_MAX_FRAME];
	size_t n = udp_frame(f, PEER_IP, 40001, KEEL_IP, PORT, d, len);
	netstack_input(r->ns, test_dup(f, n), n);
}

static void send_req(struct ctl_rig *r, u64 session, u64 id, const char *cmd)
{
	u8 d[CTL_HDR + CTL_CMD_MAX + 64 + SHA256_LEN];
	send_dgram(r, d, ctl_pack(d, KEY, CTL_KIND_REQUEST, session, id, cmd, strlen(cmd)));
}

/* The session handshake: a request with session 0 is answered "stale" with the session. */
static u64 ctl_session(struct ctl_rig *r)
{
	unsigned before = r->w.n;
	send_req(r, 0, 1, "hello");
	struct reply rep;
	REQUIRE(reply_at(&r->w, before, &rep));
	CHECK_EQ(rep.status, CTL_STALE);
	CHECK(rep.session != 0);
	CHECK_EQ(r->run.runs, 0);
	return rep.session;
}

TEST(ctl_keelctl_python_packet_is_the_same_bytes_and_is_accepted)
{
	/* scripts/keelctl's pack(b"s3cret-key", 1, 0x1122334455667788, 0x0102030405060708,
	 * b"vm list"), printed by Python */
	static const u8 py[] = {0x4b, 0x43, 0x54, 0x4c, 0x01, 0x01, 0x00, 0x00, 0x11, 0x22, 0x33,
				0x44, 0x55, 0x66, 0x77, 0x88, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				0x07, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
				0x07, 0x76, 0x6d, 0x20, 0x6c, 0x69, 0x73, 0x74, 0xd8, 0x0b, 0xc1,
				0x98, 0x5a, 0xc2, 0x7a, 0xd2, 0x04, 0xde, 0x9d, 0x13, 0x45, 0x39,
				0x85, 0x86, 0x89, 0x7a, 0xb3, 0x0d, 0x61, 0xc1, 0xc6, 0x89, 0xb7,
				0xea, 0xe2, 0x44, 0xd1, 0xd3, 0x21, 0x69};
	u8 d[128];
	size_t n = ctl_pack(d, KEY, CTL_KIND_REQUEST, 0x1122334455667788ULL, 0x0102030405060708ULL,
			    "vm list", 7);
	REQUIRE(n == sizeof(py));
	CHECK(!memcmp(d, py, n));
	/* Keel takes it as authentic: a session it did not issue is answered "stale" */
	struct ctl_rig *r = ctl_rig();
	send_dgram(r, py, sizeof(py));
	struct reply rep;
	REQUIRE(reply_at(&r->w, r->w.n - 1, &rep));
	CHECK_EQ(rep.status, CTL_STALE);
	CHECK_EQ(rep.id, 0x0102030405060708ULL);
	CHECK_EQ(r->c.st.bad_mac, 0);
	CHECK_EQ(r->run.runs, 0);
}

TEST(ctl_runs_a_command_once_and_resends_its_reply_on_retransmission)
{
	struct ctl_rig *r = ctl_rig();
	u64 s = ctl_session(r);
	r->run.rc = 3;
	unsigned before = r->w.n;
	send_req(r, s, 1000, "vm list");
	CHECK_EQ(r->run.runs, 1);
	CHECK_STR(r->run.last, "vm list");
	struct reply rep;
	REQUIRE(reply_at(&r->w, before, &rep));
	CHECK_EQ(rep.status, CTL_RAN);
	CHECK_EQ(rep.rc, 3);
	CHECK_EQ(rep.id, 1000);
	CHECK_EQ(rep.nparts, 1);
	CHECK_EQ(rep.len, strlen("ran: vm list\n"));
	CHECK(!memcmp(rep.payload, "ran: vm list\n", rep.len));
	/* the reply was lost: the same request again is answered, not run */
	send_req(r, s, 1000, "vm list");
	CHECK_EQ(r->run.runs, 1);
	CHECK_EQ(r->c.st.resent, 1);
	struct reply again;
	REQUIRE(reply_at(&r->w, before + 1, &again));
	CHECK_EQ(again.rc, 3);
	CHECK(!memcmp(again.payload, rep.payload, rep.len));
	/* an older id, or this one after it left the cache, is stale: never run */
	send_req(r, s, 999, "vm kill tick1");
	REQUIRE(reply_at(&r->w, before + 2, &rep));
	CHECK_EQ(rep.status, CTL_STALE);
	CHECK_EQ(be64(rep.payload), 1000);
	for (u64 id = 1001; id < 1001 + CTL_CACHE; id++)
		send_req(r, s, id, "x");
	send_req(r, s, 1000, "vm list");
	CHECK_EQ(r->run.runs, 1 + CTL_CACHE);
	CHECK_EQ(r->c.st.stale, 3); /* the handshake, 999, and 1000 out of the cache */
}

TEST(ctl_forged_truncated_and_reflected_datagrams_get_no_reply)
{
	struct ctl_rig *r = ctl_rig();
	u64 s = ctl_session(r);
	unsigned before = r->w.n;
	u8 d[256];
	size_t n = ctl_pack(d, "wrong-key!", CTL_KIND_REQUEST, s, 5, "vm list", 7);
	send_dgram(r, d, n);
	n = ctl_pack(d, KEY, CTL_KIND_REQUEST, s, 5, "vm list", 7);
	d[36] ^= 1; /* the command changed after the MAC */
	send_dgram(r, d, n);
	CHECK_EQ(r->c.st.bad_mac, 2);
	n = ctl_pack(d, KEY, CTL_KIND_REQUEST, s, 5, "vm list", 7);
	for (size_t cut = 0; cut < n; cut++)
		send_dgram(r, test_dup(d, cut), cut);
	put_be16(d + 32, 200); /* a length past the datagram */
	send_dgram(r, d, n);
	n = ctl_pack(d, KEY, CTL_KIND_REPLY, s, 5, "vm list", 7); /* a reply sent back */
	send_dgram(r, d, n);
	CHECK_EQ(r->c.st.malformed, n + 2); /* each truncation, the length, the reflection */
	CHECK_EQ(r->run.runs, 0);
	CHECK_EQ(r->w.n, before);
	/* a command holding a NUL byte is refused, once, with a reason */
	n = ctl_pack(d, KEY, CTL_KIND_REQUEST, s, 6, "vm\0list", 7);
	send_dgram(r, d, n);
	struct reply rep;
	REQUIRE(reply_at(&r->w, before, &rep));
	CHECK_EQ(rep.status, CTL_REFUSED);
	CHECK_EQ(r->run.runs, 0);
}

TEST(ctl_long_output_comes_in_numbered_parts)
{
	struct ctl_rig *r = ctl_rig();
	u64 s = ctl_session(r);
	r->run.out_len = 3 * CTL_PART_MAX + 100;
	unsigned before = r->w.n;
	send_req(r, s, 7, "log 400");
	REQUIRE(r->w.n == before + 4);
	char all[4 * CTL_PART_MAX];
	size_t got = 0;
	for (unsigned i = 0; i < 4; i++) {
		struct reply rep;
		REQUIRE(reply_at(&r->w, before + i, &rep));
		CHECK_EQ(rep.part, i);
		CHECK_EQ(rep.nparts, 4);
		memcpy(all + got, rep.payload, rep.len);
		got += rep.len;
	}
	CHECK_EQ(got, r->run.out_len);
	for (size_t i = 0; i < got; i++)
		if (all[i] != (char)('a' + i % 26))
			REQUIRE(!"part out of order");
	/* more output than the buffer: capped, never past it */
	r->run.out_len = 2 * CTL_OUT_MAX;
	before = r->w.n;
	send_req(r, s, 8, "log");
	CHECK_EQ(r->w.n - before, CTL_OUT_MAX / CTL_PART_MAX);
}

TEST(ctl_refuses_a_short_key_and_without_it_the_port_is_closed)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	struct ctl *c = test_alloc(sizeof(*c));
	struct runner run = {0};
	CHECK(ctl_init(c, ns, "short", PORT, fake_run, &run) != NULL);
	CHECK(ctl_init(c, ns, "", PORT, fake_run, &run) != NULL);
	u8 d[128], f[ETH_MAX_FRAME];
	size_t n = ctl_pack(d, "short", CTL_KIND_REQUEST, 0, 1, "vm list", 7);
	size_t fl = udp_frame(f, PEER_IP, 40001, KEEL_IP, PORT, d, n);
	netstack_input(ns, f, fl);
	CHECK_EQ(ns->st.udp_no_port, 1);
	CHECK_EQ(run.runs, 0);
}

/* ---- end to end ---- */

/* The wire as Bochs' slirp would be: answers DHCP and ARP for 10.0.2.2, and keeps what is
 * for the host side (pings' answers, control replies). */
struct slirp {
	struct netstack *ns;
	unsigned dhcp_msgs, arp_answers;
	struct wire host; /* IPv4 frames that are not DHCP */
};

static void slirp_rx(void *ctx, const u8 *f, size_t len)
{
	struct slirp *s = ctx;
	u8 out[ETH_MAX_FRAME];
	if (get_be16(f + 12) == ETH_TYPE_ARP) {
		const u8 *a = f + ETH_HLEN;
		if (get_be16(a + 6) == 1 && get_be32(a + 24) == PEER_IP) {
			size_t n = arp_frame(out, 2, peer_mac, PEER_IP, keel_mac, get_be32(a + 14),
					     keel_mac);
			s->arp_answers++;
			netstack_input(s->ns, out, n); /* at once: the stack must cope */
		}
		return;
	}
	const u8 *u = f + ETH_HLEN + IP_HLEN;
	if (f[ETH_HLEN + 9] == IP_PROTO_UDP && get_be16(u + 2) == 67) {
		const u8 *m = u + UDP_HLEN;
		u8 type = 0;
		size_t mlen = get_be16(u + 4) - UDP_HLEN;
		for (size_t i = 240; i + 2 < mlen && m[i] != 255; i += 2 + m[i + 1])
			if (m[i] == 53)
				type = m[i + 2];
		u8 a[300];
		memset(a, 0, sizeof(a));
		a[0] = 2;
		a[1] = 1;
		a[2] = 6;
		memcpy(a + 4, m + 4, 4);
		put_be32(a + 16, KEEL_IP);
		memcpy(a + 28, m + 28, 6);
		put_be32(a + 236, 0x63825363);
		u8 opts[] = {53,  1,	type == 1 ? 2 : 5,
			     54,  4,	10,
			     0,	  2,	2,
			     1,	  4,	255,
			     255, 255,	0,
			     3,	  4,	10,
			     0,	  2,	2,
			     51,  4,	0,
			     1,	  0x51, 0x80,
			     255};
		memcpy(a + 240, opts, sizeof(opts));
		s->dhcp_msgs++;
		size_t n = udp_frame(out, PEER_IP, 67, IP4_BROADCAST, 68, a, sizeof(a));
		netstack_input(s->ns, out, n);
		return;
	}
	wire_rx(&s->host, f, len);
}

static int shell_runner(void *ctx, char *line, char *out, size_t size, size_t *out_len)
{
	struct rig *rig = ctx;
	bool truncated;
	console_capture_begin(out, size);
	int rc = shell_run_line(&rig->sh, line);
	*out_len = console_capture_end(&truncated);
	return rc;
}

TEST(net_end_to_end_dhcp_ping_and_a_shell_command_over_the_control_channel)
{
	struct slirp *s = test_alloc(sizeof(*s));
	struct netstack *ns = test_alloc(sizeof(*ns));
	struct netstack_config cfg;
	REQUIRE(!netstack_parse_config("dhcp", &cfg));
	netstack_init(ns, keel_mac, (struct net_endpoint){slirp_rx, s}, &cfg);
	s->ns = ns;
	struct rig *rig = rig_new();
	rig->sh.net = ns;
	struct ctl *c = test_alloc(sizeof(*c));
	REQUIRE(!ctl_init(c, ns, KEY, PORT, shell_runner, rig));
	rig->sh.ctl = c;

	for (u64 t = 1; t < 3000000000ULL && !ns->configured; t += 10000000)
		netstack_poll(ns, t);
	REQUIRE(ns->configured);
	CHECK_EQ(s->dhcp_msgs, 2);
	CHECK_EQ(ns->ip, KEEL_IP);
	CHECK_EQ(ns->gw, PEER_IP);

	/* the host pings Keel */
	u8 f[ETH_MAX_FRAME];
	size_t n = ping_frame(f, PEER_IP, KEEL_IP, 9, 1, 32);
	netstack_input(ns, f, n);
	REQUIRE(s->host.n == 1);
	CHECK_EQ(s->host.f[0][ETH_HLEN + IP_HLEN], 0); /* an echo reply */
	CHECK_EQ(s->arp_answers, 1);

	/* keelctl's two steps: learn the session, then run `vm list` */
	u8 d[128];
	n = ctl_pack(d, KEY, CTL_KIND_REQUEST, 0, 1, "vm list", 7);
	n = udp_frame(f, PEER_IP, 40002, KEEL_IP, PORT, d, n);
	netstack_input(ns, f, n);
	REQUIRE(s->host.n == 2);
	const u8 *u = s->host.f[1] + ETH_HLEN + IP_HLEN;
	u64 session = be64(u + UDP_HLEN + 8);
	CHECK_EQ(u[UDP_HLEN + 6], CTL_STALE);
	n = ctl_pack(d, KEY, CTL_KIND_REQUEST, session, 2, "vm list", 7);
	n = udp_frame(f, PEER_IP, 40002, KEEL_IP, PORT, d, n);
	test_console_clear();
	netstack_input(ns, f, n);
	REQUIRE(s->host.n == 3);
	u = s->host.f[2] + ETH_HLEN + IP_HLEN;
	CHECK_EQ(get_be16(u + 2), 40002);
	const u8 *rd = u + UDP_HLEN;
	CHECK_EQ(rd[6], CTL_RAN);
	u16 len = get_be16(rd + 32);
	char out[CTL_PART_MAX + 1];
	memcpy(out, rd + CTL_HDR, len);
	out[len] = 0;
	CHECK_CONTAINS(out, "tick1");
	CHECK_CONTAINS(out, "hello");
	CHECK_EQ(get_be32(rd + 24), 0);
	/* captured, not printed on the console */
	CHECK(!strstr(test_console(), "tick1"));

	/* `net` and `ping` from the shell itself */
	CHECK_CONTAINS(run(rig, "ip"), "address 10.0.2.15/24 gateway 10.0.2.2");
	CHECK_CONTAINS(test_console(), "control channel: udp port 7777, 2 requests, 1 ran");
	CHECK_CONTAINS(run(rig, "ping 10.0.2.2"), "echo request 1 sent to 10.0.2.2");
	CHECK_CONTAINS(run(rig, "ping 10.0.2"), "not an IPv4 address");
}

/* The hook the channel's output goes through (hypervisor/console.c). */
static unsigned hook_calls;
static void count_hook(void *ctx)
{
	(void)ctx;
	hook_calls++;
}

TEST(console_capture_takes_output_aside_and_cuts_it_at_the_buffer)
{
	char buf[16], hist[8];
	bool truncated;
	kprintf("before|");
	console_set_write_hook(count_hook, NULL);
	hook_calls = 0;
	console_capture_begin(buf, sizeof(buf));
	kprintf("captured %d", 42);
	size_t n = console_capture_end(&truncated);
	CHECK_EQ(n, 11);
	CHECK(!memcmp(buf, "captured 42", 11));
	CHECK(!truncated);
	CHECK_EQ(hook_calls, 0);
	CHECK_STR(test_console(), "before|");
	CHECK_EQ(console_history(hist, 7), 7);
	CHECK(!memcmp(hist, "before|", 7)); /* nor in the history */
	console_capture_begin(buf, sizeof(buf));
	kprintf("%s", "0123456789abcdefXYZ");
	n = console_capture_end(&truncated);
	CHECK_EQ(n, sizeof(buf));
	CHECK(truncated);
	CHECK(!memcmp(buf, "0123456789abcdef", 16));
	kprintf("after");
	console_set_write_hook(NULL, NULL);
	CHECK_STR(test_console(), "before|after");
	CHECK_EQ(hook_calls, 1);
}
