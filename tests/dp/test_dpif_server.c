/* SPDX-License-Identifier: MIT */
/*
 * Both ends of the control channel in one process: a dpif_server over a real SA table (EAL
 * with --no-huge, a QSBR variable with no readers) and a dpif_client attached to the region it
 * created. SA operations and their ACKs, what stays in shared memory, generations, malformed
 * requests, back-pressure from a full ACK ring, a dump larger than the ring, events from
 * counters a worker would move (the test moves them), and a restarted control process.
 */
#include "dataplane/dpif_server.h" /* first: see sa_table.h on container_of */

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/dpif_client.h"
#include "common/err.h"
#include "dp_eal.h"
#include "test.h"

TEST_DEFINE_STATE;

enum {
	MAX_SAS = 4096,
	DUMP_SAS = 3000,
	IDLE_TICKS = 3,
	EXHAUST_AT = 100000,
	NO_ACK = 1000, /* roundtrip(): no ACK came back */
	GEN_A = 100,
	GEN_B = 200,
	PROBE_RING = 8, /* holds 7 */
};

static struct rte_rcu_qsbr *qv;
static struct sa_table *sas;
static struct dpif_server *srv;
static struct dpif_client cl;
static char prefix[64];
static struct rte_ring *probes; /* what the worker that sends dummies would read */

static uint8_t
pat(uint32_t spi, uint32_t ver, unsigned i)
{
	uint32_t x = spi * 2654435761u ^ ver * 40503u ^ i * 97u;

	return (uint8_t)(x ^ x >> 13 ^ 1);
}

static void
mk_sa(struct dpif_sa *d, uint32_t spi, uint32_t ver)
{
	memset(d, 0, sizeof(*d));
	d->spi_in = spi;
	d->spi_out = spi ^ 0x5a5a0000u;
	d->peer_addr = 0x0a000000u | spi;
	d->ep_addr = 0xc0a80000u | (spi & 0xffff);
	d->ep_port = (uint16_t)(4500 + spi);
	d->msgid_out = ver;
	d->net_mask = spi;
	for (unsigned i = 0; i < WIRE_KE_LEN; i++) {
		d->in_ke[i] = pat(spi, ver, i);
		d->out_ke[i] = pat(spi, ver, i + 100);
	}
	for (unsigned i = 0; i < WIRE_KA_LEN; i++) {
		d->in_ka[i] = pat(spi, ver, i + 200);
		d->out_ka[i] = pat(spi, ver, i + 300);
	}
}

static void
stats(struct dpif_server_stats *st)
{
	dpif_server_stats(srv, st);
}

/* Client sends, server polls, client reads messages up to the ACK of that request: its status,
 * or NO_ACK. Other messages are counted in *other (may be NULL). */
static int
roundtrip(struct dpif_client *c, enum dpif_op op, const struct dpif_sa *sa, unsigned *other)
{
	struct dpif_msg m;
	uint64_t seq;

	if (dpif_client_send(c, op, sa, &seq) != 0)
		return NO_ACK;
	dpif_server_poll(srv, 64);
	while (dpif_client_recv(c, &m) == 0) {
		if (m.op == DPIF_ACK && m.u.ack.seq == seq && m.ctl_gen == c->ctl_gen)
			return m.u.ack.status;
		if (other != NULL)
			(*other)++;
	}
	return NO_ACK;
}

/* A request the client would not send: everything but what the test sets, with the next seq
 * of cl, so that the server sees no gap. */
static void
raw(struct dpif_msg *m, uint16_t op)
{
	memset(m, 0, sizeof(*m));
	m->magic = DPIF_MAGIC;
	m->version = DPIF_VERSION;
	m->op = op;
	m->seq = ++cl.seq;
	m->ctl_gen = cl.ctl_gen;
}

/* Pushes m, polls once; returns the ACK status for m's seq, NO_ACK if none came. */
static int
raw_roundtrip(const struct dpif_msg *m)
{
	struct dpif_msg a;
	int st = NO_ACK;

	if (shmring_push(cl.r.to_dp, m) != 0)
		return NO_ACK;
	dpif_server_poll(srv, 64);
	while (dpif_client_recv(&cl, &a) == 0)
		if (a.op == DPIF_ACK && a.u.ack.seq == m->seq)
			st = a.u.ack.status;
	return st;
}

