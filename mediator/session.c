/* SPDX-License-Identifier: MIT */
/*
 * The session state machine of one connection (PROTOCOL.md section 10):
 *
 *   HELO --HELO--> HELO_JOB --(DH on the pool)--> AUTH --AUTH/REGISTER--> AUTH_JOB
 *     --(verify, sign on the pool)--> ONLINE --requests--> ... --LOGOUT/close--> closed
 *
 * Each state accepts exactly one kind of frame; anything else ends the session with ERROR.
 * While a job runs the connection's input is paused, so no frame is ever read in a *_JOB
 * state. The login secrets live in struct login, which is wiped and freed once online.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/dh.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/pkt.h"
#include "common/pubkey.h"
#include "common/replay.h"
#include "common/sigdata.h"
#include "mediator/med.h"

struct login {
	struct pool_job job;
	struct conn *c;
	int result;
	uint8_t ni[WIRE_NONCE_LEN], nr[WIRE_NONCE_LEN];
	uint8_t gi[WIRE_DH_LEN], gr[WIRE_DH_LEN];
	struct session_keys keys;
	/* AUTH / REGISTER */
	bool reg;
	uint32_t identity;
	struct pubkey *newkey;	   /* REGISTER: the key sent, owned */
	const struct pubkey *key;  /* the key to verify with (borrowed) */
	const struct pubkey *skey; /* the server key (borrowed) */
	uint8_t sig[WIRE_SIG_MAX], ok_sig[WIRE_SIG_MAX];
	size_t sig_len, ok_sig_len;
	uint8_t nick[WIRE_NICK_MAX];
	size_t nick_len;
};

static const char *
peer_str(const struct conn *c)
{
	return inet_ntoa(c->peer.sin_addr);
}

static void
login_free(struct login *l)
{
	if (l == NULL)
		return;
	pubkey_free(l->newkey);
	wipe(l, sizeof(*l));
	free(l);
}

bool
session_busy(const struct conn *c)
{
	return c->state == CONN_HELO_JOB || c->state == CONN_AUTH_JOB;
}

static void
handshake_values(const struct login *l, struct handshake_values *v)
{
	v->suite = WIRE_SUITE_1;
	v->ni = l->ni;
	v->nr = l->nr;
	v->gi = l->gi;
	v->gr = l->gr;
}

/* Worker thread: the mediator's DH half and the session keys. */
static void
helo_run(struct pool_job *job, struct crypto *cr)
{
	struct login *l = container_of(job, struct login, job);
	uint8_t k[WIRE_DH_LEN];
	struct dh *dh;

	if ((dh = dh_generate()) == NULL) {
		l->result = E_CRYPTO;
		return;
	}
	dh_public(dh, l->gr);
	if ((l->result = crypto_random(l->nr, sizeof(l->nr))) == 0 &&
	    (l->result = dh_derive(dh, l->gi, k)) == 0)
		l->result = keymat_session(cr, k, l->ni, l->nr, &l->keys);
	wipe(k, sizeof(k));
	dh_free(dh);
}

/* Worker thread: the node's signature, then ours for AUTH OK. */
static void
auth_run(struct pool_job *job, struct crypto *cr)
{
	struct login *l = container_of(job, struct login, job);
	struct span parts[SIGDATA_MAX_PARTS];
	struct handshake_values v;
	size_t n;

	(void)cr;
	handshake_values(l, &v);
	n = sigdata_parts(SIGDATA_AUTH, &v, parts);
	if ((l->result = pubkey_verify(l->key, parts, n, l->sig, l->sig_len)) != 0)
		return;
	n = sigdata_parts(SIGDATA_AUTH_OK, &v, parts);
	l->result = pubkey_sign(l->skey, parts, n, l->ok_sig, sizeof(l->ok_sig), &l->ok_sig_len);
}

/* Loop thread, after a job: the conn may have closed meanwhile. */
static bool
job_back(struct med *m, struct login *l)
{
	struct conn *c = l->c;

	(void)m;
	c->jobs--;
	if (c->state == CONN_HELO_JOB || c->state == CONN_AUTH_JOB)
		return true;
	/* closed or closing (timeout, shutdown) meanwhile: the result is not wanted */
	c->login = NULL;
	login_free(l);
	return false;
}

static void
fail(struct med *m, struct conn *c, int code, const char *why)
{
	m->stats.login_failures++;
	log_ratelimited(LOG_LVL_INFO, "%s: login refused: %s%s%s", peer_str(c), err_str(code),
			why[0] ? ": " : "", why);
	conn_send_error(m, c, code, why);
}

