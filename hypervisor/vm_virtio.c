/* Plugging a VM's virtio functions: virtio-blk over vm->disk, and virtio-console whose
 * port 0 (the hvc console) prints on the VM's console and whose printer port sends each
 * job to the spool (the VM's printer input, as LPT1 does). */
#include "vm_virtio.h"
#include "config.h"
#include "console.h"
#include "keel.h"
#include "vm.h"
#include "vm_net.h"
#include "../devices/virtio_balloon.h"
#include "../devices/virtio_blk.h"
#include "../devices/virtio_console.h"

bool vm_has_virtio_disk(const struct vm_config *cfg)
{
	return cfg->disk[0] && cfg->disk_model == DISK_VIRTIO;
}

bool vm_has_console_ports(const struct vm_config *cfg)
{
	return cfg->printer;
}

bool vm_has_balloon(const struct vm_config *cfg)
{
	return cfg->balloon;
}

static void console_out(void *ctx, const u8 *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vm_console_putc(ctx, buf[i]);
}

/* The printer port feeds the same spool input as LPT1: a close ends the job. */
static void printer_out(void *ctx, const u8 *buf, size_t n)
{
	struct vm *vm = ctx;
	printer_bytes(&vm->printer, buf, n);
}

static void printer_opened(void *ctx, bool open)
{
	struct vm *vm = ctx;
	if (open) {
		kprintf("keel: vm %s printer port opened\n", vm->name);
	} else {
		kprintf("keel: vm %s printer port closed: %llu bytes\n", vm->name,
			(unsigned long long)vm->plat.vcon.open_bytes[VCON_PORT_PRINTER]);
		printer_end_job(&vm->printer);
	}
}

/* A guest that broke a device's rules costs only its device; the reason goes to the log. */
static void blk_broke(void *ctx, const char *why)
{
	kprintf("keel: vm %s virtio-blk needs a reset: %s\n", ((struct vm *)ctx)->name, why);
}

static void console_broke(void *ctx, const char *why)
{
	kprintf("keel: vm %s virtio-console needs a reset: %s\n", ((struct vm *)ctx)->name, why);
}

static void balloon_broke(void *ctx, const char *why)
{
	kprintf("keel: vm %s virtio-balloon needs a reset: %s\n", ((struct vm *)ctx)->name, why);
}

const char *vm_virtio_plug(struct vm *vm)
{
	struct platform *p = &vm->plat;
	for (unsigned i = 0; i < p->ndev; i++) {
		const struct device_ops *ops = p->dev[i].bd->ops;
		if (ops == &virtio_blk_device) {
			if (!vm->disk)
				return "virtio-blk without a disk";
			if (!virtio_blk_init(&p->vblk, &vm->p2m, vm->disk) ||
			    !pci_host_plug(&p->pci, VM_VIRTIO_BLK_SLOT, &p->vblk.vp.f))
				return "virtio-blk could not be plugged";
			p->vblk.vp.on_break = blk_broke;
			p->vblk.vp.break_ctx = vm;
		} else if (ops == &virtio_console_device) {
			struct vcon_port_ops con = {console_out, NULL, vm};
			struct vcon_port_ops prn = {printer_out, printer_opened, vm};
			if (!virtio_console_init(&p->vcon, &vm->p2m, &con, &prn) ||
			    !pci_host_plug(&p->pci, VM_VIRTIO_CONSOLE_SLOT, &p->vcon.vp.f))
				return "virtio-console could not be plugged";
			p->vcon.vp.on_break = console_broke;
			p->vcon.vp.break_ctx = vm;
		} else if (ops == &virtio_balloon_device) {
			struct virtio_balloon *vb = &p->vballoon;
			if (!virtio_balloon_init(vb, &vm->p2m, vm->mem_bytes >> PAGE_SHIFT,
						 vm->mem_bytes >> 20) ||
			    !pci_host_plug(&p->pci, VM_VIRTIO_BALLOON_SLOT, &vb->vp.f))
				return "virtio-balloon could not be plugged";
			vb->vp.on_break = balloon_broke;
			vb->vp.break_ctx = vm;
			vb->clock = time_now;
		} else if (ops == &virtio_net_device) {
			const char *err = vm_net_plug(vm);
			if (err)
				return err;
		}
	}
	return NULL;
}
