/* SPDX-License-Identifier: MIT */
/*
 * A blocking test client of the mediator protocol (medclient.h). It is a second node-side
 * implementation of PROTOCOL.md sections 6, 7.1 and 10 on top of common/ only.
 *
 * Input: bytes are read into one buffer that holds at most one whole frame plus the start of
 * the next; each complete frame is checked (cleartext only before the keys exist, protected
 * only after; the next message ID; the MAC), decoded, and its body copied onto the queue.
 * A frame that fails a check ends the session on this side: nothing more is read, and the
 * check's code is what later waits return.
 */
#define _GNU_SOURCE
#include "medclient.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/crypto.h"
#include "common/dh.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/keymat.h"
#include "common/pkt.h"
#include "common/pubkey.h"
#include "common/replay.h"
#include "common/sockio.h"
#include "common/sigdata.h"
#include "common/tlsctx.h"

enum {
	IN_CAP = WIRE_TCP_SIZE_MAX + 4,	      /* one whole frame of the largest size */
	OPEN_CAP = WIRE_MSG_MAX + WIRE_BLOCK, /* a decrypted body with its padding */
	QUEUE_MAX = 100000,		      /* messages held before the client gives up */
	IO_TIMEOUT_MS = 10000,		      /* backstop for one blocking send or receive */
	DRAIN_MAX_MS = 10000,		      /* mc_drain gives up on a server that never stops */
	IO_AGAIN = SOCKIO_AGAIN,	      /* io_read / io_write: would block */
	IO_FAIL = SOCKIO_FAIL,		      /* io_read / io_write: connection failed */
};

/* One queued message: its body, copied, and the channel to decode it on again. */
struct qmsg {
	uint16_t type;
	unsigned int channel;
	size_t len;
	uint8_t body[];
};

/* The login's values, for both signatures. */
struct hs {
	struct dh *dh;
	uint8_t ni[WIRE_NONCE_LEN], nr[WIRE_NONCE_LEN];
	uint8_t gi[WIRE_DH_LEN], gr[WIRE_DH_LEN];
};

struct medclient {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct crypto *crypto;
	struct session_keys keys; /* all zero until HELO OK */
	bool have_keys;
	uint32_t tx_ctr, rx_last, tag;
	bool ended;	/* no more input: closed by the server, or a frame failed a check */
	int err_status; /* the last ERROR's code (negative), 0 if none */
	int check_err;	/* the check a server frame failed here, 0 if none */
	struct hs hs;
	uint8_t *in; /* input bytes: at most one frame and the start of the next */
	size_t in_len;
	uint8_t *scratch; /* a decrypted body, or an encoded one before sealing */
	uint8_t *out;	  /* a sealed frame */
	struct qmsg **q;
	size_t qn, qcap;
	struct qmsg *cur;     /* the message last handed out: its spans point here */
	struct qmsg *session; /* the last SESSION */
	struct msg session_msg;
};

/* --- time and descriptors -------------------------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
left_ms(int64_t deadline)
{
	int64_t d = deadline - now_ms();

	return d < 0 ? 0 : (int)MIN(d, 1 << 30);
}

/* 0 once fd is ready for events, E_TIMEOUT at the deadline. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	for (;;) {
		r = poll(&p, 1, left_ms(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return E_TIMEOUT;
		if (errno != EINTR)
			return E_IO;
	}
}

static void
set_io_timeout(int fd, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A connected blocking TCP socket to host:port, or -1. */
static int
tcp_connect(const char *host, uint16_t port, int64_t deadline)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	char serv[8];
	int fd = -1, one = 1, err = 0;
	socklen_t el = sizeof(err);

	snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(host != NULL ? host : "127.0.0.1", serv, &hints, &ai) != 0)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto out;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
	    (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) != 0 ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)) {
		close(fd);
		fd = -1;
		goto out;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
out:
	freeaddrinfo(ai);
	return fd;
}

/* --- connect and close ------------------------------------------------------------------ */

