/* SPDX-License-Identifier: MIT */
/* The data plane's SA table (dataplane/sa_table.c): add, lookup, replace, delete, flush and
 * endpoint semantics and the broadcast set on one lcore; then a reader on lcore 1 checking
 * every SA it sees (by SPI, by peer, in the broadcast set) for consistency and poison while the
 * main lcore adds, replaces and deletes for a few seconds; then that every SA ever made was freed,
 * wiped, and only after the reader let go. */
#include "dataplane/sa_table.h" /* first: see its note on container_of */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "common/clock.h"
#include "common/err.h"
#include "dp_eal.h"
#include "test.h"

TEST_DEFINE_STATE;

enum {
	POISON = 0xa5,
	QUARANTINE = 4096, /* poisoned SAs kept unfreed, so a late reader sees the poison */
	NSPI = 64,	   /* SPIs the stress test churns */
	STRESS_MS = 3000,
};

static struct rte_rcu_qsbr *qv;

/* --- the free hook: poison, keep the last QUARANTINE, count --- */

#include "quarantine.h"

/* --- SAs whose every field derives from (spi, ver), so a reader can check one --- */

static uint8_t
pat(uint32_t spi, uint32_t ver, unsigned i)
{
	uint32_t x = spi * 2654435761u ^ ver * 40503u ^ i * 97u;

	return (uint8_t)(x ^ x >> 13);
}

static void
mk_sa(struct dpif_sa *d, uint32_t spi, uint32_t ver, uint32_t peer)
{
	memset(d, 0, sizeof(*d));
	d->spi_in = spi;
	d->spi_out = spi ^ 0x5a5a0000u;
	d->peer_addr = peer;
	d->ep_addr = 0xc0a80000u | (spi & 0xffff);
	d->ep_port = (uint16_t)(d->ep_addr ^ 0xbeef);
	d->msgid_out = ver;
	d->net_mask = 1;
	for (unsigned i = 0; i < WIRE_KE_LEN; i++) {
		d->in_ke[i] = pat(spi, ver, i);
		d->out_ke[i] = pat(spi, ver, i + 100);
	}
	for (unsigned i = 0; i < WIRE_KA_LEN; i++) {
		d->in_ka[i] = pat(spi, ver, i + 200);
		d->out_ka[i] = pat(spi, ver, i + 300);
	}
	memcpy(d->in_ke, &spi, 4);
	memcpy(d->in_ke + 4, &ver, 4);
}

/* 0 if sa is a whole SA of spi as mk_sa() made it (ver taken from its key), else why not. */
static int
sa_consistent(const struct sa *sa, uint32_t spi)
{
	uint32_t s, ver, addr;
	uint16_t port;

	if (sa->spi_in == 0xa5a5a5a5u)
		return 1; /* poisoned: freed under the reader */
	if (sa->spi_in != spi || sa->spi_out != (spi ^ 0x5a5a0000u))
		return 2;
	memcpy(&s, sa->keys_in.dk.ke, 4);
	memcpy(&ver, sa->keys_in.dk.ke + 4, 4);
	if (s != spi || sa->gen != ver)
		return 3;
	for (unsigned i = 8; i < WIRE_KE_LEN; i++)
		if (sa->keys_in.dk.ke[i] != pat(spi, ver, i))
			return 4;
	for (unsigned i = 0; i < WIRE_KE_LEN; i++)
		if (sa->keys_out.dk.ke[i] != pat(spi, ver, i + 100))
			return 4;
	for (unsigned i = 0; i < WIRE_KA_LEN; i++)
		if (sa->keys_out.dk.ka[i] != pat(spi, ver, i + 300))
			return 4;
	sa_endpoint(sa, &addr, &port);
	if (port != (uint16_t)(addr ^ 0xbeef))
		return 5;
	return 0;
}

