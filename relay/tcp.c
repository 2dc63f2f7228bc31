/* SPDX-License-Identifier: MIT */
/*
 * The relay's TCP port (relay.h), for nodes whose UDP is blocked (PROTOCOL.md 7.4): each
 * direction is a stream of frames `len (u16) | datagram`, len 8..65535, each datagram
 * exactly as over UDP. A connection is one endpoint; what it sends goes through the same
 * table as UDP, so a datagram may come in over TCP and leave over UDP, or the reverse.
 *
 * Bounds: a connection's input buffer grows to one frame at most (2 + 65535 bytes), its
 * output to limits.tcp_output_kib (beyond it datagrams are dropped and counted, as a full
 * UDP socket would); the number of connections is capped, and a connection that sends
 * nothing for limits.idle_timeout is closed.
 *
 * Lifetime: a connection that fails is closed at once (fd, index) but freed only by the reap
 * timer at the end of the loop turn, because a callback further up the stack may still hold
 * it (a BIND answer written to the connection that is being read, say).
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/sockio.h"
#include "mediator/hmap.h"
#include "mediator/list.h"
#include "relay/relay.h"

enum {
	TCP_HDR = 2,
	TCP_FRAME_MAX = TCP_HDR + 65535,
	TCP_IN_INITIAL = 16384, /* enough for a few tunnel packets per read */
	TCP_BACKLOG = 128,
};

struct conn {
	struct hmap_node node; /* t->conns, by id */
	struct list_node link; /* t->active (least recently heard first) or t->dead */
	struct tcp *t;
	int fd;
	uint64_t id;
	uint32_t addr;
	uint16_t port;
	uint64_t last_ms;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out; /* unsent bytes are out[out_off .. out_off + out_len) */
	size_t out_off, out_len, out_cap;
	bool want_out; /* registered for EPOLLOUT */
	bool dead;
};

struct tcp {
	struct relay *r;
	int fd;
	struct hmap conns;
	struct list_head active, dead;
	struct loop_timer reap_t;
	uint64_t next_id;
	size_t n, max, out_max;
};

static struct conn *
find(const struct tcp *t, uint64_t id)
{
	uint64_t h = hmap_mix64(id);
	struct hmap_node *n;

	for (n = hmap_first(&t->conns, h); n != NULL; n = hmap_next(n, h))
		if (container_of(n, struct conn, node)->id == id)
			return container_of(n, struct conn, node);
	return NULL;
}

/* Closes c now; frees it at the end of the turn (see the top of the file). */
static void
kill_conn(struct conn *c, const char *why)
{
	struct tcp *t = c->t;

	if (c->dead)
		return;
	log_debug("tcp " IP4_FMT ":%u: closed (%s)", IP4_ARG(c->addr), c->port, why);
	c->dead = true;
	loop_fd_del(t->r->l, c->fd);
	close(c->fd);
	hmap_remove(&t->conns, &c->node);
	list_del(&c->link);
	list_add_tail(&t->dead, &c->link);
	t->n--;
	loop_timer_in(t->r->l, &t->reap_t, 0);
}

static void
reap(void *arg)
{
	struct tcp *t = arg;

	while (!list_empty(&t->dead)) {
		struct conn *c = container_of(t->dead.next, struct conn, link);

		list_del(&c->link);
		free(c->in);
		free(c->out);
		free(c);
	}
}

static void
want_output(struct conn *c, bool on)
{
	if (c->want_out == on)
		return;
	c->want_out = on;
	if (loop_fd_mod(c->t->r->l, c->fd, EPOLLIN | (on ? EPOLLOUT : 0)) != 0)
		kill_conn(c, "epoll");
}

static void
flush_out(struct conn *c)
{
	while (c->out_len > 0 && !c->dead) {
		ssize_t n = sockio_write(c->fd, NULL, c->out + c->out_off, c->out_len, NULL);

		if (n == SOCKIO_AGAIN)
			break;
		if (n < 0) {
			kill_conn(c, "write failed");
			return;
		}
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
	}
	if (c->out_len == 0)
		c->out_off = 0;
	want_output(c, c->out_len > 0);
}

/* Room for n more bytes of output, within t->out_max. */
static bool
out_room(struct conn *c, size_t n)
{
	size_t need = c->out_len + n, cap;
	uint8_t *p;

	if (need > c->t->out_max)
		return false;
	if (c->out_off + need <= c->out_cap)
		return true;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len);
		c->out_off = 0;
	}
	if (need <= c->out_cap)
		return true;
	cap = MIN(MAX(need, 2 * c->out_cap), c->t->out_max);
	if ((p = realloc(c->out, cap)) == NULL)
		return false;
	c->out = p;
	c->out_cap = cap;
	return true;
}

void
tcp_send(struct tcp *t, uint64_t ep, const uint8_t *p, size_t len)
{
	struct conn *c = find(t, ep & ~RELAY_EP_TCP_BIT);
	uint8_t *w;

	if (c == NULL) {
		t->r->st->drop_unreachable++;
		return;
	}
	if (len > TCP_FRAME_MAX - TCP_HDR || !out_room(c, TCP_HDR + len)) {
		t->r->st->drop_tcp_full++;
		return;
	}
	w = c->out + c->out_off + c->out_len;
	store_be16(w, (uint16_t)len);
	memcpy(w + TCP_HDR, p, len);
	c->out_len += TCP_HDR + len;
	if (!c->want_out)
		flush_out(c);
}

