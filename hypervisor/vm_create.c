/* Creating a VM from its config: memory and devices as its board lays them out, the
 * guest kernel and modules through the multiboot loader, and its vCPU's VMCS. Any
 * failure releases what was taken and names the reason; other VMs are unaffected. */
#include "vm_create.h"
#include "vm_disk.h"
#include "vm_net.h"
#include "vm_virtio.h"
#include "console.h"
#include "dedicated_hw.h"
#include "keel.h"
#include "lib.h"
#include "../devices/acpi_tables.h"
#include "../mm/gmem.h"
#include "../mm/share.h"
#include "../mm/wss.h"
#include "vm_mem.h"
#include "../mm/swap.h"
#include "../guests/loader/linux.h"
#include "../guests/loader/multiboot.h"
#include "../vmx/vmx.h"

static struct vm vms[MAX_VMS];

struct vm *vm_by_index(unsigned i)
{
	return i < MAX_VMS && vms[i].name[0] ? &vms[i] : NULL;
}

/* ACPI tables in the BIOS-area ROM, describing the board. */
static const char *setup_firmware(struct vm *vm, const struct board *b)
{
	static u8 blob[ACPI_TABLES_MAX];
	struct acpi_config ac;
	struct acpi_blob_info info;
	acpi_config_default(&ac, vm->nvcpus);
	ac.pvpanic_port = PVPANIC_PORT;
	ac.pci_mmio_base = (u32)b->pci_mmio_base;
	ac.pci_mmio_size = (u32)b->pci_mmio_len;
	memcpy(ac.pci_intx_gsi, b->pci_intx_gsi, sizeof(ac.pci_intx_gsi)); /* _PRT for INTx */
	if (acpi_tables_build(&ac, ACPI_TABLES_GPA, blob, sizeof(blob), &info) != ACPI_BUILD_OK)
		return info.error ? info.error : "ACPI tables could not be built";
	if (gmem_write_rom(&vm->p2m, ACPI_TABLES_GPA, blob, info.size) != GMEM_OK)
		return "ACPI tables do not fit the BIOS area";
	vm->acpi_rsdp = ACPI_TABLES_GPA + info.rsdp_offset;
	return NULL;
}

static bool guest_write(void *ctx, u64 gpa, const void *src, size_t len)
{
	return gmem_write(ctx, gpa, src, len) == GMEM_OK;
}

struct share *vm_sharing;
struct wss *vm_wss;
struct swap *vm_swap;

/* A page of the VM's could not come back from swap: its memory is incomplete. */
static void swap_failed(void *ctx, const char *why)
{
	vm_stop(ctx, "%s", why);
}

void vm_release(struct vm *vm)
{
	if (vm_sharing)
		share_remove_vm(vm_sharing, &vm->p2m);
	if (vm_wss)
		wss_remove_vm(vm_wss, &vm->p2m);
	if (vm->cfg && vm->cfg->balloon)
		vm_balloon_print(vm, true);
	if (vm->swap) {
		u64 freed = swap_remove_vm(vm->swap, &vm->p2m);
		if (freed)
			kprintf("keel: vm %s: %llu swap slots freed\n", vm->name,
				(unsigned long long)freed);
		vm->swap = NULL;
	}
	ded_release(&vm->ded); /* its dedicated devices are free for the next VM */
	vm_net_release(vm);    /* its switch port goes before its memory */
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vmx_vcpu_free(&vm->vcpu[i]);
	paging_free(vm);
	p2m_destroy(&vm->p2m);
	vm_disk_release(vm);
	if (vm->io_bitmap) {
		frames_free(&machine_frames, virt_to_phys(vm->io_bitmap), FRAME_HV);
		frames_free(&machine_frames, vm->io_bitmap_b, FRAME_HV);
		frames_free(&machine_frames, virt_to_phys(vm->msr_bitmap), FRAME_HV);
		vm->io_bitmap = vm->msr_bitmap = NULL;
	}
}

/* A device the VM emulates on a dedicated device's ports would be bypassed by the open
 * I/O bitmap: NULL, or which device and ports clash (in msg). */
