/* Shared by the emulator test files (test_emulate_*.c): register indices, the RIP every
 * test starts at, and a check of one access the fake memory logged. */
#ifndef KEEL_UNIT_EMU_CHECK_H
#define KEEL_UNIT_EMU_CHECK_H

#include "emu_fake.h"

#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSP 4
#define RBP 5
#define RSI 6
#define RDI 7
#define R8  8
#define R12 12
#define R13 13

#define RIP0 0x100000ULL

/* Checks the one access the last instruction made. */
#define CHECK_ACCESS(t, i, w, sg, a, sz, v)                                                        \
	do {                                                                                       \
		REQUIRE((t)->nlog > (i));                                                          \
		CHECK_EQ((t)->log[i].write, (w));                                                  \
		CHECK_EQ((t)->log[i].seg, (sg));                                                   \
		CHECK_EQ((t)->log[i].addr, (a));                                                   \
		CHECK_EQ((t)->log[i].size, (sz));                                                  \
		CHECK_EQ((t)->log[i].val, (v));                                                    \
	} while (0)

#define R 0
#define W 1

#endif
