/* A VM's memory virtualization on the CPU: EPT, or shadow page tables (mm/shadow.c) with
 * the guest's CR0/CR3/CR4/EFER kept virtual. Owns the VMCS controls of each mode, the
 * guest's CR0/CR4/EFER changes under shadow paging, the #PF and CR3 exits of shadow mode, and the
 * live switch between the modes: P2M is the truth, so EPT and shadow tables are both
 * derived from it and either can be dropped and rebuilt. */
#include "paging.h"
#include "pml.h"
#include "emul.h"
#include "exit_ept.h"
#include "guest_access.h"
#include "realmode.h"
#include "vcpu_state.h"
#include "vmx.h"
#include "vmx_hw.h"
#include "../hypervisor/console.h"
#include "../hypervisor/keel.h"
#include "../hypervisor/lib.h"
#include "../mm/gmem.h"

/* The control-register bits shadow paging owns: the guest's values live in the read
 * shadows, the CPU runs with what the shadow tables need (PE, PG, WP and PAE on). */
#define SHADOW_CR0_OWNED (CR0_PE | CR0_PG | CR0_WP)
#define SHADOW_CR4_OWNED                                                                           \
	(CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP | CR4_PCIDE | CR4_LA57 | CR4_VME |      \
	 CR4_PVI)
/* Changing one of these changes what the shadow must contain: drop it and rebuild. */
#define SHADOW_KEY_CR0 (CR0_PG | CR0_WP)
#define SHADOW_KEY_CR4 (CR4_PAE | CR4_PSE)

static bool shadowed(const struct vcpu *v)
{
	return v->vm->paging == VM_PAGING_SHADOW;
}

static void set_ia32e(struct vcpu *v, u64 efer)
{
	u64 entry = vmcs_read(VMCS_ENTRY_CONTROLS);
	entry = (efer & EFER_LMA) ? entry | ENTRY_IA32E_GUEST : entry & ~ENTRY_IA32E_GUEST;
	vmcs_write(VMCS_ENTRY_CONTROLS, entry);
	vcpu_crs_changed(v);
}

/* The shadow root for the guest's paging state now into the CPU's CR3, with the TLB
 * flush a new root owes. false: out of shadow memory, the VM was stopped. */
static bool load_root(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct guest_paging gp;
	vcpu_guest_paging(v, &gp);
	u64 root = shadow_load_root(&vm->shadow, &v->sv, &gp);
	if (!root) {
		vm_stop(vm, "out of memory for shadow page tables");
		return false;
	}
	vmcs_write(VMCS_GUEST_CR3, root);
	vm->shadow.need_flush = true;
	return true;
}

/* Shadow mode: what the CPU must hold for the guest's CR0/CR4/EFER, and the root for its
 * CR3. Rebuilds the shadow when the paging mode changed. false: the VM was stopped. */
bool paging_sync(struct vcpu *v)
{
	const struct vmx_cpu *c = &vmx_cpu;
	struct vm *vm = v->vm;
	u64 cr0 = vcpu_cr0(v), cr4 = vcpu_cr4(v), efer = v->gefer;
	/* without unrestricted guest, real mode runs in virtual-8086 mode (realmode.c) */
	bool real = !(cr0 & CR0_PE);
	if (real && !v->rm.active && !rmode_enter(v))
		return false;
	if (!real && v->rm.active)
		rmode_leave(v, true);
	bool pg = cr0 & CR0_PG;
	u64 hw_cr0 = (cr0 | CR0_PE | CR0_PG | CR0_WP | c->cr0_must1) & ~c->cr0_must0;
	u64 hw_cr4 =
	    ((cr4 & ~(CR4_PSE | CR4_PCIDE | CR4_LA57)) | CR4_PAE | c->cr4_must1) & ~c->cr4_must0;
	u64 hw_efer = efer;
	if (!pg) {
		/* unpaged: PAE-format tables that map guest-physical, in 32-bit mode */
		hw_cr4 &= ~(CR4_SMEP | CR4_SMAP);
		hw_efer &= ~(EFER_LME | EFER_LMA);
	}
	if (real) /* IOPL-sensitive instructions must fault, not use the VME shortcuts */
		hw_cr4 &= ~(CR4_VME | CR4_PVI);
	/* real mode and unpaged protected mode share the direct tables: only Keel's vm86
	 * TSS differs, and leaving real mode unmaps it (realmode.c) */
	u64 key = (cr0 & SHADOW_KEY_CR0) | (cr4 & SHADOW_KEY_CR4) | (efer & (EFER_NXE | EFER_LMA));
	if (key != v->shadow_key || !v->sv.root) {
		if (key != v->shadow_key && vm->shadow.nr_used)
			shadow_reset(&vm->shadow, &v->sv);
		v->shadow_key = key;
		if (!load_root(v))
			return false;
	}
	vmcs_write(VMCS_GUEST_CR0, hw_cr0);
	vmcs_write(VMCS_GUEST_CR4, hw_cr4);
	vmcs_write(VMCS_GUEST_EFER, hw_efer);
	set_ia32e(v, hw_efer); /* and the cached CR0/CR4 */
	return true;
}

