/* Guest-memory accessor: the one way the hypervisor and device models read, write or map a
 * VM's guest-physical memory. It checks the whole range against the P2M before touching
 * anything, never reaches a frame the VM does not own, breaks shared frames before writing
 * and marks every page it writes in the dirty log, so the log is complete. A swapped-out page
 * is brought back (p2m_swap_fetch) before it is read or written. */
#ifndef KEEL_GMEM_H
#define KEEL_GMEM_H

#include "p2m.h"

enum gmem_result {
	GMEM_OK,
	GMEM_RANGE,	/* gpa + len wraps, or a map of zero bytes */
	GMEM_HOLE,	/* nothing there: outside the VM's memory */
	GMEM_MMIO,	/* device memory */
	GMEM_ROM,	/* a write to ROM */
	GMEM_BALLOONED, /* a frame the guest gave back */
	GMEM_SWAPPED,	/* a frame in swap that could not be brought back */
	GMEM_NOMEM,	/* breaking a shared frame found no free frame */
	GMEM_SPLIT,	/* a map over pages that are not one machine range: copy instead */
};

const char *gmem_result_name(enum gmem_result r);

/* Copies; on any failure nothing was written (reads may have filled part of dst). */
enum gmem_result gmem_read(struct p2m *p, u64 gpa, void *dst, size_t len);
enum gmem_result gmem_write(struct p2m *p, u64 gpa, const void *src, size_t len);
/* The hypervisor's own writes into guest ROM (firmware tables): RAM or ROM pages. */
enum gmem_result gmem_write_rom(struct p2m *p, u64 gpa, const void *src, size_t len);

/* A pointer to [gpa, gpa + len), valid for those bytes only and only until the P2M changes
 * them (sharing, ballooning, swapping): use it within one access, never keep it. The range
 * must be within one page or on machine-contiguous frames (GMEM_SPLIT otherwise). A
 * writable map breaks sharing and marks the pages; writes through it end with
 * gmem_unmap(written), which marks them again (a log taken between the map and the write
 * would lose it otherwise). */
enum gmem_result gmem_map(struct p2m *p, u64 gpa, size_t len, bool write, void **out);
void gmem_unmap(struct p2m *p, u64 gpa, size_t len, bool written);

/* Pages of [gpa, gpa + len) were changed behind the accessor's back: log them. */
void gmem_mark_dirty(struct p2m *p, u64 gpa, u64 len);

/* pt_ops.map for walking the guest's own tables (ctx: the struct p2m). The walker may set
 * accessed/dirty bits through it, so the table page is made private and marked dirty
 * whenever it is mapped: the log may name a walked table that did not change, never miss
 * one that did. NULL if gpa is not RAM. */
void *gmem_table(void *p2m, u64 gpa);

#endif
