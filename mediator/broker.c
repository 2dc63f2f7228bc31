/* SPDX-License-Identifier: MIT */
/*
 * Tunnel brokering. Two nodes get a tunnel while they share a network in which both are
 * active members and online; the mediator picks a random SPI pair (each SPI unique among its
 * receiver's inbound SPIs) and sends each side TUNNEL: the peer's identity, key, both SPIs
 * and the peer's endpoint candidates.
 *
 * A tunnel record outlives a lost connection: the peers get PEER LOST and keep the tunnel
 * while they check its liveness; if the node returns within limits.lost_grace both sides get
 * TUNNEL again with the same SPIs (fresh endpoints), so a working tunnel is never torn down by
 * a mediator hiccup. It ends with TUNNEL DOWN when the nodes stop sharing an online network,
 * when a node logs out, or when the grace runs out.
 */
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "mediator/med.h"

static uint64_t
pair_hash(uint32_t a, uint32_t b)
{
	return hmap_mix64(a < b ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a);
}

static struct tunnel *
find(struct med *m, const struct account *a, const struct account *b)
{
	uint64_t h = pair_hash(a->id, b->id);
	struct hmap_node *n;

	for (n = hmap_first(&m->tunnels, h); n != NULL; n = hmap_next(n, h)) {
		struct tunnel *t = container_of(n, struct tunnel, by_pair);

		if ((t->a[0] == a && t->a[1] == b) || (t->a[0] == b && t->a[1] == a))
			return t;
	}
	return NULL;
}

/* Index of a in t. */
static int
side(const struct tunnel *t, const struct account *a)
{
	return t->a[0] == a ? 0 : 1;
}

/* The tunnel of a list node in account a's list. */
static struct tunnel *
of_node(const struct list_node *pos, const struct account *a)
{
	(void)a;
	return container_of(pos, struct tunnel_end, link)->t;
}

static bool
spi_used(const struct account *a, uint32_t spi)
{
	const struct list_node *pos;

	for (pos = a->tunnels.next; pos != &a->tunnels; pos = pos->next) {
		const struct tunnel *t = of_node(pos, a);

		if (t->spi[side(t, a)] == spi)
			return true;
	}
	return false;
}

/* An inbound SPI for a's side of a new tunnel: 1..0x7fffffff (nodes choose the SPIs of
 * rekeyed SAs themselves with the top bit set, so theirs and ours never collide), not avoid,
 * not one of a's tunnels. */
static int
new_spi(const struct account *a, uint32_t avoid, uint32_t *out)
{
	for (int tries = 0; tries < 64; tries++) {
		uint32_t spi;
		int r;

		if ((r = crypto_random(&spi, sizeof(spi))) != 0)
			return r;
		spi &= WIRE_SPI_MEDIATOR_MAX;
		if (spi != 0 && spi != avoid && !spi_used(a, spi)) {
			*out = spi;
			return 0;
		}
	}
	return E_FULL;
}

/* The relay grant of a[i]'s side, right after its TUNNEL (PROTOCOL.md, RELAY). A fresh expiry
 * each time; the session stays the tunnel's, so the relay keeps routing it. */
static void
send_relay(struct med *m, const struct tunnel *t, int i)
{
	const struct med_cfg *cfg = &m->cfg;
	struct msg msg = {.type = MSG_RELAY};
	struct msg_relay *g = &msg.u.relay;

	if (cfg->relay_addr == 0 || !account_online(t->a[i]))
		return;
	g->peer = t->a[1 - i]->id;
	memcpy(g->session, t->relay_session, sizeof(g->session));
	g->expiry = (uint32_t)(m->now + (time_t)cfg->relay_grant_s);
	g->side = (uint8_t)i;
	g->addr = cfg->relay_addr;
	g->udp_port = (uint16_t)cfg->relay_udp_port;
	g->tcp_port = (uint16_t)cfg->relay_tcp_port;
	if (relay_token(m->crypto, cfg->relay_secret, g->session, g->expiry, g->side, t->a[i]->id,
			g->peer, g->token) != 0) {
		log_err("relay grant: token failed");
		return;
	}
	conn_send(m, t->a[i]->conn, &msg);
	wipe(g->token, sizeof(g->token));
}

static void
send_tunnel(struct med *m, const struct tunnel *t, int i)
{
	const struct account *peer = t->a[1 - i];
	struct msg msg = {.type = MSG_TUNNEL};
	struct msg_tunnel *tm = &msg.u.tunnel;

	if (!account_online(t->a[i]))
		return;
	tm->peer = peer->id;
	tm->my_spi = t->spi[i];
	tm->peer_spi = t->spi[1 - i];
	tm->peer_nat = peer->cands.nat;
	tm->pubkey.p = peer->der;
	tm->pubkey.len = peer->der_len;
	tm->n = peer->cands.n;
	for (unsigned int k = 0; k < peer->cands.n; k++)
		tm->cand[k] = peer->cands.cand[k];
	if (peer->cands.have_observed)
		tm->cand[tm->n++] = peer->cands.observed;
	conn_send(m, t->a[i]->conn, &msg);
	send_relay(m, t, i);
}

