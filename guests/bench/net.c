/* network workloads: TCP throughput (1 MiB sent to a sink, per operation) and TCP round-trip
 * latency (one byte to an echo server and back, TCP_NODELAY), to a peer VM (keel.bench_peer=
 * on the kernel command line: netsend, netrr) and to a server outside (keel.bench_out=:
 * outsend, outrr). The servers speak keelbench's own protocol (`keelbench serve`, or the
 * harness's scripts/bench-netserver on the development machine): port BASE takes bytes until
 * the sender shuts its side and then closes, BASE+1 echoes, BASE+9 ends the server.
 * keel.bench_port= sets BASE (default 5201) for both peers. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench.h"

#define NET_CHUNK (1L << 20) /* one operation of netsend/outsend */
#define WRITE_SZ  (64L << 10)

static char peer[64], out[64];
static int base_port = 5201;

static void read_cmdline(void)
{
	static int done;
	char line[4096], *p;
	size_t n = 0;
	if (done)
		return;
	done = 1;
	/* the environment first (a run on the development machine), the command line wins */
	const char *e;
	if ((e = getenv("KEEL_BENCH_PEER")) && strlen(e) < sizeof(peer))
		snprintf(peer, sizeof(peer), "%s", e);
	if ((e = getenv("KEEL_BENCH_OUT")) && strlen(e) < sizeof(out))
		snprintf(out, sizeof(out), "%s", e);
	if ((e = getenv("KEEL_BENCH_PORT")) && atoi(e) > 0 && atoi(e) < 65526)
		base_port = atoi(e);
	FILE *f = fopen("/proc/cmdline", "r");
	if (!f)
		return;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = 0;
	for (p = strtok(line, " \n"); p; p = strtok(NULL, " \n")) {
		if (!strncmp(p, "keel.bench_peer=", 16) && strlen(p + 16) < sizeof(peer))
			snprintf(peer, sizeof(peer), "%s", p + 16);
		else if (!strncmp(p, "keel.bench_out=", 15) && strlen(p + 15) < sizeof(out))
			snprintf(out, sizeof(out), "%s", p + 15);
		else if (!strncmp(p, "keel.bench_port=", 16) && atoi(p + 16) > 0 &&
			 atoi(p + 16) < 65526)
			base_port = atoi(p + 16);
	}
}

int bench_net_named(int outside)
{
	read_cmdline();
	return (outside ? out : peer)[0] != 0;
}

static int tcp_connect(const char *ip, int port, int quiet)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		errno = EINVAL;
		bench_die("parsing the peer's address");
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		bench_die("socket");
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (!quiet)
			bench_die("connect");
		close(fd);
		return -1;
	}
	return fd;
}

/* the peer boots beside us: up to 300 tries a second apart for its echo port */
static const char *server(int outside)
{
	static int ready[2];
	read_cmdline();
	const char *ip = outside ? out : peer;
	if (!ip[0]) {
		errno = ENODEV;
		bench_die(outside ? "finding keel.bench_out= on the kernel command line"
				  : "finding keel.bench_peer= on the kernel command line");
	}
	if (!ready[outside]) {
		int fd = -1;
		for (int i = 0; i < 300 && fd < 0; i++) {
			fd = tcp_connect(ip, base_port + 1, 1);
			if (fd < 0)
				sleep(1);
		}
		if (fd < 0)
			bench_die("reaching the server's echo port (300 tries)");
		close(fd);
		printf("BENCH-INFO net %s: server %s port %d\n", outside ? "outside" : "peer", ip,
		       base_port);
		ready[outside] = 1;
	}
	return ip;
}

/* iters MiB to the sink, then shutdown and wait for the sink's close: every byte arrived */
static int run_send(const struct bench_args *a, int outside)
{
	static char buf[WRITE_SZ];
	const char *ip = server(outside);
	int fd = tcp_connect(ip, base_port, 0);
	memset(buf, 0x5a, sizeof(buf));
	bench_start();
	for (long i = 0; i < a->iters; i++)
		for (long done = 0; done < NET_CHUNK;) {
			ssize_t n = write(
			    fd, buf,
			    (size_t)(NET_CHUNK - done < WRITE_SZ ? NET_CHUNK - done : WRITE_SZ));
			if (n <= 0)
				bench_die("write");
			done += n;
		}
	if (shutdown(fd, SHUT_WR))
		bench_die("shutdown");
	char c;
	while (read(fd, &c, 1) > 0)
		;
	bench_stop();
	close(fd);
	return 0;
}

