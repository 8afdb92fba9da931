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

u64 vm_balloon_frames(const struct vm *vm)
{
	if (!vm->cfg || !vm->cfg->balloon)
		return 0;
	const struct balloon *b = &vm->plat.vballoon.b;
	u64 back = b->frames_given + vm->p2m.balloon_refills;
	return b->frames_freed > back ? b->frames_freed - back : 0;
}

static unsigned long long mib(u64 bytes)
{
	return (unsigned long long)(bytes >> 20);
}

static void print_cost(const char *what, u64 cycles, u64 chains, u64 pages)
{
	kprintf("  %s: %llu chains, %llu pages, %llu cycles (%llu per page)\n", what,
		(unsigned long long)chains, (unsigned long long)pages, (unsigned long long)cycles,
		(unsigned long long)(pages ? cycles / pages : 0));
}

void vm_balloon_print(const struct vm *vm, bool brief)
{
	const struct virtio_balloon *vb = &vm->plat.vballoon;
	const struct balloon *b = &vb->b;
	u64 held = vm_balloon_frames(vm);
	if (brief) {
		kprintf(
		    "keel: vm %s balloon: %llu pages inflated, %llu deflated (%llu on OOM), %llu "
		    "reported free, %llu refused, %llu refilled on touch, %llu frames held\n",
		    vm->name, (unsigned long long)b->inflated, (unsigned long long)b->deflated,
		    (unsigned long long)b->oom_deflated, (unsigned long long)b->reported,
		    (unsigned long long)balloon_refused(b),
		    (unsigned long long)vm->p2m.balloon_refills, (unsigned long long)held);
		return;
	}
	kprintf("vm %s balloon: target %llu MiB of %llu (%u pages in the balloon), actual %u "
		"pages, %llu by Keel's count; %s\n",
		vm->name, (unsigned long long)(vb->mem_mib - ((u64)b->target >> 8)),
		(unsigned long long)vb->mem_mib, b->target, b->actual,
		(unsigned long long)b->in_balloon,
		!(vb->vp.status & VIRTIO_STATUS_DRIVER_OK) ? "no driver"
		: vb->vp.broken				   ? vb->vp.broken
							   : "driver ready");
	kprintf("  inflated %llu, deflated %llu (%llu on OOM), reported free %llu pages in %llu "
		"ranges (%llu without a frame already), refilled on touch %llu\n",
		(unsigned long long)b->inflated, (unsigned long long)b->deflated,
		(unsigned long long)b->oom_deflated, (unsigned long long)b->reported,
		(unsigned long long)b->report_ranges, (unsigned long long)b->report_skipped,
		(unsigned long long)vm->p2m.balloon_refills);
	kprintf("  frames: %llu given back to Keel, %llu mapped again on deflate, %llu held now "
		"(%llu MiB)\n",
		(unsigned long long)b->frames_freed, (unsigned long long)b->frames_given,
		(unsigned long long)held, (unsigned long long)(held >> 8));
	kprintf("  refused %llu:", (unsigned long long)balloon_refused(b));
	for (unsigned i = 0; i < BALLOON_NREFUSALS; i++)
		kprintf(" %s %llu%s", balloon_refusal_name(i), (unsigned long long)b->refused[i],
			i + 1 < BALLOON_NREFUSALS ? "," : "\n");
	print_cost("inflate", vb->cycles[VB_INFLATE], vb->chains[VB_INFLATE], b->inflated);
	print_cost("deflate", vb->cycles[VB_DEFLATE], vb->chains[VB_DEFLATE], b->deflated);
	print_cost("report", vb->cycles[VB_REPORTING], vb->chains[VB_REPORTING], b->reported);
	if (!b->stats_updates) {
		kprintf("  guest stats: none yet\n");
		return;
	}
	const u64 *st = b->stats;
	kprintf("  guest stats (%llu updates): free %llu MiB, available %llu MiB, total %llu MiB, "
		"caches %llu MiB, swapped in %llu, out %llu pages, faults %llu major, %llu minor\n",
		(unsigned long long)b->stats_updates, mib(st[BALLOON_S_MEMFREE]),
		mib(st[BALLOON_S_AVAIL]), mib(st[BALLOON_S_MEMTOT]), mib(st[BALLOON_S_CACHES]),
		(unsigned long long)st[BALLOON_S_SWAP_IN],
		(unsigned long long)st[BALLOON_S_SWAP_OUT],
		(unsigned long long)st[BALLOON_S_MAJFLT], (unsigned long long)st[BALLOON_S_MINFLT]);
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
