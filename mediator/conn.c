/* SPDX-License-Identifier: MIT */
/*
 * Connections: accept, framed non-blocking input (plain TCP or TLS), queued output flushed
 * after the turn's group commit, timeouts, and close.
 *
 * Input is read frame by frame: the 4-byte size first (checked against the maximum before a
 * byte of the body is read, PROTOCOL.md 7.1), then a buffer of exactly that size. Nothing is
 * held for an idle session but the struct itself.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/pkt.h"
#include "common/replay.h"
#include "common/sockio.h"
#include "mediator/med.h"

enum {
	ACCEPT_BATCH = 64,	 /* connections accepted per listener event */
	READ_BUDGET = 64 * 1024, /* bytes read per connection per event, for fairness */
	CHUNK_MIN = 16 * 1024,	 /* output chunk size */
	IO_AGAIN = SOCKIO_AGAIN, /* io_read / io_write: would block */
	IO_FAIL = SOCKIO_FAIL,	 /* io_read / io_write: connection failed */
};

static void on_conn(void *obj, uint32_t events);

static void
arm(struct med *m, struct conn *c)
{
	uint32_t want = 0;

	if (c->state == CONN_DEAD)
		return;
	if (c->state == CONN_TLS) {
		want = EPOLLIN | (SSL_want_write(c->ssl) ? EPOLLOUT : 0);
	} else {
		if (!c->paused && c->state != CONN_CLOSING)
			want |= EPOLLIN;
		/* TLS may need to read before it can write again: then wait for input */
		if (c->out_bytes > 0)
			want |= c->write_wants_read ? EPOLLIN : EPOLLOUT;
	}
	if (want != c->ev_mask && med_rewatch(m, c->fd, want, &c->slot) == 0)
		c->ev_mask = want;
}

/* The handshake is over: the conn no longer counts against the half-open limits. */
void
conn_established(struct med *m, struct conn *c)
{
	unsigned int *n;

	if (!c->half_open)
		return;
	c->half_open = false;
	m->n_half_open--;
	if ((n = ratelimit_half_open(m->rl, c->peer.sin_addr.s_addr)) != NULL && *n > 0)
		(*n)--;
}

/* A refusal written straight to a socket that never became a session. */
static void
refuse(struct med *m, int fd, int code)
{
	struct msg msg = {.type = MSG_ERROR};
	uint8_t f[64];
	size_t len;

	msg.u.error.status = err_to_wire(code);
	if (frame_clear_encode(MSG_CH_CLEAR_S2C, &msg, f, sizeof(f), &len) == 0 &&
	    write(fd, f, len) < 0)
		m->stats.busy++;
	close(fd);
}

static int
admit(struct med *m, int fd, const struct sockaddr_in *sa)
{
	unsigned int *per_addr = ratelimit_half_open(m->rl, sa->sin_addr.s_addr);

	if (m->n_conns >= m->cfg.sessions || m->n_half_open >= m->cfg.half_open) {
		m->stats.busy++;
		refuse(m, fd, E_BUSY);
		return E_BUSY;
	}
	if (!ratelimit_take(m->rl, sa->sin_addr.s_addr, m->now) || per_addr == NULL ||
	    *per_addr >= m->cfg.half_open_per_address) {
		m->stats.rate_limited++;
		log_ratelimited(LOG_LVL_WARN, "refusing handshakes from %s: rate limit",
				inet_ntoa(sa->sin_addr));
		refuse(m, fd, E_RATE);
		return E_RATE;
	}
	(*per_addr)++;
	return 0;
}

static struct conn *
conn_new(struct med *m, int fd, const struct sockaddr_in *sa, bool tls)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->peer = *sa;
	c->state = tls ? CONN_TLS : CONN_HELO;
	c->half_open = true;
	c->deadline = m->now + m->cfg.handshake_timeout;
	c->last_rx = m->now;
	c->slot = (struct epoll_slot){on_conn, c};
	c->med = m;
	list_node_init(&c->dirty);
	if (tls && ((c->ssl = SSL_new(m->tls)) == NULL || SSL_set_fd(c->ssl, fd) != 1)) {
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	return c;
}