static const char *dedicated_ports_clash(struct vm *vm, u32 mask, char *msg, size_t size)
{
	for (unsigned i = 0; i < ded_ndevices; i++) {
		if (!(mask & BIT(i)))
			continue;
		const struct ded_device *d = &ded_devices[i];
		for (u32 port = d->base; port < (u32)d->base + d->len; port++) {
			const struct bus_range *r = bus_range_find(vm->io.ranges, (u16)port);
			if (r) {
				ksnprintf(msg, size, "%s's port %x is this VM's emulated %s",
					  d->name, port, r->name);
				return msg;
			}
		}
	}
	return NULL;
}

/* The ports of the VM's dedicated devices reach the real ones without an exit. */
static void open_dedicated_ports(struct vm *vm)
{
	for (unsigned i = 0; i < ded_ndevices; i++) {
		if (!(vm->ded.devices & BIT(i)))
			continue;
		const struct ded_device *d = &ded_devices[i];
		for (u32 port = d->base; port < (u32)d->base + d->len; port++) {
			u8 *bm = port < 0x8000 ? vm->io_bitmap : phys_to_virt(vm->io_bitmap_b);
			u32 bit = port & 0x7fff;
			bm[bit / 8] &= (u8) ~(1u << (bit % 8));
		}
	}
}

static const char *load_multiboot(struct vm *vm, const struct vm_config *cfg,
				  const struct boot_info *bi, const struct boot_module *k,
				  struct vcpu_boot *boot)
{
	struct mb1_module mods[CFG_MAX_MODULES];
	struct mb1_result res;
	for (unsigned i = 0; i < cfg->nmodules; i++) {
		const struct boot_module *m = boot_find_module(bi, cfg->modules[i].name);
		if (!m)
			return "a module named in the config is not in the boot image";
		mods[i] = (struct mb1_module){phys_to_virt(m->start), m->end - m->start,
					      cfg->modules[i].args};
	}
	struct guest_mem_ops ops = {guest_write, &vm->p2m};
	const char *err = mb1_load(&ops, vm->mem_bytes, phys_to_virt(k->start), k->end - k->start,
				   cfg->cmdline, mods, cfg->nmodules, &res);
	if (err)
		return err;
	*boot = (struct vcpu_boot){.mode = BOOT_PROTECTED32, .rip = res.entry};
	boot->gpr[GPR_RAX] = MB1_BOOT_MAGIC;
	boot->gpr[GPR_RBX] = res.mbi;
	return NULL;
}

/* The Linux x86 boot protocol, 64-bit entry: boot_params in RSI, long mode with the
 * loader's identity map and GDT. */
static const char *load_linux(struct vm *vm, const struct vm_config *cfg,
			      const struct boot_info *bi, const struct boot_module *k,
			      struct vcpu_boot *boot)
{
	struct linux_e820 e820[8];
	struct linux_config lc = {.cmdline = cfg->cmdline};
	struct linux_boot lb;
	if (cfg->nmodules)
		return "a Linux kernel takes an initrd, not multiboot modules";
	/* the board's map, with the firmware tables' ROM reserved */
	unsigned n = board_e820(vm->plat.board, vm->mem_bytes, e820, ARRAY_SIZE(e820));
	if (!n)
		return "the board's memory map does not fit the e820 table";
	lc.e820 = e820;
	lc.e820_count = n;
	lc.acpi_rsdp = vm->acpi_rsdp;
	if (cfg->initrd[0]) {
		const struct boot_module *m = boot_find_module(bi, cfg->initrd);
		if (!m)
			return "the initrd named in the config is not in the boot image";
		lc.initrd = phys_to_virt(m->start);
		lc.initrd_len = m->end - m->start;
	}
	struct guest_mem_ops ops = {guest_write, &vm->p2m};
	const char *err = linux_load(&ops, phys_to_virt(k->start), k->end - k->start, &lc, &lb);
	if (err)
		return err;
	*boot = (struct vcpu_boot){.mode = BOOT_LONG64,
				   .rip = lb.rip,
				   .cr3 = lb.cr3,
				   .gdt_base = lb.gdt_base,
				   .gdt_limit = lb.gdt_limit,
				   .code_sel = lb.cs_sel,
				   .data_sel = lb.ds_sel};
	boot->gpr[GPR_RSI] = lb.rsi;
	const char *ver = linux_kernel_version(phys_to_virt(k->start), k->end - k->start);
	kprintf("keel: vm %s: Linux %s, boot protocol %x.%02x, kernel at %llx, initrd %llu KiB\n",
		vm->name, ver ? ver : "(no version string)", lb.protocol >> 8, lb.protocol & 0xff,
		(unsigned long long)lb.kernel_addr, (unsigned long long)(lb.initrd_size >> 10));
	return NULL;
}