/* Hands every complete frame in c->in to the relay; the rest stays for the next read. */
static void
frames(struct conn *c)
{
	struct relay *r = c->t->r;
	struct relay_src src = {
		.ep = relay_ep_tcp(c->id), .addr = c->addr, .port = c->port, .tcp = true};
	const uint8_t *d;
	size_t off = 0, len;
	int k;

	relay_clock(r);
	while (!c->dead && (k = relay_tcp_frame(c->in + off, c->in_len - off, &d, &len)) != 0) {
		if (k < 0) {
			r->st->tcp_bad_frame++;
			kill_conn(c, "frame shorter than 8 bytes");
			break;
		}
		relay_input(r, &src, d, len);
		off += (size_t)k;
	}
	udp_flush(r->udp); /* forwards point into c->in, which moves now */
	if (c->dead)
		return;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

/* Makes room for the frame that starts c->in (at most TCP_FRAME_MAX bytes). */
static int
in_room(struct conn *c)
{
	size_t need = TCP_IN_INITIAL;
	uint8_t *p;

	if (c->in_len >= TCP_HDR)
		need = MAX(need, TCP_HDR + (size_t)load_be16(c->in));
	if (need <= c->in_cap)
		return 0;
	if ((p = realloc(c->in, need)) == NULL)
		return E_NOMEM;
	c->in = p;
	c->in_cap = need;
	return 0;
}

static void
read_in(struct conn *c)
{
	ssize_t n;

	if (in_room(c) != 0) {
		kill_conn(c, "out of memory");
		return;
	}
	n = sockio_read(c->fd, NULL, c->in + c->in_len, c->in_cap - c->in_len);
	if (n == SOCKIO_AGAIN)
		return;
	if (n <= 0) {
		kill_conn(c, n == 0 ? "end of stream" : "read failed");
		return;
	}
	c->in_len += (size_t)n;
	c->last_ms = loop_now(c->t->r->l);
	list_del(&c->link);
	list_add_tail(&c->t->active, &c->link);
	frames(c);
}

static void
on_conn(void *arg, uint32_t events)
{
	struct conn *c = arg;

	if ((events & EPOLLOUT) != 0)
		flush_out(c);
	if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
		read_in(c);
}

static void
add_conn(struct tcp *t, int fd, const struct sockaddr_in *sa)
{
	struct conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (c == NULL || loop_fd_add(t->r->l, fd, EPOLLIN, on_conn, c) != 0) {
		free(c);
		close(fd);
		t->r->st->tcp_refused++;
		return;
	}
	/* tunnel packets are latency-sensitive and already sized: no Nagle */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->t = t;
	c->fd = fd;
	c->id = ++t->next_id;
	c->addr = ntohl(sa->sin_addr.s_addr);
	c->port = ntohs(sa->sin_port);
	c->last_ms = loop_now(t->r->l);
	hmap_insert(&t->conns, &c->node, hmap_mix64(c->id));
	list_add_tail(&t->active, &c->link);
	t->n++;
	t->r->st->tcp_accepted++;
	log_debug("tcp " IP4_FMT ":%u: connected", IP4_ARG(c->addr), c->port);
}

static void
on_accept(void *arg, uint32_t events)
{
	struct tcp *t = arg;
	struct sockaddr_in sa;
	socklen_t sl;
	int fd;

	(void)events;
	for (;;) {
		sl = sizeof(sa);
		fd = accept4(t->fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_ratelimited(LOG_LVL_WARN, "tcp accept: %s", strerror(errno));
			return;
		}
		if (t->n >= t->max || sa.sin_family != AF_INET) {
			close(fd);
			t->r->st->tcp_refused++;
			continue;
		}
		add_conn(t, fd, &sa);
	}
}

void
tcp_expire(struct tcp *t, uint64_t now_ms, uint64_t idle_ms)
{
	while (!list_empty(&t->active)) {
		struct conn *c = container_of(t->active.next, struct conn, link);

		if (c->last_ms + idle_ms > now_ms)
			break;
		t->r->st->tcp_idle++;
		kill_conn(c, "idle");
	}
}

size_t
tcp_count(const struct tcp *t)
{
	return t->n;
}

static int
listener(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr), .sin_port = htons(port)};
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, TCP_BACKLOG) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct tcp *
tcp_open(struct relay *r, uint32_t addr, uint16_t port)
{
	struct tcp *t = calloc(1, sizeof(*t));

	if (t == NULL || hmap_init(&t->conns) != 0) {
		log_err("tcp: out of memory");
		free(t);
		return NULL;
	}
	t->r = r;
	t->max = r->cfg.tcp_connections;
	t->out_max = (size_t)r->cfg.tcp_output_kib * 1024;
	list_init(&t->active);
	list_init(&t->dead);
	loop_timer_init(&t->reap_t, reap, t);
	if ((t->fd = listener(addr, port)) < 0 ||
	    loop_fd_add(r->l, t->fd, EPOLLIN, on_accept, t) != 0) {
		log_err("tcp " IP4_FMT ":%u: %s", IP4_ARG(addr), port, strerror(errno));
		if (t->fd >= 0)
			close(t->fd);
		hmap_fini(&t->conns);
		free(t);
		return NULL;
	}
	return t;
}

void
tcp_close(struct tcp *t)
{
	if (t == NULL)
		return;
	while (!list_empty(&t->active))
		kill_conn(container_of(t->active.next, struct conn, link), "shutdown");
	loop_timer_cancel(t->r->l, &t->reap_t);
	reap(t);
	loop_fd_del(t->r->l, t->fd);
	close(t->fd);
	hmap_fini(&t->conns);
	free(t);
}
