/* SPDX-License-Identifier: MIT */
/*
 * Relay sessions, BINDs and the forwarding decision (table.h).
 *
 * Memory: a session is one allocation holding both sides and all their routes (at most
 * 2 x MSG_RELAY_SPIS_MAX), so binding never allocates beyond the session itself and freeing a
 * session removes every route that could point at it. Sessions sit on a list in the order of
 * their last activity, so expiry looks only at the ones that are due.
 *
 * Hashes: session ids are the mediator's random choice, but endpoints and SPIs are chosen by
 * whoever sends, so both maps are keyed with SipHash under a random key.
 */
#include "relay/table.h"

#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "mediator/hmap.h"
#include "mediator/list.h"
#include "relay/bucket.h"
#include "relay/srclimit.h"

enum {
	SRC_ENTRIES_MAX = 1 << 20, /* BIND-rate entries (authentic sources only) */
};

struct session;

/* One (source endpoint, dstSPI) pair: traffic from side `from` to side 1 - from. */
struct route {
	struct hmap_node node;
	struct session *s;
	uint64_t ep;
	uint32_t spi;
	uint8_t from;
	bool linked; /* in the route index */
};

struct side {
	uint64_t ep; /* 0: not bound */
	uint32_t identity, peer;
	uint64_t seq; /* of the last BIND accepted */
	uint8_t n;
	uint32_t spi[MSG_RELAY_SPIS_MAX];
	uint64_t pkts, bytes; /* forwarded from this side */
	/* (ep, each SPI of the other side): linked while both sides are bound */
	struct route out[MSG_RELAY_SPIS_MAX];
};

struct session {
	struct hmap_node node;
	struct list_node lru; /* t->lru, least recently active first */
	uint8_t id[MSG_RELAY_SESSION_LEN];
	uint64_t last_ms;
	struct bucket rate; /* bytes, both directions */
	struct side side[2];
};

/* How many sessions an identity holds a side in. */
struct idcount {
	struct hmap_node node;
	uint32_t identity;
	unsigned n;
};

struct relay_table {
	struct crypto *c;
	uint8_t secret[RELAY_SECRET_LEN];
	struct relay_limits lim;
	uint64_t key[2]; /* SipHash key of both maps */
	struct hmap sessions, routes, ids;
	struct list_head lru;
	size_t n_bound; /* sessions with both sides bound */
	struct srclimit *src;
	uint64_t now_ms, unix_s;
	struct relay_stats st;
};

/* What a BIND asks for, its SPIs without duplicates. */
struct bind_req {
	const struct msg_relay_bind *b;
	uint32_t spi[MSG_RELAY_SPIS_MAX];
	uint8_t n;
};

void
relay_limits_default(struct relay_limits *l)
{
	l->sessions = 65536;
	l->per_identity = 256;
	l->bind_rate = 20;
	l->bind_burst = 100;
	l->byte_rate = 100000000 / 8; /* 100 Mbit/s */
	l->byte_burst = 2 << 20;
	l->idle_ms = 120000; /* PROTOCOL.md 7.4 */
}

struct relay_table *
relay_table_new(const uint8_t secret[RELAY_SECRET_LEN], const struct relay_limits *lim)
{
	struct relay_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	memcpy(t->secret, secret, RELAY_SECRET_LEN);
	t->lim = *lim;
	list_init(&t->lru);
	if ((t->c = crypto_new()) == NULL || crypto_random(t->key, sizeof(t->key)) != 0 ||
	    hmap_init(&t->sessions) != 0 || hmap_init(&t->routes) != 0 || hmap_init(&t->ids) != 0 ||
	    (t->src = srclimit_new(lim->bind_rate, lim->bind_burst, SRC_ENTRIES_MAX)) == NULL) {
		relay_table_free(t);
		return NULL;
	}
	return t;
}

static void
free_session_node(struct hmap_node *n, void *arg)
{
	(void)arg;
	free(container_of(n, struct session, node));
}

