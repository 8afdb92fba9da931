/* The PC board of Keel's VMs: the guest-physical map, the port map and the device models,
 * as docs/guest-abi.md describes them to guests. Nothing else names these addresses. */
#include "board.h"
#include "vm.h"
#include "vm_net.h"
#include "vm_virtio.h"
#include "../devices/acpi_tables.h"
#include "../guests/loader/linux.h"

static const struct board_region pc_memory[] = {
    {0, GUEST_LOW_RAM_END, BOARD_RAM, LINUX_E820_RAM, "low RAM"},
    {GUEST_LOW_RAM_END, GUEST_HOLE_START - GUEST_LOW_RAM_END, BOARD_RAM, LINUX_E820_RESERVED,
     "EBDA"},
    {GUEST_HOLE_START, GUEST_ROM_START - GUEST_HOLE_START, BOARD_UNMAPPED, 0, "VGA hole"},
    {GUEST_ROM_START, ACPI_TABLES_GPA - GUEST_ROM_START, BOARD_ROM, 0, "option ROMs"},
    {ACPI_TABLES_GPA, GUEST_HIGH_START - ACPI_TABLES_GPA, BOARD_ROM, LINUX_E820_RESERVED,
     "BIOS area: ACPI tables"},
    {GUEST_HIGH_START, BOARD_TO_END, BOARD_RAM, LINUX_E820_RAM, "RAM"},
    /* guest-linear in real mode, where linear is physical: vmx/realmode.c shows its vm86
     * TSS there and refuses a VM that has anything at these addresses */
    {0xffffb000, 0x3000, BOARD_UNMAPPED, 0, "vm86 TSS"},
};

#define AT(field) offsetof(struct vm, field)

/* The emulated IDE disk: a VM whose disk's model is ide. */
static bool wants_ide(const struct vm_config *cfg)
{
	return cfg->disk[0] && cfg->disk_model == DISK_IDE;
}

static bool has_printer(const struct vm_config *cfg)
{
	return cfg->printer;
}

static const struct board_device pc_devices[] = {
    /* the LAPIC first: the models updated after it deliver into an up-to-date APIC */
    {&lapic_device, AT(plat.lapic), {{0}}, LAPIC_DEFAULT_BASE, 0x1000, false, NULL},
    {&ioapic_device, AT(plat.ioapic), {{0}}, IOAPIC_DEFAULT_BASE, 0x1000, false, NULL},
    {&pic_device,
     AT(plat.pic),
     {{PIC_MASTER_BASE, 2}, {PIC_SLAVE_BASE, 2}, {PIC_ELCR_BASE, 2}},
     0,
     0,
     false,
     NULL},
    {&pit_device, AT(plat.pit), {{PIT_BASE, 4}, {PIT_PORT_B, 1}}, 0, 0, true, NULL},
    {&rtc_device, AT(plat.rtc), {{RTC_PORT, 2}}, 0, 0, true, NULL},
    {&acpi_pm_device, AT(plat.pm), {{ACPI_PM_IO_BASE, ACPI_PM_IO_LEN}}, 0, 0, true, NULL},
    {&acpi_reset_device, AT(plat.pm), {{ACPI_RESET_PORT, 1}}, 0, 0, false, NULL},
    {&pvpanic_device, AT(plat.pvpanic), {{PVPANIC_PORT, 1}}, 0, 0, false, NULL},
    /* 0xcf8 alone: a byte at 0xcf9 is the reset register, not PCI's */
    {&pci_host_device,
     AT(plat.pci),
     {{PCI_CONFIG_ADDRESS, 1}, {PCI_CONFIG_DATA, 4}},
     0,
     0,
     false,
     NULL},
    {&uart_device, AT(uart), {{UART_COM1_BASE, 8}}, 0, 0, false, NULL},
    {&debug_exit_device, AT(dbg_exit), {{DEBUG_EXIT_PORT, 1}}, 0, 0, false, NULL},
    /* virtio functions: on the PCI bus (hypervisor/vm_virtio.c plugs them), no ports here */
    {&virtio_blk_device, AT(plat.vblk), {{0}}, 0, 0, false, vm_has_virtio_disk},
    {&virtio_console_device, AT(plat.vcon), {{0}}, 0, 0, false, vm_has_console_ports},
    /* its ports move the idle deadline that ends a job */
    {&lpt_device, AT(lpt), {{LPT1_BASE, LPT_PORTS}}, 0, 0, true, has_printer},
    /* the primary IDE channel's command block and control register; 0x3f7 is the floppy's */
    {&ide_device, AT(ide), {{IDE_PRIMARY_BASE, 8}, {IDE_PRIMARY_CTRL, 1}}, 0, 0, false, wants_ide},
    /* virtio-net on PCI slot 3, a port of Keel's switch (hypervisor/vm_net.c plugs it) */
    {&virtio_net_device, AT(plat.vnet), {{0}}, 0, 0, false, vm_has_net},
    /* virtio-balloon on PCI slot 4 (hypervisor/vm_virtio.c plugs it) */
    {&virtio_balloon_device, AT(plat.vballoon), {{0}}, 0, 0, false, vm_has_balloon},
};

_Static_assert(ARRAY_SIZE(pc_devices) <= PLATFORM_MAX_DEVICES, "the platform's device table");

const struct board board_pc = {
    .name = "pc",
    .mem = pc_memory,
    .nmem = ARRAY_SIZE(pc_memory),
    .dev = pc_devices,
    .ndev = ARRAY_SIZE(pc_devices),
    .pci_mmio_base = ACPI_PCI_MMIO_BASE,
    .pci_mmio_len = ACPI_PCI_MMIO_SIZE,
    .pci_io_base = 0xc000,
    .pci_io_len = 0x4000,
    .pci_intx_gsi = {16, 17, 18, 19},
};
