/* The machine disk at boot: the ATA probe on the real ports, the partition lines, and the
 * optional self-test (a stamp that must survive into the next boot, and raw throughput). */
#ifndef KEEL_MACHINE_DISK_HW_H
#define KEEL_MACHINE_DISK_HW_H

#include "../hypervisor/types.h"

/* Probes ata0/ata1 master/slave, attaches the first ATA disk to machine_disk and prints
 * one line for the disk and one per partition. Needs time_init() (the probe's timeouts). */
void machine_disk_boot(void);

/* The self-test on partition `part` (the command line's disk_selftest=PART): prints the
 * previous boot's stamp, writes the next, and the raw read and write throughput of `mib`
 * MiB; false after printing why it failed. */
bool machine_disk_selftest(const char *part, u32 mib);

#endif