static void
free_id_node(struct hmap_node *n, void *arg)
{
	(void)arg;
	free(container_of(n, struct idcount, node));
}

void
relay_table_free(struct relay_table *t)
{
	if (t == NULL)
		return;
	if (t->sessions.b != NULL)
		hmap_each(&t->sessions, free_session_node, NULL);
	if (t->ids.b != NULL)
		hmap_each(&t->ids, free_id_node, NULL);
	hmap_fini(&t->sessions);
	hmap_fini(&t->routes);
	hmap_fini(&t->ids);
	srclimit_free(t->src);
	crypto_free(t->c);
	wipe(t->secret, sizeof(t->secret));
	free(t);
}

void
relay_table_set_time(struct relay_table *t, uint64_t mono_ms, uint64_t unix_s)
{
	t->now_ms = mono_ms;
	t->unix_s = unix_s;
}

struct relay_stats *
relay_table_stats(struct relay_table *t)
{
	return &t->st;
}

/* --- lookups --- */

static uint64_t
session_hash(const struct relay_table *t, const uint8_t id[MSG_RELAY_SESSION_LEN])
{
	return hmap_siphash(t->key, id, MSG_RELAY_SESSION_LEN);
}

static struct session *
session_find(const struct relay_table *t, const uint8_t id[MSG_RELAY_SESSION_LEN])
{
	uint64_t h = session_hash(t, id);
	struct hmap_node *n;

	for (n = hmap_first(&t->sessions, h); n != NULL; n = hmap_next(n, h))
		if (memcmp(container_of(n, struct session, node)->id, id, MSG_RELAY_SESSION_LEN) ==
		    0)
			return container_of(n, struct session, node);
	return NULL;
}

static uint64_t
route_hash(const struct relay_table *t, uint64_t ep, uint32_t spi)
{
	uint8_t k[12];

	memcpy(k, &ep, sizeof(ep));
	memcpy(k + 8, &spi, sizeof(spi));
	return hmap_siphash(t->key, k, sizeof(k));
}

static struct route *
route_find(const struct relay_table *t, uint64_t ep, uint32_t spi)
{
	uint64_t h = route_hash(t, ep, spi);
	struct hmap_node *n;

	for (n = hmap_first(&t->routes, h); n != NULL; n = hmap_next(n, h)) {
		struct route *r = container_of(n, struct route, node);

		if (r->ep == ep && r->spi == spi)
			return r;
	}
	return NULL;
}

static struct idcount *
id_find(const struct relay_table *t, uint32_t identity)
{
	uint64_t h = hmap_mix64(identity);
	struct hmap_node *n;

	for (n = hmap_first(&t->ids, h); n != NULL; n = hmap_next(n, h))
		if (container_of(n, struct idcount, node)->identity == identity)
			return container_of(n, struct idcount, node);
	return NULL;
}

static unsigned
id_sessions(const struct relay_table *t, uint32_t identity)
{
	struct idcount *e = id_find(t, identity);

	return e != NULL ? e->n : 0;
}

static int
id_ref(struct relay_table *t, uint32_t identity)
{
	struct idcount *e = id_find(t, identity);

	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return E_NOMEM;
		e->identity = identity;
		hmap_insert(&t->ids, &e->node, hmap_mix64(identity));
	}
	e->n++;
	return 0;
}

static void
id_unref(struct relay_table *t, uint32_t identity)
{
	struct idcount *e = id_find(t, identity);

	if (e != NULL && --e->n == 0) {
		hmap_remove(&t->ids, &e->node);
		free(e);
	}
}

static bool
side_bound(const struct side *sd)
{
	return sd->ep != 0;
}

static bool
both_bound(const struct session *s)
{
	return side_bound(&s->side[0]) && side_bound(&s->side[1]);
}

/* --- routes --- */

static void
routes_unlink(struct relay_table *t, struct session *s)
{
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned i = 0; i < MSG_RELAY_SPIS_MAX; i++) {
			struct route *r = &s->side[d].out[i];

			if (r->linked)
				hmap_remove(&t->routes, &r->node);
			r->linked = false;
		}
	}
}

