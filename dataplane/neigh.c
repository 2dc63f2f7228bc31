/* SPDX-License-Identifier: MIT */
/*
 * Why readers never see a torn pair: every slot is a sequence lock (Boehm, "Can seqlocks get
 * along with programming language memory models?", MSPC 2012, the pattern behind DPDK's
 * rte_seqcount). The one writer makes seq odd, issues a release fence, stores ip and mac, and
 * stores seq + 2 with release. A reader loads seq with acquire (s1), loads ip and mac, issues an
 * acquire fence and loads seq again (s2), and keeps the pair only if s1 == s2 and s1 is even.
 *
 * - If s1 came from the end of write W, W's data stores happen before the reader's data loads,
 *   so the reader sees W's pair or something newer.
 * - If a data load saw a store of a later write W', that store follows W''s release fence and
 *   the reader's acquire fence follows the load, so the fences synchronize: W''s odd seq store
 *   happens before the second seq load, and s2 != s1.
 * So a kept pair was written by exactly one write. All shared fields are atomics accessed
 * relaxed except where noted, so there is no data race in the C11 sense. Nothing needs to be
 * reclaimed: slots are rewritten in place, never freed while the table lives.
 *
 * Readers scan the whole probe window instead of stopping at an empty slot: entries never move,
 * and expiry leaves holes in the middle of windows.
 */
#include "dataplane/neigh.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(NEIGH_SLOTS == 256, "slot_of() yields 8 bits");

struct slot {
	_Atomic uint32_t seq; /* odd while the writer is changing ip and mac */
	_Atomic uint32_t ip;  /* host order; 0 when empty */
	_Atomic uint64_t mac; /* 48 bits, mac[0] the most significant byte */
};
STATIC_ASSERT_SIZE(struct slot, 16);

struct neigh {
	/* what readers touch: four slots per cache line */
	_Alignas(64) struct slot slot[NEIGH_SLOTS];
	/* writer only: when each slot was last learned, kept apart from the readers' lines */
	_Alignas(64) uint64_t seen[NEIGH_SLOTS];
};

/* Fibonacci hashing: the top 8 bits of ip times 2^32 / phi spread consecutive addresses. */
static unsigned
slot_of(uint32_t ip)
{
	return (ip * UINT32_C(0x9e3779b1)) >> 24;
}

static uint64_t
mac_pack(const uint8_t mac[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | mac[i];
	return v;
}

static void
mac_unpack(uint64_t v, uint8_t mac[6])
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		mac[i] = (uint8_t)v;
}

static inline void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* One consistent (ip, mac) of s into *ip, *mac; false if the writer kept it busy. */
static bool
slot_read(const struct slot *s, uint32_t *ip, uint64_t *mac)
{
	for (int tries = 0; tries < NEIGH_RETRY; tries++) {
		uint32_t s1, s2;

		s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (s1 & 1) {
			relax();
			continue;
		}
		*ip = atomic_load_explicit(&s->ip, memory_order_relaxed);
		*mac = atomic_load_explicit(&s->mac, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
		if (s1 == s2)
			return true;
	}
	return false;
}

static void
slot_write(struct slot *s, uint32_t ip, uint64_t mac)
{
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->ip, ip, memory_order_relaxed);
	atomic_store_explicit(&s->mac, mac, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

/* The writer's own view: it is the only one storing, so plain relaxed loads are current. */
static uint32_t
slot_ip(const struct slot *s)
{
	return atomic_load_explicit(&s->ip, memory_order_relaxed);
}

static int
find(const struct neigh *t, uint32_t ip)
{
	unsigned h = slot_of(ip);

	for (unsigned i = 0; i < NEIGH_PROBE; i++) {
		unsigned k = (h + i) % NEIGH_SLOTS;

		if (slot_ip(&t->slot[k]) == ip)
			return (int)k;
	}
	return -1;
}

struct neigh *
neigh_new(void)
{
	struct neigh *t = aligned_alloc(64, sizeof(*t));

	if (t == NULL)
		return NULL;
	for (unsigned k = 0; k < NEIGH_SLOTS; k++) {
		atomic_init(&t->slot[k].seq, 0);
		atomic_init(&t->slot[k].ip, 0);
		atomic_init(&t->slot[k].mac, 0);
		t->seen[k] = 0;
	}
	return t;
}

void
neigh_free(struct neigh *t)
{
	free(t);
}

bool
neigh_lookup(const struct neigh *t, uint32_t ip, uint8_t mac[6])
{
	unsigned h = slot_of(ip);

	if (ip == 0)
		return false;
	for (unsigned i = 0; i < NEIGH_PROBE; i++) {
		uint32_t got;
		uint64_t m;

		if (slot_read(&t->slot[(h + i) % NEIGH_SLOTS], &got, &m) && got == ip) {
			mac_unpack(m, mac);
			return true;
		}
	}
	return false;
}

/* Where a new ip goes: the first free slot of its window, else the least recently seen. */
static unsigned
victim(const struct neigh *t, uint32_t ip)
{
	unsigned h = slot_of(ip), old = h;

	for (unsigned i = 0; i < NEIGH_PROBE; i++) {
		unsigned k = (h + i) % NEIGH_SLOTS;

		if (slot_ip(&t->slot[k]) == 0)
			return k;
		if (t->seen[k] < t->seen[old])
			old = k;
	}
	return old;
}

void
neigh_learn(struct neigh *t, uint32_t ip, const uint8_t mac[6], uint64_t now)
{
	uint64_t m = mac_pack(mac);
	int k;

	if (ip == 0)
		return;
	if ((k = find(t, ip)) < 0)
		k = (int)victim(t, ip);
	/* a refresh with the same MAC must not make readers retry */
	if (slot_ip(&t->slot[k]) != ip ||
	    atomic_load_explicit(&t->slot[k].mac, memory_order_relaxed) != m)
		slot_write(&t->slot[k], ip, m);
	t->seen[k] = now;
}

static uint64_t
age(const struct neigh *t, unsigned k, uint64_t now)
{
	return now > t->seen[k] ? now - t->seen[k] : 0;
}

bool
neigh_known(const struct neigh *t, uint32_t ip, uint64_t now, uint64_t max_age, uint8_t mac[6])
{
	int k;

	if (ip == 0 || (k = find(t, ip)) < 0 || age(t, (unsigned)k, now) > max_age)
		return false;
	if (mac != NULL)
		mac_unpack(atomic_load_explicit(&t->slot[k].mac, memory_order_relaxed), mac);
	return true;
}

bool
neigh_forget(struct neigh *t, uint32_t ip)
{
	int k;

	if (ip == 0 || (k = find(t, ip)) < 0)
		return false;
	slot_write(&t->slot[k], 0, 0);
	return true;
}

unsigned
neigh_expire(struct neigh *t, uint64_t now, uint64_t max_age)
{
	unsigned n = 0;

	for (unsigned k = 0; k < NEIGH_SLOTS; k++) {
		if (slot_ip(&t->slot[k]) == 0 || age(t, k, now) <= max_age)
			continue;
		slot_write(&t->slot[k], 0, 0);
		n++;
	}
	return n;
}
