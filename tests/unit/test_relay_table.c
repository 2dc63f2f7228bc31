/* SPDX-License-Identifier: MIT */
/*
 * The relay's session table (relay/table.c) on a clock the test sets: BINDs made with
 * common/relay.c exactly as a node makes them, datagrams from chosen endpoints, and the
 * verdicts, answers and counters that come back. Every test ends with relay_table_check().
 */
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "relay/table.h"
#include "test.h"

TEST_DEFINE_STATE;

enum {
	NOW_UNIX = 1800000000,
	EXPIRY = NOW_UNIX + 3600,
	ID_A = 0x64400001,
	ID_B = 0x64400002,
	ID_C = 0x64400003,
	ID_D = 0x64400004,
	SPI_A = 0x00001001,
	SPI_B = 0x00001002,
	SPI_C = 0x00001003,
	SPI_D = 0x00001004,
	NO_ANSWER = -1000, /* bind(): the relay dropped the BIND */
};

static struct crypto *cr;
static uint8_t secret[RELAY_SECRET_LEN];
static uint64_t now_ms = 5000;

/* What a node holds: its RELAY grant. */
struct grant {
	uint8_t session[MSG_RELAY_SESSION_LEN];
	uint8_t side;
	uint32_t identity, peer, expiry;
};

static struct grant
grant(uint8_t session, uint8_t side, uint32_t identity, uint32_t peer)
{
	struct grant g = {.side = side, .identity = identity, .peer = peer, .expiry = EXPIRY};

	memset(g.session, session, sizeof(g.session));
	return g;
}

static struct relay_src
udp_src(uint32_t addr, uint16_t port)
{
	return (struct relay_src){.ep = relay_ep_udp(addr, port), .addr = addr, .port = port};
}

static struct relay_src
tcp_src(uint64_t id, uint32_t addr)
{
	return (struct relay_src){.ep = relay_ep_tcp(id), .addr = addr, .port = 40000, .tcp = true};
}

/* A RELAY BIND datagram for g, MACed with the token key makes from the secret. */
static size_t
make_bind(const struct grant *g, const uint8_t *key, uint64_t seq, const uint32_t *spis, unsigned n,
	  uint8_t out[RELAY_MSG_MAX])
{
	uint8_t token[MSG_RELAY_TOKEN_LEN];
	struct msg m = {.type = MSG_RELAY_BIND};
	struct msg_relay_bind *b = &m.u.relay_bind;
	size_t len = 0;

	memcpy(b->session, g->session, sizeof(b->session));
	b->expiry = g->expiry;
	b->side = g->side;
	b->identity = g->identity;
	b->peer = g->peer;
	b->seq = seq;
	b->n = (uint8_t)n;
	memcpy(b->spi, spis, n * sizeof(*spis));
	if (relay_token(cr, key, g->session, g->expiry, g->side, g->identity, g->peer, token) !=
		    0 ||
	    relay_msg_seal(cr, token, MSG_CH_RELAY_C2R, &m, out, RELAY_MSG_MAX, &len) != 0)
		return 0;
	return len;
}

/* Feeds a BIND datagram; the answer's status (0 or a negative E_*), or NO_ANSWER. The answer
 * must carry g's token, session, side and seq; *peer_bound gets its flag. */
static int
feed_bind(struct relay_table *t, const struct relay_src *src, const struct grant *g,
	  const uint8_t *p, size_t len, uint64_t seq, int *peer_bound)
{
	uint8_t token[MSG_RELAY_TOKEN_LEN];
	struct relay_out out;
	struct msg m;

	if (relay_table_input(t, src, p, len, &out) != RELAY_ANSWER)
		return NO_ANSWER;
	if (relay_token(cr, secret, g->session, g->expiry, g->side, g->identity, g->peer, token) !=
		    0 ||
	    relay_msg_open(MSG_CH_RELAY_R2C, out.msg, out.len, &m) != 0 ||
	    m.type != MSG_RELAY_BOUND || relay_msg_check(cr, token, out.msg, out.len) != 0 ||
	    memcmp(m.u.relay_bound.session, g->session, MSG_RELAY_SESSION_LEN) != 0 ||
	    m.u.relay_bound.side != g->side || m.u.relay_bound.seq != seq)
		return E_PROTOCOL;
	if (m.u.relay_bound.addr != (src->tcp ? 0 : src->addr) ||
	    m.u.relay_bound.port != (src->tcp ? 0 : src->port))
		return E_PROTOCOL;
	if (peer_bound != NULL)
		*peer_bound = m.u.relay_bound.peer_bound;
	return -(int)m.u.relay_bound.status;
}

