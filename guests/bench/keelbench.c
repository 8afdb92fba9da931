/* keelbench: the guest side of make bench, one static program with the workloads as
 * subcommands (one ~800 KiB static binary instead of one per workload).
 *
 *   keelbench run [--quick] [--reps R] [--iters N] [--sync] WORKLOAD...  (or "all")
 *   keelbench boot      the TSC read when the kernel started init (see below)
 *   keelbench list      the workloads, one per line: name, quick and full sizes, what
 *   keelbench rdtsc     the TSC now
 * keelbench serve: the network workloads' server (net.c); keelbench quit ends the peer's.
 * The disk workloads (disk.c) use the device keel.bench_disk= names on the kernel command
 * line; "all" includes them only when it names one.
 * Started as "init" (the kernel's rdinit=/bench/init), it reads the TSC before anything
 * else, puts it in KEEL_INIT_TSC and becomes /init: that is the boot-to-init figure.
 * With --sync it prints "BENCH-SYNC <label> start=<tsc> end=<tsc>" before and after each
 * workload's timed repeats (and twice with nothing between, first; and as init, "init"),
 * then waits for a line on stdin: the harness reads Keel's exit counters meanwhile. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

static const struct workload *const workloads[] = {
    &wl_syscall,  &wl_pagefault, &wl_fork,    &wl_pipe,	 &wl_memsweep, &wl_cpu,	  &wl_diskwrite,
    &wl_diskread, &wl_disklat,	 &wl_netsend, &wl_netrr, &wl_outsend,  &wl_outrr,
};
#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

/* the disk workloads need the device keel.bench_disk= names: "all" skips them without one */
static int is_disk(const struct workload *w)
{
	return w == &wl_diskwrite || w == &wl_diskread || w == &wl_disklat;
}

/* the network workloads need a server: "all" skips those whose server is not named */
static int skip_in_all(const struct workload *w)
{
	if (is_disk(w))
		return !bench_disk_named();
	if (w == &wl_netsend || w == &wl_netrr)
		return !bench_net_named(0);
	if (w == &wl_outsend || w == &wl_outrr)
		return !bench_net_named(1);
	return 0;
}

static int is_net(const struct workload *w)
{
	return w == &wl_netsend || w == &wl_netrr || w == &wl_outsend || w == &wl_outrr;
}

static uint64_t t0_tsc, t1_tsc, t0_ns, t1_ns;
static long pk0, pk1; /* the interface's frames around the window (network workloads) */
static int count_packets;
static struct rusage ru0, ru1; /* page faults and context switches in the window */
static const char *current = "keelbench";

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void bench_start(void)
{
	pk0 = count_packets ? bench_net_packets() : -1;
	getrusage(RUSAGE_SELF, &ru0);
	t0_ns = mono_ns();
	t0_tsc = rdtsc();
}

void bench_stop(void)
{
	t1_tsc = rdtsc();
	t1_ns = mono_ns();
	getrusage(RUSAGE_SELF, &ru1);
	pk1 = count_packets ? bench_net_packets() : -1;
}

void bench_die(const char *what)
{
	fprintf(stderr, "keelbench: %s: %s failed: %s\n", current, what, strerror(errno));
	exit(1);
}

static const struct workload *find(const char *name)
{
	for (size_t i = 0; i < NWORKLOADS; i++)
		if (!strcmp(workloads[i]->name, name))
			return workloads[i];
	return NULL;
}

/* start: the TSC when the guest went on after the last sync point (0 for the first);
 * end: the TSC now. The harness charges the exits between two points to that window. */
static void sync_point(const char *label)
{
	static uint64_t resumed;
	char line[64];
	printf("BENCH-SYNC %s start=%" PRIu64 " end=%" PRIu64 "\n", label, resumed, rdtsc());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		fprintf(stderr, "keelbench: no answer to BENCH-SYNC %s\n", label);
	resumed = rdtsc();
}

/* A warm-up run (a tenth of the size, not reported: first-touch and cache effects), then
 * the timed repeats between two sync points; the BENCH lines are printed afterwards, so
 * their console output is outside the window the harness charges to the workload. */
