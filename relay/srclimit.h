/* SPDX-License-Identifier: MIT */
/*
 * The BIND rate per source IPv4 address: a token bucket per address that has sent an
 * authentic BIND recently. Only BINDs that passed the MAC check are charged (table.c), so
 * nobody can use up a node's allowance with forged BINDs from its address, and the table only
 * grows with addresses that hold valid grants. Entries whose bucket has refilled are dropped
 * by srclimit_expire(), and the table never holds more than max_entries.
 */
#ifndef BURI_RELAY_SRCLIMIT_H
#define BURI_RELAY_SRCLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct srclimit;

/* rate BINDs per second per address, burst at most saved up. NULL on allocation failure. */
struct srclimit *srclimit_new(unsigned rate, unsigned burst, size_t max_entries);
void srclimit_free(struct srclimit *s);

/* Charges one BIND to addr at now_ms: true if it is within the limit. False also when the
 * table is full and addr is not in it (refusing is safer than forgetting others' buckets). */
bool srclimit_take(struct srclimit *s, uint32_t addr, uint64_t now_ms);

/* Forgets the addresses whose buckets are full again. */
void srclimit_expire(struct srclimit *s, uint64_t now_ms);

size_t srclimit_count(const struct srclimit *s);

#endif
