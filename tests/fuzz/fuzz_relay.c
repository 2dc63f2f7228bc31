/* SPDX-License-Identifier: MIT */
/*
 * The relay's session table (relay/table.c, compiled in) driven by a script of operations:
 * raw datagrams, BINDs with valid MACs made with a fixed secret (so the fuzzer gets past the
 * MAC check and into binding, rebinding, refusals), forged and replayed BINDs, data packets
 * to a small set of SPIs, and the clock moving on with expiry. From a handful of source
 * endpoints (UDP and TCP), so sessions collide and endpoints move.
 *
 * After every operation: relay_table_check() (the route index equals what the sessions say,
 * nothing points at a freed session, counts agree), exactly one counter moved per datagram,
 * the verdict matches the counter, and a forward goes to an endpoint some source had.
 */
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "relay/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	UNIX0 = 1800000000,
	N_SRC = 6,
};

static const uint32_t ids[] = {0x64400001, 0x64400002, 0x64400003, 0x64400004};
static const uint32_t spis[] = {0x1001, 0x1002, 0x1003, 0x1004, 0x80000001, 0x80000002};

struct script {
	const uint8_t *p;
	size_t left;
};

static uint8_t
next(struct script *s)
{
	if (s->left == 0)
		return 0;
	s->left--;
	return *s->p++;
}

struct state {
	struct relay_table *t;
	struct crypto *c;
	uint8_t secret[RELAY_SECRET_LEN];
	struct relay_src src[N_SRC];
	uint64_t now_ms, inputs;
	uint8_t last[RELAY_MSG_MAX]; /* the last valid BIND, for replays */
	size_t last_len;
};

static uint64_t
counted(const struct relay_stats *st)
{
	return st->fwd_pkts + st->drop_invalid + st->drop_no_route + st->drop_rate + st->msg_bad +
	       st->bind_ok + st->bind_bad_mac + st->bind_replay + st->bind_expired + st->bind_rate +
	       st->bind_state + st->bind_busy + st->bind_full;
}

static uint64_t
answered(const struct relay_stats *st)
{
	return st->bind_ok + st->bind_expired + st->bind_rate + st->bind_state + st->bind_busy +
	       st->bind_full;
}

/* One datagram through the table, with the per-datagram invariants. */
static void
input(struct state *s, unsigned src, const uint8_t *p, size_t len)
{
	struct relay_stats before = *relay_table_stats(s->t), *after;
	struct relay_out out;
	enum relay_verdict v = relay_table_input(s->t, &s->src[src % N_SRC], p, len, &out);
	bool known = false;

	after = relay_table_stats(s->t);
	s->inputs++;
	if (counted(after) != s->inputs)
		abort();
	if ((v == RELAY_FORWARD) != (after->fwd_pkts == before.fwd_pkts + 1))
		abort();
	if ((v == RELAY_ANSWER) != (answered(after) == answered(&before) + 1))
		abort(); /* sealing a BOUND cannot fail, so every decided BIND is answered */
	for (unsigned i = 0; v == RELAY_FORWARD && i < N_SRC; i++)
		known |= out.dst == s->src[i].ep;
	if (v == RELAY_FORWARD && !known)
		abort();
	if (relay_table_check(s->t) != 0)
		abort();
}