static const char *load_kernel(struct vm *vm, const struct vm_config *cfg,
			       const struct boot_info *bi, struct vcpu_boot *boot)
{
	const struct boot_module *k = boot_find_module(bi, cfg->kernel);
	if (!k)
		return "kernel module not found in the boot image";
	if (linux_is_bzimage(phys_to_virt(k->start), k->end - k->start))
		return load_linux(vm, cfg, bi, k, boot);
	if (cfg->initrd[0])
		return "initrd is for Linux kernels; a multiboot kernel takes modules";
	return load_multiboot(vm, cfg, bi, k, boot);
}

/* Builds the VM of `cfg` in slot `id`; the slot is left empty on failure. */
static struct vm *vm_build(unsigned id, const struct vm_config *cfg, const struct boot_info *bi,
			   bool test_hypercalls, const char **err)
{
	struct vm *vm = &vms[id];
	memset(vm, 0, sizeof(*vm));
	vm->id = id;
	vm->cfg = cfg;
	vm->console = cfg->console;
	/* auto: EPT where the CPU can use it, else shadow paging */
	if (cfg->paging == PAGING_EPT && vmx_no_ept_reason) {
		*err = "paging = ept, but this CPU cannot use EPT (use shadow or auto)";
		goto fail;
	}
	vm->paging =
	    (cfg->paging == PAGING_SHADOW || vmx_no_ept_reason) ? VM_PAGING_SHADOW : VM_PAGING_EPT;
	vm->paging_request = -1;
	kstrlcpy(vm->name, cfg->name, sizeof(vm->name));
	vm->mem_bytes = cfg->memory_mib << 20;
	vm->vpid = (u16)(id + 1); /* VPID 0 is the host's */
	vm->test_hypercalls = test_hypercalls;
	vm->nvcpus = 1;
	vm->vcpu[0].vm = vm;
	vm->vcpu[0].id = 0;

	vm_mem_policy_init(&vm->mem, cfg);
	/* admission control: the reservations of the VMs that hold memory and this one's must
	 * fit in the memory Keel has for guests */
	static char admit_msg[200];
	static struct vm *all[MAX_VMS];
	for (unsigned i = 0; i < MAX_VMS; i++)
		all[i] = &vms[i];
	if ((*err = vm_mem_admit(all, MAX_VMS, vm, cfg, vm_mem_guest_pages(&machine_frames),
				 admit_msg, sizeof(admit_msg))))
		goto fail;
	/* refuse at once what cannot fit, instead of taking every free frame first */
	if (!cfg->populate_lazy && (vm->mem_bytes >> PAGE_SHIFT) > machine_frames.nfree) {
		*err = "not enough machine memory for the guest";
		goto fail;
	}
	if ((*err = p2m_init(&vm->p2m, &machine_frames, FRAME_VM(id))))
		goto fail;
	/* RAM, the BIOS-area ROM (which Linux reads looking for firmware tables) and the
	 * device windows, as the board lays them out */
	const struct board *board = &board_pc;
	if ((*err = board_build_memory(board, &vm->p2m, vm->mem_bytes, cfg->populate_lazy)))
		goto fail;
	/* its EPT tables may sit in frames an ended VM's EPT used: no translation cached for
	 * that one may survive, so INVEPT before the first entry */
	vm->p2m.ept_stale = true;

	vm->plat.board = board;
	if ((*err = setup_firmware(vm, board)))
		goto fail;
	struct vcpu_boot boot;
	if ((*err = load_kernel(vm, cfg, bi, &boot)))
		goto fail;
	/* the guest's TSC starts near zero, as after a reset */
	vm->tsc_offset = (u64)0 - time_now();
	if ((*err = vm_disk_attach(vm, cfg)))
		goto fail;
	/* the RTC starts at a fixed date until Keel has a wall clock: 2026-01-01 */
	if ((*err = platform_init(vm, board, tsc_hz, 0, 1767225600ULL)))
		goto fail;
	/* one message at a time: VMs are built one after another */
	static char ded_msg[96];
	if (cfg->dedicate &&
	    ((*err = dedicated_ports_clash(vm, cfg->dedicate, ded_msg, sizeof(ded_msg))) ||
	     (*err = ded_claim(ded_machine(), &vm->ded, cfg->dedicate, ded_msg, sizeof(ded_msg)))))
		goto fail;
	if ((*err = vmx_vcpu_init(&vm->vcpu[0], &boot)))
		goto fail;
	open_dedicated_ports(vm);
	if (vm_sharing &&
	    !share_add_vm(vm_sharing, &vm->p2m, vm->mem_bytes >> PAGE_SHIFT, cfg->share))
		pr_warn("keel: vm %s: page sharing has no room for it\n", vm->name);
	if (vm_wss &&
	    !wss_add_vm(vm_wss, &vm->p2m, vm->mem_bytes >> PAGE_SHIFT, (enum wss_method)cfg->wss))
		pr_warn("keel: vm %s: working-set sampling has no room for it\n", vm->name);
	if (vm_swap &&
	    swap_add_vm(vm_swap, &vm->p2m, vm->mem_bytes >> PAGE_SHIFT, cfg->swap, swap_failed, vm))
		vm->swap = vm_swap;
	else if (vm_swap)
		pr_warn("keel: vm %s: the swap has no room for it\n", vm->name);
	vm->state = VM_READY;
	kprintf("keel: vm %s started: %llu MiB, kernel %s%s%s%s%s%s\n", vm->name,
		(unsigned long long)cfg->memory_mib, cfg->kernel,
		vm->console ? "" : ", console off", vm->disk ? ", disk " : "",
		vm->disk ? cfg->disk : "",
		vm->disk ? (cfg->disk_model == DISK_IDE ? " (ide)" : " (virtio)") : "",
		vm->disk && vm->disk->read_only ? " read-only" : "");
	return vm;
fail:
	vm_release(vm);
	memset(vm, 0, sizeof(*vm));
	return NULL;
}

