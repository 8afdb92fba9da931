/* The memory driver (ESX's free-memory states): every mem_drive_ms of TSC time it moves each
 * VM toward its target (vm->mem.target) with its balloon first and the hypervisor swap as
 * the last resort. Decisions are mm/reclaim.c's; this file fills them in and carries them out. */
#ifndef KEEL_MEM_DRIVE_H
#define KEEL_MEM_DRIVE_H

#include "shell.h"

/* mem_states=soft,hard,low (percent of guest memory free), mem_drive=on|off,
 * mem_drive_ms=, mem_stuck_ms= from Keel's command line */
void mem_drive_parse_cmdline(const char *cmdline);
/* After the swap and the sampler are set up (overcommit_setup). */
void mem_drive_setup(struct shell *sh, struct wss *w);
/* One step when its period has passed; every VM is out of guest mode here (one CPU). */
void mem_drive_poll(void);

#endif