static struct sa_table *
mk_table(const char *name, uint32_t max)
{
	struct sa_table_params p = {
		.name = name,
		.max_sas = max,
		.socket_id = SOCKET_ID_ANY,
		.v = qv,
		.backend = CB_BACKEND_AUTO,
	};
	struct sa_table *t = sa_table_create(&p);

	if (t != NULL)
		sa_table_test_set_free_hook(t, free_hook, NULL);
	return t;
}

static int
count_cb(struct sa *sa, void *arg)
{
	(void)sa;
	(*(unsigned *)arg)++;
	return 0;
}

static void
test_semantics(void)
{
	struct sa_table_stats st;
	struct dpif_sa d;
	struct sa *a, *b;
	uint32_t addr, id;
	uint16_t port;
	unsigned n;
	uint64_t hooked0 = n_hooked;
	struct sa_table *t = mk_table("sem", 16);

	TEST_START("create");
	ASSERT_TRUE(t != NULL);
	TEST_DONE();
	if (t == NULL)
		return;

	TEST_START("add and look up by SPI and by peer");
	mk_sa(&d, 100, 1, 0x0a000001);
	ASSERT_INT_EQ(sa_table_add(t, &d, 1), 0);
	a = sa_table_by_spi(t, 100);
	ASSERT_TRUE(a != NULL);
	ASSERT_TRUE(sa_table_by_peer(t, 0x0a000001) == a);
	ASSERT_TRUE(sa_table_by_spi(t, 101) == NULL);
	ASSERT_TRUE(sa_table_by_peer(t, 0x0a000002) == NULL);
	if (a != NULL) {
		ASSERT_INT_EQ(sa_consistent(a, 100), 0);
		ASSERT_INT_EQ(a->peer_addr, 0x0a000001);
		ASSERT_MEM_EQ(a->keys_in.dk.ka, d.in_ka, WIRE_KA_LEN);
		ASSERT_INT_EQ((uintptr_t)a % RTE_CACHE_LINE_SIZE, 0);
	}
	TEST_DONE();

	TEST_START("SPI 0 (WIRE_SPI_CONTROL) is refused");
	mk_sa(&d, 0, 1, 0x0a000009);
	ASSERT_INT_EQ(sa_table_add(t, &d, 1), E_INVAL);
	TEST_DONE();

	TEST_START("replace with new keys: new SA, fresh window, old one freed after reclaim");
	if (a != NULL) {
		ASSERT_INT_EQ(sa_msgid_next(a, &id), 0);
		ASSERT_INT_EQ(id, 2);
		replay_update(&a->replay, 5);
		a->pkts_in = 7;
	}
	mk_sa(&d, 100, 2, 0x0a000001);
	ASSERT_INT_EQ(sa_table_add(t, &d, 2), 0);
	b = sa_table_by_spi(t, 100);
	ASSERT_TRUE(b != NULL && b != a);
	ASSERT_TRUE(sa_table_by_peer(t, 0x0a000001) == b);
	if (b != NULL) {
		ASSERT_INT_EQ(sa_consistent(b, 100), 0);
		ASSERT_INT_EQ(b->replay.top, 0);
		ASSERT_INT_EQ(b->pkts_in, 0);
	}
	sa_table_reclaim(t); /* no reader is registered: the grace period is already over */
	ASSERT_INT_EQ(n_hooked - hooked0, 1);
	sa_table_stats(t, &st);
	ASSERT_INT_EQ(st.live, 1);
	ASSERT_INT_EQ(st.pending, 0);
	TEST_DONE();

	TEST_START("replace with the same keys keeps window, counters, message ID");
	a = b;
	if (a != NULL) {
		replay_update(&a->replay, 9);
		a->pkts_in = 3;
		a->msgid_out = 50;
	}
	d.ep_port = 1; /* also a new endpoint in the push */
	d.ep_addr = 0xbeef ^ 1;
	ASSERT_INT_EQ(sa_table_add(t, &d, 3), 0);
	b = sa_table_by_spi(t, 100);
	ASSERT_TRUE(b != NULL && b != a);
	if (b != NULL) {
		ASSERT_INT_EQ(b->replay.top, 9);
		ASSERT_INT_EQ(replay_check(&b->replay, 9), E_REPLAY);
		ASSERT_INT_EQ(b->pkts_in, 3);
		ASSERT_TRUE(b->msgid_out >= 50 + 1024);
		ASSERT_INT_EQ(b->gen, 3);
		sa_endpoint(b, &addr, &port);
		ASSERT_INT_EQ(addr, 0xbeef ^ 1);
		ASSERT_INT_EQ(port, 1);
	}
	TEST_DONE();

	TEST_START("replace with another peer address moves the peer entry");
	mk_sa(&d, 100, 4, 0x0a000002);
	ASSERT_INT_EQ(sa_table_add(t, &d, 4), 0);
	b = sa_table_by_spi(t, 100);
	ASSERT_TRUE(sa_table_by_peer(t, 0x0a000001) == NULL);
	ASSERT_TRUE(b != NULL && sa_table_by_peer(t, 0x0a000002) == b);
	TEST_DONE();

	TEST_START(
		"rekey overlap: the newest SA of a peer encaps, the older one takes over on del");
	mk_sa(&d, 200, 5, 0x0a000002);
	ASSERT_INT_EQ(sa_table_add(t, &d, 5), 0);
	a = sa_table_by_spi(t, 200);
	ASSERT_TRUE(a != NULL && sa_table_by_peer(t, 0x0a000002) == a);
	ASSERT_INT_EQ(sa_table_del(t, 200), 0);
	ASSERT_TRUE(sa_table_by_spi(t, 200) == NULL);
	ASSERT_TRUE(sa_table_by_peer(t, 0x0a000002) == b);
	mk_sa(&d, 200, 6, 0x0a000002);
	ASSERT_INT_EQ(sa_table_add(t, &d, 6), 0);
	ASSERT_INT_EQ(sa_table_del(t, 100), 0); /* the older one goes: peer entry untouched */
	a = sa_table_by_spi(t, 200);
	ASSERT_TRUE(a != NULL && sa_table_by_peer(t, 0x0a000002) == a);
	TEST_DONE();

	TEST_START("delete is idempotent");
	ASSERT_INT_EQ(sa_table_del(t, 200), 0);
	ASSERT_INT_EQ(sa_table_del(t, 200), 0);
	ASSERT_INT_EQ(sa_table_del(t, 4242), 0);
	ASSERT_TRUE(sa_table_by_spi(t, 200) == NULL);
	ASSERT_TRUE(sa_table_by_peer(t, 0x0a000002) == NULL);
	sa_table_stats(t, &st);
	ASSERT_INT_EQ(st.live, 0);
	TEST_DONE();

	TEST_START("set_endpoint");
	mk_sa(&d, 300, 7, 0x0a000003);
	ASSERT_INT_EQ(sa_table_add(t, &d, 7), 0);
	ASSERT_INT_EQ(sa_table_set_endpoint(t, 300, 0x01020304, 4500), 0);
	ASSERT_INT_EQ(sa_table_set_endpoint(t, 301, 0x01020304, 4500), E_NOTFOUND);
	a = sa_table_by_spi(t, 300);
	ASSERT_TRUE(a != NULL);
	if (a != NULL) {
		sa_endpoint(a, &addr, &port);
		ASSERT_INT_EQ(addr, 0x01020304);
		ASSERT_INT_EQ(port, 4500);
	}
	TEST_DONE();

	TEST_START("flush_gen removes older generations only; each visits the rest");
	for (uint32_t i = 0; i < 5; i++) {
		mk_sa(&d, 400 + i, 8 + i / 3, 0x0a000100 + i); /* gens 8, 8, 8, 9, 9 */
		ASSERT_INT_EQ(sa_table_add(t, &d, 8 + i / 3), 0);
	}
	ASSERT_INT_EQ(sa_table_flush_gen(t, 9), 4); /* 300 (gen 7) and 400..402 */
	ASSERT_TRUE(sa_table_by_spi(t, 300) == NULL);
	ASSERT_TRUE(sa_table_by_spi(t, 402) == NULL);
	ASSERT_TRUE(sa_table_by_peer(t, 0x0a000100) == NULL);
	ASSERT_TRUE(sa_table_by_spi(t, 403) != NULL);
	ASSERT_TRUE(sa_table_by_peer(t, 0x0a000104) != NULL);
	n = 0;
	ASSERT_INT_EQ(sa_table_each(t, count_cb, &n), 0);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(sa_table_flush_gen(t, 9), 0);
	TEST_DONE();

	TEST_START("full table: E_FULL, a replacement still works");
	for (uint32_t i = 0; i < 14; i++) {
		mk_sa(&d, 500 + i, 10, 0x0a000200 + i);
		ASSERT_INT_EQ(sa_table_add(t, &d, 10), 0);
	}
	mk_sa(&d, 600, 10, 0x0a000300);
	ASSERT_INT_EQ(sa_table_add(t, &d, 10), E_FULL);
	mk_sa(&d, 500, 11, 0x0a000200);
	ASSERT_INT_EQ(sa_table_add(t, &d, 11), 0);
	TEST_DONE();

	TEST_START("message IDs run out");
	a = sa_table_by_spi(t, 500);
	if (a != NULL) {
		a->msgid_out = UINT32_MAX - 1;
		ASSERT_INT_EQ(sa_msgid_next(a, &id), 0);
		ASSERT_INT_EQ(id, UINT32_MAX);
		ASSERT_INT_EQ(sa_msgid_next(a, &id), E_EXHAUSTED);
	}
	TEST_DONE();

	TEST_START("free reclaims and wipes every SA");
	sa_table_stats(t, &st);
	sa_table_free(t);
	/* made: 100 x4, 200 x2, 300, 400..404, 500..513, 500 again */
	ASSERT_INT_EQ(n_hooked - hooked0, 4 + 2 + 1 + 5 + 14 + 1);
	ASSERT_INT_EQ(n_wiped_ok, n_hooked);
	TEST_DONE();
}

