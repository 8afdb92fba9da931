/* Fake guest memory for the emulator tests: a window of bytes at a chosen offset, a log of
 * every access the emulator makes, and faults on demand. Accesses outside the window are
 * logged and counted (reads see zeros) so that tests can assert where the emulator went. */
#ifndef KEEL_UNIT_EMU_FAKE_H
#define KEEL_UNIT_EMU_FAKE_H

#include "test.h"
#include "../../hypervisor/emulate.h"

#define FAKE_MEM_SIZE 512
#define FAKE_LOG_MAX  64

struct fake_access {
	bool write;
	u8 seg;
	u8 size;
	u64 addr;
	u64 val;
};

struct emu_test {
	struct emu_ctxt c;
	struct emu_regs regs;
	u64 base; /* the segment offset of mem[0] */
	u8 mem[FAKE_MEM_SIZE];
	struct fake_access log[FAKE_LOG_MAX];
	unsigned nlog;
	unsigned outside; /* accesses not wholly inside mem[] */

	/* an access of the given kind overlapping [fault_lo, fault_hi) fails */
	bool fault_read, fault_write;
	u64 fault_lo, fault_hi;
	enum emu_result fault_result; /* EMU_EXCEPTION (raising vector/ec) or anything else */
	u8 fault_vector;
	u32 fault_ec;
	const char *fault_why; /* the reason a failing op gives in c->why, as exit_mmio's do */
};

static inline bool fake_faults(struct emu_test *t, bool write, u64 addr, unsigned size)
{
	if (!(write ? t->fault_write : t->fault_read))
		return false;
	return addr < t->fault_hi && addr + size > t->fault_lo;
}

static inline u8 *fake_window(struct emu_test *t, u64 addr, unsigned size)
{
	if (addr < t->base || addr - t->base > FAKE_MEM_SIZE - size) {
		t->outside++;
		return NULL;
	}
	return &t->mem[addr - t->base];
}

static inline void fake_log(struct emu_test *t, bool write, unsigned seg, u64 addr, unsigned size,
			    u64 val)
{
	if (t->nlog < FAKE_LOG_MAX)
		t->log[t->nlog] = (struct fake_access){write, seg, size, addr, val};
	t->nlog++;
}

static inline enum emu_result fake_read(struct emu_ctxt *c, enum emu_seg seg, u64 addr, void *val,
					unsigned size)
{
	struct emu_test *t = c->opaque;
	CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	if (fake_faults(t, false, addr, size)) {
		fake_log(t, false, seg, addr, size, 0);
		if (t->fault_result != EMU_EXCEPTION) {
			if (t->fault_why)
				c->why = t->fault_why;
			return t->fault_result;
		}
		return emu_raise(c, t->fault_vector, true, t->fault_ec);
	}
	u8 *p = fake_window(t, addr, size);
	if (p)
		memcpy(val, p, size);
	else
		memset(val, 0, size);
	u64 v = 0;
	memcpy(&v, val, size);
	fake_log(t, false, seg, addr, size, v);
	return EMU_OK;
}

static inline enum emu_result fake_write(struct emu_ctxt *c, enum emu_seg seg, u64 addr,
					 const void *val, unsigned size)
{
	struct emu_test *t = c->opaque;
	u64 v = 0;
	CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	memcpy(&v, val, size);
	fake_log(t, true, seg, addr, size, v);
	if (fake_faults(t, true, addr, size)) {
		if (t->fault_result != EMU_EXCEPTION) {
			if (t->fault_why)
				c->why = t->fault_why;
			return t->fault_result;
		}
		return emu_raise(c, t->fault_vector, true, t->fault_ec);
	}
	u8 *p = fake_window(t, addr, size);
	if (p)
		memcpy(p, val, size);
	return EMU_OK;
}

static const struct emu_ops fake_ops = {fake_read, fake_write};

/* A fresh machine: zeroed registers, RFLAGS with only its fixed bit, RIP at 0x100000,
 * memory window at 0x1000. */
static inline struct emu_test *emu_test_new(enum emu_mode mode)
{
	struct emu_test *t = test_alloc(sizeof(*t));
	t->c.mode = mode;
	t->c.ops = &fake_ops;
	t->c.opaque = t;
	t->c.regs = &t->regs;
	t->regs.rflags = 0x2;
	t->regs.rip = 0x100000;
	t->base = 0x1000;
	t->fault_result = EMU_EXCEPTION;
	return t;
}

/* Clears the access log between instructions of one test. */
static inline void emu_test_clear_log(struct emu_test *t)
{
	t->nlog = 0;
	t->outside = 0;
}

static inline u64 fake_get(struct emu_test *t, u64 addr, unsigned size)
{
	u64 v = 0;
	REQUIRE(addr >= t->base && addr - t->base + size <= FAKE_MEM_SIZE);
	memcpy(&v, &t->mem[addr - t->base], size);
	return v;
}

static inline void fake_put(struct emu_test *t, u64 addr, u64 v, unsigned size)
{
	REQUIRE(addr >= t->base && addr - t->base + size <= FAKE_MEM_SIZE);
	memcpy(&t->mem[addr - t->base], &v, size);
}

/* Runs one instruction given as bytes, after clearing the access log. */
#define EMU(t, ...)                                                                                \
	(emu_test_clear_log(t),                                                                    \
	 emulate(&(t)->c, (const u8[]){__VA_ARGS__}, sizeof((const u8[]){__VA_ARGS__})))

#endif
