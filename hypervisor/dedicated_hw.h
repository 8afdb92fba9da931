/* The machine side of dedicated devices: the one registry of the machine's dedicated
 * devices, bound to the IOAPIC that routes their interrupt lines to Keel's handler. */
#ifndef KEEL_DEDICATED_HW_H
#define KEEL_DEDICATED_HW_H

#include "dedicated.h"

/* Finds the IOAPIC, masks every pin, and readies the registry (after time_init: it needs
 * the local APIC on). */
void ded_hw_init(void);
/* The machine's registry (ded_claim / ded_release take it). */
struct dedicated *ded_machine(void);

#endif