static void
add_conn(struct med *m, int fd, const struct sockaddr_in *sa, bool tls)
{
	struct conn *c;

	if (admit(m, fd, sa) != 0)
		return;
	if ((c = conn_new(m, fd, sa, tls)) == NULL) {
		refuse(m, fd, E_NOMEM);
		return;
	}
	c->ev_mask = EPOLLIN;
	if (med_watch(m, fd, c->ev_mask, &c->slot) != 0) {
		SSL_free(c->ssl);
		free(c);
		close(fd);
		return;
	}
	m->n_half_open++;
	m->n_conns++;
	m->stats.accepted++;
	list_add_tail(&m->conns, &c->link);
}

void
conn_accept(struct med *m, int lfd, bool tls)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_ratelimited(LOG_LVL_WARN, "accept: %s", strerror(errno));
			return;
		}
		if (sa.sin_family != AF_INET) {
			close(fd);
			continue;
		}
		add_conn(m, fd, &sa, tls);
	}
}

static ssize_t
io_read(struct conn *c, void *p, size_t n)
{
	return sockio_read(c->fd, c->ssl, p, n);
}

static ssize_t
io_write(struct conn *c, const void *p, size_t n)
{
	return sockio_write(c->fd, c->ssl, p, n, &c->write_wants_read);
}

/* The size field is in c->hdr: check it, then allocate the frame. */
static int
start_frame(struct med *m, struct conn *c)
{
	size_t total;
	int r;

	if ((r = frame_tcp_total(c->hdr, &total)) != 0)
		return r;
	if ((c->frame = malloc(total)) == NULL)
		return E_NOMEM;
	memcpy(c->frame, c->hdr, 4);
	c->frame_len = total;
	c->frame_got = 4;
	if (c->state == CONN_ONLINE)
		c->deadline = m->now + m->cfg.handshake_timeout;
	return 0;
}

static int
end_frame(struct med *m, struct conn *c)
{
	uint8_t *f = c->frame;
	size_t len = c->frame_len;
	int r;

	c->frame = NULL;
	c->hdr_len = 0;
	c->frame_len = c->frame_got = 0;
	c->last_rx = m->now;
	c->ping_sent = false;
	m->stats.frames_in++;
	r = session_frame(m, c, f, len);
	free(f);
	return r;
}

/* Reads what is there, up to the budget, handing each complete frame to the session. */
static int
read_input(struct med *m, struct conn *c)
{
	size_t budget = READ_BUDGET;
	ssize_t n;
	int r;

	while (!c->paused && c->state < CONN_CLOSING && (budget > 0 || c->ssl != NULL)) {
		if (c->frame == NULL)
			n = io_read(c, c->hdr + c->hdr_len, 4 - c->hdr_len);
		else
			n = io_read(c, c->frame + c->frame_got, c->frame_len - c->frame_got);
		if (n == IO_AGAIN)
			return 0;
		if (n <= 0)
			return E_IO; /* end of stream or a failed read: nothing to answer */
		budget = budget > (size_t)n ? budget - (size_t)n : 0;
		if (c->frame == NULL) {
			if ((c->hdr_len += (size_t)n) == 4 && (r = start_frame(m, c)) != 0)
				return r;
		} else if ((c->frame_got += (size_t)n) == c->frame_len &&
			   (r = end_frame(m, c)) != 0) {
			return r;
		}
	}
	return 0;
}

static void
tls_handshake(struct med *m, struct conn *c)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_accept(c->ssl)) == 1) {
		c->state = CONN_HELO;
	} else {
		int e = SSL_get_error(c->ssl, r);

		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			m->stats.bad_frames++;
			conn_close(m, c);
			return;
		}
	}
	arm(m, c);
}