/* Binds g from src with seq and spis (made with the right secret). */
static int
bind(struct relay_table *t, const struct relay_src *src, const struct grant *g, uint64_t seq,
     const uint32_t *spis, unsigned n, int *peer_bound)
{
	uint8_t d[RELAY_MSG_MAX];
	size_t len = make_bind(g, secret, seq, spis, n, d);

	return feed_bind(t, src, g, d, len, seq, peer_bound);
}

static int
bind1(struct relay_table *t, const struct relay_src *src, const struct grant *g, uint64_t seq,
      uint32_t spi)
{
	return bind(t, src, g, seq, &spi, 1, NULL);
}

/* A data packet to spi (first word), or a tunnel control packet (0 | dstSPI | srcSPI). */
static size_t
datagram(uint32_t spi, bool control, uint8_t out[64])
{
	memset(out, 0xab, 64);
	store_be32(out, control ? 0 : spi);
	store_be32(out + 4, control ? spi : 0x11111111);
	return control ? 20 : 52;
}

/* Sends one datagram to spi from src: the endpoint it goes to, or 0 if dropped. */
static uint64_t
send_to(struct relay_table *t, const struct relay_src *src, uint32_t spi)
{
	uint8_t d[64];
	struct relay_out out;
	size_t len = datagram(spi, false, d);

	if (relay_table_input(t, src, d, len, &out) != RELAY_FORWARD)
		return 0;
	return out.dst;
}

static struct relay_table *
table(const struct relay_limits *lim)
{
	struct relay_limits def;
	struct relay_table *t;

	relay_limits_default(&def);
	t = relay_table_new(secret, lim != NULL ? lim : &def);
	if (t != NULL)
		relay_table_set_time(t, now_ms, NOW_UNIX);
	return t;
}

static void
tick(struct relay_table *t, uint64_t ms)
{
	now_ms += ms;
	relay_table_set_time(t, now_ms, NOW_UNIX + now_ms / 1000);
}

/* A session 0x11: A (side 0, SPI_A) at 10.0.0.1:1000, B (side 1, SPI_B) at 10.0.0.2:2000. */
static const struct relay_src A = {
	.ep = (uint64_t)0x0a000001 << 16 | 1000, .addr = 0x0a000001, .port = 1000};
static const struct relay_src B = {
	.ep = (uint64_t)0x0a000002 << 16 | 2000, .addr = 0x0a000002, .port = 2000};

static void
bind_ab(struct relay_table *t)
{
	struct grant ga = grant(0x11, 0, ID_A, ID_B), gb = grant(0x11, 1, ID_B, ID_A);

	ASSERT_INT_EQ(bind1(t, &A, &ga, 10, SPI_A), 0);
	ASSERT_INT_EQ(bind1(t, &B, &gb, 10, SPI_B), 0);
}

