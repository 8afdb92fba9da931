/* What every shell command file uses: finding the VM an argument names, the usage line
 * after an error, and a count of frames in MiB. */
#include "shell_priv.h"

struct vm *shell_find_vm(struct shell *sh, const char *name)
{
	u64 id;
	bool numeric = kparse_u64(name, &id);
	for (unsigned i = 0; i < MAX_VMS; i++) {
		struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		if (vm && !strcmp(vm->name, name))
			return vm;
	}
	if (numeric) {
		for (unsigned i = 0; i < MAX_VMS; i++) {
			struct vm *vm = sh->ops->vm_at(sh->ctx, i);
			if (vm && vm->id == id)
				return vm;
		}
	}
	return NULL;
}

/* "12.5 MiB" for a number of 4 KiB frames */
void shell_print_frames(const char *label, u64 frames)
{
	u64 kib = frames * (PAGE_SIZE / 1024);
	kprintf("  %-20s %8llu frames  %6llu.%llu MiB\n", label, (unsigned long long)frames,
		(unsigned long long)(kib / 1024), (unsigned long long)(kib % 1024 * 10 / 1024));
}

/* The VM an argument names, or NULL after saying which VMs there are. */
struct vm *shell_vm_arg(struct shell *sh, const char *name)
{
	struct vm *vm = shell_find_vm(sh, name);
	if (vm)
		return vm;
	kprintf("unknown vm '%s'; vms:", name);
	unsigned n = 0;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		const struct vm *v = sh->ops->vm_at(sh->ctx, i);
		if (v) {
			kprintf(" %s", v->name);
			n++;
		}
	}
	kprintf("%s", n ? "" : " none");
	shell_usage_tail(sh);
	return NULL;
}

void shell_print_usage(const char *prefix, const struct shell_cmd *c)
{
	if (prefix)
		kprintf("%s ", prefix);
	kprintf("%s%s%s", c->name, c->usage[0] ? " " : "", c->usage);
}

void shell_usage_tail(const struct shell *sh)
{
	if (sh->cmd) {
		kprintf("; usage: ");
		shell_print_usage(sh->cmd_parent ? sh->cmd_parent->name : NULL, sh->cmd);
	}
	kprintf("\n");
}
