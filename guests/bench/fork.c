/* process creation: fork, the child exits at once, the parent waits for it */
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

static int run(const struct bench_args *a)
{
	bench_start();
	for (long i = 0; i < a->iters; i++) {
		pid_t pid = fork();
		if (pid < 0)
			bench_die("fork");
		if (pid == 0)
			_exit(0);
		int st;
		if (waitpid(pid, &st, 0) != pid)
			bench_die("waitpid");
	}
	bench_stop();
	return 0;
}

const struct workload wl_fork = {"fork", "fork + exit + wait", 100, 1000, run};