static bool
slot_zero(const struct shmring *r, uint64_t idx)
{
	const uint8_t *p = r->slots + (size_t)(idx & (r->size - 1)) * r->slot_size;

	for (uint32_t i = 0; i < r->slot_size; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void
drain(struct dpif_client *c)
{
	struct dpif_msg m;

	while (dpif_client_recv(c, &m) != E_NOTFOUND)
		;
}

static void
test_add(void)
{
	struct cb_ctx *cb = cb_ctx_new(CB_BACKEND_AUTO);
	struct cb_sa_keys want;
	struct dpif_server_stats st;
	struct dirkey dk;
	struct dpif_sa d;
	struct dpif_msg m;
	struct sa *sa;
	uint64_t seq, tail;

	TEST_START("add: ACK 0 with both generations, the SA is in the table with its keys");
	ASSERT_TRUE(cb != NULL);
	mk_sa(&d, 7, 1);
	tail = cl.r.to_dp->tail;
	ASSERT_INT_EQ(dpif_client_send(&cl, DPIF_SA_ADD, &d, &seq), 0);
	ASSERT_INT_EQ(seq, 1);
	ASSERT_TRUE(!slot_zero(cl.r.to_dp, tail)); /* the keys are in shared memory now */
	ASSERT_INT_EQ(dpif_server_poll(srv, 64), 1);
	ASSERT_INT_EQ(dpif_server_poll(srv, 64), 0);
	ASSERT_INT_EQ(dpif_client_recv(&cl, &m), 0);
	ASSERT_INT_EQ(m.op, DPIF_ACK);
	ASSERT_INT_EQ(m.seq, 1);
	ASSERT_INT_EQ(m.u.ack.seq, 1);
	ASSERT_INT_EQ(m.u.ack.status, 0);
	ASSERT_INT_EQ(m.ctl_gen, GEN_A);
	ASSERT_TRUE(m.dp_gen == cl.dp_gen && m.dp_gen != 0);
	ASSERT_INT_EQ(dpif_client_recv(&cl, &m), E_NOTFOUND);
	sa = sa_table_by_spi(sas, 7);
	ASSERT_TRUE(sa != NULL);
	if (sa != NULL && cb != NULL) {
		ASSERT_INT_EQ(sa->spi_out, d.spi_out);
		ASSERT_INT_EQ(sa->peer_addr, d.peer_addr);
		ASSERT_INT_EQ(sa->gen, GEN_A);
		ASSERT_INT_EQ(sa->net_mask, 7);
		memcpy(dk.ke, d.in_ke, WIRE_KE_LEN);
		memcpy(dk.ka, d.in_ka, WIRE_KA_LEN);
		memset(&want, 0, sizeof(want));
		ASSERT_INT_EQ(cb_keys_init(cb, &dk, &want), 0);
		ASSERT_MEM_EQ(&sa->keys_in, &want, sizeof(want));
		memcpy(dk.ke, d.out_ke, WIRE_KE_LEN);
		memcpy(dk.ka, d.out_ka, WIRE_KA_LEN);
		memset(&want, 0, sizeof(want));
		ASSERT_INT_EQ(cb_keys_init(cb, &dk, &want), 0);
		ASSERT_MEM_EQ(&sa->keys_out, &want, sizeof(want));
	}
	stats(&st);
	ASSERT_INT_EQ(st.requests, 1);
	ASSERT_INT_EQ(st.acks, 1);
	ASSERT_INT_EQ(st.invalid + st.seq_gaps + st.resets, 0);
	ASSERT_TRUE(st.dp_gen == cl.dp_gen);
	TEST_DONE();

	TEST_START("add: the consumed request slot is zero in shared memory");
	ASSERT_INT_EQ(cl.r.to_dp->tail, tail + 1);
	ASSERT_TRUE(slot_zero(cl.r.to_dp, tail));
	TEST_DONE();

	cb_keys_wipe(&want);
	wipe(&dk, sizeof(dk));
	cb_ctx_free(cb);
}

static void
test_ops(void)
{
	struct dpif_sa d;
	struct sa *a, *b;
	uint32_t addr;
	uint16_t port;

	TEST_START("replace, endpoint, del");
	a = sa_table_by_spi(sas, 7);
	mk_sa(&d, 7, 2);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), 0);
	b = sa_table_by_spi(sas, 7);
	ASSERT_TRUE(b != NULL && b != a);
	if (b != NULL) {
		ASSERT_MEM_EQ(b->keys_in.dk.ke, d.in_ke, WIRE_KE_LEN);
		ASSERT_MEM_EQ(b->keys_out.dk.ka, d.out_ka, WIRE_KA_LEN);
	}
	memset(&d, 0, sizeof(d));
	d.spi_in = 7;
	d.ep_addr = 0x01020304;
	d.ep_port = 9999;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ENDPOINT, &d, NULL), 0);
	if (b != NULL) {
		sa_endpoint(b, &addr, &port);
		ASSERT_INT_EQ(addr, 0x01020304);
		ASSERT_INT_EQ(port, 9999);
		ASSERT_INT_EQ(b->ev_endpoint, (uint64_t)0x01020304 << 16 | 9999);
	}
	d.spi_in = 8;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ENDPOINT, &d, NULL), E_NOTFOUND);
	d.spi_in = 7;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_DEL, &d, NULL), 0);
	ASSERT_TRUE(sa_table_by_spi(sas, 7) == NULL);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_DEL, &d, NULL), 0);
	TEST_DONE();

	TEST_START("the client refuses what the server would (no round trip)");
	ASSERT_INT_EQ(dpif_client_send(&cl, DPIF_SA_ADD, NULL, NULL), E_INVAL);
	mk_sa(&d, 0, 1);
	ASSERT_INT_EQ(dpif_client_send(&cl, DPIF_SA_ADD, &d, NULL), E_INVAL);
	mk_sa(&d, 9, 1);
	d.ep_port = 0;
	ASSERT_INT_EQ(dpif_client_send(&cl, DPIF_SA_ENDPOINT, &d, NULL), E_INVAL);
	ASSERT_INT_EQ(dpif_client_send(&cl, (enum dpif_op)DPIF_ACK, NULL, NULL), E_INVAL);
	ASSERT_INT_EQ(shmring_count(cl.r.to_dp), 0);
	TEST_DONE();
}

