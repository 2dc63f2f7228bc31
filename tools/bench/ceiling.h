/* SPDX-License-Identifier: MIT */
/*
 * The one-core crypto ceiling the benchmarks compare against: intel-ipsec-mb AES-256-CBC +
 * HMAC-SHA1-96 jobs on packets that are already padded, with header and IV in place, one job
 * per packet, jobs kept in flight across bursts (no flush until asked). Nothing a real data
 * path must do (headers, lookups, IVs, ports) is in it: it is what the crypto alone costs.
 */
#ifndef BURI_BENCH_CEILING_H
#define BURI_BENCH_CEILING_H

#include <stddef.h>

#include "common/keymat.h"

struct ceiling;

/* n packet buffers under key k, sized for payloads up to max bytes; NULL on failure. */
struct ceiling *ceiling_new(const struct dirkey *k, unsigned n, size_t max);
void ceiling_free(struct ceiling *c);
/* Payload sizes of the n packets (each <= max), and their sealed forms for ceiling_open. */
int ceiling_prepare(struct ceiling *c, const size_t *sizes);
/* Submits packets [first, first + count) for sealing / verifying and decrypting. */
void ceiling_seal(struct ceiling *c, unsigned first, unsigned count);
void ceiling_open(struct ceiling *c, unsigned first, unsigned count);
/* Completes every job in flight. */
void ceiling_flush(struct ceiling *c);

#endif
