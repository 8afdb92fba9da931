/* VM and vCPU objects: what a VM owns (memory, devices, counters) and the state of its
 * virtual CPU between exits. Shared by the VMX layer, the scheduler and the devices. */
#ifndef KEEL_VM_H
#define KEEL_VM_H

#include "types.h"
#include "config.h"
#include "../mm/p2m.h"
#include "../mm/shadow.h"
#include "../mm/swap.h"
#include "../devices/io_bus.h"
#include "../devices/uart16550.h"
#include "../devices/debug_exit.h"
#include "../devices/ide.h"
#include "../devices/blk_ram.h"
#include "../devices/lpt.h"
#include "platform.h"
#include "dedicated.h"
#include "../vmx/vmx_defs.h"

#define MAX_VMS CFG_MAX_VMS

/* Guest general-purpose registers, indexed by the x86 register number (RSP's slot is
 * unused: the guest RSP lives in the VMCS). The layout is known to vmx/entry.S. */
enum gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15
};

struct vcpu_regs {
	u64 gpr[16];
	u64 cr2; /* not in the VMCS: switched by entry.S */
};

enum vcpu_state { VCPU_RUNNABLE, VCPU_HALTED, VCPU_DONE };

/* An event to deliver at the next VM entry (VM-entry interruption-information format). */
struct pending_event {
	bool valid;
	u32 info;
	u32 error;
	u32 insn_len;
};

/* Register cache: RIP/RSP/RFLAGS read lazily from the VMCS, written back before entry. */
enum { REG_RIP, REG_RSP, REG_RFLAGS, REG_CACHED };

struct vcpu {
	struct vm *vm;
	unsigned id;
	struct vcpu_regs regs;
	enum vcpu_state state;

	u64 vmcs_pa;
	bool launched;

	u64 cache[REG_CACHED];
	u32 cache_valid, cache_dirty;
	/* read once per exit too (vmx/vcpu_state.c): the guest-visible CR0 and CR4, IA-32e */
	u64 cr0_cache, cr4_cache;
	bool ia32e_cache;

	/* the exit being handled */
	u32 exit_reason;
	u64 exit_qual;
	u32 exit_insn_len;

	struct pending_event event;
	bool intr_window;   /* interrupt-window exiting is on in the VMCS */
	int pending_irq;    /* vector waiting for an interrupt window, -1 none */
	u64 timer_deadline; /* host TSC of the hypercall timer, 0 none */
	u8 timer_vector;
	bool timer_pending; /* pending_irq was raised by the timer and not yet delivered */

	/* state the VMCS does not switch */
	u64 cr8;
	u64 xcr0;
	u64 misc_enable;
	u64 msr_kernel_gs_base, msr_star, msr_lstar, msr_cstar, msr_sfmask, msr_tsc_aux;
	u8 *fpu_area; /* XSAVE/FXSAVE image, 64-byte aligned */

	bool break_entry; /* test hypercall: corrupt guest state before the next entry */

	/* dirty log under PML (vmx/pml.c): the buffer, and whether the VMCS has PML on */
	u64 pml_pa;
	bool pml_armed;

	/* shadow paging: the guest's own CR3, EFER and PDPTE registers (the CPU holds the
	 * shadow's), the root it runs on, and the paging-mode bits that root was built for */
	u32 proc; /* processor-based controls of this vCPU's paging mode */
	u64 gcr3, gefer;
	u64 gpdpte[4];
	struct shadow_vcpu sv;
	u64 shadow_key;
	u64 paging_switched_at;	      /* run_cycles at the last paging_switch flip */
	u64 pf_last_rip, pf_last_gva; /* the last #PF exit, to notice one that repeats */
	u32 pf_repeat;

	/* real mode under shadow paging, run in virtual-8086 mode (vmx/realmode.c) */
	struct {
		bool active;
		u64 hidden;	/* the guest's RFLAGS.IOPL and AC (the CPU has 0) */
		u32 exc_bitmap; /* the exception bitmap outside real mode */
		u16 tr_sel;	/* the guest's TR, replaced by Keel's vm86 TSS */
		u64 tr_base;
		u32 tr_limit, tr_ar;
	} rm;

	u64 run_cycles; /* TSC ticks spent in guest mode + handling its exits */
	u64 entries;
};

/* How guest-physical memory is virtualized (P2M is the truth in both). */
enum vm_paging { VM_PAGING_EPT, VM_PAGING_SHADOW };

enum vm_state { VM_READY, VM_RUNNING, VM_PAUSED, VM_EXITED, VM_STOPPED };

struct exit_stat {
	u64 count;
	u64 cycles;
};

