/* page faults: mmap an anonymous region, write one byte per 4 KiB page (one fault each),
 * munmap it; an operation is one page faulted in (its share of mmap/munmap included) */
#include <sys/mman.h>
#include "bench.h"

#define REGION_PAGES 64 /* 256 KiB per mmap */

static int run(const struct bench_args *a)
{
	long rounds = (a->iters + REGION_PAGES - 1) / REGION_PAGES;
	bench_start();
	for (long r = 0; r < rounds; r++) {
		volatile char *p = mmap(0, REGION_PAGES * 4096L, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			bench_die("mmap");
		for (long i = 0; i < REGION_PAGES; i++)
			p[i * 4096] = 1;
		munmap((void *)p, REGION_PAGES * 4096L);
	}
	bench_stop();
	return 0;
}

const struct workload wl_pagefault = {"pagefault", "mmap, touch every page, munmap (per page)",
				      4096, 32768, run};