static void
test_bind_forward(void)
{
	struct grant ga = grant(0x11, 0, ID_A, ID_B), gb = grant(0x11, 1, ID_B, ID_A);
	struct relay_table *t = table(NULL);
	struct relay_counts c;
	struct relay_out out;
	uint8_t d[64];
	int pb = -1;

	TEST_START("bind both sides, then datagrams are forwarded both ways, unchanged");
	ASSERT_INT_EQ(bind(t, &A, &ga, 10, (uint32_t[]){SPI_A}, 1, &pb), 0);
	ASSERT_INT_EQ(pb, 0); /* alone so far */
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), 0);
	ASSERT_INT_EQ(bind(t, &B, &gb, 10, (uint32_t[]){SPI_B}, 1, &pb), 0);
	ASSERT_INT_EQ(pb, 1);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), B.ep);
	ASSERT_INT_EQ(send_to(t, &B, SPI_A), A.ep);
	ASSERT_INT_EQ(relay_table_input(t, &A, d, datagram(SPI_B, true, d), &out), RELAY_FORWARD);
	ASSERT_INT_EQ(out.dst, B.ep);
	relay_table_counts(t, &c);
	ASSERT_INT_EQ(c.sessions, 1);
	ASSERT_INT_EQ(c.bound, 1);
	ASSERT_INT_EQ(c.routes, 2);
	ASSERT_INT_EQ(relay_table_stats(t)->fwd_pkts, 3);
	ASSERT_INT_EQ(relay_table_stats(t)->fwd_bytes, 52 + 52 + 20);
	ASSERT_INT_EQ(relay_table_stats(t)->bind_ok, 2);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_unknown(void)
{
	struct relay_table *t = table(NULL);
	struct relay_src x = udp_src(0x0a000009, 9000);
	struct relay_out out;
	uint8_t d[64] = {0};
	struct msg m;
	size_t len;

	TEST_START("unknown routes, short datagrams and non-BIND messages are dropped, counted");
	bind_ab(t);
	ASSERT_INT_EQ(send_to(t, &A, 0x999), 0); /* no such SPI */
	ASSERT_INT_EQ(send_to(t, &A, SPI_A), 0); /* its own SPI: never back to itself */
	ASSERT_INT_EQ(send_to(t, &x, SPI_B), 0); /* a stranger with the right SPI */
	ASSERT_INT_EQ(send_to(t, &x, SPI_A), 0);
	ASSERT_INT_EQ(relay_table_stats(t)->drop_no_route, 4);
	ASSERT_INT_EQ(relay_table_input(t, &A, d, 7, &out), RELAY_DROP);
	ASSERT_INT_EQ(relay_table_stats(t)->drop_invalid, 1);
	ASSERT_INT_EQ(relay_table_input(t, &(struct relay_src){0}, d, 52, &out), RELAY_DROP);
	ASSERT_INT_EQ(relay_table_stats(t)->drop_invalid, 2); /* 0.0.0.0:0 is no endpoint */
	ASSERT_INT_EQ(relay_table_input(t, &A, d, 8, &out), RELAY_DROP); /* bare mark */
	memset(&m, 0, sizeof(m));
	m.type = MSG_RELAY_BOUND; /* the relay's own answer, sent to it */
	m.u.relay_bound.side = 0;
	ASSERT_INT_EQ(relay_msg_seal(cr, secret, MSG_CH_RELAY_R2C, &m, d, sizeof(d), &len), 0);
	ASSERT_INT_EQ(relay_table_input(t, &A, d, len, &out), RELAY_DROP);
	ASSERT_INT_EQ(relay_table_stats(t)->msg_bad, 2);
	ASSERT_INT_EQ(relay_table_stats(t)->fwd_pkts, 0);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_other_session(void)
{
	struct grant gc = grant(0x22, 0, ID_C, ID_D), gd = grant(0x22, 1, ID_D, ID_C);
	struct grant ga2 = grant(0x33, 0, ID_A, ID_C), gc2 = grant(0x33, 1, ID_C, ID_A);
	struct relay_src C = udp_src(0x0a000003, 3000), D = udp_src(0x0a000004, 4000);
	struct relay_table *t = table(NULL);

	TEST_START("a side's endpoint reaches only its own peers' SPIs, never another session's");
	bind_ab(t);
	ASSERT_INT_EQ(bind1(t, &C, &gc, 1, SPI_C), 0);
	ASSERT_INT_EQ(bind1(t, &D, &gd, 1, SPI_D), 0);
	ASSERT_INT_EQ(send_to(t, &A, SPI_D), 0);
	ASSERT_INT_EQ(send_to(t, &A, SPI_C), 0);
	ASSERT_INT_EQ(send_to(t, &C, SPI_B), 0);
	ASSERT_INT_EQ(send_to(t, &D, SPI_A), 0);
	/* A and C get a relayed tunnel of their own, from the same endpoints (new SPIs) */
	ASSERT_INT_EQ(bind1(t, &A, &ga2, 1, 0x2001), 0);
	ASSERT_INT_EQ(bind1(t, &C, &gc2, 2, 0x2003), 0);
	ASSERT_INT_EQ(send_to(t, &A, 0x2003), C.ep);
	ASSERT_INT_EQ(send_to(t, &C, 0x2001), A.ep);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), B.ep); /* the first tunnel is untouched */
	ASSERT_INT_EQ(send_to(t, &A, SPI_D), 0);
	ASSERT_INT_EQ(send_to(t, &B, 0x2001), 0); /* B is not in A-C */
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_forged(void)
{
	struct grant ga = grant(0x11, 0, ID_A, ID_B), gx = grant(0x11, 0, ID_A, ID_B);
	struct relay_src x = udp_src(0x0a000009, 9000);
	struct relay_table *t = table(NULL);
	uint8_t wrong[RELAY_SECRET_LEN], d[RELAY_MSG_MAX];
	uint32_t spi = SPI_A;
	size_t len;
	int flips = 0;

	TEST_START("a forged BIND (wrong secret, any flipped bit) is dropped without an answer");
	bind_ab(t);
	memset(wrong, 0x77, sizeof(wrong));
	len = make_bind(&gx, wrong, 1000, &spi, 1, d);
	ASSERT_INT_EQ(feed_bind(t, &x, &gx, d, len, 1000, NULL), NO_ANSWER);
	ASSERT_INT_EQ(relay_table_stats(t)->bind_bad_mac, 1);
	len = make_bind(&ga, secret, 1001, &spi, 1, d);
	for (size_t i = RELAY_MARK * 8; i < len * 8; i++) {
		struct relay_out out;

		d[i / 8] ^= (uint8_t)(1u << (i % 8));
		flips += relay_table_input(t, &x, d, len, &out) != RELAY_DROP;
		d[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	ASSERT_INT_EQ(flips, 0);
	ASSERT_INT_EQ(relay_table_endpoint(t, ga.session, 0), A.ep);
	ASSERT_INT_EQ(send_to(t, &B, SPI_A), A.ep);
	ASSERT_INT_EQ(relay_table_stats(t)->bind_ok, 2);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_replay_and_move(void)
{
	struct grant ga = grant(0x11, 0, ID_A, ID_B), gb = grant(0x11, 1, ID_B, ID_A);
	struct relay_src x = udp_src(0x0a000009, 9000), a2 = udp_src(0x0a000001, 1001);
	struct relay_table *t = table(NULL);
	uint8_t d[RELAY_MSG_MAX];
	uint32_t spi = SPI_A;
	size_t len = make_bind(&ga, secret, 10, &spi, 1, d);
	int pb = 0;

	TEST_START("a replayed BIND never moves a side; a newer one from a new port does");
	ASSERT_INT_EQ(feed_bind(t, &A, &ga, d, len, 10, NULL), 0);
	ASSERT_INT_EQ(bind1(t, &B, &gb, 10, SPI_B), 0);
	ASSERT_INT_EQ(feed_bind(t, &x, &ga, d, len, 10, NULL), NO_ANSWER); /* replay elsewhere */
	ASSERT_INT_EQ(feed_bind(t, &A, &ga, d, len, 10, NULL), NO_ANSWER); /* and at home */
	ASSERT_INT_EQ(relay_table_stats(t)->bind_replay, 2);
	ASSERT_INT_EQ(relay_table_endpoint(t, ga.session, 0), A.ep);
	ASSERT_INT_EQ(send_to(t, &B, SPI_A), A.ep);
	ASSERT_INT_EQ(send_to(t, &x, SPI_B), 0);
	ASSERT_INT_EQ(bind1(t, &x, &ga, 9, SPI_A), NO_ANSWER); /* older seq */
	/* NAT rebinding: the same node from a new port, with a newer seq */
	ASSERT_INT_EQ(bind(t, &a2, &ga, 11, &spi, 1, &pb), 0);
	ASSERT_INT_EQ(pb, 1);
	ASSERT_INT_EQ(relay_table_endpoint(t, ga.session, 0), a2.ep);
	ASSERT_INT_EQ(send_to(t, &B, SPI_A), a2.ep);
	ASSERT_INT_EQ(send_to(t, &a2, SPI_B), B.ep);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), 0); /* the old mapping is cut off */
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_expired(void)
{
	struct grant ga = grant(0x11, 0, ID_A, ID_B);
	struct relay_table *t = table(NULL);
	struct relay_counts c;

	TEST_START("a grant past its expiry is answered E_EXPIRED and binds nothing");
	ga.expiry = NOW_UNIX - 1;
	ASSERT_INT_EQ(bind1(t, &A, &ga, 1, SPI_A), E_EXPIRED);
	ga.expiry = NOW_UNIX; /* "now > expiry" refuses: the last second still binds */
	ASSERT_INT_EQ(bind1(t, &A, &ga, 2, SPI_A), 0);
	relay_table_counts(t, &c);
	ASSERT_INT_EQ(c.sessions, 1);
	ASSERT_INT_EQ(relay_table_stats(t)->bind_expired, 1);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_busy(void)
{
	struct grant ga2 = grant(0x33, 0, ID_A, ID_C), gc2 = grant(0x33, 1, ID_C, ID_A);
	struct grant g5c = grant(0x55, 0, ID_C, ID_D), g5d = grant(0x55, 1, ID_D, ID_C);
	struct relay_src C = udp_src(0x0a000003, 3000);
	struct relay_table *t = table(NULL);

	TEST_START("an SPI another session routes from the same endpoint: E_BUSY, nothing moves");
	bind_ab(t);
	/* A's second tunnel, to C, whose inbound SPI happens to equal B's */
	ASSERT_INT_EQ(bind1(t, &A, &ga2, 1, 0x2001), 0);
	ASSERT_INT_EQ(bind1(t, &C, &gc2, 1, SPI_B), E_BUSY);
	ASSERT_INT_EQ(relay_table_stats(t)->bind_busy, 1);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), B.ep);
	ASSERT_INT_EQ(send_to(t, &C, 0x2001), 0);
	/* C retries after a rekey with a fresh SPI */
	ASSERT_INT_EQ(bind1(t, &C, &gc2, 2, 0x2003), 0);
	ASSERT_INT_EQ(send_to(t, &A, 0x2003), C.ep);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), B.ep);
	/* both sides on one endpoint sharing an SPI would make one key mean two targets */
	ASSERT_INT_EQ(bind1(t, &C, &g5c, 1, 0x5001), 0);
	ASSERT_INT_EQ(bind1(t, &C, &g5d, 1, 0x5001), E_BUSY);
	ASSERT_INT_EQ(relay_table_stats(t)->bind_busy, 2);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_supersede(void)
{
	struct grant ga = grant(0x77, 0, ID_A, ID_B), gb = grant(0x77, 1, ID_B, ID_A);
	struct relay_table *t = table(NULL);
	struct relay_counts c;

	TEST_START("a newer grant of the same two nodes replaces their older session (no E_BUSY)");
	bind_ab(t); /* session 0x11 */
	/* the mediator restarted: the same tunnel, a new session 0x77, same endpoints and SPIs */
	ASSERT_INT_EQ(bind1(t, &A, &ga, 1, SPI_A), 0);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), B.ep); /* the old session still routes */
	ASSERT_INT_EQ(bind1(t, &B, &gb, 1, SPI_B), 0);
	ASSERT_INT_EQ(relay_table_stats(t)->sessions_superseded, 1);
	relay_table_counts(t, &c);
	ASSERT_INT_EQ(c.sessions, 1);
	ASSERT_INT_EQ(c.bound, 1);
	ASSERT_INT_EQ(relay_table_stats(t)->bind_busy, 0);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), B.ep);
	ASSERT_INT_EQ(send_to(t, &B, SPI_A), A.ep);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_identity(void)
{
	struct grant ga = grant(0x11, 0, ID_A, ID_B), gc = grant(0x11, 1, ID_C, ID_A);
	struct grant ga_other = grant(0x11, 0, ID_A, ID_D);
	struct relay_src C = udp_src(0x0a000003, 3000);
	struct relay_table *t = table(NULL);

	TEST_START("identities that disagree with the session: E_STATE");
	ASSERT_INT_EQ(bind1(t, &A, &ga, 1, SPI_A), 0);
	ASSERT_INT_EQ(bind1(t, &C, &gc, 1, SPI_C), E_STATE);	   /* A's peer is B, not C */
	ASSERT_INT_EQ(bind1(t, &A, &ga_other, 2, SPI_A), E_STATE); /* A's side, another peer */
	ASSERT_INT_EQ(relay_table_stats(t)->bind_state, 2);
	ASSERT_INT_EQ(relay_table_endpoint(t, gc.session, 1), 0);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_rekey(void)
{
	struct grant gb = grant(0x11, 1, ID_B, ID_A);
	struct relay_table *t = table(NULL);
	struct relay_counts c;

	TEST_START("rekey: B binds two SPIs, then the new one alone; duplicates count once");
	bind_ab(t);
	ASSERT_INT_EQ(bind(t, &B, &gb, 11, (uint32_t[]){SPI_B, 0x80000b02}, 2, NULL), 0);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), B.ep);
	ASSERT_INT_EQ(send_to(t, &A, 0x80000b02), B.ep);
	relay_table_counts(t, &c);
	ASSERT_INT_EQ(c.routes, 3);
	ASSERT_INT_EQ(bind(t, &B, &gb, 12, (uint32_t[]){0x80000b02}, 1, NULL), 0);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), 0);
	ASSERT_INT_EQ(send_to(t, &A, 0x80000b02), B.ep);
	ASSERT_INT_EQ(send_to(t, &B, SPI_A), A.ep);
	relay_table_counts(t, &c);
	ASSERT_INT_EQ(c.routes, 2);
	ASSERT_INT_EQ(
		bind(t, &B, &gb, 13, (uint32_t[]){0x80000b02, 0x80000b02, 0x80000b02}, 3, NULL), 0);
	relay_table_counts(t, &c);
	ASSERT_INT_EQ(c.routes, 2);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_tcp_side(void)
{
	struct grant ga = grant(0x11, 0, ID_A, ID_B), gb = grant(0x11, 1, ID_B, ID_A);
	struct relay_src bt = tcp_src(7, 0x0a000002);
	struct relay_table *t = table(NULL);

	TEST_START("a side over TCP: answered without an address, forwarding crosses transports");
	ASSERT_INT_EQ(bind1(t, &A, &ga, 1, SPI_A), 0);
	ASSERT_INT_EQ(bind1(t, &bt, &gb, 1, SPI_B), 0); /* feed_bind checks addr = port = 0 */
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), relay_ep_tcp(7));
	ASSERT_INT_EQ(send_to(t, &bt, SPI_A), A.ep);
	ASSERT_TRUE(relay_ep_is_tcp(relay_table_endpoint(t, gb.session, 1)));
	/* the same address and port over UDP is another endpoint */
	ASSERT_INT_EQ(send_to(t, &B, SPI_A), 0);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_idle(void)
{
	struct relay_limits lim;
	struct relay_table *t;
	struct relay_counts c;

	TEST_START("idle expiry: traffic or a BIND keeps a session; silence forgets it");
	relay_limits_default(&lim);
	lim.idle_ms = 120000;
	t = table(&lim);
	bind_ab(t);
	tick(t, 119000);
	relay_table_expire(t);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), B.ep); /* still there, and refreshed */
	tick(t, 119999);
	relay_table_expire(t);
	relay_table_counts(t, &c);
	ASSERT_INT_EQ(c.sessions, 1);
	tick(t, 1);
	relay_table_expire(t);
	relay_table_counts(t, &c);
	ASSERT_INT_EQ(c.sessions, 0);
	ASSERT_INT_EQ(c.routes, 0);
	ASSERT_INT_EQ(c.identities, 0);
	ASSERT_INT_EQ(relay_table_stats(t)->sessions_expired, 1);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), 0);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_bind_rate(void)
{
	struct grant ga = grant(0x11, 0, ID_A, ID_B);
	struct relay_src other = udp_src(0x0a000005, 1000);
	struct relay_limits lim;
	struct relay_table *t;

	TEST_START("BIND rate per source address: E_RATE over the burst, refilled with time");
	relay_limits_default(&lim);
	lim.bind_rate = 2;
	lim.bind_burst = 3;
	t = table(&lim);
	for (unsigned i = 1; i <= 3; i++)
		ASSERT_INT_EQ(bind1(t, &A, &ga, i, SPI_A), 0);
	ASSERT_INT_EQ(bind1(t, &A, &ga, 4, SPI_A), E_RATE);
	ASSERT_INT_EQ(relay_table_stats(t)->bind_rate, 1);
	/* another address has its own bucket (a forged BIND charges nobody) */
	ASSERT_INT_EQ(bind1(t, &other, &ga, 5, SPI_A), 0);
	tick(t, 500); /* one more token */
	ASSERT_INT_EQ(bind1(t, &A, &ga, 6, SPI_A), 0);
	ASSERT_INT_EQ(bind1(t, &A, &ga, 7, SPI_A), E_RATE);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_byte_rate(void)
{
	struct relay_limits lim;
	struct relay_table *t;
	unsigned passed = 0;

	TEST_START("byte rate per session: drops over the burst, recovers at the rate");
	relay_limits_default(&lim);
	lim.byte_rate = 10400; /* 200 datagrams of 52 bytes per second */
	lim.byte_burst = 52 * 10;
	t = table(&lim);
	bind_ab(t);
	for (unsigned i = 0; i < 20; i++)
		passed += send_to(t, &A, SPI_B) != 0;
	ASSERT_INT_EQ(passed, 10);
	ASSERT_INT_EQ(relay_table_stats(t)->drop_rate, 10);
	ASSERT_INT_EQ(send_to(t, &B, SPI_A), 0); /* both directions share the budget */
	tick(t, 10);				 /* 104 bytes: two more */
	ASSERT_INT_EQ(send_to(t, &B, SPI_A), A.ep);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), B.ep);
	ASSERT_INT_EQ(send_to(t, &A, SPI_B), 0);
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_room(void)
{
	struct grant g2 = grant(0x22, 0, ID_C, ID_D), g3 = grant(0x33, 0, 0x64400009, ID_B);
	struct grant g4 = grant(0x44, 0, ID_A, ID_D), ga = grant(0x11, 0, ID_A, ID_B);
	struct relay_src C = udp_src(0x0a000003, 3000);
	struct relay_limits lim;
	struct relay_table *t;

	TEST_START("no room: too many sessions, or too many for one identity: E_BUSY");
	relay_limits_default(&lim);
	lim.sessions = 2;
	lim.per_identity = 1;
	t = table(&lim);
	bind_ab(t);
	ASSERT_INT_EQ(bind1(t, &A, &g4, 1, 0x4001), E_BUSY); /* A's second session */
	ASSERT_INT_EQ(bind1(t, &C, &g2, 1, SPI_C), 0);
	ASSERT_INT_EQ(bind1(t, &C, &g3, 2, 0x3003), E_BUSY); /* a third session, new identity */
	ASSERT_INT_EQ(relay_table_stats(t)->bind_full, 2);
	ASSERT_INT_EQ(bind1(t, &A, &ga, 11, SPI_A), 0); /* a rebind fits */
	ASSERT_INT_EQ(relay_table_check(t), 0);
	relay_table_free(t);
	TEST_DONE();
}

