/* Control-register access exits: the qualification decoded into a struct cr_access, then
 * carried out by cr_ops.c (which real mode's emulated MOV CR, CLTS and LMSW share). */
#include "exit_cr.h"
#include "cr_ops.h"

static struct cr_access decode(u64 q)
{
	return (struct cr_access){(unsigned)(q & 0xf), (enum cr_op)((q >> 4) & 3),
				  (unsigned)((q >> 8) & 0xf), (u16)(q >> 16)};
}

enum exit_action exit_cr_access(struct vcpu *v)
{
	struct cr_access a = decode(v->exit_qual);
	return cr_access(v, &a);
}