static int
tls_start(struct medclient *mc, int64_t deadline)
{
	int r;

	if ((mc->ctx = tlsctx_client(NULL, 0)) == NULL)
		return E_CRYPTO;
	/* A blocking SSL_read must not wait on after a non-data record (a TLS 1.3 ticket): the
	 * caller's poll() decides how long to wait. */
	SSL_CTX_clear_mode(mc->ctx, SSL_MODE_AUTO_RETRY);
	if ((mc->ssl = SSL_new(mc->ctx)) == NULL || SSL_set_fd(mc->ssl, mc->fd) != 1)
		return E_CRYPTO;
	set_io_timeout(mc->fd, MAX(left_ms(deadline), 1));
	ERR_clear_error();
	r = SSL_connect(mc->ssl);
	set_io_timeout(mc->fd, IO_TIMEOUT_MS);
	return r == 1 ? 0 : E_IO;
}

struct medclient *
mc_connect(const char *host, uint16_t port, bool tls, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct medclient *mc = calloc(1, sizeof(*mc));

	signal(SIGPIPE, SIG_IGN);
	if (mc == NULL)
		return NULL;
	mc->fd = -1;
	if ((mc->in = malloc(IN_CAP)) == NULL || (mc->scratch = malloc(OPEN_CAP)) == NULL ||
	    (mc->out = malloc(IN_CAP)) == NULL || (mc->crypto = crypto_new()) == NULL)
		goto fail;
	if ((mc->fd = tcp_connect(host, port, deadline)) < 0)
		goto fail;
	set_io_timeout(mc->fd, IO_TIMEOUT_MS);
	if (tls && tls_start(mc, deadline) != 0)
		goto fail;
	return mc;
fail:
	mc_close(mc);
	return NULL;
}

static void
queue_clear(struct medclient *mc)
{
	for (size_t i = 0; i < mc->qn; i++)
		free(mc->q[i]);
	mc->qn = 0;
}

void
mc_close(struct medclient *mc)
{
	if (mc == NULL)
		return;
	if (mc->ssl != NULL)
		SSL_free(mc->ssl);
	if (mc->ctx != NULL)
		SSL_CTX_free(mc->ctx);
	if (mc->fd >= 0)
		close(mc->fd);
	queue_clear(mc);
	free(mc->q);
	free(mc->cur);
	free(mc->session);
	dh_free(mc->hs.dh);
	crypto_free(mc->crypto);
	wipe(&mc->keys, sizeof(mc->keys));
	free(mc->in);
	free(mc->scratch);
	free(mc->out);
	free(mc);
}

int
mc_fd(const struct medclient *mc)
{
	return mc->fd;
}

/* --- raw input and output --------------------------------------------------------------- */

static ssize_t
io_read(struct medclient *mc, void *p, size_t n)
{
	return sockio_read(mc->fd, mc->ssl, p, n);
}

static ssize_t
io_write(struct medclient *mc, const void *p, size_t n)
{
	return sockio_write(mc->fd, mc->ssl, p, n, NULL);
}

