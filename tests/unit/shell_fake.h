/* Shared by the shell tests (test_shell*.c): a fake hypervisor behind shell_ops that logs
 * every action it is asked for, and a rig that types lines into a shell and returns what the
 * console printed. */
#ifndef KEEL_UNIT_SHELL_FAKE_H
#define KEEL_UNIT_SHELL_FAKE_H

#include "test.h"
#include "../../hypervisor/console.h"
#include "../../hypervisor/lib.h"
#include "../../hypervisor/shell.h"

struct fake {
	struct vm *vms[MAX_VMS];
	char calls[512];  /* "pause tick1;kill hello;" */
	const char *fail; /* every action fails with this when set */
	u8 input[8];	  /* bytes given to console_input: a FIFO of 8 that never drains */
	unsigned ninput;
};

static inline void record(struct fake *f, const char *what, const struct vm *vm)
{
	size_t n = strlen(f->calls);
	ksnprintf(f->calls + n, sizeof(f->calls) - n, "%s %s;", what, vm->name);
}

static inline struct vm *fake_vm_at(void *ctx, unsigned i)
{
	struct fake *f = ctx;
	return i < MAX_VMS ? f->vms[i] : NULL;
}

static inline const char *fake_pause(void *ctx, struct vm *vm)
{
	struct fake *f = ctx;
	record(f, "pause", vm);
	if (f->fail)
		return f->fail;
	vm->state = VM_PAUSED;
	return NULL;
}

static inline const char *fake_resume(void *ctx, struct vm *vm)
{
	struct fake *f = ctx;
	record(f, "resume", vm);
	if (f->fail)
		return f->fail;
	vm->state = VM_READY;
	return NULL;
}

static inline const char *fake_kill(void *ctx, struct vm *vm)
{
	struct fake *f = ctx;
	record(f, "kill", vm);
	if (f->fail)
		return f->fail;
	vm_stop(vm, "killed from the shell");
	return NULL;
}

static inline const char *fake_reset(void *ctx, struct vm *vm)
{
	struct fake *f = ctx;
	record(f, "reset", vm);
	if (f->fail)
		return f->fail;
	vm->state = VM_READY;
	vm->vcpu[0].state = VCPU_RUNNABLE;
	vm->vcpu[0].entries = 0;
	return NULL;
}

static inline const char *fake_console_input(void *ctx, struct vm *vm, u8 c)
{
	struct fake *f = ctx;
	(void)vm;
	if (f->fail)
		return f->fail;
	if (f->ninput == sizeof(f->input))
		return "its UART receive FIFO is full";
	f->input[f->ninput++] = c;
	return NULL;
}

static inline const char *fake_set_paging(void *ctx, struct vm *vm, enum vm_paging to)
{
	struct fake *f = ctx;
	record(f, "paging", vm);
	if (f->fail)
		return f->fail;
	vm->paging_request = (int)to;
	return NULL;
}

static const struct shell_ops fake_ops = {fake_vm_at, fake_pause,	  fake_resume,	  fake_kill,
					  fake_reset, fake_console_input, fake_set_paging};

struct rig {
	struct shell sh;
	struct fake f;
};

static inline struct vm *add_vm(struct rig *r, unsigned id, const char *name)
{
	struct vm *vm = test_alloc(sizeof(*vm));
	vm->id = id;
	kstrlcpy(vm->name, name, sizeof(vm->name));
	vm->state = VM_READY;
	vm->mem_bytes = 16ULL << 20;
	vm->vpid = (u16)(id + 1);
	vm->nvcpus = 1;
	vm->vcpu[0].vm = vm;
	vm->vcpu[0].state = VCPU_RUNNABLE;
	vm->vcpu[0].pending_irq = -1;
	vm->console = true;
	r->f.vms[id] = vm;
	return vm;
}

/* Three VMs as in guests/demo.cfg, a 1 GHz TSC, no machine memory. */
static inline struct rig *rig_new(void)
{
	struct rig *r = test_alloc(sizeof(*r));
	add_vm(r, 0, "tick1");
	add_vm(r, 1, "tick2");
	add_vm(r, 2, "hello");
	shell_init(&r->sh, &fake_ops, &r->f, NULL, 1000000000ULL);
	/* the console history is shared by all tests: end it at a line start */
	kprintf("\n");
	test_console_clear();
	return r;
}

static inline void type(struct rig *r, const char *s)
{
	while (*s)
		shell_input(&r->sh, (u8)*s++);
}

/* Types a line and Enter; returns what the console printed for it. */
static inline const char *run(struct rig *r, const char *line)
{
	test_console_clear();
	type(r, line);
	shell_input(&r->sh, '\r');
	return test_console();
}

static inline unsigned count(const char *s, const char *sub)
{
	unsigned n = 0;
	for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub))
		n++;
	return n;
}

static inline void hook_on(struct rig *r)
{
	console_set_write_hook(shell_console_hook, &r->sh);
}

static inline void hook_off(void)
{
	console_set_write_hook(NULL, NULL);
}

#endif