void vcpu_set_efer(struct vcpu *v, u64 efer)
{
	if (!shadowed(v)) {
		vmcs_write(VMCS_GUEST_EFER, efer);
		set_ia32e(v, efer);
		return;
	}
	v->gefer = efer;
	paging_sync(v);
}

/* The VMCS controls and CPU-side state of the vCPU's current mode, from the guest-visible
 * state (CR0/CR4 through the masks in force on entry, gcr3, gefer, gpdpte). */
static bool apply_mode(struct vcpu *v)
{
	const struct vmx_cpu *c = &vmx_cpu;
	u64 cr0 = vcpu_cr0(v), cr4 = vcpu_cr4(v);
	u32 exc = (u32)vmcs_read(VMCS_EXCEPTION_BITMAP);
	if (shadowed(v)) {
		v->proc = c->proc | PROC_CR3_LOAD_EXIT | PROC_CR3_STORE_EXIT | PROC_INVLPG_EXIT;
		vmcs_write(VMCS_PROC_CONTROLS2, c->proc2 & ~(PROC2_EPT | PROC2_UNRESTRICTED));
		vmcs_write(VMCS_EXCEPTION_BITMAP, exc | BIT(EXC_PF));
		vmcs_write(VMCS_CR0_GUEST_HOST_MASK, c->cr0_mask | SHADOW_CR0_OWNED);
		vmcs_write(VMCS_CR4_GUEST_HOST_MASK, c->cr4_mask | SHADOW_CR4_OWNED);
		vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
		vmcs_write(VMCS_CR4_READ_SHADOW, cr4);
		v->shadow_key = ~0ULL; /* build a root for this state */
	} else {
		v->proc = c->proc;
		vmcs_write(VMCS_PROC_CONTROLS2, c->proc2 | pml_proc2(v));
		vmcs_write(VMCS_EXCEPTION_BITMAP, exc & ~BIT(EXC_PF));
		vmcs_write(VMCS_CR0_GUEST_HOST_MASK, c->cr0_mask);
		vmcs_write(VMCS_CR4_GUEST_HOST_MASK, c->cr4_mask);
		vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
		vmcs_write(VMCS_CR4_READ_SHADOW, cr4);
		vmcs_write(VMCS_GUEST_CR0, (cr0 | c->cr0_must1) & ~c->cr0_must0);
		vmcs_write(VMCS_GUEST_CR4, (cr4 | c->cr4_must1) & ~c->cr4_must0);
		vmcs_write(VMCS_GUEST_CR3, v->gcr3);
		vmcs_write(VMCS_GUEST_EFER, v->gefer);
		set_ia32e(v, v->gefer);
		vcpu_set_pdptes(v, v->gpdpte);
		v->vm->p2m.ept_stale = true;
	}
	vcpu_crs_changed(v); /* the masks moved */
	vmcs_write(VMCS_PROC_CONTROLS, v->proc | (v->intr_window ? PROC_INTR_WINDOW : 0));
	vmx_invvpid_context(v->vm->vpid);
	return shadowed(v) ? paging_sync(v) : true;
}

static const struct shadow_ops shadow_hw_ops;

const char *paging_init_vcpu(struct vcpu *v)
{
	struct vm *vm = v->vm;
	if (!vm->shadow.ops.alloc) {
		struct shadow_ops ops = shadow_hw_ops;
		ops.ctx = vm;
		shadow_init(&vm->shadow, &ops, 0);
	}
	/* P2M changes that take rights away reach the shadow (mm/ must not call vmx/) */
	p2m_set_hook(&vm->p2m, shadow_p2m_hook, &vm->shadow);
	vm->paging_request = -1;
	vm->paging_switch_cycles = vm->cfg ? vm->cfg->paging_switch_ms * (tsc_hz / 1000) : 0;
	vm->dirty_log_cycles = vm->cfg ? vm->cfg->dirty_log_ms * (tsc_hz / 1000) : 0;
	v->gcr3 = vmcs_read(VMCS_GUEST_CR3);
	v->gefer = vmcs_read(VMCS_GUEST_EFER);
	if (!apply_mode(v))
		return vm->stop_reason[0] ? vm->stop_reason : "cannot start under shadow paging";
	return NULL;
}

