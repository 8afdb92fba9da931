/* The I/O-instruction exit handler (exit_io.c): IN/OUT and INS/OUTS to the port bus. */
#ifndef KEEL_VMX_EXIT_IO_H
#define KEEL_VMX_EXIT_IO_H

#include "exit_action.h"

enum exit_action exit_io(struct vcpu *v);

#endif
