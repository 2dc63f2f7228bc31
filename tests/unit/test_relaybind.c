/* SPDX-License-Identifier: MIT */
/* The node's side of a relay session (control/relaybind.c): when BINDs go out, what they say,
 * and which RELAY BOUNDs count. */
#include <string.h>

#include "common/err.h"
#include "common/relay.h"
#include "control/relaybind.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { RELAY_ADDR = 0xc6336402, RELAY_PORT = 7790, SELF = 0x64400001, PEER = 0x64400002 };

static struct crypto *c;

static void
grant(struct msg_relay *g)
{
	*g = (struct msg_relay){.peer = PEER,
				.expiry = 1800000000,
				.side = 1,
				.addr = RELAY_ADDR,
				.udp_port = RELAY_PORT,
				.tcp_port = 0};
	memset(g->session, 0x5e, sizeof(g->session));
	memset(g->token, 0x70, sizeof(g->token));
}

/* The BIND due at now, decoded and MAC-checked with the grant's token; 0 if none is due. */
static int
due(struct relaybind *rb, uint64_t now, uint64_t wall, struct msg *m, uint8_t *raw, size_t *len)
{
	int r = relaybind_due(rb, c, now, wall, raw, RELAY_MSG_MAX, len);

	if (r != 1)
		return r;
	if (relay_msg_open(MSG_CH_RELAY_C2R, raw, *len, m) != 0 || m->type != MSG_RELAY_BIND ||
	    relay_msg_check(c, rb->g.token, raw, *len) != 0)
		return E_INVAL;
	return 1;
}

/* A RELAY BOUND answering seq, MACed with the token, as the relay would send it. */
static size_t
bound(const struct msg_relay *g, uint64_t seq, uint16_t status, uint8_t *raw, struct msg *m)
{
	size_t len = 0;

	*m = (struct msg){.type = MSG_RELAY_BOUND};
	memcpy(m->u.relay_bound.session, g->session, sizeof(g->session));
	m->u.relay_bound.side = g->side;
	m->u.relay_bound.seq = seq;
	m->u.relay_bound.status = status;
	m->u.relay_bound.peer_bound = 1;
	if (relay_msg_seal(c, g->token, MSG_CH_RELAY_R2C, m, raw, RELAY_MSG_MAX, &len) != 0)
		return 0;
	return len;
}