/* Links the routes the sides imply. bind_status() has made sure no key is taken; a key that
 * is anyway (a bug) stays unlinked, and relay_table_check() reports it. */
static void
routes_link(struct relay_table *t, struct session *s)
{
	if (!both_bound(s))
		return;
	for (unsigned d = 0; d < 2; d++) {
		const struct side *to = &s->side[1 - d];

		for (unsigned i = 0; i < to->n; i++) {
			struct route *r = &s->side[d].out[i];

			*r = (struct route){
				.s = s, .ep = s->side[d].ep, .spi = to->spi[i], .from = d};
			if (route_find(t, r->ep, r->spi) != NULL)
				continue;
			hmap_insert(&t->routes, &r->node, route_hash(t, r->ep, r->spi));
			r->linked = true;
		}
	}
}

/* --- sessions --- */

static void
touch(struct relay_table *t, struct session *s)
{
	s->last_ms = t->now_ms;
	list_del(&s->lru);
	list_add_tail(&t->lru, &s->lru);
}

static struct session *
session_new(struct relay_table *t, const uint8_t id[MSG_RELAY_SESSION_LEN])
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	memcpy(s->id, id, MSG_RELAY_SESSION_LEN);
	bucket_init(&s->rate, t->lim.byte_burst, t->now_ms);
	hmap_insert(&t->sessions, &s->node, session_hash(t, id));
	list_node_init(&s->lru);
	touch(t, s);
	t->st.sessions_new++;
	return s;
}

static void
session_free(struct relay_table *t, struct session *s)
{
	routes_unlink(t, s);
	if (both_bound(s))
		t->n_bound--;
	for (unsigned d = 0; d < 2; d++)
		if (side_bound(&s->side[d]))
			id_unref(t, s->side[d].identity);
	hmap_remove(&t->sessions, &s->node);
	list_del(&s->lru);
	free(s);
}

void
relay_table_expire(struct relay_table *t)
{
	while (!list_empty(&t->lru)) {
		struct session *s = container_of(t->lru.next, struct session, lru);

		if (s->last_ms + t->lim.idle_ms > t->now_ms)
			break;
		session_free(t, s);
		t->st.sessions_expired++;
	}
	srclimit_expire(t->src, t->now_ms);
}

/* --- BIND --- */

/* Would binding side d of s (NULL: a new session) as rq from ep route a key that another
 * session routes, or one key twice? */
static bool
spis_taken(const struct relay_table *t, const struct session *s, unsigned d,
	   const struct bind_req *rq, uint64_t ep)
{
	const struct side *o;

	if (s == NULL || !side_bound(&s->side[1 - d]))
		return false; /* no routes until both sides are bound */
	o = &s->side[1 - d];
	for (unsigned i = 0; i < o->n; i++) {
		const struct route *r = route_find(t, ep, o->spi[i]);

		if (r != NULL && r->s != s)
			return true;
	}
	for (unsigned j = 0; j < rq->n; j++) {
		const struct route *r = route_find(t, o->ep, rq->spi[j]);

		if (r != NULL && r->s != s)
			return true;
		for (unsigned i = 0; ep == o->ep && i < o->n; i++)
			if (o->spi[i] == rq->spi[j])
				return true; /* both sides on one endpoint, sharing an SPI */
	}
	return false;
}

/* Whether o is a session of the same two nodes as the BIND b (either orientation). */
static bool
same_pair(const struct session *o, const struct msg_relay_bind *b)
{
	for (unsigned d = 0; d < 2; d++) {
		const struct side *x = &o->side[d];

		if (side_bound(x) && !(x->identity == b->identity && x->peer == b->peer) &&
		    !(x->identity == b->peer && x->peer == b->identity))
			return false;
	}
	return true;
}

