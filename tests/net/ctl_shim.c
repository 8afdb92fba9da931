/* A host-side stand-in for a Keel on the network, for testing scripts/keelctl for real:
 * Keel's network stack and its real shell (no VMs) behind a UDP socket on 127.0.0.1. Each
 * datagram that arrives becomes an Ethernet frame from 10.0.2.2 to Keel's control port; the
 * stack's replies go back to the sender. --drop N loses one reply datagram in N on average,
 * at no fixed period (a reply of N parts would otherwise lose the same part every time it is
 * resent), so the client's retransmission and Keel's reply cache are exercised.
 * usage: build/host/ctl_shim PORT KEY [--drop N] [--runs FILE] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../hypervisor/assert.h"
#include "../../hypervisor/console.h"
#include "../../hypervisor/keel.h"
#include "../../hypervisor/shell.h"
#include "../../net/ctl.h"
#include "../../net/net_priv.h"

/* what the pure code links against on the hardware side */
struct frames machine_frames;
u64 tsc_hz = 1000000000ULL;

static u64 mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

u64 time_now(void)
{
	return mono_ns();
}

void assert_failed(const char *file, int line, const char *expr)
{
	fprintf(stderr, "ctl_shim: KASSERT(%s) at %s:%d\n", expr, file, line);
	abort();
}

static const u8 keel_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const u8 host_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
#define KEEL_IP IP4(10, 0, 2, 15)
#define HOST_IP IP4(10, 0, 2, 2)

static struct netstack ns;
static struct ctl ctl;
static struct shell sh;
static int sock;
static struct sockaddr_in client; /* the latest sender: replies go there */
static unsigned drop_every, replies, runs;

static struct vm *no_vm(void *ctx, unsigned i)
{
	(void)ctx, (void)i;
	return NULL;
}

static const struct shell_ops ops = {no_vm, NULL, NULL, NULL, NULL, NULL, NULL};

static void sink(const char *s, size_t n)
{
	fwrite(s, 1, n, stderr);
}

static int run_shell(void *ctx, char *line, char *out, size_t size, size_t *out_len)
{
	(void)ctx;
	bool truncated;
	runs++;
	fprintf(stderr, "ctl_shim: run %u: %s\n", runs, line);
	console_capture_begin(out, size);
	int rc = shell_run_line(&sh, line);
	*out_len = console_capture_end(&truncated);
	return rc;
}

/* The wire on Keel's side: ARP for the host is answered at once, UDP goes to the client. */
static void wire(void *ctx, const u8 *f, size_t len)
{
	(void)ctx;
	u8 r[ETH_MAX_FRAME];
	if (get_be16(f + 12) == ETH_TYPE_ARP) {
		const u8 *a = f + ETH_HLEN;
		if (get_be16(a + 6) != 1 || get_be32(a + 24) != HOST_IP)
			return;
		memcpy(r, keel_mac, 6);
		memcpy(r + 6, host_mac, 6);
		put_be16(r + 12, ETH_TYPE_ARP);
		memcpy(r + ETH_HLEN, a, 8);
		put_be16(r + ETH_HLEN + 6, 2);
		memcpy(r + ETH_HLEN + 8, host_mac, 6);
		put_be32(r + ETH_HLEN + 14, HOST_IP);
		memcpy(r + ETH_HLEN + 18, keel_mac, 6);
		put_be32(r + ETH_HLEN + 24, KEEL_IP);
		netstack_input(&ns, r, ETH_HLEN + 28);
		return;
	}
	if (len < ETH_HLEN + IP_HLEN + UDP_HLEN || f[ETH_HLEN + 9] != IP_PROTO_UDP)
		return;
	const u8 *u = f + ETH_HLEN + IP_HLEN;
	size_t ulen = get_be16(u + 4);
	if (ulen < UDP_HLEN || ETH_HLEN + IP_HLEN + ulen > len)
		return;
	replies++;
	static u32 lcg = 12345; /* fixed seed: the same drops every run */
	lcg = lcg * 1103515245u + 12345u;
	if (drop_every && (lcg >> 16) % drop_every == 0) {
		fprintf(stderr, "ctl_shim: reply datagram %u dropped\n", replies);
		return;
	}
	sendto(sock, u + UDP_HLEN, ulen - UDP_HLEN, 0, (struct sockaddr *)&client, sizeof(client));
}

