/* Memory overcommit in the hypervisor's loop (overcommit.c): options from Keel's command
 * line (share_rate=, wss_period_ms=, wss_sample=, mem_tax=, swap_free=, swap_rate=), setup
 * at boot, and one bounded step of sharing, sampling and swapping per scheduler pass. */
#ifndef KEEL_OVERCOMMIT_H
#define KEEL_OVERCOMMIT_H

#include "shell.h"

void overcommit_parse_cmdline(const char *cmdline);
/* After the shell and machine memory are set up: the scanner, sampler and swap. */
void overcommit_setup(struct shell *sh);
/* Every VM is out of guest mode here (one CPU). */
void overcommit_poll(void);

#endif
