/* SPDX-License-Identifier: MIT */
/*
 * The relay's UDP port (relay.h): datagrams in by recvmmsg, forwards out by sendmmsg.
 *
 * A forward to a UDP endpoint is queued as a pointer into the buffer it arrived in (no copy)
 * and sent with the rest of its batch by udp_flush(), which each input path calls before it
 * reuses that buffer: udp.c after each receive batch, tcp.c after each read's frames.
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "relay/relay.h"

enum {
	UDP_BATCH = 32,	       /* datagrams per recvmmsg / sendmmsg */
	UDP_BUF = 65536,       /* larger than any UDP payload over IPv4 */
	UDP_ROUNDS = 8,	       /* batches per readiness report, so TCP is served too */
	UDP_SOCKBUF = 4 << 20, /* bytes asked for SO_RCVBUF / SO_SNDBUF */
};

struct udp {
	struct relay *r;
	int fd;
	uint8_t (*buf)[UDP_BUF]; /* UDP_BATCH receive buffers */
	struct mmsghdr in[UDP_BATCH];
	struct iovec in_iov[UDP_BATCH];
	struct sockaddr_in from[UDP_BATCH];
	struct mmsghdr out[UDP_BATCH];
	struct iovec out_iov[UDP_BATCH];
	struct sockaddr_in to[UDP_BATCH];
	unsigned n_out;
};

static void
to_sockaddr(uint64_t ep, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(relay_ep_addr(ep));
	sa->sin_port = htons(relay_ep_port(ep));
}

void
udp_flush(struct udp *u)
{
	unsigned off = 0;

	while (off < u->n_out) {
		int n = sendmmsg(u->fd, u->out + off, u->n_out - off, MSG_DONTWAIT);

		if (n > 0) {
			off += (unsigned)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* the socket buffer is full: UDP may drop, and so do we */
			u->r->st->drop_send += u->n_out - off;
			break;
		} else {
			/* this one failed (unreachable, refused by a firewall); go on */
			u->r->st->drop_send++;
			off++;
		}
	}
	u->n_out = 0;
}

void
udp_send(struct udp *u, uint64_t ep, const uint8_t *p, size_t len)
{
	struct msghdr *h;

	if (u->n_out == UDP_BATCH)
		udp_flush(u);
	to_sockaddr(ep, &u->to[u->n_out]);
	u->out_iov[u->n_out] = (struct iovec){.iov_base = (void *)p, .iov_len = len};
	h = &u->out[u->n_out].msg_hdr;
	memset(h, 0, sizeof(*h));
	h->msg_name = &u->to[u->n_out];
	h->msg_namelen = sizeof(u->to[0]);
	h->msg_iov = &u->out_iov[u->n_out];
	h->msg_iovlen = 1;
	u->n_out++;
}

void
udp_send_now(struct udp *u, uint64_t ep, const uint8_t *p, size_t len)
{
	struct sockaddr_in sa;

	to_sockaddr(ep, &sa);
	if (sendto(u->fd, p, len, MSG_DONTWAIT, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		u->r->st->drop_send++;
}

static void
arm_receive(struct udp *u)
{
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		struct msghdr *h = &u->in[i].msg_hdr;

		u->in_iov[i] = (struct iovec){.iov_base = u->buf[i], .iov_len = UDP_BUF};
		memset(h, 0, sizeof(*h));
		h->msg_name = &u->from[i];
		h->msg_namelen = sizeof(u->from[i]);
		h->msg_iov = &u->in_iov[i];
		h->msg_iovlen = 1;
	}
}

static void
input_batch(struct udp *u, unsigned n)
{
	relay_clock(u->r);
	for (unsigned i = 0; i < n; i++) {
		const struct sockaddr_in *sa = &u->from[i];
		struct relay_src src = {.addr = ntohl(sa->sin_addr.s_addr),
					.port = ntohs(sa->sin_port)};

		if (sa->sin_family != AF_INET || (u->in[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
			u->r->st->drop_invalid++;
			continue;
		}
		src.ep = relay_ep_udp(src.addr, src.port);
		relay_input(u->r, &src, u->buf[i], u->in[i].msg_len);
	}
	udp_flush(u);
}

static void
on_readable(void *arg, uint32_t events)
{
	struct udp *u = arg;

	(void)events;
	for (unsigned round = 0; round < UDP_ROUNDS; round++) {
		int n;

		arm_receive(u); /* the kernel overwrote the name lengths and flags */
		n = recvmmsg(u->fd, u->in, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* EAGAIN, or an error the next report will show again */
		input_batch(u, (unsigned)n);
		if (n < UDP_BATCH)
			return;
	}
}

/* Bigger socket buffers absorb bursts between loop turns; failing to get them is no error.
 * The FORCE variants pass net.core.[rw]mem_max (about 200 KiB by default) and need
 * CAP_NET_ADMIN; without it the plain ones get what the sysctl allows. */
static void
tune(int fd)
{
	int size = UDP_SOCKBUF, pmtu = IP_PMTUDISC_DONT;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	/* Forward datagrams as the nodes sized them: let routers fragment rather than refuse
	 * a large one with EMSGSIZE here. */
	(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
}

struct udp *
udp_open(struct relay *r, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr), .sin_port = htons(port)};
	struct udp *u = calloc(1, sizeof(*u));

	if (u == NULL) {
		log_err("udp: out of memory");
		return NULL;
	}
	u->r = r;
	u->fd = -1;
	if ((u->buf = calloc(UDP_BATCH, UDP_BUF)) == NULL) {
		log_err("udp: out of memory");
		goto fail;
	}
	if ((u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		log_err("udp socket: %s", strerror(errno));
		goto fail;
	}
	tune(u->fd);
	if (bind(u->fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    loop_fd_add(r->l, u->fd, EPOLLIN, on_readable, u) != 0) {
		log_err("udp " IP4_FMT ":%u: %s", IP4_ARG(addr), port, strerror(errno));
		goto fail;
	}
	return u;
fail:
	if (u->fd >= 0)
		close(u->fd);
	free(u->buf);
	free(u);
	return NULL;
}

void
udp_close(struct udp *u)
{
	if (u == NULL)
		return;
	loop_fd_del(u->r->l, u->fd);
	close(u->fd);
	free(u->buf);
	free(u);
}
