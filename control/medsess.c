/* SPDX-License-Identifier: MIT */
/* buri-control's session with the mediator (medsess.h). */
#include "control/medsess.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/dh.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/keymat.h"
#include "common/log.h"
#include "common/pkt.h"
#include "common/replay.h"
#include "common/sigdata.h"
#include "common/sockio.h"
#include "common/tlsctx.h"

enum {
	IN_CAP = WIRE_TCP_SIZE_MAX + 4,	      /* one whole frame of the largest size */
	OPEN_CAP = WIRE_MSG_MAX + WIRE_BLOCK, /* a decrypted body with its padding */
	OUT_MAX = 1 << 20,		      /* queued output beyond this: the session is stuck */
	CONNECT_MS = 5000,
	LOGIN_MS = 10000,
	PING_CHECK_MS = 5000,
	PING_IDLE_MS = 20000, /* our PING after this much silence */
	DEAD_MS = 45000,      /* the session is lost after this much silence */
	BACKOFF_MIN_MS = 1000,
	BACKOFF_MAX_MS = 30000,
	PENDING_MAX = 256,
	LOGOUT_MS = 2000,
	PROBE_MS = 2000, /* while backing off: a bare TCP connect this often */
};

enum phase {
	P_IDLE,	   /* no connection */
	P_CONNECT, /* TCP connect in progress */
	P_TLS,	   /* TLS handshake */
	P_HELO,	   /* HELO sent, waiting for HELO OK */
	P_AUTH,	   /* AUTH or REGISTER sent, waiting for AUTH OK */
	P_ONLINE,
};

struct pending {
	uint32_t tag;
	medsess_result_fn *fn;
	void *arg;
	bool logout;
};

/* The login's values, for both signatures. */
struct hs {
	struct dh *dh;
	uint8_t ni[WIRE_NONCE_LEN], nr[WIRE_NONCE_LEN];
	uint8_t gi[WIRE_DH_LEN], gr[WIRE_DH_LEN];
};

struct medsess {
	struct medsess_params p;
	char host[256], nick[WIRE_NICK_MAX + 1], token[WIRE_TOKEN_MAX + 1];
	uint8_t kfp[WIRE_KFP_LEN];
	uint32_t identity;
	enum medsess_state state;
	bool want;	 /* started: reconnect after losses */
	bool tls;	 /* the current attempt's transport */
	bool prefer_tls; /* the last successful one */
	bool stopping;	 /* LOGOUT sent */
	enum phase phase;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	uint8_t *in, *scratch, *out;
	size_t in_len, out_len;
	bool write_wants_read;
	struct hs hs;
	struct session_keys keys;
	bool have_keys;
	uint32_t tx_ctr, rx_last, tag;
	struct pending pend[PENDING_MAX];
	unsigned npend;
	struct loop_timer timer;   /* connect and login deadlines; the reconnect wait */
	struct loop_timer ping_t;  /* silence checks while online */
	struct loop_timer probe_t; /* while backing off: is the mediator back? */
	int probe_fd;
	uint64_t last_rx;
	bool ping_out;
	unsigned backoff_ms;
	struct medsess_info info;
};

static void attempt(struct medsess *ms);
static void on_io(void *arg, uint32_t events);
static void on_probe_timer(void *arg);

/* --- state and failure --- */

static void
set_state(struct medsess *ms, enum medsess_state st, const char *why)
{
	if (st != ms->state) {
		ms->state = st;
		ms->info.state = st;
		ms->info.since = (uint64_t)time(NULL);
		if (ms->p.on_state != NULL)
			ms->p.on_state(ms->p.arg, st, why);
	}
}

static void
hs_clear(struct medsess *ms)
{
	dh_free(ms->hs.dh);
	wipe(&ms->hs, sizeof(ms->hs));
	wipe(&ms->keys, sizeof(ms->keys));
	ms->have_keys = false;
}

