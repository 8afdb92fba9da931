/* Host tool: builds a VM's ACPI tables with devices/acpi_tables.c and writes each table to
 * DIR/<signature>.dat (and the RSDP to rsdp.dat), for `iasl -d` (scripts/acpi-disasm). */
#include <stdio.h>
#include <stdlib.h>

#include "../../devices/acpi_tables.h"

static int write_file(const char *dir, const char *name, const u8 *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "acpi_dump: cannot write %s\n", path);
		return 1;
	}
	return 0;
}

static u32 rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [NCPUS [GSI0 GSI1 GSI2 GSI3]]\n", argv[0]);
		return 2;
	}
	struct acpi_config cfg;
	acpi_config_default(&cfg, argc > 2 ? (unsigned)atoi(argv[2]) : 2);
	for (int i = 0; i < 4 && argc > 3 + i; i++)
		cfg.pci_intx_gsi[i] = (u8)atoi(argv[3 + i]);
	static u8 buf[ACPI_TABLES_MAX];
	struct acpi_blob_info info;
	enum acpi_build_result r =
	    acpi_tables_build(&cfg, ACPI_TABLES_GPA, buf, sizeof(buf), &info);
	if (r != ACPI_BUILD_OK) {
		fprintf(stderr, "acpi_dump: %s\n", info.error);
		return 1;
	}
	const size_t offs[] = {info.xsdt_offset, info.rsdt_offset, info.fadt_offset,
			       info.madt_offset, info.dsdt_offset};
	const char *names[] = {"xsdt", "rsdt", "facp", "apic", "dsdt"};
	int bad = write_file(argv[1], "rsdp", buf + info.rsdp_offset, 36) |
		  write_file(argv[1], "facs", buf + info.facs_offset, 64) |
		  write_file(argv[1], "blob", buf, info.size);
	for (unsigned i = 0; i < 5; i++)
		bad |= write_file(argv[1], names[i], buf + offs[i], rd32(buf + offs[i] + 4));
	printf("acpi_dump: %zu bytes at 0x%x, RSDP +0x%zx\n", info.size, ACPI_TABLES_GPA,
	       info.rsdp_offset);
	return bad;
}