static void
send_peer(struct med *m, struct account *to, uint16_t type, uint32_t peer, uint8_t reason)
{
	struct msg msg = {.type = type};

	if (!account_online(to))
		return;
	msg.u.peer.peer = peer;
	msg.u.peer.reason = reason;
	conn_send(m, to->conn, &msg);
}

static void
create(struct med *m, struct account *a, struct account *b)
{
	struct tunnel *t = calloc(1, sizeof(*t));

	if (t == NULL || new_spi(a, 0, &t->spi[0]) != 0 || new_spi(b, t->spi[0], &t->spi[1]) != 0 ||
	    crypto_random(t->relay_session, sizeof(t->relay_session)) != 0) {
		log_err("cannot broker a tunnel: out of memory or SPIs");
		free(t);
		return;
	}
	t->a[0] = a;
	t->a[1] = b;
	t->end[0].t = t->end[1].t = t;
	list_add_tail(&a->tunnels, &t->end[0].link);
	list_add_tail(&b->tunnels, &t->end[1].link);
	hmap_insert(&m->tunnels, &t->by_pair, pair_hash(a->id, b->id));
	send_tunnel(m, t, 0);
	send_tunnel(m, t, 1);
}

static void
teardown(struct med *m, struct tunnel *t, uint8_t reason)
{
	send_peer(m, t->a[0], MSG_TUNNEL_DOWN, t->a[1]->id, reason);
	send_peer(m, t->a[1], MSG_TUNNEL_DOWN, t->a[0]->id, reason);
	list_del(&t->end[0].link);
	list_del(&t->end[1].link);
	hmap_remove(&m->tunnels, &t->by_pair);
	free(t);
}

/* Whether a and b share a network where both are active and online; *member_only tells if
 * they share one at all (then a missing tunnel is a presence matter, not a membership one). */
bool
broker_shares(const struct account *a, const struct account *b, bool *member_only)
{
	const struct list_node *pos;

	*member_only = false;
	for (pos = a->members.next; pos != &a->members; pos = pos->next) {
		const struct member *ma = container_of(pos, struct member, acct_link);
		const struct member *mb = network_member(ma->net, b);

		if (!member_active(ma) || mb == NULL || !member_active(mb))
			continue;
		*member_only = true;
		if (ma->online && mb->online)
			return true;
	}
	return false;
}

static void
drop_stale(struct med *m, struct account *a)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &a->tunnels)
	{
		struct tunnel *t = of_node(pos, a);
		bool member_only;

		if (!broker_shares(a, t->a[1 - side(t, a)], &member_only))
			teardown(m, t, member_only ? DOWN_PEER_OFFLINE : DOWN_NO_SHARED_NETWORK);
	}
}

static void
add_missing(struct med *m, struct account *a)
{
	struct list_node *pos;

	for (pos = a->members.next; pos != &a->members; pos = pos->next) {
		struct member *ma = container_of(pos, struct member, acct_link);
		const struct network *n = ma->net;

		if (!member_active(ma) || !ma->online)
			continue;
		for (unsigned int i = 0; i < n->n_members; i++) {
			struct member *y = n->members[i];

			if (y->acct != a && member_active(y) && y->online &&
			    account_online(y->acct) && find(m, a, y->acct) == NULL)
				create(m, a, y->acct);
		}
	}
}

/* Brings a's tunnels in line with its memberships: drops those without a shared online
 * network, creates the missing ones with online peers. */
void
broker_refresh(struct med *m, struct account *a)
{
	drop_stale(m, a);
	if (account_online(a))
		add_missing(m, a);
}

/* a logged in: its surviving tunnels are confirmed to both sides with the same SPIs. */
void
broker_online(struct med *m, struct account *a)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &a->tunnels)
	{
		struct tunnel *t = of_node(pos, a);

		t->lost_since = 0;
		send_tunnel(m, t, 0);
		send_tunnel(m, t, 1);
	}
	broker_refresh(m, a);
}

void
broker_lost(struct med *m, struct account *a)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &a->tunnels)
	{
		struct tunnel *t = of_node(pos, a);

		if (t->lost_since == 0)
			t->lost_since = m->now;
		send_peer(m, t->a[1 - side(t, a)], MSG_PEER_LOST, a->id, 0);
	}
}

void
broker_logout(struct med *m, struct account *a)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &a->tunnels) teardown(m, of_node(pos, a), DOWN_PEER_OFFLINE);
}

/* a reported new endpoints: its online peers hear them. */
void
broker_endpoints(struct med *m, struct account *a)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &a->tunnels)
	{
		struct tunnel *t = of_node(pos, a);

		send_tunnel(m, t, 1 - side(t, a));
	}
}

struct tick_arg {
	struct med *m;
};

static void
expire(struct hmap_node *node, void *arg)
{
	struct med *m = ((struct tick_arg *)arg)->m;
	struct tunnel *t = container_of(node, struct tunnel, by_pair);

	if (t->lost_since == 0 || m->now - t->lost_since <= (time_t)m->cfg.lost_grace)
		return;
	if (account_online(t->a[0]) && account_online(t->a[1])) {
		t->lost_since = 0;
		return;
	}
	teardown(m, t, DOWN_PEER_OFFLINE);
}

void
broker_tick(struct med *m)
{
	struct tick_arg arg = {m};

	hmap_each(&m->tunnels, expire, &arg);
}
