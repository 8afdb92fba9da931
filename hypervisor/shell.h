/* The serial shell: a line editor fed one byte at a time, a tokenizer, and a table of
 * commands. Pure: everything that acts on hardware or the scheduler goes through
 * struct shell_ops, which the hypervisor fills in (main.c) and the unit tests fake. */
#ifndef KEEL_SHELL_H
#define KEEL_SHELL_H

#include "types.h"
#include "vm.h"
#include "../mm/frames.h"

#define SHELL_PROMPT	"keel> "
#define SHELL_LINE_MAX	160 /* bytes of the line buffer, NUL included */
#define SHELL_MAX_ARGS	8
#define SHELL_ESCAPE	0x1d /* Ctrl-]: leaves an attached VM console */
#define SHELL_LOG_LINES 40   /* lines `log` shows by default */

struct shell;
struct spool;
struct share;
struct wss;
struct swap;
struct router;
struct e1000;
struct netstack;
struct ctl;

/* What the shell asks of the hypervisor. Each action returns NULL when done, or one line
 * saying why not; the shell has already checked the VM's state. */
struct shell_ops {
	/* The VM in slot i (i < MAX_VMS), or NULL for an empty slot. */
	struct vm *(*vm_at)(void *ctx, unsigned i);
	/* The scheduler stops picking it / picks it again. */
	const char *(*pause)(void *ctx, struct vm *vm);
	const char *(*resume)(void *ctx, struct vm *vm);
	/* Stops the VM and releases its memory (its counters stay for reports). */
	const char *(*kill)(void *ctx, struct vm *vm);
	/* Ends the VM if it runs, then creates it again from its config. */
	const char *(*reset)(void *ctx, struct vm *vm);
	/* One byte typed while attached to the VM's console (its UART's receive side). */
	const char *(*console_input)(void *ctx, struct vm *vm, u8 c);
	/* Moves a running VM to EPT or shadow paging before its next VM entry. */
	const char *(*set_paging)(void *ctx, struct vm *vm, enum vm_paging to);
};

struct shell_cmd {
	const char *name;
	const char *usage; /* the arguments, e.g. "<vm>"; "" for none */
	const char *help;  /* one line */
	int min_args, max_args;
	/* argv[0] is the (sub-)command's name; returns 0 on success */
	int (*fn)(struct shell *sh, int argc, char **argv);
	const struct shell_cmd *sub; /* sub-commands ("vm list"): fn is unused */
	unsigned nsub;
};

struct shell {
	const struct shell_ops *ops;
	void *ctx;
	const struct frames *frames; /* machine memory, for `mem` */
	u64 tsc_hz;

	char line[SHELL_LINE_MAX];
	size_t len;
	bool overflow; /* the line outgrew the buffer: refused at its end */
	bool after_cr; /* the last byte was CR: an LF right after it ends nothing */
	u8 esc; /* inside a terminal escape sequence (arrow keys...): 1 after ESC, 2 in CSI */

	bool active; /* the prompt has been shown: the user is using the shell */
	bool shown;  /* the prompt and the partial line are the last thing on the console */
	bool own;    /* the shell itself is printing (the console hook ignores it) */

	/* the command running and its parent ("vm"), for usage lines */
	const struct shell_cmd *cmd, *cmd_parent;

	struct vm *attached; /* input goes to this VM's UART until SHELL_ESCAPE */
	bool dropped;	     /* told the user that the attached VM drops input */

	struct spool *spool; /* the print spool, NULL when no VM has a printer */
	struct share *share; /* the page-sharing scanner, NULL when it could not be set up */
	struct wss *wss;     /* the working-set sampler, NULL when not set up */
	unsigned *mem_tax;   /* the idle-memory tax rate in percent (mem_tax=), NULL: 75 */
	struct swap *swap;   /* the hypervisor swap, NULL without a swap partition */
	const struct reclaim_totals *drive; /* the memory driver's totals, NULL when off */

	struct e1000 *nic;	/* the machine's NIC, NULL when it has none */
	const char *nic_absent; /* then: why (the probe's words) */
	struct netstack *net;	/* Keel's own network stack, NULL when net= is off */
	struct router *router;	/* the VMs' gateway on the switch's uplink */
	struct ctl *ctl;	/* its control channel, NULL without ctl_key= */
};

void shell_init(struct shell *sh, const struct shell_ops *ops, void *ctx,
		const struct frames *frames, u64 tsc_hz);
/* Shows the prompt (the shell is quiet until its first input byte or this call). */
void shell_activate(struct shell *sh);
/* One byte from the console's input. */
void shell_input(struct shell *sh, u8 c);
/* Runs one command line (modified in place); returns 0 on success. */
int shell_run_line(struct shell *sh, char *line);

/* Console write hook (console_set_write_hook): erases the prompt and partial line before
 * someone else prints, so that guest output does not land in the middle of them. */
void shell_console_hook(void *sh);
/* Redraws the prompt and the partial line when other output has erased them: call on each
 * scheduler pass and each idle tick. */
void shell_refresh(struct shell *sh);
/* The VM ended or was released: an attached console returns to the shell. */
void shell_vm_ended(struct shell *sh, struct vm *vm);

/* Splits line in place into at most max words (whitespace-separated, "double quotes" group
 * words). Returns the word count, or with *err set: -1 (unterminated quote) or
 * SHELL_TOO_MANY (more than max words). */
#define SHELL_TOO_MANY (-2)
int shell_tokenize(char *line, char **argv, int max, const char **err);

/* The VM named `name` (or with that decimal id), or NULL. */
struct vm *shell_find_vm(struct shell *sh, const char *name);

/* shell_cmds.c: the command table. */
extern const struct shell_cmd shell_cmds[];
extern const unsigned shell_ncmds;
void shell_print_usage(const char *prefix, const struct shell_cmd *c);
/* "; usage: vm info <vm>\n" for the command running. */
void shell_usage_tail(const struct shell *sh);

#endif