/* Ends the connection; every pending request gets E_IO. */
static void
close_conn(struct medsess *ms)
{
	struct pending pend[PENDING_MAX];
	unsigned n = ms->npend;

	if (ms->fd >= 0) {
		loop_fd_del(ms->p.l, ms->fd);
		if (ms->ssl != NULL)
			SSL_shutdown(ms->ssl);
		close(ms->fd);
	}
	SSL_free(ms->ssl);
	ms->ssl = NULL;
	ms->fd = -1;
	ms->phase = P_IDLE;
	ms->in_len = ms->out_len = 0;
	ms->tx_ctr = ms->rx_last = 0;
	ms->ping_out = false;
	hs_clear(ms);
	loop_timer_cancel(ms->p.l, &ms->timer);
	loop_timer_cancel(ms->p.l, &ms->ping_t);
	/* callbacks may make new requests: they fail at once, not into this list */
	memcpy(pend, ms->pend, n * sizeof(pend[0]));
	ms->npend = 0;
	for (unsigned i = 0; i < n; i++)
		if (pend[i].fn != NULL)
			pend[i].fn(pend[i].arg, E_IO, "the mediator session ended");
}

static void on_timer(void *arg);

/* The session is over (reason why, code): retry after the backoff if still wanted. */
static void __attribute__((format(printf, 3, 4)))
fail(struct medsess *ms, int code, const char *fmt, ...)
{
	bool was_online = ms->phase == P_ONLINE;
	uint32_t jitter = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ms->info.last_error, sizeof(ms->info.last_error), fmt, ap);
	va_end(ap);
	(void)code;
	close_conn(ms);
	ms->info.failures++;
	if (!ms->want || ms->stopping) {
		ms->stopping = false;
		ms->want = false;
		set_state(ms, MEDSESS_STOPPED, ms->info.last_error);
		return;
	}
	if (was_online)
		log_warn("mediator session lost: %s", ms->info.last_error);
	set_state(ms, MEDSESS_CONNECTING, ms->info.last_error);
	if (crypto_random(&jitter, sizeof(jitter)) != 0)
		jitter = (uint32_t)loop_now(ms->p.l);
	/* +-20 %: nodes that lost one mediator together do not return in lockstep */
	loop_timer_in(ms->p.l, &ms->timer,
		      ms->backoff_ms * 4 / 5 + jitter % (ms->backoff_ms * 2 / 5 + 1));
	if (ms->backoff_ms > PROBE_MS)
		loop_timer_in(ms->p.l, &ms->probe_t, PROBE_MS / 2 + jitter % PROBE_MS);
	ms->backoff_ms = MIN(ms->backoff_ms * 2, (unsigned)BACKOFF_MAX_MS);
}

/*
 * Reachability probes. The backoff spaces out logins, which cost the mediator a DH and an RSA
 * signature; between them a bare TCP connect (no bytes sent) checks every PROBE_MS whether the
 * mediator is back, so a node returns within seconds of the mediator's restart instead of
 * waiting out a 30 s backoff, at the price of a SYN and an accept.
 */
static void
probe_close(struct medsess *ms)
{
	if (ms->probe_fd >= 0) {
		loop_fd_del(ms->p.l, ms->probe_fd);
		close(ms->probe_fd);
		ms->probe_fd = -1;
	}
}

