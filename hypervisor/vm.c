/* VM lifecycle pieces that are pure logic: ending a VM, its console line buffer, and its
 * exit-counter report. */
#include "vm.h"
#include "console.h"
#include "lib.h"

bool vm_is_done(const struct vm *vm)
{
	return vm->state == VM_EXITED || vm->state == VM_STOPPED;
}

void vm_console_flush(struct vm *vm)
{
	if (!vm->con_len)
		return;
	vm->con_line[vm->con_len] = 0;
	kprintf("[%s] %s\n", vm->name, vm->con_line);
	vm->con_len = 0;
}

void vm_console_putc(struct vm *vm, u8 c)
{
	if (!vm->console)
		return;
	if (vm->console_raw) {
		char ch = (char)c;
		console_write(&ch, 1);
		return;
	}
	if (c == '\n') {
		if (vm->con_len == 0)
			kprintf("[%s] \n", vm->name);
		vm_console_flush(vm);
		return;
	}
	if (c == '\r')
		return;
	/* the guest controls these bytes: keep the host console free of control codes */
	if (c < 0x20 || c >= 0x7f)
		c = c == '\t' ? ' ' : '.';
	vm->con_line[vm->con_len++] = (char)c;
	if (vm->con_len == sizeof(vm->con_line) - 1)
		vm_console_flush(vm);
}

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	va_list ap;
	if (vm_is_done(vm))
		return;
	va_start(ap, fmt);
	kvsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
	va_end(ap);
	vm_console_flush(vm);
	vm->state = VM_STOPPED;
	kprintf("keel: vm %s stopped: %s\n", vm->name, vm->stop_reason);
}

void vm_exit_with_status(struct vm *vm, u32 status)
{
	if (vm_is_done(vm))
		return;
	vm_console_flush(vm);
	vm->exit_status = status;
	vm->state = VM_EXITED;
	kprintf("keel: vm %s exited: status %u\n", vm->name, status);
}

void vm_power_off(struct vm *vm)
{
	if (vm_is_done(vm))
		return;
	vm_console_flush(vm);
	vm->exit_status = 0;
	vm->state = VM_EXITED;
	kprintf("keel: vm %s powered off\n", vm->name);
}

void vm_reboot(struct vm *vm)
{
	if (vm_is_done(vm))
		return;
	vm_console_flush(vm);
	vm->reboot = true;
	vm->state = VM_EXITED;
	kprintf("keel: vm %s reset by the guest\n", vm->name);
}

static unsigned long long per(u64 total, u64 n)
{
	return n ? total / n : 0;
}

struct exit_stat vm_exit_totals(const struct vm *vm)
{
	struct exit_stat t = {0};
	for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
		t.count += vm->exits[r].count;
		t.cycles += vm->exits[r].cycles;
	}
	return t;
}

void vm_print_exits(const struct vm *vm)
{
	struct exit_stat t = vm_exit_totals(vm);
	kprintf("keel: exits for vm %s: total %llu, hypervisor cycles %llu\n", vm->name,
		(unsigned long long)t.count, (unsigned long long)t.cycles);
	for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
		const struct exit_stat *s = &vm->exits[r];
		if (!s->count)
			continue;
		kprintf("keel:   %-22s count %8llu  cycles %10llu  (%llu/exit)\n",
			exit_reason_name(r), (unsigned long long)s->count,
			(unsigned long long)s->cycles, (unsigned long long)(s->cycles / s->count));
	}
	if (vm->rmode_stats.entries)
		kprintf("keel:   real mode in virtual-8086 mode: entered %llu times, instructions "
			"emulated %llu, interrupts and exceptions delivered %llu\n",
			(unsigned long long)vm->rmode_stats.entries,
			(unsigned long long)vm->rmode_stats.emulated,
			(unsigned long long)vm->rmode_stats.delivered);
	for (unsigned i = 0; i < ded_ndevices; i++)
		if (vm->ded.devices & BIT(i))
			kprintf("keel:   dedicated %s (ports %x-%x, IRQ %u): %llu interrupts "
				"injected\n",
				ded_devices[i].name, ded_devices[i].base,
				ded_devices[i].base + ded_devices[i].len - 1, ded_devices[i].irq,
				(unsigned long long)vm->ded.injected[ded_devices[i].irq]);
	const struct shadow_stats *st = &vm->shadow.stats;
	if (vm->paging != VM_PAGING_SHADOW && !st->pages_built)
		return;
	kprintf("keel:   shadow paging (%s now, %llu switches): #PF fixed %llu, reflected %llu, "
		"mmio %llu; pages built %llu, zapped %llu, evicted %llu, in use %u\n",
		vm->paging == VM_PAGING_SHADOW ? "on" : "off",
		(unsigned long long)vm->paging_switches, (unsigned long long)st->faults_fixed,
		(unsigned long long)st->faults_reflected, (unsigned long long)st->faults_mmio,
		(unsigned long long)st->pages_built, (unsigned long long)st->pages_zapped,
		(unsigned long long)st->evictions, vm->shadow.nr_used);
	kprintf("keel:   shadow paging: page-table writes emulated %llu, unprotected %llu (%llu "
		"rewritten as data), CR3 loads %llu (root cache hits %llu), INVLPG %llu, resets "
		"%llu\n",
		(unsigned long long)st->pt_writes, (unsigned long long)st->unprotects,
		(unsigned long long)st->floods, (unsigned long long)st->cr3_switches,
		(unsigned long long)st->root_hits, (unsigned long long)st->invlpg,
		(unsigned long long)st->resets);
	kprintf("keel:   shadow paging: #PF handler cycles: filling %llu (%llu/fault), reflecting "
		"%llu (%llu), emulating page-table writes %llu (%llu), devices %llu (%llu)\n",
		(unsigned long long)st->cycles_fixed, per(st->cycles_fixed, st->faults_fixed),
		(unsigned long long)st->cycles_reflected,
		per(st->cycles_reflected, st->faults_reflected),
		(unsigned long long)st->cycles_pt_write, per(st->cycles_pt_write, st->pt_writes),
		(unsigned long long)st->cycles_mmio, per(st->cycles_mmio, st->faults_mmio));
}

static const char *const reason_names[EXIT_REASON_MAX] = {
#define EXIT_REASON(name, num, handler) [num] = #name,
#include "../vmx/exit_reasons.def"
#undef EXIT_REASON
};

const char *exit_reason_name(u32 reason)
{
	if (reason < EXIT_REASON_MAX && reason_names[reason])
		return reason_names[reason];
	return "UNKNOWN";
}