/* A datagram from the client, as the frame Keel would get from 10.0.2.2. */
static void deliver(const u8 *d, size_t n, u16 sport)
{
	u8 f[ETH_MAX_FRAME];
	if (n > ETH_MAX_FRAME - ETH_HLEN - IP_HLEN - UDP_HLEN)
		return;
	memcpy(f, keel_mac, 6);
	memcpy(f + 6, host_mac, 6);
	put_be16(f + 12, ETH_TYPE_IPV4);
	u8 *h = f + ETH_HLEN, *u = h + IP_HLEN;
	memset(h, 0, IP_HLEN);
	h[0] = 0x45;
	put_be16(h + 2, (u16)(IP_HLEN + UDP_HLEN + n));
	h[8] = 64;
	h[9] = IP_PROTO_UDP;
	put_be32(h + 12, HOST_IP);
	put_be32(h + 16, KEEL_IP);
	put_be16(h + 10, inet_fold(inet_sum(0, h, IP_HLEN)));
	put_be16(u, sport);
	put_be16(u + 2, ctl.port);
	put_be16(u + 4, (u16)(UDP_HLEN + n));
	put_be16(u + 6, 0); /* no checksum: IPv4 allows it */
	memcpy(u + UDP_HLEN, d, n);
	netstack_input(&ns, f, ETH_HLEN + IP_HLEN + UDP_HLEN + n);
}

int main(int argc, char **argv)
{
	const char *runs_file = NULL;
	if (argc < 3) {
		fprintf(stderr, "usage: ctl_shim PORT KEY [--drop N] [--runs FILE]\n");
		return 2;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--drop"))
			drop_every = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--runs"))
			runs_file = argv[i + 1];
	}
	console_set_sink(sink);
	shell_init(&sh, &ops, NULL, NULL, tsc_hz);
	struct netstack_config cfg;
	const char *why = netstack_parse_config("10.0.2.15/24,gw=10.0.2.2", &cfg);
	if (why)
		return 1;
	netstack_init(&ns, keel_mac, (struct net_endpoint){wire, NULL}, &cfg);
	why = ctl_init(&ctl, &ns, argv[2], CTL_PORT_DEFAULT, run_shell, NULL);
	if (why) {
		fprintf(stderr, "ctl_shim: %s\n", why);
		return 1;
	}
	sh.net = &ns;
	sh.ctl = &ctl;
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((u16)atoi(argv[1]))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sock < 0 || bind(sock, (struct sockaddr *)&a, sizeof(a))) {
		perror("ctl_shim: bind");
		return 1;
	}
	fprintf(stderr, "ctl_shim: listening on 127.0.0.1:%s\n", argv[1]);
	for (;;) {
		struct pollfd p = {sock, POLLIN, 0};
		if (poll(&p, 1, 10) > 0) {
			u8 d[2048];
			socklen_t al = sizeof(client);
			ssize_t n =
			    recvfrom(sock, d, sizeof(d), 0, (struct sockaddr *)&client, &al);
			if (n > 0)
				deliver(d, (size_t)n, ntohs(client.sin_port));
		}
		netstack_poll(&ns, mono_ns());
		if (runs_file) { /* written aside, then renamed: a reader never sees half */
			char tmp[512];
			snprintf(tmp, sizeof(tmp), "%s.tmp", runs_file);
			FILE *f = fopen(tmp, "w");
			if (f) {
				fprintf(f, "%u %llu %llu\n", runs,
					(unsigned long long)ctl.st.resent,
					(unsigned long long)ctl.st.bad_mac);
				fclose(f);
				rename(tmp, runs_file);
			}
		}
	}
}