/* Captures the guest-visible state under the current mode, then switches. */
static void switch_mode(struct vcpu *v, enum vm_paging to)
{
	struct vm *vm = v->vm;
	if (to == vm->paging)
		return;
	if (to == VM_PAGING_SHADOW && !(vcpu_cr0(v) & CR0_PE)) {
		const char *why = rmode_cannot_enter(v);
		if (why) { /* a live switch must not end the VM: stay, and say why */
			kprintf("keel: vm %s stays on EPT: %s\n", vm->name, why);
			return;
		}
	}
	/* CR0/CR4 are read by apply_mode() through the masks still in force */
	v->gcr3 = vcpu_cr3(v);
	v->gefer = vcpu_efer(v);
	vcpu_pdptes(v, v->gpdpte);
	if (vm->paging == VM_PAGING_SHADOW) {
		/* back to unrestricted guest's real mode, if in virtual-8086 mode */
		if (v->rm.active)
			rmode_leave(v, false);
		/* nothing keeps shadows coherent once the guest writes its tables freely */
		shadow_reset(&vm->shadow, &v->sv);
	}
	vm->paging = to;
	vm->paging_switches++;
	/* PML needs EPT: the dirty log goes to write protection and back */
	pml_sync(v);
	/* paging_switch flips often: say so for the first two and then once in 16 */
	if (apply_mode(v) && (vm->paging_switches <= 2 || !(vm->paging_switches % 16)))
		kprintf("keel: vm %s now on %s paging (switch %llu)\n", vm->name,
			to == VM_PAGING_SHADOW ? "shadow" : "EPT",
			(unsigned long long)vm->paging_switches);
}

void paging_before_entry(struct vcpu *v)
{
	struct vm *vm = v->vm;
	/* every entry passes here: the common case is nothing to do */
	if (vm->paging_request < 0 && !vm->shadow.need_flush && !vm->paging_switch_cycles &&
	    !vm->dirty_log_cycles)
		return;
	/* dirty_log: what it re-arms is flushed below (shadow) and by the run loop (EPT) */
	if (vm->dirty_log_cycles && v->run_cycles - vm->dirty_log_at >= vm->dirty_log_cycles) {
		u64 n;
		const char *err = pml_log_round(v, &n);
		vm->dirty_log_at = v->run_cycles;
		if (err) {
			vm_stop(vm, "dirty log: %s", err);
			return;
		}
		vm->dirty_rounds++;
		vm->dirty_pages += n;
	}
	/* paging_switch: a live-switching stress test, on the VM's own CPU time */
	u64 every = vm->paging_switch_cycles;
	if (every && !vmx_no_ept_reason && v->run_cycles - v->paging_switched_at >= every) {
		v->paging_switched_at = v->run_cycles;
		vm->paging_request =
		    vm->paging == VM_PAGING_SHADOW ? VM_PAGING_EPT : VM_PAGING_SHADOW;
	}
	if (vm->paging_request >= 0) {
		switch_mode(v, (enum vm_paging)vm->paging_request);
		vm->paging_request = -1;
	}
	if (vm->shadow.need_flush) {
		vmx_invvpid_context(vm->vpid);
		vm->shadow.need_flush = false;
	}
}

/* MOV to CR3 under shadow paging: the guest's value is kept, the CPU gets a shadow root. */
enum exit_action paging_cr3_write(struct vcpu *v, u64 val)
{
	u64 efer = v->gefer, cr4 = vcpu_cr4(v);
	bool lma = efer & EFER_LMA;
	if (lma && (val >> vmx_cpu.guest_maxphyaddr)) { /* PCID no-flush bit included */
		vcpu_inject_gp(v);
		return EXIT_ACT_RESUME;
	}
	if (!lma)
		val &= 0xffffffffULL;
	if ((vcpu_cr0(v) & CR0_PG) && (cr4 & CR4_PAE) && !lma) {
		/* PAE: the PDPTE registers are loaded now, and checked */
		if (!vcpu_load_pdptes(v, val)) {
			vcpu_inject_gp(v);
			return EXIT_ACT_RESUME;
		}
	}
	v->gcr3 = val;
	/* a CR3 load flushes the TLB's non-global entries: load_root() owes the flush */
	if (!load_root(v))
		return EXIT_ACT_RESUME;
	vcpu_skip_insn(v);
	return EXIT_ACT_RESUME;
}