static void
on_probe_io(void *arg, uint32_t events)
{
	struct medsess *ms = arg;
	int err = 0;
	socklen_t el = sizeof(err);

	(void)events;
	if (getsockopt(ms->probe_fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	probe_close(ms);
	if (err == 0 && ms->phase == P_IDLE && ms->want) { /* it answers: log in now */
		loop_timer_cancel(ms->p.l, &ms->timer);
		ms->tls = ms->prefer_tls;
		attempt(ms);
		return;
	}
	loop_timer_in(ms->p.l, &ms->probe_t, PROBE_MS);
}

static void
on_probe_timer(void *arg)
{
	struct medsess *ms = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET};

	probe_close(ms);
	if (ms->phase != P_IDLE || !ms->want || ms->info.server_addr == 0)
		return;
	sa.sin_addr.s_addr = htonl(ms->info.server_addr);
	sa.sin_port = htons(ms->prefer_tls ? ms->p.tls_port : ms->p.port);
	ms->probe_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ms->probe_fd < 0 ||
	    (connect(ms->probe_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	     errno != EINPROGRESS) ||
	    loop_fd_add(ms->p.l, ms->probe_fd, EPOLLOUT, on_probe_io, ms) != 0) {
		probe_close(ms);
		loop_timer_in(ms->p.l, &ms->probe_t, PROBE_MS);
		return;
	}
	/* a probe that hangs (packets dropped) is abandoned at the next tick */
	loop_timer_in(ms->p.l, &ms->probe_t, PROBE_MS);
}

/* --- output --- */

static void
want_events(struct medsess *ms)
{
	uint32_t ev = EPOLLIN;

	if (ms->out_len > 0 && !ms->write_wants_read)
		ev |= EPOLLOUT;
	(void)loop_fd_mod(ms->p.l, ms->fd, ev);
}

/* Writes what it can; false if the connection failed (fail() already called). */
static bool
flush_out(struct medsess *ms)
{
	while (ms->out_len > 0) {
		ssize_t n =
			sockio_write(ms->fd, ms->ssl, ms->out, ms->out_len, &ms->write_wants_read);

		if (n == SOCKIO_AGAIN)
			break;
		if (n == SOCKIO_FAIL) {
			fail(ms, E_IO, "connection to the mediator failed while writing");
			return false;
		}
		memmove(ms->out, ms->out + n, ms->out_len - (size_t)n);
		ms->out_len -= (size_t)n;
		ms->write_wants_read = false;
	}
	want_events(ms);
	return true;
}

static int
queue_out(struct medsess *ms, const uint8_t *p, size_t len)
{
	if (ms->out_len + len > OUT_MAX)
		return E_NOSPACE;
	memcpy(ms->out + ms->out_len, p, len);
	ms->out_len += len;
	return 0;
}

/* One message, as a cleartext frame before the keys exist, sealed after. */
static int
send_msg(struct medsess *ms, const struct msg *m)
{
	uint8_t frame[IN_CAP], iv[WIRE_IV_LEN];
	size_t blen, len;
	uint32_t id;
	int r;

	if (!ms->have_keys)
		r = frame_clear_encode(MSG_CH_CLEAR_C2S, m, frame, sizeof(frame), &len);
	else if ((r = msg_encode(MSG_CH_SESSION_C2S, m, ms->scratch, OPEN_CAP, &blen)) == 0 &&
		 (r = msgid_next(&ms->tx_ctr, &id)) == 0 &&
		 (r = crypto_random(iv, sizeof(iv))) == 0)
		r = pkt_seal_tcp(ms->p.c, &ms->keys.i2r, id, iv, ms->scratch, blen, frame,
				 sizeof(frame), &len);
	if (r == 0)
		r = queue_out(ms, frame, len);
	return r;
}

/* --- login --- */

static void
hs_values(const struct hs *h, struct handshake_values *v)
{
	*v = (struct handshake_values){WIRE_SUITE_1, h->ni, h->nr, h->gi, h->gr};
}

static int
helo_send(struct medsess *ms)
{
	struct msg m = {.type = MSG_HELO};
	int r;

	hs_clear(ms);
	if ((ms->hs.dh = dh_generate()) == NULL)
		return E_CRYPTO;
	if ((r = crypto_random(ms->hs.ni, sizeof(ms->hs.ni))) != 0)
		return r;
	dh_public(ms->hs.dh, ms->hs.gi);
	m.u.helo.suite = WIRE_SUITE_1;
	memcpy(m.u.helo.kfp, ms->kfp, WIRE_KFP_LEN);
	memcpy(m.u.helo.ni, ms->hs.ni, WIRE_NONCE_LEN);
	memcpy(m.u.helo.gi, ms->hs.gi, WIRE_DH_LEN);
	return send_msg(ms, &m);
}

static void
start_login(struct medsess *ms)
{
	int r;

	if ((r = helo_send(ms)) != 0) {
		fail(ms, r, "cannot start the login: %s", err_str(r));
		return;
	}
	ms->phase = P_HELO;
	loop_timer_in(ms->p.l, &ms->timer, LOGIN_MS);
	(void)flush_out(ms);
}

/* HELO OK: K, the keys, then AUTH or REGISTER signed over the handshake values. */
static int
on_helo_ok(struct medsess *ms, const struct msg_helo_ok *ok)
{
	struct span parts[SIGDATA_MAX_PARTS];
	struct handshake_values v;
	uint8_t k[WIRE_DH_LEN], sig[WIRE_SIG_MAX], der[WIRE_PUBKEY_MAX];
	struct msg m;
	size_t siglen, derlen, n;
	int r;

	memcpy(ms->hs.nr, ok->nr, WIRE_NONCE_LEN);
	memcpy(ms->hs.gr, ok->gr, WIRE_DH_LEN);
	if ((r = dh_derive(ms->hs.dh, ms->hs.gr, k)) == 0)
		r = keymat_session(ms->p.c, k, ms->hs.ni, ms->hs.nr, &ms->keys);
	wipe(k, sizeof(k));
	dh_free(ms->hs.dh);
	ms->hs.dh = NULL;
	if (r != 0)
		return r;
	ms->have_keys = true;
	hs_values(&ms->hs, &v);
	n = sigdata_parts(SIGDATA_AUTH, &v, parts);
	if ((r = pubkey_sign(ms->p.key, parts, n, sig, sizeof(sig), &siglen)) != 0)
		return r;
	memset(&m, 0, sizeof(m));
	if (ms->identity != 0) {
		m.type = MSG_AUTH;
		m.u.auth.identity = ms->identity;
		m.u.auth.sig = (struct span){sig, siglen};
	} else {
		if ((r = pubkey_to_der(ms->p.key, der, sizeof(der), &derlen)) != 0)
			return r;
		m.type = MSG_REGISTER;
		m.u.reg.pubkey = (struct span){der, derlen};
		m.u.reg.nick = (struct span){(const uint8_t *)ms->nick, strlen(ms->nick)};
		m.u.reg.token = (struct span){(const uint8_t *)ms->token, strlen(ms->token)};
		m.u.reg.sig = (struct span){sig, siglen};
	}
	if ((r = send_msg(ms, &m)) != 0)
		return r;
	ms->phase = P_AUTH;
	return 0;
}

static void
on_ping_timer(void *arg)
{
	struct medsess *ms = arg;
	uint64_t quiet = loop_now(ms->p.l) - ms->last_rx;

	if (quiet >= DEAD_MS) {
		fail(ms, E_TIMEOUT, "the mediator was silent for %u s", DEAD_MS / 1000);
		return;
	}
	if (quiet >= PING_IDLE_MS && !ms->ping_out) {
		struct msg m = {.type = MSG_PING};

		m.u.ping.tag = ++ms->tag; /* PONG echoes it; not a pending request */
		if (send_msg(ms, &m) == 0)
			ms->ping_out = true;
		if (!flush_out(ms))
			return;
	}
	loop_timer_in(ms->p.l, &ms->ping_t, PING_CHECK_MS);
}

/* AUTH OK with the mediator's signature: online. */
static int
on_auth_ok(struct medsess *ms, const struct msg_auth *a)
{
	struct span parts[SIGDATA_MAX_PARTS];
	struct handshake_values v;
	size_t n;
	int r;

	hs_values(&ms->hs, &v);
	n = sigdata_parts(SIGDATA_AUTH_OK, &v, parts);
	if ((r = pubkey_verify(ms->p.server_key, parts, n, a->sig.p, a->sig.len)) != 0) {
		log_err("the mediator at %s did not prove it holds the pinned key (AUTH OK "
			"signature): a substituted server? not logging in",
			ms->host);
		return r;
	}
	if (ms->identity != 0 && a->identity != ms->identity)
		return E_IDENTITY;
	if (ms->identity == 0) {
		ms->identity = a->identity;
		if (ms->p.on_registered != NULL)
			ms->p.on_registered(ms->p.arg, a->identity);
	}
	wipe(&ms->hs, sizeof(ms->hs));
	ms->phase = P_ONLINE;
	ms->prefer_tls = ms->tls;
	ms->backoff_ms = BACKOFF_MIN_MS;
	ms->info.logins++;
	ms->info.last_error[0] = '\0';
	loop_timer_cancel(ms->p.l, &ms->timer);
	loop_timer_in(ms->p.l, &ms->ping_t, PING_CHECK_MS);
	log_info("logged in to the mediator %s:%u over %s as " IP4_FMT, ms->host,
		 ms->info.server_port, ms->tls ? "TLS" : "TCP", IP4_ARG(ms->identity));
	set_state(ms, MEDSESS_ONLINE, "logged in");
	return 0;
}

/* --- input --- */

static void
copy_text(const struct span *s, char *out, size_t cap)
{
	size_t n = MIN(s->len, cap - 1);

	memcpy(out, s->p, n);
	out[n] = '\0';
}

static int
on_result(struct medsess *ms, const struct msg_result *res)
{
	char text[WIRE_TEXT_MAX + 1];

	for (unsigned i = 0; i < ms->npend; i++) {
		struct pending p = ms->pend[i];

		if (p.tag != res->tag)
			continue;
		ms->pend[i] = ms->pend[--ms->npend];
		copy_text(&res->text, text, sizeof(text));
		if (p.fn != NULL)
			p.fn(p.arg, -(int)res->status, text);
		if (p.logout) {
			ms->stopping = true;
			fail(ms, 0, "logged out");
			return 1; /* the connection is gone */
		}
		return 0;
	}
	return 0; /* an answer to nothing we asked: ignored */
}

/* A message in P_ONLINE; 1 if the connection is gone. */
static int
online_msg(struct medsess *ms, const struct msg *m)
{
	struct msg pong = {.type = MSG_PONG};

	switch (m->type) {
	case MSG_RESULT:
		return on_result(ms, &m->u.result);
	case MSG_PING:
		pong.u.ping.tag = m->u.ping.tag;
		return send_msg(ms, &pong) == 0 ? 0 : E_NOSPACE;
	case MSG_PONG:
		ms->ping_out = false;
		return 0;
	default:
		if (ms->p.on_msg != NULL)
			ms->p.on_msg(ms->p.arg, m);
		return 0;
	}
}

static int
error_code(const struct msg *m)
{
	return m->u.error.status != 0 ? -(int)m->u.error.status : E_PROTOCOL;
}

/* A whole frame f[0..len); 1 if the connection is gone, else 0 or a failed check's code. */
static int
on_frame(struct medsess *ms, const uint8_t *f, size_t len)
{
	struct pkt_hdr hdr;
	uint32_t last = ms->rx_last;
	struct msg m;
	size_t blen;
	int r;

	if (frame_tcp_is_clear(f, len)) {
		if (ms->have_keys || ms->phase != P_HELO)
			return E_STATE;
		if ((r = frame_clear_decode(MSG_CH_CLEAR_S2C, f, len, &m)) != 0)
			return r;
		if (m.type == MSG_ERROR)
			return error_code(&m);
		return m.type == MSG_HELO_OK ? on_helo_ok(ms, &m.u.helo_ok) : E_STATE;
	}
	if (!ms->have_keys)
		return E_STATE;
	if ((r = pkt_peek(f, len, &hdr)) != 0 ||
	    (r = replay_stream_accept(&last, hdr.msgid)) != 0 ||
	    (r = pkt_open_tcp(ms->p.c, &ms->keys.r2i, f, len, &hdr, ms->scratch, OPEN_CAP,
			      &blen)) != 0)
		return r;
	ms->rx_last = last;
	if ((r = msg_decode(MSG_CH_SESSION_S2C, ms->scratch, blen, &m)) != 0)
		return r;
	if (m.type == MSG_ERROR)
		return error_code(&m);
	if (ms->phase == P_AUTH)
		return m.type == MSG_AUTH_OK ? on_auth_ok(ms, &m.u.auth) : E_STATE;
	return online_msg(ms, &m);
}

static const char *
refusal(int code)
{
	switch (code) {
	case E_SERVERKEY:
		return " (the mediator does not hold the pinned key: wrong mediator.key, or a "
		       "substituted server)";
	case E_IDENTITY:
		return " (the mediator has no account for this node's identity)";
	case E_SIGNATURE:
		return " (our signature was refused)";
	default:
		return "";
	}
}

/* Handles every complete frame in the input buffer; false if the connection is gone. */
static bool
frames(struct medsess *ms)
{
	while (ms->in_len >= 4) {
		size_t total;
		int r;

		if ((r = frame_tcp_total(ms->in, &total)) != 0) {
			fail(ms, r, "bad frame from the mediator: %s", err_str(r));
			return false;
		}
		if (ms->in_len < total)
			return true;
		r = on_frame(ms, ms->in, total);
		if (r == 1)
			return false;
		if (r != 0) {
			if (r == E_SERVERKEY || r == E_SIGNATURE)
				log_err("mediator %s refused or failed the login: %s%s", ms->host,
					err_str(r), refusal(r));
			fail(ms, r, "%s%s", err_str(r), refusal(r));
			return false;
		}
		memmove(ms->in, ms->in + total, ms->in_len - total);
		ms->in_len -= total;
	}
	return true;
}

static void
read_input(struct medsess *ms)
{
	for (unsigned i = 0; i < 16; i++) {
		ssize_t n = sockio_read(ms->fd, ms->ssl, ms->in + ms->in_len, IN_CAP - ms->in_len);

		if (n == SOCKIO_AGAIN)
			break;
		if (n <= 0) {
			fail(ms, E_IO, "the mediator closed the connection");
			return;
		}
		ms->in_len += (size_t)n;
		ms->last_rx = loop_now(ms->p.l);
		if (!frames(ms))
			return;
	}
	(void)flush_out(ms);
}

/* --- connecting --- */

static void
tls_step(struct medsess *ms)
{
	int r;

	ERR_clear_error();
	r = SSL_connect(ms->ssl);
	if (r == 1) {
		start_login(ms);
		return;
	}
	switch (SSL_get_error(ms->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		(void)loop_fd_mod(ms->p.l, ms->fd, EPOLLIN);
		return;
	case SSL_ERROR_WANT_WRITE:
		(void)loop_fd_mod(ms->p.l, ms->fd, EPOLLOUT);
		return;
	default:
		fail(ms, E_IO, "TLS handshake with %s:%u failed", ms->host, ms->info.server_port);
	}
}

/* TCP could not connect: the TLS port next, at once, if there is one and we were not on it. */
static void
connect_failed(struct medsess *ms, const char *why)
{
	if (!ms->tls && ms->p.tls_port != 0) {
		log_info("mediator %s:%u: %s; trying TLS on port %u", ms->host, ms->p.port, why,
			 ms->p.tls_port);
		close_conn(ms);
		ms->tls = true;
		attempt(ms);
		return;
	}
	fail(ms, E_IO, "cannot connect to %s:%u: %s", ms->host, ms->info.server_port, why);
}

static void
connected(struct medsess *ms)
{
	int err = 0, one = 1;
	socklen_t el = sizeof(err);

	if (getsockopt(ms->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
		connect_failed(ms, strerror(err != 0 ? err : errno));
		return;
	}
	setsockopt(ms->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!ms->tls) {
		start_login(ms);
		return;
	}
	if (ms->ctx == NULL && (ms->ctx = tlsctx_client(NULL, 0)) == NULL) {
		fail(ms, E_CRYPTO, "no TLS context");
		return;
	}
	if ((ms->ssl = SSL_new(ms->ctx)) == NULL || SSL_set_fd(ms->ssl, ms->fd) != 1) {
		fail(ms, E_CRYPTO, "no TLS session");
		return;
	}
	ms->phase = P_TLS;
	tls_step(ms);
}

static void
on_io(void *arg, uint32_t events)
{
	struct medsess *ms = arg;

	switch (ms->phase) {
	case P_CONNECT:
		connected(ms);
		return;
	case P_TLS:
		tls_step(ms);
		return;
	case P_IDLE:
		return;
	default:
		break;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP) ||
	    (ms->ssl != NULL && SSL_pending(ms->ssl) > 0)) {
		read_input(ms);
		return;
	}
	if (events & EPOLLOUT)
		(void)flush_out(ms);
}

static int
resolve(const char *host, uint32_t *addr)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;

	if (getaddrinfo(host, NULL, &hints, &ai) != 0 || ai == NULL)
		return E_NOTFOUND;
	*addr = ntohl(((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr.s_addr);
	freeaddrinfo(ai);
	return 0;
}

static void
attempt(struct medsess *ms)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	uint32_t addr;

	set_state(ms, MEDSESS_CONNECTING, "connecting");
	loop_timer_cancel(ms->p.l, &ms->probe_t);
	probe_close(ms);
	ms->info.tls = ms->tls;
	ms->info.server_port = ms->tls ? ms->p.tls_port : ms->p.port;
	if (resolve(ms->host, &addr) != 0) {
		fail(ms, E_NOTFOUND, "cannot resolve %s", ms->host);
		return;
	}
	ms->info.server_addr = addr;
	sa.sin_addr.s_addr = htonl(addr);
	sa.sin_port = htons(ms->info.server_port);
	ms->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ms->fd < 0 || loop_fd_add(ms->p.l, ms->fd, EPOLLOUT, on_io, ms) != 0) {
		if (ms->fd >= 0)
			close(ms->fd);
		ms->fd = -1;
		fail(ms, E_IO, "no socket: %s", strerror(errno));
		return;
	}
	ms->phase = P_CONNECT;
	ms->last_rx = loop_now(ms->p.l);
	loop_timer_in(ms->p.l, &ms->timer, CONNECT_MS);
	if (connect(ms->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		connect_failed(ms, strerror(errno));
}

static void
on_timer(void *arg)
{
	struct medsess *ms = arg;

	switch (ms->phase) {
	case P_IDLE: /* the backoff is over */
		ms->tls = ms->prefer_tls;
		attempt(ms);
		return;
	case P_CONNECT:
		connect_failed(ms, "timed out");
		return;
	case P_ONLINE:
		if (ms->stopping) /* no answer to LOGOUT: close anyway */
			fail(ms, 0, "logged out");
		return;
	default:
		fail(ms, E_TIMEOUT, "the login did not complete within %u s", LOGIN_MS / 1000);
	}
}

/* --- the interface --- */

struct medsess *
medsess_new(const struct medsess_params *p)
{
	struct medsess *ms = calloc(1, sizeof(*ms));

	if (ms == NULL)
		return NULL;
	ms->p = *p;
	ms->fd = ms->probe_fd = -1;
	snprintf(ms->host, sizeof(ms->host), "%s", p->host);
	snprintf(ms->nick, sizeof(ms->nick), "%s", p->nick != NULL ? p->nick : "");
	snprintf(ms->token, sizeof(ms->token), "%s", p->token != NULL ? p->token : "");
	ms->identity = p->identity;
	ms->backoff_ms = BACKOFF_MIN_MS;
	ms->p.host = ms->host;
	if (pubkey_fingerprint(p->server_key, ms->kfp) != 0 || (ms->in = malloc(IN_CAP)) == NULL ||
	    (ms->scratch = malloc(OPEN_CAP)) == NULL || (ms->out = malloc(OUT_MAX)) == NULL) {
		medsess_free(ms);
		return NULL;
	}
	loop_timer_init(&ms->timer, on_timer, ms);
	loop_timer_init(&ms->ping_t, on_ping_timer, ms);
	loop_timer_init(&ms->probe_t, on_probe_timer, ms);
	return ms;
}

void
medsess_free(struct medsess *ms)
{
	if (ms == NULL)
		return;
	ms->npend = 0;
	if (ms->in != NULL)
		close_conn(ms);
	loop_timer_cancel(ms->p.l, &ms->probe_t);
	probe_close(ms);
	SSL_CTX_free(ms->ctx);
	if (ms->scratch != NULL)
		wipe(ms->scratch, OPEN_CAP);
	free(ms->in);
	free(ms->scratch);
	free(ms->out);
	wipe(ms, sizeof(*ms));
	free(ms);
}

void
medsess_start(struct medsess *ms)
{
	ms->want = true;
	ms->stopping = false;
	if (ms->phase == P_IDLE && !loop_timer_armed(&ms->timer)) {
		ms->tls = ms->prefer_tls;
		attempt(ms);
	}
}

void
medsess_set_identity(struct medsess *ms, uint32_t identity)
{
	ms->identity = identity;
}

int
medsess_request(struct medsess *ms, struct msg *req, medsess_result_fn *fn, void *arg)
{
	uint32_t tag;
	int r;

	if (ms->phase != P_ONLINE || ms->stopping)
		return E_STATE;
	if (ms->npend == PENDING_MAX)
		return E_BUSY;
	tag = ++ms->tag != 0 ? ms->tag : ++ms->tag;
	if (!msg_set_tag(req, tag))
		return E_INVAL;
	if ((r = send_msg(ms, req)) != 0)
		return r;
	ms->pend[ms->npend++] = (struct pending){tag, fn, arg, req->type == MSG_LOGOUT};
	(void)flush_out(ms);
	return 0;
}

void
medsess_logout(struct medsess *ms, medsess_result_fn *fn, void *arg)
{
	struct msg m = {.type = MSG_LOGOUT};

	ms->want = false;
	if (ms->phase != P_ONLINE) {
		close_conn(ms);
		set_state(ms, MEDSESS_STOPPED, "logged out");
		if (fn != NULL)
			fn(arg, E_STATE, "not logged in");
		return;
	}
	if (medsess_request(ms, &m, fn, arg) != 0) {
		fail(ms, 0, "logged out");
		return;
	}
	ms->stopping = true;
	loop_timer_in(ms->p.l, &ms->timer, LOGOUT_MS);
}

void
medsess_info(const struct medsess *ms, struct medsess_info *out)
{
	*out = ms->info;
}
