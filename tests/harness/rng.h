/* SPDX-License-Identifier: MIT */
/* A deterministic generator (xorshift64) for tests, so a failure can be replayed. Not for
 * anything secret. Each test program that includes this has its own state; set rng_state to
 * seed it. */
#ifndef BURI_TEST_RNG_H
#define BURI_TEST_RNG_H

#include <stddef.h>
#include <stdint.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static inline void
rng_fill(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rng();
}

#endif