static void
test_flush_gen(void)
{
	struct dpif_server_stats st0, st;
	struct dpif_sa d;

	TEST_START("flush removes older generations; a new control process restarts seq");
	stats(&st0);
	for (uint32_t spi = 10; spi < 12; spi++) {
		mk_sa(&d, spi, 1);
		ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), 0);
	}
	dpif_client_detach(&cl);
	ASSERT_INT_EQ(dpif_client_attach(&cl, prefix, GEN_B), 0);
	mk_sa(&d, 12, 1);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), 0); /* seq 1 again */
	mk_sa(&d, 10, 1);					 /* re-pushed: now GEN_B's */
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), 0);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_FLUSH, NULL, NULL), 0);
	ASSERT_TRUE(sa_table_by_spi(sas, 10) != NULL);
	ASSERT_TRUE(sa_table_by_spi(sas, 11) == NULL);
	ASSERT_TRUE(sa_table_by_spi(sas, 12) != NULL);
	stats(&st);
	ASSERT_INT_EQ(st.resets - st0.resets, 1);
	ASSERT_INT_EQ(st.seq_gaps - st0.seq_gaps, 0);
	TEST_DONE();
}

static void
test_dp_gen(void)
{
	struct dpif_server_stats st0, st;
	uint64_t real = cl.dp_gen;
	struct dpif_sa d;

	TEST_START("a request for another data plane generation: E_STATE, nothing applied");
	stats(&st0);
	cl.dp_gen = real ^ 0x10;
	mk_sa(&d, 20, 1);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), E_STATE);
	ASSERT_TRUE(sa_table_by_spi(sas, 20) == NULL);
	d.spi_in = 10;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_DEL, &d, NULL), E_STATE);
	ASSERT_TRUE(sa_table_by_spi(sas, 10) != NULL);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_DUMP, NULL, NULL), E_STATE);
	cl.dp_gen = 0; /* a control process that has not learnt it yet */
	mk_sa(&d, 20, 1);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), 0);
	ASSERT_TRUE(sa_table_by_spi(sas, 20) != NULL);
	cl.dp_gen = real;
	stats(&st);
	ASSERT_INT_EQ(st.requests - st0.requests, 4);
	ASSERT_INT_EQ(st.invalid - st0.invalid, 0);
	TEST_DONE();
}

static void
test_invalid(void)
{
	struct dpif_server_stats st0, st;
	struct dpif_msg m;
	uint64_t tail;

	TEST_START("malformed requests: E_INVAL ACK when seq is readable, counted, slot wiped");
	stats(&st0);
	raw(&m, DPIF_SA_DEL);
	m.u.sa.spi_in = 10;
	m.magic ^= 1;
	tail = cl.r.to_dp->tail;
	ASSERT_INT_EQ(raw_roundtrip(&m), E_INVAL);
	ASSERT_TRUE(slot_zero(cl.r.to_dp, tail));
	ASSERT_TRUE(sa_table_by_spi(sas, 10) != NULL); /* not applied */
	raw(&m, DPIF_SA_DEL);
	m.u.sa.spi_in = 10;
	m.version = DPIF_VERSION + 1;
	ASSERT_INT_EQ(raw_roundtrip(&m), E_INVAL);
	raw(&m, 9); /* unknown op */
	ASSERT_INT_EQ(raw_roundtrip(&m), E_INVAL);
	raw(&m, DPIF_EV_FIRST); /* the other direction's op */
	m.u.ev.spi_in = 10;
	ASSERT_INT_EQ(raw_roundtrip(&m), E_INVAL);
	raw(&m, DPIF_SA_ADD); /* no peer address */
	mk_sa(&m.u.sa, 30, 1);
	m.u.sa.peer_addr = 0;
	ASSERT_INT_EQ(raw_roundtrip(&m), E_INVAL);
	ASSERT_TRUE(sa_table_by_spi(sas, 30) == NULL);
	raw(&m, DPIF_SA_DEL); /* keys where none belong */
	m.u.sa.spi_in = 10;
	m.u.sa.in_ke[3] = 1;
	ASSERT_INT_EQ(raw_roundtrip(&m), E_INVAL);
	ASSERT_TRUE(sa_table_by_spi(sas, 10) != NULL);
	raw(&m, DPIF_FLUSH); /* trailing garbage */
	m.u.raw[sizeof(m.u.raw) - 1] = 0xff;
	ASSERT_INT_EQ(raw_roundtrip(&m), E_INVAL);
	ASSERT_TRUE(sa_table_by_spi(sas, 10) != NULL);
	stats(&st);
	ASSERT_INT_EQ(st.invalid - st0.invalid, 7);
	ASSERT_INT_EQ(st.acks - st0.acks, 7);
	ASSERT_INT_EQ(st.requests - st0.requests, 0);
	ASSERT_INT_EQ(st.seq_gaps - st0.seq_gaps, 0);
	TEST_DONE();

	TEST_START("seq 0: consumed without an ACK; a seq gap is counted, not fatal");
	stats(&st0);
	raw(&m, DPIF_SA_DEL);
	cl.seq--;
	m.seq = 0;
	m.u.sa.spi_in = 10;
	tail = cl.r.to_dp->tail;
	ASSERT_INT_EQ(raw_roundtrip(&m), NO_ACK);
	ASSERT_INT_EQ(cl.r.to_dp->tail, tail + 1);
	ASSERT_TRUE(slot_zero(cl.r.to_dp, tail));
	ASSERT_TRUE(sa_table_by_spi(sas, 10) != NULL);
	cl.seq += 4; /* three requests lost on the way */
	m.u.sa.spi_in = 10;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_DEL, &m.u.sa, NULL), 0);
	ASSERT_TRUE(sa_table_by_spi(sas, 10) == NULL);
	stats(&st);
	ASSERT_INT_EQ(st.invalid - st0.invalid, 1);
	ASSERT_INT_EQ(st.acks - st0.acks, 1);
	ASSERT_INT_EQ(st.seq_gaps - st0.seq_gaps, 1);
	ASSERT_INT_EQ(st.requests - st0.requests, 1);
	TEST_DONE();
}