/* True if b names sa. */
static bool
bcast_has(const struct sa_bcast *b, const struct sa *sa)
{
	for (uint32_t i = 0; b != NULL && sa != NULL && i < b->n; i++)
		if (b->sa[i] == sa)
			return true;
	return false;
}

static uint32_t
bcast_n(const struct sa_table *t)
{
	const struct sa_bcast *b = sa_table_bcast(t);

	return b == NULL ? 0 : b->n;
}

static void
test_bcast(void)
{
	enum { P1 = 0x0a000011, P2 = 0x0a000012, P3 = 0x0a000013 };
	struct sa_table *t = mk_table("bcast", 16);
	struct dpif_sa d;
	struct sa *s1, *s2, *s3;

	TEST_START("broadcast set: newest SA per peer, only peers sharing a network");
	ASSERT_TRUE(t != NULL);
	if (t == NULL) {
		TEST_DONE();
		return;
	}
	ASSERT_INT_EQ(bcast_n(t), 0);
	mk_sa(&d, 1, 1, P1); /* net_mask 1 */
	ASSERT_INT_EQ(sa_table_add(t, &d, 1), 0);
	s1 = sa_table_by_spi(t, 1);
	ASSERT_INT_EQ(bcast_n(t), 1);
	ASSERT_TRUE(bcast_has(sa_table_bcast(t), s1));
	mk_sa(&d, 2, 2, P2);
	d.net_mask = 0; /* a peer we share no network with */
	ASSERT_INT_EQ(sa_table_add(t, &d, 2), 0);
	s2 = sa_table_by_spi(t, 2);
	ASSERT_INT_EQ(bcast_n(t), 1);
	ASSERT_TRUE(!bcast_has(sa_table_bcast(t), s2));

	/* a second SA of P1 (a rekey): one entry for P1, the newest */
	mk_sa(&d, 3, 3, P1);
	d.net_mask = 6;
	ASSERT_INT_EQ(sa_table_add(t, &d, 3), 0);
	s3 = sa_table_by_spi(t, 3);
	ASSERT_INT_EQ(bcast_n(t), 1);
	ASSERT_TRUE(bcast_has(sa_table_bcast(t), s3));
	ASSERT_TRUE(!bcast_has(sa_table_bcast(t), s1));

	/* replacements: the set follows the new SA and its net_mask */
	d.net_mask = 0;
	ASSERT_INT_EQ(sa_table_add(t, &d, 3), 0);
	ASSERT_INT_EQ(bcast_n(t), 0);
	d.net_mask = 4;
	ASSERT_INT_EQ(sa_table_add(t, &d, 3), 0);
	ASSERT_TRUE(sa_table_by_spi(t, 3) != s3);
	s3 = sa_table_by_spi(t, 3);
	ASSERT_INT_EQ(bcast_n(t), 1);
	ASSERT_TRUE(bcast_has(sa_table_bcast(t), s3));
	mk_sa(&d, 2, 4, P2);
	d.net_mask = 8;
	ASSERT_INT_EQ(sa_table_add(t, &d, 4), 0);
	s2 = sa_table_by_spi(t, 2);
	ASSERT_INT_EQ(bcast_n(t), 2);
	ASSERT_TRUE(bcast_has(sa_table_bcast(t), s2));
	ASSERT_TRUE(bcast_has(sa_table_bcast(t), s3));
	mk_sa(&d, 4, 4, P3);
	ASSERT_INT_EQ(sa_table_add(t, &d, 4), 0);
	ASSERT_INT_EQ(bcast_n(t), 3);

	/* delete: P1 falls back to its older SA; flush and delete empty the set */
	ASSERT_INT_EQ(sa_table_del(t, 3), 0);
	ASSERT_INT_EQ(bcast_n(t), 3);
	ASSERT_TRUE(bcast_has(sa_table_bcast(t), s1));
	ASSERT_TRUE(!bcast_has(sa_table_bcast(t), s3));
	ASSERT_INT_EQ(sa_table_flush_gen(t, 2), 1); /* s1 */
	ASSERT_INT_EQ(bcast_n(t), 2);
	ASSERT_TRUE(!bcast_has(sa_table_bcast(t), s1));
	ASSERT_TRUE(bcast_has(sa_table_bcast(t), s2));
	ASSERT_INT_EQ(sa_table_flush_gen(t, 5), 2);
	ASSERT_INT_EQ(bcast_n(t), 0);
	sa_table_free(t);
	TEST_DONE();
}