static int run_one(const struct workload *w, long iters, int reps, int quick, int sync)
{
	struct bench_args a = {.iters = iters / 10 ? iters / 10 : 1, .quick = quick};
	uint64_t cyc[64];
	double ops[64];
	long minflt[64], csw[64], pkts[64];
	char label[64];
	if (reps > 64)
		reps = 64;
	current = w->name;
	count_packets = is_net(w);
	if (w->run(&a))
		return 1;
	a.iters = iters;
	if (sync) {
		snprintf(label, sizeof(label), "before-%s", w->name);
		sync_point(label);
	}
	for (int r = 0; r < reps; r++) {
		if (w->run(&a))
			return 1;
		uint64_t ns = t1_ns - t0_ns;
		cyc[r] = t1_tsc - t0_tsc;
		ops[r] = ns ? (double)iters * 1e9 / (double)ns : 0;
		minflt[r] = ru1.ru_minflt - ru0.ru_minflt;
		csw[r] = (ru1.ru_nvcsw - ru0.ru_nvcsw) + (ru1.ru_nivcsw - ru0.ru_nivcsw);
		pkts[r] = pk0 >= 0 && pk1 >= 0 ? pk1 - pk0 : -1;
	}
	if (sync) {
		snprintf(label, sizeof(label), "after-%s", w->name);
		sync_point(label);
	}
	for (int r = 0; r < reps; r++) {
		char pk[32] = "";
		if (pkts[r] >= 0)
			snprintf(pk, sizeof(pk), " packets=%ld", pkts[r]);
		printf("BENCH name=%s rep=%d iters=%ld cycles=%" PRIu64 " cyc_per_op=%.1f "
		       "ops_per_sec=%.1f minflt=%ld csw=%ld%s\n",
		       w->name, r, iters, cyc[r], (double)cyc[r] / (double)iters, ops[r], minflt[r],
		       csw[r], pk);
	}
	fflush(stdout);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	int quick = 0, reps = 5, sync = 0, rc = 0;
	long iters = 0;
	const struct workload *sel[NWORKLOADS * 4];
	size_t nsel = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--sync"))
			sync = 1;
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
			iters = atol(argv[++i]);
		else if (!strcmp(argv[i], "all")) {
			for (size_t k = 0; k < NWORKLOADS && nsel < NWORKLOADS * 4; k++)
				if (!skip_in_all(workloads[k]))
					sel[nsel++] = workloads[k];
		} else if (find(argv[i]) && nsel < NWORKLOADS * 4)
			sel[nsel++] = find(argv[i]);
		else if (!strcmp(argv[i], "boot"))
			continue; /* reported by `keelbench boot` */
		else {
			fprintf(stderr, "keelbench: unknown workload or option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (reps < 1)
		reps = 1;
	if (sync) { /* nothing between these two: what a sync stop itself costs */
		sync_point("before-sync");
		sync_point("after-sync");
	}
	for (size_t i = 0; i < nsel; i++) {
		const struct workload *w = sel[i];
		long n = iters ? iters : quick ? w->quick_iters : w->full_iters;
		if (run_one(w, n, reps, quick, sync)) {
			printf("BENCH-FAIL name=%s\n", w->name);
			rc = 1;
		}
	}
	return rc;
}

/* the TSC and the monotonic clock when init started, from the environment */
static int cmd_boot(void)
{
	const char *tsc = getenv("KEEL_INIT_TSC"), *ns = getenv("KEEL_INIT_NS");
	if (!tsc) {
		printf("BENCH-FAIL name=boot (no KEEL_INIT_TSC: boot with rdinit=/bench/init)\n");
		return 1;
	}
	double sec = ns ? strtod(ns, NULL) / 1e9 : 0;
	printf("BENCH name=boot rep=0 iters=1 cycles=%s cyc_per_op=%s ops_per_sec=%.4f\n", tsc, tsc,
	       sec > 0 ? 1 / sec : 0);
	return 0;
}

/* Whether the kernel command line asks for sync stops: pid 1 mounts /proc for a moment to
 * read it (keel.* parameters reach neither init's argv nor its environment). */
static int sync_asked(void)
{
	char line[4096];
	size_t n = 0;
	if (mount("proc", "/proc", "proc", 0, NULL))
		return 0;
	FILE *f = fopen("/proc/cmdline", "r");
	if (f) {
		n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
	}
	umount("/proc");
	line[n] = 0;
	return strstr(line, "keel.bench_sync=1") != NULL;
}

/* pid 1 for a moment: the TSC first, then the ordinary init script. With sync stops, the
 * first stop is here, so that the harness reads Keel's counters for boot-to-init itself. */
static int as_init(char **argv)
{
	uint64_t tsc = rdtsc();
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, tsc);
	setenv("KEEL_INIT_TSC", buf, 1);
	snprintf(buf, sizeof(buf), "%" PRIu64, mono_ns());
	setenv("KEEL_INIT_NS", buf, 1);
	if (sync_asked()) {
		char line[64];
		printf("BENCH-SYNC init start=0 end=%" PRIu64 "\n", tsc);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			fprintf(stderr, "keelbench: no answer to BENCH-SYNC init\n");
	}
	argv[0] = "/init";
	execv("/init", argv);
	perror("keelbench: exec /init");
	return 1;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (!strcmp(base, "init"))
		return as_init(argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (argc == 2 && !strcmp(argv[1], "boot"))
		return cmd_boot();
	if (argc == 2 && !strcmp(argv[1], "serve"))
		return bench_net_serve();
	if (argc == 2 && !strcmp(argv[1], "quit"))
		return bench_net_quit();
	if (argc == 2 && !strcmp(argv[1], "rdtsc")) {
		printf("%" PRIu64 "\n", rdtsc());
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (size_t i = 0; i < NWORKLOADS; i++)
			printf("%s %ld %ld %s\n", workloads[i]->name, workloads[i]->quick_iters,
			       workloads[i]->full_iters, workloads[i]->what);
		printf("boot 1 1 kernel start to init (TSC when init starts)\n");
		return 0;
	}
	fprintf(stderr, "usage: keelbench run [--quick] [--reps R] [--iters N] [--sync] "
			"WORKLOAD...|all\n       keelbench boot | list | rdtsc | serve | quit\n");
	return 2;
}