int
mc_write_raw(struct medclient *mc, const void *p, size_t len)
{
	int64_t deadline = now_ms() + IO_TIMEOUT_MS;
	const uint8_t *b = p;

	while (len > 0) {
		ssize_t n = io_write(mc, b, len);

		if (n == IO_FAIL)
			return E_IO;
		if (n == IO_AGAIN) {
			if (wait_fd(mc->fd, POLLOUT, deadline) != 0)
				return E_TIMEOUT;
			continue;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Some bytes into the input buffer: 0, E_TIMEOUT at the deadline, or E_IO at the end. */
static int
read_some(struct medclient *mc, int64_t deadline)
{
	ssize_t n;
	int r;

	if (mc->ssl == NULL || SSL_pending(mc->ssl) == 0)
		if ((r = wait_fd(mc->fd, POLLIN, deadline)) != 0)
			return r;
	n = io_read(mc, mc->in + mc->in_len, IN_CAP - mc->in_len);
	if (n == IO_AGAIN)
		return now_ms() >= deadline ? E_TIMEOUT : 0;
	if (n <= 0) {
		mc->ended = true;
		return E_IO;
	}
	mc->in_len += (size_t)n;
	return 0;
}

/* --- input frames and the queue ---------------------------------------------------------- */

static int
enqueue(struct medclient *mc, const struct msg *m, unsigned int channel, const uint8_t *body,
	size_t len)
{
	struct qmsg *e;

	if (mc->qn == QUEUE_MAX)
		return E_NOSPACE;
	if (mc->qn == mc->qcap) {
		size_t cap = mc->qcap == 0 ? 64 : mc->qcap * 2;
		struct qmsg **q = realloc(mc->q, cap * sizeof(*q));

		if (q == NULL)
			return E_NOMEM;
		mc->q = q;
		mc->qcap = cap;
	}
	if ((e = malloc(sizeof(*e) + len)) == NULL)
		return E_NOMEM;
	e->type = m->type;
	e->channel = channel;
	e->len = len;
	memcpy(e->body, body, len);
	mc->q[mc->qn++] = e;
	if (m->type == MSG_ERROR)
		mc->err_status = -(int)m->u.error.status;
	return 0;
}

/* Keeps a copy of SESSION for mc_session(). */
static void
keep_session(struct medclient *mc, const uint8_t *body, size_t len)
{
	struct qmsg *e = malloc(sizeof(*e) + len);

	if (e == NULL)
		return;
	e->type = MSG_SESSION;
	e->channel = MSG_CH_SESSION_S2C;
	e->len = len;
	memcpy(e->body, body, len);
	if (msg_decode(MSG_CH_SESSION_S2C, e->body, len, &mc->session_msg) != 0) {
		free(e);
		return;
	}
	free(mc->session);
	mc->session = e;
}

static int
on_clear(struct medclient *mc, const uint8_t *f, size_t len)
{
	struct msg m;
	int r;

	if (mc->have_keys)
		return E_STATE; /* a cleartext frame after HELO OK */
	if ((r = frame_clear_decode(MSG_CH_CLEAR_S2C, f, len, &m)) != 0)
		return r;
	return enqueue(mc, &m, MSG_CH_CLEAR_S2C, f + 8, len - 8);
}

static int
on_sealed(struct medclient *mc, const uint8_t *f, size_t len)
{
	struct pkt_hdr hdr;
	uint32_t last = mc->rx_last;
	struct msg m;
	size_t blen;
	int r;

	if (!mc->have_keys)
		return E_STATE; /* a protected frame before HELO OK */
	if ((r = pkt_peek(f, len, &hdr)) != 0 || (r = replay_stream_accept(&last, hdr.msgid)) != 0)
		return r;
	if ((r = pkt_open_tcp(mc->crypto, &mc->keys.r2i, f, len, &hdr, mc->scratch, OPEN_CAP,
			      &blen)) != 0)
		return r;
	mc->rx_last = last;
	if ((r = msg_decode(MSG_CH_SESSION_S2C, mc->scratch, blen, &m)) != 0)
		return r;
	if (m.type == MSG_SESSION)
		keep_session(mc, mc->scratch, blen);
	return enqueue(mc, &m, MSG_CH_SESSION_S2C, mc->scratch, blen);
}

/* Handles the first frame of the input buffer if it is complete: 1 if it did, 0 if more
 * bytes are needed, or the code of a failed check (the session is then over). */
static int
take_frame(struct medclient *mc)
{
	size_t total;
	int r;

	if (mc->in_len < 4)
		return 0;
	if ((r = frame_tcp_total(mc->in, &total)) != 0)
		return r;
	if (mc->in_len < total)
		return 0;
	if (frame_tcp_is_clear(mc->in, total))
		r = on_clear(mc, mc->in, total);
	else
		r = on_sealed(mc, mc->in, total);
	memmove(mc->in, mc->in + total, mc->in_len - total);
	mc->in_len -= total;
	return r != 0 ? r : 1;
}

/* Reads until one more message is queued: 0, E_TIMEOUT, or E_IO once input has ended. */
static int
pump(struct medclient *mc, int64_t deadline)
{
	int r;

	for (;;) {
		if (mc->ended)
			return E_IO;
		if ((r = take_frame(mc)) == 1)
			return 0;
		if (r < 0) {
			mc->check_err = r;
			mc->ended = true;
			return E_IO;
		}
		if ((r = read_some(mc, deadline)) == E_TIMEOUT)
			return r;
	}
}

/* What a wait returns when the session ended before the message it wanted came. */
static int
end_code(const struct medclient *mc)
{
	if (mc->err_status != 0)
		return mc->err_status;
	if (mc->check_err != 0)
		return mc->check_err;
	return E_IO;
}

static void
take(struct medclient *mc, size_t i, struct msg *out)
{
	struct qmsg *e = mc->q[i];

	memmove(&mc->q[i], &mc->q[i + 1], (mc->qn - i - 1) * sizeof(mc->q[0]));
	mc->qn--;
	free(mc->cur);
	mc->cur = e;
	if (out != NULL && msg_decode(e->channel, e->body, e->len, out) != 0)
		memset(out, 0, sizeof(*out)); /* it decoded once: cannot happen */
}

typedef bool (*match_fn)(const struct msg *m, void *arg);

static bool
matches(const struct qmsg *e, uint16_t type, match_fn match, void *arg)
{
	struct msg m;

	if (e->type != type)
		return false;
	if (match == NULL)
		return true;
	return msg_decode(e->channel, e->body, e->len, &m) == 0 && match(&m, arg);
}

/* Index of the first queued message that fits, reading until the deadline; < 0 if none. */
static long
find(struct medclient *mc, uint16_t type, match_fn match, void *arg, int64_t deadline)
{
	size_t i = 0;
	int r;

	for (;;) {
		for (; i < mc->qn; i++)
			if (matches(mc->q[i], type, match, arg))
				return (long)i;
		if ((r = pump(mc, deadline)) != 0)
			return r == E_TIMEOUT ? E_TIMEOUT : end_code(mc);
	}
}

int
mc_wait(struct medclient *mc, uint16_t type, bool (*match)(const struct msg *m, void *arg),
	void *arg, struct msg *out, int timeout_ms)
{
	long i = find(mc, type, match, arg, now_ms() + timeout_ms);

	if (i < 0)
		return (int)i;
	take(mc, (size_t)i, out);
	return 0;
}

bool
mc_has(struct medclient *mc, uint16_t type, int timeout_ms)
{
	return find(mc, type, NULL, NULL, now_ms() + timeout_ms) >= 0;
}

uint16_t
mc_peek_type(const struct medclient *mc, size_t i)
{
	return i < mc->qn ? mc->q[i]->type : 0;
}

/* The next message whatever its type (the login accepts exactly one at each step). */
static int
next_msg(struct medclient *mc, int64_t deadline, struct msg *out)
{
	int r;

	while (mc->qn == 0)
		if ((r = pump(mc, deadline)) != 0)
			return r == E_TIMEOUT ? r : end_code(mc);
	take(mc, 0, out);
	return 0;
}

void
mc_drain(struct medclient *mc, int quiet_ms)
{
	int64_t stop = now_ms() + DRAIN_MAX_MS;

	queue_clear(mc);
	while (now_ms() < stop && pump(mc, MIN(now_ms() + quiet_ms, stop)) == 0)
		queue_clear(mc);
	queue_clear(mc);
}

bool
mc_closed(struct medclient *mc, int *err_status, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	*err_status = 0;
	while (!mc->ended)
		if (pump(mc, deadline) == E_TIMEOUT)
			return false;
	*err_status = mc->err_status;
	return true;
}

/* --- output ------------------------------------------------------------------------------ */

int
mc_seal_raw(struct medclient *mc, uint32_t msgid, const uint8_t *body, size_t len, uint8_t *out,
	    size_t cap, size_t *outlen)
{
	uint8_t iv[WIRE_IV_LEN];
	int r;

	if ((r = crypto_random(iv, sizeof(iv))) != 0 ||
	    (r = pkt_seal_tcp(mc->crypto, &mc->keys.i2r, msgid, iv, body, len, out, cap, outlen)) !=
		    0)
		return r;
	if (msgid > mc->tx_ctr)
		mc->tx_ctr = msgid;
	return 0;
}

uint32_t
mc_next_msgid(const struct medclient *mc)
{
	return mc->tx_ctr + 1;
}

int
mc_send_clear(struct medclient *mc, const struct msg *msg)
{
	size_t len;
	int r;

	if ((r = frame_clear_encode(MSG_CH_CLEAR_C2S, msg, mc->out, IN_CAP, &len)) != 0)
		return r;
	return mc_write_raw(mc, mc->out, len);
}

int
mc_send(struct medclient *mc, const struct msg *msg)
{
	size_t blen, len;
	int r;

	if (!mc->have_keys)
		return mc_send_clear(mc, msg);
	if ((r = msg_encode(MSG_CH_SESSION_C2S, msg, mc->scratch, WIRE_MSG_MAX, &blen)) != 0 ||
	    (r = mc_seal_raw(mc, mc_next_msgid(mc), mc->scratch, blen, mc->out, IN_CAP, &len)) != 0)
		return r;
	return mc_write_raw(mc, mc->out, len);
}

/* --- requests ---------------------------------------------------------------------------- */

static bool
tag_is(const struct msg *m, void *arg)
{
	uint32_t tag = *(const uint32_t *)arg;

	return m->type == MSG_RESULT ? m->u.result.tag == tag : m->u.ping.tag == tag;
}

static void
copy_text(const struct span *s, char *text, size_t cap)
{
	size_t n;

	if (text == NULL || cap == 0)
		return;
	n = MIN(s->len, cap - 1);
	memcpy(text, s->p, n);
	text[n] = '\0';
}

int
mc_request(struct medclient *mc, struct msg *msg, int *status, char *text, size_t textcap,
	   int timeout_ms)
{
	uint32_t tag = ++mc->tag;
	struct msg res;
	int r;

	*status = 0;
	if (text != NULL && textcap > 0)
		text[0] = '\0';
	if (!msg_set_tag(msg, tag))
		return E_INVAL;
	if ((r = mc_send(mc, msg)) != 0)
		return r;
	if (msg->type == MSG_PING) /* answered by PONG, not RESULT */
		return mc_wait(mc, MSG_PONG, tag_is, &tag, &res, timeout_ms);
	if ((r = mc_wait(mc, MSG_RESULT, tag_is, &tag, &res, timeout_ms)) != 0)
		return r;
	*status = -(int)res.u.result.status;
	copy_text(&res.u.result.text, text, textcap);
	return 0;
}

int
mc_ping(struct medclient *mc, int timeout_ms)
{
	struct msg ping = {.type = MSG_PING};
	int status;

	return mc_request(mc, &ping, &status, NULL, 0, timeout_ms);
}

/* --- login ------------------------------------------------------------------------------- */

static void
hs_values(const struct hs *h, struct handshake_values *v)
{
	v->suite = WIRE_SUITE_1;
	v->ni = h->ni;
	v->nr = h->nr;
	v->gi = h->gi;
	v->gr = h->gr;
}

static int
helo_send(struct medclient *mc, const uint8_t kfp[WIRE_KFP_LEN])
{
	struct msg m = {.type = MSG_HELO};
	int r;

	dh_free(mc->hs.dh);
	if ((mc->hs.dh = dh_generate()) == NULL)
		return E_CRYPTO;
	if ((r = crypto_random(mc->hs.ni, sizeof(mc->hs.ni))) != 0)
		return r;
	dh_public(mc->hs.dh, mc->hs.gi);
	m.u.helo.suite = WIRE_SUITE_1;
	memcpy(m.u.helo.kfp, kfp, WIRE_KFP_LEN);
	memcpy(m.u.helo.ni, mc->hs.ni, WIRE_NONCE_LEN);
	memcpy(m.u.helo.gi, mc->hs.gi, WIRE_DH_LEN);
	return mc_send_clear(mc, &m);
}

/* HELO OK: the server's values, K, and the session keys. */
static int
helo_ok(struct medclient *mc, const struct msg_helo_ok *ok)
{
	uint8_t k[WIRE_DH_LEN];
	int r;

	memcpy(mc->hs.nr, ok->nr, WIRE_NONCE_LEN);
	memcpy(mc->hs.gr, ok->gr, WIRE_DH_LEN);
	if ((r = dh_derive(mc->hs.dh, mc->hs.gr, k)) == 0 &&
	    (r = keymat_session(mc->crypto, k, mc->hs.ni, mc->hs.nr, &mc->keys)) == 0)
		mc->have_keys = true;
	wipe(k, sizeof(k));
	dh_free(mc->hs.dh);
	mc->hs.dh = NULL;
	return r;
}

/* The one message a login step accepts, or the ERROR's code; E_STATE for anything else. */
static int
expect(struct medclient *mc, uint16_t type, int64_t deadline, struct msg *m)
{
	int r;

	if ((r = next_msg(mc, deadline, m)) != 0)
		return r;
	if (m->type == MSG_ERROR)
		return m->u.error.status != 0 ? -(int)m->u.error.status : E_PROTOCOL;
	return m->type == type ? 0 : E_STATE;
}

static int
helo(struct medclient *mc, const uint8_t kfp[WIRE_KFP_LEN], int64_t deadline)
{
	struct msg m;
	int r;

	if (mc->have_keys)
		return E_STATE;
	if ((r = helo_send(mc, kfp)) != 0 || (r = expect(mc, MSG_HELO_OK, deadline, &m)) != 0)
		return r;
	return helo_ok(mc, &m.u.helo_ok);
}

int
mc_helo(struct medclient *mc, const uint8_t kfp[WIRE_KFP_LEN], int timeout_ms)
{
	return helo(mc, kfp, now_ms() + timeout_ms);
}

/* Sign(suite | Ni | Nr | Gi | Gr, key) into sig (WIRE_SIG_MAX bytes). */
static int
sign_auth(const struct medclient *mc, const struct pubkey *key, uint8_t *sig, size_t *siglen)
{
	struct span parts[SIGDATA_MAX_PARTS];
	struct handshake_values v;
	size_t n;

	hs_values(&mc->hs, &v);
	n = sigdata_parts(SIGDATA_AUTH, &v, parts);
	return pubkey_sign(key, parts, n, sig, WIRE_SIG_MAX, siglen);
}

/* AUTH OK, its signature checked with the server's key; then SESSION (left queued). */
static int
auth_ok(struct medclient *mc, const struct pubkey *server_key, uint32_t *identity, int64_t deadline)
{
	struct span parts[SIGDATA_MAX_PARTS];
	struct handshake_values v;
	struct msg m;
	size_t n;
	int r;

	if ((r = expect(mc, MSG_AUTH_OK, deadline, &m)) != 0)
		return r;
	hs_values(&mc->hs, &v);
	n = sigdata_parts(SIGDATA_AUTH_OK, &v, parts);
	if ((r = pubkey_verify(server_key, parts, n, m.u.auth.sig.p, m.u.auth.sig.len)) != 0)
		return r;
	if (*identity != 0 && m.u.auth.identity != *identity)
		return E_IDENTITY;
	*identity = m.u.auth.identity;
	if (find(mc, MSG_SESSION, NULL, NULL, deadline) < 0)
		return mc->ended ? end_code(mc) : E_TIMEOUT;
	return 0;
}

/* HELO, then req (AUTH or REGISTER, its signature filled in here), then AUTH OK. */
static int
login(struct medclient *mc, const uint8_t kfp[WIRE_KFP_LEN], const struct pubkey *server_key,
      const struct pubkey *key, struct msg *req, uint32_t *identity, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	uint8_t sig[WIRE_SIG_MAX];
	struct span *sp = req->type == MSG_AUTH ? &req->u.auth.sig : &req->u.reg.sig;
	size_t siglen;
	int r;

	if ((r = helo(mc, kfp, deadline)) != 0 || (r = sign_auth(mc, key, sig, &siglen)) != 0)
		return r;
	sp->p = sig;
	sp->len = siglen;
	if ((r = mc_send(mc, req)) != 0)
		return r;
	return auth_ok(mc, server_key, identity, deadline);
}

int
mc_register(struct medclient *mc, const uint8_t kfp[WIRE_KFP_LEN], const struct pubkey *server_key,
	    const struct pubkey *key, const char *nick, const char *token, uint32_t *identity,
	    int timeout_ms)
{
	struct msg req = {.type = MSG_REGISTER};
	uint8_t der[WIRE_PUBKEY_MAX];
	size_t len;
	int r;

	*identity = 0;
	if ((r = pubkey_to_der(key, der, sizeof(der), &len)) != 0)
		return r;
	req.u.reg.pubkey = (struct span){der, len};
	req.u.reg.nick = (struct span){(const uint8_t *)nick, nick != NULL ? strlen(nick) : 0};
	req.u.reg.token = (struct span){(const uint8_t *)token, token != NULL ? strlen(token) : 0};
	return login(mc, kfp, server_key, key, &req, identity, timeout_ms);
}

int
mc_login(struct medclient *mc, const uint8_t kfp[WIRE_KFP_LEN], const struct pubkey *server_key,
	 const struct pubkey *key, uint32_t identity, int timeout_ms)
{
	struct msg req = {.type = MSG_AUTH};

	if (identity == 0)
		return E_INVAL;
	req.u.auth.identity = identity;
	return login(mc, kfp, server_key, key, &req, &identity, timeout_ms);
}

const struct msg_session *
mc_session(const struct medclient *mc)
{
	return mc->session != NULL ? &mc->session_msg.u.session : NULL;
}