/* --- the reader on lcore 1 --- */

static volatile int stop, reader_ready;
static uint64_t r_turns, r_hits, r_bad[6], r_peer_bad, r_bcast_seen, r_bcast_bad;

/* 0 if every SA of the broadcast set b is whole (an SA of the stress test, unpoisoned). */
static unsigned
bcast_check(const struct sa_bcast *b)
{
	unsigned bad = 0;

	for (uint32_t i = 0; b != NULL && i < b->n; i++) {
		uint32_t spi = b->sa[i]->spi_in;

		bad += spi == 0 || spi > NSPI || sa_consistent(b->sa[i], spi) != 0 ||
		       b->sa[i]->net_mask == 0;
	}
	return bad + (b != NULL && b->n > NSPI);
}

static int
reader(void *arg)
{
	struct sa_table *t = arg;
	unsigned id = rte_lcore_id();
	struct sa *held[NSPI];
	const struct sa_bcast *b;

	rte_rcu_qsbr_thread_register(qv, id);
	rte_rcu_qsbr_thread_online(qv, id);
	__atomic_store_n(&reader_ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		for (uint32_t s = 0; s < NSPI; s++) {
			struct sa *sa = sa_table_by_spi(t, s + 1), *p;

			held[s] = sa;
			if (sa == NULL)
				continue;
			r_hits++;
			r_bad[sa_consistent(sa, s + 1)]++;
			p = sa_table_by_peer(t, 0x0a000000u | (s + 1));
			if (p != NULL &&
			    (p->spi_in == 0xa5a5a5a5u || p->peer_addr != (0x0a000000u | (s + 1))))
				r_peer_bad++;
		}
		b = sa_table_bcast(t);
		r_bcast_seen += b == NULL ? 0 : b->n;
		r_bcast_bad += bcast_check(b);
		/* everything looked up this turn must still be whole until the quiescent report */
		for (uint32_t s = 0; s < NSPI; s++)
			if (held[s] != NULL)
				r_bad[sa_consistent(held[s], s + 1)]++;
		r_bcast_bad += bcast_check(b);
		r_turns++;
		rte_rcu_qsbr_quiescent(qv, id);
	}
	rte_rcu_qsbr_thread_offline(qv, id);
	rte_rcu_qsbr_thread_unregister(qv, id);
	return 0;
}

