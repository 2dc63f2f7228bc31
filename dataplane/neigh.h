/* SPDX-License-Identifier: MIT */
/*
 * The wan next-hop table: IPv4 address -> MAC, filled from ARP by one writer (the main lcore)
 * and read by any number of workers without locks. Readers never see a torn (ip, mac) pair:
 * each slot carries a sequence count (see neigh.c for why that is enough). A fixed 256-slot
 * open-addressed table; an address lives in one of NEIGH_PROBE slots after its hash, and a full
 * window evicts its oldest entry, so learning always succeeds and never allocates.
 *
 * 0.0.0.0 is never stored (it marks an empty slot and is never a next hop). Times are in
 * whatever unit the caller picks (seconds in the data plane); only differences matter.
 */
#ifndef BURI_NEIGH_H
#define BURI_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

enum {
	NEIGH_SLOTS = 256, /* entries in a table */
	NEIGH_PROBE = 8,   /* slots an address may occupy, starting at its hash */
	NEIGH_RETRY = 64,  /* reads of a slot that is being rewritten before a lookup gives up */
};

/* Opaque; made by neigh_new() on the heap, cache-line aligned. */
struct neigh;

/* An empty table, or NULL if out of memory. */
struct neigh *neigh_new(void);
/* Frees t (NULL is fine). Only once no reader can still use it. */
void neigh_free(struct neigh *t);

/*
 * Reader, any thread: copies the MAC of ip into mac and returns true if ip is in the table.
 * Never returns a MAC that belonged to another address. Returns false (a miss) if the writer
 * keeps rewriting the slot for NEIGH_RETRY reads, so a preempted writer cannot stall a worker.
 */
bool neigh_lookup(const struct neigh *t, uint32_t ip, uint8_t mac[6]);

/* Writer only, from here down. */

/* Records ip -> mac seen at now: refreshes or replaces an existing entry, takes a free slot,
 * or evicts the least recently seen entry of ip's window. ip 0 is ignored. */
void neigh_learn(struct neigh *t, uint32_t ip, const uint8_t mac[6], uint64_t now);
/* True if ip is in the table and was learned at most max_age before now; its MAC goes to mac
 * unless mac is NULL. */
bool neigh_known(const struct neigh *t, uint32_t ip, uint64_t now, uint64_t max_age,
		 uint8_t mac[6]);
/* Removes ip if present; true if it was. */
bool neigh_forget(struct neigh *t, uint32_t ip);
/* Removes every entry learned more than max_age before now; returns how many. */
unsigned neigh_expire(struct neigh *t, uint64_t now, uint64_t max_age);

#endif
