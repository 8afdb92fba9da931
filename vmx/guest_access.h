/* Reaching a running guest's memory by virtual address: its paging state taken from the
 * VMCS, translated by mm/guest_pt.c, read through the P2M. Instruction fetch for
 * emulation goes through here. */
#ifndef KEEL_GUEST_ACCESS_H
#define KEEL_GUEST_ACCESS_H

#include "../hypervisor/vm.h"
#include "../mm/guest_pt.h"

/* The guest's translation state now (CR0/CR3/CR4/EFER, PDPTEs, EFLAGS.AC). */
void vcpu_guest_paging(struct vcpu *v, struct guest_paging *gp);
/* pt_ops.map for walking guest tables: the page of guest RAM at gpa, NULL if not RAM
 * (ctx is the VM's struct p2m). */
void *vcpu_map_guest_table(void *ctx, u64 gpa);
/* Translates one guest-virtual address for an access (GACC_*; the user bit follows CPL),
 * setting accessed/dirty bits as the CPU would. */
enum gwalk_status vcpu_translate(struct vcpu *v, u64 gva, unsigned access, struct gwalk *w);
/* Reads len bytes at guest-virtual gva, page by page, for an access of kind `access`
 * (GACC_*). On GWALK_FAULT, w holds the error code of the page that failed; on
 * GWALK_UNREACHABLE the address (or a page table) is not guest RAM. */
enum gwalk_status vcpu_read_virt(struct vcpu *v, u64 gva, void *buf, size_t len, unsigned access,
				 struct gwalk *w);
/* Writes len bytes at guest-virtual gva, as vcpu_read_virt reads them. Pages are checked
 * one at a time: on a fault the pages before it have been written, as with the CPU. */
enum gwalk_status vcpu_write_virt(struct vcpu *v, u64 gva, const void *buf, size_t len,
				  struct gwalk *w);
/* Fetches up to `max` instruction bytes at CS:RIP; returns how many could be read (the
 * fetch stops at the first page that does not translate). */
size_t vcpu_fetch_insn(struct vcpu *v, u8 *buf, size_t max);

#endif
