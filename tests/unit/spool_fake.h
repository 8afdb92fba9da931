/* Shared by the spool tests: a RAM block backend that can fail or be read-only, and a fake
 * printer that keeps what it was sent and can be busy. */
#ifndef KEEL_UNIT_SPOOL_FAKE_H
#define KEEL_UNIT_SPOOL_FAKE_H

#include "test.h"
#include "../../devices/spool.h"
#include "../../hypervisor/lib.h"

struct ramdisk {
	u8 *data;
	u64 sectors;
	bool fail_writes;
	u64 fail_data; /* writes at or above this sector fail too (0: none) */
	unsigned writes;
};

static inline bool ram_read(void *ctx, u64 lba, u32 n, void *buf)
{
	struct ramdisk *r = ctx;
	memcpy(buf, r->data + lba * BLK_SECTOR_SIZE, (size_t)n * BLK_SECTOR_SIZE);
	return true;
}

static inline bool ram_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	struct ramdisk *r = ctx;
	if (r->fail_writes || (r->fail_data && lba >= r->fail_data))
		return false;
	r->writes++;
	memcpy(r->data + lba * BLK_SECTOR_SIZE, buf, (size_t)n * BLK_SECTOR_SIZE);
	return true;
}

static const struct blk_ops ram_ops = {ram_read, ram_write, NULL};

static inline struct blk_backend *ramdisk_new(u64 sectors)
{
	struct ramdisk *r = test_alloc(sizeof(*r));
	r->data = test_alloc(sectors * BLK_SECTOR_SIZE);
	r->sectors = sectors;
	struct blk_backend *b = test_alloc(sizeof(*b));
	*b = (struct blk_backend){&ram_ops, r, sectors, false, "spool0"};
	return b;
}

static inline struct ramdisk *ramdisk_of(const struct blk_backend *b)
{
	return b->ctx;
}

struct paper {
	u8 *buf;
	size_t len, cap;
	unsigned busy_every; /* every Nth byte offered is refused once (0: never busy) */
	unsigned offers;
};

static inline bool paper_put(void *ctx, u8 c)
{
	struct paper *p = ctx;
	p->offers++;
	if (p->busy_every && p->offers % p->busy_every == 0)
		return false;
	if (p->len < p->cap)
		p->buf[p->len++] = c;
	return true;
}

static inline struct paper *paper_new(size_t cap)
{
	struct paper *p = test_alloc(sizeof(*p));
	p->buf = test_alloc(cap + 1);
	p->cap = cap;
	return p;
}

static inline struct spool_printer *printer_new(struct paper *p)
{
	struct spool_printer *pr = test_alloc(sizeof(*pr));
	*pr = (struct spool_printer){paper_put, p};
	return pr;
}

/* Prints until the spool has nothing left (bounded). */
static inline void print_all(struct spool *sp)
{
	for (unsigned i = 0; i < 100000 && spool_busy(sp); i++)
		spool_print(sp, 64);
}

static inline void send(const struct printer_sink *s, const char *text)
{
	printer_bytes(s, (const u8 *)text, strlen(text));
}

#endif