static void
flush(struct med *m, struct conn *c)
{
	while (c->out_head != NULL) {
		struct chunk *k = c->out_head;
		ssize_t n = io_write(c, k->data + k->off, k->len - k->off);

		if (n == IO_AGAIN)
			break;
		if (n < 0) {
			c->lost = c->state == CONN_ONLINE;
			conn_close(m, c);
			return;
		}
		c->out_bytes -= (size_t)n;
		if ((k->off += (size_t)n) < k->len)
			continue;
		c->out_head = k->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		free(k);
	}
	if (c->out_head == NULL && c->state == CONN_CLOSING) {
		conn_close(m, c);
		return;
	}
	arm(m, c);
}

static void
on_conn(void *obj, uint32_t events)
{
	struct conn *c = obj;
	struct med *m = c->med;

	if (c->state == CONN_TLS) {
		tls_handshake(m, c);
		if (c->state != CONN_HELO)
			return;
	}
	if (events & EPOLLERR) {
		c->lost = c->state == CONN_ONLINE;
		conn_close(m, c);
		return;
	}
	if ((events & EPOLLOUT) || (c->write_wants_read && (events & EPOLLIN)))
		flush(m, c);
	if (c->state < CONN_CLOSING && (events & (EPOLLIN | EPOLLHUP)))
		conn_resume(m, c);
}

void
conn_resume(struct med *m, struct conn *c)
{
	int r;

	if (c->state >= CONN_CLOSING)
		return;
	c->paused = false;
	if ((r = read_input(m, c)) != 0) {
		c->lost = c->state == CONN_ONLINE;
		if (r == E_IO)
			conn_close(m, c);
		else
			conn_send_error(m, c, r, "");
		return;
	}
	arm(m, c);
}

/* Appends bytes to the output queue; the flush happens after the turn's commit. */
static int
enqueue(struct med *m, struct conn *c, const uint8_t *p, size_t len)
{
	struct chunk *t = c->out_tail;

	if (c->out_bytes + len > m->cfg.output_max)
		return E_NOSPACE;
	if (t == NULL || t->cap - t->len < len) {
		/* A lone message (a ping, a reply) gets a chunk of its own size; only a burst
		 * (a sync) grows chunks, so idle sessions never pin big buffers. */
		size_t cap = t == NULL ? len : MAX(CHUNK_MIN, len);

		if ((t = malloc(sizeof(*t) + cap)) == NULL)
			return E_NOMEM;
		t->next = NULL;
		t->len = t->off = 0;
		t->cap = cap;
		if (c->out_tail != NULL)
			c->out_tail->next = t;
		else
			c->out_head = t;
		c->out_tail = t;
	}
	memcpy(t->data + t->len, p, len);
	t->len += len;
	c->out_bytes += len;
	if (!list_linked(&c->dirty))
		list_add_tail(&m->dirty, &c->dirty);
	return 0;
}

static int
seal(struct med *m, struct conn *c, const struct msg *msg, size_t *len)
{
	uint8_t iv[WIRE_IV_LEN];
	uint32_t id;
	size_t blen;
	int r;

	if ((r = msg_encode(MSG_CH_SESSION_S2C, msg, m->enc, WIRE_MSG_MAX, &blen)) != 0 ||
	    (r = msgid_next(&c->tx_ctr, &id)) != 0 || (r = crypto_random(iv, sizeof(iv))) != 0)
		return r;
	return pkt_seal_tcp(m->crypto, &c->keys.r2i, id, iv, m->enc, blen, m->sealed,
			    WIRE_TCP_SIZE_MAX + 4, len);
}

/* Queues msg on c: sealed once the session has keys, cleartext before. A conn that cannot
 * take it (queue full: a node that does not read) is closed; the caller goes on. */
int
conn_send(struct med *m, struct conn *c, const struct msg *msg)
{
	bool clear = c->state < CONN_AUTH;
	size_t len;
	int r;

	if (c->state >= CONN_CLOSING)
		return E_STATE;
	if (clear)
		r = frame_clear_encode(MSG_CH_CLEAR_S2C, msg, m->sealed, WIRE_CLEAR_MAX + 8, &len);
	else
		r = seal(m, c, msg, &len);
	if (r == 0)
		r = enqueue(m, c, m->sealed, len);
	if (r != 0) {
		log_ratelimited(LOG_LVL_WARN, "%s: dropping session: cannot queue %s: %s",
				inet_ntoa(c->peer.sin_addr), msg_name(msg->type), err_str(r));
		c->lost = c->state == CONN_ONLINE;
		conn_close(m, c);
		return r;
	}
	m->stats.frames_out++;
	return 0;
}

