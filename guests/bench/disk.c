/* disk workloads: dd-like 16 MiB sequential direct writes and reads in 1 MiB requests, and
 * synchronous 4 KiB direct reads at random offsets, on the block device the configuration
 * gives the guest (keel.bench_disk=<name under /dev> on the kernel command line, and
 * keel.bench_disk_mod=<module> when its driver must be loaded first). Writes overwrite the
 * first 16 MiB of that device: the harness names a partition of the bench's own disk image. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/fs.h>
#include "bench.h"

#define CHUNK	  (1L << 20)  /* one operation of diskwrite/diskread: 1 MiB, one request */
#define AREA	  (16L << 20) /* the part of the device the workloads use */
#define LAT_BLOCK 4096L

static char dev[64]; /* /dev/<name>, empty when the command line names none */
static char mod[64];
static void *buf;

/* keel.bench_disk= and keel.bench_disk_mod= from /proc/cmdline (mounted by /init) */
static void read_cmdline(void)
{
	static int done;
	char line[4096], *p;
	size_t n = 0;
	if (done)
		return;
	done = 1;
	FILE *f = fopen("/proc/cmdline", "r");
	if (!f)
		return;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = 0;
	for (p = strtok(line, " \n"); p; p = strtok(NULL, " \n")) {
		if (!strncmp(p, "keel.bench_disk=", 16) && strlen(p + 16) < sizeof(dev) - 6 &&
		    !strchr(p + 16, '/'))
			snprintf(dev, sizeof(dev), "/dev/%s", p + 16);
		else if (!strncmp(p, "keel.bench_disk_mod=", 20) && strlen(p + 20) < sizeof(mod))
			snprintf(mod, sizeof(mod), "%s", p + 20);
	}
}

int bench_disk_named(void)
{
	read_cmdline();
	return dev[0] != 0;
}

/* the device open with O_DIRECT, after loading its driver and waiting for its node (the
 * driver probes asynchronously); exits through bench_die when it never comes or is small */
static int open_disk(int flags)
{
	static int ready;
	if (!bench_disk_named()) {
		errno = ENODEV;
		bench_die("finding keel.bench_disk= on the kernel command line");
	}
	if (!ready) {
		if (mod[0]) {
			pid_t pid = fork();
			if (pid == 0) {
				execl("/sbin/modprobe", "modprobe", mod, (char *)NULL);
				_exit(127);
			}
			if (pid > 0)
				waitpid(pid, NULL, 0);
		}
		struct stat st;
		for (int i = 0; i < 300 && stat(dev, &st); i++)
			usleep(100000);
		if (posix_memalign(&buf, 4096, CHUNK))
			bench_die("posix_memalign");
		for (long i = 0; i < CHUNK; i++)
			((unsigned char *)buf)[i] = (unsigned char)(i * 7 + 1);
	}
	int fd = open(dev, flags | O_DIRECT);
	if (fd < 0)
		bench_die(dev);
	if (!ready) {
		unsigned long long size = 0;
		if (ioctl(fd, BLKGETSIZE64, &size))
			bench_die("BLKGETSIZE64");
		if (size < (unsigned long long)AREA) {
			errno = ENOSPC;
			bench_die("checking for a disk of at least 16 MiB");
		}
		/* where the device sits (PCI IDE, the legacy ports, virtio-pci or -mmio) */
		char sys[128], path[512];
		snprintf(sys, sizeof(sys), "/sys/class/block/%s", dev + 5);
		if (!realpath(sys, path))
			snprintf(path, sizeof(path), "?");
		printf("BENCH-INFO disk %s: %llu bytes, %s\n", dev, size, path);
		/* libata's transfer mode per device: PIO or (U)DMA */
		glob_t g;
		if (!glob("/sys/class/ata_device/dev*/xfer_mode", 0, NULL, &g)) {
			for (size_t i = 0; i < g.gl_pathc; i++) {
				char mode[32] = "";
				FILE *f = fopen(g.gl_pathv[i], "r");
				if (f && fgets(mode, sizeof(mode), f))
					printf("BENCH-INFO disk %s: %s", g.gl_pathv[i] + 22, mode);
				if (f)
					fclose(f);
			}
			globfree(&g);
		}
		ready = 1;
	}
	return fd;
}

/* iters MiB written from the start of the device (wrapping at 16 MiB), then fdatasync:
 * dd bs=1M oflag=direct conv=fsync */
static int run_write(const struct bench_args *a)
{
	int fd = open_disk(O_WRONLY);
	bench_start();
	for (long i = 0; i < a->iters; i++)
		if (pwrite(fd, buf, CHUNK, (i * CHUNK) % AREA) != CHUNK)
			bench_die("pwrite");
	if (fdatasync(fd))
		bench_die("fdatasync");
	bench_stop();
	close(fd);
	return 0;
}

/* iters MiB read from the start of the device: dd bs=1M iflag=direct */
static int run_read(const struct bench_args *a)
{
	int fd = open_disk(O_RDONLY);
	bench_start();
	for (long i = 0; i < a->iters; i++)
		if (pread(fd, buf, CHUNK, (i * CHUNK) % AREA) != CHUNK)
			bench_die("pread");
	bench_stop();
	close(fd);
	return 0;
}

/* iters synchronous 4 KiB direct reads at random 4 KiB-aligned offsets in the 16 MiB: one
 * request in flight, so cycles per operation is the latency of one request */
static int run_lat(const struct bench_args *a)
{
	int fd = open_disk(O_RDONLY);
	uint64_t x = 88172645463325252ULL;
	bench_start();
	for (long i = 0; i < a->iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (pread(fd, buf, LAT_BLOCK, (off_t)(x % (AREA / LAT_BLOCK)) * LAT_BLOCK) !=
		    LAT_BLOCK)
			bench_die("pread");
	}
	bench_stop();
	close(fd);
	return 0;
}

const struct workload wl_diskwrite = {
    "diskwrite", "1 MiB direct write, fdatasync at the end (per MiB, 16 MiB a repeat)", 16, 16,
    run_write};
const struct workload wl_diskread = {"diskread", "1 MiB direct read (per MiB, 16 MiB a repeat)", 16,
				     16, run_read};
const struct workload wl_disklat = {
    "disklat", "4 KiB direct read at a random offset, one at a time (per request)", 100, 400,
    run_lat};
