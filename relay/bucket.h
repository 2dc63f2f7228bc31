/* SPDX-License-Identifier: MIT */
/*
 * A token bucket in integer arithmetic on a millisecond clock: rate units per second, at most
 * burst units saved up. Tokens are kept in thousandths of a unit, so one millisecond refills
 * exactly `rate` of them and no rounding drifts. Used for the relay's per-address BIND rate and
 * per-session byte rate.
 */
#ifndef BURI_RELAY_BUCKET_H
#define BURI_RELAY_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

enum {
	BUCKET_MILLI = 1000,
	/* After this long idle a bucket is full whatever its rate, and rate * dt cannot
	 * overflow for any rate below 2^40 units per second. */
	BUCKET_FULL_AFTER_MS = 1000000,
};

struct bucket {
	uint64_t milli; /* tokens, in thousandths */
	uint64_t last_ms;
};

/* A full bucket at now_ms. */
static inline void
bucket_init(struct bucket *b, uint64_t burst, uint64_t now_ms)
{
	b->milli = burst * BUCKET_MILLI;
	b->last_ms = now_ms;
}

static inline void
bucket_refill(struct bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ms)
{
	uint64_t cap = burst * BUCKET_MILLI, dt;

	if (now_ms <= b->last_ms)
		return; /* a clock that stands still (or a caller's older time) adds nothing */
	dt = now_ms - b->last_ms;
	b->last_ms = now_ms;
	if (dt >= BUCKET_FULL_AFTER_MS || cap - b->milli <= rate * dt)
		b->milli = cap;
	else
		b->milli += rate * dt;
}

/* Takes n units if the bucket holds them; false (nothing taken) otherwise. */
static inline bool
bucket_take(struct bucket *b, uint64_t rate, uint64_t burst, uint64_t n, uint64_t now_ms)
{
	bucket_refill(b, rate, burst, now_ms);
	if (b->milli < n * BUCKET_MILLI)
		return false;
	b->milli -= n * BUCKET_MILLI;
	return true;
}

/* True if the bucket would be full at now_ms: it remembers nothing worth keeping. */
static inline bool
bucket_idle(const struct bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ms)
{
	uint64_t dt = now_ms > b->last_ms ? now_ms - b->last_ms : 0;

	return dt >= BUCKET_FULL_AFTER_MS || burst * BUCKET_MILLI - b->milli <= rate * dt;
}

#endif
