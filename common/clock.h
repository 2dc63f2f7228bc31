/* SPDX-License-Identifier: MIT */
/* Monotonic time for timeouts and periods (never for anything that must survive a reboot). */
#ifndef BURI_CLOCK_H
#define BURI_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC (a vDSO read: no system call). */
static inline uint64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