static void
test_backpressure(void)
{
	enum { EXTRA = 10 };
	struct dpif_server_stats st0, st;
	struct dpif_msg m;
	struct dpif_sa d;
	uint64_t first = cl.seq + 1, next, acks = 0;
	unsigned polled = 0;
	int bad = 0;

	TEST_START("a full ACK ring leaves requests in theirs; no ACK is lost");
	stats(&st0);
	memset(&d, 0, sizeof(d));
	for (unsigned i = 0; i < DPIF_RING_SIZE; i++) {
		d.spi_in = 5000 + i;
		if (dpif_client_send(&cl, DPIF_SA_DEL, &d, NULL) != 0)
			bad++;
	}
	ASSERT_INT_EQ(dpif_client_send(&cl, DPIF_SA_DEL, &d, NULL), E_NOSPACE);
	ASSERT_INT_EQ(dpif_server_poll(srv, 3 * DPIF_RING_SIZE), DPIF_RING_SIZE);
	for (unsigned i = 0; i < EXTRA; i++)
		if (dpif_client_send(&cl, DPIF_SA_DEL, &d, NULL) != 0)
			bad++;
	ASSERT_INT_EQ(bad, 0);
	ASSERT_INT_EQ(dpif_server_poll(srv, 64), 0);
	ASSERT_INT_EQ(shmring_count(cl.r.to_dp), EXTRA);
	ASSERT_INT_EQ(shmring_count(cl.r.to_ctl), DPIF_RING_SIZE);
	next = first;
	for (unsigned i = 0; i < 3; i++)
		if (dpif_client_recv(&cl, &m) != 0 || m.u.ack.seq != next++)
			bad++;
	ASSERT_INT_EQ(dpif_server_poll(srv, 64), 3);
	ASSERT_INT_EQ(shmring_count(cl.r.to_dp), EXTRA - 3);
	for (int spins = 0; spins < 100 && next < first + DPIF_RING_SIZE + EXTRA; spins++) {
		polled += dpif_server_poll(srv, 64);
		while (dpif_client_recv(&cl, &m) == 0) {
			if (m.op != DPIF_ACK || m.u.ack.seq != next || m.u.ack.status != 0)
				bad++;
			next++;
			acks++;
		}
	}
	ASSERT_INT_EQ(bad, 0);
	ASSERT_INT_EQ(polled, EXTRA - 3);
	ASSERT_INT_EQ(next, first + DPIF_RING_SIZE + EXTRA);
	stats(&st);
	ASSERT_INT_EQ(st.acks - st0.acks, DPIF_RING_SIZE + EXTRA);
	ASSERT_INT_EQ(st.requests - st0.requests, DPIF_RING_SIZE + EXTRA);
	ASSERT_INT_EQ(st.seq_gaps - st0.seq_gaps, 0);
	TEST_DONE();
}

struct dump_result {
	unsigned entries, dups, wrong, late, polls;
	bool acked;
};

/* Sends a DUMP, then alternates reading and polling until its ACK: what came back. The SAs
 * must be 1..DUMP_SAS as mk_sa(spi, 3) made them. The first poll comes before any reading,
 * so the entries fill the ring and the dump must resume. */