static void
helo_done(struct pool_job *job)
{
	struct login *l = container_of(job, struct login, job);
	struct conn *c = l->c;
	struct med *m = c->med;
	struct msg msg = {.type = MSG_HELO_OK};

	if (!job_back(m, l))
		return;
	if (l->result != 0) {
		fail(m, c, l->result, "key agreement failed");
		return;
	}
	memcpy(msg.u.helo_ok.nr, l->nr, sizeof(l->nr));
	memcpy(msg.u.helo_ok.gr, l->gr, sizeof(l->gr));
	if (conn_send(m, c, &msg) != 0)
		return;
	c->keys = l->keys;
	c->state = CONN_AUTH;
	conn_resume(m, c);
}

static int
submit(struct med *m, struct conn *c, struct login *l, enum conn_state state,
       void (*run)(struct pool_job *, struct crypto *), void (*done)(struct pool_job *))
{
	int r;

	l->result = E_SHUTDOWN; /* until run() says otherwise: done() may come without run() */
	l->job.run = run;
	l->job.done = done;
	if ((r = pool_submit(m->pool, &l->job)) != 0) {
		m->stats.busy++;
		return r;
	}
	c->jobs++;
	c->state = state;
	c->paused = true;
	return 0;
}

static int
on_helo(struct med *m, struct conn *c, const uint8_t *f, size_t len)
{
	struct login *l;
	struct msg msg;
	int r;

	if (frame_tcp_is_clear(f, len) == false)
		return E_STATE;
	if ((r = frame_clear_decode(MSG_CH_CLEAR_C2S, f, len, &msg)) != 0)
		return r;
	if (msg.type != MSG_HELO)
		return E_STATE;
	if (!crypto_ct_equal(msg.u.helo.kfp, m->kfp, WIRE_KFP_LEN))
		return E_SERVERKEY;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return E_NOMEM;
	l->c = c;
	memcpy(l->ni, msg.u.helo.ni, sizeof(l->ni));
	memcpy(l->gi, msg.u.helo.gi, sizeof(l->gi));
	c->login = l;
	return submit(m, c, l, CONN_HELO_JOB, helo_run, helo_done);
}

/* Opens a protected frame from the node: the next message ID, a good MAC. */
static int
open_frame(struct med *m, struct conn *c, const uint8_t *f, size_t len, struct msg *msg)
{
	struct pkt_hdr hdr;
	uint32_t last = c->rx_last;
	size_t blen;
	int r;

	if (frame_tcp_is_clear(f, len))
		return E_STATE;
	if ((r = pkt_peek(f, len, &hdr)) != 0 || (r = replay_stream_accept(&last, hdr.msgid)) != 0)
		return r;
	if ((r = pkt_open_tcp(m->crypto, &c->keys.i2r, f, len, &hdr, m->body, WIRE_MSG_MAX + 16,
			      &blen)) != 0)
		return r;
	c->rx_last = last;
	return msg_decode(MSG_CH_SESSION_C2S, m->body, blen, msg);
}

static bool
token_ok(const struct med *m, const struct span *t)
{
	if (m->cfg.registration_open)
		return true;
	for (size_t i = 0; i < m->cfg.n_tokens; i++)
		if (strlen(m->cfg.tokens[i]) == t->len &&
		    crypto_ct_equal(m->cfg.tokens[i], t->p, t->len))
			return true;
	return false;
}

static int
auth_register(struct med *m, struct login *l, const struct msg_register *g)
{
	struct account *a;

	if (!token_ok(m, &g->token))
		return E_TOKEN;
	if ((l->newkey = pubkey_from_der(g->pubkey.p, g->pubkey.len)) == NULL)
		return E_KEY;
	l->reg = true;
	l->key = l->newkey;
	memcpy(l->sig, g->sig.p, g->sig.len);
	l->sig_len = g->sig.len;
	memcpy(l->nick, g->nick.p, g->nick.len);
	l->nick_len = g->nick.len;
	/* A key registered before keeps its account: a node whose AUTH OK was lost retries. */
	{
		uint8_t kfp[WIRE_KFP_LEN];

		if (pubkey_fingerprint(l->newkey, kfp) == 0 && (a = account_by_kfp(m, kfp)) != NULL)
			l->identity = a->id;
	}
	return 0;
}

static int
auth_login(struct med *m, struct login *l, const struct msg_auth *au)
{
	struct account *a = account_by_id(m, au->identity);

	if (a == NULL)
		return E_IDENTITY;
	l->identity = a->id;
	l->key = a->key;
	memcpy(l->sig, au->sig.p, au->sig.len);
	l->sig_len = au->sig.len;
	return 0;
}

static void auth_done(struct pool_job *job);

