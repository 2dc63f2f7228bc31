/* SPDX-License-Identifier: MIT */
#include "mediator/hmap.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

enum { HMAP_INITIAL = 64 };

int
hmap_init(struct hmap *h)
{
	h->n = 0;
	h->nb = HMAP_INITIAL;
	h->b = calloc(h->nb, sizeof(*h->b));
	return h->b != NULL ? 0 : E_NOMEM;
}

void
hmap_fini(struct hmap *h)
{
	free(h->b);
	h->b = NULL;
	h->nb = h->n = 0;
}

static void
grow(struct hmap *h)
{
	size_t nb = h->nb * 2;
	struct hmap_node **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return;
	for (size_t i = 0; i < h->nb; i++) {
		struct hmap_node *n = h->b[i], *next;

		for (; n != NULL; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(h->b);
	h->b = b;
	h->nb = nb;
}

void
hmap_insert(struct hmap *h, struct hmap_node *node, uint64_t hash)
{
	struct hmap_node **slot;

	if (h->n >= h->nb)
		grow(h);
	slot = &h->b[hash & (h->nb - 1)];
	node->hash = hash;
	node->next = *slot;
	*slot = node;
	h->n++;
}

void
hmap_remove(struct hmap *h, struct hmap_node *node)
{
	struct hmap_node **pp = &h->b[node->hash & (h->nb - 1)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			node->next = NULL;
			h->n--;
			return;
		}
	}
}

struct hmap_node *
hmap_first(const struct hmap *h, uint64_t hash)
{
	struct hmap_node *n = h->b[hash & (h->nb - 1)];

	for (; n != NULL; n = n->next)
		if (n->hash == hash)
			return n;
	return NULL;
}

void
hmap_each(struct hmap *h, void (*fn)(struct hmap_node *node, void *arg), void *arg)
{
	for (size_t i = 0; i < h->nb; i++) {
		struct hmap_node *n = h->b[i], *next;

		for (; n != NULL; n = next) {
			next = n->next;
			fn(n, arg);
		}
	}
}

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = rotl(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = rotl(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = rotl(v2, 32);                                                                 \
	} while (0)

/* SipHash-2-4 (Aumasson and Bernstein, 2012), little-endian words as the reference defines. */
uint64_t
hmap_siphash(const uint64_t k[2], const void *p, size_t len)
{
	const uint8_t *in = p;
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ULL, v1 = k[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ULL, v3 = k[1] ^ 0x7465646279746573ULL;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--)
			m = m << 8 | in[i + (size_t)j];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
hmap_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}