/* A write to a guest page table the instruction emulator could not carry out: stop
 * shadowing that table so the guest can write it itself, and run the instruction again. */
static enum exit_action unprotect_and_retry(struct vcpu *v, u64 gpa, const char *why)
{
	struct vm *vm = v->vm;
	if (vm->shadow.stats.unprotects < 4) {
		u8 b[4] = {0};
		vcpu_fetch_insn(v, b, sizeof(b));
		pr_info("keel: vm %s: page-table write at rip %llx (%02x %02x %02x %02x) not "
			"emulated (%s): gpa %llx is no longer shadowed\n",
			vm->name, (unsigned long long)vcpu_reg(v, REG_RIP), b[0], b[1], b[2], b[3],
			why, (unsigned long long)gpa);
	}
	if (!shadow_unprotect(&vm->shadow, gpa >> PAGE_SHIFT)) {
		vm_stop(vm,
			"cannot emulate a write to the active page-table root at gpa %llx, rip "
			"%llx (%s)",
			(unsigned long long)gpa, (unsigned long long)vcpu_reg(v, REG_RIP), why);
		return EXIT_ACT_RESUME;
	}
	vm->shadow.need_flush = true;
	return EXIT_ACT_RESUME;
}

/* The same #PF exit over and over means the shadow does not give the guest what its own
 * tables grant: say what it is once, for whoever debugs it. */
static void note_repeat(struct vcpu *v, u64 gva, u32 error, enum shadow_fill r,
			const struct gwalk *w)
{
	u64 rip = vcpu_reg(v, REG_RIP);
	if (r != SFILL_OK && r != SFILL_FLUSH)
		return; /* device accesses and emulated writes repeat by nature */
	if (rip != v->pf_last_rip || gva != v->pf_last_gva) {
		v->pf_last_rip = rip;
		v->pf_last_gva = gva;
		v->pf_repeat = 0;
		return;
	}
	if (++v->pf_repeat != 1000)
		return;
	u64 spte = 0, mpa = shadow_lookup(&v->vm->shadow, &v->sv, gva, &spte);
	pr_warn("keel: vm %s: #PF at rip %llx for %llx (error %x) repeats: guest maps it to gpa "
		"%llx (level %u, w%u u%u x%u d%u), fill result %d, shadow leaf %llx -> %llx, "
		"cr3 %llx\n",
		v->vm->name, (unsigned long long)rip, (unsigned long long)gva, error,
		(unsigned long long)w->gpa, w->level, w->writable, w->user, w->executable, w->dirty,
		(int)r, (unsigned long long)spte, (unsigned long long)mpa,
		(unsigned long long)v->gcr3);
}

/* A #PF intercepted under shadow paging: the guest's own fault, a shadow to fill, a write
 * to a guest page table, or device memory. */
