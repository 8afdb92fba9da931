/* Hypervisor time: TSC frequency and the periodic tick. */
#ifndef KEEL_TIME_H
#define KEEL_TIME_H

#include "types.h"

#define TIMER_HZ 100

void time_init(void);
u64 time_ticks(void);

#endif
