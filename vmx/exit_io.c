/* Port I/O exit: decode the qualification once, hand a plain io_access to the VM's bus. */
#include "exit_io.h"
#include "vcpu_state.h"
#include "vmx.h"
#include "guest_access.h"
#include "../hypervisor/console.h"
#include "../hypervisor/lib.h"

struct io_qual {
	u16 port;
	u8 size;
	bool in, string, rep;
};

static struct io_qual decode(u64 q)
{
	return (struct io_qual){
	    .port = (u16)(q >> 16),
	    .size = (u8)((q & 7) + 1),
	    .in = q & BIT(3),
	    .string = q & BIT(4),
	    .rep = q & BIT(5),
	};
}

/* At most this many iterations of a REP INS/OUTS per exit: the instruction is re-executed
 * for the rest, so interrupts and other VMs are not held up by a long string. One 512-byte
 * sector of an IDE disk in 16-bit words is one batch. */
#define STRING_IO_BATCH 256

struct string_io {
	u64 amask;     /* address-size mask */
	u64 seg_base;  /* of DS (or the override) for OUTS, ES for INS */
	unsigned sreg; /* GPR_RSI or GPR_RDI */
	s64 step;
};

static void set_masked(u64 *reg, u64 val, u64 amask)
{
	/* a 32-bit address-size update zero-extends like any 32-bit write; 16-bit merges */
	*reg = amask == 0xffff ? (*reg & ~0xffffULL) | (val & 0xffff) : val & amask;
}

static u64 string_io_linear(const struct vcpu *v, const struct string_io *s)
{
	u64 lin = s->seg_base + (v->regs.gpr[s->sreg] & s->amask);
	return s->amask != ~0ULL ? lin & 0xffffffffULL : lin;
}

/* The memory side of an element failed: the guest gets the fault the CPU would raise. */
static void string_io_fault(struct vcpu *v, enum gwalk_status st, u64 lin, const struct gwalk *w)
{
	switch (st) {
	case GWALK_FAULT:
		v->regs.cr2 = lin;
		vcpu_inject_exception(v, EXC_PF, true, w->error);
		break;
	case GWALK_NONCANONICAL:
		vcpu_inject_gp(v);
		break;
	default:
		vm_stop(v->vm, "unsupported: string I/O with guest memory that is not RAM (%llx)",
			(unsigned long long)lin);
		break;
	}
}

/* One element: between memory and the port. false ends the instruction early (a fault
 * was injected or the VM stopped). */
static bool string_io_one(struct vcpu *v, const struct io_qual *q, const struct string_io *s)
{
	u64 *idx = &v->regs.gpr[s->sreg];
	u64 lin = string_io_linear(v, s);
	struct io_access a = {q->port, q->size, !q->in, 0};
	struct gwalk w;
	if (platform_port_has_timer(v->vm, q->port))
		platform_touch(&v->vm->plat);
	enum gwalk_status st;
	if (!q->in) {
		u32 val = 0;
		st = vcpu_read_virt(v, lin, &val, q->size, 0, &w);
		a.value = val;
		if (st == GWALK_OK)
			io_bus_access(&v->vm->io, &a);
	} else {
		io_bus_access(&v->vm->io, &a);
		st = vcpu_write_virt(v, lin, &a.value, q->size, &w);
	}
	if (st != GWALK_OK) {
		string_io_fault(v, st, lin, &w);
		return false;
	}
	set_masked(idx, *idx + (u64)s->step, s->amask);
	return !vm_is_done(v->vm);
}

/* How many of the next `max` elements one translation covers: forwards, inside one page,
 * before the index wraps at the address size. 1 when only the element at hand. */
static u64 string_io_span(const struct vcpu *v, const struct io_qual *q, const struct string_io *s,
			  u64 max)
{
	if (s->step < 0 || max <= 1)
		return 1;
	u64 lin = string_io_linear(v, s);
	u64 n = MIN(max, (PAGE_SIZE - (lin & ~PAGE_MASK)) / q->size);
	if (s->amask != ~0ULL)
		n = MIN(n, (s->amask - (v->regs.gpr[s->sreg] & s->amask) + 1) / q->size);
	return n ? n : 1;
}

/* Up to `max` elements; how many were done, 0 when the instruction ends early (a fault
 * injected before any of them, or the VM stopped). A run inside one page is translated
 * once: OUTS reads its bytes first, INS checks the page is writable before a port is read,
 * so a fault moves no data, as on the CPU. */
