/* What the shell's command files (shell_cmds.c, shell_mem.c, shell_net.c) share: the
 * helpers of shell_args.c and the handlers that the table in shell_cmds.c names. */
#ifndef KEEL_SHELL_PRIV_H
#define KEEL_SHELL_PRIV_H

#include "shell.h"
#include "console.h"
#include "lib.h"

/* The VM an argument names, or NULL after saying which VMs there are. */
struct vm *shell_vm_arg(struct shell *sh, const char *name);
/* One line: a label, a number of 4 KiB frames and their MiB. */
void shell_print_frames(const char *label, u64 frames);

/* shell_mem.c */
int shell_cmd_mem(struct shell *sh, int argc, char **argv);
int shell_cmd_vm_mem(struct shell *sh, int argc, char **argv);
/* Each VM's policy, estimate and target (only that VM's line when `only` is set). */
void shell_mem_policies(struct shell *sh, const struct vm *only);
/* The memory driver's state and totals (the end of `mem`). */
void shell_mem_drive(struct shell *sh);
int shell_cmd_vm_balloon(struct shell *sh, int argc, char **argv);
#define SHELL_NSHARE_CMDS 3
extern const struct shell_cmd shell_share_cmds[SHELL_NSHARE_CMDS];
int shell_cmd_swap(struct shell *sh, int argc, char **argv);
int shell_cmd_vm_swap(struct shell *sh, int argc, char **argv);

/* shell_net.c */
int shell_cmd_nic(struct shell *sh, int argc, char **argv);
int shell_cmd_ip(struct shell *sh, int argc, char **argv);
int shell_cmd_ping(struct shell *sh, int argc, char **argv);
int shell_cmd_net(struct shell *sh, int argc, char **argv);

#endif
