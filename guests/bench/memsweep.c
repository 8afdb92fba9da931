/* memory sweep wider than the TLB's reach: 64 MiB touched one byte per 4 KiB page (16,384
 * pages; a Skylake STLB covers 6 MiB), already faulted in before the timed window; an
 * operation is one page touched */
#include <stdlib.h>
#include <string.h>
#include "bench.h"

#define SWEEP_BYTES (64L << 20)
#define PAGES (SWEEP_BYTES / 4096)

static volatile char *buf; /* kept between repeats: faulting 64 MiB in is paid once */

static int run(const struct bench_args *a)
{
	if (!buf) {
		buf = malloc(SWEEP_BYTES);
		if (!buf)
			bench_die("malloc");
		memset((void *)buf, 1, SWEEP_BYTES); /* fault everything in first */
	}
	volatile char *p = buf;
	long n = a->iters;
	bench_start();
	/* a stride of one page plus one cache line, so each touch is a new page and line */
	for (long i = 0, off = 0; i < n; i++) {
		p[off]++;
		off += 4096 + 64;
		if (off >= SWEEP_BYTES)
			off -= SWEEP_BYTES;
	}
	bench_stop();
	return 0;
}

const struct workload wl_memsweep = {"memsweep", "one byte per 4 KiB page over 64 MiB (per page)",
				     524288, 4194304, run};