static void
dump_all(struct dump_result *res)
{
	static uint8_t seen[DUMP_SAS + 1];
	struct dpif_msg m;
	struct dpif_sa d;
	uint64_t seq = 0;

	memset(res, 0, sizeof(*res));
	memset(seen, 0, sizeof(seen));
	ASSERT_INT_EQ(dpif_client_send(&cl, DPIF_DUMP, NULL, &seq), 0);
	ASSERT_INT_EQ(dpif_server_poll(srv, 64), 0); /* ring full of entries, no ACK yet */
	ASSERT_INT_EQ(shmring_count(cl.r.to_dp), 1);
	ASSERT_INT_EQ(shmring_count(cl.r.to_ctl), DPIF_RING_SIZE);
	for (; res->polls < 100 && !res->acked; res->polls++) {
		while (dpif_client_recv(&cl, &m) == 0) {
			if (m.op == DPIF_ACK && m.u.ack.seq == seq && m.u.ack.status == 0) {
				res->acked = true;
				continue;
			}
			if (m.op != DPIF_SA_ENTRY || res->acked) {
				res->late++;
				continue;
			}
			res->entries++;
			if (m.u.sa.spi_in == 0 || m.u.sa.spi_in > DUMP_SAS) {
				res->wrong++;
				continue;
			}
			if (seen[m.u.sa.spi_in]++)
				res->dups++;
			mk_sa(&d, m.u.sa.spi_in, 3);
			memset(d.in_ke, 0, sizeof(d) - offsetof(struct dpif_sa, in_ke));
			if (memcmp(&m.u.sa, &d, sizeof(d)) != 0 || m.ctl_gen != cl.ctl_gen)
				res->wrong++;
		}
		dpif_server_poll(srv, 64);
	}
	ASSERT_INT_EQ(shmring_count(cl.r.to_dp), 0);
}

static void
test_dump(void)
{
	struct sa_table_stats ts;
	struct dump_result res;
	struct dpif_msg m;
	struct dpif_sa d;
	unsigned bad = 0;

	TEST_START("dump of 3000 SAs through a 1024-slot ring: each SA once, then the ACK");
	for (uint32_t spi = 1; spi <= DUMP_SAS; spi++) {
		mk_sa(&d, spi, 3);
		if (dpif_client_send(&cl, DPIF_SA_ADD, &d, NULL) != 0)
			bad++;
		if (spi % 500 == 0 || spi == DUMP_SAS) {
			dpif_server_poll(srv, 1000);
			while (dpif_client_recv(&cl, &m) == 0)
				if (m.op != DPIF_ACK || m.u.ack.status != 0)
					bad++;
		}
	}
	ASSERT_INT_EQ(bad, 0);
	ASSERT_INT_EQ(shmring_count(cl.r.to_dp), 0);
	sa_table_stats(sas, &ts);
	ASSERT_INT_EQ(ts.live, DUMP_SAS);	  /* 12 and 20 were among 1..3000 */
	for (int round = 0; round < 2; round++) { /* the second starts from a clean cursor */
		dump_all(&res);
		printf("# %u entries in %u polls\n", res.entries, res.polls);
		ASSERT_TRUE(res.acked);
		ASSERT_INT_EQ(res.entries, DUMP_SAS);
		ASSERT_INT_EQ(res.dups, 0);
		ASSERT_INT_EQ(res.wrong, 0);
		ASSERT_INT_EQ(res.late, 0);
		ASSERT_TRUE(res.polls >= 3);
	}
	TEST_DONE();
}

/* --- events --- */

struct evs {
	unsigned n[4]; /* FIRST, IDLE, ENDPOINT, EXHAUST */
	unsigned other;
	struct dpif_event last;
};

/* The events the server queued since the last call (tick or watch). */
static void
events(struct evs *e)
{
	struct dpif_msg m;

	memset(e, 0, sizeof(*e));
	while (dpif_client_recv(&cl, &m) == 0) {
		if (m.op >= DPIF_EV_FIRST && m.op <= DPIF_EV_EXHAUST && m.u.ev.spi_in == 1 &&
		    m.ctl_gen == 0 && m.dp_gen == cl.dp_gen) {
			e->n[m.op - DPIF_EV_FIRST]++;
			e->last = m.u.ev;
		} else {
			e->other++;
		}
	}
}

static void
tick(struct evs *e)
{
	dpif_server_tick(srv);
	events(e);
}

static void
watch(struct evs *e)
{
	dpif_server_watch(srv);
	events(e);
}

#define ASSERT_EVS(e, first, idle, endpoint, exhaust)                                              \
	do {                                                                                       \
		ASSERT_INT_EQ((e).n[0], first);                                                    \
		ASSERT_INT_EQ((e).n[1], idle);                                                     \
		ASSERT_INT_EQ((e).n[2], endpoint);                                                 \
		ASSERT_INT_EQ((e).n[3], exhaust);                                                  \
		ASSERT_INT_EQ((e).other, 0);                                                       \
	} while (0)

