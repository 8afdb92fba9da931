/* Disk images in memory for the partition tests: a RAM block backend (that can fail reads
 * from a sector on) and builders of a valid GPT and MBR, which the tests then damage. */
#ifndef KEEL_PART_FAKE_H
#define KEEL_PART_FAKE_H

#include "test.h"
#include "../../devices/partition.h"

struct ramdisk_img {
	u8 *data;
	u64 fail_from; /* reads touching sectors >= this fail */
	unsigned reads, writes;
};

static inline bool img_read(void *ctx, u64 lba, u32 n, void *buf)
{
	struct ramdisk_img *r = ctx;
	r->reads++;
	if (lba + n > r->fail_from)
		return false;
	memcpy(buf, r->data + lba * 512, (size_t)n * 512);
	return true;
}

static inline bool img_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	struct ramdisk_img *r = ctx;
	r->writes++;
	memcpy(r->data + lba * 512, buf, (size_t)n * 512);
	return true;
}

static const struct blk_ops img_ops = {img_read, img_write, NULL};

static inline struct blk_backend img_new(struct ramdisk_img *r, u64 sectors)
{
	memset(r, 0, sizeof(*r));
	r->data = test_alloc(sectors * 512);
	r->fail_from = ~0ULL;
	struct blk_backend b = {&img_ops, r, sectors, false, "img"};
	return b;
}

struct gpt_part_spec {
	u64 first, last;
	const char *name;
	unsigned slot; /* entry index */
};

static inline void put64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

static inline void put32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static inline u32 get32le(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/* the header at lba, CRCs recomputed over its entry array and itself */
static inline void gpt_fix(u8 *disk, u64 n, u64 lba)
{
	u8 *h = disk + lba * 512;
	u64 entries = 0;
	for (int i = 0; i < 8; i++)
		entries |= (u64)h[72 + i] << (8 * i);
	u32 num = get32le(h + 80), size = get32le(h + 84), hsize = get32le(h + 12);
	if ((u64)num * size < 1u << 20 && entries < n && (u64)num * size <= (n - entries) * 512)
		put32(h + 88, crc32_update(0, disk + entries * 512, (size_t)num * size));
	put32(h + 16, 0);
	if (hsize <= 512)
		put32(h + 16, crc32_update(0, h, hsize));
}

/* A protective MBR, both headers with 128 entries of 128 bytes, the given partitions. */
static inline void gpt_build(u8 *disk, u64 n, const struct gpt_part_spec *p, unsigned np)
{
	memset(disk, 0, 34 * 512);
	memset(disk + (n - 33) * 512, 0, 33 * 512);
	disk[446 + 4] = 0xee;
	put32(disk + 446 + 8, 1);
	put32(disk + 446 + 12, (u32)(n - 1 > 0xffffffffu ? 0xffffffffu : n - 1));
	disk[510] = 0x55;
	disk[511] = 0xaa;
	for (unsigned i = 0; i < np; i++) {
		u8 *e = disk + 2 * 512 + p[i].slot * 128;
		e[0] = 0xaf; /* any non-zero type GUID */
		e[16] = (u8)(i + 1);
		put64(e + 32, p[i].first);
		put64(e + 40, p[i].last);
		for (unsigned c = 0; p[i].name[c] && c < 36; c++)
			e[56 + 2 * c] = (u8)p[i].name[c];
	}
	memcpy(disk + (n - 33) * 512, disk + 2 * 512, 32 * 512);
	for (int b = 0; b < 2; b++) {
		u64 lba = b ? n - 1 : 1;
		u8 *h = disk + lba * 512;
		memcpy(h, "EFI PART", 8);
		put32(h + 8, 0x00010000);
		put32(h + 12, 92);
		put64(h + 24, lba);
		put64(h + 32, b ? 1 : n - 1);
		put64(h + 40, 34);
		put64(h + 48, n - 34);
		put64(h + 72, b ? n - 33 : 2);
		put32(h + 80, 128);
		put32(h + 84, 128);
		gpt_fix(disk, n, lba);
	}
}

/* an MBR entry: slot 0..3 of the sector at lba */
static inline void mbr_put(u8 *disk, u64 lba, unsigned slot, u8 type, u32 start, u32 sectors)
{
	u8 *s = disk + lba * 512;
	u8 *e = s + 446 + 16 * slot;
	e[4] = type;
	put32(e + 8, start);
	put32(e + 12, sectors);
	s[510] = 0x55;
	s[511] = 0xaa;
}

#endif