/* Frees the sessions of the same two nodes whose keys binding side d of s as rq from ep would
 * take: a newer valid grant of a tunnel replaces its older session. After a mediator restart
 * the peers hold grants for a new session while the old one still routes their endpoints and
 * SPIs; without this the new one would be refused (E_BUSY) for as long as traffic keeps the
 * old one alive. Only the holders of grants for those two identities can do it. */
static void
supersede(struct relay_table *t, const struct session *s, unsigned d, const struct bind_req *rq,
	  uint64_t ep)
{
	const struct side *o;
	const struct route *r;

	if (s == NULL || !side_bound(&s->side[1 - d]))
		return;
	o = &s->side[1 - d];
	for (unsigned i = 0; i < o->n; i++)
		if ((r = route_find(t, ep, o->spi[i])) != NULL && r->s != s &&
		    same_pair(r->s, rq->b)) {
			session_free(t, (struct session *)r->s);
			t->st.sessions_superseded++;
		}
	for (unsigned j = 0; j < rq->n; j++)
		if ((r = route_find(t, o->ep, rq->spi[j])) != NULL && r->s != s &&
		    same_pair(r->s, rq->b)) {
			session_free(t, (struct session *)r->s);
			t->st.sessions_superseded++;
		}
}

/* Do the identities of the BIND agree with what the session holds? */
static bool
identities_agree(const struct session *s, const struct msg_relay_bind *b)
{
	const struct side *sd, *o;

	if (s == NULL)
		return true;
	sd = &s->side[b->side];
	o = &s->side[1 - b->side];
	if (side_bound(sd) && (sd->identity != b->identity || sd->peer != b->peer))
		return false;
	return !side_bound(o) || (o->identity == b->peer && o->peer == b->identity);
}

static int
refuse(uint64_t *counter, int code)
{
	(*counter)++;
	return code;
}

/* The status of an authentic, fresh BIND: 0 (bind it) or the code RELAY BOUND carries, in
 * PROTOCOL.md's order. The rate is charged before the cheaper refusals so that a node cannot
 * probe the table faster than its allowance. An older session of the same two nodes that
 * holds its keys is freed first (supersede). */
static int
bind_status(struct relay_table *t, const struct relay_src *src, const struct bind_req *rq,
	    const struct session *s)
{
	const struct msg_relay_bind *b = rq->b;

	if (b->expiry < t->unix_s)
		return refuse(&t->st.bind_expired, E_EXPIRED);
	if (!srclimit_take(t->src, src->addr, t->now_ms))
		return refuse(&t->st.bind_rate, E_RATE);
	if (!identities_agree(s, b))
		return refuse(&t->st.bind_state, E_STATE);
	if ((s == NULL && t->sessions.n >= t->lim.sessions) ||
	    ((s == NULL || !side_bound(&s->side[b->side])) &&
	     id_sessions(t, b->identity) >= t->lim.per_identity))
		return refuse(&t->st.bind_full, E_BUSY);
	supersede(t, s, b->side, rq, src->ep);
	if (spis_taken(t, s, b->side, rq, src->ep))
		return refuse(&t->st.bind_busy, E_BUSY);
	return 0;
}

/* Binds side b->side of *sp (created if NULL) to src->ep with rq's SPIs. */
static int
bind_apply(struct relay_table *t, const struct relay_src *src, const struct bind_req *rq,
	   struct session **sp)
{
	const struct msg_relay_bind *b = rq->b;
	struct session *s = *sp;
	struct side *sd;
	bool was_bound;

	if (s == NULL && (s = session_new(t, b->session)) == NULL)
		return E_NOMEM;
	*sp = s;
	sd = &s->side[b->side];
	was_bound = side_bound(sd);
	if (!was_bound && id_ref(t, b->identity) != 0)
		return E_NOMEM;
	if (both_bound(s))
		t->n_bound--;
	routes_unlink(t, s);
	sd->ep = src->ep;
	sd->identity = b->identity;
	sd->peer = b->peer;
	sd->seq = b->seq;
	sd->n = rq->n;
	memcpy(sd->spi, rq->spi, sizeof(sd->spi));
	routes_link(t, s);
	if (both_bound(s))
		t->n_bound++;
	touch(t, s);
	return 0;
}

