/* Hypervisor-wide singletons set up at boot and read by several subsystems. */
#ifndef KEEL_KEEL_H
#define KEEL_KEEL_H

#include "types.h"
#include "../mm/frames.h"

extern struct frames machine_frames; /* mm/machine_frames.c */
extern u64 tsc_hz; /* calibrated TSC frequency */

/* Current TSC (time_hw.c). */
u64 time_now(void);

#endif
