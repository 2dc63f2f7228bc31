/* SPDX-License-Identifier: MIT */
/*
 * dataplane/neigh.c: learn, refresh, replace, forget, expire and eviction on one thread, then
 * one writer rewriting slots as fast as it can against a reader that checks every hit for a
 * MAC that belongs to another address (a torn read).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "dataplane/neigh.h"
#include "rng.h"
#include "test.h"

TEST_DEFINE_STATE;

/* A MAC that only ip has: locally administered, the address in the middle, a check byte. */
static void
mac_of(uint32_t ip, uint8_t gen, uint8_t mac[6])
{
	mac[0] = (uint8_t)(0x02 | gen << 2);
	mac[1] = (uint8_t)(ip >> 24);
	mac[2] = (uint8_t)(ip >> 16);
	mac[3] = (uint8_t)(ip >> 8);
	mac[4] = (uint8_t)ip;
	mac[5] = (uint8_t)((ip ^ ip >> 8 ^ ip >> 16 ^ ip >> 24) + gen);
}

static bool
mac_fits(uint32_t ip, const uint8_t mac[6])
{
	uint8_t want[6];

	for (uint8_t gen = 0; gen < 2; gen++) {
		mac_of(ip, gen, want);
		if (memcmp(mac, want, 6) == 0)
			return true;
	}
	return false;
}

static void
test_basic(void)
{
	struct neigh *t = neigh_new();
	uint8_t m1[6], m2[6], got[6];
	const uint32_t a = 0xc0000201, b = 0xc0000202;

	TEST_START("neigh: learn, lookup, refresh, replace, forget, known");
	ASSERT_TRUE(t != NULL);
	mac_of(a, 0, m1);
	mac_of(a, 1, m2);
	ASSERT_TRUE(!neigh_lookup(t, a, got));
	neigh_learn(t, a, m1, 100);
	ASSERT_TRUE(neigh_lookup(t, a, got));
	ASSERT_MEM_EQ(got, m1, 6);
	ASSERT_TRUE(!neigh_lookup(t, b, got));
	ASSERT_TRUE(neigh_known(t, a, 110, 10, NULL));
	ASSERT_TRUE(!neigh_known(t, a, 111, 10, got));
	ASSERT_TRUE(neigh_known(t, a, 50, 0, got)); /* a clock that went back: age 0 */
	neigh_learn(t, a, m1, 111);		    /* refresh */
	ASSERT_TRUE(neigh_known(t, a, 111, 0, got));
	ASSERT_MEM_EQ(got, m1, 6);
	neigh_learn(t, a, m2, 112); /* the host moved */
	ASSERT_TRUE(neigh_lookup(t, a, got));
	ASSERT_MEM_EQ(got, m2, 6);
	neigh_learn(t, b, m1, 112);
	ASSERT_TRUE(neigh_forget(t, a));
	ASSERT_TRUE(!neigh_forget(t, a));
	ASSERT_TRUE(!neigh_lookup(t, a, got));
	ASSERT_TRUE(!neigh_known(t, a, 112, 100, got));
	ASSERT_TRUE(neigh_lookup(t, b, got));
	neigh_learn(t, 0, m1, 112); /* 0.0.0.0 is never a next hop */
	ASSERT_TRUE(!neigh_lookup(t, 0, got));
	ASSERT_TRUE(!neigh_known(t, 0, 112, 100, got));
	neigh_free(t);
	neigh_free(NULL);
	TEST_DONE();
}

static void
test_expire(void)
{
	struct neigh *t = neigh_new();
	uint8_t m[6], got[6];
	unsigned present = 0;

	TEST_START("neigh: expiry removes exactly the entries older than max_age");
	ASSERT_TRUE(t != NULL);
	for (uint32_t i = 1; i <= 100; i++) {
		mac_of(0x0a000000 + i, 0, m);
		neigh_learn(t, 0x0a000000 + i, m, i);
	}
	ASSERT_INT_EQ(neigh_expire(t, 100, 99), 0);
	ASSERT_INT_EQ(neigh_expire(t, 100, 60), 39); /* learned at 1..39: age 99..61 */
	ASSERT_INT_EQ(neigh_expire(t, 100, 60), 0);
	for (uint32_t i = 1; i <= 100; i++) {
		bool hit = neigh_lookup(t, 0x0a000000 + i, got);

		if (hit != (i >= 40))
			ASSERT_INT_EQ(i, 0);
		present += hit;
	}
	ASSERT_INT_EQ(present, 61);
	ASSERT_INT_EQ(neigh_expire(t, 1000, 0), 61);
	/* expired slots are reused */
	mac_of(0x0a000005, 0, m);
	neigh_learn(t, 0x0a000005, m, 1001);
	ASSERT_TRUE(neigh_lookup(t, 0x0a000005, got));
	ASSERT_MEM_EQ(got, m, 6);
	neigh_free(t);
	TEST_DONE();
}

