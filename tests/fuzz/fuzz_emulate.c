/* libFuzzer target for the instruction emulator: arbitrary bytes become the mode, the
 * fetched instruction, the register file and a fake memory's faults, and every outcome is
 * checked against the contract in hypervisor/emulate.h. Built by `make fuzz-emulate`.
 *
 * Input: [config][fetch length][15 instruction bytes][registers...], zero-filled if short.
 * config bits 0-1: mode (3 is 64-bit too), 2-4: fault plan, 5-7: REP cap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/emulate.h"

#define MEM_SIZE 4096
#define LOG_MAX	 4096

struct fuzz_state {
	u8 mem[MEM_SIZE];
	unsigned accesses;
	unsigned plan;
	unsigned every; /* plan 4: the every-th access faults */
	u64 amask;
	bool bad; /* an access broke the contract */
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_emulate: %s\n", what);
	abort();
}

/* Plans: 0 none, 1 reads fault at addresses with bit 12 set, 2 writes do, 3 such accesses
 * are unhandled, 4 every n-th access faults, 5-7 none. */
static enum emu_result check_access(struct emu_ctxt *c, enum emu_seg seg, u64 addr, unsigned size,
				    bool write)
{
	struct fuzz_state *s = c->opaque;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		die("access size not 1, 2, 4 or 8");
	if ((unsigned)seg > EMU_SEG_GS)
		die("segment out of range");
	if (addr > s->amask)
		die("address wider than the address size");
	s->accesses++;
	bool hit = addr & 0x1000;
	switch (s->plan) {
	case 1:
		if (hit && !write)
			return emu_raise(c, 14, true, 0);
		break;
	case 2:
		if (hit && write)
			return emu_raise(c, 14, true, 2);
		break;
	case 3:
		if (hit)
			return EMU_UNHANDLED;
		break;
	case 4:
		if (s->accesses % s->every == 0)
			return emu_raise(c, 13, true, 0);
		break;
	}
	return EMU_OK;
}

static enum emu_result fuzz_read(struct emu_ctxt *c, enum emu_seg seg, u64 addr, void *val,
				 unsigned size)
{
	enum emu_result r = check_access(c, seg, addr, size, false);
	struct fuzz_state *s = c->opaque;
	if (r == EMU_OK)
		for (unsigned i = 0; i < size; i++)
			((u8 *)val)[i] = s->mem[(addr + i) % MEM_SIZE];
	return r;
}

static enum emu_result fuzz_write(struct emu_ctxt *c, enum emu_seg seg, u64 addr, const void *val,
				  unsigned size)
{
	enum emu_result r = check_access(c, seg, addr, size, true);
	struct fuzz_state *s = c->opaque;
	if (r == EMU_OK)
		for (unsigned i = 0; i < size; i++)
			s->mem[(addr + i) % MEM_SIZE] = ((const u8 *)val)[i];
	return r;
}

static const struct emu_ops fuzz_ops = {fuzz_read, fuzz_write};

static u64 ip_mask(enum emu_mode mode)
{
	return mode == EMU_MODE_16 ? 0xffff : mode == EMU_MODE_32 ? 0xffffffff : ~0ULL;
}

static bool is_string(const struct emu_insn *in)
{
	return in->op == EMU_OP_MOVS || in->op == EMU_OP_STOS;
}

/* Decoding is exact: the same instruction decodes to the same length from exactly its own
 * bytes, and is "truncated" with one byte fewer. */
static void check_length(enum emu_mode mode, const u8 *insn, unsigned len)
{
	struct emu_ctxt c = {.mode = mode};
	u8 *exact = malloc(len);
	if (!exact)
		abort();
	memcpy(exact, insn, len);
	if (emu_decode(&c, exact, len) != EMU_OK || c.insn.len != len)
		die("instruction does not decode from exactly its own bytes");
	if (emu_decode(&c, exact, len - 1) != EMU_UNHANDLED)
		die("instruction decodes with a byte missing");
	free(exact);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 buf[2 + EMU_MAX_INSN_LEN + sizeof(struct emu_regs)] = {0};
	memcpy(buf, data, size < sizeof(buf) ? size : sizeof(buf));

	static struct fuzz_state s;
	memset(&s, 0, sizeof(s));
	for (unsigned i = 0; i < MEM_SIZE; i++)
		s.mem[i] = i * 7;
	enum emu_mode mode = (buf[0] & 3) == 3 ? EMU_MODE_64 : (enum emu_mode)(buf[0] & 3);
	s.plan = (buf[0] >> 2) & 7;
	s.every = 1 + buf[1] / 16;
	unsigned cap = (buf[0] >> 5) * 3; /* 0 (the default) to 21 */
	unsigned fetch = buf[1] % 16;

	/* exactly `fetch` bytes on the heap: AddressSanitizer sees any read past them */
	u8 *insn = malloc(fetch ? fetch : 1);
	if (!insn)
		abort();
	memcpy(insn, buf + 2, fetch);

	struct emu_regs regs, before;
	memcpy(&regs, buf + 2 + EMU_MAX_INSN_LEN, sizeof(regs));
	regs.rip &= ip_mask(mode);
	before = regs;

	struct emu_ctxt c = {
	    .mode = mode, .ops = &fuzz_ops, .opaque = &s, .regs = &regs, .rep_cap = cap};
	/* addresses are checked against the address size the decoder found */
	struct emu_ctxt probe = {.mode = mode};
	enum emu_result decoded = emu_decode(&probe, insn, fetch);
	s.amask = probe.insn.addr_size == 2   ? 0xffff
		  : probe.insn.addr_size == 4 ? 0xffffffff
					      : ~0ULL;

	enum emu_result r = emulate(&c, insn, fetch);
	const struct emu_insn *in = &c.insn;
	if (decoded != EMU_OK && r != decoded)
		die("emulate() and emu_decode() disagree");
	if (decoded != EMU_OK && s.accesses)
		die("memory touched by an instruction that did not decode");
	if (memcmp(&probe.insn, &c.insn, sizeof(c.insn)))
		die("decoding is not deterministic");

	unsigned max_iter = cap ? cap : EMU_REP_CAP_DEFAULT;
	switch (r) {
	case EMU_OK:
		if (in->len < 1 || in->len > fetch || in->len > EMU_MAX_INSN_LEN)
			die("bad length");
		if (regs.rip != ((before.rip + in->len) & ip_mask(mode)))
			die("RIP not advanced by the length");
		if (s.accesses > 2 * max_iter)
			die("more accesses than the REP cap allows");
		check_length(mode, insn, in->len);
		break;
	case EMU_AGAIN:
		if (!is_string(in) || !in->rep)
			die("EMU_AGAIN from something other than a REP string op");
		if (regs.rip != before.rip)
			die("RIP moved on EMU_AGAIN");
		if (s.accesses != (in->op == EMU_OP_MOVS ? 2 : 1) * max_iter)
			die("EMU_AGAIN before the cap");
		break;
	case EMU_UNHANDLED:
		if (!c.why)
			die("unhandled without a reason");
		/* fall through */
	case EMU_EXCEPTION:
		if (r == EMU_EXCEPTION && c.exc.vector != EMU_VEC_UD &&
		    c.exc.vector != EMU_VEC_GP && c.exc.vector != 14)
			die("exception the emulator cannot have raised");
		if (!is_string(in) && memcmp(&regs, &before, sizeof(regs)))
			die("registers changed by a failed instruction");
		if (regs.rip != before.rip)
			die("RIP moved on failure");
		break;
	default:
		die("result out of range");
	}
	free(insn);
	return 0;
}
