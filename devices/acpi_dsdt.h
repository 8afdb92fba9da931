/* The DSDT's body for a VM: \\_S5, the PCI host bridge, COM1, pvpanic and the processors,
 * as AML (devices/aml.h). */
#ifndef KEEL_ACPI_DSDT_H
#define KEEL_ACPI_DSDT_H

#include "acpi_tables.h"
#include "aml.h"

/* Emits the body; *broken is set when a resource template overflowed. */
void acpi_dsdt_body(struct aml *a, const struct acpi_config *cfg, bool *broken);

#endif