static void
bind_req_init(struct bind_req *rq, const struct msg_relay_bind *b)
{
	memset(rq, 0, sizeof(*rq));
	rq->b = b;
	for (unsigned i = 0; i < b->n && i < MSG_RELAY_SPIS_MAX; i++) {
		bool dup = false;

		for (unsigned j = 0; j < rq->n; j++)
			dup |= rq->spi[j] == b->spi[i];
		if (!dup)
			rq->spi[rq->n++] = b->spi[i];
	}
}

/* RELAY BOUND for b with status into out. */
static enum relay_verdict
answer(struct relay_table *t, const struct relay_src *src, const struct msg_relay_bind *b,
       const uint8_t token[MSG_RELAY_TOKEN_LEN], int status, const struct session *s,
       struct relay_out *out)
{
	struct msg m = {.type = MSG_RELAY_BOUND};
	struct msg_relay_bound *a = &m.u.relay_bound;

	memcpy(a->session, b->session, sizeof(a->session));
	a->side = b->side;
	a->seq = b->seq;
	a->status = err_to_wire(status);
	a->peer_bound = status == 0 && s != NULL && both_bound(s);
	a->addr = src->tcp ? 0 : src->addr;
	a->port = src->tcp ? 0 : src->port;
	if (relay_msg_seal(t->c, token, MSG_CH_RELAY_R2C, &m, out->msg, sizeof(out->msg),
			   &out->len) != 0)
		return RELAY_DROP;
	return RELAY_ANSWER;
}

/* A relay message: a BIND that passes the MAC and is fresh is answered (and bound if its
 * status is 0); anything else is dropped without an answer, as PROTOCOL.md says. */
static enum relay_verdict
on_message(struct relay_table *t, const struct relay_src *src, const uint8_t *p, size_t len,
	   struct relay_out *out)
{
	uint8_t token[MSG_RELAY_TOKEN_LEN];
	const struct msg_relay_bind *b;
	enum relay_verdict v = RELAY_DROP;
	struct bind_req rq;
	struct session *s;
	struct msg m;
	int status;

	if (relay_msg_open(MSG_CH_RELAY_C2R, p, len, &m) != 0 || m.type != MSG_RELAY_BIND) {
		t->st.msg_bad++;
		return RELAY_DROP;
	}
	b = &m.u.relay_bind;
	if (relay_token(t->c, t->secret, b->session, b->expiry, b->side, b->identity, b->peer,
			token) != 0) {
		t->st.msg_bad++;
		goto out;
	}
	if (relay_msg_check(t->c, token, p, len) != 0) {
		t->st.bind_bad_mac++;
		goto out;
	}
	s = session_find(t, b->session);
	if (s != NULL && side_bound(&s->side[b->side]) && b->seq <= s->side[b->side].seq) {
		t->st.bind_replay++;
		goto out;
	}
	bind_req_init(&rq, b);
	if ((status = bind_status(t, src, &rq, s)) == 0) {
		if ((status = bind_apply(t, src, &rq, &s)) != 0) {
			t->st.bind_full++;
			status = E_BUSY; /* out of memory: "no room" to the node */
		} else {
			t->st.bind_ok++;
		}
	}
	v = answer(t, src, b, token, status, s, out);
out:
	wipe(token, sizeof(token));
	return v;
}

/* --- forwarding --- */

static enum relay_verdict
forward(struct relay_table *t, const struct relay_src *src, uint32_t spi, size_t len,
	struct relay_out *out)
{
	struct route *r = route_find(t, src->ep, spi);
	struct session *s;

