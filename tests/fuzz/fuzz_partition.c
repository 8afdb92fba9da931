/* libFuzzer target for the partition-table parser (devices/partition.c): the input is the
 * disk. Its sectors repeat to fill a disk of (input sectors + the last 4 bytes' count)
 * sectors, so that a small input also places a backup GPT at the disk's end. Checks the
 * parser's promises: an accepted table's partitions lie on the disk, apart from each other,
 * with printable names; a refused one says why and keeps nothing. `make fuzz-partition`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/partition.h"

struct fuzz_disk {
	const uint8_t *data;
	u64 data_sectors;
};

static bool fd_read(void *ctx, u64 lba, u32 n, void *buf)
{
	struct fuzz_disk *d = ctx;
	for (u32 i = 0; i < n; i++)
		memcpy((uint8_t *)buf + i * 512, d->data + ((lba + i) % d->data_sectors) * 512,
		       512);
	return true;
}

static bool fd_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	(void)ctx, (void)lba, (void)n, (void)buf;
	abort(); /* the parser only reads */
}

static const struct blk_ops fd_ops = {fd_read, fd_write, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 512)
		return 0;
	struct fuzz_disk d = {data, size / 512};
	const uint8_t *t = data + size - 4;
	u64 extra = (u64)t[0] | (u64)t[1] << 8 | (u64)t[2] << 16 | (u64)t[3] << 24;
	struct blk_backend b = {&fd_ops, &d, d.data_sectors + extra, false, "fuzz"};
	static struct part_table pt;
	char why[160];
	why[0] = 0;
	if (!part_scan(&pt, &b, why, sizeof(why))) {
		if (!why[0] || pt.n)
			abort();
		return 0;
	}
	if (pt.n > PART_MAX)
		abort();
	for (unsigned i = 0; i < pt.n; i++) {
		const struct part_info *p = &pt.p[i];
		if (!p->sectors || p->start + p->sectors > b.sectors ||
		    p->start + p->sectors < p->start)
			abort();
		if (strnlen(p->name, sizeof(p->name)) == sizeof(p->name))
			abort();
		for (const char *c = p->name; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				abort();
		for (unsigned j = i + 1; j < pt.n; j++) {
			const struct part_info *q = &pt.p[j];
			if (p->start < q->start + q->sectors && q->start < p->start + p->sectors)
				abort();
		}
	}
	return 0;
}
