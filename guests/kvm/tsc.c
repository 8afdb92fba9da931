/* tsc: prints the time-stamp counter (RDTSC) in decimal, then a newline. Static and
 * libc-free, so that the same binary runs in the KVM host's initramfs (L1) and in the L2
 * guest's. In Bochs the TSC advances one tick per emulated instruction: the difference of
 * two readings is an exact instruction count. */
typedef unsigned long u64;

static long sys3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

void _start(void)
{
	unsigned lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	u64 t = ((u64)hi << 32) | lo;
	char buf[24];
	int i = sizeof(buf);
	buf[--i] = '\n';
	do {
		buf[--i] = (char)('0' + t % 10);
		t /= 10;
	} while (t);
	sys3(1, 1, (long)(buf + i), (long)(sizeof(buf) - i)); /* write(1, ...) */
	sys3(60, 0, 0, 0);                                    /* exit(0) */
	for (;;)
		;
}