static void
test_events(void)
{
	struct dpif_server_stats st0, st;
	uint64_t hb = cl.r.hdr->dp_heartbeat;
	struct dpif_sa d;
	struct evs e;
	struct sa *sa;
	unsigned sent = 0;

	TEST_START("events: first, endpoint, idle (and again), exhaust, each once");
	stats(&st0);
	dpif_client_detach(&cl);
	ASSERT_INT_EQ(dpif_client_attach(&cl, prefix, GEN_B + 1), 0);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_FLUSH, NULL, NULL), 0);
	mk_sa(&d, 1, 1);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), 0);
	sa = sa_table_by_spi(sas, 1);
	ASSERT_TRUE(sa != NULL);
	if (sa == NULL) {
		TEST_DONE();
		return;
	}
	tick(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	sa->pkts_in = 5; /* a worker authenticated packets */
	sa->bytes_in = 500;
	sa->pkts_out = 2;
	tick(&e);
	ASSERT_EVS(e, 1, 0, 0, 0);
	ASSERT_INT_EQ(e.last.pkts_in, 5);
	ASSERT_INT_EQ(e.last.bytes_in, 500);
	ASSERT_INT_EQ(e.last.pkts_out, 2);
	__atomic_store_n(&sa->endpoint, (uint64_t)0x05060708 << 16 | 777, __ATOMIC_RELAXED);
	tick(&e); /* quiet 1 */
	ASSERT_EVS(e, 0, 0, 1, 0);
	ASSERT_INT_EQ(e.last.ep_addr, 0x05060708);
	ASSERT_INT_EQ(e.last.ep_port, 777);
	tick(&e); /* quiet 2 */
	ASSERT_EVS(e, 0, 0, 0, 0);
	tick(&e); /* quiet 3: idle */
	ASSERT_EVS(e, 0, 1, 0, 0);
	for (int i = 0; i < 5; i++) {
		tick(&e);
		ASSERT_EVS(e, 0, 0, 0, 0);
	}
	sa->pkts_in++;
	tick(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	tick(&e);
	tick(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	tick(&e);
	ASSERT_EVS(e, 0, 1, 0, 0);
	ASSERT_INT_EQ(e.last.pkts_in, 6);
	sa->msgid_out = EXHAUST_AT - 1;
	tick(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	sa->msgid_out = EXHAUST_AT;
	tick(&e);
	ASSERT_EVS(e, 0, 0, 0, 1);
	ASSERT_INT_EQ(e.last.msgid_out, EXHAUST_AT);
	tick(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	ASSERT_INT_EQ(cl.r.hdr->dp_heartbeat, hb + 17);
	TEST_DONE();

	TEST_START("events: a full ring drops and retries; endpoint set by control is silent");
	memset(&d, 0, sizeof(d));
	d.spi_in = 1;
	d.ep_addr = 0x0a0b0c0d;
	d.ep_port = 1000;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ENDPOINT, &d, NULL), 0);
	tick(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	stats(&st0);
	d.spi_in = 4242;
	while (dpif_client_send(&cl, DPIF_SA_DEL, &d, NULL) == 0)
		sent++;
	dpif_server_poll(srv, 2 * DPIF_RING_SIZE);
	ASSERT_INT_EQ(shmring_count(cl.r.to_ctl), DPIF_RING_SIZE);
	__atomic_store_n(&sa->endpoint, (uint64_t)0x05060709 << 16 | 778, __ATOMIC_RELAXED);
	dpif_server_tick(srv);
	stats(&st);
	ASSERT_INT_EQ(st.events_dropped - st0.events_dropped, 1);
	ASSERT_INT_EQ(st.events - st0.events, 0);
	drain(&cl);
	dpif_server_poll(srv, 2 * DPIF_RING_SIZE);
	drain(&cl);
	tick(&e);
	ASSERT_EVS(e, 0, 0, 1, 0);
	ASSERT_INT_EQ(e.last.ep_addr, 0x05060709);
	tick(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	stats(&st);
	ASSERT_INT_EQ(st.events - st0.events, 1);
	ASSERT_INT_EQ(st.acks - st0.acks, sent);
	TEST_DONE();

	TEST_START("events: the watch sends EV_FIRST between ticks, once");
	d.spi_in = 1;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_DEL, &d, NULL), 0);
	mk_sa(&d, 1, 1);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), 0);
	sa = sa_table_by_spi(sas, 1);
	ASSERT_TRUE(sa != NULL);
	if (sa == NULL) {
		TEST_DONE();
		return;
	}
	watch(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	__atomic_store_n(&sa->endpoint, (uint64_t)0x05060708 << 16 | 779, __ATOMIC_RELAXED);
	sa->pkts_in = 1;
	watch(&e);
	ASSERT_EVS(e, 1, 0, 1, 0); /* and where the first packet came from */
	ASSERT_INT_EQ(e.last.ep_port, 779);
	watch(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	tick(&e);
	ASSERT_EVS(e, 0, 0, 0, 0);
	TEST_DONE();
}

/* --- a restarted control process, with the server on its own thread --- */

static volatile int srv_stop;

static void *
serve(void *arg)
{
	struct timespec ts = {0, 50000};

	(void)arg;
	while (!__atomic_load_n(&srv_stop, __ATOMIC_ACQUIRE)) {
		dpif_server_poll(srv, 64);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void
count_msg(void *arg, const struct dpif_msg *m)
{
	unsigned *stale = arg;

	if (m->op == DPIF_ACK && m->ctl_gen == GEN_B + 2)
		(*stale)++;
}

/* The entries of one DUMP, by SPI (at most 4 SAs, SPIs 1..4). */
static unsigned
dump_entries(struct dpif_sa_entry out[5])
{
	struct dpif_msg m;
	unsigned n = 0;
	uint64_t seq;

	memset(out, 0, 5 * sizeof(out[0]));
	if (dpif_client_send(&cl, DPIF_DUMP, NULL, &seq) != 0)
		return 0;
	dpif_server_poll(srv, 64);
	while (dpif_client_recv(&cl, &m) == 0)
		if (m.op == DPIF_SA_ENTRY && m.u.entry.sa.spi_in < 5) {
			out[m.u.entry.sa.spi_in] = m.u.entry;
			n++;
		}
	return n;
}

static void
test_probe_activate(void)
{
	struct dpif_sa_entry e[5];
	struct dpif_msg m;
	struct dpif_sa d;
	uint32_t spi = 0;
	struct sa *sa;

	TEST_START("probe: the SPI reaches the worker's ring; unknown SA, full ring refused");
	dpif_client_detach(&cl);
	ASSERT_INT_EQ(dpif_client_attach(&cl, prefix, GEN_B + 7), 0);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_FLUSH, NULL, NULL), 0);
	drain(&cl);
	mk_sa(&d, 2, 1);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), 0);
	memset(&d, 0, sizeof(d));
	d.spi_in = 2;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_PROBE, &d, NULL), 0);
	ASSERT_INT_EQ(rte_ring_count(probes), 1);
	ASSERT_INT_EQ(rte_ring_sc_dequeue_elem(probes, &spi, sizeof(spi)), 0);
	ASSERT_INT_EQ(spi, 2);
	d.spi_in = 3;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_PROBE, &d, NULL), E_NOTFOUND);
	d.spi_in = 2;
	for (unsigned i = 0; i < PROBE_RING - 1; i++)
		ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_PROBE, &d, NULL), 0);
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_PROBE, &d, NULL), E_FULL);
	while (rte_ring_sc_dequeue_elem(probes, &spi, sizeof(spi)) == 0)
		;
	raw(&m, DPIF_SA_PROBE); /* PROBE carries the SPI only (the client copies nothing else) */
	m.u.sa.spi_in = 2;
	m.u.sa.peer_addr = 9;
	ASSERT_INT_EQ(raw_roundtrip(&m), E_INVAL);
	ASSERT_INT_EQ(rte_ring_count(probes), 0);
	TEST_DONE();

	TEST_START("activate: a standby SA becomes its peer's; idempotent; unknown refused");
	mk_sa(&d, 3, 1);
	d.peer_addr = 0x0a000002; /* the peer of SA 2 */
	d.flags = DPIF_SA_STANDBY;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ADD, &d, NULL), 0);
	ASSERT_TRUE(sa_table_by_peer(sas, 0x0a000002) == sa_table_by_spi(sas, 2));
	memset(&d, 0, sizeof(d));
	d.spi_in = 3;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ACTIVATE, &d, NULL), 0);
	sa = sa_table_by_spi(sas, 3);
	ASSERT_TRUE(sa != NULL && sa_table_by_peer(sas, 0x0a000002) == sa);
	ASSERT_TRUE(sa != NULL && !(sa->flags & DPIF_SA_STANDBY));
	ASSERT_TRUE(sa_table_by_spi(sas, 2) != NULL); /* the old one still receives */
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ACTIVATE, &d, NULL), 0);
	d.spi_in = 4;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_ACTIVATE, &d, NULL), E_NOTFOUND);
	TEST_DONE();

	TEST_START("dump entries carry the counters and the quiet times, which ticks advance");
	sa = sa_table_by_spi(sas, 3);
	ASSERT_TRUE(sa != NULL);
	if (sa == NULL) {
		TEST_DONE();
		return;
	}
	sa->pkts_in = 7;
	sa->bytes_in = 700;
	sa->pkts_out = 3;
	sa->bytes_out = 300;
	sa->drops_in = 2;
	dpif_server_tick(srv); /* both counters moved: quiet 0 */
	dpif_server_tick(srv);
	sa->pkts_out = 4;
	dpif_server_tick(srv); /* out moved again: out quiet 0, in quiet 2 */
	drain(&cl);
	ASSERT_INT_EQ(dump_entries(e), 2);
	ASSERT_INT_EQ(e[3].pkts_in, 7);
	ASSERT_INT_EQ(e[3].bytes_in, 700);
	ASSERT_INT_EQ(e[3].pkts_out, 4);
	ASSERT_INT_EQ(e[3].bytes_out, 300);
	ASSERT_INT_EQ(e[3].drops_in, 2);
	ASSERT_INT_EQ(e[3].quiet_s, 2);
	ASSERT_INT_EQ(e[3].idle_out_s, 0);
	ASSERT_INT_EQ(e[3].sa.flags, 0);
	ASSERT_INT_EQ(e[2].quiet_s, 3); /* never a packet: quiet since it was added */
	ASSERT_TRUE(e[3].sa.in_ke[0] == 0 && e[3].sa.out_ka[0] == 0);
	d.spi_in = 2;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_DEL, &d, NULL), 0);
	d.spi_in = 3;
	ASSERT_INT_EQ(roundtrip(&cl, DPIF_SA_DEL, &d, NULL), 0);
	drain(&cl);
	TEST_DONE();
}

