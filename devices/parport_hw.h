/* The machine's own port I/O for the parallel port driver. */
#ifndef KEEL_PARPORT_HW_H
#define KEEL_PARPORT_HW_H

#include "parport.h"

extern const struct parport_ops parport_hw_ops;

#endif
