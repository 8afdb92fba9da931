/* null system call: getppid through syscall(2), so no libc caching can skip the kernel */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>
#include "bench.h"

static int run(const struct bench_args *a)
{
	bench_start();
	for (long i = 0; i < a->iters; i++)
		syscall(SYS_getppid);
	bench_stop();
	return 0;
}

const struct workload wl_syscall = {"syscall", "null system call (getppid)", 20000, 200000, run};