/* ERROR, then close once it is written. */
void
conn_send_error(struct med *m, struct conn *c, int code, const char *text)
{
	struct msg msg = {.type = MSG_ERROR};

	msg.u.error.status = err_to_wire(code);
	msg.u.error.text = span_str(text);
	if (conn_send(m, c, &msg) == 0)
		conn_finish(m, c);
}

/* Stop reading; close after the queued output is written. */
void
conn_finish(struct med *m, struct conn *c)
{
	if (c->state >= CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	c->deadline = m->now + 5;
	if (!list_linked(&c->dirty))
		list_add_tail(&m->dirty, &c->dirty);
}

static void
free_output(struct conn *c)
{
	while (c->out_head != NULL) {
		struct chunk *k = c->out_head;

		c->out_head = k->next;
		free(k);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;
}

/* Frees the closed conns no pool job refers to any more. Called between turns, so a conn
 * closed in the middle of a handler stays readable (state CONN_DEAD) until the turn ends. */
void
conn_reap(struct med *m)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &m->dead)
	{
		struct conn *c = container_of(pos, struct conn, link);

		if (c->jobs > 0)
			continue;
		list_del(&c->link);
		wipe(&c->keys, sizeof(c->keys));
		wipe(c->disco_key, sizeof(c->disco_key));
		free(c);
	}
}

/* Closes now: the session's end is reported (session_closed), the descriptor goes, and the
 * struct is freed by conn_reap() once no pool job refers to it. */
void
conn_close(struct med *m, struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	session_closed(m, c);
	conn_established(m, c);
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->state = CONN_DEAD;
	list_del(&c->link);
	list_add_tail(&m->dead, &c->link);
	list_del(&c->dirty);
	free(c->frame);
	c->frame = NULL;
	free_output(c);
	m->n_conns--;
}

void
conn_flush_all(struct med *m)
{
	while (!list_empty(&m->dirty)) {
		struct conn *c = container_of(m->dirty.next, struct conn, dirty);

		list_del(&c->dirty);
		flush(m, c);
	}
}

/* Seconds of silence before the mediator pings: half the idle timeout, spread over another
 * quarter so that sessions which all logged in at once (after a restart) are not all pinged
 * in the same second. */
static time_t
ping_after(const struct med *m, const struct conn *c)
{
	unsigned int spread = MAX(1u, m->cfg.idle_timeout / 4);

	return (time_t)(m->cfg.idle_timeout / 2 + (unsigned int)c->fd % spread);
}

/* Once a second: handshake and frame deadlines, idle sessions, keep-alive pings. */
void
conn_tick(struct med *m)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &m->conns)
	{
		struct conn *c = container_of(pos, struct conn, link);
		bool stalled = c->state != CONN_ONLINE || c->frame != NULL || c->hdr_len > 0;

		if (stalled && m->now > c->deadline && c->state == CONN_TLS) {
			conn_close(m, c); /* no TLS yet to carry an ERROR */
		} else if (stalled && m->now > c->deadline) {
			c->lost = c->state == CONN_ONLINE;
			conn_send_error(m, c, E_TIMEOUT, "");
			if (c->state == CONN_CLOSING && m->now > c->deadline)
				conn_close(m, c);
		} else if (c->state == CONN_ONLINE && m->now - c->last_rx > m->cfg.idle_timeout) {
			c->lost = true;
			conn_close(m, c);
		} else if (c->state == CONN_ONLINE && !c->ping_sent &&
			   m->now - c->last_rx > ping_after(m, c)) {
			struct msg ping = {.type = MSG_PING};

			c->ping_sent = true;
			conn_send(m, c, &ping);
		}
	}
}