/* iters one-byte round trips on one connection (made before the window) */
static int run_rr(const struct bench_args *a, int outside)
{
	const char *ip = server(outside);
	int fd = tcp_connect(ip, base_port + 1, 0);
	char c = 'k';
	bench_start();
	for (long i = 0; i < a->iters; i++)
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			bench_die("round trip");
	bench_stop();
	close(fd);
	return 0;
}

static int run_netsend(const struct bench_args *a)
{
	return run_send(a, 0);
}
static int run_netrr(const struct bench_args *a)
{
	return run_rr(a, 0);
}
static int run_outsend(const struct bench_args *a)
{
	return run_send(a, 1);
}
static int run_outrr(const struct bench_args *a)
{
	return run_rr(a, 1);
}

const struct workload wl_netsend = {"netsend", "1 MiB over TCP to the peer VM's sink", 4, 16,
				    run_netsend};
const struct workload wl_netrr = {"netrr", "1-byte TCP round trip with the peer VM", 200, 1000,
				  run_netrr};
const struct workload wl_outsend = {"outsend", "1 MiB over TCP to a sink outside", 2, 8,
				    run_outsend};
const struct workload wl_outrr = {"outrr", "1-byte TCP round trip with a server outside", 100, 500,
				  run_outrr};

/* keelbench quit: ends the peer's server (keel.bench_peer=), if there is one */
int bench_net_quit(void)
{
	read_cmdline();
	if (!peer[0])
		return 0;
	int fd = tcp_connect(peer, base_port + 9, 1);
	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}

static int listen_on(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	/* KEEL_BENCH_BIND: one address only (the development machine's server: 127.0.0.1) */
	const char *bind_ip = getenv("KEEL_BENCH_BIND");
	if (bind_ip && inet_pton(AF_INET, bind_ip, &sa.sin_addr) != 1)
		bench_die("parsing KEEL_BENCH_BIND");
	if (fd < 0)
		bench_die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4))
		bench_die("bind/listen");
	return fd;
}

/* keelbench serve: sink on BASE, echo on BASE+1, BASE+9 ends it; one connection at a time
 * (the client runs one workload at a time) */
int bench_net_serve(void)
{
	static char buf[WRITE_SZ];
	read_cmdline();
	int l[3] = {listen_on(base_port), listen_on(base_port + 1), listen_on(base_port + 9)};
	printf("keelbench: serving on ports %d (sink), %d (echo), %d (quit)\n", base_port,
	       base_port + 1, base_port + 9);
	fflush(stdout);
	for (;;) {
		struct pollfd p[3] = {{l[0], POLLIN, 0}, {l[1], POLLIN, 0}, {l[2], POLLIN, 0}};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			bench_die("poll");
		}
		for (int k = 0; k < 3; k++) {
			if (!(p[k].revents & POLLIN))
				continue;
			int c = accept(l[k], NULL, NULL);
			if (c < 0)
				continue;
			if (k == 2) {
				close(c);
				printf("keelbench: server ends\n");
				return 0;
			}
			int one = 1;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			ssize_t n;
			while ((n = read(c, buf, sizeof(buf))) > 0)
				if (k == 1 && write(c, buf, (size_t)n) != n)
					break;
			close(c);
		}
	}
}

/* frames sent plus received by the first Ethernet interface (loopback natively), -1 when
 * there is none: keelbench prints the count per repeat for exits per packet */
long bench_net_packets(void)
{
	static char dir[128];
	if (!dir[0]) {
		const char *names[] = {"eth0", "enp0s3", "lo"};
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !dir[0]; i++) {
			char p[128];
			snprintf(p, sizeof(p), "/sys/class/net/%s/statistics", names[i]);
			if (!access(p, R_OK))
				snprintf(dir, sizeof(dir), "%s", p);
		}
		if (!dir[0])
			return -1;
	}
	long sum = 0;
	for (int k = 0; k < 2; k++) {
		char p[160];
		long v = 0;
		snprintf(p, sizeof(p), "%s/%s_packets", dir, k ? "rx" : "tx");
		FILE *f = fopen(p, "r");
		if (!f || fscanf(f, "%ld", &v) != 1)
			v = 0;
		if (f)
			fclose(f);
		sum += v;
	}
	return sum;
}