static enum exit_action page_fault(struct vcpu *v, u32 error, u64 **charge)
{
	struct vm *vm = v->vm;
	struct shadow *sh = &vm->shadow;
	u64 gva = v->exit_qual;
	unsigned access = ((error & PFEC_WRITE) ? GACC_WRITE : 0) |
			  ((error & PFEC_USER) ? GACC_USER : 0) |
			  ((error & PFEC_FETCH) ? GACC_FETCH : 0);
	struct guest_paging gp;
	struct gwalk w;
	vcpu_guest_paging(v, &gp);
	guest_walk(&gp, &(struct pt_ops){NULL, NULL, vcpu_map_guest_table, &vm->p2m}, gva, access,
		   true, &w);
	switch (w.status) {
	case GWALK_FAULT:
		*charge = &sh->stats.cycles_reflected;
		sh->stats.faults_reflected++;
		v->regs.cr2 = gva;
		vcpu_inject_exception(v, EXC_PF, true, w.error);
		return EXIT_ACT_RESUME;
	case GWALK_NONCANONICAL:
		vcpu_inject_gp(v);
		return EXIT_ACT_RESUME;
	case GWALK_UNREACHABLE:
		vm_stop(vm, "page tables outside guest RAM while translating %llx (rip %llx)",
			(unsigned long long)gva, (unsigned long long)vcpu_reg(v, REG_RIP));
		return EXIT_ACT_RESUME;
	case GWALK_OK:
		break;
	}
	/* a working-set sample (mm/wss.c): the guest touched it; its leaf may come back now */
	p2m_sample_touch(&vm->p2m, w.gpa >> PAGE_SHIFT);
	enum shadow_fill r = shadow_fill(sh, &v->sv, &gp, gva, access, &w);
	const char *why = NULL;
	enum p2m_type t;
	note_repeat(v, gva, error, r, &w);
	switch (r) {
	case SFILL_FLUSH:
		vmx_invvpid_addr(vm->vpid, gva);
		/* fall through */
	case SFILL_OK:
		sh->stats.faults_fixed++;
		return EXIT_ACT_RESUME;
	case SFILL_WRITE_PROTECTED:
		*charge = &sh->stats.cycles_pt_write;
		/* one element of a string op at a time: three writes in a row to a table
		 * unshadow it (a page being cleared or copied is data now) */
		if (emulate_insn(v, &why, 1) != EMU_UNHANDLED)
			return EXIT_ACT_RESUME; /* done, or its exception queued */
		return unprotect_and_retry(v, w.gpa, why);
	case SFILL_NOT_RAM:
		t = p2m_lookup(&vm->p2m, w.gpa >> PAGE_SHIFT, NULL);
		/* a page the guest gave back and touches again: a fresh frame, as under EPT;
		 * swapped out: swap-in; either way the access faults again into a fill */
		if (t == P2M_BALLOONED || t == P2M_SWAPPED) {
			enum p2m_fault f =
			    p2m_fault(&vm->p2m, w.gpa >> PAGE_SHIFT, access & GACC_WRITE);
			if (f == P2M_FAULT_WAIT)
				return exit_wait_for_memory(v, w.gpa);
			if (f == P2M_FAULT_FIXED) {
				vm->mem.wait_since = 0;
				return EXIT_ACT_RESUME;
			}
		}
		if (t != P2M_MMIO && t != P2M_ROM) { /* nothing a device model could answer */
			vm_stop(vm, "#PF: %s at gpa %llx, %s (rip %llx)",
				(access & GACC_WRITE)	? "write"
				: (access & GACC_FETCH) ? "instruction fetch"
							: "read",
				(unsigned long long)w.gpa,
				t == P2M_NONE ? "outside guest memory" : p2m_type_name(t),
				(unsigned long long)vcpu_reg(v, REG_RIP));
			return EXIT_ACT_RESUME;
		}
		sh->stats.faults_mmio++;
		*charge = &sh->stats.cycles_mmio;
		return emulate_mmio(v, w.gpa);
	case SFILL_NOMEM:
		break;
	}
	vm_stop(vm, "out of memory for shadow page tables");
	return EXIT_ACT_RESUME;
}

enum exit_action exit_page_fault(struct vcpu *v, u32 error)
{
	u64 t0 = time_now();
	u64 *charge = &v->vm->shadow.stats.cycles_fixed;
	enum exit_action a = page_fault(v, error, &charge);
	*charge += time_now() - t0;
	return a;
}

void paging_invlpg(struct vcpu *v, u64 gva)
{
	/* the shadow is coherent with the guest's tables already: only the TLB is stale */
	v->vm->shadow.stats.invlpg++;
	vmx_invvpid_addr(v->vm->vpid, gva);
}

void paging_free(struct vm *vm)
{
	if (vm->shadow.ops.alloc)
		shadow_reset(&vm->shadow, &vm->vcpu[0].sv);
}

static u64 hw_alloc(void *ctx)
{
	(void)ctx;
	return frames_alloc(&machine_frames, FRAME_HV);
}

static void hw_free(void *ctx, u64 pa)
{
	(void)ctx;
	frames_free(&machine_frames, pa, FRAME_HV);
}

static void *hw_map(void *ctx, u64 pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

static enum p2m_type hw_lookup(void *ctx, u64 gfn, u64 *mfn)
{
	struct vm *vm = ctx;
	if (rmode_tss_frame(vm, gfn, mfn))
		return P2M_ROM; /* mapped read-only */
	/* withheld for working-set sampling: no leaf (nor a prefetched one) until it faults */
	if (p2m_withheld(&vm->p2m, gfn))
		return P2M_NONE;
	return p2m_lookup(&vm->p2m, gfn, mfn);
}

static bool hw_may_write(void *ctx, u64 gfn, enum p2m_type t, bool write)
{
	struct vm *vm = ctx;
	return p2m_may_write_as(&vm->p2m, gfn, t, write);
}

static const struct shadow_ops shadow_hw_ops = {hw_alloc,  hw_free, hw_map,
						hw_lookup, NULL,    hw_may_write};
