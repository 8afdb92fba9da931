/* P2M: per-VM guest-frame -> machine-frame map with a type per entry. The only source of
 * truth for guest memory; the EPT is a mirror kept in step by p2m_set(). */
#ifndef KEEL_P2M_H
#define KEEL_P2M_H

#include "frames.h"
#include "pt.h"

enum p2m_type { P2M_NONE = 0, P2M_RAM = 1, P2M_ROM = 2, P2M_MMIO = 3 };

struct p2m {
	struct frames *fa;
	u16 owner;	/* frame owner tag of this VM */
	u64 root;	/* P2M radix root */
	u64 ept_root;	/* EPT PML4 */
	u64 nr_ram;	/* RAM frames mapped */
	u64 nr_tables;	/* table frames used by P2M and EPT */
	bool ept_stale; /* an entry lost rights: INVEPT before the next entry */
	struct pt_ops ops;
};

/* EPT pointer: 4 levels, write-back paging-structure memory type. */
static inline u64 p2m_eptp(const struct p2m *p)
{
	return p->ept_root | (3 << 3) | 6;
}

const char *p2m_init(struct p2m *p, struct frames *fa, u16 owner);
/* Maps gfn to mfn with type t (P2M_NONE unmaps). RAM/ROM frames must belong to this VM:
 * asserted, since mapping anything else would hand the guest foreign memory. Returns false
 * when a table cannot be allocated. */
bool p2m_set(struct p2m *p, u64 gfn, u64 mfn, enum p2m_type t);
enum p2m_type p2m_lookup(struct p2m *p, u64 gfn, u64 *mfn);
/* Allocates and maps `count` fresh (zeroed) frames from gfn on, as RAM or ROM. */
bool p2m_populate_as(struct p2m *p, u64 gfn, u64 count, enum p2m_type t);
static inline bool p2m_populate(struct p2m *p, u64 gfn, u64 count)
{
	return p2m_populate_as(p, gfn, count, P2M_RAM);
}
/* Unmaps everything, frees the VM's frames and all tables. */
void p2m_destroy(struct p2m *p);

/* Copies between hypervisor memory and guest RAM/ROM; returns false (copying nothing past
 * the failure) if any byte of the range is not guest RAM. */
bool p2m_write(struct p2m *p, u64 gpa, const void *src, size_t len);
bool p2m_read(struct p2m *p, u64 gpa, void *dst, size_t len);
/* The hypervisor's own writes into guest ROM (firmware tables): RAM or ROM pages only. */
bool p2m_write_rom(struct p2m *p, u64 gpa, const void *src, size_t len);

extern const struct pt_format pt_fmt_p2m, pt_fmt_ept;

#define EPT_R	  BIT(0)
#define EPT_W	  BIT(1)
#define EPT_X	  BIT(2)
#define EPT_MT_WB (6ULL << 3)
#define EPT_LARGE BIT(7)

#endif
