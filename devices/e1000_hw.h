/* The machine's NIC at boot: the PCI probe, the one driver instance, the polling entry the
 * scheduler loop calls, and the boot self-test (nic_selftest on Keel's command line). */
#ifndef KEEL_E1000_HW_H
#define KEEL_E1000_HW_H

#include "e1000.h"

/* Finds the 82540EM on PCI bus 0 and starts the driver (after time_init and the frame
 * allocator); prints one line saying what it found. */
void machine_nic_boot(void);
/* The running driver, NULL when the machine has none (machine_nic_absent_why says why). */
struct e1000 *machine_nic(void);
const char *machine_nic_absent_why(void);
/* e1000_poll on the machine's NIC, 0 when there is none: Keel's loop calls it every pass. */
unsigned machine_nic_poll(void);
/* Sends an ARP request for 10.0.2.2 (slirp's gateway) from 10.0.2.15 and waits up to 5 s
 * for the reply; prints "keel: nic self-test passed: ..." or "... failed: ...". */
bool machine_nic_selftest(void);

#endif
