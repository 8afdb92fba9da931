/* The hardware side of the machine disk: port I/O for the ATA driver's ops table (in, out,
 * rep insw/outsw), the TSC as its clock, the boot probe of the four legacy positions, and
 * the boot self-test that prints its stamp and throughput. */
#include "machine_disk_hw.h"
#include "ata.h"
#include "machine_disk.h"
#include "../hypervisor/console.h"
#include "../hypervisor/keel.h"
#include "../hypervisor/lib.h"

static u8 hw_inb(void *ctx, u16 port)
{
	(void)ctx;
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void hw_outb(void *ctx, u16 port, u8 v)
{
	(void)ctx;
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static void hw_insw(void *ctx, u16 port, u16 *buf, u32 count)
{
	(void)ctx;
	__asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
}

static void hw_outsw(void *ctx, u16 port, const u16 *buf, u32 count)
{
	(void)ctx;
	__asm__ volatile("cld; rep outsw" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
}

static u64 hw_now_us(void *ctx)
{
	(void)ctx;
	u64 per_us = tsc_hz / 1000000;
	return time_now() / (per_us ? per_us : 1);
}

static const struct ata_port_ops hw_ops = {hw_inb, hw_outb, hw_insw, hw_outsw, hw_now_us};

static struct ata_drive drive;

static void print_partitions(const struct machine_disk *md)
{
	char size[24];
	machine_disk_size(md->whole.sectors, size, sizeof(size));
	kprintf("keel: disk %s: %s (%llu sectors, %s, %s), ", md->where, size,
		(unsigned long long)md->whole.sectors, drive.lba48 ? "LBA48" : "LBA28",
		drive.model[0] ? drive.model : "no model");
	if (!md->table_ok) {
		kprintf("partition table refused: %s\n", md->table_why);
		return;
	}
	kprintf("%s, %u partitions", part_scheme_name(md->table.scheme), md->table.n);
	for (unsigned i = 0; i < md->table.n; i++) {
		char label[PART_NAME_MAX + 8];
		machine_disk_part_label(&md->parts[i], label, sizeof(label));
		machine_disk_size(md->parts[i].info.sectors, size, sizeof(size));
		kprintf("%s %s (%s)", i ? "," : ":", label, size);
	}
	kprintf("\n");
	if (md->table.note[0])
		kprintf("keel: disk %s: %s\n", md->where, md->table.note);
	for (unsigned i = 0; i < md->table.n; i++) {
		const struct part_info *p = &md->parts[i].info;
		machine_disk_size(p->sectors, size, sizeof(size));
		kprintf("keel: disk %s partition %u '%s': %s, sectors %llu..%llu\n", md->where,
			p->number, p->name, size, (unsigned long long)p->start,
			(unsigned long long)(p->start + p->sectors - 1));
	}
}

void machine_disk_boot(void)
{
	char found[160] = "";
	size_t used = 0;
	for (unsigned pos = 0; pos < 4; pos++) {
		struct ata_drive d;
		char why[80];
		enum ata_kind k = ata_probe(&d, &hw_ops, NULL, pos / 2, pos % 2, why, sizeof(why));
		if (k == ATA_DISK && drive.kind != ATA_DISK) {
			drive = d;
			continue;
		}
		if (used + 1 < sizeof(found))
			used += (size_t)ksnprintf(found + used, sizeof(found) - used, "%s%s: %s",
						  used ? ", " : "", ata_drive_name(&d),
						  k == ATA_DISK ? "another disk, unused" : why);
	}
	if (drive.kind != ATA_DISK) {
		machine_disk_absent(&machine_disk, found);
		kprintf("keel: disk: no ATA disk (%s)\n", found);
		return;
	}
	struct blk_backend whole;
	ata_backend(&drive, &whole);
	machine_disk_attach(&machine_disk, &whole, ata_drive_name(&drive));
	print_partitions(&machine_disk);
	pr_info("keel: disk: also probed %s\n", found);
}

static u64 tsc_clock(void)
{
	return time_now();
}

/* bytes per second of TSC time, in tenths of MB/s */
static u64 mb_per_s_x10(u64 bytes, u64 ticks)
{
	if (!ticks)
		return 0;
	return bytes * 10 * (tsc_hz / 1000) / ticks / 1000;
}

bool machine_disk_selftest(const char *part, u32 mib)
{
	u64 prev, now, rt, wt;
	char why[160];
	if (!machine_disk_stamp(&machine_disk, part, &prev, &now, why, sizeof(why))) {
		kprintf("keel: disk self-test failed: %s\n", why);
		return false;
	}
	if (prev)
		kprintf("keel: disk self-test: partition %s held stamp %llu from an earlier boot\n",
			part, (unsigned long long)prev);
	else
		kprintf("keel: disk self-test: partition %s held no stamp\n", part);
	kprintf("keel: disk self-test: stamp %llu written, flushed and read back\n",
		(unsigned long long)now);
	u32 sectors = mib * (1u << 20) / BLK_SECTOR_SIZE;
	if (!machine_disk_bench(&machine_disk, part, sectors, tsc_clock, &rt, &wt, why,
				sizeof(why))) {
		kprintf("keel: disk self-test failed: %s\n", why);
		return false;
	}
	u64 bytes = (u64)sectors * BLK_SECTOR_SIZE, r = mb_per_s_x10(bytes, rt),
	    w = mb_per_s_x10(bytes, wt);
	kprintf("keel: disk throughput: read %u MiB in %llu ticks (%llu.%llu MB/s), write %u MiB "
		"in %llu ticks (%llu.%llu MB/s), TSC %llu Hz, PIO %u sectors per command\n",
		mib, (unsigned long long)rt, (unsigned long long)(r / 10),
		(unsigned long long)(r % 10), mib, (unsigned long long)wt,
		(unsigned long long)(w / 10), (unsigned long long)(w % 10),
		(unsigned long long)tsc_hz, ATA_MAX_SECTORS_PER_CMD);
	return true;
}
