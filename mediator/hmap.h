/* SPDX-License-Identifier: MIT */
/*
 * Intrusive chained hash map keyed by a 64-bit hash the caller computes; the caller compares
 * keys while walking a bucket. It grows by doubling when the load passes 1, so lookups stay
 * O(1) at the mediator's scale (tens of thousands of accounts). Keys an attacker chooses
 * (network names) must be hashed with a keyed hash (hmap_siphash) so buckets cannot be
 * flooded.
 */
#ifndef BURI_MED_HMAP_H
#define BURI_MED_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
};

struct hmap {
	struct hmap_node **b;
	size_t nb; /* power of two */
	size_t n;
};

/* 0, or E_NOMEM. */
int hmap_init(struct hmap *h);
/* Frees the bucket array; the nodes are the caller's. */
void hmap_fini(struct hmap *h);
/* Inserts node with hash (duplicates are the caller's to avoid). Growing may fail silently:
 * the map then stays correct, only slower. */
void hmap_insert(struct hmap *h, struct hmap_node *node, uint64_t hash);
void hmap_remove(struct hmap *h, struct hmap_node *node);
/* First node of the bucket of hash; walk with hmap_next, checking node->hash and the key. */
struct hmap_node *hmap_first(const struct hmap *h, uint64_t hash);
static inline struct hmap_node *
hmap_next(const struct hmap_node *node, uint64_t hash)
{
	for (node = node->next; node != NULL; node = node->next)
		if (node->hash == hash)
			return (struct hmap_node *)node;
	return NULL;
}
/* Calls fn for every node; fn may remove the node it is given. */
void hmap_each(struct hmap *h, void (*fn)(struct hmap_node *node, void *arg), void *arg);

/* SipHash-2-4 of p[0..len) under the 128-bit key k. */
uint64_t hmap_siphash(const uint64_t k[2], const void *p, size_t len);
/* A fast mixer for integer keys (not keyed: use only for keys the server assigns). */
uint64_t hmap_mix64(uint64_t x);

#endif