static void
test_restart(void)
{
	struct dpif_sa d;
	pthread_t th;
	unsigned stale = 0;
	uint64_t t0;

	TEST_START("call: a restarted client skips its predecessor's ACKs of the same seqs");
	dpif_client_detach(&cl);
	ASSERT_INT_EQ(dpif_client_attach(&cl, prefix, GEN_B + 2), 0);
	memset(&d, 0, sizeof(d));
	for (uint32_t i = 0; i < 5; i++) {
		d.spi_in = 900 + i;
		ASSERT_INT_EQ(dpif_client_send(&cl, DPIF_SA_DEL, &d, NULL), 0);
	}
	ASSERT_INT_EQ(dpif_server_poll(srv, 64), 5); /* ACKs 1..5 of GEN_B + 2 left unread */
	dpif_client_detach(&cl);
	ASSERT_INT_EQ(dpif_client_attach(&cl, prefix, GEN_B + 3), 0);
	ASSERT_TRUE(dpif_client_alive(&cl));
	t0 = clock_ms();
	mk_sa(&d, 77, 1);
	ASSERT_INT_EQ(dpif_client_call(&cl, DPIF_SA_ADD, &d, 200, count_msg, &stale), E_TIMEOUT);
	ASSERT_TRUE(clock_ms() - t0 >= 200 && clock_ms() - t0 < 2000);
	ASSERT_INT_EQ(stale, 5);
	__atomic_store_n(&srv_stop, 0, __ATOMIC_RELEASE);
	ASSERT_INT_EQ(pthread_create(&th, NULL, serve, NULL), 0);
	/* the ADD above is still queued (seq 1): this is seq 2, and its ACK is the one awaited */
	mk_sa(&d, 78, 1);
	ASSERT_INT_EQ(dpif_client_call(&cl, DPIF_SA_ADD, &d, 5000, count_msg, &stale), 0);
	ASSERT_INT_EQ(stale, 5);
	d.spi_in = 79;
	d.ep_port = 0;
	ASSERT_INT_EQ(dpif_client_call(&cl, DPIF_SA_ENDPOINT, &d, 5000, NULL, NULL), E_INVAL);
	d.ep_port = 1;
	ASSERT_INT_EQ(dpif_client_call(&cl, DPIF_SA_ENDPOINT, &d, 5000, NULL, NULL), E_NOTFOUND);
	cl.dp_gen ^= 0x20;
	ASSERT_INT_EQ(dpif_client_call(&cl, DPIF_FLUSH, NULL, 5000, NULL, NULL), E_STATE);
	cl.dp_gen ^= 0x20;
	__atomic_store_n(&srv_stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ASSERT_TRUE(sa_table_by_spi(sas, 77) != NULL);
	ASSERT_TRUE(sa_table_by_spi(sas, 78) != NULL);
	TEST_DONE();
}

static void
test_gone(void)
{
	struct dpif_client other;
	struct dpif_sa d;
	uint64_t t0;

	TEST_START("call: a data plane that went away is E_STATE, not a timeout");
	dpif_server_free(srv);
	srv = NULL;
	ASSERT_INT_EQ(dpif_client_attach(&other, prefix, 1), E_NOTFOUND);
	t0 = clock_ms();
	memset(&d, 0, sizeof(d));
	d.spi_in = 1;
	ASSERT_INT_EQ(dpif_client_call(&cl, DPIF_SA_DEL, &d, 5000, NULL, NULL), E_STATE);
	ASSERT_TRUE(clock_ms() - t0 < 1000);
	dpif_client_detach(&cl);
	TEST_DONE();
}

static int
setup(void)
{
	struct sa_table_params tp = {
		.name = "dpif",
		.max_sas = MAX_SAS,
		.socket_id = SOCKET_ID_ANY,
		.backend = CB_BACKEND_AUTO,
	};
	struct dpif_server_params sp = {
		.prefix = prefix,
		.pid = (uint64_t)getpid(),
		.idle_ticks = IDLE_TICKS,
		.exhaust_at = EXHAUST_AT,
	};

	probes = rte_ring_create_elem("test_probes", sizeof(uint32_t), PROBE_RING, SOCKET_ID_ANY,
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	sp.probes = probes;
	size_t sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);

	qv = rte_zmalloc("qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (qv == NULL || rte_rcu_qsbr_init(qv, RTE_MAX_LCORE) != 0)
		return 1;
	tp.v = qv;
	if ((sas = sa_table_create(&tp)) == NULL)
		return 1;
	ASSERT_TRUE(dpif_server_new(&sp) == NULL); /* no table */
	sp.sas = sas;
	if ((srv = dpif_server_new(&sp)) == NULL)
		return 1;
	return dpif_client_attach(&cl, prefix, GEN_A) != 0;
}

int
main(int argc, char **argv)
{
	struct dp_eal e;

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "test-dpif-%d", (int)getpid());
	TEST_START("EAL, SA table, server, client");
	ASSERT_INT_EQ(dp_eal_start(&e, "test_dpif", "0"), 0);
	if (test_state.failed_here == 0)
		ASSERT_INT_EQ(setup(), 0);
	TEST_DONE();
	if (test_state.failed_total) {
		printf("Bail out! setup: %s\n", rte_strerror(rte_errno));
		return 1;
	}

	test_add();
	test_ops();
	test_flush_gen();
	test_dp_gen();
	test_invalid();
	test_backpressure();
	test_dump();
	test_events();
	test_probe_activate();
	test_restart();
	test_gone();

	dpif_server_free(srv);
	rte_ring_free(probes);
	sa_table_free(sas);
	rte_free(qv);
	dp_eal_stop(&e);
	return test_finish();
}