struct vm {
	unsigned id;
	char name[CFG_NAME_LEN];
	enum vm_state state;
	const struct vm_config *cfg; /* what it was built from (restart builds it again) */
	unsigned crash_restarts;     /* restarts after a crash since the last clean exit */
	bool reboot;		     /* ended by a guest reset: build it again */
	bool console;		     /* guest output shown on Keel's console */
	bool console_raw;	     /* attached in the shell: output unprefixed, unbuffered */
	u64 mem_bytes;
	struct p2m p2m;
	enum vm_paging paging;
	int paging_request; /* mode to switch to before the next entry, -1 none */
	u64 paging_switches;
	u64 paging_switch_cycles; /* paging_switch in TSC cycles, 0 never */
	struct shadow shadow;
	/* real mode in virtual-8086 mode: vCPUs in it, and what it cost */
	u32 rmode_vcpus;
	bool rmode_warned; /* the "unreal mode" approximation was reported */
	struct {
		u64 entries;   /* switches into real mode */
		u64 emulated;  /* instructions carried out for it (#GP in vm86) */
		u64 delivered; /* interrupts and exceptions delivered through the IVT */
	} rmode_stats;
	u16 vpid;
	u64 tsc_offset;
	bool test_hypercalls; /* KEEL_HC_TEST_* are available (Keel command line) */

	unsigned nvcpus;
	struct vcpu vcpu[1];

	u8 *io_bitmap;	 /* ports 0-0x7fff, 1 = exit (bitmap A) */
	u8 *msr_bitmap;	 /* 4 KiB: read low/high, write low/high */
	u64 io_bitmap_b; /* ports 0x8000-0xffff (bitmap B), machine address */
	struct io_bus io;
	struct uart16550 uart;
	struct debug_exit dbg_exit;
	struct platform plat;
	u64 acpi_rsdp; /* guest-physical address of the ACPI RSDP */

	char con_line[160];
	size_t con_len;

	struct exit_stat exits[EXIT_REASON_MAX];
	u32 exit_status;
	char stop_reason[192];
	/* dirty_log: a stress test of dirty logging, a pre-copy round every dirty_log_cycles of
	 * the VM's CPU time (0 never), as a migration would run them */
	u64 dirty_log_cycles, dirty_log_at;
	u64 dirty_rounds, dirty_pages;
	/* ... kept by PML (vmx/pml.c): addresses taken from the buffers, those outside RAM */
	bool pml_used;
	u64 pml_logged, pml_ignored, pml_full_exits;
	/* its disk (config `disk =`), NULL for none; hypervisor/vm_disk.c attaches it */
	struct blk_backend *disk;
	struct blk_backend disk_backend;
	struct blk_ram ramdisk; /* disk = ram:<MiB> */
	/* printer = on: LPT1, and the printer input (the spool's) its bytes go to */
	struct lpt lpt;
	struct printer_sink printer;
	/* real devices of the machine given to this VM (dedicate = ...): ports, interrupts */
	struct ded_guest ded;
	struct ide ide; /* the emulated IDE disk on vm->disk (disk_model = ide) */
	/* memory policy (hypervisor/vm_mem.h): from the config, changed live by `vm mem` */
	struct vm_mem_policy {
		u64 min_mib, max_mib; /* reservation (0 none), limit (0: all its memory) */
		u64 shares;
		u64 target; /* pages it should hold, set each sampling period (0: not yet) */
		/* TSC when its vCPU began waiting for a frame (P2M_FAULT_WAIT); 0: not waiting */
		u64 wait_since;
	} mem;
	struct swap *swap; /* the hypervisor swap it joined (mm/swap.h), NULL when none */
};

/* Ends a VM because of something the guest did (never the hypervisor): prints
 * "keel: vm <name> stopped: <reason>". */
void vm_stop(struct vm *vm, const char *fmt, ...) __printf(2, 3);
/* The guest asked to end (debug-exit port). */
void vm_exit_with_status(struct vm *vm, u32 status);
/* The guest powered itself off (ACPI S5): "keel: vm <name> powered off". */
void vm_power_off(struct vm *vm);
/* The guest asked for a reset: the VM ends and is built again (vm->reboot). */
void vm_reboot(struct vm *vm);
bool vm_is_done(const struct vm *vm);
/* Guest console byte: shown line by line as "[<name>] <line>". */
void vm_console_putc(struct vm *vm, u8 c);
void vm_console_flush(struct vm *vm);
/* Prints the per-reason exit counters of one VM. */
void vm_print_exits(const struct vm *vm);
/* Every exit of the VM and the hypervisor cycles they cost, all reasons together. */
struct exit_stat vm_exit_totals(const struct vm *vm);

const char *exit_reason_name(u32 reason);

#endif