static u64 string_io_run(struct vcpu *v, const struct io_qual *q, const struct string_io *s,
			 u64 max)
{
	u64 n = string_io_span(v, q, s, max);
	if (n == 1)
		return string_io_one(v, q, s) ? 1 : 0;
	u8 buf[STRING_IO_BATCH * 4];
	u64 lin = string_io_linear(v, s), done = 0;
	struct gwalk w;
	enum gwalk_status st;
	if (platform_port_has_timer(v->vm, q->port))
		platform_touch(&v->vm->plat);
	if (!q->in) {
		st = vcpu_read_virt(v, lin, buf, n * q->size, 0, &w);
		while (st == GWALK_OK && done < n && !vm_is_done(v->vm)) {
			u32 k = io_bus_string(&v->vm->io, q->port, q->size, true,
					      buf + done * q->size, (u32)(n - done));
			if (k) { /* the device took a run at once (an IDE data block) */
				done += k;
				continue;
			}
			struct io_access a = {q->port, q->size, true, 0};
			memcpy(&a.value, buf + done * q->size, q->size);
			io_bus_access(&v->vm->io, &a);
			done++;
		}
	} else {
		st = vcpu_translate(v, lin, GACC_WRITE, &w);
		while (st == GWALK_OK && done < n && !vm_is_done(v->vm)) {
			u32 k = io_bus_string(&v->vm->io, q->port, q->size, false,
					      buf + done * q->size, (u32)(n - done));
			if (k) {
				done += k;
				continue;
			}
			struct io_access a = {q->port, q->size, false, 0};
			io_bus_access(&v->vm->io, &a);
			memcpy(buf + done * q->size, &a.value, q->size);
			done++;
		}
		if (st == GWALK_OK)
			st = vcpu_write_virt(v, lin, buf, done * q->size, &w);
	}
	if (st != GWALK_OK) {
		string_io_fault(v, st, lin, &w);
		return 0;
	}
	u64 *idx = &v->regs.gpr[s->sreg];
	set_masked(idx, *idx + done * q->size, s->amask);
	return vm_is_done(v->vm) ? 0 : done;
}

static enum exit_action exit_string_io(struct vcpu *v, const struct io_qual *q)
{
	/* IA32_VMX_BASIC[54]: the CPU reports address size and segment of INS/OUTS */
	if (!(vmx_cpu.caps.basic & BIT(54))) {
		vm_stop(v->vm, "unsupported: string I/O without VM-exit instruction information");
		return EXIT_ACT_RESUME;
	}
	u32 info = (u32)vmcs_read(VMCS_EXIT_INSTR_INFO);
	unsigned asz = (info >> 7) & 7, seg = q->in ? 0 /* ES */ : (info >> 15) & 7;
	bool lm64 = vcpu_code64(v);
	struct string_io s = {
	    .amask = asz == 0	? 0xffff
		     : asz == 1 ? 0xffffffffULL
				: ~0ULL,
	    /* in 64-bit mode only FS and GS have a base */
	    .seg_base = (lm64 && seg < 4) || seg > 5 ? 0 : vcpu_seg_base(v, seg),
	    .sreg = q->in ? GPR_RDI : GPR_RSI,
	    .step = (vcpu_reg(v, REG_RFLAGS) & BIT(10)) ? -(s64)q->size : (s64)q->size,
	};
	u64 *rcx = &v->regs.gpr[GPR_RCX];
	u64 done = 0;
	for (;;) {
		if (q->rep && (*rcx & s.amask) == 0)
			break;
		u64 max = q->rep ? MIN(*rcx & s.amask, STRING_IO_BATCH - done) : 1;
		u64 n = string_io_run(v, q, &s, max);
		if (!n)
			return EXIT_ACT_RESUME;
		if (!q->rep)
			break;
		set_masked(rcx, *rcx - n, s.amask);
		done += n;
		if (done == STRING_IO_BATCH && (*rcx & s.amask))
			return EXIT_ACT_RESUME; /* RIP stays: the rest on re-execution */
	}
	vcpu_skip_insn(v);
	return EXIT_ACT_RESUME;
}

enum exit_action exit_io(struct vcpu *v)
{
	struct io_qual q = decode(v->exit_qual);
	struct vm *vm = v->vm;
	if (q.string)
		return exit_string_io(v, &q);
	struct io_access a = {q.port, q.size, !q.in, 0};
	u32 mask = io_size_mask(q.size);
	if (!q.in)
		a.value = (u32)v->regs.gpr[GPR_RAX] & mask;
	if (platform_port_has_timer(v->vm, q.port))
		platform_touch(&vm->plat);
	if (!io_bus_access(&vm->io, &a) && vm->io.unclaimed <= 8)
		pr_debug("keel: vm %s: %s of unclaimed port %x\n", vm->name,
			 q.in ? "read" : "write", q.port);
	if (q.in) {
		u64 *rax = &v->regs.gpr[GPR_RAX];
		/* IN AL/AX keeps the rest of RAX; IN EAX zero-extends, like any 32-bit write */
		*rax = q.size == 4 ? (a.value & mask) : (*rax & ~(u64)mask) | (a.value & mask);
	}
	vcpu_skip_insn(v);
	return EXIT_ACT_RESUME;
}
