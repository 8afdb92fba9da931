/* CPU-bound: an xorshift loop in registers, no memory traffic and no system calls; what it
 * loses under a hypervisor is the cost of the timer interrupts taken meanwhile */
#include "bench.h"

volatile uint64_t cpu_sink;

static int run(const struct bench_args *a)
{
	uint64_t x = 88172645463325252ULL;
	bench_start();
	for (long i = 0; i < a->iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	bench_stop();
	cpu_sink = x;
	return 0;
}

const struct workload wl_cpu = {"cpu", "xorshift step in registers", 2000000, 20000000, run};
