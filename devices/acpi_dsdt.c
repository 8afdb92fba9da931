/* The DSDT's device nodes: the PCI host bridge (windows, _PRT), COM1, pvpanic, the
 * processors and \_S5, emitted with the AML builder. */
#include "acpi_dsdt.h"
#include "acpi_pm.h"
#include "../hypervisor/lib.h"

static void dsdt_pci0(struct aml *a, const struct acpi_config *cfg, bool *broken)
{
	size_t dev = aml_device(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisa_id(a, "PNP0A03");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);

	struct res r = {0};
	res_word_window(&r, RES_TYPE_BUS, 0, 0x00, 0xff);
	res_io(&r, 0xcf8, 8); /* the configuration mechanism's own ports */
	res_word_window(&r, RES_TYPE_IO, RES_IO_ENTIRE, 0x0000, 0x0cf7);
	res_word_window(&r, RES_TYPE_IO, RES_IO_ENTIRE, 0x0d00, 0xffff);
	res_dword_memory(&r, cfg->pci_mmio_base, cfg->pci_mmio_base + cfg->pci_mmio_size - 1);
	aml_crs(a, &r, broken);

	/* _PRT: Package { Address (slot << 16 | 0xffff: any function), Pin, Source (0: the
	 * next field is a GSI), GSI }, the usual (slot + pin) % 4 swizzle. */
	if (cfg->pci_intx_gsi[0]) {
		aml_name(a, "_PRT");
		size_t prt = aml_package(a, 32 * 4);
		for (unsigned slot = 0; slot < 32; slot++) {
			for (unsigned pin = 0; pin < 4; pin++) {
				size_t e = aml_package(a, 4);
				aml_integer(a, (u64)slot << 16 | 0xffff);
				aml_integer(a, pin);
				aml_integer(a, 0);
				aml_integer(a, cfg->pci_intx_gsi[(slot + pin) % 4]);
				aml_close(a, e);
			}
		}
		aml_close(a, prt);
	}
	aml_close(a, dev);
}

static void dsdt_com1(struct aml *a, bool *broken)
{
	size_t dev = aml_device(a, "COM1");
	aml_name(a, "_HID");
	aml_eisa_id(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	struct res r = {0};
	res_io(&r, 0x3f8, 8);
	res_irq(&r, 4);
	aml_crs(a, &r, broken);
	aml_close(a, dev);
}

/* The pvpanic device (QEMU's ISA "QEMU0001"): a guest kernel's panic notifier writes to
 * its port, so the hypervisor learns of the crash and applies on_crash. */
static void dsdt_pvpanic(struct aml *a, u16 port, bool *broken)
{
	size_t dev = aml_device(a, "PEVT");
	aml_name(a, "_HID");
	aml_string(a, "QEMU0001");
	struct res r = {0};
	res_io(&r, port, 1);
	aml_crs(a, &r, broken);
	aml_close(a, dev);
}

/* Processor devices whose _UID matches the MADT's processor UID, so that Linux's ACPI
 * processor driver binds each CPU (no _CST: C1 by HLT only, per the FADT). */
static void dsdt_cpus(struct aml *a, unsigned ncpus)
{
	static const char hex[] = "0123456789ABCDEF";
	for (unsigned i = 0; i < ncpus; i++) {
		char name[5] = {'C', 'P', hex[i >> 4], hex[i & 15], 0};
		size_t dev = aml_device(a, name);
		aml_name(a, "_HID");
		aml_string(a, "ACPI0007");
		aml_name(a, "_UID");
		aml_integer(a, i);
		aml_close(a, dev);
	}
}

/* The DSDT's AML body (after its header). */
void acpi_dsdt_body(struct aml *a, const struct acpi_config *cfg, bool *broken)
{
	/* \_S5: SLP_TYP for PM1a and PM1b (none here), two reserved. Only S5 is offered. */
	aml_name(a, "\\_S5_");
	size_t pkg = aml_package(a, 4);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_close(a, pkg);

	size_t sb = aml_scope(a, "\\_SB_");
	dsdt_pci0(a, cfg, broken);
	if (cfg->com1)
		dsdt_com1(a, broken);
	if (cfg->pvpanic_port)
		dsdt_pvpanic(a, cfg->pvpanic_port, broken);
	dsdt_cpus(a, cfg->ncpus);
	aml_close(a, sb);
}