static void
test_stats_line(void)
{
	struct relay_stats s;
	char line[1024], small[16];

	TEST_START("counters log line names every counter");
	memset(&s, 0, sizeof(s));
	s.fwd_pkts = 3;
	s.tcp_idle = 12345678901234ULL;
	stats_format(&s, line, sizeof(line));
	ASSERT_TRUE(strncmp(line, "fwd_pkts 3 fwd_bytes 0 ", 23) == 0);
	ASSERT_TRUE(strstr(line, " bind_bad_mac 0 ") != NULL);
	ASSERT_TRUE(strstr(line, "tcp_idle 12345678901234") != NULL);
	stats_format(&s, small, sizeof(small));
	ASSERT_INT_EQ(strlen(small), sizeof(small) - 1);
	TEST_DONE();
}

int
main(void)
{
	if ((cr = crypto_new()) == NULL)
		return 1;
	for (unsigned i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(0xa0 + i);
	test_bind_forward();
	test_unknown();
	test_other_session();
	test_forged();
	test_replay_and_move();
	test_expired();
	test_busy();
	test_supersede();
	test_identity();
	test_rekey();
	test_tcp_side();
	test_idle();
	test_bind_rate();
	test_byte_rate();
	test_room();
	test_stats_line();
	crypto_free(cr);
	return test_finish();
}