struct vm *vm_create(const struct vm_config *cfg, const struct boot_info *bi, bool test_hypercalls,
		     const char **err)
{
	unsigned id;
	for (id = 0; id < MAX_VMS && vms[id].name[0]; id++)
		;
	if (id == MAX_VMS) {
		*err = "too many VMs";
		return NULL;
	}
	return vm_build(id, cfg, bi, test_hypercalls, err);
}

struct vm *vm_restart(struct vm *vm, const struct boot_info *bi, const char **err)
{
	const struct vm_config *cfg = vm->cfg;
	unsigned id = vm->id, crash_restarts = vm->crash_restarts;
	struct vm_mem_policy mem = vm->mem; /* changed live: kept across the restart */
	bool test_hypercalls = vm->test_hypercalls;
	u8 cmos[RTC_CMOS_SIZE];
	memcpy(cmos, vm->plat.rtc.cmos, sizeof(cmos));
	vm_release(vm);
	struct vm *n = vm_build(id, cfg, bi, test_hypercalls, err);
	if (n) {
		n->crash_restarts = crash_restarts;
		n->mem = mem;
		rtc_cmos_keep_nvram(&n->plat.rtc, cmos); /* battery-backed */
		return n;
	}
	/* the scheduler still holds this slot's vCPU: keep the slot as a stopped VM, never
	 * as an empty one it would run */
	vm->id = id;
	vm->cfg = cfg;
	kstrlcpy(vm->name, cfg->name, sizeof(vm->name));
	vm->nvcpus = 1;
	vm->vcpu[0].vm = vm;
	vm->vcpu[0].state = VCPU_DONE;
	vm_stop(vm, "restart failed: %s", *err);
	return NULL;
}
