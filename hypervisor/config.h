/* The VM configuration file (a multiboot2 module named keel.cfg), in the spirit of Xen's
 * xl.cfg: one [vm] section per VM. Parsing is pure; every error names line and field. */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include "types.h"

#define CFG_MAX_VMS	64
#define CFG_MAX_MODULES 8
#define CFG_NAME_LEN	24
#define CFG_STR_LEN	128
#define CFG_CMDLINE_LEN 512 /* Linux command lines run long */
#define CFG_MAX_FWDS	8   /* fwd = lines per VM */

enum cfg_paging { PAGING_AUTO, PAGING_EPT, PAGING_SHADOW };
enum cfg_action { ACTION_DESTROY, ACTION_RESTART, ACTION_PRESERVE };
enum cfg_disk_model { DISK_VIRTIO, DISK_IDE };

/* disk = ram:<MiB>: a scratch disk in machine memory, at most this big */
#define CFG_RAM_DISK_MAX_MIB 1024

struct vm_module_cfg {
	char name[CFG_STR_LEN]; /* the multiboot2 module to load */
	char args[CFG_STR_LEN]; /* its string in the guest's module list (name + args) */
};

struct vm_config {
	bool valid;    /* false: an error was found; this VM does not start */
	unsigned line; /* where its [vm] section starts */
	char name[CFG_NAME_LEN];
	u64 memory_mib;
	unsigned vcpus;
	char kernel[CFG_STR_LEN];
	char initrd[CFG_STR_LEN]; /* module name; "" for none */
	char cmdline[CFG_CMDLINE_LEN];
	enum cfg_paging paging;	     /* auto: EPT where the CPU has it, else shadow */
	u64 paging_switch_ms;	     /* flip EPT <-> shadow every this much CPU time, 0 never */
	enum cfg_action on_poweroff; /* destroy or restart */
	enum cfg_action on_crash;    /* destroy, restart or preserve (kept stopped) */
	bool console;		     /* show the guest's UART output on Keel's console */
	unsigned nmodules;
	struct vm_module_cfg modules[CFG_MAX_MODULES];
	u64 dirty_log_ms; /* a dirty-log round (migration pre-copy) every this much CPU time */
	/* disk = <partition name or number | ram:<MiB>>[,ro]: "" for none */
	char disk[CFG_NAME_LEN];
	u64 disk_ram_mib; /* ram:<MiB>, else 0 (a partition of the machine's disk) */
	bool disk_ro;
	enum cfg_disk_model disk_model; /* virtio (default) or an emulated IDE disk */
	bool printer;			/* an emulated LPT1 whose jobs go to the spool */
	u32 dedicate; /* real devices given to this VM: bit i is ded_devices[i] (dedicated.h) */
	bool share;   /* content-based page sharing of its memory (mm/share.h) */
	/* net = on | off | mac=<xx:xx:xx:xx:xx:xx>: a virtio-net port on Keel's switch */
	bool net;
	bool net_mac_set; /* else the MAC is made from the name (hypervisor/vm_net.c) */
	u8 net_mac[6];
	/* ip = A.B.C.D: the VM's address on the VMs' network; the gateway binds it to the VM's
	 * MAC and sends the VM's forwarded ports there (0: none) */
	u32 net_ip;
	/* fwd = tcp|udp:<Keel's outside port>:<the VM's port>, repeatable */
	unsigned nfwds;
	struct vm_fwd_cfg {
		u8 proto; /* 6 TCP, 17 UDP (the IP protocol numbers) */
		u16 ex_port, in_port;
	} fwds[CFG_MAX_FWDS];
	/* memory policy (mm/mempolicy.h, docs/overcommit.md): mem_min is the reservation, never
	 * reclaimed and checked at admission (0: none); mem_max the most it may hold (0: its
	 * memory); mem_shares its weight (0: 10 per MiB of memory, ESX's "normal") */
	u64 mem_min_mib, mem_max_mib, mem_shares;
	unsigned wss; /* working-set sampling, an enum wss_method (mm/wss.h): off by default */
	bool balloon; /* virtio-balloon: Keel may ask for memory back (devices/virtio_balloon.h) */
	bool swap;    /* its pages may go to the hypervisor's swap partition (mm/swap.h) */
	/* populate = lazy: RAM gets a machine frame at its first touch (populate-on-demand),
	 * not all at creation (eager, the default) */
	bool populate_lazy;
};

struct config {
	unsigned nvms;
	struct vm_config vms[CFG_MAX_VMS];
	unsigned nerrors;
};

/* Parses `len` bytes of text. Errors are reported through `report` ("keel.cfg:12: field
 * 'memory': ..."); VMs with errors are kept with valid = false. */
void config_parse(struct config *cfg, const char *text, size_t len, const char *filename,
		  void (*report)(const char *msg));

#endif
