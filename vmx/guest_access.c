/* Guest virtual memory access for the hypervisor: translation with the guest's paging state
 * (vcpu_state.c), accessed/dirty bits, copies through the P2M. */
#include "guest_access.h"
#include "vcpu_state.h"
#include "vmx.h"
#include "../hypervisor/lib.h"
#include "../mm/gmem.h"

void *vcpu_map_guest_table(void *ctx, u64 gpa)
{
	return gmem_table(ctx, gpa); /* the walk may set A/D bits: marks the page dirty */
}

void vcpu_guest_paging(struct vcpu *v, struct guest_paging *gp)
{
	memset(gp, 0, sizeof(*gp));
	gp->cr0 = vcpu_cr0(v);
	gp->cr4 = vcpu_cr4(v);
	gp->cr3 = vcpu_cr3(v);
	gp->efer = vcpu_efer(v);
	if (guest_paging_mode(gp) == GPM_PAE)
		vcpu_pdptes(v, gp->pdpte);
	gp->rflags_ac = vcpu_reg(v, REG_RFLAGS) & BIT(18);
	/* the guest's CPUID passes both through from the CPU */
	gp->maxphyaddr = vmx_cpu.guest_maxphyaddr;
	gp->gbpages = vmx_cpu.guest_gbpages;
}

enum gwalk_status vcpu_translate(struct vcpu *v, u64 gva, unsigned access, struct gwalk *w)
{
	struct guest_paging gp;
	struct pt_ops mem = {NULL, NULL, vcpu_map_guest_table, &v->vm->p2m};
	vcpu_guest_paging(v, &gp);
	if (vcpu_cpl(v) == 3)
		access |= GACC_USER;
	guest_walk(&gp, &mem, gva, access, true, w);
	return w->status;
}

static enum gwalk_status copy_virt(struct vcpu *v, u64 gva, void *buf, size_t len, unsigned access,
				   struct gwalk *w)
{
	struct guest_paging gp;
	struct pt_ops mem = {NULL, NULL, vcpu_map_guest_table, &v->vm->p2m};
	u8 *b = buf;
	vcpu_guest_paging(v, &gp);
	if (vcpu_cpl(v) == 3)
		access |= GACC_USER;
	while (len) {
		size_t n = MIN(len, PAGE_SIZE - (gva & ~PAGE_MASK));
		guest_walk(&gp, &mem, gva, access, true, w);
		if (w->status != GWALK_OK)
			return w->status;
		/* gmem marks written pages in the dirty log */
		bool ok = (access & GACC_WRITE) ? gmem_write(&v->vm->p2m, w->gpa, b, n) == GMEM_OK
						: gmem_read(&v->vm->p2m, w->gpa, b, n) == GMEM_OK;
		if (!ok) {
			w->status = GWALK_UNREACHABLE;
			return w->status;
		}
		/* a guest page table written for the guest: the shadow must follow */
		if ((access & GACC_WRITE) && v->vm->paging == VM_PAGING_SHADOW)
			shadow_write(&v->vm->shadow, w->gpa, n);
		b += n;
		gva += n;
		len -= n;
	}
	return GWALK_OK;
}

enum gwalk_status vcpu_read_virt(struct vcpu *v, u64 gva, void *buf, size_t len, unsigned access,
				 struct gwalk *w)
{
	return copy_virt(v, gva, buf, len, access & ~(unsigned)GACC_WRITE, w);
}

enum gwalk_status vcpu_write_virt(struct vcpu *v, u64 gva, const void *buf, size_t len,
				  struct gwalk *w)
{
	return copy_virt(v, gva, (void *)buf, len, GACC_WRITE, w);
}

size_t vcpu_fetch_insn(struct vcpu *v, u8 *buf, size_t max)
{
	u64 rip = vcpu_reg(v, REG_RIP);
	/* outside 64-bit code the fetch is CS-relative and wraps at 4 GiB */
	u64 lin = vcpu_code64(v) ? rip : ((vcpu_seg_base(v, 1) + rip) & 0xffffffffULL);
	size_t got = 0;
	while (got < max) {
		/* one page at a time: the fetch may run off a mapped page into an unmapped one */
		size_t n = MIN(max - got, PAGE_SIZE - ((lin + got) & ~PAGE_MASK));
		struct gwalk w;
		if (vcpu_read_virt(v, lin + got, buf + got, n, GACC_FETCH, &w) != GWALK_OK)
			break;
		got += n;
	}
	return got;
}