/* Make before break across two ends: a standby SA receives but does not send until pushed
 * again without the flag, then keeps its state. */
static void
test_standby(void)
{
	enum { P = 0x0a000021 };
	struct sa_table *t = mk_table("standby", 16);
	struct dpif_sa d;
	struct sa *old, *cur;

	TEST_START("standby SA: found by SPI, not used to send until activated");
	ASSERT_TRUE(t != NULL);
	if (t == NULL) {
		TEST_DONE();
		return;
	}
	mk_sa(&d, 10, 1, P);
	ASSERT_INT_EQ(sa_table_add(t, &d, 1), 0);
	old = sa_table_by_spi(t, 10);
	mk_sa(&d, 11, 2, P);
	d.flags = DPIF_SA_STANDBY;
	ASSERT_INT_EQ(sa_table_add(t, &d, 1), 0);
	ASSERT_TRUE(sa_table_by_spi(t, 11) != NULL);
	ASSERT_TRUE(sa_table_by_peer(t, P) == old); /* still sending on the old one */
	ASSERT_INT_EQ(bcast_n(t), 1);
	ASSERT_TRUE(bcast_has(sa_table_bcast(t), old));
	sa_table_by_spi(t, 11)->pkts_in = 5; /* it received meanwhile */
	d.flags = 0;
	ASSERT_INT_EQ(sa_table_add(t, &d, 1), 0); /* the same keys, now active */
	cur = sa_table_by_spi(t, 11);
	ASSERT_TRUE(sa_table_by_peer(t, P) == cur);
	ASSERT_TRUE(bcast_has(sa_table_bcast(t), cur) && !bcast_has(sa_table_bcast(t), old));
	ASSERT_INT_EQ(cur->pkts_in, 5); /* state kept across the activation */
	ASSERT_INT_EQ(sa_table_del(t, 10), 0);
	ASSERT_TRUE(sa_table_by_peer(t, P) == cur);
	/* re-pushing the current SA as standby cannot leave the peer pointing at a freed SA */
	d.flags = DPIF_SA_STANDBY;
	ASSERT_INT_EQ(sa_table_add(t, &d, 1), 0);
	ASSERT_TRUE(sa_table_by_peer(t, P) == sa_table_by_spi(t, 11));
	sa_table_free(t);
	TEST_DONE();
}