static void
test_eviction(void)
{
	struct neigh *t = neigh_new();
	const uint32_t keep = 0xc0a80001;
	uint8_t m[6], got[6];
	int lost_new = 0, lost_keep = 0, wrong = 0;
	unsigned present = 0;

	TEST_START("neigh: a flood evicts the oldest, never the newest or a busy entry");
	ASSERT_TRUE(t != NULL);
	mac_of(keep, 0, m);
	neigh_learn(t, keep, m, 0);
	for (uint32_t i = 1; i <= 4 * NEIGH_SLOTS; i++) {
		uint32_t ip = 0x0a000000 + i * 4099;

		mac_of(ip, 0, m);
		neigh_learn(t, ip, m, 2 * (uint64_t)i);
		if (!neigh_lookup(t, ip, got))
			lost_new++;
		else if (!mac_fits(ip, got))
			wrong++;
		/* keep is used all the time, so it is always the newest in its window */
		mac_of(keep, 0, m);
		neigh_learn(t, keep, m, 2 * (uint64_t)i + 1);
		if (!neigh_lookup(t, keep, got))
			lost_keep++;
	}
	ASSERT_INT_EQ(lost_new, 0);
	ASSERT_INT_EQ(lost_keep, 0);
	ASSERT_INT_EQ(wrong, 0);
	for (uint32_t i = 1; i <= 4 * NEIGH_SLOTS; i++)
		present += neigh_lookup(t, 0x0a000000 + i * 4099, got);
	ASSERT_TRUE(present + 1 <= NEIGH_SLOTS);
	ASSERT_TRUE(present >= NEIGH_SLOTS / 2); /* the probe window fills most of the table */
	/* eviction takes the oldest of a full window, so an entry goes only once its window holds
	 * NEIGH_PROBE - 1 newer ones: the last NEIGH_PROBE - 1 learned are all still there */
	for (uint32_t i = 4 * NEIGH_SLOTS - NEIGH_PROBE + 2; i <= 4 * NEIGH_SLOTS; i++)
		ASSERT_TRUE(neigh_lookup(t, 0x0a000000 + i * 4099, got));
	neigh_free(t);
	TEST_DONE();
}

enum {
	POOL = 1024,	 /* addresses the writer cycles through: four times the slots */
	STRESS_MS = 1000 /* how long the reader runs */
};

struct stress {
	struct neigh *t;
	atomic_bool stop;
	uint64_t writes, lookups, hits, torn;
};

static uint32_t
pool_ip(uint64_t k)
{
	return 0x0a000000 + (uint32_t)(k % POOL) * 257 + 1;
}

static void *
writer(void *arg)
{
	struct stress *s = arg;
	uint64_t now = 0;
	uint8_t m[6];

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		uint32_t ip = pool_ip(rng());

		mac_of(ip, (uint8_t)(now & 1), m);
		neigh_learn(s->t, ip, m, now++);
		if (now % 4096 == 0)
			(void)neigh_expire(s->t, now, 2048);
		s->writes++;
	}
	return NULL;
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
reader(struct stress *s)
{
	uint64_t x = 0x2545f4914f6cdd1dull, end = ms_now() + STRESS_MS;
	uint8_t got[6];

	while (ms_now() < end) {
		for (int i = 0; i < 4096; i++) {
			uint32_t ip;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			ip = pool_ip(x);
			s->lookups++;
			if (!neigh_lookup(s->t, ip, got))
				continue;
			s->hits++;
			if (!mac_fits(ip, got))
				s->torn++;
		}
	}
}

static void
test_stress(void)
{
	struct stress s = {.t = neigh_new()};
	pthread_t th;

	TEST_START("neigh: one writer rewriting slots vs a reader, no torn pair in 1 s");
	ASSERT_TRUE(s.t != NULL);
	atomic_init(&s.stop, false);
	ASSERT_INT_EQ(pthread_create(&th, NULL, writer, &s), 0);
	reader(&s);
	atomic_store(&s.stop, true);
	ASSERT_INT_EQ(pthread_join(th, NULL), 0);
	printf("# %" PRIu64 " writes, %" PRIu64 " lookups, %" PRIu64 " hits, %" PRIu64 " torn\n",
	       s.writes, s.lookups, s.hits, s.torn);
	ASSERT_INT_EQ(s.torn, 0);
	ASSERT_TRUE(s.writes > 10000);
	ASSERT_TRUE(s.hits > 10000);
	ASSERT_TRUE(s.hits < s.lookups); /* evictions happened, so some lookups missed */
	neigh_free(s.t);
	TEST_DONE();
}

int
main(void)
{
	test_basic();
	test_expire();
	test_eviction();
	test_stress();
	return test_finish();
}
