/* context switches: a byte goes back and forth between two processes over two pipes; an
 * operation is one round trip (two switches on one CPU) */
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

static int run(const struct bench_args *a)
{
	int there[2], back[2];
	if (pipe(there) || pipe(back))
		bench_die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		bench_die("fork");
	char c = 0;
	if (pid == 0) {
		close(there[1]);
		close(back[0]);
		while (read(there[0], &c, 1) == 1)
			if (write(back[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(there[0]);
	close(back[1]);
	bench_start();
	for (long i = 0; i < a->iters; i++) {
		if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
			bench_die("pipe round trip");
	}
	bench_stop();
	close(there[1]);
	close(back[0]);
	int st;
	waitpid(pid, &st, 0);
	return 0;
}

const struct workload wl_pipe = {"pipe", "pipe ping-pong round trip (2 context switches)", 2000,
				 20000, run};