/* A BIND with a valid MAC, its fields from the script. */
static void
valid_bind(struct state *s, struct script *sc, bool forge)
{
	uint8_t token[MSG_RELAY_TOKEN_LEN], d[RELAY_MSG_MAX];
	struct msg m = {.type = MSG_RELAY_BIND};
	struct msg_relay_bind *b = &m.u.relay_bind;
	uint8_t sess = next(sc), who = next(sc), src = next(sc), n = next(sc);
	size_t len;

	memset(b->session, sess % 4, sizeof(b->session));
	b->side = who & 1;
	b->identity = ids[(who >> 1) % 4];
	b->peer = ids[(who >> 3) % 4];
	if (b->peer == b->identity)
		b->peer = ids[((who >> 1) + 1) % 4];
	b->expiry = (uint32_t)(UNIX0 + s->now_ms / 1000 + (who & 0x20 ? 0 : 600)) - 1;
	b->seq = 1 + next(sc);
	b->n = (uint8_t)(1 + n % MSG_RELAY_SPIS_MAX);
	for (unsigned i = 0; i < b->n; i++)
		b->spi[i] = spis[((n >> 2) + i) % ARRAY_SIZE(spis)];
	if (relay_token(s->c, s->secret, b->session, b->expiry, b->side, b->identity, b->peer,
			token) != 0 ||
	    relay_msg_seal(s->c, token, MSG_CH_RELAY_C2R, &m, d, sizeof(d), &len) != 0)
		abort();
	if (forge)
		d[RELAY_MARK + next(sc) % (len - RELAY_MARK)] ^= (uint8_t)(1 + next(sc) % 255);
	else
		memcpy(s->last, d, (s->last_len = len));
	input(s, src, d, len);
}

static void
data(struct state *s, struct script *sc)
{
	uint8_t d[8 + 64] = {0}, src = next(sc), sel = next(sc);

	store_be32(d + ((sel & 0x80) ? 4 : 0), spis[sel % ARRAY_SIZE(spis)]);
	input(s, src, d, 8 + (sel & 0x3f));
}

static void
raw(struct state *s, struct script *sc)
{
	uint8_t src = next(sc);
	size_t len = next(sc);

	len = MIN(len, sc->left);
	input(s, src, sc->p, len);
	sc->p += len;
	sc->left -= len;
}

static void
tick(struct state *s, struct script *sc)
{
	s->now_ms += (uint64_t)next(sc) * 1000;
	relay_table_set_time(s->t, s->now_ms, UNIX0 + s->now_ms / 1000);
	relay_table_expire(s->t);
	if (relay_table_check(s->t) != 0)
		abort();
}

static void
setup(struct state *s, uint8_t mode)
{
	struct relay_limits lim;

	memset(s->secret, 0x5b, sizeof(s->secret));
	for (unsigned i = 0; i < N_SRC; i++) {
		s->src[i] = (struct relay_src){.addr = 0x0a000001 + (i & 1),
					       .port = (uint16_t)(1000 + i)};
		s->src[i].tcp = i >= 4;
		s->src[i].ep = s->src[i].tcp ? relay_ep_tcp(i)
					     : relay_ep_udp(s->src[i].addr, s->src[i].port);
	}
	relay_limits_default(&lim);
	if (mode & 1) { /* tight limits, so every refusal is reachable */
		lim.sessions = 2;
		lim.per_identity = 1;
		lim.bind_rate = 1;
		lim.bind_burst = 3;
		lim.byte_rate = 1000;
		lim.byte_burst = 200;
		lim.idle_ms = 5000;
	}
	s->now_ms = 1000;
	if ((s->c = crypto_new()) == NULL || (s->t = relay_table_new(s->secret, &lim)) == NULL)
		abort();
	relay_table_set_time(s->t, s->now_ms, UNIX0 + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t size)
{
	static struct state s;
	struct script sc = {p, size};

	memset(&s, 0, sizeof(s));
	setup(&s, next(&sc));
	while (sc.left > 0) {
		switch (next(&sc) % 6) {
		case 0:
			raw(&s, &sc);
			break;
		case 1:
			valid_bind(&s, &sc, false);
			break;
		case 2:
			valid_bind(&s, &sc, true);
			break;
		case 3:
			data(&s, &sc);
			break;
		case 4:
			tick(&s, &sc);
			break;
		default:
			if (s.last_len > 0)
				input(&s, next(&sc), s.last, s.last_len);
		}
	}
	relay_table_free(s.t);
	crypto_free(s.c);
	return 0;
}