static void
test_bind(void)
{
	uint8_t raw[RELAY_MSG_MAX], ans[RELAY_MSG_MAX];
	struct relaybind rb = {0};
	struct msg_relay g;
	uint32_t spis[] = {0x1234, 0, 0x1234, 0x80000001};
	struct msg m, b;
	size_t len, alen;
	uint64_t seq;

	TEST_START("nothing before SPIs; then a BIND with the grant's fields and a valid MAC");
	grant(&g);
	relaybind_grant(&rb, &g, SELF, 1000);
	ASSERT_INT_EQ(due(&rb, 1000, 5000, &m, raw, &len), 0);
	relaybind_spis(&rb, spis, 4, 1000);
	ASSERT_INT_EQ(rb.n, 2); /* zeros and repeats skipped */
	ASSERT_INT_EQ(due(&rb, 1000, 5000, &m, raw, &len), 1);
	ASSERT_MEM_EQ(m.u.relay_bind.session, g.session, sizeof(g.session));
	ASSERT_INT_EQ(m.u.relay_bind.expiry, g.expiry);
	ASSERT_INT_EQ(m.u.relay_bind.side, 1);
	ASSERT_INT_EQ(m.u.relay_bind.identity, SELF);
	ASSERT_INT_EQ(m.u.relay_bind.peer, PEER);
	ASSERT_INT_EQ(m.u.relay_bind.seq, 5000);
	ASSERT_INT_EQ(m.u.relay_bind.n, 2);
	ASSERT_INT_EQ(m.u.relay_bind.spi[0], 0x1234);
	ASSERT_INT_EQ(m.u.relay_bind.spi[1], 0x80000001);
	TEST_DONE();

	TEST_START("unanswered: again after 1, 2, 4, 8, 8 s; seq grows even if the clock does not");
	seq = m.u.relay_bind.seq;
	ASSERT_INT_EQ(due(&rb, 1999, 5000, &m, raw, &len), 0);
	ASSERT_INT_EQ(due(&rb, 2000, 5000, &m, raw, &len), 1);
	ASSERT_INT_EQ(m.u.relay_bind.seq, seq + 1);
	ASSERT_INT_EQ(due(&rb, 3999, 5000, &m, raw, &len), 0);
	ASSERT_INT_EQ(due(&rb, 4000, 9000, &m, raw, &len), 1);
	ASSERT_INT_EQ(m.u.relay_bind.seq, 9000);
	ASSERT_INT_EQ(due(&rb, 8000, 9000, &m, raw, &len), 1);
	ASSERT_INT_EQ(due(&rb, 15999, 9000, &m, raw, &len), 0);
	ASSERT_INT_EQ(due(&rb, 16000, 9000, &m, raw, &len), 1);
	ASSERT_INT_EQ(due(&rb, 24000, 9000, &m, raw, &len), 1);
	TEST_DONE();

	TEST_START("RELAY BOUND counts only from the relay, for our seq, session and side, MACed");
	seq = m.u.relay_bind.seq;
	alen = bound(&g, seq - 1, 0, ans, &b);
	ASSERT_TRUE(!relaybind_on_bound(&rb, c, &b.u.relay_bound, ans, alen, RELAY_ADDR, RELAY_PORT,
					24100));
	alen = bound(&g, seq, 0, ans, &b);
	ASSERT_TRUE(!relaybind_on_bound(&rb, c, &b.u.relay_bound, ans, alen, RELAY_ADDR + 1,
					RELAY_PORT, 24100));
	ASSERT_TRUE(!relaybind_on_bound(&rb, c, &b.u.relay_bound, ans, alen, RELAY_ADDR,
					RELAY_PORT + 1, 24100));
	ans[alen - 1] ^= 1;
	ASSERT_TRUE(!relaybind_on_bound(&rb, c, &b.u.relay_bound, ans, alen, RELAY_ADDR, RELAY_PORT,
					24100));
	ans[alen - 1] ^= 1;
	b.u.relay_bound.side = 0;
	ASSERT_TRUE(!relaybind_on_bound(&rb, c, &b.u.relay_bound, ans, alen, RELAY_ADDR, RELAY_PORT,
					24100));
	b.u.relay_bound.side = 1;
	ASSERT_TRUE(!rb.bound);
	ASSERT_TRUE(relaybind_on_bound(&rb, c, &b.u.relay_bound, ans, alen, RELAY_ADDR, RELAY_PORT,
				       24100));
	ASSERT_TRUE(rb.bound);
	ASSERT_TRUE(rb.peer_bound);
	TEST_DONE();

	TEST_START("bound: refreshed after 30 s, and at once when the SPIs change");
	ASSERT_INT_EQ(due(&rb, 54099, 9000, &m, raw, &len), 0);
	ASSERT_INT_EQ(due(&rb, 54100, 9000, &m, raw, &len), 1);
	spis[0] = 0x80000002;
	relaybind_spis(&rb, spis, 4, 55000);
	ASSERT_INT_EQ(due(&rb, 55000, 9000, &m, raw, &len), 1);
	ASSERT_INT_EQ(m.u.relay_bind.spi[0], 0x80000002);
	relaybind_spis(&rb, spis, 4, 55001); /* the same SPIs: nothing new to say */
	ASSERT_INT_EQ(due(&rb, 55001, 9000, &m, raw, &len), 0);
	TEST_DONE();

	TEST_START("E_EXPIRED: no more BINDs until a new grant; clear wipes the token");
	alen = bound(&g, m.u.relay_bind.seq, err_to_wire(E_EXPIRED), ans, &b);
	ASSERT_TRUE(relaybind_on_bound(&rb, c, &b.u.relay_bound, ans, alen, RELAY_ADDR, RELAY_PORT,
				       55100));
	ASSERT_TRUE(!rb.bound);
	ASSERT_INT_EQ(due(&rb, 100000, 9000, &m, raw, &len), 0);
	g.expiry += 3600;
	relaybind_grant(&rb, &g, SELF, 100000);
	ASSERT_INT_EQ(due(&rb, 100000, 9000, &m, raw, &len), 1);
	ASSERT_INT_EQ(m.u.relay_bind.expiry, g.expiry);
	ASSERT_TRUE(relaybind_is_relay(&rb, RELAY_ADDR, RELAY_PORT));
	relaybind_clear(&rb);
	ASSERT_TRUE(!relaybind_is_relay(&rb, RELAY_ADDR, RELAY_PORT));
	for (unsigned i = 0; i < sizeof(rb.g.token); i++)
		ASSERT_INT_EQ(rb.g.token[i], 0);
	TEST_DONE();
}

int
main(void)
{
	if ((c = crypto_new()) == NULL)
		return 1;
	test_bind();
	crypto_free(c);
	return test_finish();
}