static void
test_concurrent(void)
{
	struct sa_table_stats st;
	struct dpif_sa d;
	uint64_t hooked0 = n_hooked, wiped0 = n_wiped_ok, made = 0, ops = 0, t0;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	uint32_t ver = 1;
	unsigned lcore = rte_get_next_lcore(-1, 1, 0);
	struct sa_table *t = mk_table("stress", 256);

	TEST_START("stress: reader on another lcore while the writer churns");
	if (t == NULL || lcore >= RTE_MAX_LCORE) {
		test_fail(__FILE__, __LINE__, "no table or no second lcore");
		TEST_DONE();
		return;
	}
	ASSERT_INT_EQ(rte_eal_remote_launch(reader, t, lcore), 0);
	while (!__atomic_load_n(&reader_ready, __ATOMIC_ACQUIRE))
		rte_pause();
	t0 = clock_ms();
	while (clock_ms() - t0 < STRESS_MS) {
		for (int k = 0; k < 256; k++, ops++) {
			uint32_t spi, op;

			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			spi = (uint32_t)(rng % NSPI) + 1;
			op = (uint32_t)(rng >> 32) % 16;
			if (op < 9) {
				mk_sa(&d, spi, ++ver, 0x0a000000u | spi);
				if (sa_table_add(t, &d, ver) == 0)
					made++;
			} else if (op < 14) {
				sa_table_del(t, spi);
			} else if (op < 15) {
				uint32_t a = (uint32_t)(rng >> 16);

				sa_table_set_endpoint(t, spi, a, (uint16_t)(a ^ 0xbeef));
			} else {
				sa_table_flush_gen(t, ver > 200 ? ver - 200 : 0);
			}
		}
		sa_table_reclaim(t);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(lcore);

	printf("# %" PRIu64 " writer ops (%" PRIu64 " SAs made) in %d ms; reader: %" PRIu64
	       " turns, %" PRIu64 " hits, %" PRIu64 " broadcast entries\n",
	       ops, made, STRESS_MS, r_turns, r_hits, r_bcast_seen);
	ASSERT_TRUE(made > 10000);
	ASSERT_TRUE(r_turns > 1000);
	ASSERT_TRUE(r_hits > 10000);
	ASSERT_INT_EQ(r_bad[1], 0); /* poison: freed under the reader */
	ASSERT_INT_EQ(r_bad[2], 0); /* another SA's memory */
	ASSERT_INT_EQ(r_bad[3], 0);
	ASSERT_INT_EQ(r_bad[4], 0); /* torn keys */
	ASSERT_INT_EQ(r_bad[5], 0); /* torn endpoint */
	ASSERT_INT_EQ(r_peer_bad, 0);
	ASSERT_TRUE(r_bcast_seen > 10000);
	ASSERT_INT_EQ(r_bcast_bad, 0); /* a broadcast set naming a freed or torn SA */
	TEST_DONE();

	TEST_START("stress: everything reclaimed and wiped");
	sa_table_reclaim(t);
	sa_table_stats(t, &st);
	printf("# live %u, pending %u, freed %" PRIu64 ", blocking syncs %" PRIu64 "\n", st.live,
	       st.pending, st.freed, st.syncs);
	ASSERT_INT_EQ(st.pending, 0);
	ASSERT_INT_EQ(st.freed + st.live, made);
	sa_table_free(t);
	ASSERT_INT_EQ(n_hooked - hooked0, made);
	ASSERT_INT_EQ(n_wiped_ok - wiped0, made);
	TEST_DONE();
}

int
main(int argc, char **argv)
{
	struct dp_eal e;
	size_t sz;

	(void)argc;
	(void)argv;
	TEST_START("EAL init");
	ASSERT_INT_EQ(dp_eal_start(&e, "test_sa", "0,1"), 0);
	TEST_DONE();
	if (test_state.failed_total)
		return 1;
	sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	qv = rte_zmalloc("qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (qv == NULL || rte_rcu_qsbr_init(qv, RTE_MAX_LCORE) != 0) {
		printf("Bail out! qsbr\n");
		return 1;
	}

	test_semantics();
	test_bcast();
	test_standby();
	test_concurrent();

	quarantine_drain();
	rte_free(qv);
	dp_eal_stop(&e);
	return test_finish();
}
