/* Keel's memory timeline (mem_log_ms=N on its command line): every N ms of TSC time one
 * `memlog` line per VM holding memory and one total line on the console, read by
 * scripts/overcommit. Counts come from running counters (P2M, allocator, device), no scan
 * of any VM's gfns. */
#ifndef KEEL_MEMLOG_H
#define KEEL_MEMLOG_H

#include "types.h"

struct share;
struct wss;
struct swap;

/* What the timeline reads besides the VMs: the overcommit machinery (NULL: not set up)
 * and the hypervisor cycles the sharing scanner has spent so far. */
struct memlog_src {
	const struct share *share;
	const struct wss *wss;
	const struct swap *swap;
	u64 share_cycles;
};

void memlog_parse_cmdline(const char *cmdline);
/* Prints the lines when the next N ms are up (nothing when mem_log_ms is 0 or absent). */
void memlog_poll(const struct memlog_src *src);

#endif
