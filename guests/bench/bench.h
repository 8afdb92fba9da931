/* Keel's guest-side benchmarks: what every workload shares. Each workload times N
 * operations with RDTSC (in Bochs one TSC tick is one instruction) and CLOCK_MONOTONIC,
 * and prints one line per repeat:
 *   BENCH name=<w> rep=<r> iters=<n> cycles=<total> cyc_per_op=<x> ops_per_sec=<y>
 *         minflt=<page faults> csw=<context switches>     (the process's, in the window) */
#ifndef KEEL_BENCH_H
#define KEEL_BENCH_H

#include <stdint.h>

struct bench_args {
	long iters; /* operations per repeat */
	int quick;  /* the small sizes of make bench QUICK=1 */
};

struct workload {
	const char *name;
	const char *what;
	long quick_iters, full_iters;
	/* runs args->iters operations between bench_start() and bench_stop(); 0 on success */
	int (*run)(const struct bench_args *args);
};

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* the timed window of the current repeat */
void bench_start(void);
void bench_stop(void);

/* a message on stderr naming the workload, then exit status 1 */
void bench_die(const char *what);

/* whether the kernel command line names a disk for the disk workloads */
int bench_disk_named(void);

extern const struct workload wl_syscall, wl_pagefault, wl_fork, wl_pipe, wl_memsweep, wl_cpu;
extern const struct workload wl_diskwrite, wl_diskread, wl_disklat;
extern const struct workload wl_netsend, wl_netrr, wl_outsend, wl_outrr;

/* net.c: whether keel.bench_peer= (outside 0) or keel.bench_out= (1) names a server; the
 * server (`keelbench serve`) and its end (`keelbench quit`); the interface's frames sent and
 * received (-1 without one) */
int bench_net_named(int outside);
int bench_net_serve(void);
int bench_net_quit(void);
long bench_net_packets(void);

#endif