	if (r == NULL) {
		t->st.drop_no_route++;
		return RELAY_DROP;
	}
	s = r->s;
	if (t->lim.byte_rate != 0 &&
	    !bucket_take(&s->rate, t->lim.byte_rate, t->lim.byte_burst, len, t->now_ms)) {
		t->st.drop_rate++;
		return RELAY_DROP;
	}
	touch(t, s);
	s->side[r->from].pkts++;
	s->side[r->from].bytes += len;
	t->st.fwd_pkts++;
	t->st.fwd_bytes += len;
	out->dst = s->side[1 - r->from].ep;
	return RELAY_FORWARD;
}

enum relay_verdict
relay_table_input(struct relay_table *t, const struct relay_src *src, const uint8_t *p, size_t len,
		  struct relay_out *out)
{
	uint32_t spi = 0;

	if (src->ep == 0) { /* 0.0.0.0:0 would read as "not bound" */
		t->st.drop_invalid++;
		return RELAY_DROP;
	}
	switch (relay_classify(p, len, &spi)) {
	case RELAY_DATA:
	case RELAY_CONTROL:
		return forward(t, src, spi, len, out);
	case RELAY_MESSAGE:
		return on_message(t, src, p, len, out);
	case RELAY_INVALID:
	default:
		t->st.drop_invalid++;
		return RELAY_DROP;
	}
}

/* --- inspection --- */

void
relay_table_counts(const struct relay_table *t, struct relay_counts *c)
{
	c->sessions = t->sessions.n;
	c->bound = t->n_bound;
	c->routes = t->routes.n;
	c->identities = t->ids.n;
	c->sources = srclimit_count(t->src);
}

uint64_t
relay_table_endpoint(const struct relay_table *t, const uint8_t id[MSG_RELAY_SESSION_LEN],
		     unsigned side)
{
	const struct session *s = session_find(t, id);

	return s != NULL && side < 2 ? s->side[side].ep : 0;
}

struct check_arg {
	struct relay_table *t;
	size_t routes, bound, sides, bad;
};

/* One session: its routes are exactly what its sides imply, and each is the index's entry. */
static void
check_session(struct hmap_node *n, void *arg)
{
	struct check_arg *x = arg;
	struct session *s = container_of(n, struct session, node);

	if (session_find(x->t, s->id) != s || !list_linked(&s->lru))
		x->bad++;
	x->bound += both_bound(s);
	for (unsigned d = 0; d < 2; d++) {
		const struct side *from = &s->side[d], *to = &s->side[1 - d];

		x->sides += side_bound(from);
		if (side_bound(from) && id_sessions(x->t, from->identity) == 0)
			x->bad++;
		for (unsigned i = 0; i < MSG_RELAY_SPIS_MAX; i++) {
			const struct route *r = &from->out[i];
			bool want = both_bound(s) && i < to->n;

			if (r->linked != want)
				x->bad++;
			if (!r->linked)
				continue;
			x->routes++;
			if (r->s != s || r->from != d || r->ep != from->ep ||
			    r->spi != to->spi[i] || route_find(x->t, r->ep, r->spi) != r)
				x->bad++;
		}
	}
}

/* One index entry: it lives in a session the table still holds. */
static void
check_route(struct hmap_node *n, void *arg)
{
	struct check_arg *x = arg;
	struct route *r = container_of(n, struct route, node);

	if (!r->linked || session_find(x->t, r->s->id) != r->s)
		x->bad++;
}

static void
count_ids(struct hmap_node *n, void *arg)
{
	struct check_arg *x = arg;

	x->sides -= container_of(n, struct idcount, node)->n;
}

int
relay_table_check(struct relay_table *t)
{
	struct check_arg x = {.t = t};
	size_t lru = 0;

	for (struct list_node *n = t->lru.next; n != &t->lru; n = n->next)
		lru++;
	hmap_each(&t->sessions, check_session, &x);
	hmap_each(&t->routes, check_route, &x);
	hmap_each(&t->ids, count_ids, &x);
	if (x.bad != 0 || x.routes != t->routes.n || x.bound != t->n_bound || x.sides != 0 ||
	    lru != t->sessions.n)
		return E_STATE;
	return 0;
}