static int
on_auth(struct med *m, struct conn *c, const uint8_t *f, size_t len)
{
	struct login *l = c->login;
	struct msg msg;
	int r;

	if ((r = open_frame(m, c, f, len, &msg)) != 0)
		return r;
	if (msg.type == MSG_AUTH)
		r = auth_login(m, l, &msg.u.auth);
	else if (msg.type == MSG_REGISTER)
		r = auth_register(m, l, &msg.u.reg);
	else
		r = E_STATE;
	if (r != 0)
		return r;
	l->skey = m->key;
	return submit(m, c, l, CONN_AUTH_JOB, auth_run, auth_done);
}

/* A second login of the same account replaces the first session: the node reconnected
 * before the mediator noticed the old connection die. */
static void
replace_old(struct med *m, struct account *a)
{
	struct conn *old = a->conn;

	if (old == NULL)
		return;
	a->conn = NULL;
	old->acct = NULL;
	conn_send_error(m, old, E_REPLACED, "");
}

static int
bind_account(struct med *m, struct login *l, struct account **out)
{
	struct span nick = {l->nick, l->nick_len};
	struct account *a;
	int r;

	if (l->identity != 0) {
		*out = account_by_id(m, l->identity);
		return *out != NULL ? 0 : E_IDENTITY;
	}
	if ((r = account_create(m, l->newkey, &nick, &a)) != 0)
		return r;
	l->newkey = NULL; /* the account owns it */
	m->stats.registrations++;
	*out = a;
	return 0;
}

static int
send_auth_ok(struct med *m, struct conn *c, const struct login *l, uint32_t id)
{
	struct msg msg = {.type = MSG_AUTH_OK};

	msg.u.auth.identity = id;
	msg.u.auth.sig.p = l->ok_sig;
	msg.u.auth.sig.len = l->ok_sig_len;
	return conn_send(m, c, &msg);
}

static void
go_online(struct med *m, struct conn *c, struct account *a)
{
	replace_old(m, a);
	a->conn = c;
	c->acct = a;
	c->state = CONN_ONLINE;
	c->last_rx = m->now;
	m->stats.logins++;
	conn_established(m, c);
	log_debug("%s: %u.%u.%u.%u logged in", peer_str(c), a->id >> 24, (a->id >> 16) & 255,
		  (a->id >> 8) & 255, a->id & 255);
	presence_session(m, a);
	presence_sync(m, a);
	presence_account(m, a);
	broker_online(m, a);
	inbox_deliver(m, a);
}

static void
auth_done(struct pool_job *job)
{
	struct login *l = container_of(job, struct login, job);
	struct conn *c = l->c;
	struct med *m = c->med;
	struct account *a;
	int r;

	if (!job_back(m, l))
		return;
	c->login = NULL;
	if (l->result != 0) {
		fail(m, c, l->result, l->reg ? "registration signature" : "login signature");
	} else if ((r = bind_account(m, l, &a)) != 0) {
		fail(m, c, r, "cannot create the account");
	} else if (send_auth_ok(m, c, l, a->id) == 0) {
		go_online(m, c, a);
		conn_resume(m, c);
	}
	login_free(l);
}

static int
on_online(struct med *m, struct conn *c, const uint8_t *f, size_t len)
{
	struct msg msg;
	int r;

	if ((r = open_frame(m, c, f, len, &msg)) != 0)
		return r;
	switch (msg.type) {
	case MSG_PING: {
		struct msg pong = {.type = MSG_PONG};

		pong.u.ping.tag = msg.u.ping.tag;
		conn_send(m, c, &pong);
		return 0;
	}
	case MSG_PONG:
		return 0;
	case MSG_ERROR:
		c->lost = true;
		conn_close(m, c);
		return 0;
	default:
		return request_dispatch(m, c, &msg);
	}
}

/* One complete frame. A non-zero return ends the session: ERROR with that code, close. */
int
session_frame(struct med *m, struct conn *c, const uint8_t *f, size_t len)
{
	int r;

	switch (c->state) {
	case CONN_HELO:
		r = on_helo(m, c, f, len);
		break;
	case CONN_AUTH:
		r = on_auth(m, c, f, len);
		break;
	case CONN_ONLINE:
		r = on_online(m, c, f, len);
		break;
	default:
		r = E_STATE;
		break;
	}
	if (r != 0 && c->state < CONN_CLOSING) {
		m->stats.bad_frames++;
		c->lost = c->state == CONN_ONLINE;
		if (c->state != CONN_ONLINE)
			fail(m, c, r, "");
		else
			conn_send_error(m, c, r, "");
	}
	return 0;
}

/* The conn is closing: what its account's peers must hear. */
void
session_closed(struct med *m, struct conn *c)
{
	struct account *a = c->acct;

	if (c->login != NULL && c->jobs == 0) {
		login_free(c->login);
		c->login = NULL;
	}
	if (a == NULL)
		return;
	c->acct = NULL;
	a->conn = NULL;
	if (c->lost)
		broker_lost(m, a);
	else
		broker_logout(m, a);
	presence_account(m, a);
}
